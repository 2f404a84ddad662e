"""scripts/avgout.py: the seed's LOG -c -s -b over enet4y2's log parser, run as a real
process and compared with the seed's own algorithm (tests/seed_avgout.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.logsamples import training_log
from tests.seed_avgout import seed_avgout

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "avgout.py"


def _run(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True,
                          text=True, timeout=120)


def _without_header(text: str) -> list[str]:
    lines = text.splitlines()
    return lines[:2] + lines[3:]  # the header's mAP cell differs by design


def test_same_table_as_the_seed(tmp_path):
    log = tmp_path / "train.log"
    log.write_text(training_log(1, 200))
    done = _run(log, "-c", "7", "-b", "30")
    assert done.returncode == 0, done.stderr
    assert _without_header(done.stdout) == _without_header(seed_avgout(str(log), 7, bars=30))


def test_missing_and_empty_logs_are_one_line(tmp_path):
    done = _run(tmp_path / "none.log")
    assert done.returncode == 1 and done.stderr.count("\n") == 1 and "none.log" in done.stderr
    (tmp_path / "empty.log").write_text("")
    done = _run(tmp_path / "empty.log")
    expected = f"error: no iterations in {tmp_path / 'empty.log'} yet\n"
    assert (done.returncode, done.stderr) == (1, expected)


def test_the_seed_scripts_work_from_a_fresh_shell(tmp_path):
    """No virtualenv active, system python first on PATH: they re-run under .venv."""
    import os
    import subprocess

    import pytest

    from enet4y2 import paths

    if not (paths.REPO_ROOT / ".venv" / "bin" / "python").is_file():
        pytest.skip("no .venv in this checkout (make venv)")
    env = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/root")}
    for script, args, says in (("avgout.py", [str(tmp_path / "none.log")], "not found"),
                               ("pycocoeval.py", ["-r", "x.json", "-g", "y.json"],
                                "no such results file")):
        done = subprocess.run([str(paths.REPO_ROOT / "scripts" / script), *args],
                              capture_output=True, text=True, env=env, cwd=tmp_path)
        assert done.returncode == 1 and says in done.stderr, done.stderr
        assert "Traceback" not in done.stderr and "ModuleNotFoundError" not in done.stderr
