"""Annotation formats -> the one model (`annotations.ImageAnn`), pure: each reader takes
a parsed dict, XML bytes or label text and returns values. Where each format's flags go:

- COCO (instances JSON): `iscrowd: 1` -> ignore "crowd". Classes: categories by id.
- Pascal VOC (one XML per image): `<difficult>1` -> ignore "difficult"; `<occluded>1`
  and `<truncated>` are ordinary objects (counted). Coordinates are 1-based pixel indices:
  1 is subtracted from each, as upstream's scripts/voc_label.py does.
- LabelMe (one JSON per image): rectangle, polygon and circle shapes become their
  bounding boxes; points, lines and other shapes are skipped (counted).
- CVAT for images 1.1 (one XML): `<box>` and the bounding box of `<polygon>`;
  `occluded="1"` is an ordinary object (counted). Classes: the task's label list first.
- YOLO / darknet (a .txt beside each image + names): boxes normalized to the image size.
"""

from __future__ import annotations

import posixpath
import xml.etree.ElementTree as ET

from enet4y2.data.annotations import Box, ImageAnn, Source, source_class_order
from enet4y2.data.labels import parse_label_text
from enet4y2.errors import DataError


def _number(value: object, where: str) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise DataError(f"{where}: {value!r} is not a number — fix the annotation") from None


def coco_source(instances: dict, where: str = "COCO JSON") -> Source:
    """Every image of a COCO instances dict, in the JSON's order."""
    if not isinstance(instances, dict) or not isinstance(instances.get("images"), list):
        raise DataError(f"{where}: no \"images\" list — is this a COCO instances file?")
    categories = sorted(instances.get("categories", []), key=lambda c: int(c["id"]))
    names = {int(c["id"]): str(c["name"]) for c in categories}
    if len(set(names.values())) < len(names):
        raise DataError(f"{where}: two categories share a name — names must be unique")
    images: dict[int, ImageAnn] = {}
    for im in instances["images"]:
        images[int(im["id"])] = ImageAnn(str(im["file_name"]), im.get("width") or None,
                                          im.get("height") or None)
    for ann in instances.get("annotations", []):
        image = images.get(ann["image_id"])
        if image is None:
            raise DataError(f"{where}: annotation {ann.get('id')} names image "
                            f"{ann['image_id']}, which is not in \"images\"")
        label = names.get(ann["category_id"])
        if label is None:
            raise DataError(f"{where}: annotation {ann.get('id')} has category "
                            f"{ann['category_id']}, which is not in \"categories\"")
        x, y, w, h = ann["bbox"][:4]
        image.boxes.append(Box(label, x, y, x + w, y + h, "crowd" if ann.get("iscrowd") else ""))
    return Source(list(images.values()), [names[i] for i in sorted(names)])


def _xml(data: bytes, where: str) -> ET.Element:
    try:
        return ET.fromstring(data)
    except ET.ParseError as exc:
        raise DataError(f"{where}: not valid XML ({exc}) — fix or remove the file") from None


def _text(node: ET.Element | None, tag: str, default: str = "") -> str:
    found = node.find(tag) if node is not None else None
    return (found.text or "").strip() if found is not None and found.text else default


def voc_image(data: bytes, where: str, default_file: str = "") -> ImageAnn:
    """One Pascal VOC annotation XML (its `<filename>`, else `default_file`)."""
    root = _xml(data, where)
    if root.tag != "annotation":
        raise DataError(f"{where}: root element <{root.tag}>, not <annotation> — not VOC")
    size = root.find("size")
    width = int(_number(_text(size, "width", "0"), where))
    height = int(_number(_text(size, "height", "0"), where))
    image = ImageAnn(_text(root, "filename") or default_file, width or None, height or None)
    for obj in root.iter("object"):
        box = obj.find("bndbox")
        if box is None:
            continue
        xmin, ymin, xmax, ymax = (_number(_text(box, k), where)
                                  for k in ("xmin", "ymin", "xmax", "ymax"))
        difficult = _text(obj, "difficult", "0") not in ("0", "")
        image.boxes.append(Box(_text(obj, "name"), xmin - 1, ymin - 1, xmax - 1, ymax - 1,
                               "difficult" if difficult else "",
                               _text(obj, "occluded", "0") not in ("0", "")))
    return image


