"""Layers that join earlier layers as darknet builds them: [route], [shortcut],
[scale_channels] and [sam] (`parse_*` in upstream src/parser.c, `make_*_layer`)."""

from __future__ import annotations

import numpy as np

from enet4y2.cfg import clib
from enet4y2.cfg.layers import activation, first_layer
from enet4y2.cfg.shapes import Ctx, LayerInfo


def route(ctx: Ctx) -> LayerInfo:
    p = ctx.p
    raw = ctx.raw("layers")
    if raw is None:
        ctx.problem("[route] needs layers= — name the earlier layer(s) to use, e.g. -1")
        return ctx.info(0, 0, 0, 0)
    refs = [ctx.ref(clib.atoi(t), "layers")
            for t in clib.list_items(raw, clib.list_count(raw, stop_at_hash=False)) or []]
    if any(r is None for r in refs):
        return ctx.info(0, 0, 0, 0)
    ctx.sources = refs
    groups, group_id = ctx.i("groups", 1), ctx.i("group_id", 0)
    if groups == 0:
        ctx.problem("groups=0 — darknet divides by it and crashes; use groups=1 or more",
                    "groups")
        return ctx.info(0, 0, 0, 0)
    if not 0 <= group_id < groups:
        ctx.warn(f"group_id={group_id} is not below groups={groups}; darknet loads it but "
                 "reads outside the input when it runs — use 0..groups-1", "group_id")
    first = refs[0]
    outputs = clib.cdiv(ctx.wrap("outputs", sum(r.outputs for r in refs)), groups)
    out_w, out_h, out_c = first.out_w, first.out_h, first.out_c
    empty = ""
    for other in refs[1:]:
        if (other.out_w, other.out_h) == (first.out_w, first.out_h):
            out_c = clib.wrap_int(out_c + other.out_c)
        else:
            out_w = out_h = out_c = 0
            empty = (f"{ctx.where('layers')}: route joins layer {first.index} ({first.out_w}"
                     f"x{first.out_h}) and layer {other.index} ({other.out_w}x{other.out_h})"
                     f"{_size_hint(ctx)}, and darknet gives it an empty output|route only "
                     "layers with the same width/height")
    out_c = clib.cdiv(out_c, groups)
    if empty:
        ctx.run.warn(empty.replace("|", " — "))
    return ctx.info(out_w, out_h, out_c, outputs,
                    floats=2 * ctx.alloc("outputs*batch", outputs, p.batch),
                    own=(first.own_w, first.own_h), n=len(refs), empty_why=empty,
                    detail=",".join(str(r.index) for r in refs))


def _size_hint(ctx: Ctx) -> str:
    net = ctx.cfg.net
    bad = [f"{k}={net.get(k)}" for k in ("width", "height")
           if clib.atoi(net.get(k) or "0") % 32]
    return f" ({' and '.join(bad)} is not a multiple of 32)" if bad else ""


def shortcut(ctx: Ctx) -> LayerInfo:
    p = ctx.p
    act = activation(ctx, "linear")
    kind = ctx.s("weights_type", "none")
    norm = ctx.s("weights_normalization", "none")
    if kind not in ("none", "per_feature", "per_layer", "per_channel"):
        ctx.problem(f"weights_type={kind} is unknown — darknet stops; use none, per_feature "
                    "or per_channel", "weights_type")
    elif norm not in ("relu", "avg_relu", "softmax") and kind != "none":
        ctx.problem(f"weights_type={kind} needs weights_normalization=relu or softmax "
                    f"(got {norm}) — darknet stops", "weights_normalization")
    raw = ctx.raw("from")
    if raw is None:
        ctx.problem("[shortcut] needs from= — darknet crashes without it; e.g. from=-3")
        return ctx.info(0, 0, 0, 0)
    if first_layer(ctx, "[shortcut]"):
        return ctx.info(0, 0, 0, 0)
    refs = [ctx.ref(clib.atoi(t), "from")
            for t in clib.list_items(raw, clib.list_count(raw, stop_at_hash=False)) or []]
    if any(r is None for r in refs):
        return ctx.info(0, 0, 0, 0)
    ctx.sources = [*ctx.before[-1:], *refs]
    n = len(refs)
    outputs = ctx.wrap("outputs", p.w, p.h, p.c)
    nweights = clib.wrap_int({"per_feature": n + 1, "per_layer": n + 1,
                              "per_channel": (n + 1) * p.c}.get(kind, 0))
    for ref in refs:  # different channels are fine: darknet adds those both have
        if (ref.out_w, ref.out_h) != (p.w, p.h) and not any(s.broken for s in ctx.sources):
            ctx.problem(f"[shortcut] adds layer {ref.index} ({ref.out_w}x{ref.out_h}) to a "
                        f"{p.w}x{p.h} input{_size_hint(ctx)} — darknet's assertion fails; use "
                        "a layer of the same width and height", "from")
    per_out = 1 + (1 if p.train else 0) + (act in ("swish", "mish"))
    floats = per_out * ctx.alloc("outputs*batch", outputs, p.batch)
    floats += max(nweights, 0) * (2 if p.train else 1)
    bflops = np.float32(clib.wrap_int(p.w * p.h * p.c * n) / 1e9)
    if kind != "none":
        bflops = bflops * 2
    return ctx.info(p.w, p.h, p.c, outputs, bflops=float(bflops), params=nweights,
                    floats=floats, n=n, detail="from " + ",".join(str(r.index) for r in refs))


def _scale(ctx: Ctx, kind: str) -> LayerInfo:
    p = ctx.p
    raw = ctx.raw("from")
    if raw is None:
        ctx.problem(f"[{kind}] needs from= — darknet crashes without it; e.g. from=-2")
        return ctx.info(0, 0, 0, 0)
    if first_layer(ctx, f"[{kind}]"):
        return ctx.info(0, 0, 0, 0)
    src = ctx.ref(clib.atoi(raw), "from")
    if src is None:
        return ctx.info(0, 0, 0, 0)
    ctx.sources = [*ctx.before[-1:], src]
    by_wh = ctx.i("scale_wh", 0) if kind == "scale_channels" else 2
    activation(ctx, "linear")
    got = f"a {p.w}x{p.h}x{p.c} input and layer {src.index} ({src.out_w}x{src.out_h}x{src.out_c})"
    if by_wh == 2:
        ok = src.out_c == p.c and (src.out_w, src.out_h) == (p.w, p.h)
        need = "the same shape"
    elif by_wh:
        ok = p.c == 1 and (src.out_w, src.out_h) == (p.w, p.h)
        need = "a 1-channel input of the same width/height (scale_wh=1)"
    else:
        ok = (p.w, p.h) == (1, 1) and src.out_c == p.c
        need = "a 1x1 input with as many channels"
    if not ok and not any(s.broken for s in ctx.sources):
        ctx.problem(f"[{kind}] gets {got}, but needs {need}{_size_hint(ctx)} — darknet's "
                    "assertion fails; point from= at the matching layer", "from")
    outputs = ctx.wrap("outputs", src.out_w, src.out_h, src.out_c)
    return ctx.info(src.out_w, src.out_h, src.out_c, outputs,
                    floats=2 * ctx.alloc("outputs*batch", outputs, p.batch),
                    detail=f"from {src.index}")


def scale_channels(ctx: Ctx) -> LayerInfo:
    return _scale(ctx, "scale_channels")


def sam(ctx: Ctx) -> LayerInfo:
    return _scale(ctx, "sam")
