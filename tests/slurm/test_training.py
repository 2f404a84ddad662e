"""The whole point, on a real Slurm: a training that outlives its jobs.
`enet4y2 train --slurm --time 1 --signal-margin 40` on the tiny model: each job runs
into its one-minute limit, where Slurm sends USR1 (at a time-limit check, up to a minute
early; the job's own timer stands in 20 s before the end if none came). The first job
is also sent USR1 through Slurm once it reaches iteration 20, so at least one requeue
happens however fast the machine is. Each time the job lets darknet reach its next save,
stops it, requeues itself, and the requeued job resumes, until darknet reaches
max_batches."""

from __future__ import annotations

import os
import re
import time
from itertools import pairwise
from pathlib import Path

import pytest

from enet4y2.cfg import write_cfg
from enet4y2.data import synthetic
from enet4y2.slurm import state as runstate
from enet4y2.weights.fit import read_header
from tests.tiny import tiny_cfg

pytestmark = [pytest.mark.darknet, pytest.mark.slurm]

ITERATION = re.compile(r"^ (\d+): [-\d.na]+, [-\d.na]+ avg loss", re.M)
JOB_HEADER = re.compile(r"^# enet4y2 slurm job (\d+) restart (\d+) on \S+: (.*)$", re.M)
MAX_BATCHES, BATCH, SAVE_EVERY = 120, 2, 10
CHAIN_BATCHES, CHAIN_JOBS = 60, 4
#: The first job is also told to stop here (Slurm's USR1 through scancel), so that at
#: least one requeue happens however fast this machine is.
STOP_AT = 20


def make_workdir(tmp_path: Path, max_batches: int) -> Path:
    """The current folder: a small synthetic dataset saving every SAVE_EVERY iterations,
    and the tiny model's tiny.cfg for `max_batches`."""
    os.chdir(tmp_path)
    ds = synthetic.make_dataset(tmp_path, train=12, valid=3, width=64, height=64)
    ds.data.write_text(ds.data.read_text() + f"savelast = {SAVE_EVERY}\n")
    Path("tiny.cfg").write_text(write_cfg(tiny_cfg(max_batches, batch=BATCH)))
    return tmp_path


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # restored afterwards
    return make_workdir(tmp_path, MAX_BATCHES)


def _wait_for_the_end(backup: Path, slurm, seconds: float) -> runstate.Chain:
    deadline = time.monotonic() + seconds
    gone = 0
    while time.monotonic() < deadline and gone < 10:
        chain = runstate.chain_of(runstate.read_events(backup))
        if chain.outcome is not None:
            # the job records its end, then exits: let Slurm see it leave (up to 60 s)
            settle = time.monotonic() + 60
            while slurm.query("squeue", "--noheader").strip() and time.monotonic() < settle:
                time.sleep(1)
            return chain
        gone = 0 if slurm.query("squeue", "--noheader").strip() else gone + 1
        time.sleep(2)
    out = (backup / "slurm.out").read_text(errors="replace") \
        if (backup / "slurm.out").is_file() else ""
    pytest.fail(f"the run did not end (or its job left the queue) in {seconds:g} s; squeue: "
                f"{slurm.query('squeue')}\nslurm.out:\n{out[-3000:]}\n{slurm.logs()}")


def _signal_after(log: Path, iteration: int, slurm, job: str) -> None:
    """USR1 to `job`'s batch shell once the log shows `iteration` (if it still runs)."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace") if log.is_file() else ""
        if any(int(i) >= iteration for i in ITERATION.findall(text)):
            slurm.query("scancel", "--batch", "--signal=USR1", job)
            return
        time.sleep(0.5)
    pytest.fail(f"no iteration {iteration} in {log} after 180 s")


def _segments(log: str) -> list[tuple[str, int, str, list[int]]]:
    """(job, restart, what it said, iterations) for each job's part of the log."""
    heads = list(JOB_HEADER.finditer(log))
    if not heads:
        return []
    out = []
    for head, nxt in zip(heads, [*heads[1:], None], strict=True):
        part = log[head.end():nxt.start() if nxt else len(log)]
        out.append((head[1], int(head[2]), head[3],
                    [int(i) for i in ITERATION.findall(part)]))
    return out


