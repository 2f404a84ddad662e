"""`enet4y2 doctor`: what is built, with which flags, what the machine offers, and what
is missing with the command that fixes it. Gathers facts only; the CLI renders them."""

from __future__ import annotations

import platform
import re
import sys
from dataclasses import dataclass, field
from importlib import metadata

from enet4y2 import DARKNET_PINNED_COMMIT, __version__, paths, proc
from enet4y2.build import cuda
from enet4y2.build import record as build_record
from enet4y2.darknet import ensure_built, extension_path
from enet4y2.errors import NoDriverError, NotBuiltError

PYTHON_DEPS = ("cffi", "numpy", "opencv-python-headless", "pycocotools", "click", "rich",
               "faster-coco-eval")


@dataclass
class Report:
    facts: dict = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # "what is wrong — how to fix it"

    def to_json(self) -> dict:
        return {**self.facts, "problems": self.problems, "ok": not self.problems}


def nvcc_version() -> str | None:
    home = cuda.cuda_home()
    out = proc.output([str(home / "bin" / "nvcc"), "--version"]) if home else None
    m = re.search(r"release ([\d.]+)", out or "")
    return m.group(1) if m else None


def cudnn_location() -> str | None:
    found = cuda.find_library("cudnn")
    return str(found) if found else None


def python_deps() -> dict[str, str | None]:
    versions = {}
    for name in PYTHON_DEPS:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def binding_status() -> str:
    try:
        ensure_built()
    except NoDriverError:
        return (f"built ({extension_path()}); loads only where an NVIDIA driver is "
                "present (no libcuda.so.1 here)")
    except NotBuiltError as exc:
        return f"not loadable: {exc}"
    return f"ok ({extension_path()})"


def prep_kernel_status() -> str:
    """The compiled preprocessing kernel, or why the numpy path is used."""
    from enet4y2.darknet import _prep_ffi

    path = _prep_ffi.extension_path()
    if path is None:
        return "not built (numpy preprocessing; `make darknet` builds it)"
    return f"ok ({path})" if _prep_ffi.load() else f"not loadable ({path}): numpy is used"


def examine() -> Report:
    r = Report()
    record = build_record.read()
    r.facts["enet4y2"] = __version__
    r.facts["python"] = f"{platform.python_version()} ({sys.executable})"
    r.facts["darknet_dir"] = str(paths.darknet_dir())
    exe, lib = paths.darknet_executable(), paths.libdarknet_path()
    r.facts["darknet_executable"] = str(exe) if exe.is_file() else None
    r.facts["libdarknet"] = str(lib) if lib.is_file() else None
    r.facts["build"] = record
    r.facts["pinned_commit"] = DARKNET_PINNED_COMMIT
    r.facts["binding"] = binding_status() if r.facts["libdarknet"] else "not built"
    r.facts["prep_kernel"] = prep_kernel_status()
    r.facts["gpus"] = cuda.gpus()
    r.facts["nvcc"] = nvcc_version()
    r.facts["cudnn"] = cudnn_location()
    r.facts["opencv_pkg_config"] = (proc.output(["pkg-config", "--modversion", "opencv4"])
                                    or "").strip() or None
    r.facts["python_deps"] = python_deps()

    if not paths.darknet_built():
        r.problems.append("darknet is not built — run `make darknet` "
                          "(offline: `make darknet DARKNET_SRC=/path/to/darknet`)")
    elif not r.facts["binding"].startswith(("ok", "built")):
        r.problems.append("the Python binding does not load — run `make darknet` again")
    if record:
        if record.get("commit") != DARKNET_PINNED_COMMIT:
            r.problems.append(f"darknet source is not the pinned commit "
                              f"({record.get('commit') or 'unverified'}) — rebuild from "
                              f"{DARKNET_PINNED_COMMIT[:12]} for tested behaviour")
        flags = record.get("flags", {})
        if r.facts["gpus"] and not flags.get("GPU"):
            r.problems.append("a GPU is present but darknet was built for CPU — "
                              "`make darknet GPU=1 CUDNN=1`")
        if flags.get("GPU") and not r.facts["gpus"] and (
                record.get("cuda_driver") == "stub" or r.facts["binding"].startswith("built")):
            r.problems.append("the GPU build is complete, but this machine has no NVIDIA "
                              "driver: it runs only where a driver and GPU are present "
                              "(`make darknet GPU=0` builds for this CPU)")
    for name in PYTHON_DEPS[:-1]:
        if r.facts["python_deps"][name] is None:
            r.problems.append(f"Python package {name} is missing — pip install {name}")
    return r
