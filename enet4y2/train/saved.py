"""What a training run left in backup/: every `<cfg stem>_*.weights` darknet wrote since
the run started, checked against the cfg (a truncated file from a full disk is named as
such, never offered as the result), with the iteration each one holds."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from enet4y2.cfg import Cfg
from enet4y2.errors import Enet4y2Error, WeightsError
from enet4y2.weights.fit import match_weights, read_header
from enet4y2.weights.format import cfg_stem


@dataclass(frozen=True)
class SavedWeights:
    path: Path
    mtime_ns: int
    iteration: int | None  # from the header's images seen (None when unreadable)
    problem: str | None  # None: the whole model, as the cfg expects

    @property
    def ok(self) -> bool:
        return self.problem is None


def held_iteration(seen: int, cfg: Cfg) -> int:
    """The iteration darknet resumes at from a file with `seen` images: its
    `get_current_batch`, seen / (batch per subdivision * subdivisions) = seen / batch."""
    return seen // max(cfg.batch, 1)


def inspect(path: Path, cfg: Cfg) -> SavedWeights:
    """How a weights file of this cfg stands: complete, or what is wrong with it."""
    mtime = path.stat().st_mtime_ns
    try:
        header = read_header(path)
        match = match_weights(path, cfg)
    except Enet4y2Error as exc:
        return SavedWeights(path, mtime, None, str(exc))
    iteration = held_iteration(header.seen, cfg)
    if match.kind == "full":
        return SavedWeights(path, mtime, iteration, None)
    if match.actual_size < match.expected_size:
        problem = (f"truncated: {match.actual_size:,} of {match.expected_size:,} bytes "
                   "(a full disk while darknet saved?)")
    else:
        problem = (f"{match.actual_size:,} bytes, but {cfg.path or 'the cfg'} needs "
                   f"{match.expected_size:,}: weights of another model")
    return SavedWeights(path, mtime, iteration, problem)


def saved_since(backup: Path, cfg_path: str | Path, cfg: Cfg, since_ns: int
                ) -> list[SavedWeights]:
    """Every `<cfg stem>_*.weights` in backup/ written at or after `since_ns`, newest
    first, each inspected."""
    stem = cfg_stem(cfg_path)
    found = []
    for path in backup.glob(f"{stem}_*.weights"):
        try:
            if path.is_file() and path.stat().st_mtime_ns >= since_ns:
                found.append(inspect(path, cfg))
        except OSError:
            continue  # removed while we looked
    return sorted(found, key=lambda s: s.mtime_ns, reverse=True)


def check_resume(path: Path, cfg: Cfg) -> SavedWeights:
    """The `_last.weights` a resume starts from, refused when darknet would load garbage
    (truncated, empty, another model)."""
    saved = inspect(path, cfg)
    if not saved.ok:
        raise WeightsError(f"--resume: {path} is {saved.problem} — resume from an older "
                           f"`{cfg_stem(path)}_<N>.weights` with --weights, or start again")
    return saved
