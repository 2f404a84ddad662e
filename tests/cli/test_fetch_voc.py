"""`enet4y2 fetch-voc` against a tiny VOC release on 127.0.0.1: the layout of upstream's
voc_label.py (labels checked against its formula), verification, resume, safe
extraction, the dry run."""

from __future__ import annotations

import json
import tarfile

import pytest

from tests.mini_voc import NAMES, TARS, build, write_sums
from tests.range_server import serve


@pytest.fixture
def published(tmp_path):
    directory = tmp_path / "published"
    return directory, build(directory)


@pytest.fixture
def server(published):
    with serve(published[0]) as srv:
        yield srv


def voc_label_line(w, h, name, box):
    """What upstream's scripts/voc_label.py writes for one object (its `convert`)."""
    xmin, ymin, xmax, ymax = box
    x, y = (xmin + xmax) / 2.0 - 1, (ymin + ymax) / 2.0 - 1
    return NAMES.index(name), x / w, y / h, (xmax - xmin) / w, (ymax - ymin) / h


def test_fetch_voc_builds_voc_label_layout(cli, tmp_path, server, published):
    _, truth = published
    out = tmp_path / "work"
    report = json.loads(cli.ok("fetch-voc", "--dir", out, "--mirror", server.base_url,
                               "--json").stdout)
    voc = out.resolve() / "voc"
    assert {f["status"] for f in report["fetched"].values()} == {"downloaded"}
    assert report["images"]["train"] == 6 and report["images"]["2007_test"] == 3
    test_list = (voc / "2007_test.txt").read_text().split()
    assert test_list == [f"{voc}/VOCdevkit/VOC2007/JPEGImages/00000{i}.jpg" for i in (1, 2, 3)]
    train = (voc / "train.txt").read_text().split()
    assert [p.rsplit("/", 1)[1] for p in train] == [
        "000005.jpg", "000007.jpg", "000009.jpg", "2008_000002.jpg", "2008_000003.jpg",
        "2008_000004.jpg"]  # 2007 train, 2007 val, 2012 train, 2012 val
    for key, (w, h, objects) in truth.items():
        year, image_id = key.split("/")
        label = voc / f"VOCdevkit/VOC{year}/labels/{image_id}.txt"
        got = [tuple(float(v) for v in line.split()) for line in label.read_text().splitlines()]
        want = [voc_label_line(w, h, n, b) for n, d, b in objects if not d]
        assert len(got) == len(want)
        for g, e in zip(got, want, strict=True):
            assert g[0] == e[0]
            assert all(abs(a - b) < 2e-6 for a, b in zip(g[1:], e[1:], strict=True))
    data = dict(line.split(" = ") for line in (voc / "voc.data").read_text().splitlines())
    assert data == {"classes": "20", "train": f"{voc}/train.txt",
                    "valid": f"{voc}/2007_test.txt", "names": f"{voc}/voc.names",
                    "backup": f"{out.resolve()}/backup"}
    assert (voc / "voc.names").read_text().split() == list(NAMES)
    gt = json.loads((voc / "2007_test_gt.json").read_text())
    assert [i["file_name"] for i in gt["images"]] == ["000001.jpg", "000002.jpg", "000003.jpg"]
    difficult = sum(d for k, (_, _, objs) in truth.items() if k.startswith("2007/00000")
                    and int(k[-1]) <= 3 for _, d, _ in objs)
    assert sum(a["iscrowd"] for a in gt["annotations"]) == difficult
    # data check understands the VOC layout (labels/ beside JPEGImages/)
    check = json.loads(cli.ok("data", "check", voc / "voc.data", "--json", "--no-plot").stdout)
    assert check["labels_without_images"] == check["images_without_labels"] == 0
    assert check["images"] == {"train": 6, "valid": 3} and check["missing_images"] == 0
    # a second run verifies what is there and downloads nothing
    again = json.loads(cli.ok("fetch-voc", "--dir", out, "--mirror", server.base_url,
                              "--json", "--dry-run").stdout)
    assert {f["state"] for f in again["files"]} == {"extracted"}
    label = voc / "VOCdevkit/VOC2007/labels/000001.txt"
    before = label.read_text()
    rerun = json.loads(cli.ok("fetch-voc", "--dir", out, "--mirror", server.base_url,
                              "--json").stdout)
    assert rerun["fetched"] == {} and rerun["images"] == report["images"]
    assert label.read_text() == before


def test_wrong_bytes_fail_verification_in_one_line(cli, tmp_path, server, published):
    del server.files["SHA256SUMS"]  # a 404: the published TFDS hashes apply, no match
    result = cli("fetch-voc", "--dir", tmp_path / "w", "--mirror", server.base_url,
                 "--retries", "0")
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "VOC" in errors[0]


def test_a_dropped_download_resumes(cli, tmp_path, server, published):
    name = "VOCtrainval_11-May-2012.tar"
    server.drop_after[name] = 4000
    server.drops[name] = 1
    cli.ok("fetch-voc", "--dir", tmp_path / "w", "--mirror", server.base_url, "--jobs", "1")
    ranges = [r for m, n, r in server.log if n == name and m == "GET"]
    assert len(ranges) == 2 and ranges[1] is not None and ranges[1].startswith("bytes=4000-")


def test_an_escaping_member_is_refused(cli, tmp_path, server, published):
    directory = published[0]
    name = next(iter(TARS))
    with tarfile.open(directory / name, "a") as tar:
        info = tarfile.TarInfo("../evil.txt")
        info.size = 0
        tar.addfile(info)
    write_sums(directory)
    result = cli("fetch-voc", "--dir", tmp_path / "w", "--mirror", server.base_url)
    assert result.exit_code == 1 and "evil.txt" in result.stderr
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "w" / "evil.txt").exists()
