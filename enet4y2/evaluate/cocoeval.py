"""COCOeval (bbox) with pycocotools or faster-coco-eval, and the 12 stats as JSON."""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterable, Mapping, Sequence

from enet4y2.errors import DataError, MissingDependencyError
from enet4y2.evaluate.records import check_gt_records
from enet4y2.evaluate.results import check_results, read_json
from enet4y2.fileio import atomic_write_json

BACKENDS = ("pycocotools", "faster-coco-eval")

#: The 12 COCOeval bbox stats, in `COCOeval.stats` order.
STAT_NAMES = ("AP", "AP50", "AP75", "APs", "APm", "APl",
              "AR1", "AR10", "AR100", "ARs", "ARm", "ARl")

_SUMMARY_LINES = (
    ("Average Precision", "(AP)", "0.50:0.95", "all", 100),
    ("Average Precision", "(AP)", "0.50", "all", 100),
    ("Average Precision", "(AP)", "0.75", "all", 100),
    ("Average Precision", "(AP)", "0.50:0.95", "small", 100),
    ("Average Precision", "(AP)", "0.50:0.95", "medium", 100),
    ("Average Precision", "(AP)", "0.50:0.95", "large", 100),
    ("Average Recall", "(AR)", "0.50:0.95", "all", 1),
    ("Average Recall", "(AR)", "0.50:0.95", "all", 10),
    ("Average Recall", "(AR)", "0.50:0.95", "all", 100),
    ("Average Recall", "(AR)", "0.50:0.95", "small", 100),
    ("Average Recall", "(AR)", "0.50:0.95", "medium", 100),
    ("Average Recall", "(AR)", "0.50:0.95", "large", 100),
)


def summary_lines(stats: Mapping[str, float]) -> list[str]:
    """The 12 lines pycocotools' `summarize()` prints, from a stats dict."""
    lines = []
    for name, (title, short, iou, area, max_dets) in zip(STAT_NAMES, _SUMMARY_LINES,
                                                          strict=True):
        lines.append(f" {title:<18} {short} @[ IoU={iou:<9} | area={area:>6s} | "
                     f"maxDets={max_dets:>3d} ] = {stats[name]:0.3f}")
    return lines


def load_backend(backend: str):
    """(COCO, COCOeval) classes of a backend; a one-line error when it is missing."""
    if backend == "pycocotools":
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval
        return COCO, COCOeval
    if backend == "faster-coco-eval":
        try:
            from faster_coco_eval import COCO, COCOeval_faster
        except ImportError:
            raise MissingDependencyError("faster-coco-eval", "fast",
                                         "--backend faster-coco-eval") from None
        return COCO, COCOeval_faster
    raise DataError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")


def check_gt(gt: object) -> dict:
    """A COCO GT dict with images, annotations and categories whose records COCOeval
    can read, else a one-line error naming the first bad record."""
    return check_gt_records(gt)


def evaluate(gt: dict, results: list[dict], image_ids: Iterable[int] | None = None, *,
             only_detected_images: bool = False, backend: str = "pycocotools"
             ) -> dict[str, float]:
    """COCOeval bbox over `image_ids` (default: every GT image); returns the 12 stats.

    `only_detected_images` restricts the evaluation to images with at least one result,
    as the seed's script did: images where the model found nothing then cost nothing,
    which inflates AP. The backends' chatter on stdout is swallowed.
    """
    check_gt(gt)
    known = [int(img["id"]) for img in gt["images"]]
    results = check_results(results, known, (c["id"] for c in gt["categories"]))
    if only_detected_images:
        ids = sorted({int(r["image_id"]) for r in results})
    elif image_ids is None:
        ids = sorted(known)
    else:
        ids = sorted(set(int(i) for i in image_ids))
        missing = sorted(set(ids) - set(known))
        if missing:
            raise DataError(f"{len(missing)} image(s) of the list are not in the ground "
                            f"truth (e.g. ids {missing[:3]}); the list and --gt do not match")
    coco_cls, eval_cls = load_backend(backend)
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = coco_cls()
        # the backends add keys to the dicts they index; keep the caller's untouched
        coco_gt.dataset = {**gt, "annotations": [dict(a) for a in gt["annotations"]]}
        coco_gt.createIndex()
        coco_dt = coco_gt.loadRes([dict(r) for r in results])
        evaluator = eval_cls(coco_gt, coco_dt, "bbox")
        evaluator.params.imgIds = ids
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return {name: float(value) for name, value in zip(STAT_NAMES, evaluator.stats[:12],
                                                        strict=True)}


def stats_record(stats: Mapping[str, float], **meta: object) -> dict:
    """What a stats JSON file holds: the 12 named stats plus how they were made."""
    return {"stats": {name: float(stats[name]) for name in STAT_NAMES}, **meta}


def save_stats(path: str | os.PathLike, stats: Mapping[str, float], **meta: object) -> None:
    atomic_write_json(path, stats_record(stats, **meta))


def stats_from_json(data: object, where: str = "stats file") -> dict[str, float]:
    """The 12 stats from a saved record, a bare {name: value} dict, or a list of 12."""
    if isinstance(data, dict) and "stats" in data:
        data = data["stats"]
    if isinstance(data, Sequence) and not isinstance(data, str) and len(data) >= 12:
        data = dict(zip(STAT_NAMES, data, strict=False))
    if not isinstance(data, dict) or any(name not in data for name in STAT_NAMES):
        raise DataError(f"{where} does not hold the 12 COCO stats ({', '.join(STAT_NAMES)}); "
                        "write it with `enet4y2 eval --stats-out`")
    try:
        return {name: float(data[name]) for name in STAT_NAMES}
    except (TypeError, ValueError):
        raise DataError(f"{where} has a non-numeric stat; re-create it") from None


def load_stats(path: str | os.PathLike) -> dict[str, float]:
    return stats_from_json(read_json(path, "stats file"), f"stats file {path}")


def load_stats_record(path: str | os.PathLike) -> tuple[dict[str, float], dict]:
    """(the 12 stats, the rest of the record: images, only_detected_images, ...)."""
    data = read_json(path, "stats file")
    stats = stats_from_json(data, f"stats file {path}")
    meta = {k: v for k, v in data.items() if k != "stats"} if isinstance(data, dict) else {}
    return stats, meta


def comparability_warnings(name: str, meta: Mapping, *, images: int,
                           only_detected_images: bool) -> list[str]:
    """Why a reference's numbers may not be like for like with this run's."""
    warnings = []
    if "only_detected_images" in meta and bool(meta["only_detected_images"]) != \
            only_detected_images:
        how = "only images with detections" if meta["only_detected_images"] else "every image"
        warnings.append(f"reference {name} was scored over {how}, this run was not; "
                        "the judgement compares different methods")
    if isinstance(meta.get("images"), int) and meta["images"] != images \
            and not only_detected_images and not meta.get("only_detected_images"):
        warnings.append(f"reference {name} was scored over {meta['images']} images, this run "
                        f"over {images}; the judgement compares different splits")
    return warnings
