"""darknet's data-file rules: .data pairs, list files, image -> label path."""

from __future__ import annotations

from enet4y2.datafile import label_path, parse_data_file, parse_list, replace_data_value


def test_label_path_maps_coco_and_voc_folders_only():
    assert label_path("/c/images/val2014/x.jpg") == "/c/labels/val2014/x.txt"
    assert label_path("/c/images/train2017/x.png") == "/c/labels/train2017/x.txt"
    # Other images/ folders keep the label beside the image (upstream's rule).
    assert label_path("/d/images/x.jpg") == "/d/images/x.txt"
    assert label_path("a/b.bmp") == "a/b.txt"


def test_parse_list_keeps_lines_and_finds_blanks():
    listing = parse_list("a.jpg\r\n\nb.jpg\n   \nc.jpg")
    assert listing.paths == ["a.jpg", "", "b.jpg", "   ", "c.jpg"]
    assert listing.blank_lines == [2, 4]
    assert listing.images() == [(1, "a.jpg"), (3, "b.jpg"), (5, "c.jpg")]
    assert parse_list("a.jpg\n").blank_lines == []
    assert parse_list("").paths == []


def test_replace_data_value_keeps_other_lines():
    text = "classes= 2\n# comment\ntrain  = old.txt\nnames = n.names\n"
    new = replace_data_value(text, "train", "/abs/clean.txt")
    assert parse_data_file(new) == {"classes": "2", "train": "/abs/clean.txt",
                                    "names": "n.names"}
    assert "# comment" in new
    assert parse_data_file(replace_data_value("classes=1\n", "valid", "v.txt"))["valid"] == \
        "v.txt"
