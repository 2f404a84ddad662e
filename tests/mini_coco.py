"""A miniature COCO 2014, built on disk the way the real hosts publish it: real JPEGs
(OpenCV) in train2014.zip/val2014.zip, instances_train-val2014.zip, the .part lists,
labels.tgz and a SHA256SUMS, all in one directory a RangeServer can serve."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import zipfile
from pathlib import Path

import cv2
import numpy as np

CATEGORIES = [{"id": 1, "name": "person"}, {"id": 3, "name": "car"},
              {"id": 90, "name": "toothbrush"}]
#: split -> [(image id, width, height, [(category id, bbox, iscrowd)])]
IMAGES = {
    "train2014": [
        (11, 64, 48, [(1, [8, 8, 32, 16], 0), (3, [0, 0, 64, 48], 1)]),
        (12, 40, 40, [(90, [10, 0, 20, 40], 0)]),
        (13, 32, 32, []),
    ],
    "val2014": [
        (21, 80, 60, [(3, [40, 30, 40, 30], 0)]),
        (22, 50, 40, [(1, [0, 0, 10, 10], 0), (90, [25, 20, 50, 40], 0)]),
    ],
}
#: what labels.tgz holds (as pjreddie would publish it), worked out by hand from IMAGES
#: (the crowd box of image 11 left out)
LABELS_TGZ = {
    "train2014/COCO_train2014_000000000011.txt": "0 0.375000 0.333333 0.500000 0.333333\n",
    "train2014/COCO_train2014_000000000012.txt": "2 0.500000 0.500000 0.500000 1.000000\n",
    "train2014/COCO_train2014_000000000013.txt": "",
    "val2014/COCO_val2014_000000000021.txt": "1 0.750000 0.750000 0.500000 0.500000\n",
    # the second box runs past the image: clipped to x 25..50, y 20..40
    "val2014/COCO_val2014_000000000022.txt": "0 0.100000 0.125000 0.200000 0.250000\n"
                                             "2 0.750000 0.750000 0.500000 0.500000\n",
}


def file_name(split: str, image_id: int) -> str:
    return f"COCO_{split}_{image_id:012d}.jpg"


def instances(split: str) -> dict:
    images, anns = [], []
    for image_id, w, h, boxes in IMAGES[split]:
        images.append({"id": image_id, "file_name": file_name(split, image_id),
                       "width": w, "height": h})
        for cat, bbox, crowd in boxes:
            anns.append({"id": len(anns) + 1, "image_id": image_id, "category_id": cat,
                         "bbox": bbox, "iscrowd": crowd, "area": bbox[2] * bbox[3]})
    return {"info": {}, "images": images, "licenses": [], "annotations": anns,
            "categories": CATEGORIES}


def jpeg(w: int, h: int, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    ok, buf = cv2.imencode(".jpg", rng.integers(0, 255, (h, w, 3), dtype=np.uint8))
    assert ok
    return buf.tobytes()


def build(directory: Path, with_sums: bool = True) -> dict[str, bytes]:
    """Write the published files into `directory`; returns {image path under coco: bytes}."""
    directory.mkdir(parents=True, exist_ok=True)
    images: dict[str, bytes] = {}
    for split, rows in IMAGES.items():
        with zipfile.ZipFile(directory / f"{split}.zip", "w") as zf:
            zf.writestr(f"{split}/", b"")
            for image_id, w, h, _ in rows:
                data = jpeg(w, h, image_id)
                zf.writestr(f"{split}/{file_name(split, image_id)}", data)
                images[f"images/{split}/{file_name(split, image_id)}"] = data
    with zipfile.ZipFile(directory / "instances_train-val2014.zip", "w",
                         zipfile.ZIP_DEFLATED) as zf:
        for split in IMAGES:
            zf.writestr(f"annotations/instances_{split}.json", json.dumps(instances(split)))
    (directory / "5k.part").write_text(
        "".join(f"/images/val2014/{file_name('val2014', i)}\n" for i, *_ in IMAGES["val2014"]))
    (directory / "trainvalno5k.part").write_text(
        "".join(f"/images/train2014/{file_name('train2014', i)}\n"
                for i, *_ in IMAGES["train2014"]))
    with tarfile.open(directory / "labels.tgz", "w:gz") as tf:
        for name, text in LABELS_TGZ.items():
            info = tarfile.TarInfo(f"labels/{name}")
            info.size = len(text.encode())
            tf.addfile(info, io.BytesIO(text.encode()))
    if with_sums:
        write_sums(directory)
    return images


def write_sums(directory: Path) -> None:
    (directory / "SHA256SUMS").write_text(sums_text(directory))


def sums_text(directory: Path, override: dict[str, str] | None = None) -> str:
    """SHA256SUMS for the files in `directory`, with some hashes replaced."""
    lines = []
    for path in sorted(directory.iterdir()):
        if path.is_file() and path.name != "SHA256SUMS":
            digest = (override or {}).get(path.name) or sha256(path.read_bytes())
            lines.append(f"{digest}  {path.name}\n")
    return "".join(lines)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
