"""Labels from an instances JSON, checked against values worked out by hand."""

from __future__ import annotations

import pytest

from enet4y2.data import coco as coco_labels
from enet4y2.errors import DataError

INSTANCES = {
    "images": [
        {"id": 42, "file_name": "COCO_val2014_000000000042.jpg", "width": 640, "height": 480},
        {"id": 7, "file_name": "COCO_val2014_000000000007.jpg", "width": 200, "height": 100},
        {"id": 9, "file_name": "COCO_val2014_000000000009.jpg", "width": 50, "height": 50},
    ],
    "categories": [{"id": 90, "name": "toothbrush"}, {"id": 1, "name": "person"},
                   {"id": 3, "name": "car"}],
    "annotations": [
        # image 42: a plain box of category 90 (class 2 of ids 1, 3, 90)
        {"image_id": 42, "category_id": 90, "bbox": [10, 20, 100, 50], "iscrowd": 0},
        # image 7: category 1 (class 0), then a crowd box that is left out
        {"image_id": 7, "category_id": 1, "bbox": [0, 0, 200, 100], "iscrowd": 0},
        {"image_id": 7, "category_id": 3, "bbox": [5, 5, 10, 10], "iscrowd": 1},
        # image 42 again: runs past the right/bottom edge, clipped to 600..640 x 400..480
        {"image_id": 42, "category_id": 3, "bbox": [600, 400, 100, 100], "iscrowd": 0},
        # zero-area box and an unknown image id: dropped
        {"image_id": 42, "category_id": 1, "bbox": [5, 5, 0, 10], "iscrowd": 0},
        {"image_id": 1234, "category_id": 1, "bbox": [5, 5, 10, 10], "iscrowd": 0},
    ],
}


def test_labels_match_hand_computed_values():
    labels = coco_labels.labels_from_instances(INSTANCES)
    # centre (10+100/2)/640=0.09375, (20+50/2)/480=0.09375; size 100/640, 50/480=0.1041666..
    # (600+640)/2/640=0.96875  (400+480)/2/480=0.9166666..  40/640=0.0625  80/480=0.1666666..
    assert labels == {
        "COCO_val2014_000000000042.jpg": "2 0.093750 0.093750 0.156250 0.104167\n"
                                         "1 0.968750 0.916667 0.062500 0.166667\n",
        "COCO_val2014_000000000007.jpg": "0 0.500000 0.500000 1.000000 1.000000\n",
        "COCO_val2014_000000000009.jpg": "",
    }


def test_crowd_boxes_can_be_kept():
    labels = coco_labels.labels_from_instances(INSTANCES, include_crowd=True)
    # (5+5)/200=0.05  (5+5)/100=0.1  10/200=0.05  10/100=0.1, class 1 (category 3)
    assert labels["COCO_val2014_000000000007.jpg"].splitlines() == [
        "0 0.500000 0.500000 1.000000 1.000000", "1 0.050000 0.100000 0.050000 0.100000"]


def test_names_and_label_file_names():
    assert coco_labels.category_names(INSTANCES) == ["person", "car", "toothbrush"]


#: COCO 2014's 80 category names as instances_*.json spells them, in category-id order
COCO_JSON_NAMES = [
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat",
    "traffic light", "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat",
    "dog", "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "backpack",
    "umbrella", "handbag", "tie", "suitcase", "frisbee", "skis", "snowboard",
    "sports ball", "kite", "baseball bat", "baseball glove", "skateboard", "surfboard",
    "tennis racket", "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl",
    "banana", "apple", "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza",
    "donut", "cake", "chair", "couch", "potted plant", "bed", "dining table", "toilet",
    "tv", "laptop", "mouse", "remote", "keyboard", "cell phone", "microwave", "oven",
    "toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors", "teddy bear",
    "hair drier", "toothbrush",
]
COCO_IDS = [c for c in range(1, 91) if c not in (12, 26, 29, 30, 45, 66, 68, 69, 71, 83)]


def test_category_names_of_coco_are_darknets_coco_names():
    from enet4y2.cfg.builders import coco_names

    shuffled = [{"id": i, "name": n} for i, n in zip(COCO_IDS, COCO_JSON_NAMES, strict=True)]
    shuffled.reverse()  # order comes from the ids, not the list
    names = coco_labels.category_names({"categories": shuffled})
    assert names == coco_names()  # which test_models checks against the reference file
    assert coco_labels.category_index(INSTANCES) == {1: 0, 3: 1, 90: 2}
    assert coco_labels.label_file_name("COCO_val2014_000000000042.jpg") == \
        "COCO_val2014_000000000042.txt"


def test_empty_instances():
    assert coco_labels.labels_from_instances({"images": [], "annotations": []}) == {}


def test_list_lines_and_data_file():
    part = "/images/val2014/a.jpg\n\n/images/val2014/b.jpg\n"
    assert coco_labels.list_lines(part, "/data/coco/") == \
        "/data/coco/images/val2014/a.jpg\n/data/coco/images/val2014/b.jpg\n"
    data = coco_labels.coco_data_text("/data/coco", "/data/backup", 80)
    fields = dict(line.split(" = ") for line in data.splitlines())
    assert fields == {"classes": "80", "train": "/data/coco/trainvalno5k.txt",
                      "valid": "/data/coco/5k.txt", "names": "/data/coco/coco.names",
                      "backup": "/data/backup", "eval": "coco"}


@pytest.mark.parametrize(("line", "why"), [
    ("<!DOCTYPE html>", "markup"), ("</html>", "markup"), ("Not Found", "no image extension"),
    ("/images/val2014/a.txt", "no image extension"), ("/images/../../x.jpg", "'..'"),
    ("a\x1b[0m.jpg", "control"), ("a\u00a0b.jpg", "control or non-printing"),
])
def test_list_lines_refuse_what_is_not_an_image_path(line, why):
    part = f"/images/val2014/a.jpg\n{line}\n"
    with pytest.raises(DataError, match=rf"^5k\.part line 2 is not an image path \(.*{why}"):
        coco_labels.list_lines(part, "/data/coco", source="5k.part")
    with pytest.raises(DataError, match="lists no images"):
        coco_labels.list_lines("\n  \n", "/data/coco", source="5k.part")
