"""The cfg and weights commands' work never destroys an input: -o naming one is refused."""

from __future__ import annotations

import struct

import pytest

from enet4y2.cfg import infer, write_cfg
from enet4y2.errors import OutputError
from enet4y2.modelfiles import cut_file, generate
from tests.tiny import tiny_cfg


def test_cut_onto_its_source_or_cfg_is_refused(tmp_path):
    cfg = tmp_path / "t.cfg"
    cfg.write_text(write_cfg(tiny_cfg()))
    src = tmp_path / "t.weights"
    src.write_bytes(struct.pack("<iiiQ", 0, 2, 5, 0) + bytes(4 * infer(tiny_cfg()).param_count))
    before = src.read_bytes()
    for output in (src, cfg):
        with pytest.raises(OutputError, match="is the input"):
            cut_file(src, cfg, layers=3, output=output)
    assert src.read_bytes() == before and cfg.read_text() == write_cfg(tiny_cfg())
    assert cut_file(src, cfg, layers=3)["output"] == str(tmp_path / "t.conv.3")


def test_generate_onto_its_names_file_is_refused(tmp_path):
    names = tmp_path / "obj.names"
    names.write_text("a\nb\n")
    with pytest.raises(OutputError, match="is the input"):
        generate(output=names, names=str(names))
    assert names.read_text() == "a\nb\n"
