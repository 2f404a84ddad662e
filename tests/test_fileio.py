"""Atomic writes: complete or absent, never partial; the usual mode."""

from __future__ import annotations

import json
import os

import pytest

from enet4y2.errors import MissingFileError, OutputError
from enet4y2.fileio import (
    atomic_write,
    atomic_write_json,
    json_text,
    refuse_overwrite,
    regular_file,
)


def test_writes_bytes_and_text_with_the_usual_mode(tmp_path):
    target = tmp_path / "sub" / "a.txt"
    assert atomic_write(target, "héllo") == target
    assert target.read_bytes() == "héllo".encode()
    mask = os.umask(0)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask
    atomic_write(target, b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"


def test_a_failed_write_leaves_the_old_file_and_no_temp(tmp_path):
    target = tmp_path / "r.json"
    atomic_write_json(target, [{"a": 1}])
    with pytest.raises(TypeError):
        atomic_write_json(target, [{"a": object()}])
    assert json.loads(target.read_text()) == [{"a": 1}]
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_unwritable_outputs_are_one_line_output_errors(tmp_path):
    (tmp_path / "ro").mkdir()
    os.chmod(tmp_path / "ro", 0o500)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    targets = [tmp_path / "ro" / "a.txt", blocker / "a.txt", tmp_path, "/dev/null/x"]
    try:
        for target in targets:
            if target == targets[0] and os.geteuid() == 0:
                continue  # root writes into read-only folders
            with pytest.raises(OutputError, match=r"cannot write .* — ") as err:
                atomic_write(target, "data")
            assert "\n" not in str(err.value)
    finally:
        os.chmod(tmp_path / "ro", 0o700)
    assert blocker.read_text() == "x"


def test_json_is_strict():
    text = json_text({"a": float("nan"), "b": [float("inf"), -float("inf"), 1.5]})
    assert json.loads(text) == {"a": None, "b": [None, None, 1.5]}
    assert "Infinity" not in text and "NaN" not in text


def test_regular_files_only(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    (tmp_path / "f").write_text("x")
    assert regular_file(tmp_path / "f") == tmp_path / "f"
    for path, says in ((fifo, "not a regular file"), ("/dev/zero", "not a regular file"),
                       (tmp_path, "is a directory"), (tmp_path / "no", "not found")):
        with pytest.raises(MissingFileError, match=says):
            regular_file(path, "log")


def test_an_output_never_overwrites_an_input(tmp_path):
    src = tmp_path / "a.log"
    src.write_text("log")
    (tmp_path / "link.log").symlink_to(src)
    for output in (src, tmp_path / "link.log", tmp_path / "x" / ".." / "a.log"):
        with pytest.raises(OutputError, match="is the input"):
            refuse_overwrite(output, [None, src])
    refuse_overwrite(tmp_path / "b.csv", [src])  # another file: fine
