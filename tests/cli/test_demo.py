"""`enet4y2 demo`: every step run in-process through the root command on real darknet,
and its one-line refusal without a build."""

from __future__ import annotations

import json

import cv2
import pytest


def test_help_has_examples(cli):
    result = cli.ok("demo", "--help")
    assert "Examples:" in result.output and "--dir DIR" in result.output


def test_without_a_build_says_how_to_build(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("ENET4Y2_DARKNET_DIR", str(tmp_path / "no-darknet"))
    result = cli("demo", "--dir", tmp_path / "demo")
    assert result.exit_code == 1
    assert result.stderr == ("error: darknet is not built — run `make darknet` "
                             "(or `make demo`)\n")
    assert not (tmp_path / "demo").exists()


@pytest.mark.darknet
def test_demo_detects_and_writes_log_chart_stats_and_detections(cli, tmp_path):
    """The demo as `make demo` runs it (default iterations): it must end with a detector
    that detects — AP50 at or above the target, boxes drawn — not just run the steps."""
    from enet4y2.demo import AP50_TARGET
    from enet4y2.evaluate.cocoeval import STAT_NAMES

    root = tmp_path / "demo"
    result = cli.ok("demo", "--dir", root)
    steps = [line.split()[2] for line in result.stderr.splitlines()
             if line.startswith("$ enet4y2 ")]
    assert steps == ["cfg", "train", "watch", "eval", "detect"]
    assert "training finished at iteration 400" in result.stderr
    assert (root / "train.log").stat().st_size > 0
    chart = cv2.imread(str(root / "chart.png"))
    assert chart is not None and chart.shape[2] == 3
    stats = json.loads((root / "stats.json").read_text())["stats"]
    assert list(stats) == list(STAT_NAMES) and all(0 <= v <= 1 or v == -1
                                                   for v in stats.values())
    drawn = sorted((root / "detections").iterdir())
    assert len(drawn) == 3
    assert all(cv2.imread(str(path)) is not None for path in drawn)
    assert "demo done" in result.stderr
    assert stats["AP50"] >= AP50_TARGET and "below" not in result.stderr
    found = json.loads((root / "results.json").read_text())
    assert sum(r["score"] >= 0.5 for r in found) >= 8  # confident boxes on 16 images
