"""Where libdarknet's CPU build computes something other than darknet means, the export
follows darknet's GPU kernels and its training path (what the weights were learnt with).
These tests pin both CPU deviations down as darknet's own, so a fix upstream shows here:

- [convolutional] activation=relu6: src/activations.c `activate()` has no RELU6 case, so
  the CPU forward pass outputs 0 everywhere (the CUDA kernel clips to 0..6).
- [maxpool] stride=1, size >= 3: src/gemm.c forward_maxpool_layer_avx checks only the
  first column of each block of 8 outputs, so outputs 0..7 of every row lose their left
  tap(s) when the row is at least 8+size wide (the generic loop and CUDA do not)."""

from __future__ import annotations

import numpy as np
import pytest

from enet4y2.cfg import load_cfg
from enet4y2.darknet import Network
from enet4y2.export.api import export_onnx
from tests.export.conftest import inputs, run
from tests.export.randweights import write_random_weights

pytestmark = pytest.mark.darknet

HEAD = "[net]\nwidth={w}\nheight=8\nchannels=3\n\n[convolutional]\nfilters=4\nsize=1\n"


def _both(tmp_path, ort, text: str):
    cfg = tmp_path / "q.cfg"
    cfg.write_text(text)
    weights = write_random_weights(load_cfg(cfg), tmp_path / "q.weights")
    summary = export_onnx(cfg, weights, tmp_path / "q.onnx")
    assert len(summary.cpu_differs) == 1 and summary.cpu_differs[0].startswith(f"{cfg}:")
    x = inputs(summary.meta, 1) * 24 - 12
    with Network(cfg, weights) as net:
        darknet = net.forward(x, [0, 1])
    return darknet, run(ort, tmp_path / "q.onnx", x)[0]


def test_relu6_is_zero_on_darknets_cpu(tmp_path, ort):
    (_linear, relu6), export = _both(
        tmp_path, ort, HEAD.format(w=8) + "activation=linear\n\n[convolutional]\nfilters=4\n"
        "size=1\nactivation=relu6\n")
    assert (relu6 == 0).all()
    assert export.max() > 0 and export.max() <= 6


def test_stride1_maxpool_avx_drops_left_taps(tmp_path, ort):
    (before, darknet), export = _both(
        tmp_path, ort, HEAD.format(w=16) + "activation=linear\n\n[maxpool]\nsize=3\nstride=1\n")
    padded = np.pad(before, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=-np.inf)
    windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(2, 3))
    assert np.array_equal(export, windows.max(axis=(-1, -2)))     # the 3x3 max
    differs = np.nonzero((darknet != export).any(axis=(0, 1, 2)))[0]
    assert len(differs) and differs.max() < 8                     # only in columns 0..7
