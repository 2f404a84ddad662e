"""What a view needs from a darknet log: `LogState`, the pure accumulation of events
(iteration table, segments of resumed runs, mAP reports, complaints, speed and ETA)."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from dataclasses import asdict, dataclass

import numpy as np

from enet4y2.fileio import json_text
from enet4y2.log.events import ITERATION_COLUMNS, Complaint, Event, Iteration, MapReport

#: Column order of `LogState.columns()`.
COLUMNS = ITERATION_COLUMNS
#: Iterations over which the speed (iterations per second) is measured.
RATE_WINDOW = 100


@dataclass(frozen=True)
class Segment:
    """A run of increasing iterations; a resumed run (iteration going back) starts another."""

    first: int
    last: int
    rows: int


class _Table:
    """Growable float64 table, so appending stays cheap however long the log: rows come
    one at a time or as arrays, kept aside until `array()` (a view, not a copy) copies
    them in at once; capacity is reserved at twice what is needed (pages untouched until
    written), so a reading of the whole log costs one copy and appends rarely move it."""

    def __init__(self, width: int) -> None:
        self._data = np.empty((1024, width), dtype=np.float64)
        self._n = 0
        self._rows: list[tuple[float, ...]] = []
        self._arrays: list[np.ndarray] = []

    def append(self, row: tuple[float, ...]) -> None:
        self._rows.append(row)

    def extend(self, array: np.ndarray) -> None:
        self._settle_rows()
        self._arrays.append(np.asarray(array, dtype=np.float64))

    def array(self) -> np.ndarray:
        self._settle_rows()
        if self._arrays:
            arrays, self._arrays = self._arrays, []
            self._put(arrays)
        return self._data[: self._n]

    def _settle_rows(self) -> None:
        if self._rows:
            rows, self._rows = self._rows, []
            self._arrays.append(np.array(rows, dtype=np.float64))

    def _put(self, arrays: list[np.ndarray]) -> None:
        need = self._n + sum(len(a) for a in arrays)
        if need > len(self._data):
            grown = np.empty((2 * need, self._data.shape[1]))
            grown[: self._n] = self._data[: self._n]
            self._data = grown
        for a in arrays:
            self._data[self._n : self._n + len(a)] = a
            self._n += len(a)


class LogState:
    """Everything parsed so far: the iteration table, segments, mAP reports, complaints."""

    def __init__(self) -> None:
        self._table = _Table(len(COLUMNS))
        self._segments: list[list[int]] = []  # [first, last, rows]
        self.last: Iteration | None = None
        self.maps: list[MapReport] = []
        self.complaints: Counter[str] = Counter()
        self.recent_complaints: list[Complaint] = []  # the last few, for display
        self.nan_count = 0  # iterations whose avg loss was nan/inf
        self.max_batches: int | None = None  # from darknet's status line, when seen
        self._series = _Table(len(COLUMNS))
        self._series_mark = (0, 0)  # (table rows, segments) the series was built from
        self._extremes: tuple[int, int, tuple[int, float, float] | None] = (0, 0, None)

    # --- accumulation -------------------------------------------------------------------
    def update(self, events: list[Event]) -> None:
        """Add events in log order."""
        for event in events:
            if isinstance(event, Iteration):
                self._add_iteration(event)
            elif isinstance(event, MapReport):
                self.maps.append(event)
            elif isinstance(event, Complaint):
                self.complaints[event.kind] += 1
                self.recent_complaints = [*self.recent_complaints[-9:], event]

    def update_table(self, rows: np.ndarray, events: list[Event]) -> None:
        """Add what `LogParser.feed_table` returns: iteration rows, then other events."""
        if len(rows):
            self._add_rows(rows)
        self.update(events)

    def _add_rows(self, rows: np.ndarray) -> None:
        its = rows[:, 0]
        breaks = np.flatnonzero(its[1:] <= its[:-1]) + 1
        bounds = [0, *breaks.tolist(), len(rows)]
        for start, end in itertools.pairwise(bounds):
            first, last = int(its[start]), int(its[end - 1])
            seg = self._segments[-1] if self._segments else None
            if start == 0 and seg is not None and first > seg[1]:
                seg[1] = last
                seg[2] += end - start
            else:
                self._segments.append([first, last, end - start])
        self._table.extend(rows)
        self.nan_count += int((~np.isfinite(rows[:, 2])).sum())
        r = rows[-1].tolist()
        self.last = Iteration(int(r[0]), r[1], r[2], r[3], r[4], int(r[5]), r[6])

    def _add_iteration(self, it: Iteration) -> None:
        seg = self._segments[-1] if self._segments else None
        if seg is None or it.iteration <= seg[1]:
            self._segments.append([it.iteration, it.iteration, 1])
        else:
            seg[1] = it.iteration
            seg[2] += 1
        self._table.append(
            (it.iteration, it.loss, it.avg_loss, it.rate, it.seconds, it.images, it.hours_left)
        )
        if it.diverged:
            self.nan_count += 1
        self.last = it

    # --- views ----------------------------------------------------------------------------
    @property
    def segments(self) -> list[Segment]:
        return [Segment(*s) for s in self._segments]

    @property
    def rows(self) -> int:
        return sum(s[2] for s in self._segments)

    def columns(self) -> np.ndarray:
        """Every iteration parsed, in log order: shape (rows, 7), columns `COLUMNS`."""
        return self._table.array()

    def series(self) -> np.ndarray:
        """The run as it stands: each segment cut where a later (resumed) one took over,
        so iterations strictly increase. Same columns as `columns()`. Kept up to date
        incrementally: only the last segment grows, so appending costs what was added."""
        table = self.columns()
        if len(self._segments) <= 1:
            return table  # one run: the table as it is (a view, no copy)
        done_rows, done_segments = self._series_mark
        if done_segments == len(self._segments):
            self._series.extend(table[done_rows:])
        else:
            self._series = _Table(table.shape[1])
            self._series.extend(table[_effective(table, self._segments)])
        self._series_mark = (len(table), len(self._segments))
        return self._series.array()

    def avg_extremes(self) -> tuple[int, float, float] | None:
        """(index in `series()` of the lowest finite avg loss, its last occurrence; the
        lowest; the highest), or None when no avg loss is finite. Incremental too."""
        series = self.series()
        mark_rows, mark_segments, found = self._extremes
        start = mark_rows if mark_segments == len(self._segments) else 0
        if start == 0:
            found = None
        avg = series[start:, 2]
        finite = np.flatnonzero(np.isfinite(avg))
        if len(finite):
            values = avg[finite]
            low, high = float(values.min()), float(values.max())
            at = start + int(finite[np.flatnonzero(values == low)[-1]])
            if found is None:
                found = (at, low, high)
            else:
                keep = found if found[1] < low else (at, low)
                found = (keep[0], keep[1], max(found[2], high))
        self._extremes = (len(series), len(self._segments), found)
        return found

    @property
    def min_avg(self) -> Iteration | None:
        """The iteration with the lowest finite avg loss in `series()` (the last one)."""
        extremes = self.avg_extremes()
        return None if extremes is None else _row_to_iteration(self.series()[extremes[0]])

    @property
    def best_map(self) -> MapReport | None:
        finite = [m for m in self.maps if math.isfinite(m.map50)]
        return max(finite, key=lambda m: m.map50) if finite else None

    def iterations_per_second(self) -> float | None:
        """Speed over the last `RATE_WINDOW` iterations of the last segment (darknet's own
        per-iteration seconds)."""
        if not self._segments:
            return None
        rows = min(self._segments[-1][2], RATE_WINDOW)
        seconds = self.columns()[-rows:, 4]
        seconds = seconds[np.isfinite(seconds)]
        total = float(seconds.sum())
        return len(seconds) / total if total > 0 else None

    def eta_hours(self, max_batches: int | None = None) -> float | None:
        """Hours to `max_batches` at the current speed, else darknet's own `hours left`."""
        target = max_batches or self.max_batches
        ips = self.iterations_per_second()
        if self.last is None:
            return None
        if target and ips:
            return max(target - self.last.iteration, 0) / ips / 3600
        return self.last.hours_left if math.isfinite(self.last.hours_left) else None

    def estimated_max_batches(self) -> int | None:
        """max_batches from darknet's status line, else from `hours left` and the speed."""
        if self.max_batches:
            return self.max_batches
        ips = self.iterations_per_second()
        last = self.last
        if last is None or not ips or not math.isfinite(last.hours_left) or last.hours_left < 0:
            return None
        return round(last.iteration + last.hours_left * 3600 * ips)

    def to_dict(self) -> dict:
        """A JSON-ready summary (non-finite floats become null; `diverged` says nan)."""
        best = self.best_map
        return {
            "rows": self.rows,
            "segments": [asdict(s) for s in self.segments],
            "last": _iteration_dict(self.last),
            "min_avg": _iteration_dict(self.min_avg),
            "maps": [_clean(asdict(m)) for m in self.maps],
            "best_map": _clean(asdict(best)) if best else None,
            "max_batches": self.estimated_max_batches(),
            "iterations_per_second": _finite(self.iterations_per_second()),
            "eta_hours": _finite(self.eta_hours()),
            "nan_iterations": self.nan_count,
            "complaints": dict(self.complaints),
        }

    def to_json(self) -> str:
        return json_text(self.to_dict(), indent=2)


def _effective(table: np.ndarray, segments: list[list[int]]) -> np.ndarray:
    """Mask of the rows that make the run as it stands (see `LogState.series`)."""
    keep = np.zeros(len(table), dtype=bool)
    cutoff = math.inf
    end = len(table)
    for first, _last, rows in reversed(segments):
        start = end - rows
        keep[start:end] = table[start:end, 0] < cutoff
        cutoff = min(cutoff, first)
        end = start
    return keep


def _row_to_iteration(row: np.ndarray) -> Iteration:
    return Iteration(
        int(row[0]), float(row[1]), float(row[2]), float(row[3]), float(row[4]),
        int(row[5]), float(row[6]),
    )


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _clean(d: dict) -> dict:
    return {k: _finite(v) if isinstance(v, float) else v for k, v in d.items()}


def _iteration_dict(it: Iteration | None) -> dict | None:
    if it is None:
        return None
    return {**_clean(asdict(it)), "diverged": it.diverged}
