"""`enet4y2 train`: up to the point darknet would start (help, pre-flight refusals,
--skip-bad's cleaned copies, option conflicts), then driving the real darknet executable
in short runs (64 px, batch 2, a handful of iterations) on a dataset generated per test."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from enet4y2.cfg import write_cfg
from enet4y2.data import synthetic
from enet4y2.weights.fit import expected_size, read_header
from tests.tiny import tiny_cfg

HEADER = re.compile(r"^# enet4y2 train \S+ \| command: .*darknet detector train .*-dont_show",
                    re.M)
ITERATION = re.compile(r"^ (\d+): [-\d.na]+, ([-\d.na]+) avg loss", re.M)


@pytest.fixture
def setup(tmp_path, monkeypatch):
    """A generated dataset and the tiny cfg in the current directory; no darknet."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ENET4Y2_DARKNET_DIR", str(tmp_path / "no-darknet"))
    ds = synthetic.make_dataset(tmp_path, train=10, valid=3, width=64, height=64)
    Path("tiny.cfg").write_text(write_cfg(tiny_cfg(10, batch=2)))
    return ds


@pytest.fixture
def run(cli):
    """`enet4y2 train --quiet --data synth.data --cfg tiny.cfg ARGS`."""
    return lambda *args: cli("train", "--quiet", "--data", "synth.data", "--cfg", "tiny.cfg",
                             *args)


def test_help_has_examples(cli):
    result = cli.ok("train", "--help")
    assert "Examples:" in result.output and "--resume" in result.output


def test_bad_label_and_empty_image_stop_before_darknet(run, setup):
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


def test_skip_bad_trains_on_cleaned_copies(run, setup):
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
def test_user_errors_are_one_line(run, setup, args, message):
    Path("w.weights").write_bytes(b"")  # exists: the conflict with --resume is the error
    result = run(*args)
    assert result.exit_code == 1
    assert message in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error:")


def test_missing_data_and_cfg(cli, setup):
    result = cli("train", "--data", "none.data", "--cfg", "tiny.cfg")
    assert result.exit_code == 1 and "none.data: no such data file" in result.stderr
    result = cli("train", "--data", "synth.data")
    assert result.exit_code == 1 and "cfg/enet4y2-coco.cfg" in result.stderr


def test_classes_mismatch_is_refused(cli, setup):
    Path("three.cfg").write_text(write_cfg(tiny_cfg(10, classes=3)))
    result = cli("train", "--data", "synth.data", "--cfg", "three.cfg")
    assert result.exit_code == 1
    assert "classes = 2, but the cfg's yolo layers have classes=3" in result.stderr


def _outcome(tmp_path, result, saved=()):
    from enet4y2.train.session import Outcome
    from enet4y2.train.start import WeightsChoice

    return Outcome(result, tmp_path / "train.log", tmp_path, "enet4y2 train --resume",
                   WeightsChoice(None, "scratch", ""), list(saved))


def test_summary_of_a_killed_run(tmp_path, capsys):
    from enet4y2.cli.train_view import TerminalReporter
    from enet4y2.log.parser import LogParser
    from enet4y2.train.process import RunResult
    from enet4y2.train.saved import SavedWeights

    result = RunResult(returncode=-9, tail=[f"line {i}" for i in range(20)])
    result.state.update(LogParser().feed(
        b" 7: 1.0, 2.0 avg loss, 0.001 rate, 0.5 seconds, 8 images, 1.0 hours left\n"
        b"Wrong annotation: class_id = 9. But class_id should be [from 0 to 1]\n"))
    saved = [SavedWeights(tmp_path / "t_final.weights", 3, 7, "truncated: 10 of 99 bytes"),
             SavedWeights(tmp_path / "t_last.weights", 2, 5, None)]
    code = TerminalReporter(live=False).summary(_outcome(tmp_path, result, saved))
    err = capsys.readouterr().err
    assert code == 137
    assert "error: darknet was killed by SIGKILL at iteration 7" in err
    assert "  line 0\n" in err and "  line 19\n" in err
    assert "resume: enet4y2 train --resume" in err
    assert "wrong_annotation x1" in err
    # the newest weights of this run that are whole, the iteration they hold, the loss
    assert "newest weights: " + str(tmp_path / "t_last.weights") + " (iteration 5); " \
        "2 iterations after it will be redone" in err
    assert "t_final.weights, which is truncated: 10 of 99 bytes" in err


def test_summary_exit_status_follows_darknet(tmp_path, capsys):
    from enet4y2.cli.train_view import TerminalReporter
    from enet4y2.train.process import RunResult
    from enet4y2.train.saved import SavedWeights

    reporter = TerminalReporter(live=False)
    assert reporter.summary(_outcome(tmp_path, RunResult(returncode=0))) == 0
    truncated = [SavedWeights(tmp_path / "t_final.weights", 3, 7, "truncated: 1 of 9 bytes")]
    assert reporter.summary(_outcome(tmp_path, RunResult(returncode=0), truncated)) == 1
    assert "t_final.weights, which is truncated" in capsys.readouterr().err
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


