"""COCO instances JSON -> darknet label files (pure: a dict in, texts out).

darknet's convention (the seed's labels.tgz): one `<image stem>.txt` per image, one line
per box: `class x_center y_center width height`, all normalized to the image size, six
decimals, classes 0..79 in ascending COCO category-id order.

Crowd boxes (`iscrowd: 1`) are LEFT OUT by default. A crowd annotation marks a region
holding many instances (a stand full of people) with a single box; COCOeval treats such
regions as "ignore" areas, never as objects to detect, so training YOLO to predict one box
around a crowd teaches the wrong thing. (pjreddie never published the script that made
labels.tgz, so its treatment cannot be checked; `include_crowd=True` keeps them.)
Boxes are clipped to the image; boxes with no area left are dropped. Every image in the
JSON gets a text, empty when it has no boxes, so darknet never meets a missing label
file (which it would put in bad.list).
"""

from __future__ import annotations

import numpy as np

from enet4y2.data.files import IMAGE_EXTENSIONS
from enet4y2.errors import DataError


def category_index(instances: dict) -> dict[int, int]:
    """COCO category id -> darknet class (0..N-1 in ascending id order)."""
    ids = sorted(int(c["id"]) for c in instances.get("categories", []))
    return {cid: i for i, cid in enumerate(ids)}


#: COCO's category names that darknet's data/coco.names spells differently (the VOC
#: spellings darknet kept); the order is the same.
DARKNET_SPELLING = {
    "motorcycle": "motorbike", "airplane": "aeroplane", "couch": "sofa",
    "potted plant": "pottedplant", "dining table": "diningtable", "tv": "tvmonitor",
}


def category_names(instances: dict) -> list[str]:
    """Category names in darknet class order and darknet's spelling (for a `.names`
    file, so detections read as with darknet's own data/coco.names)."""
    return [DARKNET_SPELLING.get(c["name"], c["name"])
            for c in sorted(instances.get("categories", []), key=lambda c: c["id"])]


def labels_from_instances(instances: dict, include_crowd: bool = False) -> dict[str, str]:
    """{image file name: label text} for every image of a COCO instances dict.

    Vectorized: fields are pulled out of the annotation list once, the arithmetic and
    grouping run in numpy, and only the final text formatting loops in Python.
    """
    images = instances.get("images", [])
    anns = instances.get("annotations", [])
    classes = category_index(instances)
    n_img = len(images)
    img_ids = np.array([im["id"] for im in images], dtype=np.int64)
    widths = np.array([im["width"] for im in images], dtype=np.float64)
    heights = np.array([im["height"] for im in images], dtype=np.float64)
    names = [im["file_name"] for im in images]

    n = len(anns)
    ann_img = np.array([a["image_id"] for a in anns], dtype=np.int64)
    ann_cat = np.array([a["category_id"] for a in anns], dtype=np.int64)
    crowd = np.array([a.get("iscrowd", 0) for a in anns], dtype=np.int8)
    boxes = np.array([a["bbox"][:4] for a in anns], dtype=np.float64).reshape(n, 4)

    # Map image ids to rows of `images` (ids are sparse, so sort + searchsorted).
    order = np.argsort(img_ids, kind="stable")
    pos = np.searchsorted(img_ids[order], ann_img)
    pos = np.clip(pos, 0, max(n_img - 1, 0))
    known_img = (img_ids[order][pos] == ann_img) if n_img else np.zeros(n, bool)
    row = order[pos] if n_img else np.zeros(n, np.int64)

    cat_ids = np.array(sorted(classes), dtype=np.int64)
    cpos = np.clip(np.searchsorted(cat_ids, ann_cat), 0, max(len(cat_ids) - 1, 0))
    known_cat = cat_ids[cpos] == ann_cat if len(cat_ids) else np.zeros(n, bool)

    W = widths[row]
    H = heights[row]
    # np.minimum/maximum: np.clip with array bounds is several times slower here
    x1 = np.minimum(np.maximum(boxes[:, 0], 0.0), W)
    y1 = np.minimum(np.maximum(boxes[:, 1], 0.0), H)
    x2 = np.minimum(np.maximum(boxes[:, 0] + boxes[:, 2], 0.0), W)
    y2 = np.minimum(np.maximum(boxes[:, 1] + boxes[:, 3], 0.0), H)
    keep = known_img & known_cat & (x2 > x1) & (y2 > y1) & (W > 0) & (H > 0)
    if not include_crowd:
        keep &= crowd == 0

    idx = np.nonzero(keep)[0]
    idx = idx[np.argsort(row[idx], kind="stable")]  # group by image, keep JSON order within
    with np.errstate(divide="ignore", invalid="ignore"):
        cx = ((x1 + x2) / 2 / W)[idx]
        cy = ((y1 + y2) / 2 / H)[idx]
        bw = ((x2 - x1) / W)[idx]
        bh = ((y2 - y1) / H)[idx]
    cls = cpos[idx]
    lines = [
        f"{c} {a:.6f} {b:.6f} {w:.6f} {h:.6f}\n"
        for c, a, b, w, h in zip(cls.tolist(), cx.tolist(), cy.tolist(), bw.tolist(),
                                 bh.tolist(), strict=True)
    ]
    texts = dict.fromkeys(names, "")
    rows = row[idx]
    if len(rows):
        starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
        ends = np.r_[starts[1:], len(rows)]
        for r, s, e in zip(rows[starts].tolist(), starts.tolist(), ends.tolist(), strict=True):
            texts[names[r]] = "".join(lines[s:e])
    return texts


