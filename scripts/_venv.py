"""From a fresh shell (no virtualenv active) the seed's scripts re-run themselves under
the checkout's `.venv`, where `make venv` installed enet4y2."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def use_project_venv(script: str) -> None:
    try:
        import enet4y2  # noqa: F401
    except ImportError:
        python = Path(script).resolve().parent.parent / ".venv" / "bin" / "python"
        if python.is_file() and Path(sys.executable).resolve() != python.resolve():
            os.execv(python, [str(python), script, *sys.argv[1:]])
        sys.exit("error: enet4y2 is not installed — run `make venv` (or activate .venv)")
