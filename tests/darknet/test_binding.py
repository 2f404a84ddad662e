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
