"""fetch_coco end to end against a miniature COCO served on 127.0.0.1."""

from __future__ import annotations

import json

import pytest

from enet4y2.errors import DataError, DownloadError
from enet4y2.fetch import coco, extract
from tests.mini_coco import LABELS_TGZ, build, file_name, instances, sha256, sums_text
from tests.range_server import serve

PLENTY = 10**13  # free bytes a probe reports when the built-in 20 GB sizes are in play


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    directory = tmp_path_factory.mktemp("published")
    images = build(directory)
    return directory, images


@pytest.fixture
def server(published):
    with serve(published[0]) as srv:
        yield srv


def fetch(root, server, **kw):
    kw.setdefault("retries", 0)
    kw.setdefault("backoff", 0.0)
    return coco.fetch_coco(root, mirror=server.base_url, **kw)


def archive_gets(server):
    return [n for m, n, _ in server.log if m == "GET" and n != "SHA256SUMS"]


def test_full_fetch_produces_layout_lists_and_data(tmp_path, server, published):
    report = fetch(tmp_path, server)
    c = tmp_path.resolve() / "coco"
    assert report.coco_dir == c and report.labels_source == "labels.tgz"
    for rel, data in published[1].items():
        assert (c / rel).read_bytes() == data
    for rel, text in LABELS_TGZ.items():
        assert (c / "labels" / rel).read_text() == text
    for split in ("train2014", "val2014"):
        got = json.loads((c / "annotations" / f"instances_{split}.json").read_text())
        assert got == instances(split)
    assert (c / "5k.txt").read_text().splitlines() == [
        f"{c}/images/val2014/COCO_val2014_000000000021.jpg",
        f"{c}/images/val2014/COCO_val2014_000000000022.jpg"]
    train = (c / "trainvalno5k.txt").read_text().splitlines()
    assert len(train) == 3 and all((c / "x").parent.joinpath(p).is_file() for p in train)
    assert (c / "coco.names").read_text() == "person\ncar\ntoothbrush\n"
    data = dict(line.split(" = ") for line in (c / "coco.data").read_text().splitlines())
    assert data == {"classes": "3", "train": f"{c}/trainvalno5k.txt", "valid": f"{c}/5k.txt",
                    "names": f"{c}/coco.names", "backup": str(tmp_path.resolve() / "backup"),
                    "eval": "coco"}
    assert (tmp_path / "backup").is_dir()
    manifest = json.loads((c / "downloads" / "manifest.json").read_text())
    part = (published[0] / "5k.part").read_bytes()
    assert manifest["5k.part"]["sha256"] == sha256(part)


def test_rerun_downloads_nothing(tmp_path, server):
    fetch(tmp_path, server)
    server.log.clear()
    fetch(tmp_path, server)
    assert archive_gets(server) == []


def test_labels_from_json_equal_hand_computed(tmp_path, server):
    report = fetch(tmp_path, server, labels_from_json=True)
    assert report.labels_source == "instances JSON"
    for rel, text in LABELS_TGZ.items():
        assert (tmp_path / "coco" / "labels" / rel).read_text() == text
    assert "labels.tgz" not in archive_gets(server)


def test_missing_labels_tgz_falls_back_to_json(tmp_path, server):
    server.status["labels.tgz"] = 404
    warnings = []
    report = fetch(tmp_path, server, warn=warnings.append)
    assert report.labels_source == "instances JSON"
    assert len(warnings) == 1 and "labels.tgz" in warnings[0]
    for rel, text in LABELS_TGZ.items():
        assert (tmp_path / "coco" / "labels" / rel).read_text() == text


def test_dropped_connection_resumes_on_next_run(tmp_path, server, published):
    size = (published[0] / "train2014.zip").stat().st_size
    server.drop_after["train2014.zip"] = size // 2
    server.drops["train2014.zip"] = 1
    with pytest.raises(DownloadError, match=r"train2014\.zip"):
        fetch(tmp_path, server)
    fetch(tmp_path, server)
    assert server.gets("train2014.zip") == [None, f"bytes={size // 2}-"]
    assert (tmp_path / "coco" / "coco.data").is_file()


def test_builtin_hashes_apply_when_mirror_has_no_sums(tmp_path, server):
    del server.files["SHA256SUMS"]
    with pytest.raises(DownloadError) as err:
        fetch(tmp_path, server, free_probe=lambda p: PLENTY)
    assert "mismatch" in str(err.value) and ".zip" in str(err.value)


def test_mirror_sums_take_precedence(tmp_path, server, published):
    sums = sums_text(published[0], override={"val2014.zip": "0" * 64})
    server.files["SHA256SUMS"] = sums.encode()
    with pytest.raises(DownloadError, match=r"sha256 mismatch .*val2014\.zip"):
        fetch(tmp_path / "root", server)


def test_evil_zip_is_refused_and_nothing_lands_outside(tmp_path, server, published):
    import zipfile

    evil = tmp_path / "pub" / "val2014.zip"
    evil.parent.mkdir()
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("val2014/ok.jpg", b"x")
        zf.writestr("../../evil.jpg", b"owned")
    server.files["val2014.zip"] = evil
    sums = sums_text(published[0], {"val2014.zip": sha256(evil.read_bytes())})
    server.files["SHA256SUMS"] = sums.encode()
    root = tmp_path / "root"
    with pytest.raises(DataError, match=r"'\.\./\.\./evil\.jpg'"):
        fetch(root, server)
    assert not (root / "evil.jpg").exists() and not (tmp_path / "evil.jpg").exists()
    assert not (root / "coco" / "images" / "val2014").exists()


def test_not_enough_disk_fails_before_downloading(tmp_path, server):
    with pytest.raises(DownloadError, match="not enough disk space"):
        fetch(tmp_path, server, free_probe=lambda p: 1000)
    assert archive_gets(server) == []


def test_half_extracted_archive_is_finished(tmp_path, server, published):
    fetch(tmp_path, server)
    c = tmp_path / "coco"
    archive = c / "downloads" / "train2014.zip"
    extract.marker_path(archive, c / "images").unlink()
    victim = c / "images" / "train2014" / file_name("train2014", 12)
    victim.unlink()
    server.log.clear()
    fetch(tmp_path, server)
    assert victim.read_bytes() == published[1][f"images/train2014/{victim.name}"]
    assert archive_gets(server).count("train2014.zip") == 0


def test_dry_run_lists_plan_and_env_mirror(tmp_path, server, published, monkeypatch):
    monkeypatch.setenv(coco.MIRROR_ENV, server.base_url)
    report = coco.fetch_coco(tmp_path, dry_run=True)
    sizes = {p.name: p.stat().st_size for p in published[0].iterdir()}
    assert {i.file.name: (i.state, i.to_download) for i in report.items} == {
        name: ("missing", sizes[name]) for name in
        ("train2014.zip", "val2014.zip", "instances_train-val2014.zip", "5k.part",
         "trainvalno5k.part", "labels.tgz")}
    assert report.needed_bytes >= sum(i.to_download for i in report.items)
    assert archive_gets(server) == []
    coco.fetch_coco(tmp_path, retries=0)
    states = {i.file.name: i.state for i in coco.fetch_coco(tmp_path, dry_run=True).items}
    assert states["train2014.zip"] == "extracted" and states["5k.part"] == "verified"
