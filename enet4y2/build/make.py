"""`make darknet`: build the pinned upstream darknet and the cffi binding against it.

`make darknet` runs the hidden command `enet4y2 build KEY=VALUE...` with GPU, CUDNN,
CUDNN_HALF, OPENCV, OPENMP, AVX, ARCH, DARKNET_SRC, DEST and DARKNET_ALLOW_OTHER.
Empty values mean "choose automatically". The flags and the source commit are recorded
beside the build (`.enet4y2-build.json`); changing flags cleans first (with the *old* flags,
since upstream's `make clean` only removes GPU objects when told GPU=1); an unchanged
build compiles nothing.
"""

from __future__ import annotations

import os
import re
import time
from collections import deque
from dataclasses import asdict, dataclass
from pathlib import Path

from enet4y2 import paths, proc
from enet4y2.build import cuda, source
from enet4y2.build import record as build_record
from enet4y2.darknet import _builder, _prep_builder
from enet4y2.errors import BuildError
from enet4y2.proc import Child

FLAG_NAMES = ("GPU", "CUDNN", "CUDNN_HALF", "OPENCV", "OPENMP", "AVX")


@dataclass(frozen=True)
class Flags:
    """Upstream Makefile switches (LIBSO=1 is always added)."""

    GPU: int = 0
    CUDNN: int = 0
    CUDNN_HALF: int = 0
    OPENCV: int = 0
    OPENMP: int = 0
    AVX: int = 0
    ARCH: str = ""

    def make_args(self) -> list[str]:
        args = [f"{k}={getattr(self, k)}" for k in FLAG_NAMES] + ["LIBSO=1"]
        if self.GPU:
            args.append(f"ARCH={self.ARCH}")  # on the command line, so CUDNN_HALF adds no sm_70
        return args

    def defines(self) -> list[str]:
        """The -D macros upstream passes with COMMON (they change darknet.h's structs)."""
        return [f"-D{k}" for k in ("GPU", "CUDNN", "CUDNN_HALF", "OPENCV") if getattr(self, k)]


# --- automatic defaults ----------------------------------------------------------------

def cc_supports_openmp(cc: str = "cc") -> bool:
    prog = b"#include <omp.h>\nint main(void){return omp_get_max_threads() > 0 ? 0 : 1;}\n"
    return proc.succeeds([cc, "-fopenmp", "-x", "c", "-", "-o", os.devnull], stdin=prog,
                         timeout=60)


def cpu_supports_avx2(cpuinfo: str | None = None) -> bool:
    """Upstream's AVX=1 compiles with -mavx2 (and SSE4.x), so AVX2 is what is needed."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            return False
    flags = re.search(r"^flags\s*:(.*)$", cpuinfo, re.M)
    return bool(flags) and {"avx", "avx2", "sse4_1", "sse4_2"} <= set(flags.group(1).split())


def pkg_config_has(name: str) -> bool:
    return proc.succeeds(["pkg-config", "--exists", name])


def _switch(name: str, raw: str | None) -> int | None:
    if raw is None or raw.strip() == "":
        return None
    if raw.strip() not in ("0", "1"):
        raise BuildError(f"{name}={raw}: use {name}=0 or {name}=1")
    return int(raw)


def resolve_flags(requested: dict[str, str]) -> Flags:
    """Fill in unset flags: OPENMP/AVX when compiler/CPU support them, OPENCV when
    `pkg-config opencv4` works, ARCH from the GPU (or nvcc) when GPU=1."""
    vals = {k: _switch(k, requested.get(k)) for k in FLAG_NAMES}
    if vals["GPU"] is None:
        vals["GPU"] = 0
    if vals["CUDNN"] is None:
        vals["CUDNN"] = 0
    if vals["CUDNN_HALF"] is None:
        vals["CUDNN_HALF"] = 0
    if vals["OPENMP"] is None:
        vals["OPENMP"] = int(cc_supports_openmp())
    if vals["AVX"] is None:
        vals["AVX"] = int(cpu_supports_avx2())
    if vals["OPENCV"] is None:
        vals["OPENCV"] = int(pkg_config_has("opencv4"))
    elif vals["OPENCV"] and not (pkg_config_has("opencv4") or pkg_config_has("opencv")):
        raise BuildError("OPENCV=1 but pkg-config finds no opencv4 (apt-get install libopencv-dev)")
    if vals["CUDNN"] and not vals["GPU"]:
        raise BuildError("CUDNN=1 needs GPU=1")
    if vals["CUDNN_HALF"] and not vals["CUDNN"]:
        raise BuildError("CUDNN_HALF=1 needs CUDNN=1 (and GPU=1)")
    arch = (requested.get("ARCH") or "").strip()
    if vals["GPU"] and not arch:
        home = cuda.cuda_home()
        if home is None:
            raise BuildError("GPU=1 but no CUDA toolkit found (no nvcc on PATH, CUDA_HOME unset)")
        arch = cuda.default_arch(home / "bin" / "nvcc")
    return Flags(ARCH=arch if vals["GPU"] else "", **vals)


# --- running upstream's make -----------------------------------------------------------

def _work_dir(dest: Path) -> Path:
    d = dest / ".enet4y2"
    d.mkdir(parents=True, exist_ok=True)
    return d


def _run_make(dest: Path, args: list[str], env: dict[str, str], log: Path,
              on_line=None) -> None:
    """Run upstream make in `dest`, appending its output to `log`; raise with the tail."""
    tail: deque[str] = deque(maxlen=15)
    with open(log, "ab") as out, Child(["make", "-C", str(dest), *args], env=env) as child:
        out.write(f"\n$ make {' '.join(args)}\n".encode())
        for line in child.lines():
            out.write(line.encode() + b"\n")
            tail.append(line.rstrip())
            if on_line:
                on_line(line)
        rc = child.wait()
    if rc != 0:
        errors = [t for t in tail if "error" in t.lower()] or list(tail)
        raise BuildError(f"upstream make failed (exit {rc}): {errors[-1].strip()[:300]} "
                         f"— full log: {log}")


def _compiler_env_args(flags: Flags) -> list[str]:
    """gcc >= 14 turns darknet's cudaHostAlloc(float**) warning into an error; keep it one."""
    version = proc.output(["gcc", "-dumpversion"]) or ""
    try:
        major = int(version.split(".")[0])
    except ValueError:
        return []
    return ["CC=gcc -Wno-error=incompatible-pointer-types"] if major >= 14 and flags.GPU else []


