"""`enet4y2 build`, the hidden command `make darknet` runs: its help, its one-line errors,
and (with the real build) that a second run finds darknet up to date."""

from __future__ import annotations

import pytest


def test_hidden_from_the_command_list_but_documented(cli):
    listed = cli.ok("--help").stdout.split("Commands:")[1].split()
    assert "build" not in listed and "train" in listed
    assert "Examples:" in cli.ok("build", "--help").stdout


def test_a_word_that_is_not_key_value_is_one_line(cli):
    result = cli("build", "GPU")
    assert result.exit_code == 1
    assert result.stderr == "error: unexpected argument 'GPU' (expected KEY=VALUE)\n"


def test_a_missing_source_is_one_line_and_builds_nothing(cli, tmp_path):
    dest = tmp_path / "darknet"
    result = cli("build", f"DARKNET_SRC={tmp_path / 'nowhere'}", f"DEST={dest}")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: DARKNET_SRC={tmp_path / 'nowhere'} is neither")
    assert result.stderr.count("\n") == 1
    assert not dest.exists()


@pytest.mark.darknet
def test_an_unchanged_build_is_up_to_date(cli):
    from enet4y2.build import record

    # the flags `make darknet` resolved, given back explicitly: nothing to do
    words = [f"{key}={value}" for key, value in record.read()["flags"].items()]
    result = cli.ok("build", *words)
    assert "darknet is up to date" in result.stderr
