"""One model API over every backend: darknet (the binding), ONNX Runtime and OpenCV DNN on
an exported model, with the same preprocessing (the binding's bit-exact resize and
letterbox) and darknet's own decoding, NMS and copy-out done in numpy (`decode`, `nms`),
so detections agree across backends.

Owns: the decoder's view of a model (`spec`), darknet's `get_yolo_detections` (`decode`),
darknet's NMS kinds and copy-out (`nms`), the backends and `open_model` (`backends`).
onnxruntime and onnx are imported lazily; a missing one is a MissingDependencyError naming
the extra `onnx`.
May import: foundations, `enet4y2.darknet`, `enet4y2.cfg`, `enet4y2.data`,
`enet4y2.weights`, `enet4y2.export` (its model metadata).
"""

from enet4y2.runtime.models import BACKENDS, DEVICES, open_model
from enet4y2.runtime.spec import Spec, spec_from_cfg, spec_from_meta

__all__ = ["BACKENDS", "DEVICES", "Spec", "open_model", "spec_from_cfg", "spec_from_meta"]
