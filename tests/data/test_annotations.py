"""The pure steps of `data import`: readers' flags and conventions, explicit class
mapping, clipping and degenerate boxes, the split, label text and the COCO GT."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from enet4y2.data import annotations as ann
from enet4y2.data import readers
from enet4y2.data.labels import parse_label_text
from enet4y2.errors import DataError

VOC = b"""<annotation><filename>a.jpg</filename><size><width>100</width><height>50</height>
<depth>3</depth></size>
<object><name>dog</name><difficult>0</difficult><bndbox><xmin>1</xmin><ymin>1</ymin>
<xmax>51</xmax><ymax>26</ymax></bndbox></object>
<object><name>cat</name><difficult>1</difficult><occluded>1</occluded><bndbox><xmin>10</xmin>
<ymin>10</ymin><xmax>20</xmax><ymax>20</ymax></bndbox></object></annotation>"""


def test_voc_subtracts_one_as_voc_label_and_marks_difficult():
    image = readers.voc_image(VOC, "a.xml")
    assert (image.file, image.width, image.height) == ("a.jpg", 100, 50)
    dog, cat = image.boxes
    assert (dog.x1, dog.y1, dog.x2, dog.y2, dog.ignore) == (0, 0, 50, 25, "")
    assert (cat.ignore, cat.occluded) == ("difficult", True)
    # darknet label as upstream's voc_label.py computes it: ((xmin+xmax)/2 - 1) / w ...
    rows, _ = ann.prepare([image], {"dog": 0, "cat": 1})
    assert ann.label_text(rows[0], 100, 50) == "0 0.250000 0.250000 0.500000 0.500000\n"


def test_voc_without_size_leaves_it_to_the_image_file():
    image = readers.voc_image(b"<annotation><size><width>0</width></size></annotation>",
                              "b.xml", "b.jpg")
    assert (image.file, image.width, image.height, image.boxes) == ("b.jpg", None, None, [])


@pytest.mark.parametrize("data", [b"<annotation><object>", b"<html></html>"])
def test_bad_xml_is_a_data_error_naming_the_file(data):
    with pytest.raises(DataError, match=r"x\.xml"):
        readers.voc_image(data, "x.xml")


def test_labelme_shapes_become_bounding_boxes_and_others_are_counted():
    doc = {"imagePath": "..\\pics\\a.jpg", "imageWidth": 80, "imageHeight": 60, "shapes": [
        {"label": "r", "shape_type": "rectangle", "points": [[30, 40], [10, 5]]},
        {"label": "p", "shape_type": "polygon", "points": [[1, 2], [9, 3], [4, 8]]},
        {"label": "c", "shape_type": "circle", "points": [[20, 20], [23, 24]]},
        {"label": "x", "shape_type": "point", "points": [[1, 1]]},
        {"label": "l", "shape_type": "line", "points": [[1, 1], [5, 5]]}]}
    image, skipped = readers.labelme_image(doc, "a.json", "json")
    assert image.file == "pics/a.jpg" and skipped == 2
    assert [(b.label, b.x1, b.y1, b.x2, b.y2) for b in image.boxes] == [
        ("r", 10, 5, 30, 40), ("p", 1, 2, 9, 8), ("c", 15, 15, 25, 25)]


CVAT = b"""<annotations><version>1.1</version><meta><task><labels>
<label><name>zebra</name></label><label><name>ant</name></label></labels></task></meta>
<image id="0" name="sub/a.png" width="64" height="32">
<box label="ant" occluded="1" xtl="1.5" ytl="2" xbr="10" ybr="12" z_order="0"/>
<polygon label="zebra" occluded="0" points="5,5;20,6;10,30"/>
<points label="ant" points="1,1"/><tag label="zebra"/></image>
<image id="1" name="b.png" width="64" height="32"/></annotations>"""


def test_cvat_keeps_the_task_label_order_and_counts_occluded():
    source = readers.cvat_source(CVAT)
    assert source.classes == ["zebra", "ant"] and source.skipped_shapes == 1
    a, b = source.images
    assert (a.file, b.file, b.boxes) == ("sub/a.png", "b.png", [])
    assert [(x.label, x.x1, x.y2, x.occluded) for x in a.boxes] == [
        ("ant", 1.5, 12, True), ("zebra", 5, 30, False)]
    _, summary = ann.prepare(source.images, {"zebra": 0, "ant": 1})
    assert summary.occluded == 1 and summary.boxes_out == 2


def test_coco_crowd_is_left_out_of_labels_but_kept_as_an_ignored_gt_region():
    doc = {"images": [{"id": 7, "file_name": "a.jpg", "width": 10, "height": 10}],
           "categories": [{"id": 9, "name": "b"}, {"id": 2, "name": "a"}],
           "annotations": [{"id": 1, "image_id": 7, "category_id": 9, "bbox": [0, 0, 5, 5]},
                           {"id": 2, "image_id": 7, "category_id": 2, "bbox": [1, 1, 2, 2],
                            "iscrowd": 1}]}
    source = readers.coco_source(doc)
    assert source.classes == ["a", "b"]  # by category id
    names, index = ann.class_mapping(source.classes, None)
    rows, summary = ann.prepare(source.images, index)
    assert summary.crowd_left_out == 1 and summary.boxes_out == 1
    assert ann.label_text(rows[0], 10, 10) == "1 0.250000 0.250000 0.500000 0.500000\n"
    gt = ann.coco_ground_truth([("a.jpg", 10, 10, rows[0])], names)
    assert [(a["category_id"], a["iscrowd"]) for a in gt["annotations"]] == [(2, 0), (1, 1)]
    rows, summary = ann.prepare(source.images, index, include_crowd=True)
    assert summary.boxes_out == 2 and ann.label_text(rows[0], 10, 10).count("\n") == 2


def test_coco_annotation_of_a_missing_image_or_category_is_an_error():
    doc = {"images": [], "categories": [], "annotations": [
        {"id": 3, "image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1]}]}
    with pytest.raises(DataError, match="annotation 3 names image 1"):
        readers.coco_source(doc)


def test_class_mapping_is_explicit():
    assert ann.class_mapping(["b", "a"], None) == (["b", "a"], {"b": 0, "a": 1})
    with pytest.raises(DataError, match=r"1 source class\(es\) not in --classes: 'c'"):
        ann.class_mapping(["a", "c"], ["a", "b"])
    names, index = ann.class_mapping(["a", "c"], ["b", "a"], drop_unknown=True)
    assert names == ["b", "a"] and index == {"b": 0, "a": 1}
    with pytest.raises(DataError, match="more than once"):
        ann.class_mapping(["a"], ["a", "a"])


def test_clipping_and_degenerate_boxes_are_counted():
    image = ann.ImageAnn("a.jpg", 100, 50, [
        ann.Box("a", -10, 5, 20, 30),     # clipped on the left
        ann.Box("a", 90, 40, 130, 80),    # clipped right and bottom
        ann.Box("a", 120, 10, 140, 20),   # outside: nothing left
        ann.Box("a", 5, 5, 5, 20),        # zero width
        ann.Box("z", 1, 1, 2, 2)])        # unknown class
    rows, s = ann.prepare([image], {"a": 0})
    assert (s.boxes_in, s.boxes_out, s.clipped, s.degenerate, s.unknown_class) == (5, 2, 2, 2, 1)
    assert rows[0][:, 1:5].tolist() == [[0, 5, 20, 30], [90, 40, 100, 50]]
    with pytest.raises(DataError, match="no image size"):
        ann.prepare([ann.ImageAnn("b.jpg", None, None)], {})


def test_split_is_seeded_and_complete():
    train, valid = ann.split_indices(100, 0.1, seed=5)
    assert len(valid) == 10 and sorted(train + valid) == list(range(100))
    assert ann.split_indices(100, 0.1, seed=5) == (train, valid)
    assert ann.split_indices(100, 0.1, seed=6)[1] != valid
    assert ann.split_indices(3, 0.01, 0)[1] != []  # a positive fraction gives one at least
    assert ann.split_indices(4, 0.0, 0) == ([0, 1, 2, 3], [])
    assert ann.parse_split("val=0.25") == 0.25
    for bad in ("val=1", "train=0.1", "val=x"):
        with pytest.raises(DataError):
            ann.parse_split(bad)


def test_yolo_labels_to_pixels_and_bad_class_named():
    image = readers.yolo_image("1 0.5 0.5 0.2 0.4\n", "a.jpg", 200, 100, ["x", "y"], "a.txt")
    b = image.boxes[0]
    assert (b.label, b.x1, b.y1, b.x2, b.y2) == ("y", 80, 30, 120, 70)
    with pytest.raises(DataError, match=r"a\.txt:1: class 2 outside 0\.\.1"):
        readers.yolo_image("2 0.5 0.5 0.2 0.4\n", "a.jpg", 200, 100, ["x", "y"], "a.txt")
    assert np.isclose(image.boxes[0].x2 - image.boxes[0].x1, 40)


coord = st.floats(-50, 250, allow_nan=False)


@settings(max_examples=200, deadline=None)  # a shared, loaded box: no timing deadline
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "z"]), coord, coord, coord, coord,
                          st.sampled_from(["", "crowd", "difficult"])), max_size=12),
       st.integers(1, 200), st.integers(1, 200))
def test_every_box_is_accounted_for_and_kept_boxes_lie_inside(boxes, width, height):
    image = ann.ImageAnn("x.jpg", width, height, [ann.Box(lab, x1, y1, x2, y2, flag)
                                                  for lab, x1, y1, x2, y2, flag in boxes])
    rows, s = ann.prepare([image], {"a": 0, "b": 1})
    assert s.boxes_in == len(boxes)
    assert s.boxes_in == (s.boxes_out + s.degenerate + s.unknown_class + s.crowd_left_out
                          + s.difficult_left_out)
    r = rows[0]
    assert np.all((r[:, 1] >= 0) & (r[:, 3] <= width) & (r[:, 2] >= 0) & (r[:, 4] <= height))
    assert np.all((r[:, 3] > r[:, 1]) & (r[:, 4] > r[:, 2]))
    text = ann.label_text(r, width, height)
    back, problems = parse_label_text(text, 2)
    assert len(back) == s.boxes_out and problems == []  # every line as darknet wants it
    kept = r[r[:, 5] == 0]
    assert np.allclose(back[:, 1] * width, (kept[:, 1] + kept[:, 3]) / 2, atol=1e-6 * width + 1e-9)
    assert np.allclose(back[:, 3] * width, kept[:, 3] - kept[:, 1], atol=1e-6 * width + 1e-9)
