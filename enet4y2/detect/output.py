"""Detection output: text like darknet's `-ext_output`, JSON-lines records, annotated
images. Formatting and drawing are pure; decoding lives in `enet4y2.images`."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from enet4y2.darknet import Detections
from enet4y2.errors import ImageError
from enet4y2.fileio import atomic_write, same_file


def _name(dets: Detections, class_id: int) -> str:
    if dets.names and class_id < len(dets.names):
        return dets.names[class_id]
    return str(class_id)


def ext_output(dets: Detections) -> str:
    """Lines as darknet's `detector test -ext_output` prints them (sorted by left edge,
    numbers as its printf `%4.0f` writes them, `inf`/`nan` included)."""
    order = np.argsort(dets.boxes[:, 0], kind="stable") if len(dets) else []
    lines = []
    for i in order:
        x, y, w, h = (float(v) for v in dets.boxes[i])
        lines.append(f"{_name(dets, int(dets.classes[i]))}: {dets.scores[i] * 100:.0f}%\t"
                     f"(left_x: {x:4.0f}   top_y: {y:4.0f}   "
                     f"width: {w:4.0f}   height: {h:4.0f})")
    return "\n".join(lines)


def draw(image: np.ndarray, dets: Detections) -> np.ndarray:
    """A copy of `image` with boxes and labels drawn (colour per class)."""
    out = image.copy()
    thickness = max(1, round(min(out.shape[:2]) * 0.004))
    height, width = out.shape[:2]
    for d in dets:
        corners = np.array([d.x, d.y, d.x + d.w, d.y + d.h], np.float64)
        if not np.isfinite(corners).all():
            continue  # darknet can print inf boxes; there is nothing to draw
        x1, y1, x2, y2 = np.clip(corners, -width, 2 * width).round().astype(int).tolist()
        y1, y2 = np.clip([y1, y2], -height, 2 * height).tolist()
        hue = (d.class_id * 47) % 180
        colour = cv2.cvtColor(np.uint8([[[hue, 220, 255]]]), cv2.COLOR_HSV2BGR)[0, 0].tolist()
        p1, p2 = (x1, y1), (x2, y2)
        cv2.rectangle(out, p1, p2, colour, thickness)
        label = f"{d.name or d.class_id} {d.confidence:.2f}"
        (text_w, text_h), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 0.45, 1)
        # kept inside the image: above the box, or inside it at the top edge
        origin = (min(max(0, x1), max(0, width - text_w)), max(text_h + 1, y1 - 4))
        cv2.putText(out, label, origin, cv2.FONT_HERSHEY_SIMPLEX, 0.45, colour, 1,
                    cv2.LINE_AA)
    return out


def encode_image(image: np.ndarray, suffix: str) -> bytes:
    """The image encoded in the format its file name's suffix says (.jpg, .png, ...)."""
    try:
        ok, buf = cv2.imencode(suffix, image)
    except cv2.error:
        ok = False
    if not ok:
        raise ImageError(f"cannot encode an image as {suffix or 'a file without extension'} "
                         "— use .jpg or .png")
    return buf.tobytes()


def save_image(path: Path, image: np.ndarray) -> None:
    """Write an image atomically, in the format of its suffix."""
    atomic_write(path, encode_image(image, path.suffix))


def to_record(path: Path, image: np.ndarray, dets: Detections, ms: float) -> dict:
    """One JSON-lines record for an image."""
    return {"image": str(path), "width": int(image.shape[1]), "height": int(image.shape[0]),
            "milliseconds": round(ms, 2),
            "detections": [{**d._asdict(), "confidence": round(d.confidence, 6),
                            "x": round(d.x, 2), "y": round(d.y, 2), "w": round(d.w, 2),
                            "h": round(d.h, 2)} for d in dets]}


IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"})


def annotated_paths(sources: list[Path], out_dir: Path) -> list[Path]:
    """Where each source's annotated copy goes in `out_dir`: its own name, unless that is
    one of the sources (never overwrite an input) or taken by an earlier source with the
    same name (a/x.jpg, b/x.jpg -> x.jpg, x-2.jpg); names without an image suffix get .jpg."""
    taken: set[str] = set()
    out = []
    for src in sources:
        suffix = src.suffix if src.suffix.lower() in IMAGE_SUFFIXES else ".jpg"
        stem, n = src.stem, 1
        while True:
            name = f"{stem}{'' if n == 1 else f'-{n}'}{suffix}"
            candidate = out_dir / name
            if name not in taken and not any(same_file(candidate, s) for s in sources):
                break
            n += 1
        taken.add(name)
        out.append(candidate)
    return out