def test_a_training_is_requeued_at_its_time_limit_and_resumes_to_max_batches(
        cli, slurm, workdir):
    started = time.monotonic()
    sub = cli("train", "--data", "synth.data", "--cfg", "tiny.cfg", "--slurm",
              "--time", "1", "--signal-margin", "40")
    assert sub.exit_code == 0, sub.output + sub.stderr
    job = re.search(r"submitted job (\d+)", sub.stdout)[1]
    backup = workdir / "backup"
    assert f"enet4y2 watch {backup / 'train.log'}" in sub.stdout
    assert "may not see" in sub.stderr  # the backup folder is under /tmp: warned
    assert "--cfg tiny.cfg --slurm-status" in sub.stdout
    script = (backup / "slurm-job.sh").read_text()
    assert "#SBATCH --signal=B:USR1@40" in script and "#SBATCH --requeue" in script

    _signal_after(backup / "train.log", STOP_AT, slurm, job)
    chain = _wait_for_the_end(backup, slurm, 600)
    took = time.monotonic() - started
    assert chain.outcome == "finished", chain
    assert chain.jobs == [job]
    attempts = [a for a in chain.attempts if a.job == job]
    assert len(attempts) >= 2, attempts  # requeued at least once
    assert [a.restart for a in attempts] == list(range(len(attempts)))
    assert all(a.outcome == "requeued" for a in attempts[:-1])
    assert attempts[-1].outcome == "finished"
    assert int(re.search(r"Restarts=(\d+)", slurm.query(
        "scontrol", "-o", "show", "job", job))[1]) == len(attempts) - 1

    # the log holds every job's output, in order, and the iterations carry on
    log = (backup / "train.log").read_text(errors="replace")
    parts = _segments(log)
    assert [(j, r) for j, r, _, _ in parts] == [(job, a.restart) for a in attempts]
    assert log.index("# enet4y2 slurm job") < log.index("# enet4y2 train ")
    assert parts[0][3][0] == 1 and "starting" in parts[0][2]
    lost = []
    for (_, _, said, its), before, attempt in zip(parts[1:], parts[:-1], attempts[1:],
                                                   strict=True):
        assert its == list(range(its[0], its[-1] + 1)), "iterations skipped in a job"
        resumed = attempt.from_iteration
        assert f"(iteration {resumed})" in said
        assert its[0] == resumed + 1  # darknet goes on from the saved iteration
        assert resumed % SAVE_EVERY == 0 and resumed <= before[3][-1]
        lost.append(before[3][-1] - resumed)
    assert all(n < SAVE_EVERY for n in lost), lost  # never more than the save interval
    assert parts[-1][3][-1] == MAX_BATCHES
    final = backup / "tiny_final.weights"
    assert read_header(final).seen == MAX_BATCHES * BATCH

    status = cli("train", "--data", "synth.data", "--cfg", "tiny.cfg", "--slurm-status")
    assert status.exit_code == 0, status.output
    row = next(line for line in status.stdout.splitlines() if line.startswith(f"job {job}:"))
    assert f"job {job}: COMPLETED, {len(attempts) - 1} requeues, iterations start→" in row
    assert f"→{MAX_BATCHES}; ended: " in row and row.endswith("finished")
    assert "run: finished" in status.stdout
    print(f"\n{len(attempts)} jobs, stopped by {[a.note for a in attempts[:-1]]}, "
          f"iterations lost per requeue {lost}, {took:.0f} s")


def test_a_chain_of_dependent_jobs_goes_on_without_requeue(cli, slurm, workdir):
    Path("tiny.cfg").write_text(write_cfg(tiny_cfg(CHAIN_BATCHES, batch=BATCH)))
    sub = cli("train", "--data", "synth.data", "--cfg", "tiny.cfg", "--slurm", "--time", "1",
              "--signal-margin", "40", "--chain", str(CHAIN_JOBS))
    assert sub.exit_code == 0, sub.output + sub.stderr
    jobs = re.search(r"submitted \d+ chained jobs ([\d, ]+) ", sub.stdout)[1].split(", ")
    assert len(jobs) == CHAIN_JOBS
    backup = workdir / "backup"
    assert "#SBATCH --no-requeue" in (backup / "slurm-job.sh").read_text()
    for before, job in pairwise(jobs):
        info = slurm.query("scontrol", "-o", "show", "job", job)
        assert f"Dependency=afterany:{before}" in info or "JobState=COMPLETED" in info, info

    # the first job is told to stop early (USR1 through Slurm, as a user or a preemption
    # with a grace time would), so the chain has to go on whatever this machine's speed
    _signal_after(backup / "train.log", STOP_AT, slurm, jobs[0])
    chain = _wait_for_the_end(backup, slurm, 540)
    deadline = time.monotonic() + 120  # the jobs after the end exit at once
    while slurm.query("squeue", "--noheader").strip() and time.monotonic() < deadline:
        time.sleep(2)
    chain = runstate.chain_of(runstate.read_events(backup))
    trained = chain.attempts  # the jobs after the end record nothing
    assert chain.outcome == "finished" and len(trained) >= 2, chain.attempts
    assert trained[0].iteration < CHAIN_BATCHES
    assert all(a.restart == 0 for a in chain.attempts)  # nothing was requeued
    assert [a.outcome for a in trained] == ["stopped"] * (len(trained) - 1) + ["finished"]
    for before, after in pairwise(trained):
        assert after.from_iteration == before.saved_iteration
    out = (backup / "slurm.out").read_text(errors="replace")
    assert out.count("already reached max_batches") == CHAIN_JOBS - len(trained)
    log = (backup / "train.log").read_text(errors="replace")
    assert [int(i) for i in ITERATION.findall(log)][-1] == CHAIN_BATCHES
    assert read_header(backup / "tiny_final.weights").seen == CHAIN_BATCHES * BATCH
