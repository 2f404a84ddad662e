"""The root command: version, help with examples for every command, and how every kind
of failure ends (one line and an exit status; the traceback only under ENET4Y2_DEBUG=1);
text from the user (file names) is never read as rich markup."""

from __future__ import annotations

import os
import subprocess
import sys

import click
import pytest

import enet4y2
from enet4y2.cli import main
from enet4y2.errors import DataError
from tests.logsamples import training_log

ENET4Y2 = [sys.executable, "-c", "from enet4y2.cli import main; main()"]


def _command_paths(group: click.Group = main, prefix: tuple[str, ...] = ()):
    for name, command in sorted(group.commands.items()):
        yield (*prefix, name)
        if isinstance(command, click.Group):
            yield from _command_paths(command, (*prefix, name))


def test_version(cli):
    assert enet4y2.__version__ in cli.ok("--version").output


@pytest.mark.parametrize("command", list(_command_paths()), ids=" ".join)
def test_every_help_has_examples(cli, command):
    assert "Examples:" in cli.ok(*command, "--help").stdout


def test_no_arguments_shows_the_help(cli):
    result = cli()
    assert "Usage: enet4y2" in result.output and "error:" not in result.output


# click's usage errors: one line naming the command's help, exit 2
@pytest.mark.parametrize(("argv", "message", "where"), [
    (["cfg", "--bogus"], "No such option", "enet4y2 cfg"),
    (["fetch-coco", "--jobs", "99"], "Invalid value for '--jobs': 99 is not in the range",
     "enet4y2 fetch-coco"),
    (["detect"], "Missing argument 'IMAGES...'", "enet4y2 detect"),
    (["fetch-weights", "--retries"], "Option '--retries' requires an argument",
     "enet4y2 fetch-weights"),
    (["cfg", "show"], "Missing argument 'PATH'", "enet4y2 cfg show"),
    (["trian"], "No such command 'trian'", "enet4y2"),
    (["--bogus"], "No such option", "enet4y2"),
    (["eval", "--compare", "nonsense"],
     "Invalid value for --compare: 'nonsense' is not NAME=STATS.json", "enet4y2 eval"),
])
def test_usage_errors_are_one_line_with_the_help_to_read(cli, argv, message, where):
    result = cli(*argv)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: {message}")
    assert result.stderr.endswith(f" (see '{where} --help')\n")
    assert result.stderr.count("\n") == 1
    assert argv[-1].partition("=")[0] in result.stderr


@pytest.fixture
def fail(monkeypatch):
    """Adds `enet4y2 fail KIND`, a command that raises the exception KIND names."""

    @click.command("fail")
    @click.argument("kind")
    def fail_command(kind: str) -> None:
        secret_local = "shown only with ENET4Y2_DEBUG"  # noqa: F841 - for show_locals
        if kind == "stdout-closed":
            click.echo("partial output")
        raise {"data": DataError("the list x.txt is empty"),
               "bug": KeyError("anchors"),
               "bare-bug": AssertionError(),
               "ctrl-c": KeyboardInterrupt(),
               "abort": click.Abort(),
               "stdout-closed": BrokenPipeError(32, "Broken pipe")}[kind]

    monkeypatch.setitem(main.commands, "fail", fail_command)
    monkeypatch.delenv("ENET4Y2_DEBUG", raising=False)


@pytest.mark.parametrize(("kind", "status", "stderr"), [
    ("data", 1, "error: the list x.txt is empty\n"),
    ("bug", 1, "error: KeyError: 'anchors' — run with ENET4Y2_DEBUG=1 for the traceback\n"),
    ("bare-bug", 1, "error: AssertionError — run with ENET4Y2_DEBUG=1 for the traceback\n"),
    ("ctrl-c", 130, "interrupted\n"),
    ("abort", 130, "interrupted\n"),
    ("stdout-closed", 141, ""),
])
def test_each_kind_of_failure_ends_as_one_line(cli, fail, kind, status, stderr):
    result = cli("fail", kind)
    assert (result.exit_code, result.stderr) == (status, stderr)


def test_debug_variable_shows_the_traceback_with_locals(cli, fail):
    result = cli("fail", "bug", env={"ENET4Y2_DEBUG": "1"})
    assert result.exit_code == 1
    assert "Traceback" in result.stderr and "KeyError" in result.stderr
    assert "secret_local" in result.stderr and "shown only with ENET4Y2_DEBUG" in result.stderr
    # user errors stay one line even then
    result = cli("fail", "data", env={"ENET4Y2_DEBUG": "1"})
    assert result.stderr == "error: the list x.txt is empty\n"


def test_closed_stdout_pipe_ends_quietly(tmp_path):
    """`enet4y2 watch LOG --json | head -1` in a real process, with a reader that is gone
    before the first byte: no traceback, no 'Exception ignored', status 141."""
    log = tmp_path / "train.log"
    log.write_text(training_log(1, 300))
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run([*ENET4Y2, "watch", str(log), "--json"], stdout=write_end,
                              stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr) == (141, "")


def test_head_reads_one_line_and_the_rest_goes_quietly(tmp_path):
    log = tmp_path / "train.log"
    log.write_text(training_log(1, 300))
    with subprocess.Popen([*ENET4Y2, "watch", str(log), "--json"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE) as proc:
        assert proc.stdout.readline() == b"{\n"
        proc.stdout.close()  # what `head -1` does after its line
        assert proc.wait(timeout=120) in (0, 141)
        assert proc.stderr.read() == b""


# file names with rich markup print literally
def test_markup_in_a_written_file_name_prints_literally(cli, tmp_path):
    out = tmp_path / "[red]x[/red].cfg"
    result = cli.ok("cfg", "--classes", "2", "-o", out)
    assert result.stdout.startswith(f"wrote {out}: ")
    assert cli.ok("cfg", "check", out).stdout.startswith(f"ok {out}: ")
