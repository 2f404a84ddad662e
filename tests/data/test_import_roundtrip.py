"""Round trips through every source format on generated data, with globox as the
oracle: globox writes the source, `data import` converts it, globox reads our darknet
layout back, and the boxes must be the ones generated (VOC: less its 1-based pixel)."""

from __future__ import annotations

import json

import pytest

from enet4y2.dataset.importer import ImportOptions, import_dataset
from tests.annotation_sets import CLASSES, generate, read_darknet_output, write_format

pytest.importorskip("globox", reason="globox (test extra) is the oracle")

FORMATS = ("coco", "voc", "labelme", "cvat", "yolo")


def _rounded(boxes):
    return sorted((b[0], *(round(v, 2) for v in b[1:])) for b in boxes)


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_round_trips_through_darknet_layout(tmp_path, fmt):
    truth = generate(tmp_path / "images", n=15, seed=FORMATS.index(fmt))
    src = write_format(fmt, truth, tmp_path)
    images = tmp_path / "images" if fmt == "coco" else None
    report = import_dataset(ImportOptions(fmt, src, tmp_path / "out", images=images,
                                          val=0.2, seed=1))
    shift = 1 if fmt == "voc" else 0
    # classes in the source's stable order: declared (COCO categories by id, a names
    # file) or, when the format declares none, every label met, sorted
    used = sorted({b[0] for t in truth for b in t.boxes})
    assert report.names == (list(CLASSES) if fmt in ("coco", "yolo") else used)
    back = read_darknet_output(tmp_path / "out", report.names)
    for t in truth:
        expected = [(b[0], *(v - shift for v in b[1:])) for b in t.boxes]
        assert _rounded(back.get(t.name, [])) == _rounded(expected), (fmt, t.name)
    total = sum(len(t.boxes) for t in truth)
    assert report.summary.boxes_in == report.summary.boxes_out == total
    assert report.summary.clipped == report.summary.degenerate == 0
    assert (report.train, report.valid) == (12, 3)
    # sizes come from the annotations except for YOLO, which has none
    assert report.sizes_read == (15 if fmt == "yolo" else 0)


@pytest.mark.parametrize("fmt", ["coco", "cvat"])
def test_valid_ground_truth_reads_back_with_globox(tmp_path, fmt):
    import globox

    truth = generate(tmp_path / "images", n=10, seed=7)
    src = write_format(fmt, truth, tmp_path)
    out = tmp_path / "out"
    images = tmp_path / "images" if fmt == "coco" else None
    report = import_dataset(ImportOptions(fmt, src, out, images=images, val=0.5, seed=3))
    valid_names = {p.rsplit("/", 1)[-1] for p in (out / "valid.txt").read_text().split()}
    assert len(valid_names) == report.valid == 5
    gt = globox.AnnotationSet.from_coco(out / "valid_gt.json")
    by_name = {t.name: t for t in truth}
    assert {a.image_id for a in gt} == valid_names
    for a in gt:
        t = by_name[a.image_id]
        assert a.image_size == t.size
        assert _rounded([(b.label, *b.ltrb) for b in a.boxes]) == _rounded(t.boxes)
    doc = json.loads((out / "valid_gt.json").read_text())
    assert [c["id"] for c in doc["categories"]] == list(range(1, len(report.names) + 1))
