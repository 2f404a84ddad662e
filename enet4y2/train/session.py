"""One `enet4y2 train` run from start to end: cfg and data checks, pre-flight over the
image lists, the weights to start from, the optional single-GPU warm-up, then darknet
under supervision. The CLI passes a `Reporter` to render; this module prints nothing."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from enet4y2 import paths
from enet4y2.build import record as build_record
from enet4y2.cfg import load_cfg, validate
from enet4y2.data.files import replace_data_value
from enet4y2.errors import DataError, NotBuiltError, UsageError
from enet4y2.fileio import atomic_write
from enet4y2.log.state import LogState
from enet4y2.train import preflight
from enet4y2.train.plan import (
    header_line,
    newest_weights,
    parse_gpus,
    plan_steps,
    resume_command,
    resume_weights,
    write_warmup_cfg,
)
from enet4y2.train.process import RunResult, first_divergence, nan_message, run_darknet
from enet4y2.train.start import WeightsChoice, select_weights

BAD_LIST_NAME = "preflight-bad.txt"


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
    resume: str  # the command that resumes this training
    weights: WeightsChoice
    newest: Path | None = None  # the newest <cfg stem>_*.weights in backup/
    commands: list[list[str]] = field(default_factory=list)


def run(opts: TrainOptions, reporter: Reporter | None = None,
        cwd: Path | None = None) -> Outcome:
    """Check everything, then train; returns how darknet ended (errors before darknet
    starts raise `Enet4y2Error`)."""
    rep = reporter or Reporter()
    cwd = cwd or Path.cwd()
    if opts.resume and (opts.weights or opts.clear):
        raise UsageError("--resume continues from backup/<cfg>_last.weights — drop "
                           "--weights/--clear, or drop --resume")
    if opts.on_nan not in ("stop", "warn"):
        raise UsageError(f"--on-nan {opts.on_nan!r}: use stop or warn")
    gpus = parse_gpus(opts.gpus)
    cfg = load_cfg(opts.cfg)
    validate(cfg)

    data_path = _preflight(opts, cfg.classes, cwd, rep)
    check = preflight.check_data(data_path, cfg.classes, cwd)
    backup = check.backup

    if opts.resume:
        start = resume_weights(backup, opts.cfg)
        choice = WeightsChoice(start, "resume", f"resuming from {start}")
    else:
        classifier = load_cfg(opts.weights_cfg) if opts.weights_cfg else None
        choice = select_weights(opts.weights, cfg, backup, classifier)
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
    return _outcome(result, log, backup, resume, choice, opts, commands)


def _outcome(result, log, backup, resume, choice, opts, commands) -> Outcome:
    return Outcome(result, log, backup, resume, choice, newest_weights(backup, opts.cfg),
                   commands)


def _preflight(opts: TrainOptions, classes: int, cwd: Path, rep: Reporter) -> Path:
    """Check the .data file and its lists; returns the .data path darknet should get
    (a cleaned copy in backup/ when --skip-bad dropped files)."""
    check = preflight.check_data(opts.data, classes, cwd)
    if check.problems:
        raise DataError("; ".join(check.problems) + " — fix the .data file")
    try:
        check.backup.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"backup = {check.options.get('backup')}: cannot create "
                        f"{check.backup} ({exc.strerror}) — point backup= at a writable "
                        "folder") from None
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
        clean = check.backup / f"{lists[key].stem}.clean.txt"
        preflight.write_clean_list(listing, bad, clean)
        text = replace_data_value(text, key, os.fspath(clean.resolve()))
        rep.info(f"--skip-bad: training on {clean} (your {lists[key]} is unchanged)")
    data = check.backup / f"{Path(opts.data).stem}.clean.data"
    return atomic_write(data, text.encode())
