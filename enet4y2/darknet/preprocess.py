"""Image → network input, exactly as darknet's `detector test` prepares it.

Darknet scales pixels by 1/255 (in double, stored as float), then resizes with its own
"align corners" bilinear `resize_image` (columns first, then rows, in float), or
letterboxes (resize keeping aspect, pad with 0.5). Doing the same arithmetic here means
the binding sees the very input the darknet executable sees; the result is written
straight into the caller's CHW float32 buffer.

Two implementations, equal bit for bit: a compiled kernel (`_prep_builder`, built by `make
darknet`, several times faster) when it is built, else the numpy code below, which is
also the reference the kernel is tested against.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from enet4y2 import paths
from enet4y2.darknet import _prep_ffi
from enet4y2.errors import ImageError, NotBuiltError

# Darknet: data = (float)pixel / 255. (double division rounded to float). For the 256
# possible pixels that equals float32 division by 255, checked in the tests.
_255 = np.float32(255)


@lru_cache(maxsize=64)
def _axis(src: int, dst: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Source indices (i0, i1) and weight of i1 for one axis of darknet's resize_image."""
    if dst == 1 or src == 1:
        i0 = np.full(dst, src - 1, np.intp)
        return i0, i0, np.zeros(dst, np.float32)
    scale = np.float32(src - 1) / np.float32(dst - 1)
    s = np.arange(dst, dtype=np.float32) * scale
    i0 = s.astype(np.intp)
    frac = (s - i0.astype(np.float32)).astype(np.float32)
    i0 = np.minimum(i0, src - 1)
    i1 = np.minimum(i0 + 1, src - 1)
    return i0, i1, frac


