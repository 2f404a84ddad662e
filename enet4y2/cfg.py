"""The darknet .cfg model: parse (with line numbers), write, validate, infer shapes,
BFLOPs, parameter count and the expected .weights size.

Everything here is pure except `load_cfg`. The pieces live in `cfg_model` (text),
`cfg_keys` (what darknet reads), `cfg_infer` (shapes) and `cfg_validate` (problems);
import them from here.
"""

from __future__ import annotations

from pathlib import Path

from enet4y2.cfg_infer import LayerInfo, Model, infer, infer_with
from enet4y2.cfg_model import Cfg, Section, normalized_number, parse_cfg, write_cfg
from enet4y2.cfg_validate import problems, validate, warnings
from enet4y2.errors import CfgError, MissingFileError

__all__ = [
    "Cfg",
    "LayerInfo",
    "Model",
    "Section",
    "expected_weights_size",
    "header_size",
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


def header_size(major: int = 0, minor: int = 2) -> int:
    """Bytes before the floats: 3 int32 + `seen` (uint64 when major*10+minor >= 2)."""
    return 20 if major * 10 + minor >= 2 else 16


def expected_weights_size(cfg: Cfg, upto: int | None = None, *, major: int = 0,
                          minor: int = 2, revision: int = 0) -> int:
    """Bytes of a .weights file darknet writes for `cfg` (layers [0, upto))."""
    del revision  # part of the header, does not change its size
    return header_size(major, minor) + 4 * infer(cfg).weights_floats(upto)


def load_cfg(path: str | Path) -> Cfg:
    """Read and parse a .cfg file; MissingFileError when it does not exist."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise MissingFileError(f"{p}: no such cfg file — check the path") from None
    except IsADirectoryError:
        raise MissingFileError(f"{p}: is a directory, not a cfg file — name a .cfg") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise CfgError(f"{p}: not a text file (is it a .weights?) — pass the .cfg") from None
    return parse_cfg(text, str(p))
