"""The one import point of the optional `onnx` package (extra `onnx`)."""

from __future__ import annotations

from enet4y2.errors import MissingDependencyError

try:
    import onnx
    from onnx import TensorProto, helper, numpy_helper
except ImportError:
    raise MissingDependencyError("onnx", "onnx", "exporting to ONNX") from None

__all__ = ["TensorProto", "helper", "numpy_helper", "onnx"]
