"""The annotated-video writer on its own: frames made in its thread, a final name only
once finalised, and a failure in its thread reported to the caller instead of a hang."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from enet4y2.errors import OutputError
from enet4y2.video.outputs import VideoSink


def _frames(path) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    out = []
    while (got := cap.read())[0]:
        out.append(got[1])
    return out


def test_render_runs_in_the_writer_and_sizes_are_kept(tmp_path):
    target = tmp_path / "out.mp4"
    sink = VideoSink(target, 10.0, (64, 48), queue_size=2,
                     render=lambda level: np.full((48 if level < 5 else 96, 64, 3), level * 20,
                                                  np.uint8))
    for level in range(8):  # from 5 on, frames of another size: resized to the video's
        sink.write(level)
    assert not target.exists()  # not final before close
    assert sink.close() == target
    frames = _frames(target)
    assert [f.shape for f in frames] == [(48, 64, 3)] * 8
    assert [round(float(f.mean()) / 20) for f in frames] == list(range(8))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]


def test_a_failing_render_is_raised_at_the_next_write_and_close_returns(tmp_path):
    def render(item):
        if item == "bad":
            raise ValueError("no frame kept")
        return np.zeros((48, 64, 3), np.uint8)

    sink = VideoSink(tmp_path / "out.mp4", 10.0, (64, 48), queue_size=1, render=render)
    sink.write("good")
    sink.write("bad")
    with pytest.raises(OutputError, match=r"out\.mp4: no frame kept"):
        for _ in range(100):  # the writer's thread reaches "bad" in its own time
            sink.write("good")
    assert sink.close() == tmp_path / "out.mp4"  # the frame before the failure, finalised
    assert len(_frames(tmp_path / "out.mp4")) == 1


def test_nothing_written_leaves_no_file(tmp_path):
    sink = VideoSink(tmp_path / "out.mp4", 0.0, (64, 48))
    assert sink.fps == 25.0  # a source without a rate gets the default
    assert sink.close() is None
    assert list(tmp_path.iterdir()) == []