def label_file_name(image_file_name: str) -> str:
    """`COCO_val2014_000000000042.jpg` -> `COCO_val2014_000000000042.txt`."""
    stem = image_file_name.rsplit("/", 1)[-1]
    return (stem.rsplit(".", 1)[0] if "." in stem else stem) + ".txt"


def list_line_problem(number: int, line: str) -> str | None:
    """Why line `number` of a `.part` list (stripped, not blank) is not an image path
    inside the dataset, or None. Error pages served in place of a list fail here."""
    if not line.isprintable():
        why = "control or non-printing characters"
    elif "<" in line or ">" in line:
        why = "markup, as in an HTML page"
    elif not line.endswith(IMAGE_EXTENSIONS):
        why = "no image extension"
    elif ".." in line.replace("\\", "/").split("/"):
        why = "a '..' component"
    else:
        return None
    return f"line {number} is not an image path ({why}): {line[:60]!r}"


def list_lines(part_text: str, coco_dir: str, source: str = "the list") -> str:
    """A darknet list from a `.part` list: each line prefixed with the dataset's path.

    `.part` lines look like `/images/val2014/COCO_val2014_000000000164.jpg`; a line that
    is not an image path (or no line at all) is a DataError naming `source`, so a list
    file never holds anything but paths. Lines end at `\\n` only, as darknet reads them.
    """
    base = coco_dir.rstrip("/")
    out = []
    for number, raw in enumerate(part_text.split("\n"), 1):
        line = raw.strip()
        if not line:
            continue
        problem = list_line_problem(number, line)
        if problem:
            raise DataError(f"{source} {problem}")
        out.append(base + ("" if line.startswith("/") else "/") + line + "\n")
    if not out:
        raise DataError(f"{source} lists no images")
    return "".join(out)


def coco_data_text(coco_dir: str, backup_dir: str, classes: int = 80) -> str:
    """A darknet `.data` file for the fetched dataset (eval=coco for `detector valid`)."""
    base = coco_dir.rstrip("/")
    return (
        f"classes = {classes}\n"
        f"train = {base}/trainvalno5k.txt\n"
        f"valid = {base}/5k.txt\n"
        f"names = {base}/coco.names\n"
        f"backup = {backup_dir}\n"
        "eval = coco\n"
    )
