"""`Network`: a darknet detector loaded through libdarknet, composed of the thin calls in
`enet4y2.darknet.low`.

Darknet ends the process on a bad file, so every input is checked in Python first
(`precheck`: cfg parses and validates, weights size fits the cfg; image array
shape/dtype): the one place where darknet's failures become Python exceptions. The handle
is freed once (`close()` or the GC); darknet's detections are copied into numpy and freed
before a call returns. The input buffer is allocated once per network and reused; the
forward pass runs without the GIL; a lock makes concurrent calls take turns.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from enet4y2.cfg import load_cfg, validate
from enet4y2.darknet import low, preprocess
from enet4y2.data.files import read_names
from enet4y2.errors import DataError, ImageError, MissingFileError, WeightsError
from enet4y2.weights.fit import match_weights


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
        return tuple(read_names(names))
    return tuple(names)


def precheck(cfg_path: Path, weights_path: Path | None):
    """Everything darknet would exit() on, as Python exceptions. Returns the parsed cfg."""
    if not cfg_path.is_file():
        raise MissingFileError(f"cfg not found: {cfg_path}")
    cfg = load_cfg(cfg_path)
    validate(cfg)
    if weights_path is not None:
        if not weights_path.is_file():
            raise MissingFileError(f"weights not found: {weights_path}")
        match = match_weights(weights_path, cfg)
        if match.kind != "full":
            hint = (f"they hold only the first {match.layers} layers (a backbone): train "
                    f"from them, or cut/choose the right file" if match.kind == "backbone"
                    else "they belong to another cfg")
            raise WeightsError(f"{weights_path} has {match.actual_size} bytes but {cfg_path} "
                               f"needs {match.expected_size}: {hint}")
    return cfg


class Network:
    """A darknet network for detection.

    >>> with Network("cfg/enet4y2-coco.cfg", "enet4y2-coco_final.weights",
    ...              names="data/coco.names") as net:
    ...     dets = net.detect(cv2.imread("dog.jpg"))
    """

    def __init__(self, cfg: str | os.PathLike, weights: str | os.PathLike | None = None, *,
                 batch: int = 1, names=None, verbose: bool = False) -> None:
        if batch < 1:
            raise ValueError(f"batch must be >= 1, got {batch}")
        self.cfg_path = Path(cfg)
        self.weights_path = Path(weights) if weights is not None else None
        self._cfg = precheck(self.cfg_path, self.weights_path)
        self.names = _names(names)
        self._verbose = verbose
        log: list[str] = []
        self._net, info = low.load(self.cfg_path, self.weights_path, batch,
                                   capture=None if verbose else log)
        self.load_log = "".join(log)
        self._info = info
        self._first_forward = True
        self._lock = threading.Lock()
        self.batch = info.batch
        self.width, self.height, self.channels = info.width, info.height, info.channels
        self.classes = info.classes
        self.letterbox_default = info.letter_box
        if self.names is not None and len(self.names) < self.classes:
            self.close()
            raise DataError(f"{len(self.names)} names for {self.classes} classes — the "
                            "names file must list every class of the cfg")
        self._input = np.zeros((self.batch, self.channels, self.height, self.width), np.float32)
        self._input_ptr = low.float_pointer(self._input)
        self._image = low.image_struct(self.width, self.height, self.channels,
                                       self._input_ptr)
        self._rows = np.empty((1024, 7), np.float32)

    # -- lifetime ----------------------------------------------------------------------
    def close(self) -> None:
        """Free the darknet network now (idempotent)."""
        net, self._net = getattr(self, "_net", None), None
        if net is not None:
            low.release(net)

    def __enter__(self) -> Network:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _handle(self):
        if self._net is None:
            raise ValueError("the network is closed")
        return self._net

    def _first_capture(self) -> list[str] | None:
        """darknet prints its CPU features ("Used AVX") on the first forward pass."""
        capture = [] if self._first_forward and not self._verbose else None
        self._first_forward = False
        return capture

    # -- inference ---------------------------------------------------------------------
    def predict_raw(self) -> None:
        """The bare forward pass over the prepared input buffer (benchmarks' limit)."""
        with self._lock:
            low.predict(self._handle(), self._input_ptr, self._first_capture())

    def forward(self, inputs: np.ndarray, layers: Sequence[int]) -> list[np.ndarray]:
        """Darknet's forward pass over `inputs` (batch, c, h, w) float32 — already prepared
        as `preprocess.prepare` does — and copies of the outputs of the layers at the
        given 0-based indices (a yolo layer's after its activations)."""
        inputs = np.asarray(inputs)
        shape = (self.channels, self.height, self.width)
        if inputs.dtype != np.float32 or inputs.ndim != 4 or inputs.shape[1:] != shape \
                or not 1 <= inputs.shape[0] <= self.batch:
            raise ValueError(f"inputs must be float32 (1..{self.batch}, {shape[0]}, "
                             f"{shape[1]}, {shape[2]}), got {inputs.dtype} {inputs.shape}")
        with self._lock:
            self._input[:inputs.shape[0]] = inputs
            low.predict(self._handle(), self._input_ptr, self._first_capture())
            return [low.layer_output(self._handle(), i)[:inputs.shape[0]] for i in layers]

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
        """Detect in up to `batch` images with one forward pass. Thread-safe: calls from
        several threads take turns (one network has one input buffer)."""
        if not 1 <= len(images) <= self.batch:
            raise ValueError(f"detect_batch takes 1..{self.batch} images, got {len(images)}")
        letterbox = self.letterbox_default if letterbox is None else letterbox
        with self._lock:
            for i, image in enumerate(images):
                try:
                    preprocess.prepare(image, self._input[i], letterbox=letterbox)
                except ImageError as exc:
                    if len(images) == 1:
                        raise
                    raise ImageError(f"image {i}: {exc}") from None
            found, self._rows = low.predict_detections(
                self._handle(), self._image, len(images), self._info, thresh, hier, nms,
                self._rows, self._first_capture())
        return [self._detections(rows, image, letterbox)
                for rows, image in zip(found, images, strict=True)]

    def _detections(self, rows: np.ndarray, image: np.ndarray, letterbox: bool) -> Detections:
        src_h, src_w = image.shape[:2]
        boxes = preprocess.boxes_to_pixels(rows[:, :4], src_w, src_h, self.width, self.height,
                                           letterbox)
        return Detections(rows[:, 4].astype(np.int32), rows[:, 5].copy(), boxes,
                          rows[:, 6].copy(), self.names)
