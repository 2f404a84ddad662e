"""Flat (vector) layers as darknet builds them: [connected], [softmax], [cost], and the
recurrent ones ([rnn], [gru], [lstm] made of connected layers, [crnn] of convolutions)."""

from __future__ import annotations

import numpy as np

from enet4y2.cfg import clib
from enet4y2.cfg.heads import need_file
from enet4y2.cfg.layers import activation, choice, conv_core
from enet4y2.cfg.shapes import Ctx, LayerInfo


def connected_floats(ctx: Ctx, batch: int, inputs: int, outputs: int, bn: int) -> int:
    """make_connected_layer's allocations (C int counts)."""
    per_batch = ctx.alloc("batch*outputs", batch, outputs) * (4 if bn else 2)
    return per_batch + 2 * ctx.alloc("inputs*outputs", inputs, outputs) + ctx.alloc(
        "outputs", outputs) * (10 if bn else 2)


def connected_stored(inputs: int, outputs: int, bn: int) -> int:
    return outputs + outputs * inputs + (3 * outputs if bn else 0)


def connected(ctx: Ctx) -> LayerInfo:
    p = ctx.p
    outputs, bn = ctx.i("output", 1), ctx.i("batch_normalize", 0)
    activation(ctx, "logistic")
    return ctx.info(1, 1, outputs, outputs, params=connected_stored(p.inputs, outputs, bn),
                    floats=connected_floats(ctx, p.batch, p.inputs, outputs, bn), own=(1, 1),
                    detail=f"{p.inputs} -> {outputs}")


def softmax(ctx: Ctx) -> LayerInfo:
    p = ctx.p
    groups = ctx.i("groups", 1)
    if groups == 0:
        ctx.problem("groups=0 — darknet divides by it and crashes; use groups=1", "groups")
    elif clib.cmod(p.inputs, groups):
        ctx.problem(f"groups={groups} does not divide the {p.inputs} inputs — darknet's "
                    "assertion fails; use a divisor", "groups")
    need_file(ctx, "tree")
    return ctx.info(0, 0, 0, p.inputs, floats=3 * ctx.alloc("inputs*batch", p.inputs, p.batch),
                    own=(p.w, p.h),
                    empty_why=f"{ctx.where()}: [softmax] gives a flat output (no width or "
                              "height)|move the layer that needs an image before it")


def cost(ctx: Ctx) -> LayerInfo:
    p = ctx.p
    choice(ctx, "cost", "type", "sse")
    return ctx.info(0, 0, 0, p.inputs, floats=2 * ctx.alloc("inputs*batch", p.inputs, p.batch),
                    own=(0, 0),
                    empty_why=f"{ctx.where()}: [cost] gives a flat output|put it last")


def _steps(ctx: Ctx) -> tuple[int, int]:
    p = ctx.p
    return clib.cdiv(p.batch, p.time_steps), p.time_steps


def _connected_stack(ctx: Ctx, pairs: list[tuple[int, int]], bn: int,
                     flat: bool) -> LayerInfo:
    """A layer made of connected layers (inputs -> outputs pairs); the last pair's
    outputs are the layer's."""
    p = ctx.p
    batch, steps = _steps(ctx)
    outputs = pairs[-1][1]
    floats = sum(connected_floats(ctx, batch * steps, i, o, bn) for i, o in pairs)
    floats += 4 * ctx.alloc("batch*steps*outputs", batch, steps, outputs)
    stored = sum(connected_stored(i, o, bn) for i, o in pairs)
    shape = (0, 0, 0) if flat else (1, 1, outputs)
    return ctx.info(*shape, outputs, params=stored, floats=floats, own=(0, 0),
                    detail=f"{p.inputs} -> {outputs}",
                    empty_why=f"{ctx.where()}: [{ctx.sec.type}] gives a flat output (no "
                              "width or height)|move the layer that needs an image before it")


def rnn(ctx: Ctx) -> LayerInfo:
    out, hidden = ctx.i("output", 1), ctx.i("hidden", 1)
    activation(ctx, "logistic")
    ins = ctx.p.inputs
    return _connected_stack(ctx, [(ins, hidden), (hidden, hidden), (hidden, out)],
                            ctx.i("batch_normalize", 0), flat=False)


def gru(ctx: Ctx) -> LayerInfo:
    out, ins = ctx.i("output", 1), ctx.p.inputs
    return _connected_stack(ctx, [(ins, out)] * 3 + [(out, out)] * 3,
                            ctx.i("batch_normalize", 0), flat=True)


def lstm(ctx: Ctx) -> LayerInfo:
    out, ins = ctx.i("output", 1), ctx.p.inputs
    return _connected_stack(ctx, [(ins, out)] * 4 + [(out, out)] * 4,
                            ctx.i("batch_normalize", 0), flat=True)


def crnn(ctx: Ctx) -> LayerInfo:
    p = ctx.p
    size, stride = ctx.i("size", 3), ctx.i("stride", 1)
    padding = ctx.i("padding", 0)
    if ctx.i("pad", 0):
        padding = clib.cdiv(size, 2)
    out_n, hidden = ctx.i("output", 1), ctx.i("hidden", 1)
    groups, bn, xnor = ctx.i("groups", 1), ctx.i("batch_normalize", 0), ctx.i("xnor", 0)
    act = activation(ctx, "logistic")
    batch, steps = _steps(ctx)
    cores, stored = [], 0
    for c_in, n in ((p.c, hidden), (hidden, hidden), (hidden, out_n)):
        core = conv_core(ctx, batch=batch, steps=steps, h=p.h, w=p.w, c=c_in, n=n,
                         groups=groups, size=size, sx=stride, sy=stride, padding=padding,
                         bn=bn, xnor=xnor, binary=0, act=act, train=p.train)
        if not core:
            return ctx.info(0, 0, 0, 0)
        cores.append(core)
        stored += n * (4 if bn else 1) + core["nweights"]
    bflops = np.float32(0)
    for core in cores:
        bflops = np.float32(bflops + np.float32(core["bflops"]))
    last = cores[-1]
    floats = sum(core["floats"] for core in cores) + ctx.alloc("state", batch, hidden,
                                                               steps + 1)
    return ctx.info(last["out_w"], last["out_h"], out_n, last["outputs"], bflops=float(bflops),
                    params=stored, floats=floats,
                    workspace=max(core["workspace"] for core in cores),
                    detail=f"{hidden} hidden, {out_n} out")
