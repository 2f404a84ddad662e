"""Pure parts of the binding's preprocessing (the bit-exact comparison with darknet's own
resize is in tests/darknet/test_preprocess_exact.py)."""

from __future__ import annotations

import numpy as np
import pytest

from enet4y2.darknet import preprocess
from enet4y2.errors import ImageError


def test_float32_division_equals_darknets_double_division():
    pixels = np.arange(256)
    darknet = (pixels.astype(np.float64) / 255.0).astype(np.float32)
    ours = np.empty(256, np.float32)
    np.divide(pixels.astype(np.uint8), np.float32(255), out=ours, dtype=np.float32)
    np.testing.assert_array_equal(ours, darknet)


def _reference_resize(im: np.ndarray, w: int, h: int) -> np.ndarray:
    """darknet's resize_image, transcribed loop for loop (3xHxW float32)."""
    c, H, W = im.shape
    part = np.zeros((c, H, w), np.float32)
    w_scale = np.float32(W - 1) / np.float32(w - 1)
    h_scale = np.float32(H - 1) / np.float32(h - 1)
    for k in range(c):
        for r in range(H):
            for col in range(w):
                if col == w - 1 or W == 1:
                    val = im[k, r, W - 1]
                else:
                    sx = np.float32(col) * w_scale
                    ix = int(sx)
                    dx = np.float32(sx - np.float32(ix))
                    val = (np.float32(1) - dx) * im[k, r, ix] + dx * im[k, r, ix + 1]
                part[k, r, col] = val
    out = np.zeros((c, h, w), np.float32)
    for k in range(c):
        for r in range(h):
            sy = np.float32(r) * h_scale
            iy = int(sy)
            dy = np.float32(sy - np.float32(iy))
            out[k, r] = (np.float32(1) - dy) * part[k, iy]
            if r == h - 1 or H == 1:
                continue
            out[k, r] += dy * part[k, iy + 1]
    return out


@pytest.mark.parametrize(("src", "dst"),
                         [((13, 9), (8, 8)), ((5, 17), (12, 7)), ((9, 9), (20, 14))])
def test_resize_matches_darknets_loops(src, dst):
    rng = np.random.default_rng(1)
    img = rng.integers(0, 256, (src[1], src[0], 3), dtype=np.uint8)
    out = np.empty((3, dst[1], dst[0]), np.float32)
    preprocess.prepare(img, out)
    chw = (img[:, :, ::-1].transpose(2, 0, 1) / np.float32(255)).astype(np.float32)
    np.testing.assert_array_equal(out, _reference_resize(chw, *dst))


def test_letterbox_pads_with_half_and_keeps_aspect():
    img = np.full((50, 100, 3), 255, np.uint8)
    out = np.empty((3, 64, 64), np.float32)
    preprocess.prepare(img, out, letterbox=True)
    new_w, new_h, dx, dy = preprocess.letterbox_geometry(100, 50, 64, 64)
    assert (new_w, new_h, dx, dy) == (64, 32, 0, 16)
    assert np.all(out[:, :dy] == 0.5) and np.all(out[:, dy + new_h:] == 0.5)
    assert np.all(out[:, dy:dy + new_h] == 1.0)


@pytest.mark.parametrize("letterbox", [False, True])
def test_boxes_back_to_pixels_inverts_the_input_mapping(letterbox):
    # A box covering pixels [20, 60) x [10, 30) of a 100x50 image, as darknet reports it
    # relative to the network input.
    W, H, nw, nh = 100, 50, 64, 64
    x0, y0, bw, bh = 20, 10, 40, 20
    if letterbox:
        new_w, _, dx, dy = preprocess.letterbox_geometry(W, H, nw, nh)
        s = new_w / W
        rel = [[(dx + (x0 + bw / 2) * s) / nw, (dy + (y0 + bh / 2) * s) / nh,
                bw * s / nw, bh * s / nh]]
    else:
        rel = [[(x0 + bw / 2) / W, (y0 + bh / 2) / H, bw / W, bh / H]]
    px = preprocess.boxes_to_pixels(np.array(rel, np.float32), W, H, nw, nh, letterbox)
    np.testing.assert_allclose(px[0], [x0, y0, bw, bh], atol=1e-3)


@pytest.mark.parametrize(("array", "message"), [
    (np.zeros((4, 4, 3), np.float64), "uint8"),
    (np.zeros((4, 4, 2), np.uint8), "HxWx3"),
    (np.zeros((4,), np.uint8), "HxWx3"),
    (np.zeros((0, 4, 3), np.uint8), "empty"),
    ([[1, 2]], "numpy array"),
])
def test_bad_arrays_are_image_errors(array, message):
    with pytest.raises(ImageError, match=message):
        preprocess.check_image(array)


def test_grayscale_is_accepted_as_three_equal_planes():
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4)
    out = np.empty((3, 3, 4), np.float32)
    preprocess.prepare(gray, out)
    np.testing.assert_array_equal(out[0], out[2])
    np.testing.assert_array_equal(out[0], gray / np.float32(255))


def test_letterbox_of_a_one_pixel_wide_image_keeps_a_pixel():
    thin = np.full((20000, 1, 3), 200, np.uint8)
    out = np.empty((3, 64, 64), np.float32)
    preprocess.prepare(thin, out, letterbox=True)
    assert preprocess.letterbox_geometry(1, 20000, 64, 64) == (1, 64, 31, 0)
    assert np.isclose(out[:, :, 31], 200 / 255).all() and (out[:, :, 30] == 0.5).all()
    boxes = preprocess.boxes_to_pixels(np.array([[0.5, 0.5, 0.1, 0.1]], np.float32), 1,
                                       20000, 64, 64, letterbox=True)
    assert np.isfinite(boxes).all()
