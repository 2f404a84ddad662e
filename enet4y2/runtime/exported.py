"""An exported model (`enet4y2 export`) on ONNX Runtime or OpenCV DNN, with the binding's
`detect`/`detect_batch` interface: the binding's preprocessing into a reused input
buffer, the engine's forward pass, then darknet's decoding, NMS and copy-out in numpy.
The engines are imported when a model is opened, never before."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from enet4y2.darknet import Detections, preprocess
from enet4y2.errors import DataError, ImageError, UsageError
from enet4y2.export.meta import INPUT_NAME, ModelMeta
from enet4y2.runtime.decode import boxes_candidates, raw_candidates
from enet4y2.runtime.nms import detection_rows
from enet4y2.runtime.spec import Spec, spec_from_meta

#: ONNX Runtime execution providers per device, in the order they are tried.
PROVIDERS = {
    "cpu": ["CPUExecutionProvider"],
    "cuda": ["CUDAExecutionProvider", "CPUExecutionProvider"],
    "tensorrt": ["TensorrtExecutionProvider", "CUDAExecutionProvider",
                 "CPUExecutionProvider"],
}


def to_detections(rows: np.ndarray, image: np.ndarray, spec: Spec, letterbox: bool,
                  names: tuple[str, ...] | None) -> Detections:
    """Copied-out rows of one image as the binding's `Detections` (pixels of the image)."""
    src_h, src_w = image.shape[:2]
    boxes = preprocess.boxes_to_pixels(rows[:, :4], src_w, src_h, spec.width, spec.height,
                                       letterbox)
    return Detections(rows[:, 4].astype(np.int32), rows[:, 5].copy(), boxes,
                      rows[:, 6].copy(), names)


