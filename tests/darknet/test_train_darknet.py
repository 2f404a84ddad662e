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
from enet4y2.weights.fit import read_header
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


def test_sigint_stops_darknet_and_says_how_to_resume(workdir):
    cfg = write_tiny(2000)
    log = workdir / "backup" / "train.log"
    proc = subprocess.Popen(
        # SIGINT at its default even when pytest runs in a background job (which starts
        # with SIGINT ignored, and ignored signals stay ignored: see _forward_signals).
        [sys.executable, "-c", "import signal; signal.signal(signal.SIGINT, "
         "signal.default_int_handler); from enet4y2.cli import main; main()", "train", "--quiet",
         "--data", "synth.data", "--cfg", cfg], stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not (log.is_file() and ITERATION.search(log.read_text(errors="replace"))):
            assert proc.poll() is None and time.monotonic() < deadline, "no iteration seen"
            time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            status = Path(f"/proc/{proc.pid}/status").read_text()
            pytest.fail("no exit 60 s after SIGINT; " + " ".join(
                line for line in status.splitlines() if line.startswith("Sig")))
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + signal.SIGINT, err
    assert "stopped by SIGINT at iteration" in err
    # darknet saves every 100 iterations: nothing yet, so --resume would fail
    assert "no weights saved in this run" in err
    assert "resume: enet4y2 train --data synth.data --cfg tiny.cfg\n" in err
    assert "Traceback" not in err
    size = log.stat().st_size
    time.sleep(1.5)
    assert log.stat().st_size == size  # darknet is gone: nothing more is written


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
