"""The vectorised NMS (lexsort for darknet's class-by-class stable qsort, block-wise
greedy suppression) equals a line-by-line transcription of box.c's do_nms_sort and
diounms_sort on random candidates full of ties and overlaps. (Against libdarknet itself:
test_decode_darknet.py.)"""

from __future__ import annotations

import math

import numpy as np
import pytest

from enet4y2.runtime import nms
from enet4y2.runtime.decode import Candidates
from enet4y2.runtime.nms import copy_rows, nms_sort

F = np.float32


def box_iou(a, b) -> np.float32:
    def overlap(x1, w1, x2, w2):
        left = max(x1 - w1 / F(2), x2 - w2 / F(2))
        right = min(x1 + w1 / F(2), x2 + w2 / F(2))
        return right - left
    w = overlap(a[0], a[2], b[0], b[2])
    h = overlap(a[1], a[3], b[1], b[3])
    if w < 0 or h < 0:
        return F(0)
    inter = w * h
    union = a[2] * a[3] + b[2] * b[3] - inter
    return F(0) if inter == 0 or union == 0 else inter / union


def box_diou(a, b, beta: float) -> np.float32:
    top = min(a[1] - a[3] / F(2), b[1] - b[3] / F(2))
    bot = max(a[1] + a[3] / F(2), b[1] + b[3] / F(2))
    left = min(a[0] - a[2] / F(2), b[0] - b[2] / F(2))
    right = max(a[0] + a[2] / F(2), b[0] + b[2] / F(2))
    w, h = right - left, bot - top
    c = w * w + h * h
    iou = box_iou(a, b)
    if c == 0:
        return iou
    d = (a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1])
    return iou - F(math.pow(float(d / c), beta))


def reference(cands: Candidates, nms: float, kind: int, beta: float):
    boxes, obj, probs = cands.boxes, cands.objectness, cands.probs.copy()
    order = list(range(len(obj)))
    k, i = len(order) - 1, 0
    while i <= k:  # objectness == 0 to the end
        if obj[order[i]] == 0:
            order[i], order[k] = order[k], order[i]
            k -= 1
        else:
            i += 1
    total, thresh = k + 1, F(nms)
    for c in range(probs.shape[1]):
        order[:total] = sorted(order[:total], key=lambda d: -probs[d, c])  # stable
        for i in range(total):
            a = order[i]
            if probs[a, c] == 0:
                continue
            for j in range(i + 1, total):
                b = order[j]
                if kind == 0:
                    hit = box_iou(boxes[a], boxes[b]) > thresh
                else:
                    hit = box_diou(boxes[a], boxes[b], 0.6 if kind == 1 else
                                   float(F(beta))) > thresh
                if hit:
                    probs[b, c] = 0
    return np.array(order), probs


def random_candidates(rng, n: int, classes: int, thresh: float) -> Candidates:
    xy = rng.choice(np.linspace(0.2, 0.8, 7), (n, 2))      # many shared centres
    wh = rng.choice(np.linspace(0.05, 0.4, 6), (n, 2))
    boxes = np.concatenate([xy, wh], axis=1).astype(F)
    obj = rng.choice(np.linspace(0.3, 0.9, 4), n).astype(F)  # ties
    cls = rng.choice(np.linspace(0.0, 1.0, 5), (n, classes)).astype(F)
    probs = obj[:, None] * cls
    return Candidates(boxes, obj, np.where(probs > F(thresh), probs, F(0)))


@pytest.mark.parametrize("kind", [0, 1, 2])
@pytest.mark.parametrize("seed", range(6))
def test_vectorised_nms_is_darknets(kind, seed):
    rng = np.random.default_rng(seed)
    cands = random_candidates(rng, int(rng.integers(1, 60)), int(rng.integers(1, 6)), 0.1)
    order, probs = nms_sort(cands, 0.45, kind, 0.8)
    want_order, want_probs = reference(cands, 0.45, kind, 0.8)
    np.testing.assert_array_equal(copy_rows(cands, order, probs, 0.1),
                                  copy_rows(cands, want_order, want_probs, 0.1))
    assert (want_probs != cands.probs).any() or len(cands.boxes) < 5  # NMS did something


def test_zero_objectness_goes_last_as_in_darknet():
    rng = np.random.default_rng(1)
    cands = random_candidates(rng, 20, 3, -1.0)  # a negative thresh lets objectness 0 in
    obj = cands.objectness.copy()
    obj[[0, 3, 19]] = 0
    cands = Candidates(cands.boxes, obj, cands.probs)
    order, probs = nms_sort(cands, 0.45)
    want_order, want_probs = reference(cands, 0.45, 0, 0.6)
    np.testing.assert_array_equal(order, want_order)
    np.testing.assert_array_equal(probs, want_probs)


@pytest.mark.parametrize("dense_limit", [0, 10_000])
def test_blocks_and_shared_pairs_do_not_change_the_result(dense_limit, monkeypatch):
    monkeypatch.setattr(nms, "DENSE_LIMIT", dense_limit)
    rng = np.random.default_rng(7)
    cands = random_candidates(rng, 300, 3, 0.05)  # more than one block of rows
    order, probs = nms_sort(cands, 0.5)
    want_order, want_probs = reference(cands, 0.5, 0, 0.6)
    np.testing.assert_array_equal(copy_rows(cands, order, probs, 0.05),
                                  copy_rows(cands, want_order, want_probs, 0.05))
