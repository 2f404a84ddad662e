"""darknet's data-file rules: .data pairs, list files, image -> label path."""

from __future__ import annotations

import os

import pytest

from enet4y2.data.files import (
    label_path,
    parse_data_file,
    parse_list,
    read_data_file,
    read_list,
    replace_data_value,
)
from enet4y2.errors import MissingFileError


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


def test_parse_data_file_as_darknet_strips_spaces_and_crlf():
    text = ("classes= 80\n# comment\ntrain  = /c/trainvalno5k.txt\nvalid=/c/5k.txt\r\n\n"
            "names = data/coco.names\neval=coco\n")
    assert parse_data_file(text) == {"classes": "80", "train": "/c/trainvalno5k.txt",
                                     "valid": "/c/5k.txt", "names": "data/coco.names",
                                     "eval": "coco"}


def test_windows_folder_names_map_to_labels_too():
    assert (label_path("C:\\d\\images\\val2014\\COCO_val2014_000000000042.jpg")
            == "C:\\d\\labels\\val2014\\COCO_val2014_000000000042.txt")


def test_readers(tmp_path):
    import pytest

    from enet4y2.data.files import read_list, read_names
    from enet4y2.errors import DataError, MissingFileError

    (tmp_path / "l.txt").write_text("/a/1.jpg\r\n\n  /a/2.jpg  \n")
    assert read_list(tmp_path / "l.txt") == ["/a/1.jpg", "/a/2.jpg"]
    (tmp_path / "n.names").write_text("cat\n\ntraffic light\n")
    assert read_names(tmp_path / "n.names") == ["cat", "traffic light"]
    (tmp_path / "empty.txt").write_text("\n\n")
    with pytest.raises(DataError, match="empty"):
        read_list(tmp_path / "empty.txt")
    with pytest.raises(MissingFileError, match="check --data"):
        read_list(tmp_path / "none.txt", "check --data")


def test_inputs_that_are_not_files_are_one_line_errors(tmp_path):
    fifo = tmp_path / "x.data"
    os.mkfifo(fifo)
    for path, says in ((fifo, "not a regular file"), (tmp_path, "is a directory"),
                       (tmp_path / "none.data", "not found")):
        with pytest.raises(MissingFileError, match=says):
            read_data_file(path)
    (tmp_path / "bad.txt").write_bytes(b"\xff\xfe/img/a.jpg\n")  # not UTF-8: no traceback
    assert read_list(tmp_path / "bad.txt") == ["\ufffd\ufffd/img/a.jpg"]
