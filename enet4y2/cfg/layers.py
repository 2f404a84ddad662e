"""Each layer type as darknet builds it: `parse_<type>` in upstream src/parser.c and its
`make_<type>_layer`. A builder reads the options the way darknet does, reports what
darknet stops on, and returns the layer's shape, BFLOPs, stored floats and memory.
The detector heads are in `heads`."""

from __future__ import annotations

import numpy as np

from enet4y2.cfg import clib
from enet4y2.cfg.keys import ACTIVATIONS, CHOICES
from enet4y2.cfg.shapes import Ctx, LayerInfo, Stop

_WIDE = ("swish", "mish", "hard_mish")  # keep their input for the gradient


def activation(ctx: Ctx, default: str) -> str:
    name = ctx.s("activation", default)
    if name not in ACTIVATIONS:
        ctx.warn(f"unknown activation '{name}'; darknet uses relu — use e.g. "
                 "activation=leaky", "activation")
        return "relu"
    return name


def choice(ctx: Ctx, kind: str, key: str, default: str) -> str:
    value = ctx.s(key, default)
    values, fallback = CHOICES[(kind, key)]
    if value not in values:
        ctx.warn(f"{key}={value} is unknown; darknet uses {fallback} — use one of "
                 f"{', '.join(sorted(values))}", key)
        return fallback
    return value