@lru_cache(maxsize=64)
def _columns(src: int, dst: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Columns: darknet takes the last source column as is (no interpolation)."""
    i0, i1, frac = (a.copy() for a in _axis(src, dst))
    i0[-1], i1[-1], frac[-1] = src - 1, src - 1, 0.0
    return i0, i1, frac


@lru_cache(maxsize=64)
def _rows(src: int, dst: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Rows: weights of both terms; darknet adds no second term for the last row."""
    i0, i1, frac = _axis(src, dst)
    second = frac.copy()
    second[-1] = 0.0
    return i0, i1, (np.float32(1) - frac).astype(np.float32), second


def check_image(image: np.ndarray) -> None:
    """A decoded BGR image as OpenCV gives it: HxWx3 uint8 (HxW grayscale is accepted)."""
    if not isinstance(image, np.ndarray):
        raise ImageError(f"expected a numpy array, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise ImageError(f"expected a uint8 image, got dtype {image.dtype}")
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (1, 3)):
        raise ImageError(f"expected an HxWx3 BGR image, got shape {image.shape}")
    if image.shape[0] < 1 or image.shape[1] < 1:
        raise ImageError(f"empty image (shape {image.shape})")


def _rgb_planes(image: np.ndarray) -> np.ndarray:
    """HxWx3 BGR (or HxW gray) uint8 -> contiguous 3xHxW RGB uint8."""
    if image.ndim == 2:
        image = image[:, :, None]
    if image.shape[2] == 1:
        image = np.repeat(image, 3, axis=2)
    return np.ascontiguousarray(image.transpose(2, 0, 1)[::-1])


def resize_into(planes: np.ndarray, out: np.ndarray) -> None:
    """darknet's resize_image of 3xHxW uint8 `planes`, written into the 3xhxw view `out`."""
    _, src_h, src_w = planes.shape
    _, h, w = out.shape
    if (src_w, src_h) == (w, h):
        np.divide(planes, _255, out=out, dtype=np.float32)
        return
    c0, c1, dx = _columns(src_w, w)
    r0, r1, first, second = _rows(src_h, h)
    part = planes[:, :, c0].astype(np.float32)
    part /= _255
    right = planes[:, :, c1].astype(np.float32)
    right /= _255
    part *= np.float32(1) - dx  # columns: (1 - dx) * p[ix] + dx * p[ix + 1]
    right *= dx
    part += right
    np.multiply(part[:, r0], first[None, :, None], out=out)  # rows: (1 - dy) * part[iy]
    lower = part[:, r1]
    lower *= second[None, :, None]  # ... + dy * part[iy + 1], except on the last row
    out += lower


def letterbox_geometry(src_w: int, src_h: int, w: int, h: int) -> tuple[int, int, int, int]:
    """(new_w, new_h, dx, dy) of darknet's letterbox_image (integer arithmetic as in C).
    An image so thin that a side would round to 0 keeps one pixel there (darknet would
    resize to nothing)."""
    if w / src_w < h / src_h:
        new_w, new_h = w, max(1, (src_h * w) // src_w)
    else:
        new_h, new_w = h, max(1, (src_w * h) // src_h)
    return new_w, new_h, (w - new_w) // 2, (h - new_h) // 2


def prepare(image: np.ndarray, out: np.ndarray, *, letterbox: bool = False) -> None:
    """Write `image` (HxWx3 BGR uint8) into `out` (3xhxw float32) as darknet would."""
    check_image(image)
    kernel = _prep_ffi.load()
    if kernel is not None and _kernel_can_write(out):
        _prepare_compiled(kernel, image, out, letterbox)
    else:
        _prepare_numpy(image, out, letterbox)


def prepare_numpy(image: np.ndarray, out: np.ndarray, *, letterbox: bool = False) -> None:
    """`prepare` by the numpy path, compiled kernel or not (the reference; benchmarks)."""
    check_image(image)
    _prepare_numpy(image, out, letterbox)


def prepare_compiled(image: np.ndarray, out: np.ndarray, *, letterbox: bool = False) -> None:
    """`prepare` by the compiled kernel; NotBuiltError when it is not built."""
    check_image(image)
    kernel = _prep_ffi.load()
    if kernel is None:
        raise NotBuiltError(f"the preprocessing kernel is not built in "
                            f"{paths.darknet_dir()}: run `make darknet`")
    if not _kernel_can_write(out):
        raise ImageError(f"the kernel writes a writable 3xhxw float32 array with "
                         f"contiguous rows, got {out.dtype} {out.shape} {out.strides}")
    _prepare_compiled(kernel, image, out, letterbox)


def _prepare_numpy(image: np.ndarray, out: np.ndarray, letterbox: bool) -> None:
    _, h, w = out.shape
    planes = _rgb_planes(image)
    if not letterbox:
        resize_into(planes, out)
        return
    _, src_h, src_w = planes.shape
    new_w, new_h, dx, dy = letterbox_geometry(src_w, src_h, w, h)
    out.fill(0.5)
    resize_into(planes, out[:, dy:dy + new_h, dx:dx + new_w])


def _kernel_can_write(out: np.ndarray) -> bool:
    """An output the kernel addresses: float32 3xhxw, rows contiguous, writable."""
    return (isinstance(out, np.ndarray) and out.dtype == np.float32 and out.ndim == 3
            and out.shape[0] == 3 and out.shape[1] > 0 and out.shape[2] > 0
            and out.strides[2] == 4 and out.strides[0] % 4 == 0 and out.strides[1] % 4 == 0
            and out.flags.writeable and out.flags.aligned)


def _prepare_compiled(kernel: tuple, image: np.ndarray, out: np.ndarray,
                      letterbox: bool) -> None:
    """The kernel reads the image in place through its strides (any layout, BGR or gray)
    and writes the planes through out's strides; the GIL is released during the call."""
    ffi, lib = kernel
    src_h, src_w = image.shape[:2]
    _, h, w = out.shape
    if letterbox:
        new_w, new_h, dx, dy = letterbox_geometry(src_w, src_h, w, h)
        out.fill(0.5)
        out = out[:, dy:dy + new_h, dx:dx + new_w]
        h, w = new_h, new_w
    stride_y, stride_x = image.strides[:2]
    if image.ndim == 3 and image.shape[2] == 3:
        step = image.strides[2]
        offsets = (2 * step, step, 0)  # R, G, B of a BGR pixel
    else:
        offsets = (0, 0, 0)  # gray: three equal planes
    status = lib.enet4y2_resize(ffi.cast("const uint8_t *", image.ctypes.data), src_h, src_w,
                                stride_y, stride_x, *offsets,
                                ffi.cast("float *", out.ctypes.data), h, w,
                                out.strides[0] // 4, out.strides[1] // 4)
    if status != 0:
        raise MemoryError("the preprocessing kernel could not allocate its rows")


def boxes_to_pixels(rel: np.ndarray, src_w: int, src_h: int, net_w: int, net_h: int,
                    letterbox: bool) -> np.ndarray:
    """Darknet boxes relative to the network input (cx, cy, w, h in 0..1) → top-left
    x, y, w, h in pixels of the original image (correct_yolo_boxes, then -ext_output)."""
    b = rel.astype(np.float32, copy=True)
    if letterbox:
        new_w, new_h, _, _ = letterbox_geometry(src_w, src_h, net_w, net_h)
        b[:, 0] = (b[:, 0] - (net_w - new_w) / 2.0 / net_w) / (new_w / net_w)
        b[:, 1] = (b[:, 1] - (net_h - new_h) / 2.0 / net_h) / (new_h / net_h)
        b[:, 2] *= net_w / new_w
        b[:, 3] *= net_h / new_h
    out = np.empty_like(b)
    out[:, 0] = (b[:, 0] - b[:, 2] / 2) * src_w
    out[:, 1] = (b[:, 1] - b[:, 3] / 2) * src_h
    out[:, 2] = b[:, 2] * src_w
    out[:, 3] = b[:, 3] * src_h
    return out
