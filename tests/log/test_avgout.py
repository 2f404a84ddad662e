"""avgout's table: the same rows and bars as the seed's algorithm on the same log."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from enet4y2.log.avgout import AvgoutRow, avgout_table, avgout_text, bar_text, state_table
from enet4y2.log.follower import LogFollower
from tests.logsamples import iteration_line, training_log
from tests.seed_avgout import seed_avgout


def _ours(path: Path, column: int, bars: int) -> str:
    f = LogFollower(path)
    f.poll()
    return avgout_text(state_table(f.state, column, bars))


def _without_header(text: str) -> list[str]:
    lines = text.splitlines()
    return lines[:2] + lines[3:]  # the header's mAP cell differs by design


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(0.01, 5000, allow_nan=False), min_size=1, max_size=300),
    st.integers(1, 30),
    st.integers(1, 100),
)
def test_matches_the_seed_algorithm(avgs, column, bars):
    text = "".join(iteration_line(i + 1, f"{a:f}", f"{a:f}") for i, a in enumerate(avgs))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "train.log"
        path.write_text(text)
        seed = seed_avgout(str(path), column=column, bars=bars)
        if not seed:  # fewer points than rows: the seed prints nothing
            return
        assert _without_header(_ours(path, column, bars)) == _without_header(seed)


def test_on_a_darknet_format_log(tmp_path):
    path = tmp_path / "train.log"
    path.write_text(training_log(1, 200))
    assert _without_header(_ours(path, 20, 80)) == _without_header(seed_avgout(str(path)))


def test_bar_overflow_is_drawn_with_a_pipe():
    assert bar_text(AvgoutRow(1, 1.0, 6), 5) == "#####|"
    assert bar_text(AvgoutRow(1, 1.0, 3), 5) == "###"
    assert bar_text(AvgoutRow(1, 1.0, 6), 5, ">") == ">>>>>>"


def test_nan_rows_have_no_bar_and_do_not_break_scaling():
    its = np.arange(1, 11)
    losses = np.array([5, 4, 3, np.nan, 2, 2, np.nan, 1.5, 1.2, 1.0])
    table = avgout_table(its, losses, column=10, bars=20)
    assert [r.iteration for r in table.rows] == list(range(1, 11))
    assert table.rows[3].bar == 0 and table.rows[0].bar > table.rows[1].bar > 0
    assert table.minimum.iteration == 10 and table.loss_max == 5


def test_all_nan_has_no_minimum():
    table = avgout_table(np.arange(1, 4), np.full(3, np.nan), column=3, bars=10)
    assert table.minimum is None and len(table.rows) == 3
