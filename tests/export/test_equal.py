"""The export computes what libdarknet computes: every raw [yolo] tensor (or a
classifier's last layer) within 1e-4 absolute of darknet's own forward pass on the same
input, with non-trivial weights (random batch-norm statistics), at batch 1 and 4."""

from __future__ import annotations

import numpy as np
import pytest

from enet4y2.darknet import Network, low
from enet4y2.export.api import export_onnx
from tests.export.conftest import EVERY_LAYER, SOFTMAX, inputs, run

pytestmark = pytest.mark.darknet

CASES = [
    ("cfg/enet4y2-coco.cfg", None, 1),       # as shipped, 416x416
    ("cfg/enet4y2-coco.cfg", 128, 4),
    ("cfg/enet-coco.cfg", 192, 1),
    ("cfg/enet-coco.cfg", 128, 4),
    (EVERY_LAYER, None, 1),
    (EVERY_LAYER, None, 4),
]


def _darknet_flat(net: Network, x: np.ndarray, index: int) -> np.ndarray:
    """A flat layer's output ([softmax]), which Network.forward does not shape."""
    net.forward(x, [])
    ffi, _ = low.load_extension()
    layer = net._handle().layers[index]
    out = np.frombuffer(ffi.buffer(layer.output, 4 * layer.batch * layer.outputs), np.float32)
    return out.reshape(layer.batch, layer.outputs)[:len(x)].copy()


@pytest.mark.parametrize(("cfg", "size", "batch"), CASES,
                         ids=[f"{str(c).rsplit('/', 1)[-1]}-{s or 'cfg'}-b{b}"
                              for c, s, b in CASES])
def test_raw_heads_equal_darknet(cfg, size, batch, model_files, ort, tmp_path):
    cfg_path, weights = model_files(cfg, size)
    summary = export_onnx(cfg_path, weights, tmp_path / "m.onnx", batch=batch)
    meta = summary.meta
    assert meta.heads and meta.batch == batch
    x = inputs(meta, batch)
    with Network(cfg_path, weights, batch=batch) as net:
        expected = net.forward(x, [h.layer for h in meta.heads])
    got = run(ort, tmp_path / "m.onnx", x)
    for head, want, have in zip(meta.heads, expected, got, strict=True):
        assert have.shape == want.shape
        assert np.isfinite(want).all() and want.std() > 0.05, "weights too tame to compare"
        diff = float(np.abs(have - want).max())
        assert diff <= 1e-4, f"{head.output}: {diff}"


@pytest.mark.parametrize("batch", [1, 4])
def test_grouped_softmax_equals_darknet(batch, model_files, ort, tmp_path):
    cfg_path, weights = model_files(SOFTMAX)
    summary = export_onnx(cfg_path, weights, tmp_path / "m.onnx", batch=batch)
    assert summary.meta.output_names == ("layer_2",) and not summary.meta.heads
    x = inputs(summary.meta, batch)
    with Network(cfg_path, weights, batch=batch) as net:
        want = _darknet_flat(net, x, 2)
    (have,) = run(ort, tmp_path / "m.onnx", x)
    assert have.shape == want.shape == (batch, 8)
    np.testing.assert_allclose(have.sum(axis=1), 2.0, atol=1e-5)   # two groups
    assert float(np.abs(have - want).max()) <= 1e-6


def test_efficientnet_b0_classifier_equals_darknet(reference_dir, model_files, ort, tmp_path):
    cfg_path, weights = model_files(reference_dir / "cfg" / "efficientnet_b0.cfg", 128)
    summary = export_onnx(cfg_path, weights, tmp_path / "m.onnx", batch=1)
    last = summary.meta.output_names[0]
    x = inputs(summary.meta, 1)
    with Network(cfg_path, weights, batch=1) as net:
        want = _darknet_flat(net, x, int(last.split("_")[1]))
    (have,) = run(ort, tmp_path / "m.onnx", x)
    assert have.shape == want.shape == (1, 1000)
    assert float(np.abs(have - want).max()) <= 1e-6


def test_unfused_batch_norm_and_dynamic_batch_equal_darknet(model_files, ort, tmp_path):
    cfg_path, weights = model_files(EVERY_LAYER)
    export_onnx(cfg_path, weights, tmp_path / "m.onnx", batch=None, fuse_bn=False)
    summary = export_onnx(cfg_path, weights, tmp_path / "fixed.onnx", batch=1)
    x = inputs(summary.meta, 3)
    with Network(cfg_path, weights, batch=3) as net:
        expected = net.forward(x, [h.layer for h in summary.meta.heads])
    for want, have in zip(expected, run(ort, tmp_path / "m.onnx", x), strict=True):
        assert float(np.abs(have - want).max()) <= 1e-4
