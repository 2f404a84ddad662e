"""`enet4y2 fetch-coco` and `enet4y2 fetch-weights` through click, against 127.0.0.1."""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from enet4y2.cli import main
from enet4y2.fetch import weights as weights_catalogue
from enet4y2.weights.fit import expected_size
from tests import mini_coco
from tests.range_server import RangeServer, serve


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    directory = tmp_path_factory.mktemp("published")
    mini_coco.build(directory)
    return directory


@pytest.fixture
def server(published):
    with serve(published) as srv:
        yield srv


def run(args, **kw):
    return CliRunner().invoke(main, args, **kw)


def test_fetch_coco_help_has_examples():
    result = run(["fetch-coco", "--help"], catch_exceptions=False)
    assert result.exit_code == 0 and "enet4y2 fetch-coco --dir work" in result.output
    assert "--root" not in result.output  # the old name still works, unlisted


def test_fetch_coco_builds_the_dataset(tmp_path, server, published):
    args = ["fetch-coco", "--dir", str(tmp_path), "--mirror", server.base_url, "--jobs", "2",
            "--json"]
    result = run(args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["labels_source"] == "labels.tgz"
    assert {f["status"] for f in report["fetched"].values()} == {"downloaded"}
    assert report["fetched"]["5k.part"]["sha256"] == mini_coco.sha256(
        (published / "5k.part").read_bytes())
    data = (tmp_path / "coco" / "coco.data").read_text()
    assert f"valid = {tmp_path.resolve()}/coco/5k.txt" in data


def test_fetch_coco_404_is_one_line_naming_the_url(tmp_path, server):
    server.status["val2014.zip"] = 404
    result = run(["fetch-coco", "--dir", str(tmp_path), "--mirror", server.base_url,
                  "--retries", "0"])
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1 and f"{server.base_url}val2014.zip" in errors[0]
    assert "Traceback" not in result.output


@pytest.mark.parametrize("option", ["--dir", "--root"])  # --root: DESIGN.md's old name
def test_fetch_coco_dry_run_json(tmp_path, server, option):
    result = run(["fetch-coco", option, str(tmp_path), "--mirror", server.base_url,
                  "--dry-run", "--json"], catch_exceptions=False)
    assert result.exit_code == 0
    plan = json.loads(result.stdout)
    assert {f["name"]: f["state"] for f in plan["files"]}["train2014.zip"] == "missing"
    assert plan["needed_bytes"] > 0
    assert not (tmp_path / "coco").exists()  # a dry run writes nothing


def test_fetch_weights_unknown_name(tmp_path):
    result = run(["fetch-weights", "yolov9", "--dir", str(tmp_path)])
    assert result.exit_code == 1 and "unknown weights yolov9" in result.stderr


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


def test_fetch_weights_verifies_by_git_sha1(tmp_path, weights_server):
    srv, bodies = weights_server
    result = run(["fetch-weights", "enet4y2-coco", "backbone", "--dir", str(tmp_path),
                  "--mirror", srv.base_url, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
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


def test_fetch_weights_wrong_bytes_fail(tmp_path, weights_server):
    srv, _ = weights_server
    srv.files["enet4y2-coco_final.weights"] = b"tampered"
    result = run(["fetch-weights", "enet4y2-coco", "--dir", str(tmp_path), "--mirror",
                  srv.base_url, "--retries", "0"])
    assert result.exit_code == 1 and "git blob sha1 mismatch" in result.stderr
    assert not (tmp_path / "enet4y2-coco_final.weights").exists()


def test_fetch_weights_default_urls_are_github_raw():
    specs = weights_catalogue.weight_specs(weights_catalogue.resolve_names([]))
    assert [s.url for s in specs] == [
        weights_catalogue.RAW_BASE + w.file for w in weights_catalogue.CATALOGUE.values()]
    assert all(s.url.startswith("https://raw.githubusercontent.com/k5iogura/darknetB0-4Y/")
               for s in specs)


def test_get_coco_dataset_shim_runs_fetch_coco_in_cwd(tmp_path, server):
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "scripts" / "get_coco_dataset.sh"
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    out = subprocess.run(["bash", str(script), "--dry-run", "--json", "--mirror",
                          server.base_url], cwd=tmp_path, env=env, capture_output=True,
                         text=True, check=True)
    assert json.loads(out.stdout)["coco_dir"] == str(tmp_path.resolve() / "coco")
