"""One `enet4y2 train` run from start to end: cfg and data checks, pre-flight over the
image lists, the weights to start from, the optional single-GPU warm-up, then darknet
under supervision. The CLI passes a `Reporter` to render; this module prints nothing."""

from __future__ import annotations

import os
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from enet4y2 import paths
from enet4y2.build import record as build_record
from enet4y2.cfg import load_cfg, validate
from enet4y2.data.files import replace_data_value
from enet4y2.errors import DataError, NotBuiltError, UsageError
from enet4y2.fileio import atomic_write, exclusive_lock
from enet4y2.log.state import LogState
from enet4y2.train import preflight
from enet4y2.train.plan import (
    header_line,
    parse_gpus,
    plan_steps,
    resume_command,
    resume_weights,
    write_warmup_cfg,
)
from enet4y2.train.process import RunResult, first_divergence, nan_message, run_darknet
from enet4y2.train.saved import SavedWeights, check_resume, inspect, saved_since
from enet4y2.train.start import WeightsChoice, select_weights
from enet4y2.weights.format import training_outputs

BAD_LIST_NAME = "preflight-bad.txt"
#: Held while a run uses the backup folder (darknet would mix two runs' weights).
LOCK_NAME = ".enet4y2-train.lock"


@dataclass(frozen=True)
class TrainOptions:
    data: str = "coco.data"
    cfg: str = "cfg/enet4y2-coco.cfg"
    weights: str | None = None
    weights_cfg: str | None = None  # the classifier cfg the weights were trained with
    gpus: str | None = None
    calc_map: bool = False
    resume: bool = False
    clear: bool = False
    log: str | None = None
    on_nan: str = "stop"
    skip_bad: bool = False
    check_all: bool = False
    warmup_single_gpu: bool = False
    extra: tuple[str, ...] = ()


class Reporter:
    """What the session tells its user; the CLI overrides these. Defaults stay silent."""

    def info(self, message: str) -> None: ...
    def warn(self, message: str) -> None: ...
    def progress(self, description: str, total: int) -> Callable[[int, int], None]:
        return lambda done, total: None
    def bad_files(self, bad: list[preflight.BadFile], written: Path) -> None: ...
    def started(self, command: list[str], log: Path, max_batches: int) -> None: ...
    def update(self, state: LogState, events: list) -> None: ...
    def finished(self) -> None:
        """A progress display or a darknet run ended."""


@dataclass
class Outcome:
    result: RunResult
    log: Path
    backup: Path
    resume: str  # the command that goes on from here (with --resume only when it works)
    weights: WeightsChoice
    #: weights darknet wrote during this run, newest first, each checked against the cfg
    saved: list[SavedWeights] = field(default_factory=list)
    commands: list[list[str]] = field(default_factory=list)

    @property
    def newest(self) -> SavedWeights | None:
        """The newest complete weights this run wrote (never a file of an earlier run)."""
        return next((s for s in self.saved if s.ok), None)

    @property
    def broken(self) -> list[SavedWeights]:
        """Weights this run wrote that are not the whole model (truncated, ...)."""
        return [s for s in self.saved if not s.ok]

    @property
    def redone(self) -> int | None:
        """Iterations logged after the newest weights: a resume does them again."""
        last, newest = self.result.state.last, self.newest
        if last is None or newest is None or newest.iteration is None:
            return None
        return max(last.iteration - newest.iteration, 0)


def run(opts: TrainOptions, reporter: Reporter | None = None,
        cwd: Path | None = None) -> Outcome:
    """Check everything, then train; returns how darknet ended (errors before darknet
    starts raise `Enet4y2Error`). One run at a time per backup folder (a lock holds it)."""
    rep = reporter or Reporter()
    cwd = cwd or Path.cwd()
    cfg, gpus, check = _checked(opts, cwd)
    with exclusive_lock(check.backup / LOCK_NAME, f"backup folder {check.backup}"):
        return _run_locked(opts, rep, cwd, cfg, gpus, check)