def build(requested: dict[str, str], *, dest: Path | None = None, darknet_src: str | None = None,
          allow_other: bool = False, allow_clone: bool = True, jobs: int | None = None,
          on_line=None, report=print) -> dict:
    """Build darknet + the binding in `dest`; return the build record."""
    dest = (dest or paths.darknet_dir()).resolve()
    started = time.monotonic()
    src = source.resolve(dest, darknet_src, allow_other, allow_clone)
    flags = resolve_flags(requested)
    work = _work_dir(dest)
    log = work / "build.log"
    old = build_record.read(dest)

    env = dict(os.environ)
    cuda_setup = None
    if flags.GPU:
        cuda_setup = cuda.setup(work, cudnn=bool(flags.CUDNN))
        env = cuda_setup.env(env)

    old_flags = Flags(**old["flags"]) if old and "flags" in old else None
    if old_flags != flags and (dest / "obj").is_dir():
        # Clean with the flags the old objects were built with (GPU=1 if unknown).
        clean_flags = old_flags or Flags(GPU=1)
        report(f"flags changed ({describe(old_flags)} -> {describe(flags)}): cleaning")
        _run_make(dest, ["clean", *clean_flags.make_args()], env, log)
        build_record.remove(dest)

    compiled = []

    def watch(line: str) -> None:
        m = re.search(r" -c \S*?([\w./-]+\.(?:c|cpp|cu))\b", line)
        if m:
            compiled.append(m.group(1))
        if on_line:
            on_line(line, len(compiled))

    jobs = jobs or os.cpu_count() or 1
    _run_make(dest, [f"-j{jobs}", *flags.make_args(), *_compiler_env_args(flags)], env, log,
              watch)

    binding = _builder.compile_binding(dest, flags.defines(), cuda_setup, work, report=report)
    prep_kernel = _prep_builder.compile_prep(work, report=report)

    record = {
        "commit": src.commit,
        "commit_check": src.check,
        "source": src.origin,
        "flags": asdict(flags),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "binding": str(binding),
        "prep_kernel": str(prep_kernel),
        "cuda_driver": cuda_setup.driver if cuda_setup else None,
        "cuda_runtime_dirs": [str(d) for d in cuda_setup.runtime_dirs] if cuda_setup else [],
        "seconds": round(time.monotonic() - started, 1),
        "objects_compiled": len(compiled),
    }
    unchanged = old and old.get("flags") == record["flags"] and old.get("commit") == src.commit
    if unchanged and not compiled:
        record["built_at"] = old.get("built_at", record["built_at"])  # nothing was rebuilt
    build_record.write(dest, record)
    return record


def describe(flags: Flags | None) -> str:
    """`OPENMP+AVX`, `GPU+CUDNN+...`, `CPU` or `unknown`."""
    if flags is None:
        return "unknown"
    on = [k for k in FLAG_NAMES if getattr(flags, k)]
    return "+".join(on) or "CPU"


def parse_assignments(argv: list[str]) -> dict[str, str]:
    """KEY=VALUE words (as make passes them) into a dict; empty values are kept."""
    out = {}
    for word in argv:
        key, sep, value = word.partition("=")
        if not sep or not key.isidentifier():
            raise BuildError(f"unexpected argument {word!r} (expected KEY=VALUE)")
        out[key.upper()] = value
    return out
