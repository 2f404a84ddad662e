"""The picture of `data check`: a class histogram beside a scatter of box sizes (in
network pixels, the anchors marked), drawn with OpenCV (already a dependency) and
returned as PNG bytes. Pure: arrays in, bytes out."""

from __future__ import annotations

import cv2
import numpy as np

PANEL = 440
MARGIN = 50
FONT = cv2.FONT_HERSHEY_SIMPLEX
INK = (40, 40, 40)
BAR = (180, 120, 40)
DOT = (200, 140, 60)
ANCHOR = (30, 30, 220)


def _text(img: np.ndarray, text: str, xy: tuple[int, int], scale: float = 0.4) -> None:
    cv2.putText(img, text, xy, FONT, scale, INK, 1, cv2.LINE_AA)


def histogram(names: list[str], counts: list[int]) -> np.ndarray:
    """Boxes per class, one bar each (names shortened to fit)."""
    img = np.full((PANEL, PANEL, 3), 255, np.uint8)
    _text(img, "boxes per class", (MARGIN, 25), 0.5)
    n = max(len(counts), 1)
    top = max(max(counts, default=0), 1)
    span = PANEL - 2 * MARGIN
    width = max(span // n, 1)
    for i, count in enumerate(counts):
        x = MARGIN + i * width
        h = round(count / top * (span - 20))
        cv2.rectangle(img, (x + 1, PANEL - MARGIN - h), (x + max(width - 2, 1), PANEL - MARGIN),
                      BAR, -1)
        if n <= 20:
            _text(img, names[i][:8] if i < len(names) else str(i), (x + 2, PANEL - MARGIN + 14),
                  0.32)
            _text(img, str(count), (x + 2, PANEL - MARGIN - h - 4), 0.32)
    cv2.line(img, (MARGIN, PANEL - MARGIN), (PANEL - MARGIN, PANEL - MARGIN), INK, 1)
    _text(img, f"max {top}", (MARGIN, 45))
    return img


def scatter(wh: np.ndarray, anchors: np.ndarray, width: int, height: int) -> np.ndarray:
    """Box width vs height in network pixels (0..input size), anchors as red crosses."""
    img = np.full((PANEL, PANEL, 3), 255, np.uint8)
    _text(img, f"box sizes (px at {width}x{height}), anchors x", (MARGIN, 25), 0.5)
    span = PANEL - 2 * MARGIN

    def to_px(w: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = MARGIN + np.clip(w / width, 0, 1) * span
        y = PANEL - MARGIN - np.clip(h / height, 0, 1) * span
        return x.astype(int), y.astype(int)

    if len(wh):
        sample = wh if len(wh) <= 50000 else wh[np.random.default_rng(0).choice(
            len(wh), 50000, replace=False)]
        xs, ys = to_px(sample[:, 0], sample[:, 1])
        if len(sample) <= 5000:  # few boxes: dots big enough to see
            for x, y in zip(xs.tolist(), ys.tolist(), strict=True):
                cv2.circle(img, (x, y), 2, DOT, -1)
        else:
            img[ys, xs] = DOT
    cv2.rectangle(img, (MARGIN, MARGIN), (PANEL - MARGIN, PANEL - MARGIN), INK, 1)
    if len(anchors):
        ax, ay = to_px(anchors[:, 0], anchors[:, 1])
        for x, y in zip(ax.tolist(), ay.tolist(), strict=True):
            cv2.drawMarker(img, (x, y), ANCHOR, cv2.MARKER_TILTED_CROSS, 10, 2)
    _text(img, "w", (PANEL - MARGIN + 5, PANEL - MARGIN))
    _text(img, "h", (MARGIN - 15, MARGIN))
    _text(img, str(width), (PANEL - MARGIN - 20, PANEL - MARGIN + 15))
    _text(img, str(height), (MARGIN - 40, MARGIN + 10))
    return img


def check_png(names: list[str], counts: list[int], wh: np.ndarray, anchors: np.ndarray,
              width: int, height: int) -> bytes:
    """Both panels side by side, as PNG bytes."""
    image = np.hstack([histogram(names, counts), scatter(wh, anchors, width, height)])
    return cv2.imencode(".png", image)[1].tobytes()
