"""`enet4y2 cfg --voc`: the B0-4Y cfg for Pascal VOC's 20 classes."""

from __future__ import annotations

from enet4y2.cfg import load_cfg
from enet4y2.cli.cfg import VOC_CLASSES
from enet4y2.data.voc import VOC_NAMES


def test_voc_cfg_is_the_20_class_b04y(cli, tmp_path):
    assert VOC_CLASSES == len(VOC_NAMES) == 20
    cli.ok("cfg", "--voc", "-o", tmp_path / "voc.cfg")
    cli.ok("cfg", "--classes", "20", "-o", tmp_path / "twenty.cfg")
    assert (tmp_path / "voc.cfg").read_text() == (tmp_path / "twenty.cfg").read_text()
    cfg = load_cfg(tmp_path / "voc.cfg")
    assert [s.get("classes") for s in cfg.yolo_sections] == ["20"] * 4
    before_yolo = [cfg.layers[i - 1].get("filters") for i, s in enumerate(cfg.layers)
                   if s.type == "yolo"]
    assert before_yolo == ["75"] * 4  # (20 + 5) * 3 anchors per head


def test_voc_with_classes_is_a_usage_error(cli, tmp_path):
    result = cli("cfg", "--voc", "--classes", "3", "-o", tmp_path / "x.cfg")
    assert result.exit_code == 2 and "--voc sets the 20 VOC classes" in result.stderr
    assert not (tmp_path / "x.cfg").exists()
