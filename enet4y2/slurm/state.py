"""The run's own record of its jobs: `<backup>/slurm-jobs.jsonl`, one JSON object per
line, appended by the submitter (`submitted`) and by each job (`start`, `end`). Slurm's
accounting (sacct) needs slurmdbd, which many clusters do not give users; this file
always exists beside the weights. Appends are single writes of one line; a torn line
(a job killed mid-write) is skipped when reading, never misread."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from enet4y2.fileio import json_text

STATE_NAME = "slurm-jobs.jsonl"
#: How a job ended: what the next job does about it.
CONTINUES = ("requeued", "stopped", "killed")  # a later job (requeue, chain) goes on
ENDS = ("finished", "failed")  # the run is over: later jobs of the chain exit at once


def state_path(backup: Path) -> Path:
    return backup / STATE_NAME


def append_event(backup: Path, event: dict) -> None:
    """Append one event (with the time) as one line, in one write; after a torn line
    (a job killed mid-write) on a line of its own, so it is never glued to the fragment."""
    line = json_text({"time": round(time.time(), 3), **event}) + "\n"
    fd = os.open(state_path(backup), os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        end = os.lseek(fd, 0, os.SEEK_END)
        if end and os.pread(fd, 1, end - 1) != b"\n":
            line = "\n" + line
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def read_events(backup: Path) -> list[dict]:
    """Every complete event in the file (none when it does not exist)."""
    try:
        text = state_path(backup).read_text(errors="replace")
    except FileNotFoundError:
        return []
    return parse_events(text)


# --- pure ---------------------------------------------------------------------------
def parse_events(text: str) -> list[dict]:
    """The JSON objects of the file's lines; torn or foreign lines skipped."""
    out = []
    for line in text.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and "event" in event:
            out.append(event)
    return out


def latest_run(events: list[dict]) -> str | None:
    """The run id of the newest submission."""
    runs = [e.get("run") for e in events if e["event"] == "submitted"]
    return runs[-1] if runs else None


@dataclass
class Attempt:
    """One start of a job (a requeued job starts again under the same id)."""

    job: str
    restart: int
    host: str | None = None
    started: float | None = None
    from_iteration: int | None = None  # what it resumed from (None: a fresh start)
    ended: float | None = None
    iteration: int | None = None  # the last iteration darknet logged
    saved_iteration: int | None = None  # what the newest complete weights hold
    outcome: str | None = None  # None while it runs (or if it died without a word)
    note: str | None = None


@dataclass
class Chain:
    run: str | None
    jobs: list[str]  # as submitted, in order
    attempts: list[Attempt]

    @property
    def outcome(self) -> str | None:
        """"finished"/"failed" once a job said so, else None."""
        ends = [a.outcome for a in self.attempts if a.outcome in ENDS]
        return ends[-1] if ends else None

    def restarts(self, job: str) -> int:
        """How often `job` was requeued (starts after its first)."""
        return max(sum(1 for a in self.attempts if a.job == job) - 1, 0)


def chain_of(events: list[dict], run: str | None = None) -> Chain:
    """The jobs and attempts of one run (default: the newest submission)."""
    run = run if run is not None else latest_run(events)
    mine = [e for e in events if e.get("run") == run]
    jobs = [str(e["job"]) for e in mine if e["event"] == "submitted"]
    for e in mine:  # a job submitted by hand (`sbatch backup/slurm-job.sh`) joins the run
        if e["event"] == "start" and str(e["job"]) not in jobs:
            jobs.append(str(e["job"]))
    attempts: list[Attempt] = []
    for e in mine:
        if e["event"] == "start":
            attempts.append(Attempt(str(e["job"]), int(e.get("restart") or 0), e.get("host"),
                                    e.get("time"), e.get("from_iteration")))
        elif e["event"] == "end":
            restart = int(e.get("restart") or 0)
            match = next((a for a in reversed(attempts)
                          if a.job == str(e["job"]) and a.restart == restart), None)
            if match is None:
                match = Attempt(str(e["job"]), restart)
                attempts.append(match)
            match.ended, match.iteration = e.get("time"), e.get("iteration")
            match.saved_iteration = e.get("saved_iteration")
            match.outcome, match.note = e.get("outcome"), e.get("note")
    return Chain(run, jobs, attempts)
