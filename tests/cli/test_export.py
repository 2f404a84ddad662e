"""`enet4y2 export`: a trained detector exported and checked against libdarknet on real
images, and every bad input refused with one line before anything is written."""

from __future__ import annotations

import json
import sys

import pytest

from enet4y2.cfg import load_cfg
from tests.export.randweights import write_random_weights

pytest.importorskip("onnxruntime")


def _images(tiny, count: int = 4) -> list[str]:
    return tiny.valid_list.read_text().split()[:count]


@pytest.mark.darknet
def test_export_check_json_tiny_detector(cli, tiny_detector, tmp_path):
    out = tmp_path / "tiny.onnx"
    result = cli.ok("export", "--cfg", tiny_detector.cfg, "--weights", tiny_detector.weights,
                    "--names", tiny_detector.names, "-o", out, "--batch", "2", "--json",
                    "--check", "--thresh", "0.01", *_images(tiny_detector))
    summary = json.loads(result.stdout)
    check = summary["check"]
    assert check["ok"] and check["raw_from"] == "model"
    assert all(d <= 1e-4 for d in check["heads"].values()) and len(check["heads"]) == 2
    found = [i["darknet"] for i in check["images"]]
    assert sum(found) > 10 and found == [i["export"] for i in check["images"]]
    meta = summary["metadata"]
    assert meta["batch"] == 2 and meta["names"] == tiny_detector.names.read_text().split()
    assert out.stat().st_size == summary["bytes"]


@pytest.mark.darknet
def test_export_boxes_dynamic_and_fp16_check(cli, tiny_detector, tmp_path):
    base = ["export", "--cfg", tiny_detector.cfg, "--weights", tiny_detector.weights,
            "--check", "--thresh", "0.01", *_images(tiny_detector, 3)]
    result = cli.ok(*base, "-o", tmp_path / "b.onnx", "--outputs", "boxes", "--dynamic-batch")
    assert "raw tensors (raw twin)" in result.stdout
    assert "outputs (boxes): boxes, objectness, scores" in result.stdout
    result = cli(*base, "-o", tmp_path / "h.onnx", "--fp16")
    assert result.exit_code == 0, result.output
    assert "float16: raw tensors within" in result.stdout


@pytest.fixture
def small(tmp_path):
    cfg = tmp_path / "small.cfg"
    cfg.write_text("[net]\nwidth=16\nheight=16\nchannels=3\n\n[convolutional]\nfilters=4\n"
                   "size=3\npad=1\nactivation=leaky\n")
    return cfg, write_random_weights(load_cfg(cfg), tmp_path / "small.weights")


def _fails(cli, code, *args):
    result = cli(*args)
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_bad_input_one_line_and_nothing_written(cli, small, tmp_path, monkeypatch):
    cfg, weights = small
    out = tmp_path / "m.onnx"
    base = ["export", "--cfg", cfg, "--weights", weights]
    bad = tmp_path / "bad.cfg"
    bad.write_text(cfg.read_text() + "\n[connected]\noutput=2\n")
    assert f"{bad}:12: layer type connected is not supported" in _fails(
        cli, 1, "export", "--cfg", bad, "--weights", weights, "-o", out)
    short = tmp_path / "short.weights"
    short.write_bytes(weights.read_bytes()[:-4])
    assert "bytes but" in _fails(cli, 1, "export", "--cfg", cfg, "--weights", short, "-o", out)
    assert "cannot write" in _fails(cli, 1, *base, "-o", weights / "m.onnx")
    assert "is the input" in _fails(cli, 1, *base, "-o", weights)
    assert "--check needs" in _fails(cli, 2, *base, "-o", out, "--check")
    assert "only read with --check" in _fails(cli, 2, *base, "-o", out, weights)
    assert "exclude each other" in _fails(cli, 2, *base, "-o", out, "--batch", "2",
                                          "--dynamic-batch")
    monkeypatch.setitem(sys.modules, "onnx", None)       # the extra not installed
    monkeypatch.delitem(sys.modules, "enet4y2.export.onnxlib", raising=False)
    assert "pip install 'enet4y2[onnx]'" in _fails(cli, 1, *base, "-o", out)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "bad.cfg", "short.weights", "small.cfg", "small.weights"]


def test_export_writes_a_model(cli, small, tmp_path):
    cfg, weights = small
    result = cli.ok("export", "--cfg", cfg, "--weights", weights, "-o", tmp_path / "m.onnx",
                    "--no-fuse-bn", "--opset", "18")
    assert "outputs (raw): layer_0" in result.stdout
    assert "opset 18" in result.stderr and (tmp_path / "m.onnx").stat().st_size > 0
