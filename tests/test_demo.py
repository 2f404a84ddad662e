"""The demo's plan, its cfg tuning and its closing verdict (no darknet needed)."""

from __future__ import annotations

from enet4y2 import demo
from enet4y2.evaluate import cocoeval


def test_run_announces_then_invokes_each_step(tmp_path):
    plan = demo.plan(tmp_path / "d", iterations=20, train_images=4, valid_images=2)
    events = []
    demo.run(plan, lambda argv: events.append(argv[0]), events.append)
    assert events[0].startswith("$ enet4y2 cfg ") and events[1] == "cfg"
    assert events[1::2] == ["cfg", "train", "watch", "eval", "detect"]


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
