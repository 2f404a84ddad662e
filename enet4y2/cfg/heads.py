"""The detector and loss heads as darknet builds them: [yolo], [Gaussian_yolo], [region],
[detection] and [contrastive] (`parse_*` in upstream src/parser.c, `make_*_layer`)."""

from __future__ import annotations

import os

from enet4y2.cfg import clib
from enet4y2.cfg.layers import choice
from enet4y2.cfg.shapes import Ctx, LayerInfo


def need_file(ctx: Ctx, key: str) -> None:
    """tree=/map= files darknet opens at load (relative to where it runs): a missing one
    makes it exit (map) or crash (tree)."""
    name = ctx.raw(key)
    if name is not None and not os.path.isfile(name):
        ctx.problem(f"{key}={name}: no such file (darknet opens it relative to the folder "
                    f"it runs in, {os.getcwd()}) and stops — run from the folder that holds "
                    "it or give its path", key)


def _mask(ctx: Ctx, total: int, kind: str) -> list[int] | None:
    raw = ctx.raw("mask")
    if raw is None:
        return None
    n = clib.list_count(raw, stop_at_hash=True)
    mask = [clib.atoi(t) for t in clib.list_items(raw, n) or []]
    bad = [m for m in mask if not 0 <= m < total]
    if bad:
        ctx.warn(f"mask index {bad[0]} is not below num={total}; darknet loads it but reads "
                 f"past its anchors (a garbage anchor) — use indices 0..{total - 1} or raise "
                 "num", "mask")
    return mask


def _anchors(ctx: Ctx, total: int, stop_at_hash: bool, bounded: bool) -> None:
    raw = ctx.raw("anchors")
    if raw is None:
        ctx.warn(f"[{ctx.sec.type}] has no anchors=; darknet uses 0.5 for all — give {total} "
                 "pairs w,h")
        return
    count = clib.list_count(raw, stop_at_hash)
    if count > 2 * total and not bounded:
        ctx.problem(f"{count} anchor values for num={total} — darknet writes past its "
                    f"2*num = {2 * total} anchors; give {2 * total} values", "anchors")
    elif count != 2 * total:
        ctx.warn(f"{count} anchor values for num={total}; darknet "
                 f"{'uses 0.5 for the missing ones' if count < 2 * total else 'ignores the rest'}"
                 f" — give 2*num = {2 * total} values (w,h pairs) or set num={count // 2}",
                 "anchors")


def _yolo_like(ctx: Ctx, kind: str, coords: int) -> LayerInfo:
    p = ctx.p
    classes = ctx.i("classes", 20)
    total = ctx.i("num", 1)
    mask = _mask(ctx, total, kind)
    n = len(mask) if mask is not None else total
    c = ctx.wrap("channels (anchors*(classes+coords+1))", n, classes + coords + 1)
    outputs = ctx.wrap("outputs", p.h, p.w, c)
    floats = 2 * ctx.alloc("batch*outputs", p.batch, outputs)
    floats += 2 * ctx.alloc("batch*w*h*anchors", p.batch, p.w, p.h, n)
    floats += 2 * ctx.alloc("anchors", total, 2) + ctx.alloc("mask", n)
    if outputs != p.inputs and not any(s.broken for s in ctx.sources):
        prev = ctx.before[-1] if ctx.before else None
        if prev is not None and prev.empty_why:
            cause, _, fix = prev.empty_why.partition("|")
            ctx.broken = True
            ctx.run.report(f"{cause}; the [{kind}] at line {ctx.sec.line} then gets no image "
                           f"and darknet stops — {fix}")
        else:
            where = (ctx.cfg.where(ctx.cfg.layers[ctx.index - 1], "filters") if ctx.index
                     else ctx.where())
            ctx.broken = True
            ctx.run.report(
                f"{where}: the layer before the [{kind}] at line {ctx.sec.line} gives "
                f"{p.c} channels, but (classes+{coords + 1})*{n} masks = {c} — set "
                f"filters={c} there (darknet: filters= doesn't correspond to classes=)")
    cpc = ctx.raw("counters_per_class")
    if cpc is not None and clib.list_count(cpc, stop_at_hash=True) != classes:
        ctx.problem(f"counters_per_class has {clib.list_count(cpc, stop_at_hash=True)} "
                    f"values for classes={classes} — darknet stops; give one per class",
                    "counters_per_class")
    for key in ("iou_loss", "iou_thresh_kind"):
        choice(ctx, kind, key, "mse" if key == "iou_loss" else "iou")
    need_file(ctx, "map")
    return ctx.info(p.w, p.h, c, outputs, floats=floats, n=n, detail=f"{n} anchors")