def conv_core(ctx: Ctx, *, batch: int, steps: int, h: int, w: int, c: int, n: int,
              groups: int, size: int, sx: int, sy: int, padding: int, bn: int, xnor: int,
              binary: int, act: str, train: bool, share: bool = False) -> dict:
    """make_convolutional_layer: shape, nweights, BFLOPs, floats and workspace, in the C
    int arithmetic darknet uses."""
    wrap, alloc = clib.wrap_int, ctx.alloc
    groups = 1 if xnor or groups < 1 else groups
    if sx == 0 or sy == 0:
        ctx.problem("stride=0 — darknet divides by it and crashes; use stride=1 or more",
                    "stride")
        return {}
    nweights = ctx.wrap("nweights (c/groups*filters*size*size)", clib.cdiv(c, groups), n,
                        size, size)
    out_h = clib.cdiv(wrap(h + 2 * padding - size), sy) + 1
    out_w = clib.cdiv(wrap(w + 2 * padding - size), sx) + 1
    if out_h < 0 or out_w < 0:
        ctx.warn(f"a {size}x{size} kernel with stride {sx} gives a negative {out_w}x{out_h} "
                 f"output on a {w}x{h} input; darknet loads it but the layer computes "
                 "nothing — use a positive stride and a kernel that fits")
    outputs = ctx.wrap("outputs (out_h*out_w*filters)", out_h, out_w, n)
    inputs = ctx.wrap("inputs (w*h*c)", w, h, c)
    tb = wrap(batch * steps)
    per_out = 1 + (1 if train else 0) + (2 if bn and train else 0) + (act in _WIDE)
    floats = per_out * alloc("batch*outputs", tb, outputs)
    if not share:
        floats += (alloc("nweights", nweights) + alloc("filters", n)) * (3 if train else 1)
        if bn:
            floats += alloc("filters", n) * (9 if train else 3)
    if binary:
        floats += 2 * alloc("nweights", nweights) + alloc("filters", n)
    work = out_h * out_w * size * size * clib.cdiv(c, groups) * 4
    if xnor:
        align = out_h * out_w + (32 - clib.cmod(wrap(out_h * out_w), 32))
        floats += alloc("nweights", nweights) + alloc("inputs*batch", inputs, batch)
        floats += alloc("filters", n) + c // 32 * w * h + 1
        k = size * size * c
        floats += (k + (256 - k % 256)) * align // 32
        work = max(align * size * size * c * 4, (c // 32 * w * h + 1) * 4)
    if work < 0:
        ctx.problem("the convolution workspace size is negative as darknet computes it, so "
                    "its calloc fails — check the sizes before this layer")
        work = 0
    bflops = np.float32(2.0 * nweights * out_h * out_w / 1e9)
    if xnor:
        bflops = np.float32(bflops / 32)
    return {"out_w": out_w, "out_h": out_h, "outputs": outputs, "nweights": nweights,
            "bflops": float(bflops), "floats": floats, "workspace": work}


def _stored_conv(n: int, nweights: int, bn: int) -> int:
    return n * (4 if bn else 1) + nweights


def convolutional(ctx: Ctx) -> LayerInfo:
    p = ctx.p
    n, groups, size = ctx.i("filters", 1), ctx.i("groups", 1), ctx.i("size", 1)
    sx, sy = ctx.i("stride_x", -1), ctx.i("stride_y", -1)
    if sx < 1 or sy < 1:
        stride = ctx.i("stride", 1)
        sx, sy = (stride if sx < 1 else sx), (stride if sy < 1 else sy)
    aa = ctx.i("antialiasing", 0)
    padding = ctx.i("padding", 0)
    if ctx.i("pad", 0):
        padding = clib.cdiv(size, 2)
    act = activation(ctx, "logistic")
    share_at = ctx.i("share_index", -1000000000)
    share = None
    if share_at != -1000000000:
        share = ctx.ref(share_at, "share_index")
        if share is None:
            return ctx.info(0, 0, 0, 0)
    if not ctx.need_image("[convolutional]"):
        return ctx.info(0, 0, 0, 0)
    bn = 2 if ctx.i("cbn", 0) else ctx.i("batch_normalize", 0)
    deform = [k for k in ("sway", "rotate", "stretch", "stretch_sway") if ctx.i(k, 0)]
    if sum(ctx.i(k, 0) for k in ("sway", "rotate", "stretch", "stretch_sway")) > 1:
        ctx.problem("use only one of sway=1, rotate=1, stretch=1, stretch_sway=1 — darknet "
                    "stops on more")
    elif deform and size == 1:
        ctx.problem(f"{deform[0]}=1 needs size >= 3 — darknet stops", "size")
    xnor = ctx.i("xnor", 0)
    if not xnor and groups >= 1 and clib.cmod(p.c, groups):
        ctx.warn(f"groups={groups} does not divide the {p.c} input channels; darknet uses "
                 f"{clib.cdiv(p.c, groups)} per group — use a divisor of {p.c}", "groups")
    core = conv_core(ctx, batch=p.batch, steps=1, h=p.h, w=p.w, c=p.c, n=n, groups=groups,
                     size=size, sx=1 if aa else sx, sy=1 if aa else sy, padding=padding,
                     bn=bn, xnor=xnor, binary=ctx.i("binary", 0), act=act, train=p.train,
                     share=share is not None)
    if not core:
        return ctx.info(0, 0, 0, 0)
    if share is not None and (share.size, share.nweights, share.in_c, share.n) != (
            size, core["nweights"], p.c, n):
        ctx.problem(f"share_index={ctx.raw('share_index')}: layer {share.index} differs in "
                    "size, channels or filters — darknet stops; share a layer of the same "
                    "shape", "share_index")
    out_w, out_h = core["out_w"], core["out_h"]
    floats, empty = core["floats"], ""
    if aa:
        blur, pad = (2, 0) if aa == 2 else (3, 1)
        blur_core = conv_core(ctx, batch=p.batch, steps=1, h=out_h, w=out_w, c=n, n=n,
                              groups=n, size=blur, sx=sx, sy=sy, padding=pad, bn=0, xnor=0,
                              binary=0, act="linear", train=p.train)
        if blur_core:
            floats += blur_core["floats"] + ctx.alloc("batch*outputs", p.batch,
                                                      core["outputs"])
            ctx.antialias = (blur_core["out_w"], blur_core["out_h"], n, blur_core["outputs"])
    if n == 0:
        empty = (f"{ctx.where('filters')}: filters={ctx.raw('filters')} gives no output "
                 "channels (darknet reads 0)|write a whole number of filters")
    elif not (out_w > 0 and out_h > 0):
        empty = (f"{ctx.where()}: this [convolutional] gives an empty {out_w}x{out_h}x{n} "
                 f"output|use a smaller size or stride, or a larger input")
    stored = 0 if share is not None else _stored_conv(n, core["nweights"], bn)
    g = f"/{groups}" if groups > 1 else ""
    return ctx.info(out_w, out_h, n, core["outputs"], bflops=core["bflops"], params=stored,
                    floats=floats, workspace=core["workspace"], n=n, size=size,
                    nweights=core["nweights"], detail=f"{n}{g} {size}x{size}/{sx}",
                    empty_why=empty)


def _pool(ctx: Ctx, avg: bool) -> LayerInfo:
    p = ctx.p
    stride = ctx.i("stride", 1)
    sx, sy = ctx.i("stride_x", stride), ctx.i("stride_y", stride)
    size = ctx.i("size", stride)
    padding = ctx.i("padding", size - 1)
    depth = 0 if avg else ctx.i("maxpool_depth", 0)
    out_channels = 1 if avg else ctx.i("out_channels", 1)
    aa = 0 if avg else ctx.i("antialiasing", 0)
    name = "[local_avgpool]" if avg else "[maxpool]"
    if not ctx.need_image(name):
        return ctx.info(0, 0, 0, 0)
    if aa:
        blur_sx, blur_sy, sx, sy = sx, sy, 1, 1
    if depth:
        out_w, out_h, out_c = p.w, p.h, out_channels
    else:
        if sx == 0 or sy == 0:
            ctx.problem("stride=0 — darknet divides by it and crashes; use stride=1 or more",
                        "stride")
            return ctx.info(0, 0, 0, 0)
        out_w = clib.cdiv(clib.wrap_int(p.w + padding - size), sx) + 1
        out_h = clib.cdiv(clib.wrap_int(p.h + padding - size), sy) + 1
        out_c = p.c
    outputs = ctx.wrap("outputs", out_h, out_w, out_c)
    size_out = ctx.alloc("outputs*batch", outputs, p.batch)
    floats = size_out * (3 if p.train and not avg else 2 if p.train else 1)
    bflops = clib.wrap_int(size * size * p.c * out_h * out_w) / 1e9
    if aa:
        blur, pad = (2, 0) if aa == 2 else (3, 1)
        core = conv_core(ctx, batch=p.batch, steps=1, h=out_h, w=out_w, c=out_c, n=out_c,
                         groups=out_c, size=blur, sx=blur_sx, sy=blur_sy, padding=pad, bn=0,
                         xnor=0, binary=0, act="linear", train=p.train)
        if core:
            floats += core["floats"] + size_out
            ctx.antialias = (core["out_w"], core["out_h"], out_c, core["outputs"])
    return ctx.info(out_w, out_h, out_c, outputs, bflops=bflops, floats=floats,
                    detail="depth" if depth else f"{size}x{size}/{sx}")


def maxpool(ctx: Ctx) -> LayerInfo:
    return _pool(ctx, avg=False)


def local_avgpool(ctx: Ctx) -> LayerInfo:
    return _pool(ctx, avg=True)


def avgpool(ctx: Ctx) -> LayerInfo:
    p = ctx.p
    if not ctx.need_image("[avgpool]"):
        return ctx.info(0, 0, 0, 0)
    return ctx.info(1, 1, p.c, p.c, floats=2 * ctx.alloc("batch*c", p.c, p.batch),
                    detail="global")


def upsample(ctx: Ctx) -> LayerInfo:
    p = ctx.p
    stride = ctx.i("stride", 2)
    if stride < 0:
        out_w, out_h = clib.cdiv(p.w, -stride), clib.cdiv(p.h, -stride)
        detail = f"/{-stride}"
    else:
        out_w, out_h = ctx.wrap("out_w", p.w, stride), ctx.wrap("out_h", p.h, stride)
        detail = f"{stride}x"
    outputs = ctx.wrap("outputs", out_w, out_h, p.c)
    floats = 2 * ctx.alloc("batch*outputs", outputs, p.batch)
    empty = "" if outputs else (f"{ctx.where('stride')}: [upsample] stride={stride} gives "
                                "an empty output|use e.g. stride=2")
    return ctx.info(out_w, out_h, p.c, outputs, floats=floats, detail=detail,
                    empty_why=empty)


def reorg(ctx: Ctx) -> LayerInfo:
    p = ctx.p
    stride, reverse = ctx.i("stride", 1), ctx.i("reverse", 0)
    if not ctx.need_image(f"[{ctx.sec.type}]"):
        return ctx.info(0, 0, 0, 0)
    square = clib.wrap_int(stride * stride)
    if stride == 0 or (reverse and square == 0):
        ctx.problem("stride=0 (or a stride whose square wraps to 0) — darknet divides by it "
                    "and crashes; use e.g. stride=2", "stride")
        return ctx.info(0, 0, 0, 0)
    if reverse:
        out_w, out_h = ctx.wrap("out_w", p.w, stride), ctx.wrap("out_h", p.h, stride)
        out_c = clib.cdiv(p.c, square)
    else:
        out_w, out_h = clib.cdiv(p.w, stride), clib.cdiv(p.h, stride)
        out_c = ctx.wrap("out_c", p.c, square)
    outputs = ctx.wrap("outputs", out_w, out_h, out_c)
    return ctx.info(out_w, out_h, out_c, outputs,
                    floats=2 * ctx.alloc("batch*outputs", outputs, p.batch),
                    detail=f"/{stride}")


def first_layer(ctx: Ctx, what: str) -> bool:
    if ctx.index == 0:
        ctx.problem(f"{what} cannot be the first layer — darknet reads the layer before it "
                    "(outside the network); put a layer before it")
        return True
    return False


def dropout(ctx: Ctx) -> LayerInfo:
    p = ctx.p
    block = ctx.i("dropblock", 0)
    if first_layer(ctx, "[dropout]"):
        return ctx.info(0, 0, 0, 0)
    if block and (p.w <= 0 or p.h <= 0 or p.c <= 0):
        ctx.problem(f"dropblock=1 needs an image input, not {p.w}x{p.h}x{p.c} — darknet stops")
    return ctx.info(p.w, p.h, p.c, p.inputs, floats=ctx.alloc("inputs*batch", p.inputs, p.batch),
                    own=(p.w, p.h) if block else (0, 0),
                    detail=f"p={ctx.s('probability', '.2')}")


def batchnorm(ctx: Ctx) -> LayerInfo:
    p = ctx.p
    outputs = ctx.wrap("outputs", p.w, p.h, p.c)
    return ctx.info(p.w, p.h, p.c, outputs, params=4 * p.c,
                    floats=4 * ctx.alloc("outputs*batch", outputs, p.batch)
                    + 10 * ctx.alloc("channels", p.c))


def activation_layer(ctx: Ctx) -> LayerInfo:
    p = ctx.p
    act = activation(ctx, "linear")
    return ctx.info(p.w, p.h, p.c, p.inputs,
                    floats=2 * ctx.alloc("inputs*batch", p.inputs, p.batch), detail=act)


def empty(ctx: Ctx) -> LayerInfo:
    p = ctx.p
    if first_layer(ctx, f"[{ctx.sec.type}]"):
        return ctx.info(0, 0, 0, 0)
    return ctx.info(p.w, p.h, p.c, p.inputs)


def crop(ctx: Ctx) -> LayerInfo:
    p = ctx.p
    ch, cw = ctx.i("crop_height", 1), ctx.i("crop_width", 1)
    if not ctx.need_image("[crop]"):
        return ctx.info(0, 0, 0, 0)
    outputs = ctx.wrap("outputs", cw, ch, p.c)
    return ctx.info(cw, ch, p.c, outputs, floats=ctx.alloc("outputs*batch", outputs, p.batch))


def normalization(ctx: Ctx) -> LayerInfo:
    p = ctx.p
    outputs = ctx.wrap("outputs", p.w, p.h, p.c)
    return ctx.info(p.w, p.h, p.c, outputs,
                    floats=4 * ctx.alloc("outputs*batch", outputs, p.batch))


def unmodelled(ctx: Ctx) -> LayerInfo:
    raise Stop(f"[{ctx.sec.type}] is a darknet layer enet4y2 does not model")
