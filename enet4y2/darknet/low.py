"""The thin layer over libdarknet: one function per darknet call the binding makes. Only
this module (and `_ffi`, which loads the extension) touches `ffi` and `lib`; every call
runs in darknet's own float mode, and the C output of a call can be captured.

Handles: `load` returns the network pointer with its destructor attached (`ffi.gc`), so it
is freed exactly once: by `release` or by garbage collection.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from enet4y2 import fdio
from enet4y2.darknet._ffi import load as load_extension
from enet4y2.errors import DarknetError


@dataclass(frozen=True)
class NetInfo:
    """What the binding needs to know of a loaded network."""

    batch: int
    width: int
    height: int
    channels: int
    classes: int  # of the last layer
    nms_kind: int
    beta_nms: float
    letter_box: bool


@contextmanager
def darknet_mode(lib, capture: list[str] | None = None) -> Iterator[None]:
    """Darknet's float mode (flush denormals, as its -Ofast executable runs) for a call,
    the caller's mode restored after; with `capture`, its C output collected there."""
    saved = lib.enet4y2_fp_fast()
    try:
        if capture is None:
            yield
        else:
            with fdio.captured(capture, flush=lib.enet4y2_flush):
                yield
    finally:
        lib.enet4y2_fp_restore(saved)


def load(cfg: Path, weights: Path | None, batch: int,
         capture: list[str] | None = None) -> tuple[object, NetInfo]:
    """`load_network_custom`: the network handle (freed by `release` or the GC) and its
    facts. The inputs must have been checked: darknet exits on bad files."""
    ffi, lib = load_extension()
    weights_arg = str(weights).encode() if weights is not None else ffi.NULL
    with darknet_mode(lib, capture):
        raw = lib.load_network_custom(str(cfg).encode(), weights_arg, 0, batch)
    if raw == ffi.NULL:
        raise DarknetError(f"darknet could not load {cfg}")
    net = ffi.gc(raw, lib.enet4y2_free_network)
    last = raw.layers[raw.n - 1]
    info = NetInfo(raw.batch, raw.w, raw.h, raw.c, last.classes, last.nms_kind,
                   last.beta_nms, bool(raw.letter_box))
    return net, info


def release(net) -> None:
    """Free the network now (its destructor runs once, here instead of in the GC)."""
    ffi, _ = load_extension()
    ffi.release(net)


def float_pointer(array: np.ndarray):
    """A `float *` into a C-contiguous float32 array (kept alive by the caller)."""
    ffi, _ = load_extension()
    return ffi.cast("float *", ffi.from_buffer(array))


def image_struct(width: int, height: int, channels: int, data_ptr):
    """A darknet `image` over an existing float buffer (no copy)."""
    ffi, _ = load_extension()
    return ffi.new("image *", {"w": width, "h": height, "c": channels, "data": data_ptr})


def predict(net, input_ptr, capture: list[str] | None = None) -> None:
    """`network_predict_ptr` over the prepared input."""
    _, lib = load_extension()
    with darknet_mode(lib, capture):
        lib.network_predict_ptr(net, input_ptr)


def layer_output(net, index: int) -> np.ndarray:
    """A copy of layer `index`'s output after the last forward pass, shaped
    (batch, out_c, out_h, out_w) as darknet holds it (a yolo layer: after its activations);
    a layer whose output is not c*h*w (e.g. [softmax]) comes flat, (batch, outputs)."""
    ffi, _ = load_extension()
    if not 0 <= index < net.n:
        raise IndexError(f"layer {index} out of range 0..{net.n - 1}")
    layer = net.layers[index]
    if layer.output == ffi.NULL:
        raise DarknetError(f"layer {index} holds no output")
    count = layer.batch * layer.outputs
    flat = np.frombuffer(ffi.buffer(layer.output, 4 * count), np.float32).copy()
    if layer.outputs != layer.out_c * layer.out_h * layer.out_w:
        return flat.reshape(layer.batch, layer.outputs)
    return flat.reshape(layer.batch, layer.out_c, layer.out_h, layer.out_w)


def predict_detections(net, image, count: int, info: NetInfo, thresh: float, hier: float,
                       nms: float, rows: np.ndarray, capture: list[str] | None = None
                       ) -> tuple[list[np.ndarray], np.ndarray]:
    """One forward pass over `count` prepared images (`network_predict_batch`), darknet's
    NMS of the cfg's kind, then every (box, class) above `thresh` copied out as rows
    `x, y, w, h, class, prob, objectness` (box relative to the network input). `rows` is
    scratch space; a grown one comes back with the results. Darknet's detections are
    freed here."""
    ffi, lib = load_extension()
    with darknet_mode(lib, capture):
        pairs = lib.network_predict_batch(net, image[0], count, info.width, info.height,
                                          thresh, hier, ffi.NULL, 1, 0)
    try:
        out = []
        with darknet_mode(lib):
            for i in range(count):
                dets, num = pairs[i].dets, pairs[i].num
                if nms > 0:
                    if info.nms_kind == lib.DEFAULT_NMS:
                        lib.do_nms_sort(dets, num, info.classes, nms)
                    else:
                        lib.diounms_sort(dets, num, info.classes, nms, info.nms_kind,
                                         info.beta_nms)
                while True:
                    n = lib.enet4y2_copy_detections(dets, num, info.classes, thresh,
                                                    float_pointer(rows), len(rows))
                    if n <= len(rows):
                        break
                    rows = np.empty((n, 7), np.float32)
                out.append(rows[:n].copy())
        return out, rows
    finally:
        lib.free_batch_detections(pairs, count)
