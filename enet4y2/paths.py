"""Where things live: the repository, the darknet build, the shared reference files.

One place answers "where is darknet?" so no module guesses paths on its own.
`ENET4Y2_DARKNET_DIR` points at a darknet built elsewhere (e.g. `make darknet DEST=...`).
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent


def darknet_dir() -> Path:
    """The darknet tree in use: `$ENET4Y2_DARKNET_DIR` or `third_party/darknet`."""
    env = os.environ.get("ENET4Y2_DARKNET_DIR")
    return Path(env).resolve() if env else REPO_ROOT / "third_party" / "darknet"


def built_extension(folder: str, module: str) -> Path | None:
    """`<darknet_dir>/.enet4y2/<folder>/<module><suffix>` for this interpreter's suffixes,
    if `make darknet` compiled it there."""
    import importlib.machinery

    where = darknet_dir() / ".enet4y2" / folder
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        candidate = where / f"{module}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def darknet_executable() -> Path:
    return darknet_dir() / "darknet"


def libdarknet_path() -> Path:
    return darknet_dir() / "libdarknet.so"


def darknet_built() -> bool:
    """True when both the darknet executable and libdarknet.so exist."""
    return darknet_executable().is_file() and libdarknet_path().is_file()


def shared_dir() -> Path:
    """The project's shared folder (`../shared` beside the checkout) or `$ENET4Y2_SHARED`."""
    env = os.environ.get("ENET4Y2_SHARED")
    return Path(env).resolve() if env else REPO_ROOT.parent / "shared"


def reference_dir() -> Path:
    return shared_dir() / "reference"
