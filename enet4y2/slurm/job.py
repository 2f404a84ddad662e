"""Inside the job: the same supervised `enet4y2 train`, plus what a time limit needs.

Slurm sends USR1 `--signal-margin` seconds before the time limit (`--signal=B:USR1@N`).
Darknet cannot be told to save on a signal; it writes `<cfg>_last.weights` after every
iteration that is a multiple of `savelast` (a .data option, default 100). So on USR1 the
supervisor lets darknet run on to its next save when that fits in two thirds of the
margin (measured seconds per iteration), and stops it on the first iteration line after
the save, losing one iteration; when the save is too far away it stops darknet at once,
outside a save (never while it writes), losing the iterations since the last save (fewer
than `savelast`). Then it records the job's end in the state file and requeues the job
(`scontrol requeue`); the requeued job resumes from the newest complete weights. When
darknet reaches max_batches the run is over: no more requeues, later chain jobs exit.

Slurm sends the warning up to a minute early (its documented slack) at its time-limit
checks; a USR1 is always honoured (`scancel --batch --signal=USR1 <job>` is how a user
asks for a stop-and-requeue now). The job also keeps its own timer from `squeue`'s time
left and acts at half the margin before the end if no USR1 came, and darknet is stopped
by a third of the margin before the end whatever happens. A SIGTERM (scancel,
preemption, an admin's `scontrol requeue`, a node set down, the hard limit) goes to
darknet at once, as in `enet4y2 train` (Slurm signals every process of the job, so
darknet may get it first, even while it saves); the job is then recorded as killed, never
failed, and an incomplete save it left is skipped. When Slurm requeues the job itself
(PreemptMode=REQUEUE, `scontrol requeue`, a failed node under `--requeue`) the restarted
job resumes from the newest complete weights like one we requeued; `--slurm-status`
names Slurm's cause from slurmstepd's line in the job output.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from enet4y2 import proc
from enet4y2.cfg import load_cfg
from enet4y2.data.files import parse_data_file
from enet4y2.errors import Enet4y2Error, SlurmError, UsageError
from enet4y2.log.events import Iteration
from enet4y2.log.state import LogState
from enet4y2.slurm import state as runstate
from enet4y2.slurm.script import time_seconds
from enet4y2.train import preflight
from enet4y2.train.saved import SavedWeights, saved_since
from enet4y2.train.session import Outcome, Reporter, TrainOptions, run
from enet4y2.weights.format import training_outputs

#: darknet's default interval for `_last.weights` (the .data option `savelast`).
SAVE_LAST_DEFAULT = 100


class Preempted(Exception):
    """USR1 came before darknet started: nothing to save, requeue at once."""


class Terminated(Preempted):
    """SIGTERM, SIGINT or SIGHUP came before darknet started: the job is being ended."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"signal {signal.Signals(signum).name} before darknet started")
        self.signum = signum


