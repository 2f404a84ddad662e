"""One training run's guard rails, up to the point darknet would start (no build here):
cleaned copies never collide, a resume never starts from garbage, one run per backup
folder; and what a run left in backup/ is judged against the cfg."""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import pytest

from enet4y2.cfg import infer, write_cfg
from enet4y2.data import synthetic
from enet4y2.errors import NotBuiltError, OutputError, WeightsError
from enet4y2.fileio import exclusive_lock
from enet4y2.train import saved
from enet4y2.train.session import LOCK_NAME, TrainOptions, run
from tests.tiny import tiny_cfg


@pytest.fixture
def setup(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ENET4Y2_DARKNET_DIR", str(tmp_path / "no-darknet"))
    ds = synthetic.make_dataset(tmp_path, train=6, valid=3, width=64, height=64)
    Path("tiny.cfg").write_text(write_cfg(tiny_cfg(10, batch=2)))
    return ds


def _weights(path: Path, floats: int, seen: int = 0) -> Path:
    path.write_bytes(struct.pack("<iiiQ", 0, 2, 5, seen) + bytes(4 * floats))
    return path


def test_train_and_valid_lists_of_one_name_get_distinct_clean_copies(setup, tmp_path):
    for split in ("a", "b"):
        (tmp_path / split).mkdir()
    train_list, valid_list = tmp_path / "a" / "list.txt", tmp_path / "b" / "list.txt"
    train = setup.train_list.read_text().split()
    valid = setup.valid_list.read_text().split()
    Path(train[0]).write_bytes(b"")  # one bad image in each list
    Path(valid[0]).write_bytes(b"")
    train_list.write_text("\n".join(train) + "\n")
    valid_list.write_text("\n".join(valid) + "\n")
    data = tmp_path / "two.data"
    data.write_text(f"classes=2\ntrain={train_list}\nvalid={valid_list}\n"
                    f"names={setup.names}\nbackup=backup\n")
    with pytest.raises(NotBuiltError):  # pre-flight passed; darknet is not built here
        run(TrainOptions(data=str(data), cfg="tiny.cfg", calc_map=True, skip_bad=True))
    clean = (tmp_path / "backup" / "two.clean.data").read_text()
    used = dict(line.split(" = ") for line in clean.splitlines() if " = " in line)
    assert Path(used["train"]).read_text().split() == train[1:]
    assert Path(used["valid"]).read_text().split() == valid[1:]
    assert used["train"] != used["valid"]


@pytest.mark.parametrize(("content", "says"), [
    (b"", "truncated|too short"),
    ("half", "truncated"),
    ("other", "another model"),
])
def test_resume_refuses_weights_darknet_would_load_as_garbage(setup, tmp_path, content, says):
    floats = infer(tiny_cfg(10, batch=2)).param_count
    last = tmp_path / "backup" / "tiny_last.weights"
    last.parent.mkdir(exist_ok=True)
    if content == "half":
        _weights(last, floats // 2)
    elif content == "other":
        _weights(last, floats + 1000)
    else:
        last.write_bytes(content)
    with pytest.raises(WeightsError, match=says) as err:
        run(TrainOptions(data="synth.data", cfg="tiny.cfg", resume=True))
    assert "--resume" in str(err.value) and "\n" not in str(err.value)


def test_one_run_per_backup_folder(setup, tmp_path):
    backup = tmp_path / "backup"
    backup.mkdir(exist_ok=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from enet4y2.fileio import exclusive_lock\n"
         "with exclusive_lock(sys.argv[1], 'x'):\n print('held', flush=True); time.sleep(60)",
         str(backup / LOCK_NAME)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        with pytest.raises(OutputError, match=rf"in use by another process \(pid "
                                              rf"{holder.pid}"):
            run(TrainOptions(data="synth.data", cfg="tiny.cfg"))
    finally:
        holder.kill()
        holder.wait()
    # the holder is gone (even killed): the lock went with it
    with pytest.raises(NotBuiltError):
        run(TrainOptions(data="synth.data", cfg="tiny.cfg"))
    with exclusive_lock(backup / LOCK_NAME, "backup"), \
            pytest.raises(OutputError, match=r"pid \d+"), \
            exclusive_lock(backup / LOCK_NAME, "backup"):
        pass


def test_saved_weights_are_judged_against_the_cfg(tmp_path):
    cfg = tiny_cfg(10, batch=4)
    floats = infer(cfg).param_count
    whole = _weights(tmp_path / "tiny_last.weights", floats, seen=4 * 300)
    cut = _weights(tmp_path / "tiny_final.weights", floats - 100, seen=4 * 310)
    _weights(tmp_path / "other_last.weights", floats)  # another cfg's file: not ours
    found = saved.saved_since(tmp_path, "cfg/tiny.cfg", cfg, since_ns=0)
    assert [s.path.name for s in found] == ["tiny_final.weights", "tiny_last.weights"]
    final, last = found
    assert (last.ok, last.iteration) == (True, 300)
    assert not final.ok and final.problem.startswith("truncated:")
    assert saved.saved_since(tmp_path, "tiny.cfg", cfg, since_ns=whole.stat().st_mtime_ns
                             + 10**9) == []
    assert saved.inspect(cut, cfg).iteration == 310
