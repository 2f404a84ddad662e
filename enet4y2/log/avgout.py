"""The seed's avgout table (scripts/avgout.py of k5iogura/darknetB0-4Y), as pure logic.

Rows are evenly spaced over the avg-loss series the way avgout picks them (every
``(n + 1) // column``-th point), bars are scaled the way it scales them (a MIN row, a
floor of 10x the minimum, ``|`` where a bar overflows `bars`), so users see the picture
they know. Text rendering of the classic layout is here too; it has no I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from enet4y2.log.state import LogState

#: avgout's floor: the top of the scale is at least this many times the minimum.
_SCALE_FLOOR = 10


@dataclass(frozen=True)
class AvgoutRow:
    iteration: int
    loss: float
    bar: int  # characters of bar, 0..bars+1 (bars+1 means it overflows: drawn with `|`)


@dataclass(frozen=True)
class AvgoutTable:
    rows: list[AvgoutRow]
    minimum: AvgoutRow | None  # the lowest loss; `bar` is its `>` count
    loss_max: float  # over every point
    loss_min: float
    bars: int


def avgout_table(iterations: np.ndarray, losses: np.ndarray, column: int = 20,
                 bars: int = 80,
                 extremes: tuple[int, float, float] | bool | None = False) -> AvgoutTable:
    """avgout's table for a series (iterations increasing, losses may hold nan).

    `extremes` (index of the last lowest finite loss, lowest, highest; None when there is
    no finite loss) may be passed when known, sparing a pass over a long series."""
    iterations = np.asarray(iterations)
    losses = np.asarray(losses, dtype=np.float64)
    n = len(losses)
    step = max(1, (n + 1) // max(column, 1))
    picked = np.arange(step - 1, n, step)
    if extremes is False:
        extremes = loss_extremes(losses)
    if extremes is None:
        rows = [AvgoutRow(int(iterations[i]), float(losses[i]), 0) for i in picked]
        return AvgoutTable(rows, None, math.nan, math.nan, bars)
    min_index, lowest, highest = extremes
    floor = lowest if lowest > 0 else 1e-10
    shown = losses[picked]
    shown = shown[np.isfinite(shown)]
    top = float(shown.max()) if len(shown) else floor
    top = min(top, column * floor)
    widen = 1.0
    if top < _SCALE_FLOOR * floor:
        widen = _SCALE_FLOOR * floor / top
        top = _SCALE_FLOOR * floor
    span = top - floor

    def bar(loss: float) -> int:
        if not math.isfinite(loss) or span <= 0:
            return 0
        return max(0, min(bars + 1, math.ceil(bars * widen * loss / span)))

    rows = [AvgoutRow(int(iterations[i]), float(losses[i]), bar(float(losses[i])))
            for i in picked]
    minimum = AvgoutRow(int(iterations[min_index]), lowest, bar(floor))
    return AvgoutTable(rows, minimum, highest, lowest, bars)


def loss_extremes(losses: np.ndarray) -> tuple[int, float, float] | None:
    """(index of the last lowest finite value, lowest, highest), or None if none finite."""
    finite = np.isfinite(losses)
    if not finite.any():
        return None
    lowest = float(losses[finite].min())
    # The last occurrence, as avgout reports it.
    return int(np.flatnonzero(losses == lowest)[-1]), lowest, float(losses[finite].max())


def bar_text(row: AvgoutRow, bars: int, char: str = "#") -> str:
    """`#` * bar, with the overflowing last character drawn as `|`."""
    if row.bar > bars:
        return char * bars + ("|" if char == "#" else char)
    return char * row.bar


def avgout_text(table: AvgoutTable, map_percent: float | None = None) -> str:
    """The classic avgout layout (loss range line, ruled table, MIN row)."""
    bars = table.bars
    rule = "-" * (bars + 27)
    loss_head = "loss" if map_percent is None else f"loss({map_percent:.2f}%)"
    lines = [
        f"loss range: {table.loss_max:f} to {table.loss_min:f}",
        rule,
        f"|{'iteration':>11s} {loss_head:>12s} {'bar':^{bars}s}|",
        rule,
    ]
    for row in table.rows:
        lines.append(f"{row.iteration:12d} {row.loss:12.6f} {bar_text(row, bars)}".rstrip())
    lines.append(rule)
    if table.minimum is not None:
        m = table.minimum
        lines.append(f"MIN {m.iteration:8d} {m.loss:12.6f} {bar_text(m, bars, '>')}".rstrip())
        lines.append(rule)
    return "\n".join(lines) + "\n"


def state_series(state: LogState, stop_iter: int | None = None) -> np.ndarray:
    """The run as it stands (`LogState.series`), up to `stop_iter` when given."""
    series = state.series()
    if stop_iter is not None:
        series = series[series[:, 0] <= stop_iter]
    return series


def state_table(state: LogState, column: int = 20, bars: int = 80,
                stop_iter: int | None = None) -> AvgoutTable:
    """avgout's table of a parsed log."""
    series = state_series(state, stop_iter)
    # Without stop_iter the state's incremental extremes spare a pass over the series.
    extremes = state.avg_extremes() if stop_iter is None else False
    return avgout_table(series[:, 0], series[:, 2], column, bars, extremes)
