"""The shape of COCO records, checked before pycocotools sees them: it crashes on some
mistakes and silently scores others (a NaN width once raised AP50 from 0.021 to 0.313; a
string category_id scores 0). Pure: each check names the first bad record."""

from __future__ import annotations

import math
from collections.abc import Sequence

from enet4y2.errors import DataError


def _int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: object) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value))


def _box(value: object) -> str | None:
    """Why `value` is not a COCO box [x, y, w, h] (finite, w and h >= 0), or None."""
    if not isinstance(value, list) or len(value) != 4:
        return "bbox is not a list of 4 numbers"
    if not all(_number(v) for v in value):
        return "bbox holds a value that is not a finite number"
    if value[2] < 0 or value[3] < 0:
        return "bbox has a negative width or height"
    return None


def _refuse(kind: str, index: int, record: object, why: str, fix: str) -> None:
    shown = repr(record)
    shown = shown if len(shown) <= 120 else shown[:117] + "..."
    raise DataError(f"{kind} #{index} {shown}: {why} — {fix}")


def check_result_records(results: object) -> list[dict]:
    """A list of {image_id: int, category_id: int, bbox: [x, y, w, h], score: number}."""
    if not isinstance(results, list):
        raise DataError("the results file is not a JSON list of detections "
                        "(expected [{image_id, category_id, bbox, score}, ...])")
    fix = "write COCO detection results (image_id and category_id integers)"
    for i, r in enumerate(results):
        if not isinstance(r, dict):
            _refuse("result", i, r, "not an object", fix)
        for key in ("image_id", "category_id"):
            if not _int(r.get(key)):
                _refuse("result", i, r, f"{key} is missing or not an integer", fix)
        if not _number(r.get("score")):
            _refuse("result", i, r, "score is missing or not a finite number", fix)
        why = _box(r.get("bbox"))
        if why:
            _refuse("result", i, r, why, fix)
    return results


def check_gt_records(gt: object) -> dict:
    """A COCO instances dict whose images, annotations and categories have what COCOeval
    reads: ids, sizes, boxes, areas."""
    fix = "give a COCO instances_*.json as --gt"
    if not isinstance(gt, dict) or not all(isinstance(gt.get(k), list)
                                           for k in ("images", "annotations", "categories")):
        raise DataError("the ground truth is not a COCO instances file (needs images, "
                        f"annotations and categories lists) — {fix}")
    if not gt["categories"]:
        raise DataError(f"the ground truth has no categories — {fix}")
    _each(gt["categories"], "category", ("id",), (), fix)
    _each(gt["images"], "image", ("id",), (), fix)
    _each(gt["annotations"], "annotation", ("id", "image_id", "category_id"), ("area",), fix)
    for i, a in enumerate(gt["annotations"]):
        why = _box(a.get("bbox"))
        if why:
            _refuse("annotation", i, a, why, fix)
        if a["area"] < 0:
            _refuse("annotation", i, a, "area is negative", fix)
    return gt


def _each(records: list, kind: str, ints: Sequence[str], numbers: Sequence[str],
          fix: str) -> None:
    for i, record in enumerate(records):
        if not isinstance(record, dict):
            _refuse(kind, i, record, "not an object", fix)
        for key in ints:
            if not _int(record.get(key)):
                _refuse(kind, i, record, f"{key} is missing or not an integer", fix)
        for key in numbers:
            if not _number(record.get(key)):
                _refuse(kind, i, record, f"{key} is missing or not a finite number", fix)
