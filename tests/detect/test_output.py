"""Formatting and drawing of detections (pure)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from enet4y2.darknet import Detections
from enet4y2.detect import output as detect


def _dets(names=("cat", "dog")):
    return Detections(classes=np.array([1, 0], np.int32),
                      scores=np.array([0.876, 0.3049], np.float32),
                      boxes=np.array([[50.4, 10.6, 20.2, 30.5], [3.0, 4.0, 5.0, 6.0]],
                                     np.float32),
                      objectness=np.array([0.9, 0.5], np.float32), names=names)


def test_ext_output_is_darknets_format_sorted_by_left_edge():
    lines = detect.ext_output(_dets()).splitlines()
    assert lines == [
        "cat: 30%\t(left_x:    3   top_y:    4   width:    5   height:    6)",
        "dog: 88%\t(left_x:   50   top_y:   11   width:   20   height:   30)",
    ]


def test_ext_output_without_names_uses_class_ids():
    assert detect.ext_output(_dets(names=None)).startswith("0: 30%")


def test_record_for_json_lines():
    image = np.zeros((40, 60, 3), np.uint8)
    rec = detect.to_record(Path("a.jpg"), image, _dets(), 12.3456)
    assert rec["width"] == 60 and rec["height"] == 40 and rec["milliseconds"] == 12.35
    assert rec["detections"][0] == {"class_id": 1, "name": "dog", "confidence": 0.876,
                                    "x": 50.4, "y": 10.6, "w": 20.2, "h": 30.5}


def test_draw_marks_the_box_and_leaves_the_input_alone():
    image = np.zeros((40, 60, 3), np.uint8)
    out = detect.draw(image, _dets())
    assert image.max() == 0
    assert out[4, 3:9].any() and out.shape == image.shape  # top edge of the second box


def test_labels_stay_inside_the_image_at_the_right_edge():
    image = np.zeros((60, 100, 3), np.uint8)
    dets = Detections(classes=np.array([0], np.int32), scores=np.array([0.5], np.float32),
                      boxes=np.array([[85, 30, 14, 14]], np.float32),
                      objectness=np.array([0.5], np.float32), names=("a long label",))
    out = detect.draw(image, dets)
    label_rows = out[:28]  # the label is above the box (y=30)
    columns = np.flatnonzero(label_rows.any(axis=(0, 2)))
    # the text is shifted left so all of it shows: it starts well before the box
    assert columns.min() < 85 - 40 and columns.max() <= 99


def test_infinite_and_huge_boxes_neither_crash_nor_produce_invalid_json():
    from enet4y2.fileio import json_text

    dets = Detections(classes=np.array([0, 1], np.int32),
                      scores=np.array([0.9, 0.8], np.float32),
                      boxes=np.array([[np.inf, 1, -np.inf, np.nan], [-1e30, 5, 1e30, 5]],
                                     np.float32),
                      objectness=np.array([0.9, 0.8], np.float32), names=("a", "b"))
    text = detect.ext_output(dets)
    assert "left_x:  inf" in text and "width: -inf" in text and "height:  nan" in text
    image = np.zeros((20, 30, 3), np.uint8)
    drawn = detect.draw(image, dets)  # the finite box is drawn, clipped; the other skipped
    assert drawn.shape == image.shape and drawn.any()
    record = json_text(detect.to_record(Path("a.jpg"), image, dets, 1.0))
    assert "Infinity" not in record and "NaN" not in record and '"x":null' in record


def test_annotated_copies_never_overwrite_inputs_or_each_other(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    sources = [tmp_path / "a" / "x.jpg", tmp_path / "b" / "x.jpg", tmp_path / "a" / "y.png",
               tmp_path / "a" / "z.dat"]
    for s in sources:
        s.write_bytes(b"img")
    assert detect.annotated_paths(sources, tmp_path / "out") == [
        tmp_path / "out" / "x.jpg", tmp_path / "out" / "x-2.jpg",
        tmp_path / "out" / "y.png", tmp_path / "out" / "z.jpg"]
    # into the images' own folder: the originals keep their names
    assert detect.annotated_paths(sources[:1] + sources[2:3], tmp_path / "a") == [
        tmp_path / "a" / "x-2.jpg", tmp_path / "a" / "y-2.png"]