def test_unwritable_backup_is_one_line(run, setup):
    (setup.root / "blocker").write_text("a file, not a folder")
    text = setup.data.read_text().replace(f"backup = {setup.root / 'backup'}",
                                          f"backup = {setup.root / 'blocker' / 'sub'}")
    setup.data.write_text(text)
    result = run()
    assert result.exit_code == 1
    assert "cannot create" in result.stderr and "writable" in result.stderr


# Real darknet from here on.

@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """Dataset + tiny cfg in the current directory; `_last.weights` every 5 iterations."""
    monkeypatch.chdir(tmp_path)
    ds = synthetic.make_dataset(tmp_path, train=12, valid=3, width=64, height=64)
    ds.data.write_text(ds.data.read_text() + "savelast = 5\n")
    return tmp_path


def write_tiny(max_batches: int, name: str = "tiny.cfg", **overrides) -> str:
    Path(name).write_text(write_cfg(tiny_cfg(max_batches, batch=2, **overrides)))
    return name


@pytest.fixture
def train(cli):
    """`enet4y2 train --data synth.data ARGS`."""
    return lambda *args: cli("train", "--data", "synth.data", *args)


@pytest.mark.darknet
def test_short_training_then_resume(train, workdir):
    cfg = write_tiny(10)
    first = train("--cfg", cfg)
    assert first.exit_code == 0, first.stderr
    log = workdir / "backup" / "train.log"
    text = log.read_text()
    assert len(HEADER.findall(text)) == 1 and text.startswith("# enet4y2 train ")
    assert [int(i) for i, _ in ITERATION.findall(text)] == list(range(1, 11))
    assert "training finished at iteration 10" in first.stderr
    last = workdir / "backup" / "tiny_last.weights"
    assert read_header(last).seen == 10 * 2
    assert (workdir / "backup" / "tiny_final.weights").is_file()

    write_tiny(14)  # a longer schedule; --resume keeps darknet's iteration count
    second = train("--cfg", cfg, "--resume")
    assert second.exit_code == 0, second.stderr
    both = log.read_text()
    assert both.startswith(text)  # appended, never truncated
    headers = HEADER.findall(both)
    assert len(headers) == 2 and "tiny_last.weights" in both[len(text):].splitlines()[0]
    assert [int(i) for i, _ in ITERATION.findall(both[len(text):])] == [11, 12, 13, 14]
    assert read_header(workdir / "backup" / "tiny_final.weights").seen == 14 * 2


def _start_train(cfg: str) -> subprocess.Popen:
    return subprocess.Popen(
        # SIGINT at its default even when pytest runs in a background job (which starts
        # with SIGINT ignored, and ignored signals stay ignored).
        [sys.executable, "-c", "import signal; signal.signal(signal.SIGINT, "
         "signal.default_int_handler); from enet4y2.cli import main; main()", "train", "--quiet",
         "--data", "synth.data", "--cfg", cfg], stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True)


