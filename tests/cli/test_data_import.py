"""`enet4y2 data import` as a user runs it: the summary, --json, explicit classes,
refusals with one line and exit 1, usage errors with exit 2, and no half-written output."""

from __future__ import annotations

import json
import os

import pytest

from tests.annotation_sets import CLASSES, generate, write_format

pytest.importorskip("globox", reason="globox (test extra) writes the sources")


@pytest.fixture
def coco(tmp_path):
    truth = generate(tmp_path / "images", n=10, seed=2)
    return truth, write_format("coco", truth, tmp_path), tmp_path


def test_import_prints_classes_and_writes_a_usable_layout(cli, coco):
    truth, src, root = coco
    out = root / "out"
    result = cli.ok("data", "import", src, "--format", "coco", "--images", root / "images",
                    "--out", out, "--split", "val=0.3", "--seed", "4")
    for name in CLASSES:
        assert name in result.output
    boxes = sum(len(t.boxes) for t in truth)
    assert f"10 images (7 train, 3 valid), {boxes} boxes of {boxes}" in result.output
    data = dict(line.split(" = ") for line in (out / "obj.data").read_text().splitlines())
    assert data["classes"] == "3" and data["backup"] == str(out.resolve() / "backup")
    for listed in (out / "train.txt").read_text().split():
        assert os.path.isabs(listed) and os.path.isfile(listed)
        assert os.path.islink(listed)  # the default: symlinks to the user's images
        assert os.path.isfile(listed.rsplit(".", 1)[0] + ".txt")
    assert not list(root.glob(".out.*"))  # no staging left behind


def test_json_summary_and_copy(cli, coco):
    _, src, root = coco
    result = cli.ok("data", "import", src, "--format", "coco", "--images", root / "images",
                    "--out", root / "out", "--link", "copy", "--json")
    report = json.loads(result.stdout)
    assert report["link"] == "copy" and report["images"] == 10
    assert not any(os.path.islink(p) for p in (root / "out/train.txt").read_text().split())


def test_classes_file_orders_and_unknown_classes_are_refused(cli, coco):
    _, src, root = coco
    (root / "want.names").write_text("dog\ncat\n")
    args = ["data", "import", src, "--format", "coco", "--images", root / "images",
            "--classes", root / "want.names"]
    result = cli(*args, "--out", root / "a")
    assert result.exit_code == 1
    assert "not in --classes: 'traffic light'" in result.stderr and "Traceback" not in result.stderr
    assert not (root / "a").exists()
    result = cli.ok(*args, "--out", root / "b", "--drop-unknown", "--json")
    report = json.loads(result.stdout)
    assert report["names"] == ["dog", "cat"] and report["unknown_class"] > 0
    assert (root / "b/obj.names").read_text() == "dog\ncat\n"


def test_existing_output_needs_force_and_only_an_earlier_import_is_replaced(cli, coco):
    _, src, root = coco
    args = ["data", "import", src, "--format", "coco", "--images", root / "images"]
    cli.ok(*args, "--out", root / "out")
    result = cli(*args, "--out", root / "out")
    assert result.exit_code == 1 and "--force" in result.stderr
    cli.ok(*args, "--out", root / "out", "--force", "--seed", "9")
    (root / "mine").mkdir()
    (root / "mine" / "thesis.tex").write_text("precious")
    result = cli(*args, "--out", root / "mine", "--force")
    assert result.exit_code == 1 and "not an earlier import" in result.stderr
    assert (root / "mine" / "thesis.tex").read_text() == "precious"


def test_an_interrupted_staging_folder_is_rebuilt(cli, coco):
    _, src, root = coco
    stale = root / ".out.partial"
    (stale / "images").mkdir(parents=True)
    (stale / "images" / "junk.txt").write_text("half")
    cli.ok("data", "import", src, "--format", "coco", "--images", root / "images",
           "--out", root / "out")
    assert not stale.exists() and not (root / "out/images/junk.txt").exists()


def test_an_output_that_cannot_be_written_is_one_line_and_leaves_nothing(cli, coco):
    _, src, root = coco
    (root / "file").write_text("not a folder")
    result = cli("data", "import", src, "--format", "coco", "--images", root / "images",
                 "--out", root / "file" / "out")
    assert result.exit_code == 1
    assert result.stderr.strip().count("\n") == 0 and "--out" in result.stderr
    assert "Error:" not in result.stderr and "Traceback" not in result.stderr
    assert (root / "file").read_text() == "not a folder"


def test_missing_images_are_left_out_and_counted(cli, coco):
    _, src, root = coco
    (root / "images" / "img_003.png").unlink()
    result = cli.ok("data", "import", src, "--format", "coco", "--images", root / "images",
                    "--out", root / "out", "--json")
    report = json.loads(result.stdout)
    assert report["missing_images"] == 1 and report["images"] == 9
    assert report["missing_examples"] == ["img_003.png"]


def test_bad_inputs_end_in_one_line(cli, tmp_path):
    (tmp_path / "x.json").write_text("{not json")
    result = cli("data", "import", tmp_path / "x.json", "--format", "coco", "--out",
                 tmp_path / "o")
    assert result.exit_code == 1 and "not valid JSON" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    result = cli("data", "import", tmp_path / "x.json", "--format", "pdf", "--out",
                 tmp_path / "o")
    assert result.exit_code == 2
    result = cli("data", "import", tmp_path, "--format", "yolo", "--out", tmp_path / "o")
    assert result.exit_code == 1 and "--names" in result.stderr
    result = cli("data", "import", tmp_path / "x.json", "--format", "coco", "--out",
                 tmp_path / "o", "--split", "val=2")
    assert result.exit_code == 1 and "[0, 1)" in result.stderr


def test_a_source_missing_what_its_format_needs_is_one_line(cli, tmp_path):
    (tmp_path / "x.json").write_text('{"images": [{"id": 1}], "annotations": []}')
    result = cli("data", "import", tmp_path / "x.json", "--format", "coco", "--out",
                 tmp_path / "o")
    assert result.exit_code == 1 and "not a well-formed coco source" in result.stderr
    assert "KeyError: 'file_name'" in result.stderr and "DEBUG" not in result.stderr


def test_an_output_inside_a_yolo_source_is_not_read_back(cli, tmp_path):
    from tests.annotation_sets import generate, write_format

    truth = generate(tmp_path / "images", n=5, seed=3)
    src = write_format("yolo", truth, tmp_path)
    args = ["data", "import", src, "--format", "yolo", "--json"]
    first = json.loads(cli.ok(*args, "--out", src / "dk").stdout)
    (src / ".dk.partial" / "images").mkdir(parents=True)  # as an interrupted run leaves it
    for p in (src / "dk" / "images").iterdir():
        (src / ".dk.partial" / "images" / p.name).write_bytes(p.read_bytes())
    again = json.loads(cli.ok(*args, "--out", src / "dk", "--force").stdout)
    assert first["images"] == again["images"] == 5
    assert first["boxes_out"] == again["boxes_out"] == sum(len(t.boxes) for t in truth)


def test_cli_constants_match_the_service():
    import importlib

    from enet4y2.dataset import importer, sources

    cli_data = importlib.import_module("enet4y2.cli.data")  # `enet4y2.cli.data` is the group

    assert cli_data.FORMATS == sources.FORMATS and cli_data.LINKS == importer.LINKS
