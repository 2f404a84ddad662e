"""Export a darknet cfg + weights to ONNX, and prove the export equal to libdarknet.

Owns: the exported model's contract and metadata (`meta`), the ONNX graph built layer by
layer from the parsed cfg and the weights file (`graph`, `convs`, `yolo`), the export
itself (`api`), and the comparison against libdarknet (`check`, the only module that
loads darknet). onnx/onnxruntime are imported lazily (`onnxlib`); a missing one is a
MissingDependencyError naming the extra `onnx`.
May import: foundations, `enet4y2.cfg`, `enet4y2.weights`, `enet4y2.data`, and
`enet4y2.darknet` (the `check` module only).
"""

from __future__ import annotations

from enet4y2.export.api import ExportSummary, export_onnx
from enet4y2.export.meta import (
    BOXES_OUTPUTS,
    FORMAT_VERSION,
    INPUT_NAME,
    META_KEY,
    Head,
    ModelMeta,
    raw_output_name,
)

__all__ = ["BOXES_OUTPUTS", "FORMAT_VERSION", "INPUT_NAME", "META_KEY", "ExportSummary", "Head",
           "ModelMeta", "export_onnx", "raw_output_name"]
