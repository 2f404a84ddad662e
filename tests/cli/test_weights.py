"""`enet4y2 weights info|cut`."""

from __future__ import annotations

import json
import struct

import numpy as np

from enet4y2.cfg import write_cfg
from enet4y2.cfg.builders import enet4y2_cfg
from enet4y2.weights.fit import expected_size


def setup(tmp_path):
    """A 3-class 2-head detector as the source and a 5-class 4-head one as the target:
    they share the backbone and the first head up to its class-dependent output conv."""
    src_cfg = tmp_path / "a.cfg"
    src_cfg.write_text(write_cfg(enet4y2_cfg(classes=3, heads=2)))
    target = tmp_path / "b.cfg"
    target.write_text(write_cfg(enet4y2_cfg(classes=5, heads=4)))
    floats = (expected_size(enet4y2_cfg(classes=3, heads=2)) - 20) // 4
    src = tmp_path / "a.weights"
    values = np.random.default_rng(0).standard_normal(floats).astype("<f4")
    src.write_bytes(struct.pack("<iiiQ", 0, 2, 5, 64000) + values.tobytes())
    return src_cfg, target, src, values


def test_help_has_examples(cli):
    for args in (["weights", "--help"], ["weights", "info", "--help"],
                 ["weights", "cut", "--help"]):
        assert "Examples:" in cli.ok(*args).output


def test_info(cli, tmp_path):
    src_cfg, target, src, _ = setup(tmp_path)
    out = cli.ok("weights", "info", str(src)).output
    assert "darknet 0.2.5, 64,000 images seen" in out
    out = cli.ok("weights", "info", str(src), "--cfg", str(src_cfg)).output
    assert "full model: all 146 layers" in out
    result = cli("weights", "info", str(src), "--cfg", str(target), "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["kind"] == "mismatch" and report["seen"] == 64000


def test_cut_for_target_then_info_says_backbone(cli, tmp_path):
    src_cfg, target, src, values = setup(tmp_path)
    result = cli.ok("weights", "cut", str(src), "--cfg", str(src_cfg), "--for", str(target),
                 "--json")
    report = json.loads(result.stdout)
    layers = report["layers"]
    assert layers == 135  # backbone + first head up to its 1x1 output conv (classes differ)
    out = tmp_path / f"a.conv.{layers}"
    assert report["output"] == str(out)
    data = out.read_bytes()
    assert data[:20] == struct.pack("<iiiQ", 0, 2, 5, 0)
    assert data[20:] == values[: (len(data) - 20) // 4].tobytes()
    info = json.loads(cli.ok("weights", "info", str(out), "--cfg", str(target), "--json").stdout)
    # the smallest layer count with exactly these floats: layer 134 (shortcut) has none
    assert (info["kind"], info["layers"]) == ("backbone", 134)


def test_cut_with_layers_and_output(cli, tmp_path):
    src_cfg, _, src, values = setup(tmp_path)
    out = tmp_path / "sub" / "x.conv.7"
    text = cli.ok("weights", "cut", str(src), "--cfg", str(src_cfg), "--layers", "7", "-o",
               str(out)).output
    assert f"wrote {out}: layers 0..6" in text
    assert out.stat().st_size == expected_size(enet4y2_cfg(classes=3, heads=2), 7)
    assert out.read_bytes()[20:] == values[: (out.stat().st_size - 20) // 4].tobytes()


def test_cut_user_errors(cli, tmp_path):
    src_cfg, target, src, _ = setup(tmp_path)
    cases = [
        (["weights", "cut", str(src), "--cfg", str(src_cfg)], "either --layers"),
        (["weights", "cut", str(src), "--cfg", str(src_cfg), "--layers", "999"], "0..146"),
        (["weights", "cut", str(src), "--cfg", str(target), "--layers", "160"], "need"),
        (["weights", "cut", str(tmp_path / "no.weights"), "--cfg", str(src_cfg),
          "--layers", "2"], "no such weights file"),
        (["weights", "info", str(src), "--cfg", str(tmp_path / "none.cfg")], "no such cfg"),
    ]
    for args, expect in cases:
        result = cli(*args)
        assert result.exit_code == 1, (args, result.output)
        assert expect in result.stderr, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1
