"""scripts/pycocoeval.py: the seed's -r/-g over `enet4y2 eval`, run as a real process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "pycocoeval.py"


def _gt() -> dict:
    return {"images": [{"id": 7, "file_name": "COCO_val2014_000000000007.jpg",
                        "width": 100, "height": 100}],
            "annotations": [{"id": 1, "image_id": 7, "category_id": 1,
                             "bbox": [10, 10, 40, 40], "area": 1600, "iscrowd": 0}],
            "categories": [{"id": 1, "name": "thing"}]}


def _run(tmp_path, *args):
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)


def test_seed_arguments(tmp_path):
    (tmp_path / "gt.json").write_text(json.dumps(_gt()))
    (tmp_path / "r.json").write_text(json.dumps(
        [{"image_id": 7, "category_id": 1, "bbox": [10, 10, 40, 40], "score": 0.9}]))
    done = _run(tmp_path, "-r", "r.json", "-g", "gt.json", "--json", "--stats-out", "s.json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["pycoco"]["stats"]["AP"] == pytest.approx(1.0)
    assert (tmp_path / "s.json").is_file()


def test_seed_results_with_image_id_zero_fail_with_the_fix(tmp_path):
    (tmp_path / "gt.json").write_text(json.dumps(_gt()))
    (tmp_path / "r.json").write_text(json.dumps(
        [{"image_id": 0, "category_id": 1, "bbox": [10, 10, 40, 40], "score": 0.9}]))
    done = _run(tmp_path, "-r", "r.json", "-g", "gt.json")
    assert done.returncode == 1
    assert "#5412" in done.stderr and "enet4y2 eval --pycoco" in done.stderr


def test_missing_arguments(tmp_path):
    done = _run(tmp_path, "-r", "r.json")
    assert done.returncode == 2 and "-g" in done.stderr