class ExportedModel:
    """Shared by the engines: batching, preprocessing, decoding. Subclasses run `_run`."""

    backend = "?"

    def __init__(self, path: Path, meta: ModelMeta, batch: int | None, names) -> None:
        self.path = path
        self.meta = meta
        self.spec = spec_from_meta(meta, str(path))
        fixed = meta.batch
        if batch is not None and batch < 1:
            raise ValueError(f"batch must be >= 1, got {batch}")
        if fixed is not None and batch is not None and batch > fixed:
            raise UsageError(f"{path} was exported for batch {fixed}, not {batch} — export "
                             "it with --dynamic-batch or --batch "
                             f"{batch}, or run with batch {fixed} or less")
        self.batch = batch or fixed or 1
        self._feed = fixed or self.batch  # what one forward pass takes
        self.width, self.height, self.channels = meta.width, meta.height, meta.channels
        self.classes = meta.classes
        self.letterbox_default = meta.letterbox
        self.names = _names(names) if names is not None else meta.names
        if self.names is not None and len(self.names) < self.classes:
            raise DataError(f"{len(self.names)} names for {self.classes} classes — the "
                            "names file must list every class of the model")
        self._input = np.zeros((self._feed, self.channels, self.height, self.width),
                               np.float32)
        self._lock = threading.Lock()
        self._closed = False

    # -- lifetime ----------------------------------------------------------------------
    def close(self) -> None:
        """Drop the engine (idempotent)."""
        self._closed = True
        self._release()

    def _release(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- inference ---------------------------------------------------------------------
    def _run(self, inputs: np.ndarray) -> list[np.ndarray]:
        raise NotImplementedError

    def forward(self, inputs: np.ndarray) -> list[np.ndarray]:
        """The engine's outputs (in `spec.output_names` order) for prepared inputs
        (n, c, h, w) float32, n <= batch."""
        if self._closed:
            raise ValueError("the model is closed")
        n = inputs.shape[0]
        shape = (self.channels, self.height, self.width)
        if inputs.ndim != 4 or inputs.shape[1:] != shape or not 1 <= n <= self._feed:
            raise ValueError(f"inputs must be (1..{self._feed}, {shape[0]}, {shape[1]}, "
                             f"{shape[2]}), got {inputs.shape}")
        with self._lock:
            if self.meta.batch is not None and n != self._feed:
                self._input[:n] = inputs
                self._input[n:] = 0
                inputs = self._input
            return [o[:n] for o in self._run(np.ascontiguousarray(inputs, np.float32))]

    def detect(self, image: np.ndarray, thresh: float = 0.25, hier: float = 0.5,
               nms: float = 0.45, letterbox: bool | None = None) -> Detections:
        """Detect objects in one BGR uint8 image (as cv2.imread returns it)."""
        return self.detect_batch([image], thresh, hier, nms, letterbox)[0]

    def detect_batch(self, images: Sequence[np.ndarray], thresh: float = 0.25,
                     hier: float = 0.5, nms: float = 0.45,
                     letterbox: bool | None = None) -> list[Detections]:
        """Detect in up to `batch` images with one forward pass (thread-safe)."""
        if not 1 <= len(images) <= self.batch:
            raise ValueError(f"detect_batch takes 1..{self.batch} images, got {len(images)}")
        if self._closed:
            raise ValueError("the model is closed")
        letterbox = self.letterbox_default if letterbox is None else letterbox
        n = len(images)
        with self._lock:
            for i, image in enumerate(images):
                try:
                    preprocess.prepare(image, self._input[i], letterbox=letterbox)
                except ImageError as exc:
                    if n == 1:
                        raise
                    raise ImageError(f"image {i}: {exc}") from None
            feed = self._input if self.meta.batch is not None else self._input[:n]
            outs = self._run(feed)
        spec = self.spec
        found = []
        for i, image in enumerate(images):
            if spec.outputs == "boxes":
                cands = boxes_candidates(outs[0][i], outs[1][i], outs[2][i], spec, thresh)
            else:
                cands = raw_candidates([o[i] for o in outs], spec, thresh)
            rows = detection_rows(cands, thresh, nms, spec.nms_kind, spec.beta_nms)
            found.append(to_detections(rows, image, spec, letterbox, self.names))
        return found


def _names(names) -> tuple[str, ...]:
    if isinstance(names, (str, os.PathLike)):
        from enet4y2.data.files import read_names

        return tuple(read_names(names))
    return tuple(names)


def _providers(ort, device: str) -> list[str]:
    if device not in PROVIDERS:
        raise UsageError(f"unknown device {device!r}: choose from {', '.join(PROVIDERS)}")
    wanted = PROVIDERS[device]
    available = ort.get_available_providers()
    if wanted[0] not in available:
        hint = " (pip install onnxruntime-gpu)" if device != "cpu" else ""
        raise UsageError(f"device {device} needs onnxruntime's {wanted[0]}, which this "
                         f"onnxruntime lacks; it has {', '.join(available)}{hint}")
    return [p for p in wanted if p in available]


class OrtModel(ExportedModel):
    """An exported model on ONNX Runtime (CPU, CUDA or TensorRT execution provider)."""

    backend = "onnxruntime"

    def __init__(self, path: Path, device: str = "cpu", batch: int | None = None,
                 names=None, threads: int | None = None) -> None:
        import onnxruntime as ort  # open_model checked it (require_engine)

        providers = _providers(ort, device)
        options = ort.SessionOptions()
        options.log_severity_level = 3
        if threads:
            options.intra_op_num_threads = threads
        try:
            session = ort.InferenceSession(str(path), options, providers=providers)
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidProtobuf types
            raise DataError(f"{path}: onnxruntime cannot load it as an ONNX model "
                            f"({type(exc).__name__})") from None
        props = session.get_modelmeta().custom_metadata_map
        super().__init__(path, ModelMeta.from_props(props, str(path)), batch, names)
        self.device = device
        self.providers = session.get_providers()
        self._session = session
        self._names = self.spec.output_names

    def _release(self) -> None:
        self._session = None

    def _run(self, inputs: np.ndarray) -> list[np.ndarray]:
        return self._session.run(self._names, {INPUT_NAME: inputs})


class OpenCVModel(ExportedModel):
    """An exported model on OpenCV DNN (`cv2.dnn.readNetFromONNX`, OpenCV 4.x and 5)."""

    backend = "opencv"

    def __init__(self, path: Path, device: str = "cpu", batch: int | None = None,
                 names=None) -> None:
        import cv2

        meta = ModelMeta.from_onnx(path)
        if device not in ("cpu", "cuda"):
            raise UsageError(f"device {device} is not available with --backend opencv "
                             "(cpu or cuda); use --backend onnxruntime")
        if device == "cuda" and not _opencv_has_cuda(cv2):
            raise UsageError("device cuda needs an OpenCV built with CUDA; this one has none "
                             "— use --backend onnxruntime --device cuda")
        try:
            net = cv2.dnn.readNetFromONNX(str(path))
        except cv2.error as exc:
            first = str(exc).strip().splitlines()[-1] if str(exc).strip() else "cv2.error"
            raise DataError(f"{path}: OpenCV cannot read it ({first})") from None
        if device == "cuda":
            net.setPreferableBackend(cv2.dnn.DNN_BACKEND_CUDA)
            net.setPreferableTarget(cv2.dnn.DNN_TARGET_CUDA)
        super().__init__(path, meta, batch, names)
        self.device = device
        self._net = net
        self._names = self.spec.output_names

    def _release(self) -> None:
        self._net = None

    def _run(self, inputs: np.ndarray) -> list[np.ndarray]:
        self._net.setInput(inputs, INPUT_NAME)
        return list(self._net.forward(self._names))


def _opencv_has_cuda(cv2) -> bool:
    try:
        return cv2.cuda.getCudaEnabledDeviceCount() > 0
    except (AttributeError, cv2.error):
        return False


def model_path(model: str | os.PathLike) -> Path:
    """The .onnx path, checked to be a readable file."""
    from enet4y2.errors import MissingFileError

    path = Path(model)
    if not path.is_file():
        raise MissingFileError(f"model not found: {path}")
    return path