class StopAtSave(Reporter):
    """Passes everything to the CLI's reporter; after `request()` (USR1) stops darknet
    at a safe point: after its next save when that is near, else at once."""

    def __init__(self, inner: Reporter, save_every: int, margin: float,
                 end: float | None = None) -> None:
        """`margin`: the --signal-margin; darknet is stopped within two thirds of it
        after the warning, and by `end` (the job's time limit, time.monotonic) minus a
        third of it when that is known."""
        self.inner, self.save_every, self.margin = inner, max(save_every, 1), margin
        self.budget = margin * 2 / 3
        self.deadline = None if end is None else end - margin / 3
        self.end = end
        self.why = "USR1"  # what asked for the stop
        self.max_batches: int | None = None
        self.last: int | None = None  # the last iteration darknet logged
        self.per_iteration: float | None = None  # measured seconds per iteration
        self._seen_at: float | None = None
        self.requested = False
        self.stop_after: int | None = None  # stop on the first line past this iteration
        self.stopped = False
        self.running = False  # darknet runs (its supervisor forwards our signals to it)
        self.ran = False  # darknet has run and ended
        self.signalled: int | None = None  # SIGTERM/INT/HUP while darknet was not running
        self.ending = False  # the job records its end: signals are only noted

    # -- the CLI's reporter ------------------------------------------------------------
    def info(self, message: str) -> None:
        self.inner.info(message)

    def warn(self, message: str) -> None:
        self.inner.warn(message)

    def progress(self, description: str, total: int):
        return self.inner.progress(description, total)

    def bad_files(self, bad, written: Path) -> None:
        self.inner.bad_files(bad, written)

    def started(self, command: list[str], log: Path, max_batches: int) -> None:
        if self.signalled:  # between two darknet runs (a warm-up step): do not start
            raise Terminated(self.signalled)
        if self.stopped:
            raise Preempted(self.why)
        self.max_batches = max_batches
        self.running = True
        self.inner.started(command, log, max_batches)

    def finished(self) -> None:
        self.running, self.ran = False, True
        self.inner.finished()

    def outside(self, signum: int) -> None:
        """SIGTERM/SIGINT/SIGHUP while darknet is not running (while it runs, they are
        forwarded to it): before darknet, the job ends here; after it, the job goes on
        to record how darknet ended (Slurm signals every process of the job, so ours
        may come just after darknet died of its own)."""
        self.signalled = self.signalled or signum
        if not self.ran and not self.ending:
            self.ending = True  # a second one must not break the recording
            raise Terminated(signum)

    def update(self, state: LogState, events: list) -> None:
        for event in events:
            if isinstance(event, Iteration):
                self._measure(event.iteration)
        self.inner.update(state, events)
        if self.requested and not self.stopped and self.last is not None \
                and self.stop_after is not None and self.last > self.stop_after:
            self.stop(f"stopped at iteration {self.last}, after the save at "
                      f"{self.stop_after}")

    # -- the stop ----------------------------------------------------------------------
    def alarm(self) -> None:
        """SIGALRM: our own warning (the time limit minus the margin) before a USR1
        came, else the stop deadline."""
        if self.requested:
            self.stop("the stop deadline passed: stopping darknet now")
        else:
            self.why = "the time limit (no USR1 from Slurm)"
            self.request()

    def request(self) -> None:
        """The time limit is near: plan the stop (called from a signal handler)."""
        if self.requested:
            return
        self.requested = True
        budget = self.budget
        if self.deadline is not None:
            budget = max(min(budget, self.deadline - time.monotonic()), 1.0)
        signal.setitimer(signal.ITIMER_REAL, budget)  # stop anyway by then
        last, why = self.last, self.why
        if last is None:
            self.inner.info(f"{why} before darknet logged an iteration: stopping in "
                            f"{budget:.0f} s unless it does")
            return
        target = (last // self.save_every + 1) * self.save_every
        if self.max_batches:
            target = min(target, self.max_batches)
        wait = None if self.per_iteration is None else \
            (target + 1 - last) * self.per_iteration
        if wait is not None and wait <= budget:
            self.stop_after = target
            self.inner.info(f"{why} at iteration {last}: letting darknet reach its save at "
                            f"{target} (about {wait:.0f} s), then stopping")
        elif last % self.save_every == 0:
            self.stop_after = last  # darknet may be writing that save now: let it end
            self.inner.info(f"{why} at iteration {last}: stopping after its save")
        else:
            self.stop(f"{why} at iteration {last}: next save at {target} is too far; "
                      f"stopping now ({last % self.save_every} iterations since the last "
                      "save are lost)")

    def stop(self, why: str) -> None:
        """Terminate darknet (through the supervisor's signal forwarding)."""
        if self.stopped:
            return
        signal.setitimer(signal.ITIMER_REAL, 0)
        if not self.running:
            if not self.ran and not self.ending:
                self.ending = True
                raise Preempted(why)  # darknet has not started: nothing to stop
            self.stopped, self.why = True, why  # between two darknet runs: no next one
            return
        self.stopped = True
        self.inner.info(why)
        os.kill(os.getpid(), signal.SIGTERM)

    def _measure(self, iteration: int) -> None:
        now = time.monotonic()
        if self.last is not None and self._seen_at is not None and iteration > self.last:
            took = (now - self._seen_at) / (iteration - self.last)
            self.per_iteration = took if self.per_iteration is None else \
                0.7 * self.per_iteration + 0.3 * took
        self.last, self._seen_at = iteration, now


def save_interval(data: str | Path) -> int:
    """darknet's `savelast` from the .data file (its interval for `_last.weights`)."""
    try:
        value = parse_data_file(Path(data).read_text()).get("savelast", "")
        return int(value) if int(value) > 0 else SAVE_LAST_DEFAULT
    except (OSError, ValueError):
        return SAVE_LAST_DEFAULT


def newest_complete(saved: list[SavedWeights]) -> SavedWeights | None:
    """The complete weights holding the highest iteration (pure)."""
    good = [s for s in saved if s.ok and s.iteration is not None]
    return max(good, key=lambda s: (s.iteration, s.mtime_ns)) if good else None


def start_options(opts: TrainOptions, newest: SavedWeights | None, last: Path
                  ) -> TrainOptions:
    """How a continuing job starts (pure): `--resume` from `_last.weights` when that is
    the newest complete save, else `--weights` from the newest complete one (darknet
    keeps its iteration count), else as first submitted."""
    if newest is None:
        return opts
    if newest.path == last:
        return replace(opts, resume=True, weights=None, weights_cfg=None, clear=False)
    return replace(opts, resume=False, weights=str(newest.path), weights_cfg=None,
                   clear=False)


def run_in_job(opts: TrainOptions, run_id: str, reporter: Reporter, *, margin: int,
               requeue: bool, summarise: Callable[[Outcome], int],
               cwd: Path | None = None) -> int:
    """One job of the run from start to end; returns the exit status. `requeue`: on
    USR1 requeue this job (False for --chain: the next job goes on)."""
    cwd = cwd or Path.cwd()
    job = os.environ.get("SLURM_JOB_ID", "?")
    restart = int(os.environ.get("SLURM_RESTART_COUNT") or 0)
    cfg = load_cfg(opts.cfg)
    backup = preflight.check_data(opts.data, cfg.classes, cwd).backup
    chain = runstate.chain_of(runstate.read_events(backup), run_id)
    if chain.outcome == "finished":
        reporter.info(f"run {run_id} already reached max_batches: nothing to do")
        return 0
    if chain.outcome == "failed":
        reporter.warn(f"an earlier job of run {run_id} failed: not continuing — see "
                      f"{backup / 'slurm.out'}, fix it, then submit with --slurm --resume")
        return 1
    submitted = next((e["time"] for e in runstate.read_events(backup)
                      if e["event"] == "submit" and e.get("run") == run_id), 0.0)
    start = opts
    newest = None
    since = int(submitted * 1e9) - 1_000_000_000  # weights of this run only
    if chain.attempts:  # a requeued or chained job: go on from this run's newest save
        newest = newest_complete(saved_since(backup, opts.cfg, cfg, since))
        start = start_options(opts, newest, training_outputs(backup, opts.cfg)["last"])
        if newest is None:
            reporter.warn("no complete weights saved by this run yet: starting as first "
                          "submitted")
    from_it = newest.iteration if newest is not None else None
    where = f"resuming from {newest.path} (iteration {from_it})" if newest else "starting"
    runstate.append_event(backup, {"event": "start", "run": run_id, "job": job,
                                   "restart": restart, "host": socket.gethostname(),
                                   "from_iteration": from_it})
    log = Path(opts.log) if opts.log else backup / "train.log"
    _note(log, f"# enet4y2 slurm job {job} restart {restart} on {socket.gethostname()}: "
          f"{where}\n")

    # Slurm's USR1 comes at its next time-limit check after (limit - margin); our own
    # warning follows at (limit - margin/2) in case it does not; darknet is stopped by
    # (limit - margin/3), leaving that for the stop and the requeue.
    left = time_left(job)
    end = None if left is None else time.monotonic() + left
    stopper = StopAtSave(reporter, save_interval(opts.data), margin, end)
    outcome = None
    # the signals stay ours until the end is recorded (see StopAtSave.outside)
    with _signals(stopper, None if left is None else left - margin / 2):
        try:
            outcome = run(start, stopper, cwd)
        except Preempted as why:
            reporter.info(str(why))
        except Enet4y2Error as exc:  # a check failed on the node: say so in the chain
            runstate.append_event(backup, {"event": "end", "run": run_id, "job": job,
                                           "restart": restart, "outcome": "failed",
                                           "note": str(exc)})
            raise
        stopper.ending = True
        code = summarise(outcome) if outcome is not None else 0
        ended, note = _ending(outcome, stopper, requeue)
        saved = newest_complete(saved_since(backup, opts.cfg, cfg, since))
        runstate.append_event(backup, {
            "event": "end", "run": run_id, "job": job, "restart": restart,
            "outcome": ended, "note": note,
            "saved_iteration": saved.iteration if saved else None,
            "iteration": outcome.result.state.last.iteration
            if outcome is not None and outcome.result.state.last else None})
    if ended == "requeued":
        return _requeue(backup, run_id, job, restart, reporter)
    if ended == "finished":
        reporter.info(f"run {run_id}: darknet reached max_batches — no more requeues")
        return 0
    return 0 if ended in ("stopped", "killed") else (code or 1)


def _ending(outcome: Outcome | None, stopper: StopAtSave, requeue: bool
            ) -> tuple[str, str | None]:
    """How this job ended, and a note (pure over the outcome)."""
    if outcome is None:
        if stopper.signalled:
            name = signal.Signals(stopper.signalled).name
            return "killed", f"signal {name} before darknet started"
        return ("requeued" if requeue else "stopped"), f"{stopper.why} before darknet started"
    result = outcome.result
    killed = killed_by(result)
    if outcome.broken and not (killed and not stopper.requested):
        return "failed", f"incomplete weights {outcome.broken[0].path}"  # a full disk?
    if result.ok and not result.interrupted:
        return "finished", None
    if stopper.requested and not result.stopped_on_nan:
        return ("requeued" if requeue else "stopped"), stopper.why
    if killed:  # Slurm's SIGTERM (preemption, requeue, a node set down) or scancel
        note = f"signal {signal.Signals(killed).name}"
        if outcome.broken:  # killed while it saved: the next job skips that file
            note += f", {outcome.broken[0].path.name} left incomplete"
        return "killed", note
    if result.stopped_on_nan and result.nan is not None:
        return "failed", f"nan at iteration {result.nan.iteration}"
    return "failed", f"darknet exit status {result.exit_code}"


#: Signals that end darknet from outside (Slurm, scancel, an admin), not a crash.
OUTSIDE = (signal.SIGTERM, signal.SIGKILL, signal.SIGINT, signal.SIGHUP)


def killed_by(result) -> int | None:
    """The signal that ended darknet from outside, if one did (pure): the one the
    supervisor forwarded, or the one darknet died of when Slurm signalled it directly
    (it signals every process of the job) before the supervisor noticed."""
    if result.interrupted:
        return result.interrupted
    if result.returncode < 0 and -result.returncode in OUTSIDE:
        return -result.returncode
    return None


def time_left(job: str) -> float | None:
    """Seconds until this job's time limit as Slurm sees it (None: unlimited/unknown)."""
    done = proc.run(["squeue", "--noheader", "--jobs", job, "--format=%L"], timeout=30)
    try:
        return float(time_seconds(done.out.strip())) if done.ok else None
    except UsageError:  # UNLIMITED, NOT_SET, INVALID
        return None


def _requeue(backup: Path, run_id: str, job: str, restart: int, reporter: Reporter) -> int:
    done = proc.run(["scontrol", "requeue", job], timeout=60)
    if done.ok:
        reporter.info(f"job {job} requeued: it resumes from the newest weights")
        return 0
    why = done.reason()
    runstate.append_event(backup, {"event": "end", "run": run_id, "job": job,
                                   "restart": restart, "outcome": "stopped",
                                   "note": f"scontrol requeue failed: {why}"})
    raise SlurmError(f"scontrol requeue {job} failed: {why} — go on with `enet4y2 train "
                     "--slurm --resume ...`, or use --chain where requeue is not allowed")


def _note(log: Path, line: str) -> None:
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as fh:
        fh.write(line.encode())


@contextmanager
def _signals(stopper: StopAtSave, warn_in: float | None) -> Iterator[None]:
    """USR1 asks `stopper` to stop; so does SIGALRM `warn_in` seconds from now (our own
    warning, in case Slurm's USR1 does not come); after the request SIGALRM is the stop
    deadline. SIGTERM, SIGINT and SIGHUP go to `stopper.outside` whenever darknet's
    supervisor is not forwarding them."""
    old = {signal.SIGUSR1: signal.signal(signal.SIGUSR1, lambda *_: stopper.request()),
           signal.SIGALRM: signal.signal(signal.SIGALRM, lambda *_: stopper.alarm())}
    for sig in proc.FORWARDED:  # darknet's supervisor forwards them while it runs
        if signal.getsignal(sig) is not signal.SIG_IGN:
            old[sig] = signal.signal(sig, lambda signum, _: stopper.outside(signum))
    if warn_in is not None:
        signal.setitimer(signal.ITIMER_REAL, max(warn_in, 1))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        for sig, handler in old.items():
            signal.signal(sig, handler)
