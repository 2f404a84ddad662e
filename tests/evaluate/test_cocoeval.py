from __future__ import annotations

import contextlib
import io

import pytest

from enet4y2.errors import DataError
from enet4y2.evaluate import STAT_NAMES, evaluate, load_stats, save_stats, summary_lines
from enet4y2.evaluate.cocoeval import stats_from_json


def test_perfect_results_score_one(gt, perfect_results):
    stats = evaluate(gt, perfect_results(gt))
    for name in ("AP", "AP50", "AP75", "APs", "APm", "APl", "AR100", "ARs", "ARm", "ARl"):
        assert stats[name] == pytest.approx(1.0), name


def test_one_class_missing_halves_ap(gt, perfect_results):
    # category 7 has GT but no detection: its AP is 0, the mean over 2 categories is 0.5
    stats = evaluate(gt, perfect_results(gt, category_ids={3}))
    assert stats["AP"] == pytest.approx(0.5)
    assert stats["AP50"] == pytest.approx(0.5)


def test_all_images_vs_only_detected_images(perfect_results, build_gt):
    gt = build_gt(4)  # each category: 6 boxes, 3 of them on images 1000 and 1001
    results = perfect_results(gt, image_ids={1000, 1001})
    everything = evaluate(gt, results)
    only = evaluate(gt, results, only_detected_images=True)
    # every image: recall stops at 0.5, precision 1 up to there -> 51 of COCO's 101 points
    assert everything["AP"] == pytest.approx(51 / 101)
    assert everything["AR100"] == pytest.approx(0.5)
    # the seed's method never sees the missed images: a perfect score
    assert only["AP"] == pytest.approx(1.0)


def test_list_restricts_the_images(gt, perfect_results):
    results = perfect_results(gt, image_ids={1000, 1001})
    assert evaluate(gt, results, image_ids=[1000, 1001])["AP"] == pytest.approx(1.0)


def test_list_image_missing_from_gt_is_an_error(gt, perfect_results):
    with pytest.raises(DataError, match="not in the ground truth"):
        evaluate(gt, perfect_results(gt), image_ids=[1000, 5])


def test_gt_that_is_not_coco_is_an_error():
    with pytest.raises(DataError, match="not a COCO instances file"):
        evaluate({"images": []}, [])


def test_caller_dicts_are_not_modified(gt, perfect_results):
    results = perfect_results(gt)
    before = [dict(r) for r in results], [dict(a) for a in gt["annotations"]]
    evaluate(gt, results)
    assert ([dict(r) for r in results], [dict(a) for a in gt["annotations"]]) == before


def test_summary_lines_match_pycocotools_print(gt, perfect_results, build_gt):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    results = perfect_results(gt, image_ids={1000, 1001, 1002}, category_ids={3})
    printed = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO()
        coco_gt.dataset = build_gt()
        coco_gt.createIndex()
        evaluator = COCOeval(coco_gt, coco_gt.loadRes(results), "bbox")
        evaluator.evaluate()
        evaluator.accumulate()
    with contextlib.redirect_stdout(printed):
        evaluator.summarize()
    ours = summary_lines(evaluate(gt, results))
    assert ours == printed.getvalue().splitlines()


def test_faster_backend_gives_identical_stats(gt, perfect_results):
    pytest.importorskip("faster_coco_eval")
    results = perfect_results(gt, image_ids={1000, 1001, 1003, 1007})
    results += [{"image_id": 1002, "category_id": 3, "bbox": [12, 11, 20, 22], "score": 0.3},
                {"image_id": 1005, "category_id": 7, "bbox": [90, 40, 60, 70], "score": 0.6}]
    slow = evaluate(gt, results, backend="pycocotools")
    fast = evaluate(gt, results, backend="faster-coco-eval")
    assert fast == pytest.approx(slow, abs=1e-12)


def test_unknown_backend_is_an_error(gt, perfect_results):
    with pytest.raises(DataError, match="unknown backend"):
        evaluate(gt, perfect_results(gt), backend="nope")


def test_stats_round_trip(tmp_path, gt, perfect_results):
    stats = evaluate(gt, perfect_results(gt, category_ids={7}))
    path = tmp_path / "stats.json"
    save_stats(path, stats, model="m")
    assert load_stats(path) == stats
    assert list(load_stats(path)) == list(STAT_NAMES)


def test_stats_from_a_list_of_twelve():
    values = [i / 100 for i in range(12)]
    assert list(stats_from_json(values).values()) == values


@pytest.mark.parametrize("bad", [{"AP": 0.1}, "text", [0.1] * 5, {"stats": {"AP": "x"}}])
def test_bad_stats_files_are_errors(bad):
    with pytest.raises(DataError):
        stats_from_json(bad)


def test_comparability_warnings():
    from enet4y2.evaluate.cocoeval import comparability_warnings

    assert comparability_warnings("r", {"images": 5000, "only_detected_images": False},
                                  images=5000, only_detected_images=False) == []
    assert comparability_warnings("r", {}, images=5000, only_detected_images=False) == []
    [split] = comparability_warnings("r", {"images": 4952}, images=5000,
                                     only_detected_images=False)
    assert "4952 images" in split and "different splits" in split
    [method] = comparability_warnings("r", {"only_detected_images": False}, images=10,
                                      only_detected_images=True)
    assert "every image" in method


def test_a_missing_extra_is_one_line_naming_it(monkeypatch):
    import sys

    from enet4y2.errors import MissingDependencyError
    from enet4y2.evaluate.cocoeval import load_backend

    monkeypatch.setitem(sys.modules, "faster_coco_eval", None)  # as if not installed
    with pytest.raises(MissingDependencyError, match=r"pip install 'enet4y2\[fast\]'"):
        load_backend("faster-coco-eval")
