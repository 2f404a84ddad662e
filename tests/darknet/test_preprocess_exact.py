"""The preprocessing (numpy path and compiled kernel) equals darknet's own resize_image /
letterbox_image, bit for bit.

Darknet's functions are called from the real libdarknet.so through ctypes (test only; the
binding itself declares only what it calls)."""

from __future__ import annotations

import ctypes

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from enet4y2 import paths
from enet4y2.darknet import _prep_ffi, preprocess

pytestmark = pytest.mark.darknet


class Image(ctypes.Structure):
    _fields_ = [("w", ctypes.c_int), ("h", ctypes.c_int), ("c", ctypes.c_int),
                ("data", ctypes.POINTER(ctypes.c_float))]


@pytest.fixture(scope="module")
def libdn():
    lib = ctypes.CDLL(str(paths.libdarknet_path()))
    for name in ("resize_image", "letterbox_image"):
        fn = getattr(lib, name)
        fn.argtypes = [Image, ctypes.c_int, ctypes.c_int]
        fn.restype = Image
    lib.make_image.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
    lib.make_image.restype = Image
    lib.free_image.argtypes = [Image]
    return lib


@pytest.fixture(params=["prepare_numpy", "prepare_compiled"])
def prepare(request):
    """Each implementation of `preprocess.prepare`; the kernel only where it is built."""
    if request.param == "prepare_compiled" and _prep_ffi.load() is None:
        pytest.skip("preprocessing kernel not built (make darknet)")
    return getattr(preprocess, request.param)


def _darknet(lib, fn_name: str, bgr: np.ndarray, w: int, h: int) -> np.ndarray:
    # darknet's load_image: RGB planes of pixel/255. (double division, stored as float)
    chw = (bgr[:, :, ::-1].transpose(2, 0, 1).astype(np.float64) / 255.0).astype(np.float32)
    chw = np.ascontiguousarray(chw)
    im = Image(bgr.shape[1], bgr.shape[0], 3,
               chw.ctypes.data_as(ctypes.POINTER(ctypes.c_float)))
    out = getattr(lib, fn_name)(im, w, h)
    try:
        return np.ctypeslib.as_array(out.data, shape=(3, h, w)).copy()
    finally:
        lib.free_image(out)


@pytest.mark.parametrize("src_wh", [(768, 576), (100, 37), (33, 200), (416, 416), (5, 3)])
@pytest.mark.parametrize("net_wh", [(416, 416), (128, 96)])
def test_resize_is_bit_exact(libdn, prepare, src_wh, net_wh):
    rng = np.random.default_rng(sum(src_wh) + sum(net_wh))
    bgr = rng.integers(0, 256, (src_wh[1], src_wh[0], 3), dtype=np.uint8)
    out = np.empty((3, net_wh[1], net_wh[0]), np.float32)
    prepare(bgr, out, letterbox=False)
    expected = _darknet(libdn, "resize_image", bgr, *net_wh)
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("src_wh", [(768, 576), (100, 37), (33, 200)])
def test_letterbox_is_bit_exact(libdn, prepare, src_wh):
    rng = np.random.default_rng(7)
    bgr = rng.integers(0, 256, (src_wh[1], src_wh[0], 3), dtype=np.uint8)
    out = np.empty((3, 416, 416), np.float32)
    prepare(bgr, out, letterbox=True)
    expected = _darknet(libdn, "letterbox_image", bgr, 416, 416)
    np.testing.assert_array_equal(out, expected)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(src_w=st.integers(2, 900), src_h=st.integers(2, 700), w=st.integers(2, 640),
       h=st.integers(2, 640), letterbox=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_any_size_is_bit_exact(libdn, prepare, src_w, src_h, w, h, letterbox, seed):
    # Sides of 1 are left out: darknet divides by (side - 1) there, and resizes to nothing
    # where a letterboxed side rounds to 0 (we keep one pixel).
    assume(not letterbox or min(preprocess.letterbox_geometry(src_w, src_h, w, h)[:2]) > 1)
    bgr = np.random.default_rng(seed).integers(0, 256, (src_h, src_w, 3), dtype=np.uint8)
    out = np.empty((3, h, w), np.float32)
    prepare(bgr, out, letterbox=letterbox)
    expected = _darknet(libdn, "letterbox_image" if letterbox else "resize_image", bgr, w, h)
    np.testing.assert_array_equal(out, expected)
