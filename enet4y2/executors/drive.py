"""`execute`: plan the shards, skip the finished ones, run the rest on an engine, write each
shard's file as it comes back, report progress, and read the merged lines in input order."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from enet4y2.errors import Enet4y2Error, OutputError, UsageError
from enet4y2.executors import runs
from enet4y2.executors.engines import EXECUTORS, LocalPool, RayActors
from enet4y2.executors.jobs import Job, ShardResult
from enet4y2.fileio import exclusive_lock


class ShardsFailedError(Enet4y2Error, RuntimeError):
    """Shards whose workers kept dying; a rerun retries them."""


@dataclass
class Progress:
    """A snapshot: shards and images done (resumed ones included), images/s overall and
    per worker (this run's), and the seconds left at the overall rate (None: unknown)."""

    shards_done: int
    shards_total: int
    images_done: int
    images_total: int
    rate: float
    workers: dict[str, float]
    eta: float | None


@dataclass
class RunReport:
    lines: list[str]
    shards: int
    resumed: int
    failures: int
    workers: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0


class _Tracker:
    def __init__(self, shards: Sequence[runs.Shard], todo: Sequence[runs.Shard],
                 on_progress: Callable[[Progress], None] | None) -> None:
        self.shards_total, self.images_total = len(shards), sum(len(s.items) for s in shards)
        self.shards_done = len(shards) - len(todo)
        self.images_done = self.images_total - sum(len(s.items) for s in todo)
        self.start, self.ran = time.perf_counter(), 0
        self.busy: dict[str, list[float]] = {}  # worker -> [images, seconds]
        self.on_progress = on_progress
        self.failures = 0

    def rates(self) -> dict[str, float]:
        return {w: n / s if s > 0 else 0.0 for w, (n, s) in sorted(self.busy.items())}

    def update(self, shard: runs.Shard, result: ShardResult) -> None:
        n = len(shard.items)
        self.shards_done, self.images_done, self.ran = (self.shards_done + 1,
                                                        self.images_done + n, self.ran + n)
        self.failures += result.failures
        entry = self.busy.setdefault(result.worker, [0, 0.0])
        entry[0] += n
        entry[1] += result.seconds
        if self.on_progress:
            self.on_progress(self.snapshot())

    def snapshot(self) -> Progress:
        elapsed = time.perf_counter() - self.start
        rate = self.ran / elapsed if elapsed > 0 else 0.0
        left = self.images_total - self.images_done
        return Progress(self.shards_done, self.shards_total, self.images_done,
                        self.images_total, rate, self.rates(),
                        left / rate if rate > 0 else None)


def engine_for(job: Job, executor: str, workers: int, *, address: str | None = None,
               gpus_per_worker: float = 0.0, cpus_per_worker: int = 1, retries: int = 2):
    """The engine an `--executor` names; a combination that cannot work is a UsageError."""
    if executor not in EXECUTORS:
        raise UsageError(f"unknown executor {executor!r}: choose from {', '.join(EXECUTORS)}")
    if workers < 1:
        raise UsageError("--workers must be at least 1")
    if executor == "local":
        if address is not None or gpus_per_worker or cpus_per_worker != 1:
            raise UsageError("--address, --gpus-per-worker and --cpus-per-worker are for "
                             "--executor ray")
        return LocalPool(job, workers, retries)
    if gpus_per_worker < 0 or cpus_per_worker < 1:
        raise UsageError("--gpus-per-worker must be 0 or more, --cpus-per-worker 1 or more")
    return RayActors(job, workers, address=address, gpus=gpus_per_worker,
                     cpus=cpus_per_worker, retries=retries)


def execute(job: Job, items: Sequence, out: str | os.PathLike, engine, *,
            shard_size: int = runs.DEFAULT_SHARD_SIZE,
            on_progress: Callable[[Progress], None] | None = None) -> RunReport:
    """Run `job` over `items` (detect: paths; eval: (path, image_id) pairs) with the run
    folder `out`; the merged lines in input order. Refuses a folder of another run."""
    items = [tuple(i) if isinstance(i, list) else i for i in items]
    wanted = runs.manifest(job.kind, job.model.files(), job.model.settings(), job.options,
                           [list(i) if isinstance(i, tuple) else i for i in items],
                           shard_size)
    folder = runs.RunFolder(out)
    try:
        Path(out).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"--out {out}: {exc.strerror} — choose a writable folder") from None
    with exclusive_lock(Path(out) / ".lock", f"--out {out}"):
        folder.open(wanted)
        shards = runs.plan(items, shard_size)
        todo = [s for s in shards if not folder.finished(s)]
        tracker = _Tracker(shards, todo, on_progress)

        def done(shard: runs.Shard, result: ShardResult) -> None:
            folder.write(shard, result.lines)
            tracker.update(shard, result)

        failed = engine.run(todo, done) if todo else {}
        if failed:
            first = min(failed)
            raise ShardsFailedError(
                f"{len(failed)} of {len(shards)} shards failed (shard {first:05d}: "
                f"{failed[first]}); the others are saved in {out} — rerun the same command "
                "to retry")
        lines = folder.lines(shards)
    failures = sum(1 for x in lines if '"error":' in x and "error" in json.loads(x))
    return RunReport(lines, len(shards), len(shards) - len(todo), failures,
                     tracker.rates(), time.perf_counter() - tracker.start)
