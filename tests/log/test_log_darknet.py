"""The log of a real (tiny) darknet training parses into the iterations darknet ran."""

from __future__ import annotations

import subprocess

import cv2
import numpy as np
import pytest

from enet4y2.log.events import Iteration, MapReport
from enet4y2.log.parser import LogParser
from enet4y2.log.state import LogState

MAX_BATCHES = 6

TINY_CFG = f"""[net]
batch=2
subdivisions=1
width=64
height=64
channels=3
learning_rate=0.001
burn_in=0
max_batches={MAX_BATCHES}
policy=steps
steps=4
scales=.1

[convolutional]
batch_normalize=1
filters=8
size=3
stride=2
pad=1
activation=leaky

[convolutional]
batch_normalize=1
filters=16
size=3
stride=2
pad=1
activation=leaky

[convolutional]
size=1
stride=1
pad=1
filters=18
activation=linear

[yolo]
mask=0,1,2
anchors=10,14, 23,27, 37,58
classes=1
num=3
"""


def _tiny_dataset(root) -> None:
    """Four 64x64 JPEGs with a red square each, YOLO labels, list, names, data file."""
    rng = np.random.default_rng(0)
    images = []
    for i in range(4):
        img = np.full((64, 64, 3), 255, np.uint8)
        x, y = (int(v) for v in rng.integers(4, 36, 2))
        img[y : y + 24, x : x + 24] = (0, 0, 255)
        path = root / f"img{i}.jpg"
        assert cv2.imwrite(str(path), img)
        c = 24 / 64
        (root / f"img{i}.txt").write_text(
            f"0 {(x + 12) / 64:.6f} {(y + 12) / 64:.6f} {c:.6f} {c:.6f}\n")
        images.append(str(path))
    (root / "train.txt").write_text("\n".join(images) + "\n")
    (root / "names").write_text("square\n")
    (root / "backup").mkdir()
    (root / "tiny.data").write_text(
        "classes=1\ntrain=train.txt\nvalid=train.txt\nnames=names\nbackup=backup\n")
    (root / "tiny.cfg").write_text(TINY_CFG)


@pytest.mark.darknet
def test_real_training_log_parses_into_its_iterations(tmp_path, darknet_exe):
    _tiny_dataset(tmp_path)
    proc = subprocess.run(
        [str(darknet_exe), "detector", "train", "tiny.data", "tiny.cfg", "-dont_show", "-map"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-2000:]
    parser = LogParser()
    events = []
    for i in range(0, len(proc.stdout), 97):  # as a pipe would deliver it
        events += parser.feed(proc.stdout[i : i + 97])
    events += parser.flush()
    its = [e for e in events if isinstance(e, Iteration)]
    assert [i.iteration for i in its] == list(range(1, MAX_BATCHES + 1))
    assert all(i.images == 2 * i.iteration for i in its)
    assert its[3].rate == pytest.approx(0.0001)  # steps=4, scales=.1
    assert parser.max_batches == MAX_BATCHES
    # -map calculates once at max_batches; it is reported once, after the last iteration.
    maps = [e for e in events if isinstance(e, MapReport)]
    assert len(maps) == 1 and maps[0].iteration == MAX_BATCHES and 0 <= maps[0].map50 <= 1
    state = LogState()
    state.update(events)
    assert state.last.iteration == MAX_BATCHES and len(state.segments) == 1
