"""Finding CUDA, cuBLAS, cuRAND and cuDNN for a GPU build of darknet.

Libraries may come from the system (/usr/local/cuda, distro packages) or from NVIDIA's
pip wheels (nvidia-cublas, nvidia-curand, nvidia-cudnn-cu13). Upstream's Makefile only
looks in /usr/local/cuda, so we hand the compiler and linker what it cannot find:
`CPATH` for headers, `LIBRARY_PATH` to a folder of unversioned links, and `LD_RUN_PATH`
so libdarknet.so finds the wheels' libraries at run time without LD_LIBRARY_PATH.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from enet4y2 import proc
from enet4y2.errors import BuildError

_SYSTEM_LIB_DIRS = ("lib64", "targets/x86_64-linux/lib", "targets/sbsa-linux/lib")
_DISTRO_LIB_DIRS = ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64",
                    "/usr/local/cudnn/lib64", "/usr/lib/wsl/lib")

# Arches built when no GPU is visible: every generation CUDA 12/13 still supports.
_DEFAULT_ARCHES = (75, 80, 86, 89, 90, 100, 120)

_STUB_C = "typedef int CUresult; CUresult cuCtxGetCurrent(void **ctx) { *ctx = 0; return 3; }\n"


@dataclass
class CudaSetup:
    """What a GPU build needs beyond upstream's Makefile defaults."""

    home: Path
    nvcc: Path
    include_dirs: list[Path] = field(default_factory=list)
    link_dir: Path | None = None
    runtime_dirs: list[Path] = field(default_factory=list)
    driver: str = "system"  # "system" or "stub" (link-only; running needs an NVIDIA driver)

    def env(self, base: dict[str, str]) -> dict[str, str]:
        """`base` with CPATH, LIBRARY_PATH and LD_RUN_PATH extended."""
        env = dict(base)

        def extend(key: str, dirs: list[Path]) -> None:
            parts = [str(d) for d in dirs] + ([env[key]] if env.get(key) else [])
            if parts:
                env[key] = os.pathsep.join(parts)

        extend("CPATH", self.include_dirs)
        extend("LIBRARY_PATH", [self.link_dir] if self.link_dir else [])
        extend("LD_RUN_PATH", self.runtime_dirs)
        env["PATH"] = os.pathsep.join([str(self.nvcc.parent), env.get("PATH", "")])
        return env


def cuda_home() -> Path | None:
    for cand in (os.environ.get("CUDA_HOME"), os.environ.get("CUDA_PATH"), "/usr/local/cuda"):
        if cand and (Path(cand) / "bin" / "nvcc").is_file():
            return Path(cand)
    nvcc = shutil.which("nvcc")
    return Path(nvcc).resolve().parent.parent if nvcc else None


def _wheel_roots() -> list[Path]:
    """Folders of NVIDIA's pip wheels (site-packages/nvidia/<name>) in this interpreter."""
    spec = importlib.util.find_spec("nvidia")
    if spec is None or not spec.submodule_search_locations:
        return []
    roots = []
    for loc in spec.submodule_search_locations:
        roots += sorted(p for p in Path(loc).iterdir() if p.is_dir())
    return roots


def _find_lib(name: str, dirs: list[Path]) -> Path | None:
    """libNAME.so, or else the highest-versioned libNAME.so.N, in the first dir having one."""
    for d in dirs:
        exact = d / f"lib{name}.so"
        if exact.exists():
            return exact
        versioned = sorted(d.glob(f"lib{name}.so.*"), key=lambda p: len(p.name))
        if versioned:
            return versioned[0]
    return None


def gpus() -> list[dict]:
    """Visible NVIDIA GPUs from nvidia-smi: name, driver, compute_cap ("9.0"), memory;
    [] without nvidia-smi or a working driver. The one nvidia-smi reader."""
    if shutil.which("nvidia-smi") is None:
        return []
    out = proc.output(["nvidia-smi", "--query-gpu=name,driver_version,compute_cap,"
                       "memory.total", "--format=csv,noheader"])
    rows = []
    for line in (out or "").splitlines():
        fields = [x.strip() for x in line.split(",")]
        if len(fields) == 4:
            rows.append(dict(zip(("name", "driver", "compute_cap", "memory"), fields,
                                 strict=True)))
    return rows


