from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from enet4y2.errors import DataError
from enet4y2.evaluate import (
    category_map,
    check_results,
    clip_boxes,
    detections_to_results,
    image_id_from_name,
    image_ids_for,
)

# darknet's coco_ids (src/detector.c) as COCO publishes them: 80 ids in 1..90
COCO_IDS = [i for i in range(1, 91)
            if i not in (12, 26, 29, 30, 45, 66, 68, 69, 71, 83)]


@pytest.mark.parametrize(("name", "expected"), [
    ("COCO_val2014_000000000123.jpg", 123),
    ("/data/coco/images/val2014/COCO_val2014_000000581929.jpg", 581929),
    ("000000000139.jpg", 139),
    ("C:\\coco\\images\\val2014\\COCO_val2014_000000000042.png", 42),
    ("synth_000000000007.jpg", 7),
])
def test_image_id_from_coco_names(name, expected):
    assert image_id_from_name(name) == expected


@settings(deadline=None)  # a shared 2-core box: timing is not the point
@given(st.from_regex(r"[A-Za-z_]{0,12}", fullmatch=True), st.integers(0, 10**12 - 1))
def test_image_id_is_the_trailing_number(prefix, number):
    assert image_id_from_name(f"dir/{prefix}{number:012d}.jpg") == number


def test_image_id_without_digits_is_an_error():
    with pytest.raises(DataError, match="does not end in digits"):
        image_id_from_name("images/dog.jpg")


def test_image_ids_prefer_gt_file_names():
    gt_images = [{"id": 5, "file_name": "dog.jpg"}, {"id": 9, "file_name": "x/cat_1.jpg"}]
    assert image_ids_for(["/a/dog.jpg", "/b/cat_1.jpg", "/c/img_77.jpg"], gt_images) == [5, 9, 77]


def test_duplicate_image_ids_are_an_error():
    with pytest.raises(DataError, match="both map to image id 3"):
        image_ids_for(["a/x_3.jpg", "b/y_003.jpg"])


def test_category_map_is_sorted_gt_ids_like_darknet_coco_ids():
    shuffled = list(reversed(COCO_IDS))
    mapping = category_map(shuffled, 80)
    assert mapping == COCO_IDS
    assert mapping[0] == 1  # person
    assert mapping[11] == 13  # stop sign: id 12 is unused in COCO
    assert mapping[79] == 90  # toothbrush


def test_category_map_count_mismatch_is_one_line_error():
    with pytest.raises(DataError, match="80 classes but the ground truth has 2") as info:
        category_map([4, 9], 80)
    assert "\n" not in str(info.value)


def test_clip_boxes_to_image():
    boxes = np.array([[-10, -5, 30, 20], [90, 40, 50, 50], [10, 10, 5, 5], [200, 10, 5, 5]])
    out = clip_boxes(boxes, 100, 60)
    np.testing.assert_allclose(out, [[0, 0, 20, 15], [90, 40, 10, 20], [10, 10, 5, 5],
                                     [100, 10, 0, 5]])


@settings(deadline=None)
@given(st.lists(st.tuples(*[st.floats(-500, 500)] * 2, *[st.floats(0, 800)] * 2),
                min_size=1, max_size=20),
       st.integers(1, 640), st.integers(1, 640))
def test_clipped_boxes_lie_inside_the_image(boxes, width, height):
    out = clip_boxes(np.array(boxes), width, height)
    assert (out >= 0).all()
    assert (out[:, 0] + out[:, 2] <= width + 1e-9).all()
    assert (out[:, 1] + out[:, 3] <= height + 1e-9).all()


def test_detections_to_results_maps_clips_and_drops_empty():
    results = detections_to_results(
        123, 100, 80, classes=np.array([0, 1, 1], np.int32),
        scores=np.array([0.9, 0.5, 0.2], np.float32),
        boxes=np.array([[-5, 10, 20, 20], [50, 50, 100, 100], [150, 10, 5, 5]], np.float32),
        category_ids=[3, 7])
    assert results == [
        {"image_id": 123, "category_id": 3, "bbox": [0.0, 10.0, 15.0, 20.0], "score": 0.9},
        {"image_id": 123, "category_id": 7, "bbox": [50.0, 50.0, 50.0, 30.0], "score": 0.5},
    ]


