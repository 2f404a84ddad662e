"""The one import point of the compiled preprocessing kernel (`_enet4y2_prep`).

`make darknet` compiles it beside the binding (`<darknet_dir>/.enet4y2/prep/`), but it
links nothing of darknet: every backend uses it. Optional: without it `load()` is None
and `preprocess` runs its numpy path, which gives the same numbers.
"""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

from enet4y2 import paths
from enet4y2.darknet._prep_builder import MODULE_NAME


def extension_path() -> Path | None:
    """The compiled kernel for this interpreter, if `make darknet` built one."""
    return paths.built_extension("prep", MODULE_NAME)


_by_dir: dict[Path, tuple | None] = {}  # darknet dir -> (ffi, lib) or None; loaded once


def load() -> tuple | None:
    """(ffi, lib) of the kernel for the darknet dir in use, or None when it is not built
    (or cannot be loaded: warned once, the numpy path is used)."""
    folder = paths.darknet_dir()
    if folder in _by_dir:
        return _by_dir[folder]
    path = extension_path()
    found = None
    if path is not None:
        spec = importlib.util.spec_from_file_location(MODULE_NAME, path)
        try:
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            found = module.ffi, module.lib
        except ImportError as exc:
            warnings.warn(f"the preprocessing kernel at {path} cannot be loaded ({exc}); "
                          f"using numpy (run `make darknet` again)", stacklevel=2)
    _by_dir[folder] = found
    return found
