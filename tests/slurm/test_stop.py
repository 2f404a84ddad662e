"""The in-job stop on USR1, driven with real signals and synthetic iteration events:
darknet is stopped on the first line after its next save when that is near, at once
(outside a save) when it is far or the job's end is too close."""

from __future__ import annotations

import math
import os
import signal
import time

import pytest

from enet4y2.log.events import Iteration
from enet4y2.log.state import LogState
from enet4y2.slurm.job import StopAtSave, Terminated, _ending, _signals
from enet4y2.train.session import Reporter


class Said(Reporter):
    def __init__(self) -> None:
        self.lines: list[str] = []

    def info(self, message: str) -> None:
        self.lines.append(message)


@pytest.fixture
def terms():
    """SIGTERMs this process sends itself (what the supervisor forwards to darknet)."""
    got: list[int] = []
    old = signal.signal(signal.SIGTERM, lambda signum, _: got.append(signum))
    yield got
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGTERM, old)


def _feed(stopper: StopAtSave, *iterations: int, pause: float = 0.0) -> None:
    for n in iterations:
        stopper.update(LogState(), [Iteration(n, 1.0, 1.0, 0.001, 0.1, 2, math.nan)])
        if pause:
            time.sleep(pause)


def test_a_near_save_is_waited_for(terms):
    said = Said()
    stopper = StopAtSave(said, save_every=10, margin=60)
    stopper.started([], None, 100)
    _feed(stopper, 5, 6, 7, pause=0.01)
    stopper.request()
    assert stopper.stop_after == 10 and not terms
    _feed(stopper, 8, 9, 10)
    assert not terms  # darknet is saving iteration 10 now
    _feed(stopper, 11)
    assert terms == [signal.SIGTERM] and stopper.stopped
    assert "after the save at 10" in said.lines[-1]


def test_a_far_save_means_stopping_now(terms):
    said = Said()
    stopper = StopAtSave(said, save_every=1000, margin=3)  # 2 s to stop
    stopper.started([], None, 5000)
    _feed(stopper, 1, 2, 3, pause=0.2)
    stopper.request()
    assert terms == [signal.SIGTERM]
    assert "3 iterations since the last save are lost" in said.lines[-1]


def test_just_after_a_save_line_waits_for_the_next_line(terms):
    stopper = StopAtSave(Said(), save_every=10, margin=3)
    stopper.started([], None, 5000)
    _feed(stopper, 19, 20, pause=1.0)  # 1 s per iteration: the save at 30 is too far
    stopper.request()
    assert not terms and stopper.stop_after == 20  # darknet may be writing 20's weights
    _feed(stopper, 21)
    assert terms == [signal.SIGTERM]


def test_the_deadline_caps_the_wait_for_a_save(terms):
    said = Said()
    stopper = StopAtSave(said, save_every=10, margin=30, end=time.monotonic() + 12)
    stopper.started([], None, 1000)
    _feed(stopper, 1, 2, 3, pause=0.3)  # the save at 10 is ~2 s away, the deadline ~2 s
    stopper.request()
    assert "too far" in said.lines[-1] and terms == [signal.SIGTERM]


def test_without_iterations_the_deadline_stops_darknet(terms):
    stopper = StopAtSave(Said(), save_every=10, margin=1.5)  # budget 1 s
    stopper.started([], None, 100)
    old = signal.signal(signal.SIGALRM, lambda *_: stopper.alarm())
    try:
        stopper.request()
        deadline = time.monotonic() + 5
        while not terms and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        signal.signal(signal.SIGALRM, old)
    assert terms == [signal.SIGTERM]


def test_a_sigterm_before_darknet_ends_the_job_there():
    stopper = StopAtSave(Said(), save_every=10, margin=60)
    with _signals(stopper, None), pytest.raises(Terminated, match="signal SIGTERM before"):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(1)  # the handler runs between bytecodes: here at the latest
    assert stopper.signalled == signal.SIGTERM
    assert _ending(None, stopper, requeue=True) == (
        "killed", "signal SIGTERM before darknet started")  # Slurm requeues, not us


def test_signals_after_darknet_ended_let_the_job_record_its_end():
    """Slurm signals every process of the job: darknet may die of its SIGTERM before
    ours arrives, once the supervisor stopped forwarding. Ours must not kill the job
    before it has recorded how darknet ended; a second one neither."""
    stopper = StopAtSave(Said(), save_every=10, margin=60)
    before = signal.getsignal(signal.SIGTERM)  # another test's library may have set one
    with _signals(stopper, None):
        stopper.started([], None, 100)
        stopper.finished()
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGHUP)
        time.sleep(0.1)
        recorded = True
    assert recorded and stopper.signalled == signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) is before  # restored


def test_a_second_sigterm_while_recording_the_end_is_only_noted():
    stopper = StopAtSave(Said(), save_every=10, margin=60)
    with _signals(stopper, None):
        with pytest.raises(Terminated):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1)
        os.kill(os.getpid(), signal.SIGTERM)  # while the job writes its end
        time.sleep(0.1)
    assert stopper.ending and stopper.signalled == signal.SIGTERM


def test_no_darknet_step_starts_after_a_signal_between_steps():
    stopper = StopAtSave(Said(), save_every=10, margin=60)
    stopper.started([], None, 100)  # a warm-up step
    stopper.finished()
    stopper.outside(signal.SIGTERM)
    with pytest.raises(Terminated):
        stopper.started([], None, 200)
