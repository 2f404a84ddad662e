"""darknet's NMS (`do_nms_sort`, `diounms_sort` in box.c) and the binding's copy-out, in
numpy, with darknet's results and order.

What darknet does, and how it is done here without its O(classes * n^2) loops:
- Detections with objectness 0 are swapped to the end and left out (only possible with a
  negative thresh); the same swap loop runs here.
- For each class k it sorts all detections by prob[k], descending, with glibc's qsort —
  a stable merge sort — so the order after class k is a lexicographic sort on
  (prob[k], prob[k-1], ..., prob[0], original position): `np.lexsort`.
- Then, in that order, each detection with prob[k] != 0 zeroes prob[k] of every later one
  that overlaps it by more than `nms` (IoU; DIoU with exponent 0.6 for greedynms;
  DIoU with beta_nms for diounms). Only detections with prob[k] > 0 can suppress, so the
  greedy pass runs on those alone, with the pairwise test vectorised in float32 exactly
  as box.c computes it (pow in double, as C promotes it).
- The copy-out (`enet4y2_copy_detections`) takes, in the final order (after the last
  class's sort), every (detection, class) with prob > thresh.
"""

from __future__ import annotations

import numpy as np

from enet4y2.runtime.decode import Candidates

F32 = np.float32
#: up to this many detections, the pairwise test runs once for all classes (it does not
#: depend on the class) and each class takes its rows; beyond, class by class in blocks
DENSE_LIMIT = 2048
ROW_FIELDS = ("x", "y", "w", "h", "class", "prob", "objectness")


def _swap_zero_objectness(objectness: np.ndarray) -> tuple[np.ndarray, int]:
    """darknet's loop moving objectness == 0 to the end: (positions, how many remain)."""
    order = np.arange(len(objectness))
    zero = objectness == 0
    if not zero.any():
        return order, len(order)
    k = len(order) - 1
    i = 0
    while i <= k:
        if zero[order[i]]:
            order[i], order[k] = order[k], order[i]
            k -= 1
        else:
            i += 1
    return order, k + 1


def _corners(boxes: np.ndarray):
    x, y, w, h = (boxes[:, i] for i in range(4))
    hw, hh = w * F32(0.5), h * F32(0.5)
    return x, y, w * h, x - hw, x + hw, y - hh, y + hh


