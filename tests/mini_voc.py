"""A tiny Pascal VOC release: the three tars fetch-voc downloads, laid out as the real
ones (VOCdevkit/VOC<year>/{Annotations,ImageSets/Main,JPEGImages}), small generated
JPEGs, some difficult objects, and a SHA256SUMS — for a RangeServer to serve."""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

import cv2
import numpy as np

NAMES = ("aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair",
         "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant",
         "sheep", "sofa", "train", "tvmonitor")
#: tar -> (year, {set: image ids})
TARS = {
    "VOCtrainval_06-Nov-2007.tar": ("2007", {"train": ["000005", "000007"],
                                             "val": ["000009"]}),
    "VOCtest_06-Nov-2007.tar": ("2007", {"test": ["000001", "000002", "000003"]}),
    "VOCtrainval_11-May-2012.tar": ("2012", {"train": ["2008_000002"],
                                             "val": ["2008_000003", "2008_000004"]}),
}


def _xml(image_id: str, w: int, h: int, objects: list[tuple]) -> bytes:
    parts = [f"<annotation><folder>VOC</folder><filename>{image_id}.jpg</filename>"
             f"<size><width>{w}</width><height>{h}</height><depth>3</depth></size>"]
    for name, difficult, (x1, y1, x2, y2) in objects:
        parts.append(f"<object><name>{name}</name><pose>Left</pose><truncated>0</truncated>"
                     f"<difficult>{difficult}</difficult><bndbox><xmin>{x1}</xmin>"
                     f"<ymin>{y1}</ymin><xmax>{x2}</xmax><ymax>{y2}</ymax></bndbox></object>")
    return ("".join(parts) + "</annotation>").encode()


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def build(directory: Path, seed: int = 0) -> dict[str, tuple[int, int, list[tuple]]]:
    """Write the tars (and SHA256SUMS); returns {year/id: (w, h, objects)}."""
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    truth = {}
    for tar_name, (year, sets) in TARS.items():
        with tarfile.open(directory / tar_name, "w") as tar:
            root = f"VOCdevkit/VOC{year}"
            for image_set, ids in sets.items():
                _add(tar, f"{root}/ImageSets/Main/{image_set}.txt",
                     "".join(i + "\n" for i in ids).encode())
                for image_id in ids:
                    w, h = int(rng.integers(60, 200)), int(rng.integers(60, 200))
                    objects = []
                    for k in range(int(rng.integers(1, 4))):
                        x1, y1 = int(rng.integers(1, w // 2)), int(rng.integers(1, h // 2))
                        box = (x1, y1, int(rng.integers(x1 + 5, w + 1)),
                               int(rng.integers(y1 + 5, h + 1)))
                        objects.append((NAMES[int(rng.integers(0, 20))], int(k == 2), box))
                    truth[f"{year}/{image_id}"] = (w, h, objects)
                    _add(tar, f"{root}/Annotations/{image_id}.xml", _xml(image_id, w, h, objects))
                    _, jpg = cv2.imencode(".jpg", rng.integers(0, 255, (h, w, 3), np.uint8))
                    _add(tar, f"{root}/JPEGImages/{image_id}.jpg", jpg.tobytes())
    write_sums(directory)
    return truth


def write_sums(directory: Path) -> None:
    lines = [f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}\n"
             for p in sorted(directory.glob("*.tar"))]
    (directory / "SHA256SUMS").write_text("".join(lines))
