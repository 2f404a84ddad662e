"""Detections from an exported model's outputs, the straightforward way darknet makes
them (src/yolo_layer.c get_yolo_detections, src/box.c do_nms_sort / diounms_sort, then
one row per (box, class) above thresh as `-ext_output` prints them). Pure numpy; the
reference `--check` compares against `Network.detect`, not a fast path."""

from __future__ import annotations

import numpy as np

from enet4y2.export.meta import ModelMeta


def candidates(meta: ModelMeta, outputs: list[np.ndarray], index: int
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Image `index`'s candidates as get_yolo_detections walks them: boxes (K, 4) cx, cy,
    w, h relative to the input, objectness (K,), probabilities (K, classes)."""
    if meta.outputs == "boxes":
        boxes, obj, scores = (o[index].astype(np.float32) for o in outputs)
        size = np.array([meta.width, meta.height, meta.width, meta.height], np.float32)
        return boxes / size, obj, scores
    parts = []
    for head, raw in zip(meta.heads, outputs, strict=True):
        a, per = len(head.mask), 5 + head.classes
        t = raw[index].reshape(a, per, head.grid_h, head.grid_w).transpose(2, 3, 0, 1)
        col = np.arange(head.grid_w, dtype=np.float32)[None, :, None]
        row = np.arange(head.grid_h, dtype=np.float32)[:, None, None]
        anchors = np.array(head.anchors, np.float32)
        if head.new_coords:
            bw = t[..., 2] * t[..., 2] * 4 * anchors[:, 0] / meta.width
            bh = t[..., 3] * t[..., 3] * 4 * anchors[:, 1] / meta.height
        else:
            bw = np.exp(t[..., 2]) * anchors[:, 0] / meta.width
            bh = np.exp(t[..., 3]) * anchors[:, 1] / meta.height
        x = (col + t[..., 0]) / head.grid_w
        y = (row + t[..., 1]) / head.grid_h
        boxes = np.stack([x, y, bw, bh], -1).reshape(-1, 4)
        parts.append((boxes, t[..., 4].reshape(-1),
                      (t[..., 4:5] * t[..., 5:]).reshape(-1, head.classes)))
    return tuple(np.concatenate(p) for p in zip(*parts, strict=True))   # type: ignore


def detect(meta: ModelMeta, outputs: list[np.ndarray], index: int, thresh: float = 0.25,
           nms: float = 0.45) -> np.ndarray:
    """Rows `cx, cy, w, h, class, prob, objectness` (box relative to the input), as
    Network.detect's rows before they go to pixels."""
    boxes, obj, probs = candidates(meta, outputs, index)
    keep = obj > thresh
    boxes, obj = boxes[keep], obj[keep]
    probs = np.where(probs[keep] > thresh, probs[keep], 0).astype(np.float32)
    if nms > 0:
        _nms(boxes, obj, probs, nms, meta.nms_kind, meta.beta_nms)
    i, j = np.nonzero(probs > thresh)
    return np.column_stack([boxes[i], j, probs[i, j], obj[i]]).astype(np.float32)


def _nms(boxes: np.ndarray, obj: np.ndarray, probs: np.ndarray, thresh: float, kind: str,
         beta: float) -> None:
    """do_nms_sort (default kind) or diounms_sort, zeroing suppressed probs in place."""
    for k in range(probs.shape[1]):
        order = np.argsort(-probs[:, k], kind="stable")
        for n, i in enumerate(order):
            if probs[i, k] == 0:
                continue
            rest = order[n + 1:]
            if not len(rest):
                break
            iou = _iou(boxes[i], boxes[rest])
            if kind == "greedynms":
                over = iou - _diou_term(boxes[i], boxes[rest], 0.6) > thresh
            elif kind == "diounms":
                over = iou - _diou_term(boxes[i], boxes[rest], beta) > thresh
            else:
                over = iou > thresh
            probs[rest[over], k] = 0


def _corners(b: np.ndarray) -> tuple[np.ndarray, ...]:
    return b[..., 0] - b[..., 2] / 2, b[..., 1] - b[..., 3] / 2, \
        b[..., 0] + b[..., 2] / 2, b[..., 1] + b[..., 3] / 2


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ax0, ay0, ax1, ay1 = _corners(a)
    bx0, by0, bx1, by1 = _corners(b)
    w = np.minimum(ax1, bx1) - np.maximum(ax0, bx0)
    h = np.minimum(ay1, by1) - np.maximum(ay0, by0)
    inter = np.where((w > 0) & (h > 0), w * h, 0)
    union = a[2] * a[3] + b[:, 2] * b[:, 3] - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(union > 0, inter / union, 0)


def _diou_term(a: np.ndarray, b: np.ndarray, beta: float) -> np.ndarray:
    ax0, ay0, ax1, ay1 = _corners(a)
    bx0, by0, bx1, by1 = _corners(b)
    w = np.maximum(ax1, bx1) - np.minimum(ax0, bx0)
    h = np.maximum(ay1, by1) - np.minimum(ay0, by0)
    c = w * w + h * h
    d = (a[0] - b[:, 0]) ** 2 + (a[1] - b[:, 1]) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(c > 0, (d / c) ** beta, 0)
