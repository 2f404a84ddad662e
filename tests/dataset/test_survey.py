"""The numbers of `data check`: head assignment as darknet does it, anchor fit and the
k-means suggestion, duplicates, size bins."""

from __future__ import annotations

import numpy as np

from enet4y2.dataset import survey

ANCHORS = np.array([[10, 14], [23, 27], [37, 58], [81, 82], [135, 169], [344, 319]], float)
HEADS = [survey.Head(32, (3, 4, 5)), survey.Head(16, (2, 3, 4)), survey.Head(8, (1, 2, 3)),
         survey.Head(4, (0, 1, 2))]


def test_a_box_trains_every_head_whose_mask_holds_its_best_anchor():
    wh = np.array([[10, 14], [81, 82], [344, 319], [300, 5]], float)
    index, iou = survey.best_anchor(wh, ANCHORS)
    # the 300x5 sliver: IoU 115/2006 with 23x27 beats 185/3461 with 37x58
    assert index.tolist() == [0, 3, 5, 1] and np.allclose(iou[:3], 1)
    fit = survey.anchor_fit(wh, ANCHORS, HEADS, kmeans=False)
    # anchor 0 -> stride 4; 3 -> strides 32, 16, 8; 5 -> stride 32; 1 -> strides 8, 4
    assert fit.per_head == {32: 2, 16: 1, 8: 2, 4: 2}
    assert fit.poor_fit == 1  # the 300x5 sliver fits nothing
    assert fit.unassigned == 0


def test_anchors_in_no_mask_and_boxes_below_the_finest_stride_are_counted():
    wh = np.array([[3, 3], [344, 319]], float)
    fit = survey.anchor_fit(wh, ANCHORS, [survey.Head(32, (3, 4))], kmeans=False)
    assert fit.unassigned == 2 and fit.below_finest_stride == 1


def test_matching_anchors_need_no_recomputing_and_poor_ones_do():
    rng = np.random.default_rng(0)
    good = np.repeat(ANCHORS, 200, axis=0) * rng.uniform(0.95, 1.05, (1200, 2))
    fit = survey.anchor_fit(good, ANCHORS, HEADS)
    assert fit.mean_iou > 0.9 and not fit.suggest_anchors
    thin = np.column_stack([rng.uniform(100, 200, 1200), rng.uniform(4, 8, 1200)])
    fit = survey.anchor_fit(thin, ANCHORS, HEADS)
    assert fit.mean_iou < survey.POOR_MEAN_IOU and fit.suggest_anchors
    assert fit.kmeans_iou is not None and fit.kmeans_iou > fit.mean_iou + 0.2


def test_duplicates_and_size_bins():
    groups = survey.duplicate_groups({"b": "1", "a": "1", "c": "2", "d": "3", "e": "3"})
    assert groups == [["a", "b"], ["d", "e"]]
    bins = survey.size_histogram(np.array([[4, 2], [8, 1], [300, 10], [10, 20]], float))
    assert bins["<8"] == 1 and bins["8-16"] == 1 and bins["16-32"] == 1 and bins[">=256"] == 1
