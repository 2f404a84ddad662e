"""The plan of a training, pure: darknet's command line, the runs (with the optional
single-GPU warm-up), the log header, the resume command, and where darknet's weights go.
Thin I/O at the end: `resume_weights`, `newest_weights`, `write_warmup_cfg`.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from enet4y2.cfg import load_cfg
from enet4y2.cfg.model import set_net_option
from enet4y2.errors import MissingFileError, UsageError
from enet4y2.fileio import atomic_write
from enet4y2.weights.format import cfg_stem, training_outputs

#: darknet's advice for multi-GPU training from scratch: this many iterations on one GPU.
WARMUP_ITERATIONS = 1000
#: Where the temporary warm-up cfg goes, inside the backup folder.
WARMUP_DIR = ".enet4y2-warmup"


def darknet_command(executable: str | Path, data: str | Path, cfg: str | Path,
                    weights: str | Path | None = None, *, gpus: str | None = None,
                    calc_map: bool = False, clear: bool = False,
                    extra: Sequence[str] = ()) -> list[str]:
    """The argument list of `darknet detector train` (never a shell string)."""
    cmd = [str(executable), "detector", "train", str(data), str(cfg)]
    if weights is not None:
        cmd.append(str(weights))
    cmd.append("-dont_show")
    if gpus:
        cmd += ["-gpus", gpus]
    if calc_map:
        cmd.append("-map")
    if clear:
        cmd.append("-clear")
    return [*cmd, *extra]


def parse_gpus(text: str | None) -> list[int]:
    """`0,1,2` -> [0, 1, 2]; a clear error for anything else."""
    if not text:
        return []
    try:
        gpus = [int(part) for part in text.split(",")]
    except ValueError:
        gpus = []
    if not gpus or any(g < 0 for g in gpus) or len(set(gpus)) != len(gpus):
        raise UsageError(f"--gpus {text!r}: give distinct GPU indices like 0,1,2,3")
    return gpus


def header_line(command: Sequence[str], record: dict | None,
                when: datetime | None = None) -> str:
    """One line starting each run in the log: date, command, build flags, source commit."""
    when = when or datetime.now(timezone.utc)
    record = record or {}
    flags = record.get("flags") or {}
    flag_text = " ".join(f"{k}={v}" for k, v in flags.items()) or "unknown"
    commit = record.get("commit") or "unknown"
    return (f"# enet4y2 train {when.strftime('%Y-%m-%dT%H:%M:%SZ')} | "
            f"command: {shlex.join(command)} | build: {flag_text} | commit: {commit}\n")


def resume_command(data: str, cfg: str, *, gpus: str | None = None, calc_map: bool = False,
                   log: str | None = None, skip_bad: bool = False) -> str:
    """The `enet4y2 train --resume ...` line to print after an interruption."""
    cmd = ["enet4y2", "train", "--data", data, "--cfg", cfg, "--resume"]
    if gpus:
        cmd += ["--gpus", gpus]
    if calc_map:
        cmd.append("--map")
    if log:
        cmd += ["--log", log]
    if skip_bad:
        cmd.append("--skip-bad")
    return shlex.join(cmd)


def resume_weights(backup: Path, cfg_path: str | Path) -> Path:
    """`<backup>/<cfg stem>_last.weights`, or a clear error when there is none."""
    last = training_outputs(backup, cfg_path)["last"]
    if not last.is_file():
        raise MissingFileError(f"--resume: no {last} (darknet writes it every 100 "
                               "iterations) — start without --resume, or pass --weights")
    return last


def newest_weights(backup: Path, cfg_path: str | Path) -> Path | None:
    """The most recently written `<cfg stem>_*.weights` in backup/, if any."""
    stem = cfg_stem(cfg_path)
    found = [p for p in backup.glob(f"{stem}_*.weights") if p.is_file()]
    return max(found, key=lambda p: p.stat().st_mtime_ns) if found else None


@dataclass(frozen=True)
class Step:
    """One darknet run of a training: its command and the max_batches it stops at."""

    command: list[str]
    max_batches: int
    warmup: bool = False


def warmup_cfg_path(cfg_path: str | Path, backup: Path) -> Path:
    """Where the warm-up cfg copy goes: same file name, so weights keep their names."""
    return backup / WARMUP_DIR / Path(cfg_path).name


def plan_steps(executable: str | Path, data: str | Path, cfg_path: str | Path,
               weights: str | Path | None, *, backup: Path, max_batches: int,
               gpus: Sequence[int] = (), calc_map: bool = False, clear: bool = False,
               warmup: bool = False, extra: Sequence[str] = ()) -> list[Step]:
    """The darknet runs of a training (pure). With `warmup` and several GPUs: the first
    WARMUP_ITERATIONS on the first GPU (the cfg copy at `warmup_cfg_path`), then all GPUs
    from that run's final weights, without -clear so the iteration count carries on."""
    gpu_text = ",".join(map(str, gpus)) or None
    if not (warmup and len(gpus) > 1 and max_batches > WARMUP_ITERATIONS):
        return [Step(darknet_command(executable, data, cfg_path, weights, gpus=gpu_text,
                                     calc_map=calc_map, clear=clear, extra=extra),
                     max_batches)]
    first = darknet_command(executable, data, warmup_cfg_path(cfg_path, backup), weights,
                            gpus=str(gpus[0]), clear=clear, extra=extra)
    warm = training_outputs(backup, cfg_path)["final"]
    rest = darknet_command(executable, data, cfg_path, warm, gpus=gpu_text,
                           calc_map=calc_map, extra=extra)
    return [Step(first, WARMUP_ITERATIONS, warmup=True), Step(rest, max_batches)]


def write_warmup_cfg(cfg_path: Path, backup: Path) -> Path:
    """A temporary copy of the cfg for the single-GPU warm-up, in backup/ under the same
    file name, so darknet names its weights `<cfg stem>_*.weights` as usual."""
    load_cfg(cfg_path)  # a clear error before anything is written
    text = set_net_option(cfg_path.read_text(), "max_batches", str(WARMUP_ITERATIONS))
    return atomic_write(warmup_cfg_path(cfg_path, backup), text)
