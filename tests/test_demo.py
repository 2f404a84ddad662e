"""The demo's plan, its cfg tuning and its closing verdict (no darknet needed)."""

from __future__ import annotations

from enet4y2 import cfg as cfgmod
from enet4y2 import demo
from enet4y2.evaluate import cocoeval


def test_plan_tunes_the_cfg_after_the_cfg_step(tmp_path):
    plan = demo.plan(tmp_path / "d", iterations=20, train_images=4, valid_images=2)
    seen, notes = [], []

    def invoke(argv):
        seen.append(argv[0])
        if argv[0] == "cfg":
            plan.cfg.write_text("[net]\nwidth=64\nheight=64\n\n"
                                "[convolutional]\nfilters=14\nactivation=linear\n\n"
                                "[yolo]\nclasses=2\n\n[route]\nlayers=-2\n\n"
                                "[convolutional]\nfilters=14\nactivation=linear\n\n"
                                "[yolo]\nclasses=2\niou_loss=mse\n")

    demo.run(plan, invoke, notes.append)
    assert seen == ["cfg", "train", "watch", "eval", "detect"]
    assert any(n.startswith("# demo:") and "iou_loss=ciou" in n for n in notes)
    sections = cfgmod.load_cfg(plan.cfg).sections
    assert [s.options.get("activation") for s in sections if s.type == "convolutional"] \
        == ["logistic", "logistic"]
    for section in (s for s in sections if s.type == "yolo"):
        assert section.options["iou_loss"] == "ciou"
        assert section.options["new_coords"] == "1"


def test_verdict_warns_below_target_in_one_line(tmp_path):
    line, warning = demo.verdict(0.12)
    assert "0.120" in line and warning and "\n" not in warning
    assert demo.verdict(demo.AP50_TARGET) == (
        f"AP50 (pycocotools, held-out images): {demo.AP50_TARGET:.3f}", None)


def test_ap50_reads_the_eval_stats(tmp_path):
    plan = demo.plan(tmp_path / "d", iterations=20, train_images=2, valid_images=1)
    stats = dict.fromkeys(cocoeval.STAT_NAMES, 0.0) | {"AP50": 0.625}
    cocoeval.save_stats(plan.root / "stats.json", stats)
    assert demo.ap50(plan) == 0.625
