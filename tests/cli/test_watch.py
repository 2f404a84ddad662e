"""`enet4y2 watch`: one frame off a terminal, JSON, PNG, CSV, errors, and a snapshot."""

from __future__ import annotations

import csv
import io
import json
import os
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from rich.console import Console

from enet4y2.cfg.model import c_atoi, net_option
from enet4y2.cli.watch_view import Header, ViewOptions, build_view
from enet4y2.log.follower import LogFollower
from tests.logsamples import iteration_line, training_log

SNAPSHOT = Path(__file__).parent.parent / "fixtures" / "snapshots" / "watch_frame.txt"


@pytest.fixture
def log(tmp_path) -> Path:
    path = tmp_path / "train.log"
    text = (training_log(1, 120, max_batches=1000) + "\n Wrong annotation: class_id = 9. x\n"
            + training_log(101, 130, max_batches=1000, map_every=0))
    path.write_text(text)
    os.utime(path, (1_700_000_000, 1_700_000_000))
    return path


@pytest.fixture
def run(cli):
    """`enet4y2 watch ARGS`."""
    return lambda *args: cli("watch", *args)


def test_once_off_a_terminal_is_plain_text(run, log):
    result = run(str(log), "--once", "--bars", "30", "--column", "5")
    assert result.exit_code == 0
    out = result.output
    assert "\x1b[" not in out  # no colors or cursor moves
    assert "130 / 1000" in out and "(13.0 %)" in out
    assert "MIN 130" in out
    assert "12.00 % @ 120" in out  # last mAP and its iteration
    assert "wrong_annotation" in out and "resumed" in out
    rows = [line for line in out.splitlines() if "#" in line]
    assert len(rows) == 5


def test_json_state(run, log):
    result = run(str(log), "--json")
    assert result.exit_code == 0
    state = json.loads(result.output)
    assert state["last"]["iteration"] == 130 and state["max_batches"] == 1000
    assert [s["first"] for s in state["segments"]] == [1, 101]
    assert state["best_map"]["iteration"] == 120
    assert state["complaints"] == {"wrong_annotation": 1}


def test_plot_png_has_the_requested_size(run, log, tmp_path):
    png = tmp_path / "chart.png"
    result = run(str(log), "--once", "--plot", str(png), "--plot-size", "640x480")
    assert result.exit_code == 0
    img = cv2.imread(str(png))
    assert img is not None and img.shape == (480, 640, 3)
    # Something was drawn in darknet's loss blue and mAP red, not just the axes.
    assert np.any(np.all(img == (200, 90, 20), axis=2))
    assert np.any(np.all(img == (30, 30, 220), axis=2))
    assert not list(tmp_path.glob(".chart.png.*"))  # no temp file left behind


def test_csv_columns_and_rows(run, log, tmp_path):
    out = tmp_path / "loss.csv"
    assert run(str(log), "--json", "--csv", str(out)).exit_code == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert list(rows[0]) == ["iteration", "loss", "avg", "rate", "seconds", "images",
                             "hours_left", "map"]
    assert [int(r["iteration"]) for r in rows] == list(range(1, 131))
    assert float(rows[9]["map"]) == pytest.approx(0.01) and rows[8]["map"] == ""
    assert float(rows[0]["avg"]) == pytest.approx(101.5)


def test_nan_stands_out(run, tmp_path):
    path = tmp_path / "nan.log"
    path.write_text(training_log(1, 5, map_every=0) + iteration_line(6, "nan", "-nan"))
    out = run(str(path), "--once").output
    assert "DIVERGED" in out and "1 iterations diverged" in out


def test_cfg_gives_max_batches(run, log, tmp_path):
    cfg = tmp_path / "x.cfg"
    cfg.write_text("[net]\nbatch=64\nmax_batches = 4000 # comment\n[convolutional]\n")
    assert "130 / 4000" in run(str(log), "--once", "--cfg", str(cfg)).output


def test_max_batches_of_the_reference_cfg(reference_dir):
    text = (reference_dir / "cfg" / "enet4y2-coco.cfg").read_text()
    assert c_atoi(net_option(text, "max_batches")) > 0
    assert net_option("[convolutional]\nmax_batches=5\n", "max_batches") is None


def test_missing_log_is_a_one_line_error(run, tmp_path):
    result = run(str(tmp_path / "none.log"), "--once")
    assert result.exit_code == 1
    assert result.stderr == f"error: {tmp_path / 'none.log'}: no such log file\n"
    assert "Traceback" not in result.output


def test_bad_plot_size(run, log):
    result = run(str(log), "--plot-size", "big")
    assert result.exit_code == 1 and "WxH" in result.output


def test_help_has_examples(cli):
    assert "Examples:" in cli.ok("watch", "--help").output


def test_json_is_strict_when_the_loss_is_nan(run, tmp_path):
    path = tmp_path / "nan.log"
    path.write_text(training_log(1, 5, map_every=0) + iteration_line(6, "nan", "-nan"))
    result = run(str(path), "--json")
    assert result.exit_code == 0
    assert "NaN" not in result.stdout and "Infinity" not in result.stdout
    state = json.loads(result.stdout)
    assert state["last"]["iteration"] == 6 and state["last"]["avg_loss"] is None


def _frame_text(log: Path) -> str:
    f = LogFollower(log)
    f.poll()
    console = Console(width=140, record=True, file=io.StringIO(), force_terminal=False)
    console.print(build_view(f.state, Header("train.log", 1_700_000_000, "box"),
                             ViewOptions(bars=40, column=8, ascii=True)))
    return "\n".join(line.rstrip() for line in console.export_text().splitlines()) + "\n"


def test_frame_snapshot(run, log):
    """The whole frame for a fixed log; regenerate with ENET4Y2_UPDATE_SNAPSHOTS=1 after
    an intended change and review the diff."""
    text = _frame_text(log)
    if os.environ.get("ENET4Y2_UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(text)
    assert text == SNAPSHOT.read_text()


def test_off_a_terminal_it_keeps_refreshing_until_interrupted(tmp_path):
    import signal
    import subprocess
    import sys
    import threading

    log = tmp_path / "train.log"
    log.write_text(iteration_line(1, "5.0", "5.0"))
    proc = subprocess.Popen([sys.executable, "-m", "enet4y2", "watch", str(log),
                             "--interval", "0.1"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
    reader.start()

    def frames() -> int:
        return sum(str(log) in line for line in list(lines))

    try:
        deadline = time.monotonic() + 30
        while frames() < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        assert frames() == 1  # nothing changed: no new frame
        with open(log, "a") as fh:
            fh.write(iteration_line(2, "4.0", "4.0"))
        while frames() < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert frames() == 2  # the appended iteration: one new frame
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
