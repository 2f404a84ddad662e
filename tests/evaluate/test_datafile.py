from __future__ import annotations

from enet4y2.evaluate.datafile import cfg_letterbox, parse_data_file, parse_list


def test_parse_data_file():
    text = ("classes= 80\n# comment\ntrain  = /c/trainvalno5k.txt\nvalid=/c/5k.txt\r\n\n"
            "names = data/coco.names\neval=coco\n")
    assert parse_data_file(text) == {"classes": "80", "train": "/c/trainvalno5k.txt",
                                     "valid": "/c/5k.txt", "names": "data/coco.names",
                                     "eval": "coco"}


def test_parse_list_skips_blank_lines_and_cr():
    assert parse_list("/a/1.jpg\r\n\n  /a/2.jpg  \n") == ["/a/1.jpg", "/a/2.jpg"]


def test_cfg_letterbox_only_in_net_section():
    assert cfg_letterbox("[net]\nwidth=416\nletter_box=1\n[convolutional]\n")
    assert not cfg_letterbox("[net]\nletter_box=0\n")
    assert not cfg_letterbox("[net]\nwidth=416\n[yolo]\nletter_box=1\n")
    assert not cfg_letterbox("[net]\n#letter_box=1\n")