def labelme_image(doc: dict, where: str, folder: str = "") -> tuple[ImageAnn, int]:
    """(image, shapes skipped) of one LabelMe JSON; `folder` is the JSON's folder
    relative to the source, which `imagePath` is relative to."""
    if not isinstance(doc, dict) or "shapes" not in doc:
        raise DataError(f"{where}: no \"shapes\" — is this a LabelMe file?")
    path = str(doc.get("imagePath") or "").replace("\\", "/")
    if not path:
        raise DataError(f"{where}: no imagePath — LabelMe files must name their image")
    image = ImageAnn(posixpath.normpath(posixpath.join(folder, path)),
                     doc.get("imageWidth") or None, doc.get("imageHeight") or None)
    skipped = 0
    for shape in doc["shapes"]:
        kind = shape.get("shape_type") or "polygon"
        points = [(_number(p[0], where), _number(p[1], where)) for p in shape.get("points", [])]
        if kind == "circle" and len(points) == 2:
            (cx, cy), (px, py) = points
            r = ((px - cx) ** 2 + (py - cy) ** 2) ** 0.5
            points = [(cx - r, cy - r), (cx + r, cy + r)]
        elif kind not in ("rectangle", "polygon") or len(points) < 2:
            skipped += 1
            continue
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        image.boxes.append(Box(str(shape.get("label", "")), min(xs), min(ys), max(xs), max(ys)))
    return image, skipped


def cvat_source(data: bytes, where: str = "CVAT XML") -> Source:
    """Every `<image>` of a CVAT for images 1.1 file."""
    root = _xml(data, where)
    if root.tag != "annotations":
        raise DataError(f"{where}: root element <{root.tag}>, not <annotations> — not CVAT")
    declared = [_text(label, "name") for label in root.iterfind("meta//labels/label")]
    images, skipped, labels = [], 0, []
    for node in root.iter("image"):
        image = ImageAnn(node.get("name", ""), int(_number(node.get("width", 0), where)) or None,
                         int(_number(node.get("height", 0), where)) or None)
        for shape in node:
            occluded = shape.get("occluded", "0") == "1"
            if shape.tag == "box":
                coords = [_number(shape.get(k), where) for k in ("xtl", "ytl", "xbr", "ybr")]
            elif shape.tag == "polygon":
                pts = [p.split(",") for p in shape.get("points", "").split(";") if p]
                xs = [_number(p[0], where) for p in pts]
                ys = [_number(p[1], where) for p in pts]
                coords = [min(xs), min(ys), max(xs), max(ys)]
            else:
                skipped += shape.tag in ("points", "polyline", "ellipse", "mask", "cuboid")
                continue
            image.boxes.append(Box(shape.get("label", ""), *coords, occluded=occluded))
            labels.append(image.boxes[-1].label)
        images.append(image)
    return Source(images, source_class_order(labels, [d for d in declared if d]), skipped)


def yolo_image(text: str, file: str, width: int, height: int, names: list[str],
               where: str) -> ImageAnn:
    """One darknet label file (normalized `class cx cy w h`) as pixel boxes."""
    rows, problems = parse_label_text(text, len(names))
    for p in problems:
        if p.kind in ("format", "class"):
            raise DataError(f"{where}:{p.line}: {p.message} — fix the label file or the "
                            "names")
    image = ImageAnn(file, width, height)
    for cls, cx, cy, w, h in rows.tolist():
        image.boxes.append(Box(names[int(cls)], (cx - w / 2) * width, (cy - h / 2) * height,
                               (cx + w / 2) * width, (cy + h / 2) * height))
    return image
