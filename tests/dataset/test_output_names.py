"""Where an annotated image lands under OUT/images: never outside it."""

from __future__ import annotations

import pytest

from enet4y2.dataset.importer import output_name


@pytest.mark.parametrize(("file", "expected"), [
    ("a/b.jpg", "a/b.jpg"), ("./d/./e.png", "d/e.png"), ("sub\\x.jpg", "sub/x.jpg"),
    ("/abs/path/y.jpg", "y.jpg"), ("../up.jpg", "up.jpg"), ("a\\..\\..\\c.jpg", "c.jpg"),
])
def test_output_names_stay_inside_the_images_folder(file, expected):
    assert output_name(file) == expected


def test_labels_follow_darknets_rule_for_cocos_folder_names(tmp_path):
    """images/train2017/x.jpg has its label in labels/train2017/x.txt, as darknet's
    replace_image_to_label reads it; `data check` finds it there."""
    import json

    import cv2
    import numpy as np

    from enet4y2.dataset.check import check_dataset
    from enet4y2.dataset.importer import ImportOptions, import_dataset

    (tmp_path / "src" / "train2017").mkdir(parents=True)
    cv2.imwrite(str(tmp_path / "src" / "train2017" / "a.png"), np.zeros((10, 20, 3), np.uint8))
    doc = {"images": [{"id": 1, "file_name": "train2017/a.png", "width": 20, "height": 10}],
           "categories": [{"id": 1, "name": "thing"}],
           "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 5]}]}
    (tmp_path / "src" / "i.json").write_text(json.dumps(doc))
    import_dataset(ImportOptions("coco", tmp_path / "src" / "i.json", tmp_path / "out", val=0))
    label = tmp_path / "out" / "labels" / "train2017" / "a.txt"
    assert label.read_text() == "0 0.250000 0.250000 0.500000 0.500000\n"
    assert not (tmp_path / "out" / "images" / "train2017" / "a.txt").exists()
    report = check_dataset(tmp_path / "out", hash_images=False)  # val=0: valid = train
    assert (report.without_labels, report.labels_without_images, report.boxes) == ([], [], 1)
    assert report.images == {"train": 1, "valid": 1}
