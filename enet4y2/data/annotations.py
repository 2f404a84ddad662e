"""One in-memory model for detection annotations from any source format, and the pure
steps from it to darknet's layout: explicit class mapping, clipping, the split, label
texts and a COCO ground truth for `eval --gt`.

Boxes are in pixels, `(x1, y1, x2, y2)` with x2/y2 exclusive (COCO's `x + w`). A box's
`ignore` says why it is not an ordinary object ("crowd": COCO `iscrowd`, "difficult":
VOC `difficult`); such boxes are left out of the darknet labels unless the caller keeps
them, and become `iscrowd: 1` regions in the COCO ground truth, which COCOeval ignores
(neither true nor false positives), as VOC's own evaluation ignores difficult objects.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from enet4y2.errors import DataError

#: a box narrower or lower than this fraction of its image is degenerate: with six
#: decimals its label line would read 0 (darknet refuses coordinates outside (0, 1])
MIN_SIZE = 2e-6


@dataclass(slots=True)
class Box:
    label: str
    x1: float
    y1: float
    x2: float
    y2: float
    ignore: str = ""  # "", "crowd" or "difficult"
    occluded: bool = False


@dataclass(slots=True)
class ImageAnn:
    """One image: its path as the annotations name it (relative to the image folder),
    its size when the annotations give it (None: read it from the file), its boxes."""

    file: str
    width: int | None
    height: int | None
    boxes: list[Box] = field(default_factory=list)


@dataclass
class Source:
    """What a reader returns: the images and the source's classes in its stable order."""

    images: list[ImageAnn]
    classes: list[str]
    #: shapes that are not boxes (LabelMe points/lines...), counted, never converted
    skipped_shapes: int = 0
    #: image sizes the reader took from the image files
    sizes_read: int = 0


@dataclass
class Summary:
    """What happened to every box (each count shown to the user)."""

    images: int = 0
    boxes_in: int = 0
    boxes_out: int = 0
    clipped: int = 0
    degenerate: int = 0
    unknown_class: int = 0
    crowd_left_out: int = 0
    difficult_left_out: int = 0
    occluded: int = 0
    per_class: Counter = field(default_factory=Counter)

    def as_dict(self, names: list[str]) -> dict:
        out = {k: v for k, v in self.__dict__.items() if k != "per_class"}
        out["per_class"] = {names[i]: self.per_class.get(i, 0) for i in range(len(names))}
        return out


def source_class_order(labels: list[str], declared: list[str] | None = None) -> list[str]:
    """The source's classes in a stable order: `declared` first (COCO categories by id,
    CVAT's label list, a names file), then any other label met, sorted by name."""
    declared = list(dict.fromkeys(declared or []))
    return declared + sorted(set(labels) - set(declared))


def class_mapping(source: list[str], wanted: list[str] | None,
                  drop_unknown: bool = False) -> tuple[list[str], dict[str, int]]:
    """(names, label -> darknet class). Without `wanted` every source class keeps its
    place in the source's order; with it, a source class not in `wanted` is a DataError
    unless `drop_unknown`. Never guessed: names must match exactly."""
    if wanted is None:
        return list(source), {name: i for i, name in enumerate(source)}
    duplicates = [n for n, c in Counter(wanted).items() if c > 1]
    if duplicates:
        raise DataError(f"--classes names {', '.join(duplicates[:5])} more than once — "
                        "list each class once")
    index = {name: i for i, name in enumerate(wanted)}
    unknown = [n for n in source if n not in index]
    if unknown and not drop_unknown:
        shown = ", ".join(repr(n) for n in unknown[:5]) + (" ..." if len(unknown) > 5 else "")
        raise DataError(f"{len(unknown)} source class(es) not in --classes: {shown} — add "
                        "them to the classes file or pass --drop-unknown")
    return list(wanted), index


