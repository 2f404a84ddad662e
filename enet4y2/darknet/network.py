"""`Network`: a darknet detector loaded through libdarknet.

Darknet ends the process on a bad file, so every input is checked in Python first (cfg
parses and validates, weights size fits the cfg, image array shape/dtype). The network
handle is freed in one place (an `ffi.gc` destructor that `close()` triggers early);
darknet's detections are copied into numpy and freed before a call returns. The input
buffer is allocated once per network and reused; the forward pass runs without the GIL.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from enet4y2.darknet import preprocess
from enet4y2.errors import DarknetError, ImageError, MissingFileError, WeightsError


class Detection(NamedTuple):
    class_id: int
    name: str | None
    confidence: float
    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True)
class Detections:
    """Detections of one image: numpy arrays for bulk use, iteration for convenience.

    `boxes` are [x, y, w, h] in pixels of the original image (top-left corner)."""

    classes: np.ndarray  # (N,) int32
    scores: np.ndarray  # (N,) float32
    boxes: np.ndarray  # (N, 4) float32
    objectness: np.ndarray  # (N,) float32
    names: tuple[str, ...] | None = None

    def __len__(self) -> int:
        return len(self.classes)

    def __iter__(self) -> Iterator[Detection]:
        for c, s, b in zip(self.classes.tolist(), self.scores.tolist(), self.boxes.tolist(),
                           strict=True):
            name = self.names[c] if self.names and c < len(self.names) else None
            yield Detection(c, name, s, *b)

    def to_dicts(self) -> list[dict]:
        return [d._asdict() for d in self]


def _names(names: str | os.PathLike | Sequence[str] | None) -> tuple[str, ...] | None:
    if names is None:
        return None
    if isinstance(names, (str, os.PathLike)):
        from enet4y2.datafile import read_names

        return tuple(read_names(names))
    return tuple(names)


def precheck(cfg_path: Path, weights_path: Path | None):
    """Everything darknet would exit() on, as Python exceptions. Returns the parsed cfg."""
    from enet4y2 import cfg as cfgmod
    from enet4y2 import weights as wmod

    if not cfg_path.is_file():
        raise MissingFileError(f"cfg not found: {cfg_path}")
    cfg = cfgmod.load_cfg(cfg_path)
    cfgmod.validate(cfg)
    if weights_path is not None:
        if not weights_path.is_file():
            raise MissingFileError(f"weights not found: {weights_path}")
        match = wmod.match_weights(weights_path, cfg)
        if match.kind != "full":
            hint = (f"they hold only the first {match.layers} layers (a backbone): train "
                    f"from them, or cut/choose the right file" if match.kind == "backbone"
                    else "they belong to another cfg")
            raise WeightsError(f"{weights_path} has {match.actual_size} bytes but {cfg_path} "
                               f"needs {match.expected_size}: {hint}")
    return cfg


@contextmanager
def _darknet_fp(lib):
    """Darknet's own float mode (flush denormals, as its -Ofast executable runs) for the
    duration of its calls; the caller's mode is restored after."""
    saved = lib.enet4y2_fp_fast()
    try:
        yield
    finally:
        lib.enet4y2_fp_restore(saved)


@contextmanager
def _captured_output(lib, sink: list[str], quiet: bool):
    """Route C-level stdout/stderr into `sink` while darknet loads (fd-level dup2)."""
    if not quiet:
        yield
        return
    with tempfile.TemporaryFile() as tmp:
        saved = [os.dup(1), os.dup(2)]
        try:
            lib.enet4y2_flush()
            os.dup2(tmp.fileno(), 1)
            os.dup2(tmp.fileno(), 2)
            yield
        finally:
            lib.enet4y2_flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
            tmp.seek(0)
            sink.append(tmp.read().decode(errors="replace"))


