"""The pure parts: the job script, Slurm's time formats, sbatch's answer, the state file
read back into a chain, where a continuing job starts from, what counts as node-local."""

from __future__ import annotations

import shlex
import signal
import time
from pathlib import Path

import pytest

from enet4y2.errors import UsageError
from enet4y2.slurm import state as runstate
from enet4y2.slurm.job import StopAtSave, _ending, killed_by, newest_complete, start_options
from enet4y2.slurm.script import JobSpec, parse_job_id, render_script, time_seconds
from enet4y2.slurm.status import Kill, attempt_endings, chain_rows, parse_kills
from enet4y2.slurm.submit import SlurmOptions, job_args, node_local
from enet4y2.train.process import RunResult
from enet4y2.train.saved import SavedWeights
from enet4y2.train.session import Outcome, Reporter, TrainOptions
from enet4y2.train.start import WeightsChoice


def _spec(**kw) -> JobSpec:
    args = dict(train_args=("--data", "my data.data", "--cfg", "x.cfg"), python="/v/bin/python",
                cwd=Path("/work"), backup=Path("/shared/backup"), run_id="R1")
    return JobSpec(**{**args, **kw})


def test_script_asks_for_the_warning_signal_requeue_and_append():
    text = render_script(_spec(partition="gpu", time="2-00:00:00", gpus=2, mem="32G",
                               sbatch_args=("--qos=long",)))
    lines = text.splitlines()
    assert lines[0] == "#!/bin/bash"
    sbatch = [line.removeprefix("#SBATCH ") for line in lines if line.startswith("#SBATCH")]
    assert sbatch == ["--job-name=enet4y2", "--chdir=/work", "--output=/shared/backup/slurm.out",
                      "--open-mode=append", "--signal=B:USR1@300", "--requeue",
                      "--partition=gpu", "--time=2-00:00:00", "--mem=32G", "--gres=gpu:2",
                      "--qos=long"]
    command = shlex.split(lines[-1])
    assert command[:4] == ["exec", "/v/bin/python", "-m", "enet4y2"]
    assert command[4:] == ["train", "--data", "my data.data", "--cfg", "x.cfg",
                           "--slurm-job", "R1", "--quiet"]  # quoted, so it runs as shown
    assert lines.index("trap '' USR1") < len(lines) - 1


def test_chain_jobs_do_not_requeue():
    text = render_script(_spec(requeue=False))
    assert "#SBATCH --no-requeue" in text and "#SBATCH --requeue" not in text


@pytest.mark.parametrize(("text", "seconds"), [
    ("90", 5400), ("10:30", 630), ("24:00:00", 86400), ("2-00:00:00", 172800),
    ("1-12", 129600), ("1-0:30", 88200)])
def test_slurm_time_formats(text, seconds):
    assert time_seconds(text) == seconds


@pytest.mark.parametrize("text", ["", "0", "1h", "24:00:00:00", "-1", "UNLIMITED"])
def test_bad_times_are_refused(text):
    with pytest.raises(UsageError, match="--time"):
        time_seconds(text)


def test_a_margin_as_long_as_the_job_is_refused():
    with pytest.raises(UsageError, match="not longer than --signal-margin"):
        render_script(_spec(time="5", signal_margin=300))
    with pytest.raises(UsageError, match="at least 10 s"):
        render_script(_spec(signal_margin=5))


@pytest.mark.parametrize(("out", "job"), [("123\n", "123"), ("456;cluster\n", "456"),
                                          ("", None), ("Submitted batch job 7", None)])
def test_sbatch_parsable_answer(out, job):
    assert parse_job_id(out) == job


def test_job_args_keep_the_training_options_and_darknet_extras():
    opts = TrainOptions(data="d.data", cfg="c.cfg", gpus="0,1", resume=True, on_nan="warn",
                        extra=("-mjpeg_port", "8090"))
    args = job_args(opts, SlurmOptions(signal_margin=120, chain=3))
    assert args == ["--data", "d.data", "--cfg", "c.cfg", "--gpus", "0,1", "--resume",
                    "--on-nan", "warn", "--signal-margin", "120", "--chain", "3",
                    "--", "-mjpeg_port", "8090"]


def test_node_local_folders():
    mounts = "/dev/sda1 / ext4 rw 0 0\ntmpfs /scratch tmpfs rw 0 0\nnfs:/x /shared nfs rw 0 0\n"
    assert "under /tmp" in node_local(Path("/tmp/run/backup"), mounts)
    assert "tmpfs" in node_local(Path("/scratch/me/backup"), mounts)
    assert node_local(Path("/shared/me/backup"), mounts) is None
    assert node_local(Path("/home/me/backup"), mounts) is None


def test_state_file_becomes_the_chain(tmp_path):
    for event in [{"event": "submit", "run": "old"},
                  {"event": "submitted", "run": "old", "job": "1"},
                  {"event": "submit", "run": "R"}, {"event": "submitted", "run": "R", "job": "5"},
                  {"event": "start", "run": "R", "job": "5", "restart": 0},
                  {"event": "end", "run": "R", "job": "5", "restart": 0, "outcome": "requeued",
                   "iteration": 31, "saved_iteration": 30},
                  {"event": "start", "run": "R", "job": "5", "restart": 1, "from_iteration": 30}]:
        runstate.append_event(tmp_path, event)
    with open(runstate.state_path(tmp_path), "a") as fh:
        fh.write('{"event": "end", "run": "R", "jo')  # a job killed mid-write
    chain = runstate.chain_of(runstate.read_events(tmp_path))
    assert chain.run == "R" and chain.jobs == ["5"] and chain.outcome is None
    assert [(a.restart, a.from_iteration, a.iteration, a.outcome) for a in chain.attempts] == \
        [(0, None, 31, "requeued"), (1, 30, None, None)]
    assert chain.restarts("5") == 1
    runstate.append_event(tmp_path, {"event": "end", "run": "R", "job": "5", "restart": 1,
                                     "outcome": "finished", "iteration": 150})
    assert runstate.chain_of(runstate.read_events(tmp_path)).outcome == "finished"


