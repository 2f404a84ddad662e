"""The file side of the cfg model, for `enet4y2 cfg`: generate a cfg from options (names
file, anchors from a dataset), summarize or check a cfg on disk. Returns plain dicts the
CLI renders or dumps as JSON."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from enet4y2.cfg import (
    expected_weights_size,
    infer,
    load_cfg,
    problems,
    validate,
    warnings,
    write_cfg,
)
from enet4y2.datafile import read_names
from enet4y2.errors import CfgError
from enet4y2.fileio import atomic_write
from enet4y2.models import enet4y2_cfg

Progress = Callable[[Iterable[str], int], Iterable[str]]


def parse_anchor_list(text: str) -> list[float]:
    """`10,14, 23,27` -> [10, 14, 23, 27]; CfgError when not pairs of positive numbers."""
    try:
        values = [float(v) for v in text.replace(" ", "").split(",") if v]
    except ValueError:
        raise CfgError(f"--anchors {text!r}: not numbers — write w,h pairs like "
                       "10,14,23,27") from None
    if not values or len(values) % 2 or min(values) <= 0:
        raise CfgError(f"--anchors {text!r}: give positive w,h pairs, e.g. 10,14,23,27")
    return values


def generate(*, output: str | Path, classes: int | None = None, names: str | None = None,
             width: int = 416, height: int = 416, heads: int = 4, anchors: str | None = None,
             anchors_from: str | None = None, num_anchors: int = 6, batch: int = 64,
             subdivisions: int = 8, max_batches: int | None = None,
             learning_rate: float | None = None, burn_in: int | None = None,
             progress: Progress | None = None,
             on_stage: Callable[[str], None] | None = None) -> dict:
    """Build, validate and atomically write a cfg; returns a summary dict. `progress`
    wraps the label-file loop, `on_stage` hears about the (untimed) k-means step."""
    if classes is not None and names is not None:
        raise CfgError("--classes and --names both given — use one (--names counts lines)")
    if anchors is not None and anchors_from is not None:
        raise CfgError("--anchors and --anchors-from both given — use one")
    if names is not None:
        classes = len(read_names(names, "check --names"))
    extra: dict = {}
    anchor_values = parse_anchor_list(anchors) if anchors is not None else None
    if anchors_from is not None:
        from enet4y2.anchors import boxes_from_data, kmeans_anchors

        boxes = boxes_from_data(anchors_from, width, height, progress)
        if on_stage:
            on_stage(f"k-means over {len(boxes):,} boxes")
        found = kmeans_anchors(boxes, num_anchors)
        anchor_values = [v for pair in found.rounded() for v in pair]
        extra = {"boxes": len(boxes), "mean_iou": found.mean_iou,
                 "anchors": found.as_cfg_value()}
    schedule = {k: v for k, v in (("learning_rate", learning_rate), ("burn_in", burn_in))
                if v is not None}
    cfg = enet4y2_cfg(classes=classes or 80, width=width, height=height, heads=heads,
                      anchors=anchor_values, batch=batch, subdivisions=subdivisions,
                      max_batches=max_batches, **schedule)
    validate(cfg)
    path = atomic_write(Path(output), write_cfg(cfg).encode())
    cfg.path = str(path)
    model = infer(cfg)
    return {
        "path": str(path), "layers": len(model.layers), "heads": heads,
        "classes": cfg.classes, "width": width, "height": height,
        "bflops": model.total_bflops, "weights_bytes": expected_weights_size(cfg),
        "max_batches": cfg.max_batches, "steps": cfg.net.options["steps"],
        "anchors": cfg.yolo_sections[0].options["anchors"], **extra,
    }


def model_summary(path: str | Path) -> dict:
    """Per-layer shapes, BFLOPs and parameters of a cfg on disk; CfgError if invalid."""
    cfg = load_cfg(path)
    found = problems(cfg)
    if found:
        more = f" (and {len(found) - 1} more; run `enet4y2 cfg check`)" if len(found) > 1 else ""
        raise CfgError(found[0] + more)
    model = infer(cfg)
    return {
        "path": str(path),
        "width": cfg.width, "height": cfg.height, "channels": cfg.channels,
        "classes": cfg.classes,
        "layers": [
            {"index": m.index, "type": m.type, "detail": m.detail, "line": m.line,
             "input": [m.in_w, m.in_h, m.in_c], "output": [m.out_w, m.out_h, m.out_c],
             "bflops": m.bflops, "params": m.params}
            for m in model.layers
        ],
        "total_bflops": model.total_bflops,
        "param_count": model.param_count,
        "weights_bytes": expected_weights_size(cfg),
    }


def check_file(path: str | Path) -> dict:
    """Problems and warnings of a cfg on disk (a syntax error is a problem too)."""
    try:
        cfg = load_cfg(path)
    except CfgError as exc:
        return {"path": str(path), "ok": False, "problems": [str(exc)], "warnings": []}
    found = problems(cfg)
    report: dict = {"path": str(path), "ok": not found, "problems": found,
                    "warnings": warnings(cfg)}
    if not found:
        model = infer(cfg)
        report.update(layers=len(model.layers), bflops=model.total_bflops,
                      classes=cfg.classes, weights_bytes=expected_weights_size(cfg))
    return report
