"""Generated annotated datasets for the import tests: small PNG images of random sizes
and integer pixel boxes, written in each source format by globox (the oracle, a test
extra) so our readers meet files another library made."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

CLASSES = ("cat", "dog", "traffic light")


@dataclass
class Truth:
    """One image: name, (width, height), boxes as (label, x1, y1, x2, y2) pixels."""

    name: str
    size: tuple[int, int]
    boxes: list[tuple[str, float, float, float, float]]


def generate(images_dir: Path, n: int = 12, seed: int = 0) -> list[Truth]:
    """`n` PNG images in `images_dir` and their boxes (some images have none; every box
    lies at least one pixel inside the image, so VOC's 1-based shift never clips)."""
    rng = np.random.default_rng(seed)
    images_dir.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        w, h = int(rng.integers(40, 120)), int(rng.integers(40, 120))
        cv2.imwrite(str(images_dir / f"img_{i:03d}.png"),
                    rng.integers(0, 255, (h, w, 3), dtype=np.uint8))
        boxes = []
        for _ in range(int(rng.integers(0, 4))):
            x1, y1 = int(rng.integers(1, w - 10)), int(rng.integers(1, h - 10))
            x2, y2 = int(rng.integers(x1 + 2, w)), int(rng.integers(y1 + 2, h))
            boxes.append((CLASSES[int(rng.integers(0, len(CLASSES)))], x1, y1, x2, y2))
        out.append(Truth(f"img_{i:03d}.png", (w, h), boxes))
    return out


def annotation_set(truth: list[Truth]):
    import globox

    return globox.AnnotationSet(
        globox.Annotation(t.name, t.size, [globox.BoundingBox(label=b[0], xmin=b[1], ymin=b[2],
                                                                xmax=b[3], ymax=b[4])
                                            for b in t.boxes])
        for t in truth)


def write_format(fmt: str, truth: list[Truth], root: Path) -> Path:
    """Write `truth` in `fmt` with globox under `root` (images already in root/images);
    returns the SRC to import."""
    aset = annotation_set(truth)
    images = root / "images"
    if fmt == "coco":
        label_to_id = {c: i + 1 for i, c in enumerate(CLASSES)}
        ids = {t.name: i + 1 for i, t in enumerate(truth)}
        aset.save_coco(root / "instances.json", label_to_id=label_to_id, imageid_to_id=ids)
        return root / "instances.json"
    if fmt == "voc":
        aset.save_pascal_voc(root / "Annotations")
        (root / "images").rename(root / "JPEGImages")
        return root
    if fmt == "labelme":
        aset.save_labelme(images)  # JSON beside each image, imagePath = its name
        return images
    if fmt == "cvat":
        aset.save_cvat(root / "annotations.xml")
        return root / "annotations.xml"
    if fmt == "yolo":
        aset.save_yolo_darknet(images, label_to_id={c: i for i, c in enumerate(CLASSES)})
        (images / "obj.names").write_text("".join(c + "\n" for c in CLASSES))
        return images
    raise ValueError(fmt)


def read_darknet_output(out: Path, names: list[str]) -> dict[str, list[tuple]]:
    """Our import's output read back by globox: {image name: sorted pixel boxes}."""
    import globox

    images = out / "images"
    aset = globox.AnnotationSet.from_yolo_darknet(images, image_folder=images,
                                                  image_extension=".png")
    result = {}
    for a in aset:
        boxes = [(names[int(b.label)], *b.ltrb) for b in a.boxes]
        result[Path(a.image_id).name] = sorted(boxes)
    return result