def _suppression(a: np.ndarray, b: np.ndarray, nms: np.float32, kind: int,
                 beta: float) -> np.ndarray:
    """(len(a), len(b)) bool: does box a[i] suppress box b[j] — box.c's test in float32."""
    ax, ay, aa, al, ar, at, ab = (v[:, None] for v in _corners(a))
    bx, by, ba, bl, br, bt, bb = (v[None, :] for v in _corners(b))
    ow = np.minimum(ar, br) - np.maximum(al, bl)
    oh = np.minimum(ab, bb) - np.maximum(at, bt)
    inter = ow * oh
    union = (aa + ba) - inter
    bad = (ow < 0) | (oh < 0) | (inter == 0) | (union == 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = np.where(bad, F32(0), inter / np.where(bad, F32(1), union))
    if kind == 0:
        return iou > nms
    cw = np.maximum(ar, br) - np.minimum(al, bl)
    ch = np.maximum(ab, bb) - np.minimum(at, bt)
    c = cw * cw + ch * ch
    dx, dy = ax - bx, ay - by
    d = dx * dx + dy * dy
    exponent = 0.6 if kind == 1 else float(F32(beta))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (d / np.where(c == 0, F32(1), c)).astype(np.float64)
        term = np.power(ratio, exponent).astype(F32)
    diou = np.where(c == 0, iou, iou - term)
    return diou > nms


def _survivors(boxes: np.ndarray, nms: np.float32, kind: int, beta: float,
               block: int = 256) -> np.ndarray:
    """Which boxes (in suppression order) survive darknet's greedy pass: each survivor
    suppresses the later ones it overlaps. Pairs are tested a block of rows at a time,
    only between boxes still alive (a dead box suppresses nothing, and zeroing it again
    changes nothing)."""
    m = len(boxes)
    alive = np.ones(m, bool)
    for s in range(0, m, block):
        rows = np.flatnonzero(alive[s:s + block]) + s
        if len(rows) == 0:
            continue
        cols = np.flatnonzero(alive[s:]) + s
        sup = _suppression(boxes[rows], boxes[cols], nms, kind, beta)
        sup &= cols[None, :] > rows[:, None]
        for r in np.flatnonzero(sup.any(axis=1)):
            if alive[rows[r]]:
                alive[cols[sup[r]]] = False
    return alive


def _greedy(sup: np.ndarray) -> np.ndarray:
    """Survivors of the greedy pass over a precomputed (m, m) test in suppression order."""
    alive = np.ones(len(sup), bool)
    sup = np.triu(sup, 1)
    for i in np.flatnonzero(sup.any(axis=1)):
        if alive[i]:
            alive &= ~sup[i]
    return alive


def nms_sort(cands: Candidates, nms: float, kind: int = 0, beta: float = 0.6
             ) -> tuple[np.ndarray, np.ndarray]:
    """darknet's NMS of `kind` over the candidates: (final order of the detections,
    probs after suppression). With nms <= 0 (the binding runs no NMS) the order is
    darknet's own and nothing is suppressed."""
    probs = cands.probs.copy()
    n = len(probs)
    if nms <= 0 or n == 0:
        return np.arange(n), probs
    base, total = _swap_zero_objectness(cands.objectness)
    active = base[:total]
    original = cands.probs[active]     # the sorts see each column before its own NMS
    p = original.copy()
    used = np.flatnonzero((p != 0).any(axis=0))  # all-zero columns leave a stable sort as is
    t = F32(nms)
    classes = used[(p[:, used] != 0).sum(axis=0) >= 2]
    pairs = None
    if len(classes) > 1 and total <= DENSE_LIMIT:
        boxes = cands.boxes[active]
        pairs = _suppression(boxes, boxes, t, kind, beta)
    for k in classes:
        cand = np.flatnonzero(p[:, k] != 0)
        vals = p[cand, k]
        if len(np.unique(vals)) == len(vals):
            cand = cand[np.argsort(-vals, kind="stable")]
        else:  # ties: darknet's earlier sorts decide (stable qsort, class after class)
            cand = cand[np.lexsort([-original[cand, j] for j in used[used <= k]])]
        if pairs is not None:
            alive = _greedy(pairs[np.ix_(cand, cand)])
        else:
            alive = _survivors(cands.boxes[active[cand]], t, kind, beta)
        p[cand[~alive], k] = 0
    final = np.lexsort([-original[:, j] for j in used]) if len(used) else np.arange(total)
    probs[active] = p
    order = np.concatenate([active[final], base[total:]])
    return order, probs


def copy_rows(cands: Candidates, order: np.ndarray, probs: np.ndarray,
              thresh: float) -> np.ndarray:
    """The binding's rows x, y, w, h, class, prob, objectness (float32): every
    (detection, class) with prob > thresh, detections in `order`, classes ascending."""
    p = probs[order]
    det, cls = np.nonzero(p > F32(thresh))
    rows = np.empty((len(det), 7), F32)
    src = order[det]
    rows[:, :4] = cands.boxes[src]
    rows[:, 4] = cls
    rows[:, 5] = p[det, cls]
    rows[:, 6] = cands.objectness[src]
    return rows


def detection_rows(cands: Candidates, thresh: float, nms: float, kind: int = 0,
                   beta: float = 0.6) -> np.ndarray:
    """Candidates -> NMS -> copied-out rows, as `Network.detect` gets them from darknet."""
    order, probs = nms_sort(cands, nms, kind, beta)
    return copy_rows(cands, order, probs, thresh)
