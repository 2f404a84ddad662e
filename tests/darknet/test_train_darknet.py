"""`enet4y2 train` driving the real darknet executable: short runs (64 px, batch 2, a
handful of iterations) on a dataset generated per test."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from enet4y2.cfg import write_cfg
from enet4y2.cli import main
from enet4y2.data import synthetic
from enet4y2.weights.fit import expected_size, read_header
from tests.tiny import tiny_cfg

pytestmark = pytest.mark.darknet
HEADER = re.compile(r"^# enet4y2 train \S+ \| command: .*darknet detector train .*-dont_show",
                    re.M)
ITERATION = re.compile(r"^ (\d+): [-\d.na]+, ([-\d.na]+) avg loss", re.M)


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


def train(*args: str):
    return CliRunner().invoke(main, ["train", "--data", "synth.data", *args],
                              catch_exceptions=False)


def test_short_training_then_resume(workdir):
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


def _interrupt(proc: subprocess.Popen) -> str:
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        status = Path(f"/proc/{proc.pid}/status").read_text()
        pytest.fail("no exit 60 s after SIGINT; " + " ".join(
            line for line in status.splitlines() if line.startswith("Sig")))
    return err


def test_sigint_before_any_save_says_how_to_start_again(workdir):
    (workdir / "synth.data").write_text((workdir / "synth.data").read_text()
                                        .replace("savelast = 5", "savelast = 1000"))
    cfg = write_tiny(2000)
    log = workdir / "backup" / "train.log"
    proc = _start_train(cfg)
    try:
        _wait_for(proc, lambda: log.is_file() and ITERATION.search(
            log.read_text(errors="replace")), "iteration")
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


def test_killing_the_supervisor_kills_darknet(workdir):
    cfg = write_tiny(2000)
    log = workdir / "backup" / "train.log"
    proc = _start_train(cfg)
    try:
        _wait_for(proc, lambda: log.is_file() and ITERATION.search(
            log.read_text(errors="replace")), "iteration")
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
    second = CliRunner().invoke(main, ["train", "--data", "synth.data", "--cfg",
                                       write_tiny(2)], catch_exceptions=False)
    assert second.exit_code == 0, second.stderr


def test_diverging_run_is_stopped_on_nan(workdir):
    cfg = write_tiny(300, learning_rate=1000, burn_in=0)
    started = time.monotonic()
    result = CliRunner().invoke(main, ["train", "--data", "synth.data", "--cfg", cfg])
    assert result.exit_code == 1
    found = re.search(r"avg loss is -?nan at iteration (\d+): training diverged", result.stderr)
    assert found, result.stderr
    assert "learning_rate" in result.stderr
    losses = ITERATION.findall((workdir / "backup" / "train.log").read_text())
    assert int(losses[-1][0]) < 300 and time.monotonic() - started < 120
    assert "nan" in [avg.lstrip("-") for _, avg in losses]


def test_on_nan_warn_goes_on(workdir):
    cfg = write_tiny(8, learning_rate=1000, burn_in=0)
    result = train("--cfg", cfg, "--on-nan", "warn")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.count("warning: avg loss is") == 1
    assert "probably useless" in result.stderr
    losses = ITERATION.findall((workdir / "backup" / "train.log").read_text())
    assert [int(i) for i, _ in losses] == list(range(1, 9))


def test_classifier_weights_are_cut_and_loaded_by_darknet(workdir):
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


def test_map_lands_in_the_log(workdir):
    from enet4y2.log.parser import LogParser, MapReport

    result = train("--cfg", write_tiny(4), "--map", "--quiet")
    assert result.exit_code == 0, result.stderr
    assert "pre-flight valid: 3 images listed" in result.stderr
    log = (workdir / "backup" / "train.log").read_bytes()
    assert " -map" in log.decode().splitlines()[0]
    reports = [e for e in LogParser().feed(log) if isinstance(e, MapReport)]
    assert reports and 0 <= reports[-1].map50 <= 1
