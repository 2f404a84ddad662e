"""`enet4y2 fetch-weights` through click, against a mirror on 127.0.0.1."""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path

import numpy as np
import pytest

from enet4y2.fetch import weights as weights_catalogue
from enet4y2.weights.fit import expected_size
from tests.range_server import RangeServer


def test_help_has_examples(cli):
    result = cli.ok("fetch-weights", "--help")
    assert "Examples:" in result.output and "--dir DIR" in result.output


def test_fetch_weights_unknown_name(cli, tmp_path):
    result = cli("fetch-weights", "yolov9", "--dir", tmp_path)
    assert result.exit_code == 1 and "unknown weights yolov9" in result.stderr
    assert result.stderr.count("\n") == 1 and list(tmp_path.iterdir()) == []


@pytest.fixture
def weights_server(monkeypatch):
    """A mirror holding stand-in weights files, with the catalogue pinned to their sha1s."""
    # The backbone stand-in is shaped like the real one: a header, then at least the floats
    # of the 132 layers the detectors share (and a classifier head after them).
    from enet4y2.cfg import builders as models

    shared = expected_size(models.enet4y2_coco_cfg(), models.BACKBONE_LAYERS)
    rng = np.random.default_rng(0)
    backbone = struct.pack("<iiiQ", 0, 2, 5, 12345) + rng.random(
        (shared - 20 + 4000) // 4, dtype=np.float32).tobytes()
    bodies = {"enet4y2-coco_final.weights": b"\x00" * 5000, "enetb0_final.weights": backbone}
    with RangeServer() as srv:
        srv.files.update(bodies)
        for key, file in (("enet4y2-coco", "enet4y2-coco_final.weights"),
                          ("backbone", "enetb0_final.weights")):
            body = bodies[file]
            sha1 = hashlib.sha1(b"blob %d\0" % len(body) + body).hexdigest()
            old = weights_catalogue.CATALOGUE[key]
            monkeypatch.setitem(weights_catalogue.CATALOGUE, key,
                                weights_catalogue.PublishedWeights(key, file, sha1, old.about))
        yield srv, bodies


def test_fetch_weights_verifies_by_git_sha1(cli, tmp_path, weights_server):
    srv, bodies = weights_server
    result = cli.ok("fetch-weights", "enet4y2-coco", "backbone", "--dir", tmp_path,
                    "--mirror", srv.base_url, "--json")
    files = {f["name"]: f for f in json.loads(result.stdout)["files"]}
    assert set(files) == set(bodies)
    for name, body in bodies.items():
        assert (tmp_path / name).read_bytes() == body
    cut = Path(json.loads(result.stdout)["backbone_cut"])
    assert cut == tmp_path / "enetb0_final.conv.132"
    data = cut.read_bytes()
    # darknet partial's output: its own version, seen = 0, then layers 0..131 unchanged
    assert struct.unpack("<iiiQ", data[:20]) == (0, 2, 5, 0)
    assert data[20:] == bodies["enetb0_final.weights"][20:len(data)]


def test_fetch_weights_wrong_bytes_fail(cli, tmp_path, weights_server):
    srv, _ = weights_server
    srv.files["enet4y2-coco_final.weights"] = b"tampered"
    result = cli("fetch-weights", "enet4y2-coco", "--dir", tmp_path, "--mirror", srv.base_url,
                 "--retries", "0")
    assert result.exit_code == 1 and "git blob sha1 mismatch" in result.stderr
    assert not (tmp_path / "enet4y2-coco_final.weights").exists()


def test_fetch_weights_default_urls_are_github_raw():
    specs = weights_catalogue.weight_specs(weights_catalogue.resolve_names([]))
    assert [s.url for s in specs] == [
        f"{weights_catalogue.REPO_RAW}{w.folder}/{w.file}"
        for w in weights_catalogue.CATALOGUE.values()]
    assert all(s.url.startswith("https://raw.githubusercontent.com/k5iogura/darknetB0-4Y/")
               for s in specs)


def test_the_voc_model_comes_from_backup4y2voc_pinned_by_the_seed_tree():
    (spec,) = weights_catalogue.weight_specs(weights_catalogue.resolve_names(["enet4y2-voc"]))
    assert spec.url == ("https://raw.githubusercontent.com/k5iogura/darknetB0-4Y/master/"
                        "backup4y2VOC/enet4y2-voc_best.weights")
    assert spec.git_sha1 == "7377bfbc43618f272ed7c4979ee376a8ed7b5729"