def test_detection_class_outside_categories_is_an_error():
    with pytest.raises(DataError, match="class 2"):
        detections_to_results(1, 10, 10, np.array([2]), np.array([0.5]),
                              np.array([[1, 1, 2, 2]]), [1, 2])


@pytest.mark.parametrize(("results", "message"), [
    ([], "holds no detections"),
    ({"image_id": 1}, "not a JSON list"),
    ([{"image_id": 1, "category_id": 3}], r"result #0 .*score is missing"),
    ([{"image_id": 0, "category_id": 3, "bbox": [0, 0, 1, 1], "score": 1}] * 3,
     "#5412"),
    ([{"image_id": 42, "category_id": 3, "bbox": [0, 0, 1, 1], "score": 1}],
     "not in the ground truth"),
    ([{"image_id": 1, "category_id": 0, "bbox": [0, 0, 1, 1], "score": 1}],
     r"category_id\(s\) \[0\]"),
])
def test_bad_results_are_one_line_errors(results, message):
    with pytest.raises(DataError, match=message) as info:
        check_results(results, [1, 2], [3, 7])
    assert "\n" not in str(info.value)


def test_image_id_zero_is_fine_when_the_gt_has_it():
    results = [{"image_id": 0, "category_id": 3, "bbox": [0, 0, 1, 1], "score": 1}]
    assert check_results(results, [0, 1], [3]) == results




_GOOD = {"image_id": 1, "category_id": 3, "bbox": [0.0, 0.0, 5.0, 5.0], "score": 0.5}


@pytest.mark.parametrize(("change", "message"), [
    ({"bbox": [0, 0, float("nan"), 5]}, "not a finite number"),
    ({"bbox": [0, 0, -5, 5]}, "negative width"),
    ({"bbox": [0, 0, 5]}, "not a list of 4"),
    ({"category_id": "3"}, "category_id is missing or not an integer"),
    ({"image_id": 1.0}, "image_id is missing or not an integer"),
    ({"image_id": True}, "image_id is missing or not an integer"),
    ({"score": float("inf")}, "score is missing or not a finite number"),
    ({"score": float("nan")}, "score is missing or not a finite number"),
    ({"score": "0.9"}, "score is missing or not a finite number"),
])
def test_results_that_would_score_silently_wrong_are_refused(change, message):
    results = [dict(_GOOD), dict(_GOOD, **change)]
    with pytest.raises(DataError, match=rf"result #1 .*{message}") as info:
        check_results(results, [1, 2], [3, 7])
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(("where", "change", "message"), [
    ("annotations", {"bbox": [0, 0, float("nan"), 1]}, "annotation #0 .*finite"),
    ("annotations", {"area": None}, "annotation #0 .*area is missing"),
    ("annotations", {"id": "1"}, "annotation #0 .*id is missing or not an integer"),
    ("images", {"id": None}, "image #0 .*id is missing"),
    ("categories", {"id": 3.5}, "category #0 .*id is missing"),
])
def test_ground_truth_records_are_checked(gt, where, change, message):
    from enet4y2.evaluate.cocoeval import check_gt

    gt[where][0] = {**gt[where][0], **change}
    if change.get("area", 1) is None:
        del gt[where][0]["area"]
    with pytest.raises(DataError, match=message):
        check_gt(gt)


def test_json_nested_too_deeply_is_one_line(tmp_path):
    from enet4y2.evaluate.results import read_json

    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(DataError, match="nested too deeply"):
        read_json(deep, "results file")


def test_an_output_equal_to_an_input_is_refused(tmp_path, gt):
    import json

    from enet4y2.errors import OutputError
    from enet4y2.evaluate.run import run_eval
    from tests.coco_builders import perfect_results

    (tmp_path / "gt.json").write_text(json.dumps(gt))
    results = tmp_path / "r.json"
    results.write_text(json.dumps(perfect_results(gt)))
    reference = tmp_path / "ref.json"
    reference.write_text("{}")
    for options in ({"stats_out": results}, {"stats_out": reference},
                    {"stats_out": tmp_path / "s.json", "json_out": tmp_path / "s.json"}):
        with pytest.raises(OutputError, match="is the input"):
            run_eval(results=results, gt=tmp_path / "gt.json",
                     compare=[("ref", str(reference))], **options)
    assert reference.read_text() == "{}" and json.loads(results.read_text())
