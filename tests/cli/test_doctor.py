"""`enet4y2 doctor`: the report without a build and with the real one."""

from __future__ import annotations

import json

import numpy as np
import pytest

from enet4y2.build import record as build_record


def test_help_has_examples(cli):
    assert "Examples:" in cli.ok("doctor", "--help").output


def test_doctor_without_a_build(cli, monkeypatch, tmp_path):
    monkeypatch.setenv("ENET4Y2_DARKNET_DIR", str(tmp_path / "no-darknet"))
    result = cli("doctor", "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False and report["libdarknet"] is None
    assert any("make darknet" in p for p in report["problems"])
    assert report["python_deps"]["numpy"] == np.__version__
    text = cli("doctor")
    assert text.exit_code == 1 and "not built" in text.stdout
    assert all(line.startswith("missing: ") for line in text.stderr.splitlines())


@pytest.mark.darknet
def test_doctor_with_the_build(cli):
    result = cli("doctor", "--json")
    report = json.loads(result.stdout)
    assert report["build"] == build_record.read()
    assert report["binding"].startswith("ok")
    result = cli("doctor")
    assert "build flags" in result.stdout and report["build"]["commit"][:12] in result.stdout