def check_only(opts: TrainOptions, reporter: Reporter | None = None,
               cwd: Path | None = None) -> preflight.DataCheck:
    """Everything `run` checks before darknet starts (options, cfg, .data, pre-flight
    over the lists, the weights, the build), nothing started: for a run that will train
    elsewhere (a Slurm job). Returns the checked .data (its backup folder made)."""
    rep = reporter or Reporter()
    cwd = cwd or Path.cwd()
    cfg, _, check = _checked(opts, cwd)
    with exclusive_lock(check.backup / LOCK_NAME, f"backup folder {check.backup}"):
        _preflight(opts, check, cwd, rep)
        _weights_choice(opts, cfg, check.backup)
    if not paths.darknet_executable().is_file():
        raise NotBuiltError(f"{paths.darknet_executable()}: darknet is not built — run "
                            "`make darknet`")
    return check


def _checked(opts: TrainOptions, cwd: Path):
    """The options, the cfg and the .data checked; the backup folder made."""
    if opts.resume and (opts.weights or opts.clear):
        raise UsageError("--resume continues from backup/<cfg>_last.weights — drop "
                         "--weights/--clear, or drop --resume")
    if opts.on_nan not in ("stop", "warn"):
        raise UsageError(f"--on-nan {opts.on_nan!r}: use stop or warn")
    gpus = parse_gpus(opts.gpus)
    cfg = load_cfg(opts.cfg)
    validate(cfg)
    check = preflight.check_data(opts.data, cfg.classes, cwd)
    if check.problems:
        raise DataError("; ".join(check.problems) + " — fix the .data file")
    try:
        check.backup.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"backup = {check.options.get('backup')}: cannot create "
                        f"{check.backup} ({exc.strerror}) — point backup= at a writable "
                        "folder") from None
    return cfg, gpus, check


def _weights_choice(opts: TrainOptions, cfg, backup: Path) -> WeightsChoice:
    if opts.resume:
        start = check_resume(resume_weights(backup, opts.cfg), cfg)
        return WeightsChoice(start.path, "resume", f"resuming from {start.path} "
                             f"(iteration {start.iteration})")
    classifier = load_cfg(opts.weights_cfg) if opts.weights_cfg else None
    return select_weights(opts.weights, cfg, backup, classifier)


def _run_locked(opts: TrainOptions, rep: Reporter, cwd: Path, cfg, gpus: list[int],
                check: preflight.DataCheck) -> Outcome:
    backup = check.backup
    data_path = _preflight(opts, check, cwd, rep)
    choice = _weights_choice(opts, cfg, backup)
    (rep.warn if choice.kind == "scratch" else rep.info)(choice.note)
    exe = paths.darknet_executable()
    if not exe.is_file():
        raise NotBuiltError(f"{exe}: darknet is not built — run `make darknet`")

    log = Path(opts.log) if opts.log else backup / "train.log"
    resume = resume_command(opts.data, opts.cfg, gpus=opts.gpus, calc_map=opts.calc_map,
                            log=opts.log, skip_bad=opts.skip_bad)
    record = build_record.read()
    nan_warned = []

    def on_events(state: LogState, events: list) -> None:
        if opts.on_nan == "warn" and not nan_warned:
            it = first_divergence(events)
            if it is not None:
                nan_warned.append(it)
                rep.warn(nan_message(it))
        rep.update(state, events)

    def run_one(cmd: list[str], max_batches: int) -> RunResult:
        rep.started(cmd, log, max_batches)
        try:
            return run_darknet(cmd, log, header_line(cmd, record), cwd=cwd,
                               on_nan=opts.on_nan, on_events=on_events)
        finally:
            rep.finished()

    warmup = opts.warmup_single_gpu and not opts.resume
    if opts.warmup_single_gpu and len(gpus) < 2:
        rep.warn("--warmup-single-gpu needs --gpus with two or more GPUs; ignored")
    steps = plan_steps(exe, data_path, opts.cfg, choice.path, backup=backup,
                       max_batches=cfg.max_batches, gpus=gpus, calc_map=opts.calc_map,
                       clear=opts.clear, warmup=warmup, extra=opts.extra)
    commands, result = [], None
    started = time.time_ns() - 1_000_000_000  # file times lag the clock by up to a tick
    for step in steps:
        if step.warmup:
            warm_cfg = write_warmup_cfg(Path(opts.cfg), backup)
            rep.info(f"warm-up: the first {step.max_batches} iterations on one GPU "
                     f"({warm_cfg}), then all of {opts.gpus}")
        commands.append(step.command)
        result = run_one(step.command, step.max_batches)
        if not result.ok or result.interrupted:
            break
    assert result is not None
    saved = saved_since(backup, opts.cfg, cfg, started)
    last = training_outputs(backup, opts.cfg)["last"]
    if not (last.is_file() and inspect(last, cfg).ok):  # --resume would fail: start over
        resume = shlex.join(["enet4y2", "train", *train_argv(opts)])
    return Outcome(result, log, backup, resume, choice, saved, commands)


