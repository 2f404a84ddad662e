"""Weights files against cfgs: header, full/backbone/mismatch, cut, shared layers."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from enet4y2.cfg import infer, load_cfg, parse_cfg
from enet4y2.cfg.builders import enet4y2_cfg, enet4y2_coco_cfg, enet_coco_cfg
from enet4y2.errors import MissingFileError, WeightsError
from enet4y2.weights.fit import (
    cut_weights,
    expected_size,
    match_weights,
    read_header,
    shared_layers,
)
from enet4y2.weights.format import parse_header

SMALL = parse_cfg(
    "[net]\nwidth=8\nheight=8\nchannels=2\n"
    "[convolutional]\nfilters=3\nsize=3\npad=1\nbatch_normalize=1\n"   # 3+9+2*3*9 = 66
    "[maxpool]\nsize=2\nstride=2\n"
    "[convolutional]\nfilters=4\nsize=1\n",                            # 4+3*4 = 16
    "small.cfg",
)


def write_weights(path, floats, header=(0, 2, 5), seen=0):
    major, minor, revision = header
    seen_fmt = "<Q" if major * 10 + minor >= 2 else "<I"
    data = struct.pack("<iii", major, minor, revision) + struct.pack(seen_fmt, seen)
    path.write_bytes(data + np.asarray(floats, dtype="<f4").tobytes())
    return path


def test_headers(tmp_path):
    new = read_header(write_weights(tmp_path / "a.weights", [], (0, 2, 5), seen=2**40))
    assert (new.major, new.minor, new.revision, new.seen, new.header_size) == (
        0, 2, 5, 2**40, 20)
    assert new.version == "0.2.5"
    old = read_header(write_weights(tmp_path / "b.weights", [], (0, 1, 0), seen=77))
    assert (old.seen, old.header_size) == (77, 16)
    with pytest.raises(WeightsError, match="too short"):
        parse_header(b"\x00" * 8)
    with pytest.raises(WeightsError, match="truncated header"):
        parse_header(struct.pack("<iii", 0, 2, 0) + b"\x00\x00")
    with pytest.raises(MissingFileError, match="no such weights file"):
        read_header(tmp_path / "absent.weights")


def test_match_full_backbone_mismatch(tmp_path):
    full = write_weights(tmp_path / "f.weights", np.arange(82))
    m = match_weights(full, SMALL)
    assert (m.kind, m.layers, m.expected_size, m.actual_size) == ("full", 3, 20 + 328, 348)
    part = write_weights(tmp_path / "p.weights", np.arange(66))
    m = match_weights(part, SMALL)
    assert (m.kind, m.layers) == ("backbone", 1)
    odd = write_weights(tmp_path / "o.weights", np.arange(70))
    m = match_weights(odd, SMALL)
    assert (m.kind, m.layers) == ("mismatch", 2)
    old = write_weights(tmp_path / "old.weights", np.arange(82), header=(0, 1, 0))
    assert match_weights(old, SMALL).kind == "full"
    assert match_weights(old, SMALL).expected_size == 16 + 328


def test_cut_takes_the_first_layers_and_writes_darknets_header(tmp_path):
    values = np.random.default_rng(0).standard_normal(82).astype("<f4")
    src = write_weights(tmp_path / "s.weights", values, header=(0, 1, 0), seen=1234)
    out = cut_weights(src, SMALL, 2, tmp_path / "out" / "s.conv.2")
    data = out.read_bytes()
    assert data[:20] == struct.pack("<iiiQ", 0, 2, 5, 0)
    assert data[20:] == values[:66].tobytes()
    assert len(data) == expected_size(SMALL, 2)
    assert [p.name for p in out.parent.iterdir()] == ["s.conv.2"]  # no temp files left


def test_cut_transposes_flipped_convolutions_like_darknet(tmp_path):
    cfg = parse_cfg("[net]\nwidth=4\nheight=4\nchannels=2\n"
                    "[convolutional]\nfilters=3\nsize=1\nflipped=1\n")
    values = np.arange(3 + 6, dtype="<f4")
    src = write_weights(tmp_path / "s.weights", values)
    data = cut_weights(src, cfg, 1, tmp_path / "o").read_bytes()
    got = np.frombuffer(data[20:], dtype="<f4")
    assert got[:3].tolist() == [0, 1, 2]
    # darknet loads the 2x3 (rows=c*size*size, cols=n) block and transposes it
    assert got[3:].tolist() == [3, 6, 4, 7, 5, 8]


def test_cut_refuses_short_sources_and_bad_counts(tmp_path):
    src = write_weights(tmp_path / "s.weights", np.arange(50))
    with pytest.raises(WeightsError, match="need 284"):
        cut_weights(src, SMALL, 1, tmp_path / "o")
    with pytest.raises(WeightsError, match="has 3 layers"):
        cut_weights(src, SMALL, 4, tmp_path / "o")
    assert not (tmp_path / "o").exists()
    frozen = parse_cfg("[net]\nwidth=4\nheight=4\nchannels=1\n"
                       "[convolutional]\nfilters=1\ndontload=1\n", "z.cfg")
    with pytest.raises(WeightsError, match=r"z\.cfg:7: dontload=1"):
        cut_weights(src, frozen, 1, tmp_path / "o")


def test_shared_layers_between_builders():
    assert shared_layers(enet4y2_coco_cfg(), enet_coco_cfg()) == 145
    assert shared_layers(enet4y2_cfg(classes=3), enet4y2_coco_cfg()) == 135
    assert shared_layers(enet4y2_coco_cfg(), enet4y2_coco_cfg(width=608)) == 164


def test_shared_layers_classifier_vs_detector(reference_dir):
    b0 = load_cfg(reference_dir / "cfg" / "efficientnet_b0.cfg")
    detector = enet4y2_coco_cfg()
    assert shared_layers(b0, detector) == 132 == shared_layers(detector, b0)
    assert infer(b0).weights_floats(132) == infer(detector).weights_floats(132)


def test_a_file_that_is_not_darknet_weights_says_so(tmp_path):
    for data in (b"<html><body>404</body></html>" + bytes(40), b"\xff" * 64):
        junk = tmp_path / "junk.weights"
        junk.write_bytes(data)
        with pytest.raises(WeightsError, match="not darknet weights"):
            read_header(junk)
