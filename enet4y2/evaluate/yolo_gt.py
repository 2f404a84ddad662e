"""Ground truth from darknet YOLO label files, as a COCO GT dict.

A custom dataset has no instances.json; building one from the list's label files and the
images' sizes lets pycocotools score it. Category ids are 1..N (darknet class + 1).
Box areas are the boxes' pixel areas (COCO's own GT uses segmentation areas, so small /
medium / large differ slightly from official COCO numbers when used on COCO itself).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from pathlib import Path, PurePath

import numpy as np

from enet4y2.data.files import label_path
from enet4y2.data.labels import parse_label_text
from enet4y2.errors import DataError, ImageError, MissingFileError
from enet4y2.evaluate.results import image_id_from_name


def image_size_from_header(head: bytes) -> tuple[int, int] | None:
    """(width, height) from the first bytes of a JPEG, PNG or BMP file; None if unknown."""
    if head[:8] == b"\x89PNG\r\n\x1a\n" and len(head) >= 24:
        return struct.unpack(">II", head[16:24])
    if head[:2] == b"BM" and len(head) >= 26:
        width, height = struct.unpack("<ii", head[18:26])
        return width, abs(height)
    if head[:2] == b"\xff\xd8":
        pos = 2
        while pos + 9 <= len(head):
            if head[pos] != 0xFF:
                return None
            marker = head[pos + 1]
            if marker == 0xFF:  # fill byte
                pos += 1
                continue
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
                pos += 2
                continue
            (length,) = struct.unpack(">H", head[pos + 2: pos + 4])
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", head[pos + 5: pos + 9])
                return width, height
            pos += 2 + length
    return None


def parse_yolo_labels(text: str, num_classes: int, where: str = "label file") -> np.ndarray:
    """`class xc yc w h` lines (normalised) -> float array (N, 5). Lines that are not
    five numbers, and classes outside 0..num_classes-1, are errors."""
    rows, problems = parse_label_text(text, num_classes)
    for p in problems:
        if p.kind == "format":
            raise DataError(f"{where}:{p.line}: expected `class x y w h`, got {p.raw!r}; "
                            "fix the label file")
        if p.kind == "class":
            raise DataError(f"{where}:{p.line}: class {int(float(p.raw.split()[0]))} is "
                            f"outside 0..{num_classes - 1}; fix the label or the number of "
                            "classes")
    return rows


def coco_gt_from_yolo(images: Sequence[tuple[int, str, int, int, np.ndarray]],
                      names: Sequence[str]) -> dict:
    """COCO GT dict from (image_id, file_name, width, height, labels (N, 5)) entries."""
    gt_images, annotations = [], []
    for image_id, file_name, width, height, labels in images:
        gt_images.append({"id": int(image_id), "file_name": file_name,
                          "width": int(width), "height": int(height)})
        for cls, xc, yc, w, h in np.asarray(labels).reshape(-1, 5):
            x1 = min(max((xc - w / 2) * width, 0.0), width)
            y1 = min(max((yc - h / 2) * height, 0.0), height)
            x2 = min(max((xc + w / 2) * width, 0.0), width)
            y2 = min(max((yc + h / 2) * height, 0.0), height)
            if x2 <= x1 or y2 <= y1:
                continue
            annotations.append({
                "id": len(annotations) + 1, "image_id": int(image_id),
                "category_id": int(cls) + 1, "bbox": [x1, y1, x2 - x1, y2 - y1],
                "area": (x2 - x1) * (y2 - y1), "iscrowd": 0,
            })
    categories = [{"id": i + 1, "name": name} for i, name in enumerate(names)]
    return {"images": gt_images, "annotations": annotations, "categories": categories}


def ids_for_yolo_list(paths: Sequence[str]) -> list[int]:
    """Image ids for a custom list: trailing digits when every name has distinct ones,
    else the 1-based position in the list."""
    try:
        ids = [image_id_from_name(p) for p in paths]
    except DataError:
        return list(range(1, len(paths) + 1))
    return ids if len(set(ids)) == len(ids) else list(range(1, len(paths) + 1))


def image_size(path: str | Path) -> tuple[int, int]:
    """(width, height) of an image file, from its header (OpenCV decode as a fallback)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(4096)  # the JPEG frame header is usually this early
            size = image_size_from_header(head)
            if size is None:  # big EXIF / thumbnail segments first
                size = image_size_from_header(head + handle.read(1 << 20))
    except FileNotFoundError:
        raise MissingFileError(f"image {path} not found; fix the list file") from None
    if size is None:
        import cv2

        image = cv2.imread(str(path), cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
        if image is None:
            raise ImageError(f"cannot decode image {path}; remove it from the list or replace it")
        size = (image.shape[1], image.shape[0])
    return size


def load_yolo_gt(paths: Sequence[str], names: Sequence[str],
                 progress: Callable[[int, int], None] | None = None
                 ) -> tuple[dict, list[int]]:
    """Build the COCO GT dict for a list of images from their darknet label files.
    Returns (gt, image ids in list order). A missing label file means no objects,
    as in darknet; a missing image is an error."""
    ids = ids_for_yolo_list(paths)
    entries = []
    for done, (image_id, path) in enumerate(zip(ids, paths, strict=True), 1):
        if progress and (done % 100 == 0 or done == len(paths)):
            progress(done, len(paths))
        width, height = image_size(path)
        label = Path(label_path(str(path)))
        text = label.read_text() if label.is_file() else ""
        entries.append((image_id, PurePath(path).name, width, height,
                        parse_yolo_labels(text, len(names), str(label))))
    return coco_gt_from_yolo(entries, names), ids
