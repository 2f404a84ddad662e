"""The work of `enet4y2 cfg` and `enet4y2 weights`: generate a cfg from options (names
file, anchors from a dataset), summarize or check a cfg on disk, describe a .weights file
against a cfg, cut a backbone. Returns plain dicts the CLI renders or dumps as JSON."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path

from enet4y2.cfg import check, infer, load_cfg, validate, write_cfg
from enet4y2.cfg.anchors import kmeans_anchors
from enet4y2.cfg.builders import enet4y2_cfg, tiny_cfg
from enet4y2.data.files import read_names
from enet4y2.data.labels import boxes_from_data
from enet4y2.errors import CfgError, UsageError, WeightsError
from enet4y2.fileio import atomic_write, refuse_overwrite
from enet4y2.weights.fit import (
    WeightsMatch,
    cut_weights,
    expected_size,
    match_size,
    read_header,
    shared_layers,
)
from enet4y2.weights.format import conv_name, file_size

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
             tiny: bool = False, progress: Progress | None = None,
             on_stage: Callable[[str], None] | None = None) -> dict:
    """Build, validate and atomically write a cfg; returns a summary dict. `progress`
    wraps the label-file loop, `on_stage` hears about the (untimed) k-means step.
    `tiny` writes the small 2-head model of `tiny_cfg` instead of B0-4Y."""
    if tiny and heads != 2:
        raise CfgError(f"--tiny has 2 heads (strides 16 and 8), not {heads} — drop --heads")
    if classes is not None and names is not None:
        raise CfgError("--classes and --names both given — use one (--names counts lines)")
    if anchors is not None and anchors_from is not None:
        raise CfgError("--anchors and --anchors-from both given — use one")
    refuse_overwrite(output, [names, anchors_from], "-o")
    if names is not None:
        classes = len(read_names(names, "check --names"))
    extra: dict = {}
    anchor_values = parse_anchor_list(anchors) if anchors is not None else None
    if anchors_from is not None:
        boxes = boxes_from_data(anchors_from, width, height, progress)
        if on_stage:
            on_stage(f"k-means over {len(boxes):,} boxes")
        found = kmeans_anchors(boxes, num_anchors)
        anchor_values = [v for pair in found.rounded() for v in pair]
        extra = {"boxes": len(boxes), "mean_iou": found.mean_iou,
                 "anchors": found.as_cfg_value()}
    schedule = {k: v for k, v in (("learning_rate", learning_rate), ("burn_in", burn_in))
                if v is not None}
    build = tiny_cfg if tiny else partial(enet4y2_cfg, heads=heads)
    cfg = build(classes=classes or 80, width=width, height=height, anchors=anchor_values,
                batch=batch, subdivisions=subdivisions, max_batches=max_batches, **schedule)
    validate(cfg)
    path = atomic_write(Path(output), write_cfg(cfg).encode())
    cfg.path = str(path)
    model = infer(cfg)
    return {
        "path": str(path), "layers": len(model.layers), "heads": heads,
        "classes": cfg.classes, "width": width, "height": height,
        "bflops": model.total_bflops, "weights_bytes": expected_size(cfg),
        "max_batches": cfg.max_batches, "steps": cfg.net.options["steps"],
        "anchors": cfg.yolo_sections[0].options["anchors"], **extra,
    }


def model_summary(path: str | Path) -> dict:
    """Per-layer shapes, BFLOPs and parameters of a cfg on disk; CfgError if darknet could
    not load it or if the shapes are not known to the end."""
    cfg = load_cfg(path)
    verdict = check(cfg)
    found = verdict.problems
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
        "weights_bytes": expected_size(cfg),
        "memory_bytes": model.memory_bytes,
    }


def check_file(path: str | Path, *, batch: int | None = None,
               memory: int | None = None) -> dict:
    """Problems and warnings of a cfg on disk, judged as darknet loads it: `ok` exactly
    when darknet loads it (as training reads it, or with `batch` as a detector loads it;
    within `memory` bytes, this machine's by default). `bflops` and `weights_bytes` only
    when darknet loads it and the shapes are known to the last layer (else None; a
    warning says where the shapes stop)."""
    try:
        cfg = load_cfg(path)
    except CfgError as exc:
        return {"path": str(path), "ok": False, "problems": [str(exc)], "warnings": [],
                "layers": None, "bflops": None, "classes": None, "weights_bytes": None,
                "memory_bytes": None}
    verdict = check(cfg, batch=batch, memory=memory)
    model = verdict.model
    complete = verdict.ok and model is not None and model.complete
    try:
        classes = cfg.classes
    except CfgError:
        classes = None
    return {"path": str(path), "ok": verdict.ok, "problems": verdict.problems,
            "warnings": verdict.warnings, "layers": len(cfg.layers),
            "bflops": model.total_bflops if complete else None, "classes": classes,
            "weights_bytes": file_size(model.param_count) if complete else None,
            "memory_bytes": model.memory_bytes if model is not None else None}


def describe(path: str | Path, cfg_path: str | Path | None = None) -> dict:
    """Header facts of a .weights file and, with a cfg, how it fits (with a verdict)."""
    p = Path(path)
    header = read_header(p)
    report: dict = {"path": str(p), "version": header.version, "major": header.major,
                    "minor": header.minor, "revision": header.revision,
                    "seen": header.seen, "header_size": header.header_size,
                    "size": p.stat().st_size}
    if cfg_path is None:
        return report
    cfg = load_cfg(cfg_path)
    match = match_size(report["size"], header, cfg)
    total = len(cfg.layers)
    verdicts = {
        "full": f"full model: all {total} layers of {cfg_path} "
                f"({match.actual_size:,} bytes as expected)",
        "backbone": f"backbone: layers 0..{match.layers - 1} of {cfg_path} "
                    f"({match.actual_size:,} of {match.expected_size:,} bytes) — train "
                    "from it; darknet initializes the other layers",
        "mismatch": _mismatch_verdict(match, str(cfg_path), total),
    }
    report.update(cfg=str(cfg_path), kind=match.kind, layers=match.layers,
                  expected_size=match.expected_size, verdict=verdicts[match.kind])
    return report


def _mismatch_verdict(match: WeightsMatch, cfg_path: str, total: int) -> str:
    if match.actual_size > match.expected_size:
        where = (f"is {match.actual_size - match.expected_size:,} bytes larger than the "
                 "full model")
    else:
        where = f"ends inside layer {match.layers} (after {match.layers} whole layers)"
    return (f"mismatch: {match.actual_size:,} bytes, but {cfg_path} ({total} layers) expects "
            f"{match.expected_size:,}; the file {where} — use the cfg these weights "
            "were trained with (classifier weights: `enet4y2 weights cut W --cfg "
            f"CLASSIFIER.cfg --for {cfg_path}`)")


def cut_file(src: str | Path, cfg_path: str | Path, *, layers: int | None = None,
             target: str | Path | None = None, output: str | Path | None = None) -> dict:
    """`cut_weights` with the layer count given, or found from a target detector cfg."""
    if (layers is None) == (target is None):
        raise UsageError("give either --layers N or --for DETECTOR.cfg (not both)")
    cfg = load_cfg(cfg_path)
    if target is not None:
        detector = load_cfg(target)
        layers = shared_layers(cfg, detector)
        if layers == 0 or infer(cfg).weights_floats(layers) == 0:
            raise WeightsError(f"{cfg_path} and {target} share no layers with weights — "
                               "is --cfg the cfg SRC was trained with?")
    assert layers is not None
    src_path = Path(src)
    if output is None:
        output = src_path.with_name(conv_name(src_path, layers))
    refuse_overwrite(output, [src_path, cfg_path, target], "-o")
    out = cut_weights(src_path, cfg, layers, output)
    return {"source": str(src_path), "cfg": str(cfg_path), "layers": layers,
            "output": str(out), "size": out.stat().st_size,
            **({"target": str(target)} if target is not None else {})}