def gpu_compute_caps() -> list[int]:
    """Compute capabilities of visible GPUs (e.g. [90]); [] when none."""
    caps = set()
    for gpu in gpus():
        if re.fullmatch(r"\d+\.\d+", gpu["compute_cap"]):
            caps.add(int(float(gpu["compute_cap"]) * 10 + 0.5))
    return sorted(caps)


def nvcc_arches(nvcc: Path) -> list[int]:
    """Virtual architectures this nvcc accepts (`nvcc --list-gpu-arch`)."""
    out = proc.output([str(nvcc), "--list-gpu-arch"], timeout=60) or ""
    return sorted({int(m) for m in re.findall(r"compute_(\d+)", out)})


def arch_flags(caps: list[int]) -> str:
    """Upstream's ARCH variable for these compute capabilities (PTX for the newest too)."""
    return " ".join(f"-gencode arch=compute_{c},code=[sm_{c},compute_{c}]" for c in caps)


def default_arch(nvcc: Path) -> str:
    """ARCH from the visible GPUs, or else the common arches the local nvcc supports."""
    caps = gpu_compute_caps()
    if not caps:
        supported = nvcc_arches(nvcc)
        caps = [c for c in _DEFAULT_ARCHES if c in supported] or supported[-1:]
    if not caps:
        raise BuildError(f"cannot tell which GPU arches {nvcc} supports: set ARCH=...")
    return arch_flags(caps)


def library_dirs(home: Path | None = None) -> list[Path]:
    """Where CUDA libraries may be: the toolkit, distro folders, then NVIDIA's wheels."""
    home = home or cuda_home()
    dirs = [home / d for d in _SYSTEM_LIB_DIRS] if home else []
    dirs += [Path(d) for d in _DISTRO_LIB_DIRS] + [w / "lib" for w in _wheel_roots()]
    return [d for d in dirs if d.is_dir()]


def find_library(name: str) -> Path | None:
    """libNAME.so[.N] in `library_dirs()` (e.g. "cudnn", "cublas")."""
    return _find_lib(name, library_dirs())


def setup(work_dir: Path, *, cudnn: bool) -> CudaSetup:
    """Locate the toolkit and libraries; make the link folder under `work_dir`."""
    home = cuda_home()
    if home is None:
        raise BuildError("GPU=1 but no CUDA toolkit found (no nvcc on PATH, CUDA_HOME unset)")
    lib_dirs = library_dirs(home)
    include_dirs = [d for d in [home / "include", Path("/usr/local/cudnn/include")]
                    + [w / "include" for w in _wheel_roots()] if d.is_dir()]

    needed = ["cudart", "cublas", "cublasLt", "curand"] + (["cudnn"] if cudnn else [])
    link_dir = work_dir / "cuda-link"
    shutil.rmtree(link_dir, ignore_errors=True)
    link_dir.mkdir(parents=True)
    runtime_dirs: list[Path] = []
    missing = []
    for name in needed:
        lib = _find_lib(name, lib_dirs)
        if lib is None:
            missing.append(name)
            continue
        target = lib.resolve()
        (link_dir / f"lib{name}.so").symlink_to(target)
        if lib.name != f"lib{name}.so":
            (link_dir / lib.name).symlink_to(target)
        if lib.parent not in runtime_dirs:
            runtime_dirs.append(lib.parent)
    if missing:
        wheels_hint = "pip install nvidia-cublas nvidia-curand" + (
            " nvidia-cudnn-cu13" if cudnn else "")
        raise BuildError(f"GPU build: cannot find {', '.join('lib' + m for m in missing)} "
                         f"(install CUDA/cuDNN, or `{wheels_hint}` into this Python)")

    driver = "system"
    if _find_lib("cuda", lib_dirs) is None:
        # No NVIDIA driver here: link against a stub exporting the one driver call darknet
        # makes; at run time the real driver's libcuda.so.1 is loaded instead.
        _make_driver_stub(link_dir)
        driver = "stub"
    else:
        (link_dir / "libcuda.so").symlink_to(_find_lib("cuda", lib_dirs).resolve())
    return CudaSetup(home, home / "bin" / "nvcc", include_dirs, link_dir, runtime_dirs, driver)


def _make_driver_stub(link_dir: Path) -> None:
    src = link_dir / "cuda_stub.c"
    src.write_text(_STUB_C)
    done = proc.run(["cc", "-shared", "-fPIC", "-Wl,-soname,libcuda.so.1", "-o",
                     str(link_dir / "libcuda.so"), str(src)], timeout=120)
    if not done.ok:
        raise BuildError(f"cannot compile the CUDA driver stub: {done.reason()}")
