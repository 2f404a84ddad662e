"""valid_gt.json of `data import` is the ground truth `eval` builds itself from the
imported YOLO labels (evaluate.load_yolo_gt): same images, sizes, classes and boxes."""

from __future__ import annotations

import json
from collections import defaultdict

import pytest

from enet4y2.data.synthetic import make_dataset
from enet4y2.dataset.importer import ImportOptions, import_dataset
from enet4y2.evaluate import load_yolo_gt


def _by_file(gt: dict) -> dict[str, tuple]:
    names = {i["id"]: i["file_name"] for i in gt["images"]}
    boxes = defaultdict(list)
    for a in gt["annotations"]:
        if not a.get("iscrowd"):
            boxes[names[a["image_id"]]].append((a["category_id"], *a["bbox"]))
    return {i["file_name"]: ((i["width"], i["height"]), sorted(boxes[i["file_name"]]))
            for i in gt["images"]}


def test_import_gt_equals_the_gt_eval_builds_from_the_labels(tmp_path):
    data = make_dataset(tmp_path / "synth", train=20, valid=10, seed=4)
    report = import_dataset(ImportOptions("yolo", data.root, tmp_path / "out", val=0.3,
                                          seed=2))
    out = tmp_path / "out"
    valid = (out / "valid.txt").read_text().split()
    assert len(valid) == report.valid == 9
    ours = _by_file(json.loads((out / "valid_gt.json").read_text()))
    theirs = _by_file(load_yolo_gt(valid, report.names)[0])
    assert ours.keys() == theirs.keys()
    for name, (size, boxes) in ours.items():
        their_size, their_boxes = theirs[name]
        assert size == their_size and len(boxes) == len(their_boxes) > 0
        for a, b in zip(boxes, their_boxes, strict=True):
            assert a[0] == b[0] and a[1:] == pytest.approx(b[1:], abs=1e-3)
