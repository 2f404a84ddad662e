"""k-means anchors with IoU distance."""

from __future__ import annotations

import numpy as np
import pytest

from enet4y2.cfg.anchors import iou_wh, kmeans_anchors
from enet4y2.errors import DataError

TRUE = np.array([[10, 14], [23, 27], [37, 58], [81, 82], [135, 169], [344, 319]], float)


def synthetic(n: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(TRUE), n)
    return TRUE[rng.permutation(idx)] * np.exp(rng.normal(0, 0.05, (n, 2)))


def test_iou_of_sizes():
    iou = iou_wh(np.array([[10.0, 10.0], [20.0, 5.0]]), np.array([[10.0, 10.0], [5.0, 20.0]]))
    assert iou[0, 0] == 1.0
    assert iou[0, 1] == pytest.approx(50 / 150)
    assert iou[1, 1] == pytest.approx(25 / 175)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_finds_known_clusters_sorted_by_area(seed):
    result = kmeans_anchors(synthetic(20000), 6, seed=seed)
    assert np.allclose(result.anchors, TRUE, rtol=0.03)
    areas = result.anchors[:, 0] * result.anchors[:, 1]
    assert np.all(np.diff(areas) > 0)
    assert result.mean_iou > 0.85
    assert result.as_cfg_value().startswith("10,14, 23,27, 37,58")


def test_mean_iou_is_the_best_iou_per_box():
    boxes = synthetic(3000)
    result = kmeans_anchors(boxes, 4, seed=0)
    assert result.mean_iou == pytest.approx(iou_wh(boxes, result.anchors).max(1).mean(),
                                            rel=1e-5)


def test_refusals():
    with pytest.raises(DataError, match="2 boxes for 3 anchors"):
        kmeans_anchors(np.ones((2, 2)), 3)
    with pytest.raises(DataError, match="positive"):
        kmeans_anchors(np.array([[1.0, 0.0], [2, 2]]), 1)


