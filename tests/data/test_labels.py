"""Label files: one parser for pre-flight, ground truth and anchors; boxes of a dataset."""

from __future__ import annotations

import numpy as np
import pytest

from enet4y2.data.files import label_path, parse_data_file
from enet4y2.data.labels import boxes_from_data, label_sizes, parse_label_text
from enet4y2.errors import DataError, MissingFileError


def test_label_helpers():
    assert label_path("/d/coco/images/train2014/a.jpg") == "/d/coco/labels/train2014/a.txt"
    assert label_path("/voc/JPEGImages/x.JPEG") == "/voc/labels/x.txt"
    assert label_path("rel/img.png ") == "rel/img.txt"
    wh = label_sizes("0 0.5 0.5 0.25 0.5\n\n3 0.1 0.1 0.1 0.2\n")
    assert np.allclose(wh, [[0.25, 0.5], [0.1, 0.2]])
    with pytest.raises(DataError, match="class x y w h"):
        label_sizes("0 0.5 0.5\n", "l.txt")
    assert parse_data_file("classes = 3\n# c\ntrain = a b.txt\n") == {
        "classes": "3", "train": "ab.txt"}


def test_boxes_from_data(tmp_path):
    images = tmp_path / "images" / "train2014"
    labels = tmp_path / "labels" / "train2014"
    images.mkdir(parents=True)
    labels.mkdir(parents=True)
    (labels / "a.txt").write_text("0 0.5 0.5 0.25 0.5\n1 0.5 0.5 0.5 0.125\n")
    (labels / "b.txt").write_text("")
    listing = tmp_path / "train.txt"
    listing.write_text(f"{images}/a.jpg\n{images}/b.jpg\n{images}/missing.jpg\n")
    data = tmp_path / "x.data"
    data.write_text(f"classes=2\ntrain={listing}\n")
    wh = boxes_from_data(data, 416, 320)
    assert wh.tolist() == [[104, 160], [208, 40]]
    data.write_text("classes=2\n")
    with pytest.raises(DataError, match="no train= line"):
        boxes_from_data(data, 416, 416)
    with pytest.raises(MissingFileError):
        boxes_from_data(tmp_path / "nope.data", 416, 416)


def test_one_parser_keeps_rows_and_names_each_problem():
    rows, problems = parse_label_text("0 0.5 0.5 0.2 0.1\n5 0.5 0.5 1.5 0.1\nx\n"
                                      "0 0.1 0.1 0.1 0.1 9\n", classes=2)
    assert rows.tolist() == [[0, .5, .5, .2, .1], [5, .5, .5, 1.5, .1]]
    assert [(p.line, p.kind) for p in problems] == [(2, "class"), (2, "range"),
                                                    (3, "format"), (4, "format")]
    assert str(problems[0]) == "line 2: class 5 outside 0..1"
