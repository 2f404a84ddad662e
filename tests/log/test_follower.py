"""LogFollower: only appended bytes are read; truncated or replaced files start over."""

from __future__ import annotations

import os

import pytest

from enet4y2.errors import MissingFileError
from enet4y2.log.events import Iteration
from enet4y2.log.follower import LogFollower
from tests.logsamples import iteration_line, training_log


def _iters(events) -> list[int]:
    return [e.iteration for e in events if isinstance(e, Iteration)]


def test_reads_only_what_was_appended(tmp_path):
    log = tmp_path / "train.log"
    log.write_text(training_log(1, 10, map_every=0))
    f = LogFollower(log)
    assert _iters(f.poll()) == list(range(1, 11))
    assert f.offset == log.stat().st_size
    assert f.poll() == []
    line = iteration_line(11, "1.000000", "1.100000")
    with open(log, "a") as out:
        out.write(line[:20])  # darknet is mid-line
    assert _iters(f.poll()) == []
    with open(log, "a") as out:
        out.write(line[20:])
    assert _iters(f.poll()) == [11]
    assert f.state.rows == 11 and f.state.max_batches == 500


def test_truncated_file_is_reread(tmp_path):
    log = tmp_path / "train.log"
    log.write_text(training_log(1, 10, map_every=0))
    f = LogFollower(log)
    f.poll()
    log.write_text(training_log(1, 3, map_every=0))  # truncated and rewritten, same inode
    assert _iters(f.poll()) == [1, 2, 3]
    assert f.restarts == 1 and f.state.rows == 3


def test_replaced_file_is_reread(tmp_path):
    log = tmp_path / "train.log"
    log.write_text(training_log(1, 5, map_every=0))
    f = LogFollower(log)
    f.poll()
    new = tmp_path / "new.log"
    new.write_text(training_log(100, 120, map_every=0))  # longer: size alone can't tell
    os.replace(new, log)
    assert _iters(f.poll()) == list(range(100, 121))
    assert f.restarts == 1 and [s.first for s in f.state.segments] == [100]


def test_rewritten_in_place_with_other_content_is_reread(tmp_path):
    log = tmp_path / "train.log"
    log.write_text(training_log(1, 5, map_every=0))
    f = LogFollower(log)
    f.poll()
    with open(log, "r+") as out:  # same inode, larger, different first bytes
        out.write("X" + training_log(50, 60, map_every=0))
    assert _iters(f.poll()) == list(range(50, 61))
    assert f.restarts == 1


def test_missing_file_is_a_one_line_error(tmp_path):
    with pytest.raises(MissingFileError, match="not found"):
        LogFollower(tmp_path / "nope.log").poll()


def test_directory_is_a_one_line_error(tmp_path):
    with pytest.raises(MissingFileError, match="is a directory"):
        LogFollower(tmp_path).poll()


def test_pipes_and_devices_are_refused_not_read_forever(tmp_path):
    fifo = tmp_path / "train.log"
    os.mkfifo(fifo)
    for path in (fifo, "/dev/zero"):
        with pytest.raises(MissingFileError, match="not a regular file"):
            LogFollower(path).poll()
