"""What training starts from: detector weights, a cut backbone, classifier weights cut
once and cached, or nothing."""

from __future__ import annotations

import struct

import pytest

from enet4y2.cfg import infer
from enet4y2.cfg.builders import classifier_cfg
from enet4y2.errors import MissingFileError, WeightsError
from enet4y2.train.start import select_weights
from enet4y2.weights.fit import classifier_classes
from tests.tiny import tiny_cfg


def _weights(path, floats: int, seen: int = 0):
    path.write_bytes(struct.pack("<iiiQ", 0, 2, 5, seen) + bytes(4 * floats))
    return path


def test_select_weights(tmp_path):
    detector = tiny_cfg(10)
    model = infer(detector)
    choice = select_weights(None, detector, tmp_path)
    assert choice.kind == "scratch" and choice.path is None and "scratch" in choice.note
    full = _weights(tmp_path / "det.weights", model.param_count)
    assert select_weights(full, detector, tmp_path).path == full
    part = _weights(tmp_path / "b.conv.132", model.weights_floats(132))
    choice = select_weights(part, detector, tmp_path)
    assert (choice.kind, choice.path) == ("backbone", part)
    with pytest.raises(WeightsError, match="fit neither"):
        select_weights(_weights(tmp_path / "odd.weights", 12345), detector, tmp_path)
    with pytest.raises(MissingFileError):
        select_weights(tmp_path / "nope.weights", detector, tmp_path)


def test_classifier_weights_are_cut_once_and_cached(tmp_path):
    detector = tiny_cfg(10)
    classifier = classifier_cfg(1000)
    assert classifier_classes(infer(classifier).param_count) == 1000
    assert classifier_classes(infer(classifier).param_count + 1) is None
    src = _weights(tmp_path / "enetb0_final.weights", infer(classifier).param_count, seen=99)
    backup = tmp_path / "backup"
    choice = select_weights(src, detector, backup)
    assert choice.kind == "classifier" and choice.cut_from == src
    assert choice.path == backup / "enetb0_final.conv.132"
    assert choice.path.stat().st_size == 20 + 4 * infer(detector).weights_floats(132)
    stamp = choice.path.stat().st_mtime_ns
    again = select_weights(src, detector, backup)
    assert again.path == choice.path and "cached" in again.note
    assert choice.path.stat().st_mtime_ns == stamp
    choice.path.write_bytes(b"truncated")  # a broken cache is redone
    assert select_weights(src, detector, backup).path.stat().st_size > 100
