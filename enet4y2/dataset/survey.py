"""The pure numbers of `data check`: which YOLO head would take each box, how well the
anchors fit, duplicate images by content hash. Arrays and strings in, values out.

Head assignment is darknet's (`delta_yolo_box` via `int_index(mask, best_n)`): a truth
box goes to the anchor with the best IoU of sizes (both centred), over all anchors of
the network, and every head whose `mask` holds that anchor learns it (B0-4Y's masks
overlap: 3,4,5 / 2,3,4 / 1,2,3 / 0,1,2, so most boxes train two or three heads).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from enet4y2.cfg.anchors import iou_wh, kmeans_anchors

#: a box whose best anchor IoU is under this fits no head well
POOR_FIT = 0.3
#: mean best IoU under this: the anchors fit the data poorly
POOR_MEAN_IOU = 0.5
#: k-means anchors better by at least this much mean IoU: worth recomputing
WORTH_RECOMPUTING = 0.05
KMEANS_SAMPLE = 20000


@dataclass(frozen=True)
class Head:
    """One YOLO layer: its stride in network pixels and the anchors its mask holds."""

    stride: int
    mask: tuple[int, ...]


@dataclass
class AnchorFit:
    per_head: dict[int, int]  # stride -> boxes it learns (a box may train several)
    unassigned: int  # best anchor in no head's mask
    poor_fit: int  # best IoU < POOR_FIT
    below_finest_stride: int  # smaller than the finest grid cell on both sides
    mean_iou: float
    kmeans_iou: float | None  # mean IoU of k-means anchors on the same boxes
    kmeans_anchors: str | None

    @property
    def suggest_anchors(self) -> bool:
        gain = (self.kmeans_iou or 0.0) - self.mean_iou
        return self.mean_iou < POOR_MEAN_IOU or gain >= WORTH_RECOMPUTING


def best_anchor(wh: np.ndarray, anchors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(index, IoU) of the best anchor for each (N, 2) size (first on ties, as darknet)."""
    if not len(wh):
        return np.zeros(0, np.intp), np.zeros(0)
    ious = iou_wh(np.asarray(wh, np.float64), np.asarray(anchors, np.float64))
    best = np.argmax(ious, axis=1)
    return best, ious[np.arange(len(wh)), best]


def anchor_fit(wh: np.ndarray, anchors: np.ndarray, heads: list[Head],
               kmeans: bool = True) -> AnchorFit:
    """How the (N, 2) box sizes (network pixels) meet the anchors and heads."""
    index, iou = best_anchor(wh, anchors)
    per_head = {h.stride: 0 for h in heads}
    counts = np.bincount(index, minlength=len(anchors))
    unassigned = 0
    for a, n in enumerate(counts.tolist()):
        owners = [h.stride for h in heads if a in h.mask]  # B0-4Y's masks overlap
        for stride in owners:
            per_head[stride] += n
        unassigned += 0 if owners else n
    finest = min((h.stride for h in heads), default=1)
    small = int(np.count_nonzero((wh[:, 0] < finest) & (wh[:, 1] < finest))) if len(wh) else 0
    mean = float(iou.mean()) if len(iou) else 0.0
    k_iou = k_text = None
    if kmeans and len(wh) >= len(anchors) and np.all(wh > 0):
        sample = wh
        if len(wh) > KMEANS_SAMPLE:
            pick = np.random.default_rng(0).choice(len(wh), KMEANS_SAMPLE, replace=False)
            sample = wh[pick]
        fitted = kmeans_anchors(sample, len(anchors), seed=0)
        k_iou = float(best_anchor(sample, fitted.anchors)[1].mean())
        k_text = fitted.as_cfg_value()
    return AnchorFit(per_head, unassigned, int(np.count_nonzero(iou < POOR_FIT)), small,
                     mean, k_iou, k_text)


def duplicate_groups(digests: dict[str, str]) -> list[list[str]]:
    """Groups (two or more) of paths with the same content digest, each sorted."""
    by_digest: dict[str, list[str]] = defaultdict(list)
    for path, digest in digests.items():
        by_digest[digest].append(path)
    return sorted(sorted(g) for g in by_digest.values() if len(g) > 1)


def size_histogram(wh: np.ndarray, edges: tuple[int, ...] = (8, 16, 32, 64, 128, 256)
                   ) -> dict[str, int]:
    """Boxes by their longer side in network pixels: `<8`, `8-16`, ..., `>=256`."""
    longer = wh.max(axis=1) if len(wh) else np.zeros(0)
    bins = np.searchsorted(np.asarray(edges), longer, side="right")
    names = [f"<{edges[0]}"] + [f"{a}-{b}" for a, b in pairwise(edges)] + \
        [f">={edges[-1]}"]
    counts = np.bincount(bins, minlength=len(names))
    return dict(zip(names, counts.tolist(), strict=True))
