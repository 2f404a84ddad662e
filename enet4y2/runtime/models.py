"""`open_model`: one call to open a detector on any backend, each answering `detect` and
`detect_batch` with the binding's `Detections`."""

from __future__ import annotations

import os

from enet4y2.errors import MissingDependencyError, UsageError

BACKENDS = ("darknet", "onnxruntime", "opencv")
DEVICES = ("cpu", "cuda", "tensorrt")


def default_backend(model) -> str:
    """darknet for a cfg/weights pair, onnxruntime for an exported model."""
    return "darknet" if model is None else "onnxruntime"


def check_choice(backend: str, *, cfg=None, weights=None, model=None,
                 device: str | None = None) -> None:
    """UsageError (one line) for a combination that cannot work — before any loading."""
    if backend not in BACKENDS:
        raise UsageError(f"unknown backend {backend!r}: choose from {', '.join(BACKENDS)}")
    if device is not None and device not in DEVICES:
        raise UsageError(f"unknown device {device!r}: choose from {', '.join(DEVICES)}")
    if model is not None and (cfg is not None or weights is not None):
        raise UsageError("give either --model (an exported .onnx) or --cfg/--weights, "
                         "not both")
    if backend == "darknet":
        if model is not None:
            raise UsageError("--backend darknet runs a cfg and weights; an exported .onnx "
                             "runs with --backend onnxruntime or opencv")
        if device is not None:
            raise UsageError("--device is for the onnxruntime and opencv backends; darknet "
                             "runs where `make darknet` built it (GPU=1 for CUDA)")
        if cfg is None:
            raise UsageError("give --cfg and --weights (darknet), or --model (an exported "
                             ".onnx)")
    elif model is None:
        raise UsageError(f"--backend {backend} runs an exported model: give --model "
                         "model.onnx (made by `enet4y2 export --cfg C --weights W -o "
                         "model.onnx`)")


def require_engine(backend: str) -> None:
    """MissingDependencyError (naming the extra `onnx`) when `backend` cannot be imported —
    said before any long work."""
    if backend == "onnxruntime":
        try:
            import onnxruntime  # noqa: F401
        except ImportError:
            raise MissingDependencyError("onnxruntime", "onnx",
                                         "the onnxruntime backend") from None
    elif backend == "opencv":
        try:
            import onnx  # noqa: F401
        except ImportError:
            raise MissingDependencyError("onnx", "onnx", "the opencv backend (reading the "
                                         "model's metadata)") from None


def open_model(cfg: str | os.PathLike | None = None,
               weights: str | os.PathLike | None = None, *,
               model: str | os.PathLike | None = None, backend: str | None = None,
               device: str | None = None, batch: int | None = None, names=None,
               verbose: bool = False):
    """A detector on `backend` (default: darknet for cfg/weights, onnxruntime for an
    exported `model`), with `detect`, `detect_batch`, `close` and `with` support.

    >>> with open_model(model="enet4y2.onnx", backend="onnxruntime") as net:
    ...     dets = net.detect(cv2.imread("dog.jpg"))
    """
    backend = backend or default_backend(model)
    check_choice(backend, cfg=cfg, weights=weights, model=model, device=device)
    if backend == "darknet":
        from enet4y2.darknet import Network

        return Network(cfg, weights, batch=batch or 1, names=names, verbose=verbose)
    from enet4y2.runtime.exported import OpenCVModel, OrtModel, model_path

    require_engine(backend)
    path = model_path(model)
    if backend == "onnxruntime":
        return OrtModel(path, device or "cpu", batch, names)
    return OpenCVModel(path, device or "cpu", batch, names)
