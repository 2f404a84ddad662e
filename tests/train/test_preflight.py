"""Pre-flight checks on generated datasets: the good case and each bad one."""

from __future__ import annotations

from pathlib import Path

import pytest

from enet4y2.data import synthetic
from enet4y2.errors import MissingFileError
from enet4y2.train import preflight


@pytest.fixture
def dataset(tmp_path):
    return synthetic.make_dataset(tmp_path / "ds", train=12, valid=4, width=64, height=64)


def images(ds) -> list[Path]:
    return [Path(p) for p in ds.train_list.read_text().split()]


def test_good_dataset_has_no_problems(dataset, tmp_path):
    check = preflight.check_data(dataset.data, 2, cwd=tmp_path)
    assert check.problems == []
    assert check.classes == 2 and check.train == dataset.train_list
    seen = []
    result = preflight.check_images(dataset.train_list, 2, cwd=tmp_path,
                                    progress=lambda d, t: seen.append((d, t)))
    assert result.bad == []
    assert (result.images, result.decoded) == (12, 12)
    assert seen[-1] == (12, 12)


def test_each_bad_case_is_reported(dataset, tmp_path):
    imgs = images(dataset)
    imgs[0].write_bytes(b"")  # 0-byte image
    imgs[1].write_bytes(b"\xff\xd8 not really a jpeg")
    imgs[2].with_suffix(".txt").unlink()  # no label file
    imgs[3].with_suffix(".txt").write_text("5 0.5 0.5 0.2 0.2\n")  # class out of range
    imgs[4].with_suffix(".txt").write_text("0 0.5 0.5 0.2\n")  # 4 fields
    imgs[5].with_suffix(".txt").write_text("1 0.5 0.0 0.2 0.2\n")  # y = 0
    listing = dataset.train_list.read_text().splitlines()
    listing.insert(7, "")
    listing.append(str(tmp_path / "gone.jpg"))
    dataset.train_list.write_text("\n".join(listing) + "\n")

    result = preflight.check_images(dataset.train_list, 2, cwd=tmp_path)
    problems = {b.path: b.problem for b in result.bad}
    assert problems[str(imgs[0])] == "0-byte image"
    assert problems[str(imgs[1])] == "image does not decode"
    assert problems[str(imgs[2])].startswith("no label file")
    assert "class 5 outside 0..1" in problems[str(imgs[3])]
    assert "4 fields" in problems[str(imgs[4])]
    assert "y=0.0 outside (0, 1]" in problems[str(imgs[5])]
    assert problems[str(tmp_path / "gone.jpg")] == "image not found"
    assert problems[f"{dataset.train_list}:8"].startswith("blank line")
    assert len(result.bad) == 8
    assert result.images == 13


def test_sample_decodes_only_some_but_stats_all(dataset, tmp_path):
    imgs = images(dataset)
    imgs[-1].write_bytes(b"")
    result = preflight.check_images(dataset.train_list, 2, sample_size=3, cwd=tmp_path)
    assert result.decoded == 3
    assert [b.problem for b in result.bad] == ["0-byte image"]


def test_relative_paths_are_taken_from_cwd(dataset):
    rel = dataset.root / "rel.txt"
    rel.write_text("".join(f"train/{p.name}\n" for p in images(dataset)))
    assert preflight.check_images(rel, 2, cwd=dataset.root).bad == []
    elsewhere = preflight.check_images(rel, 2, cwd=dataset.root / "valid")
    assert {b.problem for b in elsewhere.bad} == {"image not found"}


def test_data_file_problems(dataset, tmp_path):
    assert preflight.check_data(dataset.data, 3, cwd=tmp_path).problems == [
        f"{dataset.data}: classes = 2, but the cfg's yolo layers have classes=3"]
    dataset.names.write_text("square\n")
    text = dataset.data.read_text().replace(str(dataset.train_list), "missing.txt")
    dataset.data.write_text(text)
    problems = preflight.check_data(dataset.data, 2, cwd=tmp_path).problems
    assert any("train = missing.txt" in p and "not found" in p for p in problems)
    assert any("1 names for classes = 2" in p for p in problems)
    dataset.data.write_text("train = x.txt\n")
    problems = preflight.check_data(dataset.data, 2, cwd=tmp_path).problems
    assert any("no `classes =` line" in p for p in problems)
    assert any("no `names =` line" in p for p in problems)
    assert any("no `backup =` line" in p for p in problems)
    with pytest.raises(MissingFileError, match="no such data file"):
        preflight.check_data(tmp_path / "nope.data", 2)


def test_label_text_rules():
    assert preflight.check_label_text("0 0.5 0.5 1 1\n\n1 0.1 0.2 0.3 0.4\n", 2) == []
    assert preflight.check_label_text("0 0.5 0.5 1.5 0.1", 2) == [
        "line 1: w=1.5 outside (0, 1]"]
    assert preflight.check_label_text("a b c d e", 2)[0].startswith("line 1: not numbers")
    assert preflight.check_label_text("-1 0.5 0.5 0.1 0.1", 2) == [
        "line 1: class -1 outside 0..1"]
    assert preflight.check_label_text("0 nan 0.5 0.1 0.1", 2) == [
        "line 1: x=nan outside (0, 1]"]


def test_clean_list_drops_bad_and_blank_lines_only(tmp_path):
    listing = preflight.parse_list("a.jpg\n\nb.jpg\nc.jpg\n")
    bad = [preflight.BadFile("b.jpg", "0-byte image"), preflight.BadFile("l:2", "blank")]
    out = preflight.write_clean_list(listing, bad, tmp_path / "clean.txt")
    assert out.read_text() == "a.jpg\nc.jpg\n"
    written = preflight.write_bad_list(bad, tmp_path / "bad.txt")
    assert written.read_text() == "b.jpg\t0-byte image\nl:2\tblank\n"


def test_sample_is_reproducible_and_ordered():
    items = list(range(100))
    chosen = preflight.sample(items, 10)
    assert chosen == sorted(chosen) and len(set(chosen)) == 10
    assert chosen == preflight.sample(items, 10)
    assert preflight.sample(items, None) == items
