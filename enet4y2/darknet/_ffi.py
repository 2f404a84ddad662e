"""The one import point of the compiled binding (like pygit2's ffi.py).

The extension lives beside the darknet build it was compiled against
(`<darknet_dir>/.enet4y2/cffi/`), so switching `ENET4Y2_DARKNET_DIR` switches both.
Nothing else imports it; without a build, `load()` raises NotBuiltError.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from enet4y2 import paths
from enet4y2.darknet._builder import MODULE_NAME
from enet4y2.errors import NoDriverError, NotBuiltError


def extension_path() -> Path | None:
    """The compiled extension for this interpreter, if `make darknet` built one."""
    return paths.built_extension("cffi", MODULE_NAME)


_loaded: dict[Path, tuple] = {}  # by extension path
_by_dir: dict[Path, tuple] = {}  # by darknet dir: the fast path of later calls


def load():
    """(ffi, lib) of the binding for the darknet in use; NotBuiltError naming
    `make darknet` when absent. Loaded once per build location."""
    found = _by_dir.get(paths.darknet_dir())
    if found is not None:
        return found
    path = extension_path()
    if path in _loaded:
        _by_dir[paths.darknet_dir()] = _loaded[path]
        return _loaded[path]
    if path is None:
        raise NotBuiltError(f"the darknet binding is not built in {paths.darknet_dir()}: "
                            f"run `make darknet`")
    spec = importlib.util.spec_from_file_location(MODULE_NAME, path)
    try:  # an extension is dlopen()ed by module_from_spec, before exec_module
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    except ImportError as exc:
        if "libcuda.so" in str(exc):
            raise NoDriverError(f"darknet in {paths.darknet_dir()} is built for CUDA (GPU=1) "
                                "and this machine has no NVIDIA driver (libcuda.so.1): run "
                                "it where the driver is installed, or build for the CPU "
                                "with `make darknet GPU=0`") from None
        raise NotBuiltError(f"the darknet binding at {path} cannot be loaded ({exc}): "
                            f"run `make darknet` again") from None
    # Loading libdarknet (-Ofast) set flush-to-zero/denormals-are-zero on this thread;
    # give the process its IEEE behaviour back (darknet's calls switch it on themselves).
    lib = module.lib
    lib.enet4y2_fp_restore(lib.enet4y2_fp_fast() & ~lib.ENET4Y2_FTZ_DAZ)
    _loaded[path] = module.ffi, lib
    _by_dir[paths.darknet_dir()] = _loaded[path]
    return _loaded[path]
