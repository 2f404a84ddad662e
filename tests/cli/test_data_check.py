"""`enet4y2 data check` on an imported dataset damaged in known ways: every problem
counted exactly, the picture written, --json, and a bad DATA ending in one line."""

from __future__ import annotations

import json
import shutil

import cv2
import pytest

from tests.annotation_sets import generate, write_format

pytest.importorskip("globox", reason="globox (test extra) writes the sources")


@pytest.fixture
def damaged(cli, tmp_path):
    truth = generate(tmp_path / "images", n=12, seed=5)
    src = write_format("coco", truth, tmp_path)
    out = tmp_path / "out"
    cli.ok("data", "import", src, "--format", "coco", "--images", tmp_path / "images",
           "--out", out, "--link", "copy", "--split", "val=0.25")
    images = out / "images"
    train = (out / "train.txt").read_text().split()
    valid = (out / "valid.txt").read_text().split()
    # 1 image without its label, 1 listed image missing (its label stays: an orphan),
    # 1 more orphan label
    stem = lambda p: p.rsplit(".", 1)[0]  # noqa: E731
    (out / (stem(train[0]) + ".txt")).unlink()
    (out / train[1]).unlink()
    (images / "ghost.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    # a duplicate of a train image listed in valid (a leak across splits)
    shutil.copyfile(train[2], images / "copy_of_2.png")
    (images / "copy_of_2.txt").write_text("")
    valid.append(str(images / "copy_of_2.png"))
    (out / "valid.txt").write_text("\n".join(valid) + "\n")
    # a label with a class out of range and a coordinate out of range
    with open(stem(train[3]) + ".txt", "a") as fh:
        fh.write("7 0.5 0.5 0.1 0.1\n0 1.5 0.5 0.1 0.1\n")
    return out, truth


def test_check_counts_each_problem(cli, damaged):
    out, _ = damaged
    report = json.loads(cli.ok("data", "check", out, "--json").stdout)
    assert report["images"] == {"train": 9, "valid": 4}
    assert report["missing_images"] == 1
    assert report["images_without_labels"] == 1
    assert report["labels_without_images"] == 2
    orphans = report["examples"]["labels_without_images"]
    assert sorted(o.rsplit("/", 1)[1] for o in orphans)[0] == "ghost.txt"
    assert report["duplicate_groups"] == 1 and report["duplicates_across_splits"] == 1
    assert report["label_problems"] == {"class": 1, "range": 1}
    assert report["input"] == [416, 416]
    assert [h["stride"] for h in report["heads"]] == [32, 16, 8, 4]
    per_class = sum(sum(c.values()) for c in report["class_counts"].values())
    assert per_class == report["boxes"]  # the two bad lines are not counted as boxes
    fit = report["anchor_fit"]
    assert 0 < fit["mean_iou"] <= 1 and fit["kmeans_mean_iou"] is not None
    picture = cv2.imread(report["plot"])
    assert picture is not None and picture.shape[1] > picture.shape[0]


def test_check_prints_a_readable_report_and_the_anchor_hint(cli, damaged, tmp_path):
    out, _ = damaged
    result = cli.ok("data", "check", out / "obj.data", "--plot", tmp_path / "p.png")
    assert "2 label files without an image" in result.stderr
    assert "1 duplicate groups across train and valid" in result.stderr
    assert "mean IoU with the anchors" in result.stdout
    assert (tmp_path / "p.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # generated boxes are 2..120 px on 40..120 px images, stretched to 416: big and
    # square-ish compared with COCO's anchors, so k-means does better and is suggested
    report = json.loads(cli.ok("data", "check", out, "--json", "--no-plot").stdout)
    fit = report["anchor_fit"]
    assert fit["kmeans_mean_iou"] > fit["mean_iou"] + 0.05 and fit["suggest_anchors_from"]
    assert "--anchors-from" in result.stdout


def test_check_with_a_cfg_uses_its_size_and_heads(cli, damaged, tmp_path):
    out, _ = damaged
    cfg = tmp_path / "small.cfg"
    cli.ok("cfg", "--classes", "3", "--width", "320", "--height", "320", "--heads", "2",
           "-o", cfg)
    report = json.loads(cli.ok("data", "check", out, "--cfg", cfg, "--json",
                               "--no-plot").stdout)
    assert report["input"] == [320, 320]
    assert [h["stride"] for h in report["heads"]] == [32, 16]


def test_bad_data_ends_in_one_line(cli, tmp_path):
    (tmp_path / "x.data").write_text("classes = 1\n")
    result = cli("data", "check", tmp_path / "x.data")
    assert result.exit_code == 1 and "no train= or valid=" in result.stderr
    result = cli("data", "check", tmp_path)  # a folder: its one .data file
    assert result.exit_code == 1 and "no train= or valid=" in result.stderr
    (tmp_path / "y.data").write_text("classes = 1\n")
    result = cli("data", "check", tmp_path)
    assert result.exit_code == 1 and "2 .data files" in result.stderr
