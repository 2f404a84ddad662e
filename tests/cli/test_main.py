"""The root command: version, help with examples for every command, and how every kind
of failure ends (one line and an exit status; the traceback only under ENET4Y2_DEBUG=1);
text from the user (file names) is never read as rich markup."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

import enet4y2
from enet4y2.cli import main
from enet4y2.errors import DataError
from tests.coco_builders import build_gt, perfect_results
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
    (["detect"], "Missing argument 'SOURCE...'", "enet4y2 detect"),
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


def test_markup_in_a_missing_file_name_prints_literally(cli, tmp_path):
    missing = tmp_path / "[bold]none[/].cfg"
    assert cli("cfg", "show", missing).stderr == f"error: {missing}: no such cfg file\n"
    assert cli("weights", "info", missing).stderr == f"error: {missing}: no such weights file\n"


def test_markup_in_an_output_folder_prints_literally(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    gt = build_gt(2)
    Path("gt.json").write_text(json.dumps(gt))
    Path("r.json").write_text(json.dumps(perfect_results(gt)))
    result = cli.ok("eval", "--results", "r.json", "--gt", "gt.json", "--out", "[red]out")
    assert "wrote [red]out/coco_stats.json\n" in result.stderr


# one check for every input file, one message
@pytest.fixture
def inputs(tmp_path, monkeypatch):
    """Stand-ins for the other inputs of each command line, in the current directory."""
    monkeypatch.chdir(tmp_path)
    for name in ("c.cfg", "d.data", "w.weights", "img.jpg", "r.json", "g.json", "t.log"):
        Path(name).write_text("")
    return tmp_path


@pytest.fixture(params=["missing", "folder", "fifo", "device"])
def bad_path(request, tmp_path) -> tuple[str, str]:
    """(path, what the message says about it) for each way a path is not an input file."""
    if request.param == "device":
        return "/dev/zero", "not a regular file (a {kind} file is expected)"
    path = tmp_path / "bad" / request.param
    path.parent.mkdir()
    if request.param == "folder":
        path.mkdir()
        return str(path), "is a folder, not a {kind} file"
    if request.param == "fifo":
        os.mkfifo(path)
        return str(path), "not a regular file (a {kind} file is expected)"
    return str(path), "no such {kind} file"


@pytest.mark.parametrize(("argv", "option", "kind"), [
    (["cfg", "show", "X"], None, "cfg"),
    (["cfg", "check", "X"], None, "cfg"),
    (["cfg", "--names", "X", "-o", "o.cfg"], "--names", "names"),
    (["cfg", "--anchors-from", "X", "-o", "o.cfg"], "--anchors-from", "data"),
    (["weights", "info", "X"], None, "weights"),
    (["weights", "info", "w.weights", "--cfg", "X"], "--cfg", "cfg"),
    (["weights", "cut", "X", "--cfg", "c.cfg", "--layers", "2"], None, "weights"),
    (["weights", "cut", "w.weights", "--cfg", "c.cfg", "--for", "X"], "--for", "cfg"),
    (["detect", "X", "--cfg", "c.cfg", "--weights", "w.weights"], None, "image"),
    (["detect", "img.jpg", "--cfg", "X", "--weights", "w.weights"], "--cfg", "cfg"),
    (["detect", "img.jpg", "--cfg", "c.cfg", "--weights", "X"], "--weights", "weights"),
    (["detect", "img.jpg", "--cfg", "c.cfg", "--weights", "w.weights", "--names", "X"],
     "--names", "names"),
    (["train", "--data", "X"], "--data", "data"),
    (["train", "--data", "d.data", "--cfg", "X"], "--cfg", "cfg"),
    (["train", "--data", "d.data", "--cfg", "c.cfg", "--weights", "X"], "--weights", "weights"),
    (["eval", "--weights", "X", "--cfg", "c.cfg"], "--weights", "weights"),
    (["eval", "--weights", "w.weights", "--cfg", "X"], "--cfg", "cfg"),
    (["eval", "--weights", "w.weights", "--cfg", "c.cfg", "--data", "X"], "--data", "data"),
    (["eval", "--results", "X", "--gt", "g.json"], "--results", "results"),
    (["eval", "--results", "r.json", "--gt", "X"], "--gt", "ground truth"),
    (["eval", "--results", "r.json", "--gt", "g.json", "--list", "X"], "--list", "list"),
    (["eval", "--results", "r.json", "--gt", "g.json", "--compare", "ref=X"], "--compare",
     "stats"),
    (["watch", "X"], None, "log"),
    (["watch", "t.log", "--cfg", "X"], "--cfg", "cfg"),
])
def test_every_input_file_is_checked_the_same_way(cli, inputs, bad_path, argv, option, kind):
    path, what = bad_path
    before = sorted(os.listdir(inputs))
    result = cli(*(a.replace("X", path) if "X" in a else a for a in argv))
    where = f"{option} {path}" if option else path
    assert (result.exit_code, result.stderr) == (1, f"error: {where}: {what.format(kind=kind)}\n")
    assert sorted(os.listdir(inputs)) == before  # stopped before writing anything
