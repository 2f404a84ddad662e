from __future__ import annotations

import pytest

from enet4y2.evaluate import comparison_table, judge, table_markdown

# the seed's pycocotools table (FACTS.md) and its judgement row
ENET = {"AP": 0.240, "AP50": 0.452, "AP75": 0.231, "APs": 0.086, "APm": 0.260, "APl": 0.369}
ENET4Y2 = {"AP": 0.236, "AP50": 0.471, "AP75": 0.213, "APs": 0.091, "APm": 0.258, "APl": 0.339}


def test_seed_judgement_row_is_reproduced():
    table = comparison_table("enet4y2-coco", ENET4Y2, [("enet-coco", ENET)])
    assert table["judgements"] == [{"against": "enet-coco",
                                    "results": ["even", "win", "lose", "win", "even", "lose"]}]
    assert [row["model"] for row in table["rows"]] == ["enet-coco", "enet4y2-coco"]
    assert [row["role"] for row in table["rows"]] == ["criterion", "target"]
    assert table["columns"] == ["AP50-95", "AP50", "AP75", "small", "medium", "large"]


@pytest.mark.parametrize(("value", "reference", "expected"), [
    (0.3004, 0.2996, "even"),   # both print 0.300
    (0.3044, 0.3000, "even"),   # 0.304 vs 0.300
    (0.3050, 0.3000, "win"),    # 0.305 vs 0.300: half a point
    (0.2949, 0.3000, "lose"),
])
def test_even_rule_is_on_the_printed_values(value, reference, expected):
    assert judge(value, reference) == expected


def test_even_within_is_adjustable():
    assert judge(0.310, 0.300, even_within=0.02) == "even"
    assert judge(0.301, 0.300, even_within=0.001) == "win"


def test_one_judgement_row_per_reference():
    other = {k: v + 0.1 for k, v in ENET.items()}
    table = comparison_table("x", ENET4Y2, [("a", ENET), ("b", other)])
    assert [j["against"] for j in table["judgements"]] == ["a", "b"]
    assert table["judgements"][1]["results"] == ["lose"] * 6
    assert [row["role"] for row in table["rows"]] == ["criterion", "reference", "target"]


def test_markdown_table():
    text = table_markdown(comparison_table("enet4y2-coco", ENET4Y2, [("enet-coco", ENET)]))
    lines = text.splitlines()
    assert lines[2] == "| enet-coco | 0.240 | 0.452 | 0.231 | 0.086 | 0.260 | 0.369 | criterion |"
    assert lines[-1] == "| vs enet-coco | even | win | lose | win | even | lose | result |"


def test_no_ground_truth_in_a_range_is_not_judged():
    # COCOeval reports -1 for an area range without GT boxes
    assert judge(-1.0, 0.3) == "n/a" and judge(0.3, -1.0) == "n/a"
    stats = {**ENET4Y2, "APl": -1.0}
    table = comparison_table("x", stats, [("r", ENET)])
    assert table["judgements"][0]["results"][-1] == "n/a"
    assert table_markdown(table).splitlines()[3].endswith("| 0.258 | - | target |")
