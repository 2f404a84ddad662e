"""A small detection dataset enet4y2 makes itself: coloured squares and discs on noisy
backgrounds, in darknet's layout (each image's label file beside it with normalized
`class cx cy w h` lines — upstream maps images/ to labels/ only for COCO's own folder
names — list files with absolute paths, names, a .data file). For the demo and for tests
that need a model really trained by darknet; deterministic for a given seed."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from enet4y2.fileio import atomic_write

NAMES = ("square", "disc")


@dataclass(frozen=True)
class Box:
    class_id: int
    x: int  # top-left, pixels
    y: int
    w: int
    h: int


@dataclass(frozen=True)
class Dataset:
    root: Path
    data: Path
    names: Path
    train_list: Path
    valid_list: Path
    classes: int


def draw_scene(rng: np.random.Generator, width: int, height: int,
               max_objects: int = 3) -> tuple[np.ndarray, list[Box]]:
    """One BGR image and its boxes; objects do not overlap."""
    base = rng.integers(40, 200, 3)
    image = (base + rng.normal(0, 12, (height, width, 3))).clip(0, 255).astype(np.uint8)
    boxes: list[Box] = []
    for _ in range(int(rng.integers(1, max_objects + 1))):
        for _attempt in range(20):
            size = int(rng.integers(min(width, height) // 6, min(width, height) // 2))
            x = int(rng.integers(0, width - size))
            y = int(rng.integers(0, height - size))
            if all(x + size <= b.x or b.x + b.w <= x or y + size <= b.y or b.y + b.h <= y
                   for b in boxes):
                break
        else:
            continue
        cls = int(rng.integers(0, len(NAMES)))
        colour = tuple(int(c) for c in (rng.integers(0, 80), rng.integers(0, 80),
                                        rng.integers(180, 256)))
        if cls == 0:
            cv2.rectangle(image, (x, y), (x + size - 1, y + size - 1), colour, thickness=-1)
        else:
            r = size // 2
            cv2.circle(image, (x + r, y + r), r, colour[::-1], thickness=-1)
        boxes.append(Box(cls, x, y, size, size))
    return image, boxes


def label_lines(boxes: list[Box], width: int, height: int) -> str:
    """Darknet label text: `class cx cy w h`, normalized to the image size."""
    return "".join(
        f"{b.class_id} {(b.x + b.w / 2) / width:.6f} {(b.y + b.h / 2) / height:.6f} "
        f"{b.w / width:.6f} {b.h / height:.6f}\n" for b in boxes)


def make_dataset(root: str | os.PathLike, *, train: int = 64, valid: int = 16,
                 width: int = 160, height: int = 128, seed: int = 0) -> Dataset:
    """Write the dataset under `root` (images, labels, train.txt, valid.txt, .data)."""
    root = Path(root).resolve()
    rng = np.random.default_rng(seed)
    lists = {}
    image_id = 0
    for split, count in (("train", train), ("valid", valid)):
        (root / split).mkdir(parents=True, exist_ok=True)
        paths = []
        for _ in range(count):
            image_id += 1
            name = f"synth_{image_id:012d}"
            image, boxes = draw_scene(rng, width, height)
            img_path = root / split / f"{name}.jpg"
            cv2.imwrite(str(img_path), image, [cv2.IMWRITE_JPEG_QUALITY, 95])
            atomic_write(img_path.with_suffix(".txt"), label_lines(boxes, width, height))
            paths.append(str(img_path))
        lists[split] = root / f"{split}.txt"
        atomic_write(lists[split], "\n".join(paths) + "\n")
    names = root / "synth.names"
    atomic_write(names, "\n".join(NAMES) + "\n")
    (root / "backup").mkdir(exist_ok=True)
    data = root / "synth.data"
    atomic_write(data, f"classes = {len(NAMES)}\ntrain = {lists['train']}\n"
                        f"valid = {lists['valid']}\nnames = {names}\n"
                        f"backup = {root / 'backup'}\n")
    return Dataset(root, data, names, lists["train"], lists["valid"], len(NAMES))
