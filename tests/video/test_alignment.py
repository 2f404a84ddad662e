"""Frames and boxes stay aligned through the pipelined reader, and tracks keep their ids:
generated clips with known ground truth, detected by a model darknet really trained."""

from __future__ import annotations

import numpy as np
import pytest

from enet4y2.darknet import Network
from enet4y2.video import detect_video
from tests.video.clips import Obj, two_tracks, write_clip, zigzag

pytestmark = pytest.mark.darknet


def _iou(a: np.ndarray, b: Obj) -> float:
    x1, y1 = max(a[0], b.x), max(a[1], b.y)
    x2, y2 = min(a[0] + a[2], b.x + b.size), min(a[1] + a[3], b.y + b.size)
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    return inter / (a[2] * a[3] + b.size * b.size - inter)


def _centre_distance(a: np.ndarray, b: Obj) -> float:
    return float(np.hypot(a[0] + a[2] / 2 - b.x - b.size / 2,
                          a[1] + a[3] / 2 - b.y - b.size / 2))


def _iou_distances(gt: np.ndarray, hyp: np.ndarray) -> np.ndarray:
    """1 - IoU, NaN (no match) below IoU 0.5: motmetrics' `iou_matrix(max_iou=0.5)`,
    which calls np.asfarray, gone in NumPy 2."""
    out = np.full((len(gt), len(hyp)), np.nan)
    for i, g in enumerate(gt):
        for j, h in enumerate(hyp):
            iou = _iou(h, Obj(0, 0, g[0], g[1], g[2]))
            if iou >= 0.5:
                out[i, j] = 1 - iou
    return out


@pytest.mark.parametrize("queue_size", [1, 8])
def test_each_frames_box_is_that_frames_object(small_detector, tmp_path, queue_size):
    truth = zigzag(40)
    clip = write_clip(tmp_path / "path.mp4", [[o] for o in truth])
    with Network(small_detector.cfg, small_detector.weights) as net:
        results = list(detect_video(net, [str(clip)], queue_size=queue_size, thresh=0.1))
    assert [r.index for r in results] == list(range(40))
    for r in results:
        assert len(r.detections), f"frame {r.index}: nothing detected"
        box = r.detections.boxes[int(np.argmax(r.detections.scores))]
        own = truth[r.index]
        assert _iou(box, own) > 0.5, (r.index, box, own)
        for other in (r.index - 1, r.index + 1):  # no off-by-one
            if 0 <= other < len(truth):
                assert _centre_distance(box, own) < _centre_distance(box, truth[other])


def test_several_sources_in_one_batch_stay_apart_and_aligned(small_detector, tmp_path):
    """A `.streams` file of two clips, detected two frames per forward pass: each
    result carries its own source's frame, in that source's order."""
    paths_ = zigzag(30)
    shifted = [Obj(1, 0, o.x, o.y, o.size) for o in paths_[7:]] + paths_[:7]
    truths = {"a.mp4": paths_, "b.mp4": shifted[:24]}  # b is shorter: a runs on alone
    listing = tmp_path / "two.streams"
    listing.write_text("".join(f"{write_clip(tmp_path / n, [[o] for o in t])}\n"
                               for n, t in truths.items()))
    with Network(small_detector.cfg, small_detector.weights, batch=2) as net:
        results = list(detect_video(net, [str(listing)], thresh=0.1))
    for name, truth in truths.items():
        mine = [r for r in results if r.source.endswith(name)]
        assert [r.index for r in mine] == list(range(len(truth)))
        for r in mine:
            box = r.detections.boxes[int(np.argmax(r.detections.scores))]
            assert _iou(box, truth[r.index]) > 0.5, (name, r.index)


def test_tracking_keeps_each_objects_id(small_detector, tmp_path):
    mm = pytest.importorskip("motmetrics", reason="pip install 'enet4y2[test]'")
    pytest.importorskip("trackers", reason="pip install 'enet4y2[trackers]'")
    truth = two_tracks(40)
    clip = write_clip(tmp_path / "two.mp4", truth)
    acc = mm.MOTAccumulator(auto_id=True)
    ids_seen: set[int] = set()
    with Network(small_detector.cfg, small_detector.weights) as net:
        for r in detect_video(net, [str(clip)], track=True, thresh=0.3):
            objects = truth[r.index]
            keep = r.track_ids >= 0
            hyp = r.detections.boxes[keep]
            ids_seen |= set(r.track_ids[keep].tolist())
            gt = np.array([[o.x, o.y, o.size, o.size] for o in objects], float)
            acc.update([o.track for o in objects], r.track_ids[keep].tolist(),
                       _iou_distances(gt, hyp))
    summary = mm.metrics.create().compute(acc, metrics=["num_switches", "mota", "idf1",
                                                        "num_frames"])
    assert int(summary["num_frames"].iloc[0]) == 40
    assert int(summary["num_switches"].iloc[0]) == 0
    assert float(summary["mota"].iloc[0]) > 0.85
    assert float(summary["idf1"].iloc[0]) > 0.9
    assert len(ids_seen) == 2  # one id per object, none spawned by a stray box
