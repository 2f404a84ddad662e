"""The darknet .cfg model: parse (with line numbers, the way darknet reads it), write,
validate, infer shapes, BFLOPs and stored parameters; the B0-4Y builders; anchors by
k-means.

Owns: cfg text and `[net]` reading (`model`), what darknet reads per layer (`keys`), shape
inference (`infer`), problems (`validate`), the EfficientNet-B0 / B0-4Y builders
(`builders`), k-means anchors (`anchors`). All pure except `load_cfg`.
May import: foundations (errors, fileio, paths) only.
"""

from __future__ import annotations

from enet4y2.cfg.infer import LayerInfo, Model, infer, infer_with
from enet4y2.cfg.model import (
    Cfg,
    Section,
    load_cfg,
    normalized_number,
    parse_cfg,
    write_cfg,
)
from enet4y2.cfg.validate import problems, validate, warnings

__all__ = [
    "Cfg",
    "LayerInfo",
    "Model",
    "Section",
    "infer",
    "infer_with",
    "load_cfg",
    "normalized_number",
    "parse_cfg",
    "problems",
    "validate",
    "warnings",
    "write_cfg",
]
