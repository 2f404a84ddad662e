"""The one subprocess helper: argument lists, output streamed with a tail, the child
killed and reaped on any exception, signals forwarded, and a child that dies with us."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from enet4y2 import proc
from enet4y2.proc import Child


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as fh:  # a zombie is dead too
        return fh.read().split(") ", 1)[1][0] != "Z"


def test_short_commands():
    assert proc.output(["echo", "hi"]) == "hi\n"
    assert proc.output(["false"]) is None
    assert proc.output(["no-such-program-here"]) is None
    done = proc.run(["sh", "-c", "echo out; echo 'fatal: no route' >&2; exit 3"])
    assert (done.code, done.out, done.reason()) == (3, "out\n", "fatal: no route")
    assert proc.run(["sleep", "5"], timeout=0.2).code is None


def test_streams_lines_and_keeps_a_tail():
    with Child([sys.executable, "-c", "import sys\nfor i in range(5000): print(i)\n"
                "sys.stdout.write('end\\rlast')"]) as child:
        lines = list(child.lines())
        assert child.wait() == 0
    assert lines[:2] == ["0", "1"] and lines[-2:] == ["end", "last"]
    assert bytes(child.tail).endswith(b"4999\nend\rlast")


def test_an_exception_kills_and_reaps_the_child():
    child = Child(["sleep", "60"])
    with pytest.raises(RuntimeError), child:
        pid = child.pid
        raise RuntimeError("boom")
    assert not _alive(pid)


def test_missing_program_is_an_oserror_before_anything_runs(tmp_path):
    for die in (False, True):
        with pytest.raises(FileNotFoundError):
            Child([str(tmp_path / "darknet")], die_with_parent=die).start()
    (tmp_path / "x").write_text("")
    with pytest.raises(PermissionError):
        Child([str(tmp_path / "x")], die_with_parent=True).start()


def test_the_child_dies_with_its_parent_even_on_sigkill():
    parent = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time\nfrom enet4y2.proc import Child\n"
         "c = Child(['sleep', '60'], die_with_parent=True)\nc.start()\n"
         "print(c.pid, flush=True)\ntime.sleep(60)"], stdout=subprocess.PIPE, text=True)
    child_pid = int(parent.stdout.readline())
    assert _alive(child_pid)
    parent.kill()  # SIGKILL: no handler, no cleanup of ours runs
    parent.wait()
    deadline = time.monotonic() + 5
    while _alive(child_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child_pid)


def test_signals_are_forwarded_and_a_second_one_kills():
    script = ("import signal, sys, time\nsignal.signal(signal.SIGINT, lambda *a: print("
              "'got int', flush=True))\nprint('ready', flush=True)\ntime.sleep(30)\n")
    with Child([sys.executable, "-c", script], forward_signals=True) as child:
        lines = child.lines()
        assert next(lines) == "ready"
        os.kill(os.getpid(), signal.SIGINT)  # to us: the child gets it, we go on
        assert next(lines) == "got int"
        os.kill(os.getpid(), signal.SIGINT)  # again: the child is killed
        assert child.wait(timeout=10) == -signal.SIGKILL
    assert child.interrupted == signal.SIGINT
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored


def test_a_started_child_is_not_started_again_by_its_context():
    child = Child(["sleep", "60"])
    child.start()
    with child:
        children = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").read_text()
        assert children.split().count(str(child.pid)) == 1
        assert len([p for p in children.split() if _alive(int(p))
                    and Path(f"/proc/{p}/cmdline").read_bytes().startswith(b"sleep")]) == 1
    with pytest.raises(RuntimeError, match="already started"):
        child.start()
