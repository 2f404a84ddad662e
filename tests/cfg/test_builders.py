"""The builders against the reference cfgs, the schedule rule, generated files."""

from __future__ import annotations

import pytest

from enet4y2.cfg import infer, load_cfg, normalized_number, problems
from enet4y2.cfg.builders import (
    coco_names,
    enet4y2_cfg,
    enet4y2_coco_cfg,
    enet_coco_cfg,
    generated_files,
    main,
    schedule,
)
from enet4y2.errors import CfgError
from enet4y2.paths import REPO_ROOT


def normalized(cfg):
    return [(s.type, {k: normalized_number(v) for k, v in s.options.items()})
            for s in cfg.sections]


@pytest.mark.parametrize(("name", "build"), [("enet4y2-coco", enet4y2_coco_cfg),
                                              ("enet-coco", enet_coco_cfg)])
def test_builder_matches_reference(reference_dir, name, build):
    reference = load_cfg(reference_dir / "cfg" / f"{name}.cfg")
    assert normalized(build()) == normalized(reference)


def test_reference_parameters_spelled_out(reference_dir):
    reference = load_cfg(reference_dir / "cfg" / "enet4y2-coco.cfg")
    built = enet4y2_cfg(classes=80, width=416, height=416, heads=4, batch=64,
                        subdivisions=8, max_batches=70200, steps=(60000, 65000),
                        burn_in=2000)
    assert normalized(built) == normalized(reference)


def test_backbone_is_efficientnet_b0(reference_dir):
    classifier = load_cfg(reference_dir / "cfg" / "efficientnet_b0.cfg")
    built = enet4y2_coco_cfg()
    for mine, theirs in zip(built.layers[:132], classifier.layers[:132], strict=True):
        assert mine.type == theirs.type
        drop = {"probability"}
        assert ({k: normalized_number(v) for k, v in mine.options.items() if k not in drop}
                == {k: normalized_number(v) for k, v in theirs.options.items()
                    if k not in drop})


@pytest.mark.parametrize("heads", [2, 3, 4])
@pytest.mark.parametrize(("classes", "size"), [(1, 320), (3, 416), (80, 608)])
def test_custom_builds_are_valid(heads, classes, size):
    cfg = enet4y2_cfg(classes=classes, width=size, height=size, heads=heads)
    assert problems(cfg) == []
    assert cfg.classes == classes
    heads_out = [m for m in infer(cfg).layers if m.type == "yolo"]
    assert len(heads_out) == heads
    assert [m.out_w for m in heads_out] == [size // s for s in (32, 16, 8, 4)[:heads]]
    assert all(m.out_c == 3 * (classes + 5) for m in heads_out)


def test_custom_anchor_count_spreads_masks():
    anchors = [(i * 10, i * 12) for i in range(1, 10)]
    cfg = enet4y2_cfg(classes=2, anchors=anchors, heads=4)
    masks = [s.options["mask"] for s in cfg.yolo_sections]
    assert masks == ["6,7,8", "4,5", "2,3", "0,1"]
    assert all(s.options["num"] == "9" for s in cfg.yolo_sections)
    assert problems(cfg) == []


def test_schedule_rule():
    assert schedule(1) == (6000, (4800, 5400))
    assert schedule(3) == (6000, (4800, 5400))
    assert schedule(80) == (160000, (128000, 144000))
    cfg = enet4y2_cfg(classes=5)
    assert cfg.max_batches == 10000
    assert cfg.net.options["steps"] == "8000,9000"
    assert enet4y2_cfg(max_batches=1000).net.options["steps"] == "800,900"


@pytest.mark.parametrize(
    ("kwargs", "expect"),
    [({"heads": 5}, "heads=5"), ({"classes": 0}, "classes=0"), ({"width": 400}, "400x416"),
     ({"anchors": [1, 2, 3]}, "w,h pairs"), ({"anchors": [10, 14], "heads": 2}, "2 heads")],
)
def test_builder_refuses_bad_parameters(kwargs, expect):
    with pytest.raises(CfgError, match=expect.replace("(", r"\(")):
        enet4y2_cfg(**kwargs)


def test_coco_names(reference_dir):
    names = coco_names()
    assert len(names) == 80 == len(set(names))
    assert (reference_dir / "data" / "coco.names").read_text().split("\n")[:80] == names


def test_committed_files_are_what_the_builder_writes():
    for rel, text in generated_files().items():
        assert (REPO_ROOT / rel).read_bytes() == text.encode(), rel


def test_main_writes_the_files(tmp_path, capsys):
    main([str(tmp_path)])
    for rel, text in generated_files().items():
        assert (tmp_path / rel).read_text() == text
    assert "enet4y2-coco.cfg" in capsys.readouterr().out


def test_tiny_model_uses_every_anchor_and_is_valid():
    from enet4y2.cfg.builders import tiny_cfg

    cfg = tiny_cfg(classes=3, width=96, height=64, max_batches=100,
                   anchors=[4, 4, 8, 8, 16, 16, 32, 32, 48, 48])
    assert problems(cfg) == []
    model = infer(cfg)
    yolo = [m for m in model.layers if m.type == "yolo"]
    assert [(m.out_w, m.out_h) for m in yolo] == [(6, 4), (12, 8)]  # strides 16 and 8
    masks = [s.options["mask"] for s in cfg.yolo_sections]
    assert masks == ["2,3,4", "0,1"]  # every anchor once, the larger ones coarser
    with pytest.raises(CfgError, match="multiples of 16"):
        tiny_cfg(classes=1, width=100)
