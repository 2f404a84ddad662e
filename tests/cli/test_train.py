"""`enet4y2 train` up to the point darknet would start: help, pre-flight refusals,
--skip-bad's cleaned copies, option conflicts. (Real training: tests/darknet.)"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from enet4y2.cfg import write_cfg
from enet4y2.cli import main
from enet4y2.data import synthetic
from tests.tiny import tiny_cfg


@pytest.fixture
def setup(tmp_path, monkeypatch):
    """A generated dataset and the tiny cfg in the current directory; no darknet."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ENET4Y2_DARKNET_DIR", str(tmp_path / "no-darknet"))
    ds = synthetic.make_dataset(tmp_path, train=10, valid=3, width=64, height=64)
    Path("tiny.cfg").write_text(write_cfg(tiny_cfg(10, batch=2)))
    return ds


def run(*args):
    return CliRunner().invoke(main, ["train", "--quiet", "--data", "synth.data",
                                     "--cfg", "tiny.cfg", *args])


def test_help_has_examples():
    result = CliRunner().invoke(main, ["train", "--help"], catch_exceptions=False)
    assert result.exit_code == 0
    assert "Examples:" in result.output and "--resume" in result.output


def test_bad_label_and_empty_image_stop_before_darknet(setup):
    images = setup.train_list.read_text().split()
    Path(images[2]).write_bytes(b"")
    Path(images[5]).with_suffix(".txt").write_text("7 0.5 0.5 0.1 0.1\n")
    before = setup.train_list.read_text()
    result = run()
    assert result.exit_code == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: pre-flight found 2 bad files")
    assert "--skip-bad" in last
    assert "bad files (2; all in" in result.stderr and "problem" in result.stderr
    bad = dict(line.split("\t") for line in
               (setup.root / "backup" / "preflight-bad.txt").read_text().splitlines())
    assert bad[images[2]] == "0-byte image"
    assert bad[images[5]].endswith("line 1: class 7 outside 0..1")
    assert setup.train_list.read_text() == before
    assert not (setup.root / "backup" / "train.log").exists()


def test_skip_bad_trains_on_cleaned_copies(setup):
    images = setup.train_list.read_text().split()
    Path(images[0]).write_bytes(b"")
    setup.train_list.write_text(setup.train_list.read_text() + "\n")  # a blank line
    before = setup.train_list.read_text()
    result = run("--skip-bad")
    # Pre-flight passes with the cleaned copy; then darknet is missing (no build here).
    assert result.exit_code == 1
    assert "darknet is not built" in result.stderr
    clean = setup.root / "backup" / "train.clean.txt"
    assert clean.read_text().split("\n") == [*images[1:], ""]
    data = (setup.root / "backup" / "synth.clean.data").read_text()
    assert f"train = {clean}" in data and str(setup.names) in data
    assert setup.train_list.read_text() == before


@pytest.mark.parametrize(("args", "message"), [
    (["--resume", "--weights", "w.weights"], "--resume continues from"),
    (["--resume"], "tiny_last.weights"),
    (["--gpus", "0,x"], "--gpus"),
    (["--weights", "nope.weights"], "nope.weights: no such weights file"),
])
def test_user_errors_are_one_line(setup, args, message):
    Path("w.weights").write_bytes(b"")  # exists: the conflict with --resume is the error
    result = run(*args)
    assert result.exit_code == 1
    assert message in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error:")


def test_missing_data_and_cfg(setup):
    result = CliRunner().invoke(main, ["train", "--data", "none.data", "--cfg", "tiny.cfg"])
    assert result.exit_code == 1 and "none.data: no such data file" in result.stderr
    result = CliRunner().invoke(main, ["train", "--data", "synth.data"])
    assert result.exit_code == 1 and "cfg/enet4y2-coco.cfg" in result.stderr


def test_classes_mismatch_is_refused(setup):
    Path("three.cfg").write_text(write_cfg(tiny_cfg(10, classes=3)))
    result = CliRunner().invoke(main, ["train", "--data", "synth.data", "--cfg", "three.cfg"])
    assert result.exit_code == 1
    assert "classes = 2, but the cfg's yolo layers have classes=3" in result.stderr


def _outcome(tmp_path, result):
    from enet4y2.train.session import Outcome
    from enet4y2.train.start import WeightsChoice

    return Outcome(result, tmp_path / "train.log", tmp_path, "enet4y2 train --resume",
                   WeightsChoice(None, "scratch", ""), tmp_path / "t_last.weights")


def test_summary_of_a_killed_run(tmp_path, capsys):
    from enet4y2.cli.train_view import TerminalReporter
    from enet4y2.log.parser import LogParser
    from enet4y2.train.process import RunResult

    result = RunResult(returncode=-9, tail=[f"line {i}" for i in range(20)])
    result.state.update(LogParser().feed(
        b" 7: 1.0, 2.0 avg loss, 0.001 rate, 0.5 seconds, 8 images, 1.0 hours left\n"
        b"Wrong annotation: class_id = 9. But class_id should be [from 0 to 1]\n"))
    code = TerminalReporter(live=False).summary(_outcome(tmp_path, result))
    err = capsys.readouterr().err
    assert code == 137
    assert "error: darknet was killed by SIGKILL at iteration 7" in err
    assert "  line 0\n" in err and "  line 19\n" in err
    assert "resume: enet4y2 train --resume" in err
    assert "wrong_annotation x1" in err


def test_summary_exit_status_follows_darknet(tmp_path, capsys):
    from enet4y2.cli.train_view import TerminalReporter
    from enet4y2.train.process import RunResult

    reporter = TerminalReporter(live=False)
    assert reporter.summary(_outcome(tmp_path, RunResult(returncode=0))) == 0
    assert reporter.summary(_outcome(tmp_path, RunResult(returncode=2))) == 2
    assert "darknet exited with status 2" in capsys.readouterr().err
    interrupted = RunResult(returncode=-2, interrupted=2)
    assert reporter.summary(_outcome(tmp_path, interrupted)) == 130
    assert "stopped by SIGINT" in capsys.readouterr().err


def test_live_frame_renders_the_watch_view(tmp_path):
    from rich.console import Console

    from enet4y2.cli.train_view import TerminalReporter
    from enet4y2.log.parser import LogParser
    from enet4y2.log.state import LogState

    state = LogState()
    state.update(LogParser().feed(b"".join(
        b" %d: 5.0, %.1f avg loss, 0.001 rate, 0.5 seconds, 8 images, 1.0 hours left\n"
        % (i, 10 - i / 10) for i in range(1, 40))))
    reporter = TerminalReporter()
    reporter._log, reporter._max_batches = tmp_path / "train.log", 100
    console = Console(width=140, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
    console.print(reporter._frame(state))
    text = console.export_text()
    assert "train.log" in text and "39" in text and "100" in text


def test_unwritable_backup_is_one_line(setup):
    (setup.root / "blocker").write_text("a file, not a folder")
    text = setup.data.read_text().replace(f"backup = {setup.root / 'backup'}",
                                          f"backup = {setup.root / 'blocker' / 'sub'}")
    setup.data.write_text(text)
    result = run()
    assert result.exit_code == 1
    assert "cannot create" in result.stderr and "writable" in result.stderr