class Network:
    """A darknet network for detection.

    >>> with Network("cfg/enet4y2-coco.cfg", "enet4y2-coco_final.weights",
    ...              names="data/coco.names") as net:
    ...     dets = net.detect(cv2.imread("dog.jpg"))
    """

    def __init__(self, cfg: str | os.PathLike, weights: str | os.PathLike | None = None, *,
                 batch: int = 1, names=None, verbose: bool = False) -> None:
        from enet4y2.darknet._ffi import load

        if batch < 1:
            raise ValueError(f"batch must be >= 1, got {batch}")
        self.cfg_path = Path(cfg)
        self.weights_path = Path(weights) if weights is not None else None
        self._cfg = precheck(self.cfg_path, self.weights_path)
        self.names = _names(names)
        self._ffi, self._lib = ffi, lib = load()
        log: list[str] = []
        weights_arg = (str(self.weights_path).encode() if self.weights_path is not None
                       else ffi.NULL)
        with _captured_output(lib, log, quiet=not verbose), _darknet_fp(lib):
            raw = lib.load_network_custom(str(self.cfg_path).encode(), weights_arg, 0, batch)
        self.load_log = "".join(log)
        self._verbose = verbose
        self._first_forward = True
        if raw == ffi.NULL:
            raise DarknetError(f"darknet could not load {self.cfg_path}")
        self._net = ffi.gc(raw, lib.enet4y2_free_network)
        self.batch = raw.batch
        self.width, self.height, self.channels = raw.w, raw.h, raw.c
        last = raw.layers[raw.n - 1]
        self.classes = last.classes
        self._nms_kind = last.nms_kind
        self._beta_nms = last.beta_nms
        self.letterbox_default = bool(raw.letter_box)
        if self.names is not None and len(self.names) < self.classes:
            raise ValueError(f"{len(self.names)} names for {self.classes} classes")
        self._input = np.zeros((self.batch, self.channels, self.height, self.width), np.float32)
        self._input_ptr = ffi.cast("float *", ffi.from_buffer(self._input))
        self._image = ffi.new("image *", {"w": self.width, "h": self.height,
                                          "c": self.channels, "data": self._input_ptr})
        self._set_rows(1024)

    def _set_rows(self, capacity: int) -> None:
        self._rows = np.empty((capacity, 7), np.float32)
        self._rows_ptr = self._ffi.cast("float *", self._ffi.from_buffer(self._rows))

    # -- lifetime ----------------------------------------------------------------------
    def close(self) -> None:
        """Free the darknet network now (idempotent)."""
        net, self._net = getattr(self, "_net", None), None
        if net is not None:
            self._ffi.release(net)

    def __enter__(self) -> Network:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _handle(self):
        if self._net is None:
            raise ValueError("the network is closed")
        return self._net

    # -- inference ---------------------------------------------------------------------
    def predict_raw(self) -> None:
        """The bare forward pass over the prepared input buffer (benchmarks' limit)."""
        lib = self._lib
        with _captured_output(lib, [], quiet=self._first_forward and not self._verbose), \
                _darknet_fp(lib):
            lib.network_predict_ptr(self._handle(), self._input_ptr)
        self._first_forward = False

    @property
    def input_buffer(self) -> np.ndarray:
        """The (batch, c, h, w) float32 buffer darknet reads from."""
        return self._input

    def detect(self, image: np.ndarray, thresh: float = 0.25, hier: float = 0.5,
               nms: float = 0.45, letterbox: bool | None = None) -> Detections:
        """Detect objects in one BGR uint8 image (as cv2.imread returns it)."""
        return self.detect_batch([image], thresh, hier, nms, letterbox)[0]

    def detect_batch(self, images: Sequence[np.ndarray], thresh: float = 0.25,
                     hier: float = 0.5, nms: float = 0.45,
                     letterbox: bool | None = None) -> list[Detections]:
        """Detect in up to `batch` images with one forward pass."""
        if not 1 <= len(images) <= self.batch:
            raise ValueError(f"detect_batch takes 1..{self.batch} images, got {len(images)}")
        letterbox = self.letterbox_default if letterbox is None else letterbox
        for i, image in enumerate(images):
            try:
                preprocess.prepare(image, self._input[i], letterbox=letterbox)
            except ImageError as exc:
                if len(images) == 1:
                    raise
                raise ImageError(f"image {i}: {exc}") from None
        net, lib, ffi = self._handle(), self._lib, self._ffi
        n = len(images)
        with _darknet_fp(lib):
            with _captured_output(lib, [], quiet=self._first_forward and not self._verbose):
                # darknet prints its CPU features ("Used AVX") on the first forward pass
                pairs = lib.network_predict_batch(net, self._image[0], n, self.width,
                                                  self.height, thresh, hier, ffi.NULL, 1, 0)
            self._first_forward = False
            try:
                return [self._collect(pairs[i].dets, pairs[i].num, image, thresh, nms,
                                      letterbox) for i, image in enumerate(images)]
            finally:
                lib.free_batch_detections(pairs, n)

    def _collect(self, dets, num: int, image: np.ndarray, thresh: float, nms: float,
                 letterbox: bool) -> Detections:
        lib = self._lib
        if nms > 0:
            if self._nms_kind == lib.DEFAULT_NMS:
                lib.do_nms_sort(dets, num, self.classes, nms)
            else:
                lib.diounms_sort(dets, num, self.classes, nms, self._nms_kind, self._beta_nms)
        while True:
            cap = len(self._rows)
            n = lib.enet4y2_copy_detections(dets, num, self.classes, thresh, self._rows_ptr, cap)
            if n <= cap:
                break
            self._set_rows(n)
        rows = self._rows[:n]
        src_h, src_w = image.shape[:2]
        boxes = preprocess.boxes_to_pixels(rows[:, :4], src_w, src_h, self.width, self.height,
                                           letterbox)
        return Detections(rows[:, 4].astype(np.int32), rows[:, 5].copy(), boxes,
                          rows[:, 6].copy(), self.names)
