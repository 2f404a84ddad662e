"""`enet4y2 train --slurm` refusals and faults, each one line, nothing lost; --dry-run;
--slurm-status without a run. The ones that ask Slurm use the real test cluster."""

from __future__ import annotations

from pathlib import Path

import pytest

from enet4y2.cfg import write_cfg
from enet4y2.data import synthetic
from enet4y2.slurm import state as runstate
from tests.tiny import tiny_cfg


@pytest.fixture
def setup(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    synthetic.make_dataset(tmp_path, train=6, valid=3, width=64, height=64)
    Path("tiny.cfg").write_text(write_cfg(tiny_cfg(20, batch=2)))
    return tmp_path


@pytest.fixture
def train(cli):
    return lambda *args, env=None: cli("train", "--data", "synth.data", "--cfg", "tiny.cfg",
                                       *args, env=env)


def _one_line_error(result, code: int = 1) -> str:
    assert result.exit_code == code, (result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def test_slurm_options_need_slurm(train, setup):
    assert "--partition needs --slurm" in _one_line_error(train("--partition", "x"), 2)
    assert "needs --slurm" in _one_line_error(train("--chain", "3"), 2)


def test_no_sbatch_on_path(train, setup, tmp_path):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    line = _one_line_error(train("--slurm", env={"PATH": str(empty)}))
    assert "sbatch not found on PATH" in line
    assert not (setup / "backup" / "slurm-job.sh").exists()


@pytest.mark.darknet
def test_dry_run_prints_the_script_and_submits_nothing(train, setup):
    result = train("--slurm", "--dry-run", "--time", "10:00:00", "--signal-margin", "120",
                   "--partition", "gpu", "--gpus", "0,1", "--sbatch-arg=--qos=long")
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    assert text.startswith("#!/bin/bash\n")
    for line in ("#SBATCH --time=10:00:00", "#SBATCH --signal=B:USR1@120",
                 "#SBATCH --partition=gpu", "#SBATCH --gres=gpu:2", "#SBATCH --qos=long",
                 f"#SBATCH --output={setup / 'backup' / 'slurm.out'}",
                 "#SBATCH --open-mode=append", "#SBATCH --requeue"):
        assert line in text.splitlines(), line
    assert "--gpus 0,1" in text and "--signal-margin 120" in text
    assert "may not see" in result.stderr  # the backup folder is under /tmp
    assert not (setup / "backup" / "slurm-job.sh").exists()
    assert runstate.read_events(setup / "backup") == []


def test_a_margin_longer_than_the_job_is_refused(train, setup):
    line = _one_line_error(train("--slurm", "--dry-run", "--time", "4", "--signal-margin",
                                 "300"))
    assert "not longer than --signal-margin" in line


def test_status_without_a_run(cli, setup):
    result = cli("train", "--data", "synth.data", "--cfg", "tiny.cfg", "--slurm-status")
    assert result.exit_code == 1 and "no Slurm run recorded" in result.stdout


@pytest.mark.slurm
def test_a_partition_that_does_not_exist(train, setup, slurm):
    line = _one_line_error(train("--slurm", "--partition", "nope"))
    assert "--partition nope: no such partition" in line
    assert runstate.read_events(setup / "backup") == []


@pytest.mark.darknet
@pytest.mark.slurm
def test_a_job_slurm_refuses_to_start(train, setup, slurm):
    result = train("--slurm", "--mem", "100000000")  # more memory than the node has
    line = _one_line_error(result)
    assert "sbatch refused the job:" in line and "slurm-job.sh" in line
    backup = setup / "backup"
    assert (backup / "slurm-job.sh").is_file()  # kept: it can be fixed and submitted
    events = runstate.read_events(backup)
    assert [e["event"] for e in events] == ["submit"]  # no job recorded as submitted
    assert runstate.chain_of(events).jobs == []


def test_a_job_whose_checks_fail_on_the_node_says_so_in_the_chain(cli, setup):
    backup = setup / "backup"
    backup.mkdir(exist_ok=True)
    runstate.append_event(backup, {"event": "submit", "run": "R"})
    runstate.append_event(backup, {"event": "submitted", "run": "R", "job": "7"})
    image = (setup / "train.txt").read_text().split()[0]
    Path(image).write_bytes(b"")  # the data changed between submission and the job
    result = cli("train", "--data", "synth.data", "--cfg", "tiny.cfg", "--quiet",
                 "--slurm-job", "R", "--signal-margin", "60",
                 env={"SLURM_JOB_ID": "7", "SLURM_RESTART_COUNT": "0"})
    assert "pre-flight found 1 bad files" in _one_line_error(result)
    chain = runstate.chain_of(runstate.read_events(backup))
    assert [(a.job, a.outcome) for a in chain.attempts] == [("7", "failed")]
    assert "pre-flight found 1 bad files" in chain.attempts[0].note
    assert chain.outcome == "failed"
    again = cli("train", "--data", "synth.data", "--cfg", "tiny.cfg", "--quiet",
                "--slurm-job", "R", env={"SLURM_JOB_ID": "8"})  # the next job of a chain
    assert again.exit_code == 1 and "--slurm --resume" in again.stderr
    assert len(runstate.chain_of(runstate.read_events(backup)).attempts) == 1
