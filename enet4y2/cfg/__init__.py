"""The darknet .cfg model: parse (with line numbers, the way darknet reads it), write,
validate, infer shapes, BFLOPs and stored parameters; the B0-4Y builders; anchors by
k-means.

Owns: cfg bytes read as darknet's C code reads them (`clib`, `model`), what darknet reads
per layer (`keys`), load-time inference as darknet builds the network (`netopts`, `infer`,
and per layer type `layers`, `joins`, `heads`, `dense`, listed in `layertypes`), problems
and warnings (`validate`), the EfficientNet-B0 / B0-4Y builders (`builders`), k-means
anchors (`anchors`). All pure except `load_cfg`,
the machine's memory size and the tree=/map= files darknet opens.
May import: foundations (errors, fileio, paths) only.
"""

from __future__ import annotations

from enet4y2.cfg.infer import LayerInfo, Model, infer, infer_with, machine_memory
from enet4y2.cfg.model import (
    Cfg,
    Section,
    load_cfg,
    normalized_number,
    parse_cfg,
    write_cfg,
)
from enet4y2.cfg.validate import Verdict, check, problems, validate, warnings

__all__ = [
    "Cfg",
    "LayerInfo",
    "Model",
    "Section",
    "Verdict",
    "check",
    "infer",
    "infer_with",
    "load_cfg",
    "machine_memory",
    "normalized_number",
    "parse_cfg",
    "problems",
    "validate",
    "warnings",
    "write_cfg",
]
