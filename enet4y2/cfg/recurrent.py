"""The recurrent layers as darknet builds them ([rnn], [gru], [lstm] from connected
layers, [crnn] from convolutions), and the table of every layer type's builder."""

from __future__ import annotations

import numpy as np

from enet4y2.cfg import clib, heads, layers
from enet4y2.cfg.infer import Ctx, LayerInfo
from enet4y2.cfg.layers import activation, connected_floats, connected_stored, conv_core


def _steps(ctx: Ctx) -> tuple[int, int]:
    p = ctx.p
    return clib.cdiv(p.batch, p.time_steps), p.time_steps


def _connected_stack(ctx: Ctx, pairs: list[tuple[int, int]], bn: int,
                     flat: bool) -> LayerInfo:
    """A layer made of connected layers (inputs -> outputs pairs); the last pair's
    outputs are the layer's."""
    p = ctx.p
    batch, steps = _steps(ctx)
    for ins, outs in pairs:
        ctx.count("weights (inputs*outputs)", ins, outs)
        ctx.count("batch*outputs", batch * steps, outs)
    outputs = pairs[-1][1]
    floats = sum(connected_floats(batch * steps, i, o, bn) for i, o in pairs)
    floats += 4 * batch * steps * outputs
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
    floats = sum(core["floats"] for core in cores) + batch * hidden * (steps + 1)
    return ctx.info(last["out_w"], last["out_h"], out_n, last["outputs"], bflops=float(bflops),
                    params=stored, floats=floats,
                    workspace=max(core["workspace"] for core in cores),
                    detail=f"{hidden} hidden, {out_n} out")


BUILDERS = {
    "convolutional": layers.convolutional,
    "maxpool": layers.maxpool,
    "local_avgpool": layers.local_avgpool,
    "avgpool": layers.avgpool,
    "route": layers.route,
    "upsample": layers.upsample,
    "reorg": layers.reorg,
    "reorg3d": layers.reorg,
    "shortcut": layers.shortcut,
    "scale_channels": layers.scale_channels,
    "sam": layers.sam,
    "dropout": layers.dropout,
    "batchnorm": layers.batchnorm,
    "activation": layers.activation_layer,
    "empty": layers.empty,
    "connected": layers.connected,
    "softmax": layers.softmax,
    "cost": layers.cost,
    "crop": layers.crop,
    "normalization": layers.normalization,
    "yolo": heads.yolo,
    "Gaussian_yolo": heads.gaussian_yolo,
    "region": heads.region,
    "detection": heads.detection,
    "contrastive": heads.contrastive,
    "rnn": rnn,
    "gru": gru,
    "lstm": lstm,
    "crnn": crnn,
    "conv_lstm": layers.unmodelled,
    "history": layers.unmodelled,
    "local": layers.unmodelled,
    "implicit": layers.unmodelled,
}
