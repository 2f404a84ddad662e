"""The binding's smoke test: the compiled extension loads from the build it belongs to and
agrees with the C compiler on what it declares; the thin layer loads and frees a network."""

from __future__ import annotations

import platform

import numpy as np
import pytest

from enet4y2 import paths
from enet4y2.cfg import write_cfg
from enet4y2.darknet import _ffi, extension_path, low
from tests.tiny import tiny_cfg

pytestmark = pytest.mark.darknet


def test_extension_lives_beside_its_build_and_loads_once():
    path = extension_path()
    assert path is not None and paths.darknet_dir() in path.parents
    assert _ffi.load() is _ffi.load()


def test_declared_values_come_from_the_compiler():
    ffi, lib = _ffi.load()
    flush_bits = 0x8040 if platform.machine() in ("x86_64", "AMD64", "i686") else 0
    assert flush_bits == lib.ENET4Y2_FTZ_DAZ
    # partial structs: the compiler laid them out; the sizes are darknet.h's
    assert ffi.sizeof("box") == 16 and ffi.sizeof("image") == 24
    assert ffi.sizeof("detection") >= ffi.sizeof("box") + 4 + 8 + 4
    assert [lib.DEFAULT_NMS, lib.GREEDY_NMS, lib.DIOU_NMS] == [0, 1, 2]


def test_low_level_load_predict_release(tmp_path):
    cfg = tmp_path / "t.cfg"
    cfg.write_text(write_cfg(tiny_cfg()))
    log: list[str] = []
    net, info = low.load(cfg, None, batch=2, capture=log)
    assert (info.batch, info.width, info.height, info.channels, info.classes) == (2, 64, 64,
                                                                                 3, 2)
    assert "BFLOPS" in "".join(log)  # darknet's loading chatter was captured, not printed
    buffer = np.full((2, 3, 64, 64), 0.5, np.float32)
    low.predict(net, low.float_pointer(buffer), capture=[])
    low.release(net)


def test_forward_returns_layer_outputs_as_darknet_holds_them(tmp_path):
    from benchmarks.plausible_weights import write_plausible_weights
    from enet4y2.cfg import infer
    from enet4y2.darknet import Network

    cfg = tmp_path / "t.cfg"
    cfg.write_text(write_cfg(tiny_cfg()))
    weights = write_plausible_weights(tiny_cfg(), tmp_path / "t.weights")
    model = infer(tiny_cfg())
    yolo = [layer.index for layer in model.layers if layer.type == "yolo"]
    rng = np.random.default_rng(0)
    inputs = rng.random((2, 3, 64, 64), dtype=np.float32)
    with Network(cfg, weights, batch=2) as net:
        outs = net.forward(inputs, yolo)
        again = net.forward(inputs[1:], yolo)
        with pytest.raises(ValueError):
            net.forward(inputs[:, :2], yolo)
    for i, out in zip(yolo, outs, strict=True):
        layer = model.layers[i]
        assert out.shape == (2, layer.out_c, layer.out_h, layer.out_w)
        # the yolo layer's logistic on x, y, objectness and classes: within (0, 1)
        per_anchor = out.reshape(2, -1, 5 + 2, layer.out_h, layer.out_w)
        assert ((per_anchor[:, :, 4:] > 0) & (per_anchor[:, :, 4:] < 1)).all()
    for a, b in zip(outs, again, strict=True):
        np.testing.assert_array_equal(a[1:], b)  # one image alone gives the same output
