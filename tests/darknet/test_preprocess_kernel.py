"""The compiled preprocessing kernel equals the numpy path bit for bit (which in turn
equals darknet's own resize, tests/darknet/test_preprocess_exact.py)."""

from __future__ import annotations

import importlib.util
import shutil
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from enet4y2.darknet import _prep_builder, _prep_ffi, preprocess
from enet4y2.errors import NotBuiltError

needs_kernel = pytest.mark.skipif(
    _prep_ffi.load() is None,
    reason="preprocessing kernel not built (make darknet compiles it beside the binding)")


def _both(image: np.ndarray, h: int, w: int, letterbox: bool) -> tuple[np.ndarray, np.ndarray]:
    """(numpy, kernel) results, each written into a view of a wider buffer of NaNs (rows
    not adjacent), which must stay NaN around it."""
    results = []
    for fn in (preprocess.prepare_numpy, preprocess.prepare_compiled):
        buf = np.full((3, h + 2, w + 3), np.nan, np.float32)
        fn(image, buf[:, 1:h + 1, 2:w + 2], letterbox=letterbox)
        inside = buf[:, 1:h + 1, 2:w + 2].copy()
        buf[:, 1:h + 1, 2:w + 2] = np.nan
        assert np.isnan(buf).all()
        results.append(inside)
    return results[0], results[1]


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and np.array_equal(a.view(np.uint32), b.view(np.uint32))


side = st.one_of(st.just(1), st.just(2), st.integers(1, 40), st.integers(1, 900))
layouts = st.sampled_from(["contiguous", "flipped", "strided", "fortran"])


def _image(rng: np.random.Generator, h: int, w: int, kind: str, layout: str) -> np.ndarray:
    shape = {"bgr": (h, w, 3), "gray": (h, w), "gray1": (h, w, 1)}[kind]
    if layout == "strided":  # every other pixel of a bigger image
        big = rng.integers(0, 256, (2 * h, 2 * w, *shape[2:]), dtype=np.uint8)
        return big[::2, ::2]
    image = rng.integers(0, 256, shape, dtype=np.uint8)
    if layout == "flipped":
        return image[::-1, ::-1]
    if layout == "fortran":
        return np.asfortranarray(image)
    return image


@needs_kernel
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(src_h=side, src_w=side, h=side.filter(lambda v: v <= 640),
       w=side.filter(lambda v: v <= 640), letterbox=st.booleans(),
       kind=st.sampled_from(["bgr", "gray", "gray1"]), layout=layouts,
       seed=st.integers(0, 2**32 - 1))
def test_kernel_equals_numpy_bit_for_bit(src_h, src_w, h, w, letterbox, kind, layout, seed):
    image = _image(np.random.default_rng(seed), src_h, src_w, kind, layout)
    ours, kernel = _both(image, h, w, letterbox)
    assert _same_bits(ours, kernel)


@needs_kernel
@pytest.mark.parametrize(("src", "dst"), [((768, 576), (416, 416)), ((416, 416), (416, 416)),
                                          ((1, 1), (416, 416)), ((900, 700), (1, 1)),
                                          ((640, 1), (320, 320)), ((1, 480), (608, 608))])
@pytest.mark.parametrize("letterbox", [False, True])
def test_kernel_equals_numpy_on_typical_sizes(src, dst, letterbox):
    image = np.random.default_rng(sum(src)).integers(0, 256, (src[1], src[0], 3), np.uint8)
    assert _same_bits(*_both(image, dst[1], dst[0], letterbox))


@needs_kernel
def test_every_pixel_value_scales_as_darknet_does():
    image = np.arange(256 * 3, dtype=np.uint16).reshape(16, 16, 3).astype(np.uint8)
    _, kernel = _both(image, 16, 16, False)
    darknet = (image[:, :, ::-1].transpose(2, 0, 1).astype(np.float64) / 255.0)
    np.testing.assert_array_equal(kernel, darknet.astype(np.float32))


@needs_kernel
def test_prepare_uses_the_kernel_and_writes_only_its_output():
    image = np.random.default_rng(3).integers(0, 256, (57, 81, 3), np.uint8)
    buf = np.full((2, 3, 40, 50), np.nan, np.float32)
    preprocess.prepare(image, buf[1], letterbox=True)
    assert np.isnan(buf[0]).all() and not np.isnan(buf[1]).any()
    expected = np.empty((3, 40, 50), np.float32)
    preprocess.prepare_numpy(image, expected, letterbox=True)
    assert _same_bits(buf[1], expected)


@needs_kernel
def test_kernel_runs_in_threads():
    rng = np.random.default_rng(5)
    images = [rng.integers(0, 256, (rng.integers(1, 700), rng.integers(1, 900), 3), np.uint8)
              for _ in range(16)]

    def run(image):
        return _both(image, 96 + image.shape[0] % 50, 128, image.shape[1] % 2 == 0)

    with ThreadPoolExecutor(4) as pool:
        assert all(_same_bits(a, b) for a, b in pool.map(run, images))


def test_numpy_path_when_the_kernel_is_absent(monkeypatch):
    monkeypatch.setattr(_prep_ffi, "load", lambda: None)
    image = np.random.default_rng(1).integers(0, 256, (30, 20, 3), np.uint8)
    out, expected = np.empty((2, 3, 16, 16), np.float32)
    preprocess.prepare(image, out)
    preprocess.prepare_numpy(image, expected)
    assert _same_bits(out, expected)
    with pytest.raises(NotBuiltError, match="make darknet"):
        preprocess.prepare_compiled(image, out)


@pytest.mark.skipif(shutil.which("cc") is None and shutil.which("gcc") is None,
                    reason="no C compiler")
def test_compile_prep_builds_once_and_the_module_works(tmp_path):
    reports = []
    path = _prep_builder.compile_prep(tmp_path, report=reports.append)
    mtime = path.stat().st_mtime_ns
    assert _prep_builder.compile_prep(tmp_path, report=reports.append) == path
    assert path.stat().st_mtime_ns == mtime and len(reports) == 1  # up to date: kept
    spec = importlib.util.spec_from_file_location(_prep_builder.MODULE_NAME, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    image = np.random.default_rng(2).integers(0, 256, (9, 13, 3), np.uint8)
    out, expected = np.empty((2, 3, 7, 5), np.float32)
    preprocess._prepare_compiled((module.ffi, module.lib), image, out, False)
    preprocess.prepare_numpy(image, expected)
    assert _same_bits(out, expected)
