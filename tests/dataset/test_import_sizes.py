"""Image sizes come from the image files when the annotations lack them, and hard
links / copies / symlinks each put the user's bytes under OUT/images."""

from __future__ import annotations

import json
import os
import re

import pytest

from enet4y2.dataset.importer import ImportOptions, import_dataset
from tests.annotation_sets import generate, read_darknet_output, write_format

pytest.importorskip("globox", reason="globox (test extra) writes the sources")


def test_voc_without_sizes_reads_them_from_the_images(tmp_path):
    truth = generate(tmp_path / "images", n=6, seed=11)
    src = write_format("voc", truth, tmp_path)
    for xml in (src / "Annotations").glob("*.xml"):
        text = re.sub(r"<size>.*?</size>", "", xml.read_text())
        xml.write_text(text)
    report = import_dataset(ImportOptions("voc", src, tmp_path / "out", val=0))
    assert report.sizes_read == 6
    back = read_darknet_output(tmp_path / "out", report.names)
    for t in truth:  # normalized with the real sizes: pixels come back right
        got = sorted((b[0], *(round(v, 2) for v in b[1:])) for b in back.get(t.name, []))
        want = sorted((b[0], *(round(v - 1, 2) for v in b[1:])) for b in t.boxes)
        assert got == want


def test_labelme_without_sizes_reads_them_too(tmp_path):
    truth = generate(tmp_path / "images", n=4, seed=12)
    src = write_format("labelme", truth, tmp_path)
    for path in src.glob("*.json"):
        doc = json.loads(path.read_text())
        del doc["imageWidth"], doc["imageHeight"]
        path.write_text(json.dumps(doc))
    report = import_dataset(ImportOptions("labelme", src, tmp_path / "out", val=0.5))
    assert report.sizes_read == 4
    gt = json.loads((tmp_path / "out" / "valid_gt.json").read_text())
    sizes = {t.name: t.size for t in truth}
    assert len(gt["images"]) == 2
    assert all((i["width"], i["height"]) == sizes[i["file_name"]] for i in gt["images"])


@pytest.mark.parametrize("link", ["symlink", "hardlink", "copy"])
def test_link_modes(tmp_path, link):
    truth = generate(tmp_path / "images", n=3, seed=13)
    src = write_format("coco", truth, tmp_path)
    import_dataset(ImportOptions("coco", src, tmp_path / "out", images=tmp_path / "images",
                                 link=link, val=0))
    for t in truth:
        placed = tmp_path / "out" / "images" / t.name
        original = tmp_path / "images" / t.name
        assert placed.read_bytes() == original.read_bytes()
        assert placed.is_symlink() == (link == "symlink")
        assert os.path.samefile(placed, original) == (link != "copy")
