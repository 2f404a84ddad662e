"""`enet4y2 detect` and `enet4y2 doctor` through click."""

from __future__ import annotations

import json
import re
import struct

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from enet4y2 import cfg as cfgmod
from enet4y2.build import record as build_record
from enet4y2.cli import main
from enet4y2.weights.fit import expected_size
from tests.tiny import tiny_cfg


def run(args, **kw):
    return CliRunner().invoke(main, args, **kw)


@pytest.fixture
def no_build(tmp_path, monkeypatch):
    monkeypatch.setenv("ENET4Y2_DARKNET_DIR", str(tmp_path / "no-darknet"))


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


def test_detect_missing_image_is_one_line(small_model, tmp_path):
    cfg_path, weights, _ = small_model
    result = run(["detect", str(tmp_path / "none.jpg"), "--cfg", str(cfg_path), "--weights",
                  str(weights)])
    assert result.exit_code == 1
    assert result.stderr.strip() == f"error: {tmp_path / 'none.jpg'}: no such image file"


def test_detect_missing_weights_is_one_line(small_model, tmp_path):
    cfg_path, _, image = small_model
    result = run(["detect", str(image), "--cfg", str(cfg_path), "--weights",
                  str(tmp_path / "none.weights")])
    assert result.exit_code == 1 and "no such weights file" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_detect_without_a_build_names_make_darknet(small_model, no_build):
    cfg_path, weights, image = small_model
    result = run(["detect", str(image), "--cfg", str(cfg_path), "--weights", str(weights)])
    assert result.exit_code == 1 and "make darknet" in result.stderr
    assert "Traceback" not in result.output


def test_doctor_without_a_build(no_build):
    result = run(["doctor", "--json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False and report["libdarknet"] is None
    assert any("make darknet" in p for p in report["problems"])
    assert report["python_deps"]["numpy"] == np.__version__


@pytest.mark.darknet
def test_doctor_with_the_build():
    result = run(["doctor", "--json"], catch_exceptions=False)
    report = json.loads(result.stdout)
    assert report["build"] == build_record.read()
    assert report["binding"].startswith("ok")
    result = run(["doctor"], catch_exceptions=False)
    assert "build flags" in result.stdout and report["build"]["commit"][:12] in result.stdout


@pytest.mark.darknet
def test_detect_text_json_and_out(tiny_detector, tmp_path):
    images = [line for line in tiny_detector.valid_list.read_text().split()[:3]]
    base = ["--cfg", str(tiny_detector.cfg), "--weights", str(tiny_detector.weights),
            "--names", str(tiny_detector.names), "--thresh", "0.05"]
    text = run(["detect", *images, *base], catch_exceptions=False)
    assert text.exit_code == 0, text.output
    assert text.stdout.count("Predicted in") == 3
    det_lines = re.findall(r"^(square|disc): \d+%\t\(left_x: ", text.stdout, re.M)
    lines = run(["detect", *images, *base, "--json", "--out", str(tmp_path / "out")],
                catch_exceptions=False)
    records = [json.loads(line) for line in lines.stdout.splitlines()]
    assert [r["image"] for r in records] == images
    assert sum(len(r["detections"]) for r in records) == len(det_lines)
    for image in images:
        drawn = cv2.imread(str(tmp_path / "out" / image.rsplit("/", 1)[1]))
        assert drawn is not None and drawn.shape == cv2.imread(image).shape
    # --save-dir, the option's old name, is a hidden alias of --out
    run(["detect", images[0], *base, "--save-dir", str(tmp_path / "old")],
        catch_exceptions=False)
    assert (tmp_path / "old" / images[0].rsplit("/", 1)[1]).is_file()


@pytest.mark.darknet
def test_detect_non_image_file(tiny_detector, tmp_path):
    bogus = tmp_path / "notes.jpg"
    bogus.write_text("not a jpeg")
    result = run(["detect", str(bogus), "--cfg", str(tiny_detector.cfg), "--weights",
                  str(tiny_detector.weights)])
    assert result.exit_code == 1
    assert result.stderr.strip() == f"error: cannot decode {bogus} as an image"
