"""Atomic writes: complete or absent, never partial; the usual mode."""

from __future__ import annotations

import json
import os

import pytest

from enet4y2.fileio import atomic_write, atomic_write_json


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