def yolo(ctx: Ctx) -> LayerInfo:
    info = _yolo_like(ctx, "yolo", 4)
    _anchors(ctx, ctx.i("num", 1), stop_at_hash=True, bounded=True)
    target = ctx.i("embedding_layer", 999999)
    if target < 0:
        target += ctx.index
    if target == 999999:
        return info
    le = ctx.ref(target - ctx.index if target < ctx.index else target, "embedding_layer")
    if le is None or info.n == 0:
        if info.n == 0:
            ctx.problem("no anchors (num=0) — darknet divides by it and crashes", "num")
        return info
    return LayerInfo(**{**info.__dict__, "embedding": clib.cdiv(le.n, info.n),
                        "floats": info.floats + ctx.alloc("embedding", ctx.p.batch,
                                                          le.outputs)})


def gaussian_yolo(ctx: Ctx) -> LayerInfo:
    info = _yolo_like(ctx, "Gaussian_yolo", 8)
    _anchors(ctx, ctx.i("num", 1), stop_at_hash=False, bounded=False)
    return info


def region(ctx: Ctx) -> LayerInfo:
    p = ctx.p
    coords, classes = ctx.i("coords", 4), ctx.i("classes", 20)
    num = ctx.i("num", 1)
    c = ctx.wrap("channels", num, classes + coords + 1)
    outputs = ctx.wrap("outputs", p.h, p.w, c)
    floats = 2 * ctx.alloc("batch*outputs", p.batch, outputs) + 4 * ctx.alloc("num", num)
    if outputs != p.inputs and not any(s.broken for s in ctx.sources):
        where = (ctx.cfg.where(ctx.cfg.layers[ctx.index - 1], "filters") if ctx.index
                 else ctx.where())
        ctx.broken = True
        ctx.run.report(f"{where}: the layer before the [region] at line {ctx.sec.line} gives "
                       f"{p.c} channels, but num*(classes+coords+1) = {c} — set filters={c} "
                       "there (darknet stops)")
    need_file(ctx, "tree")
    need_file(ctx, "map")
    _anchors(ctx, num, stop_at_hash=False, bounded=True)
    return ctx.info(p.w, p.h, c, outputs, floats=floats, n=num, detail=f"{num} anchors")


def detection(ctx: Ctx) -> LayerInfo:
    p = ctx.p
    coords, classes = ctx.i("coords", 1), ctx.i("classes", 1)
    num, side = ctx.i("num", 1), ctx.i("side", 7)
    want = clib.wrap_int(side * side * ((1 + coords) * num + classes))
    if want != p.inputs and not any(s.broken for s in ctx.sources):
        ctx.problem(f"side*side*((1+coords)*num+classes) = {want}, but the input has "
                    f"{p.inputs} values — darknet's assertion fails; set side=, num=, "
                    "classes= to match the layer before")
    return ctx.info(0, 0, 0, p.inputs, floats=2 * ctx.alloc("batch*inputs", p.batch, p.inputs),
                    own=(side, side),
                    n=num, empty_why=f"{ctx.where()}: [detection] gives a flat output|put "
                                     "it last")


def contrastive(ctx: Ctx) -> LayerInfo:
    p = ctx.p
    target = ctx.i("yolo_layer", 0)
    if target < 0:
        target += ctx.index
    if target == 0:
        ctx.problem("[contrastive] needs yolo_layer= pointing at a [yolo] layer — darknet "
                    "crashes without it", "yolo_layer")
        return ctx.info(0, 0, 0, p.inputs)
    yolo_at = ctx.ref(target - ctx.index if target < ctx.index else target, "yolo_layer")
    if yolo_at is None:
        return ctx.info(0, 0, 0, p.inputs)
    if yolo_at.type != "yolo":
        ctx.problem(f"yolo_layer points to layer {yolo_at.index}, a [{yolo_at.type}], not a "
                    "[yolo] — darknet stops", "yolo_layer")
        return ctx.info(0, 0, 0, p.inputs)
    cells = clib.wrap_int(yolo_at.n * p.h * p.w)
    if cells == 0:
        ctx.problem("[contrastive] needs an image input — darknet divides by zero")
        return ctx.info(0, 0, 0, p.inputs)
    if clib.cdiv(p.inputs, cells) != yolo_at.embedding:
        ctx.problem(f"embedding size {clib.cdiv(p.inputs, cells)} differs from the [yolo] "
                    f"layer's {yolo_at.embedding} — darknet stops; use the same "
                    "[convolutional] layer as the [yolo] embedding_layer")
    return ctx.info(0, 0, 0, p.inputs, floats=2 * ctx.alloc("batch*inputs", p.batch, p.inputs),
                    own=(p.w, p.h),
                    empty_why=f"{ctx.where()}: [contrastive] gives a flat output|put it last")
