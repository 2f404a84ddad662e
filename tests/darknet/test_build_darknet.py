"""`make darknet` on the real source: record, no-op rebuild, clean rebuild on new flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from enet4y2 import DARKNET_PINNED_COMMIT, paths
from enet4y2.build import make as build

pytestmark = pytest.mark.darknet

CPU = {"GPU": "0", "OPENCV": "0", "OPENMP": "1", "AVX": "1"}


def test_build_records_noops_and_rebuilds_on_flag_change(tmp_path):
    dest = tmp_path / "darknet"
    lines: list[str] = []
    first = build.build(CPU, dest=dest, darknet_src=str(paths.darknet_dir()),
                        on_line=lambda line, n: lines.append(line), report=lambda m: None)
    assert first["commit"] == DARKNET_PINNED_COMMIT and first["commit_check"] == "tree"
    assert first["flags"]["OPENMP"] == 1 and first["flags"]["GPU"] == 0
    assert first["objects_compiled"] > 50
    assert (dest / "libdarknet.so").is_file() and (dest / "darknet").is_file()
    assert Path(first["binding"]).is_file()  # both extensions, in the same work folder
    assert Path(first["prep_kernel"]).parent == dest.resolve() / ".enet4y2" / "prep"
    assert Path(first["prep_kernel"]).is_file()
    assert any("-fopenmp" in line for line in lines)

    again = build.build(CPU, dest=dest, darknet_src=str(paths.darknet_dir()),
                        report=lambda m: None)
    assert again["objects_compiled"] == 0 and again["built_at"] == first["built_at"]
    assert again["prep_kernel"] == first["prep_kernel"]

    reports: list[str] = []
    lines.clear()
    changed = build.build({**CPU, "OPENMP": "0"}, dest=dest,
                          darknet_src=str(paths.darknet_dir()),
                          on_line=lambda line, n: lines.append(line), report=reports.append)
    assert any("flags changed" in r for r in reports)
    assert changed["flags"]["OPENMP"] == 0
    assert changed["objects_compiled"] >= first["objects_compiled"]  # clean, then all of it
    assert not any("-fopenmp" in line for line in lines)
