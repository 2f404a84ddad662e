"""`make darknet`: build the pinned upstream darknet and the cffi binding against it.

    python -m enet4y2.build [GPU=1] [CUDNN=1] [CUDNN_HALF=1] [OPENCV=1] [OPENMP=1] [AVX=1]
                            [ARCH=...] [DARKNET_SRC=dir] [DEST=dir] [DARKNET_ALLOW_OTHER=1]

Empty values mean "choose automatically". The flags and the source commit are recorded
beside the build (`.enet4y2-build.json`); changing flags cleans first (with the *old* flags,
since upstream's `make clean` only removes GPU objects when told GPU=1); an unchanged
build compiles nothing.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections import deque
from dataclasses import asdict, dataclass
from pathlib import Path

from enet4y2 import paths, source
from enet4y2.errors import BuildError
from enet4y2.fileio import atomic_write_json

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
    try:
        r = subprocess.run([cc, "-fopenmp", "-x", "c", "-", "-o", os.devnull], input=prog,
                           capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return False
    return r.returncode == 0


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
    try:
        return subprocess.run(["pkg-config", "--exists", name], timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


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
        from enet4y2 import cuda

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
    with open(log, "ab") as out:
        out.write(f"\n$ make {' '.join(args)}\n".encode())
        proc = subprocess.Popen(["make", "-C", str(dest), *args], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, env=env)
        assert proc.stdout is not None
        for raw in iter(proc.stdout.readline, b""):
            out.write(raw)
            line = raw.decode(errors="replace").rstrip()
            tail.append(line)
            if on_line:
                on_line(line)
        rc = proc.wait()
    if rc != 0:
        errors = [t for t in tail if "error" in t.lower()] or list(tail)
        raise BuildError(f"upstream make failed (exit {rc}): {errors[-1].strip()[:300]} "
                         f"— full log: {log}")


def _compiler_env_args(flags: Flags) -> list[str]:
    """gcc >= 14 turns darknet's cudaHostAlloc(float**) warning into an error; keep it one."""
    try:
        major = int(subprocess.run(["gcc", "-dumpversion"], capture_output=True, text=True,
                                   check=True).stdout.split(".")[0])
    except (OSError, subprocess.SubprocessError, ValueError):
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
    record_path = dest / paths.BUILD_RECORD_NAME
    old = _read_json(record_path)

    env = dict(os.environ)
    cuda_setup = None
    if flags.GPU:
        from enet4y2 import cuda

        cuda_setup = cuda.setup(work, cudnn=bool(flags.CUDNN))
        env = cuda_setup.env(env)

    old_flags = Flags(**old["flags"]) if old and "flags" in old else None
    if old_flags != flags and (dest / "obj").is_dir():
        # Clean with the flags the old objects were built with (GPU=1 if unknown).
        clean_flags = old_flags or Flags(GPU=1)
        report(f"flags changed ({_describe(old_flags)} -> {_describe(flags)}): cleaning")
        _run_make(dest, ["clean", *clean_flags.make_args()], env, log)
        (dest / paths.BUILD_RECORD_NAME).unlink(missing_ok=True)

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

    from enet4y2.darknet import _builder

    binding = _builder.compile_binding(dest, flags.defines(), cuda_setup, work, report=report)

    record = {
        "commit": src.commit,
        "commit_check": src.check,
        "source": src.origin,
        "flags": asdict(flags),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "binding": str(binding),
        "cuda_driver": cuda_setup.driver if cuda_setup else None,
        "cuda_runtime_dirs": [str(d) for d in cuda_setup.runtime_dirs] if cuda_setup else [],
        "seconds": round(time.monotonic() - started, 1),
        "objects_compiled": len(compiled),
    }
    unchanged = old and old.get("flags") == record["flags"] and old.get("commit") == src.commit
    if unchanged and not compiled:
        record["built_at"] = old.get("built_at", record["built_at"])  # nothing was rebuilt
    atomic_write_json(record_path, record, indent=2)
    return record


def _describe(flags: Flags | None) -> str:
    if flags is None:
        return "unknown"
    on = [k for k in FLAG_NAMES if getattr(flags, k)]
    return "+".join(on) or "CPU"


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def parse_assignments(argv: list[str]) -> dict[str, str]:
    """KEY=VALUE words (as make passes them) into a dict; empty values are kept."""
    out = {}
    for word in argv:
        key, sep, value = word.partition("=")
        if not sep or not key.isidentifier():
            raise BuildError(f"unexpected argument {word!r} (expected KEY=VALUE)")
        out[key.upper()] = value
    return out


def main(argv: list[str] | None = None) -> int:
    from enet4y2.cli.terminal import terminal

    try:
        args = parse_assignments(sys.argv[1:] if argv is None else argv)
        dest = Path(args["DEST"]) if args.get("DEST") else None
        allow_other = args.get("DARKNET_ALLOW_OTHER", os.environ.get("DARKNET_ALLOW_OTHER", ""))
        src = args.get("DARKNET_SRC") or os.environ.get("DARKNET_SRC") or None
        with terminal.err.status("building darknet") as status:

            def on_line(line: str, n: int) -> None:
                status.update(f"building darknet: {n} files compiled")

            record = build(args, dest=dest, darknet_src=src, allow_other=allow_other == "1",
                           on_line=on_line, report=terminal.info)
    except BuildError as exc:
        terminal.err.print(f"[bold red]error:[/] {exc}", soft_wrap=True)
        return 1
    what = _describe(Flags(**record["flags"]))
    commit = (record["commit"] or "unverified")[:12]
    if record["objects_compiled"]:
        terminal.info(f"darknet built ({what}, commit {commit}, {record['commit_check']} check, "
                      f"{record['objects_compiled']} files compiled, {record['seconds']} s)")
    else:
        terminal.info(f"darknet is up to date ({what}, commit {commit})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
