"""The job chain as it stands: the state file's attempts joined with what the scheduler
says now (`scontrol show job`: state, reason, restarts) and with why Slurm killed a job
(slurmstepd's `*** JOB N ON node CANCELLED AT time DUE TO cause ***` line in the job
output: preemption, an admin's requeue, a node failure, the time limit). Works without
slurmdbd; a job Slurm has forgotten (MinJobAge) is shown from the state file alone."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from enet4y2 import proc
from enet4y2.slurm import state as runstate
from enet4y2.slurm.script import OUTPUT_NAME

_CANCELLED = re.compile(r"\*\*\* JOB (\d+) ON \S+ CANCELLED AT (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)"
                        r"(?: DUE TO ([A-Z][A-Z ]*[A-Z]))?")
#: slurmstepd's causes, as the status says them (no cause: scancel).
CAUSES = {"PREEMPTION": "preempted", "JOB REQUEUE": "scontrol requeue",
          "NODE FAILURE": "node failure", "TIME LIMIT": "time limit"}
#: A kill is matched to the start of the job before it, allowing this much clock skew.
SKEW = 5.0


@dataclass(frozen=True)
class Kill:
    """Slurm killed `job` at `at` (epoch seconds) because of `cause`."""

    job: str
    at: float
    cause: str


def parse_kills(text: str) -> list[Kill]:
    """slurmstepd's cancel lines in a job output (pure but for the local time zone:
    Slurm writes the node's local time)."""
    out = []
    for match in _CANCELLED.finditer(text):
        try:
            at = time.mktime(time.strptime(match[2], "%Y-%m-%dT%H:%M:%S"))
        except (ValueError, OverflowError):
            continue
        cause = match[3]
        out.append(Kill(match[1], at, CAUSES.get(cause, cause.lower()) if cause
                        else "scancel"))
    return out


def attempt_endings(chain: runstate.Chain, kills: Sequence[Kill]) -> list[str]:
    """How each attempt of `chain` ended, in a few words (pure): its outcome, with
    Slurm's cause when Slurm killed it, `requeued` when Slurm started the job again,
    `lost` when it ended without a word (its node died with it) before a later start."""
    cause: dict[int, str] = {}
    for kill in kills:
        before = [i for i, a in enumerate(chain.attempts)
                  if a.job == kill.job and a.started is not None and a.started <= kill.at + SKEW]
        if before:
            cause[before[-1]] = kill.cause
    out = []
    for i, attempt in enumerate(chain.attempts):
        again = any(a.job == attempt.job for a in chain.attempts[i + 1:])
        why = cause.get(i)
        if attempt.outcome == "killed":
            word = f"killed ({why or attempt.note or 'a signal'})"
            out.append(word + (", requeued" if again else ""))
        elif attempt.outcome is None:
            out.append(f"lost ({why or 'no end recorded'}), requeued" if again else
                       "running")
        else:
            out.append(attempt.outcome)
    return out


def read_kills(output: Path) -> list[Kill]:
    """The cancel lines of the job output file (none when it cannot be read)."""
    try:
        return parse_kills(output.read_text(errors="replace"))
    except OSError:
        return []


@dataclass
class JobRow:
    job: str
    state: str  # Slurm's JobState, or what the state file says when Slurm forgot it
    reason: str | None
    restarts: int
    attempts: list[runstate.Attempt] = field(default_factory=list)
    endings: list[str] = field(default_factory=list)  # each attempt's, in a few words

    @property
    def iterations(self) -> list[tuple[int | None, int | None]]:
        """(from, to) iterations of each start of this job."""
        return [(a.from_iteration, a.iteration) for a in self.attempts]


def parse_scontrol(text: str) -> dict[str, str]:
    """`scontrol show job -o` output -> {key: value} (pure; values without spaces)."""
    out = {}
    for token in text.split():
        key, sep, value = token.partition("=")
        if sep and key not in out:
            out[key] = value
    return out


def scheduler_view(job: str) -> dict[str, str] | None:
    """What Slurm says about `job` now, or None when it does not know it (any more)."""
    done = proc.run(["scontrol", "-o", "show", "job", job], timeout=30)
    if not done.ok or "JobState=" not in done.out:
        return None
    return parse_scontrol(done.out)


def chain_rows(chain: runstate.Chain, views: dict[str, dict[str, str] | None],
               kills: Sequence[Kill] = ()) -> list[JobRow]:
    """One row per submitted job (pure given the scheduler's answers and its kills)."""
    rows = []
    endings = attempt_endings(chain, kills)
    for job in chain.jobs:
        attempts = [a for a in chain.attempts if a.job == job]
        ended = [e for a, e in zip(chain.attempts, endings, strict=True) if a.job == job]
        view = views.get(job)
        if view is not None:
            state, reason = view.get("JobState", "?"), view.get("Reason")
            restarts = int(view.get("Restarts", "0") or 0)
        else:
            last = attempts[-1].outcome if attempts else None
            state = {"finished": "COMPLETED", "failed": "FAILED", "requeued": "REQUEUED",
                     "stopped": "COMPLETED", "killed": "CANCELLED"}.get(last or "",
                                                                      "UNKNOWN")
            reason, restarts = None, chain.restarts(job)
        rows.append(JobRow(job, state, None if reason in (None, "None") else reason,
                           restarts, attempts, ended))
    return rows


def job_chain(backup: Path, run: str | None = None, output: Path | None = None
              ) -> tuple[runstate.Chain, list[JobRow]]:
    """The newest run's chain in `backup` (or `run`'s) with the scheduler's view and
    Slurm's kills from the job output (default `backup/slurm.out`)."""
    chain = runstate.chain_of(runstate.read_events(backup), run)
    views = {job: scheduler_view(job) for job in chain.jobs}
    return chain, chain_rows(chain, views, read_kills(output or backup / OUTPUT_NAME))
