"""The job chain as it stands: the state file's attempts joined with what the scheduler
says now (`scontrol show job`: state, reason, restarts). Works without slurmdbd; a job
Slurm has forgotten (MinJobAge) is shown from the state file alone."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from enet4y2 import proc
from enet4y2.slurm import state as runstate


@dataclass
class JobRow:
    job: str
    state: str  # Slurm's JobState, or what the state file says when Slurm forgot it
    reason: str | None
    restarts: int
    attempts: list[runstate.Attempt] = field(default_factory=list)

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


def chain_rows(chain: runstate.Chain, views: dict[str, dict[str, str] | None]
               ) -> list[JobRow]:
    """One row per submitted job (pure given the scheduler's answers)."""
    rows = []
    for job in chain.jobs:
        attempts = [a for a in chain.attempts if a.job == job]
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
                           restarts, attempts))
    return rows


def job_chain(backup: Path, run: str | None = None) -> tuple[runstate.Chain, list[JobRow]]:
    """The newest run's chain in `backup` (or `run`'s) with the scheduler's view."""
    chain = runstate.chain_of(runstate.read_events(backup), run)
    views = {job: scheduler_view(job) for job in chain.jobs}
    return chain, chain_rows(chain, views)
