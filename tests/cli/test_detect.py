"""`enet4y2 detect`: one-line errors without a model run, then text, JSON lines and
annotated copies from the tiny detector trained by real darknet."""

from __future__ import annotations

import json
import re
import struct

import cv2
import numpy as np
import pytest

from enet4y2 import cfg as cfgmod
from enet4y2.weights.fit import expected_size
from tests.tiny import tiny_cfg


@pytest.fixture
def small_model(tmp_path):
    """A cfg and a zero-filled weights file of exactly the size darknet would write."""
    cfg_path = tmp_path / "small.cfg"
    cfg_path.write_text(cfgmod.write_cfg(tiny_cfg()))
    weights = tmp_path / "small.weights"
    size = expected_size(cfgmod.load_cfg(cfg_path))
    weights.write_bytes(struct.pack("<iiiQ", 0, 2, 5, 0) + b"\0" * (size - 20))
    image = tmp_path / "img.png"
    cv2.imwrite(str(image), np.zeros((20, 30, 3), np.uint8))
    return cfg_path, weights, image


def test_help_has_examples(cli):
    result = cli.ok("detect", "--help")
    assert "Examples:" in result.output and "--out DIR" in result.output
    assert "--save-dir" not in result.output  # the old name still works, unlisted


def test_detect_missing_image_is_one_line(cli, small_model, tmp_path):
    cfg_path, weights, _ = small_model
    result = cli("detect", tmp_path / "none.jpg", "--cfg", cfg_path, "--weights", weights)
    assert result.exit_code == 1
    assert result.stderr.strip() == f"error: {tmp_path / 'none.jpg'}: no such image file"


def test_detect_missing_weights_is_one_line(cli, small_model, tmp_path):
    cfg_path, _, image = small_model
    result = cli("detect", image, "--cfg", cfg_path, "--weights", tmp_path / "none.weights")
    assert result.exit_code == 1 and "no such weights file" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_detect_without_a_build_names_make_darknet(cli, small_model, monkeypatch, tmp_path):
    monkeypatch.setenv("ENET4Y2_DARKNET_DIR", str(tmp_path / "no-darknet"))
    cfg_path, weights, image = small_model
    result = cli("detect", image, "--cfg", cfg_path, "--weights", weights)
    assert result.exit_code == 1 and "make darknet" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.darknet
def test_detect_text_json_and_out(cli, tiny_detector, tmp_path):
    images = [line for line in tiny_detector.valid_list.read_text().split()[:3]]
    base = ["--cfg", tiny_detector.cfg, "--weights", tiny_detector.weights,
            "--names", tiny_detector.names, "--thresh", "0.05"]
    text = cli.ok("detect", *images, *base)
    assert text.stdout.count("Predicted in") == 3
    det_lines = re.findall(r"^(square|disc): \d+%\t\(left_x: ", text.stdout, re.M)
    lines = cli.ok("detect", *images, *base, "--json", "--out", tmp_path / "out")
    records = [json.loads(line) for line in lines.stdout.splitlines()]
    assert [r["image"] for r in records] == images
    assert sum(len(r["detections"]) for r in records) == len(det_lines)
    for image in images:
        drawn = cv2.imread(str(tmp_path / "out" / image.rsplit("/", 1)[1]))
        assert drawn is not None and drawn.shape == cv2.imread(image).shape
    # --save-dir, the option's old name, is a hidden alias of --out
    cli.ok("detect", images[0], *base, "--save-dir", tmp_path / "old")
    assert (tmp_path / "old" / images[0].rsplit("/", 1)[1]).is_file()


@pytest.mark.darknet
def test_detect_non_image_file(cli, tiny_detector, tmp_path):
    bogus = tmp_path / "notes.jpg"
    bogus.write_text("not a jpeg")
    result = cli("detect", bogus, "--cfg", tiny_detector.cfg, "--weights",
                 tiny_detector.weights)
    assert result.exit_code == 1
    assert result.stderr.strip() == f"error: cannot decode {bogus} as an image"