def _wait_for(proc: subprocess.Popen, ready, what: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not ready():
        assert proc.poll() is None and time.monotonic() < deadline, f"no {what} seen"
        time.sleep(0.2)


def _wait_for_iteration(proc: subprocess.Popen, log: Path) -> None:
    _wait_for(proc, lambda: log.is_file() and ITERATION.search(log.read_text(errors="replace")),
              "iteration")


def _interrupt(proc: subprocess.Popen) -> str:
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        status = Path(f"/proc/{proc.pid}/status").read_text()
        pytest.fail("no exit 60 s after SIGINT; " + " ".join(
            line for line in status.splitlines() if line.startswith("Sig")))
    return err


@pytest.mark.darknet
def test_sigint_before_any_save_says_how_to_start_again(workdir):
    (workdir / "synth.data").write_text((workdir / "synth.data").read_text()
                                        .replace("savelast = 5", "savelast = 1000"))
    cfg = write_tiny(2000)
    log = workdir / "backup" / "train.log"
    proc = _start_train(cfg)
    try:
        _wait_for_iteration(proc, log)
        err = _interrupt(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + signal.SIGINT, err
    assert "stopped by SIGINT at iteration" in err
    # darknet saved nothing yet, so --resume would fail: the hint starts again
    assert "no weights saved in this run" in err
    assert "resume: enet4y2 train --data synth.data --cfg tiny.cfg\n" in err
    assert "Traceback" not in err
    size = log.stat().st_size
    time.sleep(1.5)
    assert log.stat().st_size == size  # darknet is gone: nothing more is written


@pytest.mark.darknet
def test_sigint_after_a_save_names_the_iteration_and_what_is_redone(workdir):
    cfg = write_tiny(2000)
    last = workdir / "backup" / "tiny_last.weights"
    size = expected_size(tiny_cfg(2000, batch=2))
    proc = _start_train(cfg)
    try:  # wait for a complete file: darknet may be writing it
        _wait_for(proc, lambda: last.is_file() and last.stat().st_size == size,
                  "_last.weights")
        err = _interrupt(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
    found = re.search(r"newest weights: (\S+) \(iteration (\d+)\)(; (\d+) iterations after "
                      r"it will be redone)?", err)
    assert found and Path(found[1]) == last, err
    assert int(found[2]) == read_header(last).seen // 2 and int(found[2]) % 5 == 0
    assert "resume: enet4y2 train --data synth.data --cfg tiny.cfg --resume" in err


@pytest.mark.darknet
def test_killing_the_supervisor_kills_darknet(train, workdir):
    cfg = write_tiny(2000)
    log = workdir / "backup" / "train.log"
    proc = _start_train(cfg)
    try:
        _wait_for_iteration(proc, log)
        children = [int(pid) for pid in Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
                    .read_text().split()]
        commands = {pid: Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]
                    for pid in children}
        assert len(children) == 1 and commands[children[0]].endswith(b"darknet"), commands
        darknet = children[0]
        proc.kill()  # SIGKILL: enet4y2 runs no handler at all
        proc.wait()
        deadline = time.monotonic() + 10
        while Path(f"/proc/{darknet}").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not Path(f"/proc/{darknet}").exists(), "darknet outlived its supervisor"
    finally:
        if proc.poll() is None:
            proc.kill()
    # the lock went with the supervisor: the next run may start at once
    second = train("--cfg", write_tiny(2))
    assert second.exit_code == 0, second.stderr


@pytest.mark.darknet
def test_diverging_run_is_stopped_on_nan(train, workdir):
    cfg = write_tiny(300, learning_rate=1000, burn_in=0)
    started = time.monotonic()
    result = train("--cfg", cfg)
    assert result.exit_code == 1
    found = re.search(r"avg loss is -?nan at iteration (\d+): training diverged", result.stderr)
    assert found, result.stderr
    assert "learning_rate" in result.stderr
    losses = ITERATION.findall((workdir / "backup" / "train.log").read_text())
    assert int(losses[-1][0]) < 300 and time.monotonic() - started < 120
    assert "nan" in [avg.lstrip("-") for _, avg in losses]


@pytest.mark.darknet
def test_on_nan_warn_goes_on(train, workdir):
    cfg = write_tiny(8, learning_rate=1000, burn_in=0)
    result = train("--cfg", cfg, "--on-nan", "warn")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.count("warning: avg loss is") == 1
    assert "probably useless" in result.stderr
    losses = ITERATION.findall((workdir / "backup" / "train.log").read_text())
    assert [int(i) for i, _ in losses] == list(range(1, 9))


@pytest.mark.darknet
def test_classifier_weights_are_cut_and_loaded_by_darknet(train, workdir):
    import numpy as np

    from enet4y2.cfg import infer
    from enet4y2.cfg.builders import classifier_cfg

    floats = infer(classifier_cfg(1000)).param_count
    values = np.random.default_rng(0).uniform(0.01, 0.05, floats).astype("<f4")
    src = workdir / "enetb0_final.weights"
    src.write_bytes(np.array([0, 2, 5], "<i4").tobytes() + np.array([0], "<u8").tobytes()
                    + values.tobytes())
    cfg = write_tiny(2)
    first = train("--cfg", cfg, "--weights", str(src), "--quiet", "--", "-clear")
    assert first.exit_code == 0, first.stderr
    cut = workdir / "backup" / "enetb0_final.conv.132"
    assert f"cut to layers 0..131 -> {cut}" in first.stderr
    log = (workdir / "backup" / "train.log").read_text()
    assert f"tiny.cfg {cut} -dont_show" in log.splitlines()[0]
    assert re.search(r"Loading weights from \S*enetb0_final\.conv\.132", log)
    second = train("--cfg", cfg, "--weights", str(src), "--quiet", "--", "-clear")
    assert second.exit_code == 0 and "using the cached cut" in second.stderr


@pytest.mark.darknet
def test_map_lands_in_the_log(train, workdir):
    from enet4y2.log.parser import LogParser, MapReport

    result = train("--cfg", write_tiny(4), "--map", "--quiet")
    assert result.exit_code == 0, result.stderr
    assert "pre-flight valid: 3 images listed" in result.stderr
    log = (workdir / "backup" / "train.log").read_bytes()
    assert " -map" in log.decode().splitlines()[0]
    reports = [e for e in LogParser().feed(log) if isinstance(e, MapReport)]
    assert reports and 0 <= reports[-1].map50 <= 1
