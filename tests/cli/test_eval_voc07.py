"""Real darknet on the small trained detector (tests/conftest.py `tiny_detector`):
`eval --voc07` runs darknet's map with 11 recall points beside COCO AP, and the
valid_gt.json of `data import` scores exactly as the ground truth eval builds from the
imported YOLO labels (same images, ids, categories, boxes)."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.darknet


def test_voc07_map_beside_coco_ap_and_import_gt_scores_as_the_labels(cli, tiny_detector,
                                                                      tmp_path):
    tiny = tiny_detector
    out = tmp_path / "imported"
    report = json.loads(cli.ok("data", "import", tiny.root, "--format", "yolo", "--out", out,
                               "--split", "val=0.1", "--seed", "1", "--json").stdout)
    assert report["images"] > 0 and report["sizes_read"] == report["images"]
    common = ["eval", "--weights", tiny.weights, "--cfg", tiny.cfg, "--data", out / "obj.data",
              "--pycoco", "--json"]
    with_gt = json.loads(cli.ok(*common, "--voc07", "--gt", out / "valid_gt.json").stdout)
    from_labels = json.loads(cli.ok(*common).stdout)
    assert with_gt["darknet_map"]["points"] == 11
    assert with_gt["darknet_map"]["iou_thresh"] == 0.5
    assert 0 < with_gt["darknet_map"]["map"] <= 1
    assert from_labels["darknet_map"] is None
    ours, theirs = with_gt["pycoco"]["stats"], from_labels["pycoco"]["stats"]
    assert ours.keys() == theirs.keys()
    for key in ours:
        assert ours[key] == pytest.approx(theirs[key], abs=1e-3), key
