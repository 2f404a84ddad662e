"""The parser over text captured from real `darknet detector map` runs (pinned upstream,
CPU build) of a small 2-class model; tests/fixtures/darknet_map/*.txt."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from enet4y2.errors import DarknetError
from enet4y2.evaluate import map_command, parse_map_output
from enet4y2.fileio import strict

DATA = Path(__file__).resolve().parent.parent / "fixtures" / "darknet_map"


def _text(name: str) -> str:
    return (DATA / name).read_text()


def test_parse_101_points_stdout():
    result = parse_map_output(_text("points101_stdout.txt"))
    assert [(c["id"], c["name"], c["tp"], c["fp"]) for c in result["classes"]] == [
        (0, "red square", 4, 1), (1, "blue circle", 12, 3)]
    assert [c["ap"] for c in result["classes"]] == pytest.approx([0.9670, 0.9534])
    assert result["points"] == 101 and result["iou_thresh"] == 0.5
    assert result["map"] == pytest.approx(0.960219)
    assert (result["tp"], result["fp"], result["fn"]) == (16, 4, 1)
    assert result["average_iou"] == pytest.approx(0.5847)
    assert (result["precision"], result["recall"], result["f1"]) == (0.80, 0.94, 0.86)
    assert (result["detections"], result["unique_truths"]) == (57, 17)


@pytest.mark.parametrize("name", ["points101_stdout.txt", "auc_merged.txt",
                                  "iou75_points11_thresh05_merged.txt"])
def test_map_is_the_mean_of_class_aps(name):
    result = parse_map_output(_text(name))
    mean = sum(c["ap"] for c in result["classes"]) / len(result["classes"])
    assert result["map"] == pytest.approx(mean, abs=1e-4)  # APs print with 2 decimals (%)
    # TP/FP totals agree with the per-class counts
    assert result["tp"] == sum(c["tp"] for c in result["classes"])
    assert result["fp"] == sum(c["fp"] for c in result["classes"])


def test_parse_auc_and_other_thresholds_with_stderr_merged():
    auc = parse_map_output(_text("auc_merged.txt"))
    assert auc["points"] == 0
    strict = parse_map_output(_text("iou75_points11_thresh05_merged.txt"))
    assert (strict["iou_thresh"], strict["points"], strict["conf_thresh"]) == (0.75, 11, 0.5)
    assert strict["map"] < auc["map"]


def test_nan_precision_is_read_and_made_json_safe():
    text = _text("points101_stdout.txt").replace(
        "precision = 0.80, recall = 0.94, F1-score = 0.86",
        "precision = -nan, recall = 0.00, F1-score = -nan")
    result = parse_map_output(text)
    assert math.isnan(result["precision"]) and result["recall"] == 0.0
    assert strict(result)["precision"] is None


def test_output_without_map_is_an_error():
    with pytest.raises(DarknetError, match="Cannot load image"):
        parse_map_output(" calculation mAP (mean average precision)...\nCannot load image x.jpg\n")


def test_map_command_is_an_argument_list(tmp_path):
    command = map_command("c.data", "n.cfg", "w.weights", iou_thresh=0.75, points=101,
                          executable=tmp_path / "darknet")
    assert command == [str(tmp_path / "darknet"), "detector", "map", "c.data", "n.cfg",
                       "w.weights", "-iou_thresh", "0.75", "-points", "101", "-thresh",
                       "0.25", "-dont_show"]
