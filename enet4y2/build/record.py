"""The build record: what `make darknet` built, from which source, with which flags. One
JSON file beside the build (`<darknet dir>/.enet4y2-build.json`); this module is the only
one that reads or writes it.

Keys: ``commit`` (str or None), ``commit_check`` ("git", "tree", "archive" or
"unverified"), ``source`` (where the tree came from), ``flags`` (GPU, CUDNN, CUDNN_HALF,
OPENCV, OPENMP, AVX as 0/1 and ARCH as text), ``built_at`` (ISO time), ``binding``,
``cuda_driver``, ``cuda_runtime_dirs``, ``seconds``, ``objects_compiled``.
"""

from __future__ import annotations

import json
from pathlib import Path

from enet4y2 import paths
from enet4y2.fileio import atomic_write_json

NAME = ".enet4y2-build.json"


def path(darknet_dir: Path | None = None) -> Path:
    return (darknet_dir or paths.darknet_dir()) / NAME


def read(darknet_dir: Path | None = None) -> dict | None:
    """The record beside a build (the one in use by default), or None."""
    try:
        data = json.loads(path(darknet_dir).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write(darknet_dir: Path, record: dict) -> Path:
    return atomic_write_json(path(darknet_dir), record, indent=2)


def remove(darknet_dir: Path) -> None:
    path(darknet_dir).unlink(missing_ok=True)
