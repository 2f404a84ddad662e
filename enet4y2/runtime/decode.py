"""darknet's `get_yolo_detections` in numpy: raw [yolo] outputs of one image -> candidate
boxes (relative to the network input), objectness and per-class probabilities, in
darknet's order (head by head; inside a head cell by cell, row-major, then anchor by
anchor).

The arithmetic is darknet's, operation by operation in float32 (the box centre, the
`new_coords` sizes) or float64 rounded to float32 (`exp` of the size, as C promotes it),
so on darknet's own tensors the candidates are bit for bit those of libdarknet.
`correct_yolo_boxes` with letter=0 and the network's own size (what the binding asks
for) leaves x, y as they are and multiplies w, h by 1/1 — which darknet's -Ofast build
computes as a hardware reciprocal estimate refined by one Newton step (`vrcpps`):
1 - 2**-24 on x86-64 (`RECIP_ONE`). The letterbox is undone later in image pixels.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from enet4y2.runtime.spec import Spec

F32 = np.float32
#: darknet runs with flush-to-zero: a product below this becomes 0 (never above thresh)
FLT_MIN = np.finfo(np.float32).tiny
#: 1/1.0 as libdarknet's correct_yolo_boxes computes it (rcpps + one Newton step)
RECIP_ONE = F32(1 - 2**-24)


class Candidates(NamedTuple):
    boxes: np.ndarray       # (n, 4) float32: x, y (centre), w, h relative to the input
    objectness: np.ndarray  # (n,) float32
    probs: np.ndarray       # (n, classes) float32: objectness * class prob, 0 unless > thresh


def _keep_probs(probs: np.ndarray, thresh: np.float32) -> np.ndarray:
    """`prob > thresh ? prob : 0`, with darknet's flush-to-zero of tiny products."""
    keep = probs > thresh
    if thresh < FLT_MIN:
        keep &= probs >= FLT_MIN
    return np.where(keep, probs, F32(0))


def _head(out: np.ndarray, head, width: int, height: int, thresh: np.float32):
    anchors = len(head.mask)
    cells = head.grid_w * head.grid_h
    o = out.reshape(anchors, 5 + head.classes, cells)
    keep = o[:, 4, :] > thresh                      # (anchors, cells)
    cell, anchor = np.nonzero(keep.T)               # cell-major, then anchor: darknet's walk
    sel = o[anchor, :, cell]                        # (n, 5 + classes)
    col = (cell % head.grid_w).astype(F32)
    row = (cell // head.grid_w).astype(F32)
    boxes = np.empty((len(cell), 4), F32)
    boxes[:, 0] = (col + sel[:, 0]) / F32(head.grid_w)
    boxes[:, 1] = (row + sel[:, 1]) / F32(head.grid_h)
    bias = np.asarray(head.anchors, F32)[anchor]    # l.biases are float
    if head.new_coords:
        boxes[:, 2] = sel[:, 2] * sel[:, 2] * (bias[:, 0] * F32(4)) / F32(width)
        boxes[:, 3] = sel[:, 3] * sel[:, 3] * (bias[:, 1] * F32(4)) / F32(height)
    else:  # exp(float) is double in C: bias * exp(x) / w in double, stored as float
        wh = np.exp(sel[:, 2:4].astype(np.float64)) * bias.astype(np.float64)
        boxes[:, 2] = wh[:, 0] / width
        boxes[:, 3] = wh[:, 1] / height
    boxes[:, 2:] *= RECIP_ONE
    objectness = sel[:, 4].copy()
    probs = _keep_probs(objectness[:, None] * sel[:, 5:], thresh)
    return boxes, objectness, probs


def raw_candidates(outputs: Sequence[np.ndarray], spec: Spec, thresh: float) -> Candidates:
    """Candidates of one image from its raw head outputs, each (A*(5+classes), h, w)
    float32 in `spec.heads` order."""
    t = F32(thresh)
    parts = [_head(np.asarray(out, F32), head, spec.width, spec.height, t)
             for head, out in zip(spec.heads, outputs, strict=True)]
    return Candidates(*(np.concatenate(p) if len(p) > 1 else p[0]
                        for p in zip(*parts, strict=True)))


def boxes_candidates(boxes: np.ndarray, objectness: np.ndarray, scores: np.ndarray,
                     spec: Spec, thresh: float) -> Candidates:
    """Candidates of one image from a `--outputs boxes` export: (K, 4) boxes in input
    pixels, (K,) objectness, (K, classes) objectness * class probability."""
    t = F32(thresh)
    keep = np.flatnonzero(objectness > t)
    rel = boxes[keep].astype(F32, copy=True)
    rel[:, 0::2] /= F32(spec.width)
    rel[:, 1::2] /= F32(spec.height)
    return Candidates(rel, objectness[keep].astype(F32), _keep_probs(scores[keep], t))
