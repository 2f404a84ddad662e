"""`enet4y2 fetch-coco` through click, against a COCO mirror on 127.0.0.1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.mini_coco import build as build_mini_coco
from tests.mini_coco import sha256
from tests.range_server import serve


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    directory = tmp_path_factory.mktemp("published")
    build_mini_coco(directory)
    return directory


@pytest.fixture
def server(published):
    with serve(published) as srv:
        yield srv


def test_fetch_coco_help_has_examples(cli):
    result = cli.ok("fetch-coco", "--help")
    assert "enet4y2 fetch-coco --dir work" in result.output
    assert "--root" not in result.output  # the old name still works, unlisted


def test_fetch_coco_builds_the_dataset(cli, tmp_path, server, published):
    result = cli.ok("fetch-coco", "--dir", tmp_path, "--mirror", server.base_url, "--jobs", "2",
                    "--json")
    report = json.loads(result.stdout)
    assert report["labels_source"] == "labels.tgz"
    assert {f["status"] for f in report["fetched"].values()} == {"downloaded"}
    assert report["fetched"]["5k.part"]["sha256"] == sha256(
        (published / "5k.part").read_bytes())
    data = (tmp_path / "coco" / "coco.data").read_text()
    assert f"valid = {tmp_path.resolve()}/coco/5k.txt" in data


def test_fetch_coco_404_is_one_line_naming_the_url(cli, tmp_path, server):
    server.status["val2014.zip"] = 404
    result = cli("fetch-coco", "--dir", tmp_path, "--mirror", server.base_url, "--retries", "0")
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1 and f"{server.base_url}val2014.zip" in errors[0]
    assert "Traceback" not in result.output


@pytest.mark.parametrize("option", ["--dir", "--root"])  # --root: DESIGN.md's old name
def test_fetch_coco_dry_run_json(cli, tmp_path, server, option):
    result = cli.ok("fetch-coco", option, tmp_path, "--mirror", server.base_url, "--dry-run",
                    "--json")
    plan = json.loads(result.stdout)
    assert {f["name"]: f["state"] for f in plan["files"]}["train2014.zip"] == "missing"
    assert plan["needed_bytes"] > 0
    assert not (tmp_path / "coco").exists()  # a dry run writes nothing


def test_get_coco_dataset_shim_runs_fetch_coco_in_cwd(tmp_path, server):
    script = Path(__file__).resolve().parents[2] / "scripts" / "get_coco_dataset.sh"
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    out = subprocess.run(["bash", str(script), "--dry-run", "--json", "--mirror",
                          server.base_url], cwd=tmp_path, env=env, capture_output=True,
                         text=True, check=True)
    assert json.loads(out.stdout)["coco_dir"] == str(tmp_path.resolve() / "coco")