def train_argv(opts: TrainOptions) -> list[str]:
    """The options of this run as `enet4y2 train` takes them."""
    argv = ["--data", opts.data, "--cfg", opts.cfg]
    for flag, value in (("--weights", opts.weights), ("--weights-cfg", opts.weights_cfg),
                        ("--gpus", opts.gpus), ("--log", opts.log)):
        if value:
            argv += [flag, value]
    for flag, on in (("--map", opts.calc_map), ("--clear", opts.clear),
                     ("--skip-bad", opts.skip_bad), ("--check-all", opts.check_all),
                     ("--warmup-single-gpu", opts.warmup_single_gpu)):
        if on:
            argv.append(flag)
    return [*argv, *(["--", *opts.extra] if opts.extra else [])]


def _preflight(opts: TrainOptions, check: preflight.DataCheck, cwd: Path,
               rep: Reporter) -> Path:
    """Check the .data file's lists; returns the .data path darknet should get (a cleaned
    copy in backup/ when --skip-bad dropped files)."""
    lists = {"train": check.train}
    if opts.calc_map and check.valid and check.valid != check.train:
        lists["valid"] = check.valid
    size = None if opts.check_all else preflight.DEFAULT_SAMPLE
    bad_by_list, all_bad = {}, []
    for key, list_path in lists.items():
        listing = preflight.read_listing(list_path)
        shown = min(len(listing.images()), size or len(listing.images()))
        done = rep.progress(f"checking {key} images", shown)
        try:
            found = preflight.check_images(list_path, check.classes, sample_size=size,
                                           cwd=cwd, progress=done)
        finally:
            rep.finished()
        bad_by_list[key] = (listing, found.bad)
        all_bad += found.bad
        what = "all" if size is None or found.images <= size else "a sample of"
        rep.info(f"pre-flight {key}: {found.images} images listed, {what} "
                 f"{found.decoded} decoded with labels checked, {len(found.bad)} bad")
    if not all_bad:
        return Path(opts.data)
    written = preflight.write_bad_list(all_bad, check.backup / BAD_LIST_NAME)
    rep.bad_files(all_bad, written)
    if not opts.skip_bad:
        raise DataError(f"pre-flight found {len(all_bad)} bad files (listed in {written}) — "
                        "fix them, or pass --skip-bad to train on a cleaned copy of the list")
    text = Path(opts.data).read_text()
    for key, (listing, bad) in bad_by_list.items():
        if not bad:
            continue
        stem = lists[key].stem
        if any(p.stem == stem for k, p in lists.items() if k != key):
            stem = f"{stem}.{key}"  # train and valid lists of one name: keep them apart
        clean = check.backup / f"{stem}.clean.txt"
        preflight.write_clean_list(listing, bad, clean)
        text = replace_data_value(text, key, os.fspath(clean.resolve()))
        rep.info(f"--skip-bad: training on {clean} (your {lists[key]} is unchanged)")
    data = check.backup / f"{Path(opts.data).stem}.clean.data"
    return atomic_write(data, text.encode())
