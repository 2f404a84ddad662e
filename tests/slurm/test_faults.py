"""Faults from outside, on a real Slurm: a training preempted (a job of the higher tier
`urgent` partition takes the node; PreemptMode=REQUEUE) and then requeued by an admin
(`scontrol requeue`), and a training whose node is set down. Slurm sends SIGTERM to every
process of the job and requeues it itself; the job records `killed`, the restarted job
resumes from the newest complete weights, and the run reaches max_batches with nothing
lost but the iterations since the last save. `--slurm-status` says each time, in the
job's one line, what Slurm did."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from enet4y2.cfg import load_cfg
from enet4y2.slurm import state as runstate
from enet4y2.train.saved import inspect
from enet4y2.weights.fit import read_header
from tests.slurm.cluster import URGENT
from tests.slurm.test_training import (
    BATCH,
    SAVE_EVERY,
    _segments,
    _wait_for_the_end,
    make_workdir,
)

pytestmark = [pytest.mark.darknet, pytest.mark.slurm]

MAX_BATCHES = 80  # saves every SAVE_EVERY iterations, as test_training's runs


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # restored afterwards
    return make_workdir(tmp_path, MAX_BATCHES)


def _submit(cli) -> str:
    sub = cli("train", "--data", "synth.data", "--cfg", "tiny.cfg", "--slurm")
    assert sub.exit_code == 0, sub.output + sub.stderr
    return re.search(r"submitted job (\d+)", sub.stdout)[1]


def _when_restart_reaches(log: Path, restart: int, iteration: int, slurm) -> None:
    """Wait until start `restart` of the job has logged `iteration`."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace") if log.is_file() else ""
        if any(r == restart and its and its[-1] >= iteration
               for _, r, _, its in _segments(text)):
            return
        time.sleep(0.5)
    pytest.fail(f"start {restart} logged no iteration {iteration} in 180 s; squeue: "
                f"{slurm.query('squeue')}\n{text[-2000:]}")


def _check_the_run(backup: Path, job: str, slurm, kills: int) -> list[runstate.Attempt]:
    """The run reached max_batches, each restart resumed from the newest complete save
    of the start before it (never from scratch), and no weights file is incomplete."""
    chain = _wait_for_the_end(backup, slurm, 360)
    assert chain.outcome == "finished", chain
    attempts = [a for a in chain.attempts if a.job == job]
    assert chain.jobs == [job] and len(attempts) == kills + 1, attempts
    assert [a.restart for a in attempts] == list(range(kills + 1))
    assert [a.outcome for a in attempts] == ["killed"] * kills + ["finished"]
    assert all(a.note == "signal SIGTERM" for a in attempts[:-1]), attempts
    assert f"Restarts={kills} " in slurm.query("scontrol", "-o", "show", "job", job)

    parts = _segments((backup / "train.log").read_text(errors="replace"))
    assert [(j, r) for j, r, _, _ in parts] == [(job, a.restart) for a in attempts]
    assert parts[0][3][0] == 1
    for (_, _, said, its), before, attempt in zip(parts[1:], parts[:-1], attempts[1:],
                                                   strict=True):
        resumed = attempt.from_iteration
        assert resumed is not None and resumed > 0, attempt  # never from scratch
        assert f"(iteration {resumed})" in said
        # the newest save before the kill: nothing lost but the iterations since
        assert resumed == before[3][-1] // SAVE_EVERY * SAVE_EVERY or \
            resumed == before[3][-1] // SAVE_EVERY * SAVE_EVERY - SAVE_EVERY, \
            (resumed, before[3][-1])  # (killed on the save's own line: the one before)
        assert its == list(range(resumed + 1, its[-1] + 1))
    assert parts[-1][3][-1] == MAX_BATCHES
    assert read_header(backup / "tiny_final.weights").seen == MAX_BATCHES * BATCH
    cfg = load_cfg("tiny.cfg")
    incomplete = [s for s in map(lambda p: inspect(p, cfg), backup.glob("tiny_*.weights"))
                  if not s.ok]
    assert not incomplete, incomplete
    return attempts


def _status_row(cli, job: str) -> str:
    status = cli("train", "--data", "synth.data", "--cfg", "tiny.cfg", "--slurm-status")
    assert status.exit_code == 0, status.output
    assert "run: finished" in status.stdout
    rows = [line for line in status.stdout.splitlines() if line.startswith(f"job {job}:")]
    assert len(rows) == 1, status.stdout  # one line for the job, however often it ran
    return rows[0]


def test_a_preempted_then_requeued_training_resumes_to_max_batches(cli, slurm, workdir):
    started = time.monotonic()
    job = _submit(cli)
    backup = workdir / "backup"
    log = backup / "train.log"
    # preemption: a job of the higher tier partition needs every CPU of the node
    _when_restart_reaches(log, 0, 15, slurm)
    slurm.query("sbatch", f"--partition={URGENT}", f"--cpus-per-task={slurm.cpus}",
                "--output=/dev/null", "--wrap=sleep 1")
    # then an admin requeues it once it trained again
    _when_restart_reaches(log, 1, 35, slurm)
    slurm.query("scontrol", "requeue", job)

    attempts = _check_the_run(backup, job, slurm, kills=2)
    row = _status_row(cli, job)
    spans = ", ".join(f"{'start' if a.from_iteration is None else a.from_iteration}→"
                      f"{a.iteration}" for a in attempts)
    assert row == (f"job {job}: COMPLETED, 2 requeues, iterations {spans}; ended: "
                   "killed (preempted), requeued, killed (scontrol requeue), requeued, "
                   "finished"), row
    print(f"\n{row}\n{time.monotonic() - started:.0f} s")


def test_a_training_whose_node_goes_down_is_requeued_and_resumes(cli, slurm, workdir):
    started = time.monotonic()
    job = _submit(cli)
    backup = workdir / "backup"
    _when_restart_reaches(backup / "train.log", 0, 15, slurm)
    slurm.query("scontrol", "update", "nodename=localhost", "state=down",
                "reason=enet4y2 test")
    # slurmd still answers, so the node returns to service (ReturnToService=2) by itself
    # once the job is off it; an admin would resume it
    deadline = time.monotonic() + 60
    while "RUNNING" in slurm.query("squeue", "--noheader", "--jobs", job, "--format=%T") \
            and time.monotonic() < deadline:
        time.sleep(0.5)
    if slurm.query("sinfo", "--noheader", "--format=%T", "--nodes=localhost").strip() \
            .startswith(("down", "drain")):
        slurm.query("scontrol", "update", "nodename=localhost", "state=resume")

    attempts = _check_the_run(backup, job, slurm, kills=1)
    row = _status_row(cli, job)
    assert row == (f"job {job}: COMPLETED, 1 requeues, iterations start→"
                   f"{attempts[0].iteration}, {attempts[1].from_iteration}→{MAX_BATCHES}; "
                   "ended: killed (node failure), requeued, finished"), row
    out = (backup / "slurm.out").read_text(errors="replace")
    assert "DUE TO NODE FAILURE" in out
    print(f"\n{row}\n{time.monotonic() - started:.0f} s")
