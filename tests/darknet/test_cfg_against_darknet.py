"""Against real upstream darknet: it loads every generated cfg and prints our BFLOPs,
saves weights of exactly the expected size, and `darknet partial` equals `cut_weights`."""

from __future__ import annotations

import re
import struct
import subprocess

import numpy as np
import pytest

from enet4y2.cfg import infer, load_cfg, write_cfg
from enet4y2.cfg.builders import enet4y2_cfg, enet4y2_coco_cfg, enet_coco_cfg
from enet4y2.weights.fit import cut_weights, expected_size

pytestmark = pytest.mark.darknet

BFLOPS = re.compile(r"Total BFLOPS\s+([0-9.]+)")


def darknet_partial(exe, cfg_path, weights, out, layers, cwd):
    proc = subprocess.run([str(exe), "partial", str(cfg_path), str(weights), str(out),
                           str(layers)], cwd=cwd, capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return proc.stdout + proc.stderr


def header_only(path):
    path.write_bytes(struct.pack("<iiiQ", 0, 2, 5, 0))
    return path


BUILDS = {
    "enet4y2-coco": lambda: enet4y2_coco_cfg(),
    "enet-coco": lambda: enet_coco_cfg(),
    "heads3-c3-320": lambda: enet4y2_cfg(classes=3, heads=3, width=320, height=320),
    "heads2-c1-608": lambda: enet4y2_cfg(classes=1, heads=2, width=608, height=608),
    "heads4-c20-608x320": lambda: enet4y2_cfg(classes=20, width=608, height=320),
    "heads4-9anchors": lambda: enet4y2_cfg(
        classes=2, anchors=[(i * 9, i * 11) for i in range(1, 10)]),
}


@pytest.mark.parametrize("name", sorted(BUILDS))
def test_darknet_loads_generated_cfg_with_our_bflops_and_size(darknet_exe, tmp_path, name):
    cfg = BUILDS[name]()
    cfg_path = tmp_path / f"{name}.cfg"
    cfg_path.write_text(write_cfg(cfg))
    out = tmp_path / "saved.weights"
    log = darknet_partial(darknet_exe, cfg_path, header_only(tmp_path / "h.weights"), out,
                          100000, tmp_path)
    (printed,) = BFLOPS.findall(log)
    assert printed == f"{infer(cfg).total_bflops:.3f}"
    assert out.stat().st_size == expected_size(cfg)
    layer_lines = re.findall(r"^\s*(\d+) (conv|yolo|route|upsample|Shortcut|avg|scale|dropout)",
                             log, re.M)
    assert int(layer_lines[-1][0]) == len(cfg.layers) - 1


@pytest.mark.parametrize("name", ["enet4y2-coco", "efficientnet_b0"])
def test_reference_cfgs(darknet_exe, reference_dir, tmp_path, name):
    path = reference_dir / "cfg" / f"{name}.cfg"
    cfg = load_cfg(path)
    log = darknet_partial(darknet_exe, path, header_only(tmp_path / "h.weights"),
                          tmp_path / "o.weights", 100000, tmp_path)
    assert BFLOPS.findall(log) == [f"{infer(cfg).total_bflops:.3f}"]
    assert (tmp_path / "o.weights").stat().st_size == expected_size(cfg)


@pytest.mark.parametrize(("layers", "old_header"), [(132, False), (136, True), (7, False)])
def test_cut_equals_darknet_partial(darknet_exe, tmp_path, layers, old_header):
    cfg = enet4y2_cfg(classes=3, heads=3)
    cfg_path = tmp_path / "d.cfg"
    cfg_path.write_text(write_cfg(cfg))
    floats = (expected_size(cfg) - 20) // 4
    head = (struct.pack("<iiiI", 0, 1, 0, 999) if old_header
            else struct.pack("<iiiQ", 0, 2, 0, 123456))
    values = np.random.default_rng(layers).standard_normal(floats).astype("<f4")
    src = tmp_path / "src.weights"
    src.write_bytes(head + values.tobytes())
    darknet_partial(darknet_exe, cfg_path, src, tmp_path / "dn.out", layers, tmp_path)
    cut_weights(src, load_cfg(cfg_path), layers, tmp_path / "py.out")
    assert (tmp_path / "py.out").read_bytes() == (tmp_path / "dn.out").read_bytes()


def test_cut_classifier_backbone_equals_darknet_partial(darknet_exe, reference_dir, tmp_path):
    path = reference_dir / "cfg" / "efficientnet_b0.cfg"
    cfg = load_cfg(path)
    floats = (expected_size(cfg) - 20) // 4
    src = tmp_path / "enetb0.weights"
    src.write_bytes(struct.pack("<iiiQ", 0, 2, 0, 5)
                    + np.random.default_rng(0).random(floats, dtype=np.float32).tobytes())
    darknet_partial(darknet_exe, path, src, tmp_path / "dn.132", 132, tmp_path)
    cut_weights(src, cfg, 132, tmp_path / "py.132")
    assert (tmp_path / "py.132").read_bytes() == (tmp_path / "dn.132").read_bytes()