def test_a_continuing_job_starts_from_the_newest_complete_weights(tmp_path):
    last, older = tmp_path / "x_last.weights", tmp_path / "x_1000.weights"
    saved = [SavedWeights(last, 3, None, "truncated: 10 of 20 bytes"),
             SavedWeights(older, 2, 1000, None)]
    opts = TrainOptions(weights="start.weights", clear=True)
    newest = newest_complete(saved)
    assert newest.path == older  # the truncated _last is never resumed from
    assert start_options(opts, newest, last) == TrainOptions(weights=str(older))
    good = [SavedWeights(last, 3, 1040, None), *saved[1:]]
    assert start_options(opts, newest_complete(good), last) == TrainOptions(resume=True)
    assert start_options(opts, None, last) == opts  # nothing saved yet: as first submitted


# --- Slurm's kills: what --slurm-status says about them ------------------------------
def _at(text: str) -> float:
    return time.mktime(time.strptime(text, "%Y-%m-%dT%H:%M:%S"))


def test_slurmstepd_cancel_lines_name_the_cause():
    out = ("start\nslurmstepd-n1: error: *** JOB 7 ON n1 CANCELLED AT 2026-11-28T21:35:12 "
           "DUE TO PREEMPTION ***\nnoise\nslurmstepd: error: *** JOB 7 ON n1 CANCELLED AT "
           "2026-11-28T22:00:00 DUE TO NODE FAILURE, SEE SLURMCTLD LOG FOR DETAILS ***\n"
           "*** JOB 8 ON n2 CANCELLED AT 2026-11-28T22:10:00 DUE TO JOB REQUEUE ***\n"
           "*** JOB 9 ON n2 CANCELLED AT 2026-11-28T22:20:00 DUE TO TIME LIMIT ***\n"
           "*** JOB 9 ON n2 CANCELLED AT 2026-11-28T22:30:00 ***\n")
    kills = parse_kills(out)
    assert [(k.job, k.cause) for k in kills] == [
        ("7", "preempted"), ("7", "node failure"), ("8", "scontrol requeue"),
        ("9", "time limit"), ("9", "scancel")]
    assert kills[0].at == _at("2026-11-28T21:35:12")


def test_each_start_of_a_job_says_how_it_ended():
    t0 = _at("2026-11-28T21:00:00")
    events = [{"event": "submitted", "run": "R", "job": "7", "time": t0},
              {"event": "start", "run": "R", "job": "7", "restart": 0, "time": t0 + 10},
              {"event": "end", "run": "R", "job": "7", "restart": 0, "outcome": "killed",
               "note": "signal SIGTERM", "time": t0 + 60},
              {"event": "start", "run": "R", "job": "7", "restart": 1, "time": t0 + 90},
              # restart 1 died without a word (its node lost with it)
              {"event": "start", "run": "R", "job": "7", "restart": 2, "time": t0 + 300},
              {"event": "end", "run": "R", "job": "7", "restart": 2,
               "outcome": "requeued", "note": "USR1", "time": t0 + 400},
              {"event": "start", "run": "R", "job": "7", "restart": 3, "time": t0 + 430}]
    chain = runstate.chain_of(events)
    kills = [Kill("7", t0 + 59, "preempted"), Kill("7", t0 + 200, "node failure"),
             Kill("7", t0 + 401, "scontrol requeue"), Kill("99", t0, "scancel")]
    assert attempt_endings(chain, kills) == [
        "killed (preempted), requeued", "lost (node failure), requeued", "requeued",
        "running"]
    assert attempt_endings(chain, []) == [
        "killed (signal SIGTERM), requeued", "lost (no end recorded), requeued",
        "requeued", "running"]
    row = chain_rows(chain, {"7": None}, kills)[0]
    assert row.endings == attempt_endings(chain, kills) and row.restarts == 3


def test_darknet_killed_from_outside_is_not_a_crash():
    assert killed_by(RunResult(returncode=-15, interrupted=15)) == signal.SIGTERM
    # Slurm signals every process of the job: darknet may die before we forward
    assert killed_by(RunResult(returncode=-15)) == signal.SIGTERM
    assert killed_by(RunResult(returncode=-9)) == signal.SIGKILL
    assert killed_by(RunResult(returncode=-11)) is None  # a segfault is darknet's own
    assert killed_by(RunResult(returncode=1)) is None


def _outcome(result: RunResult, broken: bool) -> Outcome:
    saved = [SavedWeights(Path("b/x_last.weights"), 2, 30, "truncated: 10 of 99 bytes")] \
        if broken else []
    return Outcome(result, Path("b/train.log"), Path("b"), "r",
                   WeightsChoice(None, "scratch", ""), saved)


def test_killed_while_saving_goes_on_a_full_disk_does_not():
    stopper = StopAtSave(Reporter(), save_every=10, margin=60)
    killed = RunResult(returncode=-15)  # Slurm's SIGTERM reached darknet mid-save
    assert _ending(_outcome(killed, True), stopper, True) == (
        "killed", "signal SIGTERM, x_last.weights left incomplete")
    assert _ending(_outcome(killed, False), stopper, True) == ("killed", "signal SIGTERM")
    full_disk = RunResult(returncode=1)
    assert _ending(_outcome(full_disk, True), stopper, True) == (
        "failed", "incomplete weights b/x_last.weights")
