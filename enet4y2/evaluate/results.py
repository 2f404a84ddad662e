"""Detections -> COCO results: image ids, category ids, clipped boxes, sanity checks.

Pure functions (no I/O) except `read_json`, the thin file layer.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import PurePath

import numpy as np

from enet4y2.errors import DataError, MissingFileError
from enet4y2.evaluate.records import check_result_records
from enet4y2.fileio import regular_file

_TRAILING_DIGITS = re.compile(r"(\d+)$")


def image_id_from_name(name: str | PurePath) -> int:
    """COCO image id from a file name: the trailing digits of its stem.

    ``COCO_val2014_000000000123.jpg`` -> 123 (upstream's ``atoi(basename)`` gives 0 here,
    darknet issue #5412). Raises `DataError` when the stem ends in no digits.
    """
    stem = PurePath(str(name).replace("\\", "/")).stem
    match = _TRAILING_DIGITS.search(stem)
    if match is None:
        raise DataError(
            f"cannot derive an image id from {PurePath(str(name)).name!r} (its name does not "
            "end in digits); give --gt with a file_name for each image"
        )
    return int(match.group(1))


def image_ids_for(paths: Sequence[str | PurePath], gt_images: Iterable[Mapping] | None = None
                  ) -> list[int]:
    """Image id of every path: by ``file_name`` in the GT's images when it is there,
    else from the trailing digits of the name. Duplicate ids are an error."""
    by_name: dict[str, int] = {}
    for image in gt_images or ():
        if "file_name" in image:
            by_name[PurePath(str(image["file_name"]).replace("\\", "/")).name] = int(image["id"])
    ids = []
    for path in paths:
        name = PurePath(str(path).replace("\\", "/")).name
        ids.append(by_name[name] if name in by_name else image_id_from_name(name))
    seen: dict[int, str] = {}
    for image_id, path in zip(ids, paths, strict=True):
        if image_id in seen:
            raise DataError(
                f"{PurePath(str(path)).name} and {PurePath(seen[image_id]).name} both map to "
                f"image id {image_id}; rename one or give --gt with distinct file_names"
            )
        seen[image_id] = str(path)
    return ids


def category_map(gt_category_ids: Iterable[int], num_classes: int) -> list[int]:
    """Darknet class index 0..N-1 -> GT category id: the GT's ids in ascending order.

    For COCO this is darknet's own ``coco_ids`` table (1..90 with gaps); for a custom
    COCO-format dataset it is whatever ids its categories carry.
    """
    ids = sorted({int(c) for c in gt_category_ids})
    if len(ids) != num_classes:
        raise DataError(
            f"the model has {num_classes} classes but the ground truth has {len(ids)} "
            "categories; use the GT file and .data/.names that belong to this model"
        )
    return ids


def clip_boxes(boxes: np.ndarray, width: int, height: int) -> np.ndarray:
    """Clip [x, y, w, h] boxes (top-left, pixels) to a width x height image."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    x1 = np.clip(boxes[:, 0], 0.0, width)
    y1 = np.clip(boxes[:, 1], 0.0, height)
    x2 = np.clip(boxes[:, 0] + boxes[:, 2], 0.0, width)
    y2 = np.clip(boxes[:, 1] + boxes[:, 3], 0.0, height)
    return np.stack([x1, y1, x2 - x1, y2 - y1], axis=1)


def detections_to_results(image_id: int, width: int, height: int, classes: np.ndarray,
                          scores: np.ndarray, boxes: np.ndarray, category_ids: Sequence[int]
                          ) -> list[dict]:
    """One image's detections as COCO result dicts; boxes clipped, empty ones dropped,
    coordinates rounded to 0.01 px and scores to 1e-5 (what COCO JSON files carry)."""
    classes = np.asarray(classes, dtype=np.int64).reshape(-1)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    clipped = clip_boxes(boxes, width, height)
    if not (len(classes) == len(scores) == len(clipped)):
        raise ValueError("classes, scores and boxes differ in length")
    if len(classes) and (classes.min() < 0 or classes.max() >= len(category_ids)):
        raise DataError(
            f"a detection has class {int(classes.max())} but only {len(category_ids)} "
            "categories are known; the cfg's classes do not match the ground truth"
        )
    keep = (clipped[:, 2] > 0) & (clipped[:, 3] > 0)
    lookup = np.asarray(category_ids, dtype=np.int64)
    # vectorised rounding, then plain Python numbers (fast `tolist`) for JSON
    cats = lookup[classes[keep]].tolist()
    rounded_scores = np.round(scores[keep], 5).tolist()
    rounded_boxes = np.round(clipped[keep], 2).tolist()
    image_id = int(image_id)
    return [{"image_id": image_id, "category_id": c, "bbox": b, "score": s}
            for c, s, b in zip(cats, rounded_scores, rounded_boxes, strict=True)]


def check_results(results: object, gt_image_ids: Iterable[int],
                  gt_category_ids: Iterable[int]) -> list[dict]:
    """Validate a COCO results list against the GT; return it. One-line `DataError`s for
    what pycocotools would crash on or, worse, silently score as zero."""
    results = check_result_records(results)
    if not results:
        raise DataError("the results file holds no detections; nothing to evaluate "
                        "(check the model, its weights and --thresh)")
    image_ids = {r["image_id"] for r in results}
    category_ids = {r["category_id"] for r in results}
    known_images = set(int(i) for i in gt_image_ids)
    if image_ids == {0} and 0 not in known_images:
        raise DataError(
            "every result has image_id 0: this is upstream darknet's `detector valid` bug "
            "(#5412, atoi of COCO_val2014_... names); run `enet4y2 eval --pycoco` to write "
            "correct results, or rename the images to their bare numeric ids and re-run"
        )
    unknown = sorted(image_ids - known_images)
    if unknown:
        raise DataError(
            f"{len(unknown)} result image_id(s) are not in the ground truth (e.g. "
            f"{unknown[:3]}); the results and --gt belong to different splits"
        )
    unknown_cats = sorted(category_ids - set(int(c) for c in gt_category_ids))
    if unknown_cats:
        raise DataError(
            f"result category_id(s) {unknown_cats[:5]} are not in the ground truth; "
            "results must use the GT's category ids (COCO: 1..90), not 0..N-1"
        )
    return results


def read_json(path: str | os.PathLike, what: str) -> object:
    """Load a JSON file; missing or malformed files become one-line errors."""
    path = regular_file(path, what)
    try:
        with open(path, "rb") as handle:
            return json.load(handle)
    except (ValueError, RecursionError) as exc:
        why = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise DataError(f"{what} {path} is not valid JSON ({why}) — re-create it") from None
    except OSError as exc:
        raise MissingFileError(f"{what} {path} cannot be read ({exc.strerror})") from None