def prepare(images: list[ImageAnn], index: dict[str, int], *, include_crowd: bool = False,
            keep_difficult: bool = False) -> tuple[list[np.ndarray], Summary]:
    """Per image an (N, 6) array `class x1 y1 x2 y2 ignore` (ignore 1 = crowd/difficult
    region, kept for the ground truth only), boxes clipped to the image and degenerate
    ones dropped; and the summary. Every image needs its size by now."""
    summary = Summary(images=len(images))
    out = []
    for image in images:
        w, h = image.width, image.height
        if not w or not h:
            raise DataError(f"{image.file}: no image size — the annotations lack it and the "
                            "image was not read")
        rows = []
        for b in image.boxes:
            summary.boxes_in += 1
            cls = index.get(b.label)
            if cls is None:
                summary.unknown_class += 1
                continue
            x1, y1 = min(max(b.x1, 0.0), w), min(max(b.y1, 0.0), h)
            x2, y2 = min(max(b.x2, 0.0), w), min(max(b.y2, 0.0), h)
            if (x2 - x1) / w < MIN_SIZE or (y2 - y1) / h < MIN_SIZE:
                summary.degenerate += 1
                continue
            if (x1, y1, x2, y2) != (b.x1, b.y1, b.x2, b.y2):
                summary.clipped += 1
            summary.occluded += b.occluded
            ignore = (b.ignore == "crowd" and not include_crowd) or \
                (b.ignore == "difficult" and not keep_difficult)
            if ignore:
                if b.ignore == "crowd":
                    summary.crowd_left_out += 1
                else:
                    summary.difficult_left_out += 1
            else:
                summary.boxes_out += 1
                summary.per_class[cls] += 1
            rows.append((cls, x1, y1, x2, y2, 1.0 if ignore else 0.0))
        out.append(np.asarray(rows, dtype=np.float64).reshape(-1, 6))
    return out, summary


def label_text(rows: np.ndarray, width: int, height: int) -> str:
    """darknet's label file for one image: `class cx cy w h`, normalized, six decimals;
    ignored regions left out."""
    lines = []
    for cls, x1, y1, x2, y2, ignore in rows.tolist():
        if ignore:
            continue
        lines.append(f"{int(cls)} {(x1 + x2) / 2 / width:.6f} {(y1 + y2) / 2 / height:.6f} "
                     f"{(x2 - x1) / width:.6f} {(y2 - y1) / height:.6f}\n")
    return "".join(lines)


def coco_ground_truth(entries: list[tuple[str, int, int, np.ndarray]],
                      names: list[str]) -> dict:
    """COCO GT from (file_name, width, height, rows) entries: image ids 1..N in order,
    category ids 1..C (darknet class + 1, as `eval` maps them), crowd/difficult regions
    as `iscrowd: 1`."""
    images, annotations = [], []
    for image_id, (file_name, width, height, rows) in enumerate(entries, 1):
        images.append({"id": image_id, "file_name": file_name, "width": int(width),
                       "height": int(height)})
        for cls, x1, y1, x2, y2, ignore in rows.tolist():
            w, h = x2 - x1, y2 - y1
            annotations.append({"id": len(annotations) + 1, "image_id": image_id,
                                "category_id": int(cls) + 1,
                                "bbox": [round(x1, 3), round(y1, 3), round(w, 3), round(h, 3)],
                                "area": round(w * h, 3), "iscrowd": int(ignore)})
    categories = [{"id": i + 1, "name": n, "supercategory": "none"}
                  for i, n in enumerate(names)]
    return {"images": images, "annotations": annotations, "categories": categories}


def parse_split(text: str) -> float:
    """`val=0.1` (or `0.1`) -> 0.1; DataError unless 0 <= fraction < 1."""
    key, sep, value = text.partition("=")
    if sep and key.strip() != "val":
        raise DataError(f"--split {text!r}: only val=FRACTION is understood (val=0.1)")
    try:
        fraction = float(value if sep else key)
    except ValueError:
        raise DataError(f"--split {text!r}: not a number (val=0.1)") from None
    if not 0 <= fraction < 1:
        raise DataError(f"--split {text!r}: the fraction must be in [0, 1)")
    return fraction


def split_indices(n: int, val_fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """(train, valid) indices: a seeded shuffle, round(n * fraction) images to valid
    (at least one when the fraction is positive and n > 1), both lists in input order."""
    n_val = round(n * val_fraction)
    if val_fraction > 0 and n > 1:
        n_val = min(max(n_val, 1), n - 1)
    chosen = set(np.random.default_rng(seed).permutation(n)[:n_val].tolist())
    valid = [i for i in range(n) if i in chosen]
    train = [i for i in range(n) if i not in chosen]
    return train, valid
