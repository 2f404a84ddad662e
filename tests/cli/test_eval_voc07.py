"""Real darknet on the small trained detector (tests/conftest.py `tiny_detector`):
`eval --voc07` runs darknet's map with 11 recall points beside COCO AP, on a dataset
made by `data import` and scored against its valid_gt.json."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.darknet


def test_voc07_map_beside_coco_ap_on_an_imported_dataset(cli, tiny_detector, tmp_path):
    tiny = tiny_detector
    out = tmp_path / "imported"
    report = json.loads(cli.ok("data", "import", tiny.root, "--format", "yolo", "--out", out,
                               "--split", "val=0.1", "--seed", "1", "--json").stdout)
    assert report["images"] > 0 and report["sizes_read"] == report["images"]
    result = json.loads(cli.ok("eval", "--weights", tiny.weights, "--cfg", tiny.cfg,
                               "--data", out / "obj.data", "--pycoco", "--voc07",
                               "--gt", out / "valid_gt.json", "--json").stdout)
    voc = result["darknet_map"]
    assert (voc["points"], voc["iou_thresh"]) == (11, 0.5)
    assert 0 < voc["map"] <= 1
    assert [c["name"] for c in voc["classes"]] == report["names"]
    stats = result["pycoco"]["stats"]
    assert 0 < stats["AP50"] <= 1 and result["pycoco"]["images"] == report["valid"]
