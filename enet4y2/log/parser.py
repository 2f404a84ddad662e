"""Incremental parser for darknet's training log: bytes in, events out.

`LogParser` is pure: it is fed bytes (a file's appended part, a process's stdout) and
returns events (`enet4y2.log.events`) in log order; big blocks go through the numpy scan
(`enet4y2.log.scan`), small ones line by line, with the same result.

Lines end at ``\\n`` or ``\\r``; inside a line darknet's screen clears (``\\033[H\\033[J``),
other escape sequences and the bell split it into pieces, each parsed on its own.
"""

from __future__ import annotations

import math

import numpy as np

from enet4y2.log import events, scan
from enet4y2.log.events import (
    Complaint,
    Event,
    Iteration,
    MapReport,
    complaint_kind,
    line_kind,
    line_status,
    parse_number,
    route,
)

#: Lines longer than this are noise (darknet's lines are short): they are skipped whole,
#: however the bytes were chunked, so memory stays bounded on a file with no newlines.
MAX_LINE = 64 * 1024
class _Rows:
    """Canonical iteration lines parsed in bulk: float64 rows in `ITERATION_COLUMNS` order."""

    __slots__ = ("array",)

    def __init__(self, array: np.ndarray) -> None:
        self.array = array


class LogParser:
    """Incremental, pure: `feed(bytes)` returns the events of the lines completed so far.

    A partial last line is kept until its end arrives (or `flush()`); feeding a text in
    chunks split anywhere gives the same events as feeding it whole. Blocks of at least
    `bulk_min` bytes are scanned with numpy (`_logscan`), smaller ones line by line; both
    give the same events.
    """

    def __init__(self, *, bulk_min: int = 32 * 1024) -> None:
        self.bulk_min = bulk_min
        self._tail = b""
        self._skipping = False  # inside an over-long line
        self.offset = 0  # bytes parsed into complete lines (the pending tail excluded)
        self.max_batches: int | None = None  # from darknet's `5/500200: loss=...` line
        self._last_iteration: int | None = None
        self._best: float | None = None  # best mAP in the current segment
        self._map_since_iteration = False
        self._saw_map_calc = False
        self._last_accuracy: tuple[float, float] | None = None

    @property
    def pending(self) -> int:
        """Bytes of the incomplete last line held back."""
        return len(self._tail)

    def feed(self, data: bytes) -> list[Event]:
        """Parse `data` appended to what came before; events of completed lines."""
        return _expand(self._feed(data))

    def feed_table(self, data: bytes) -> tuple[np.ndarray, list[Event]]:
        """Like `feed`, for bulk reading: iterations as one float64 array of rows
        (`ITERATION_COLUMNS`), the other events (mAP, complaints) as objects."""
        return _split(self._feed(data))

    def flush(self) -> list[Event]:
        """End of input: parse the pending partial line, if any."""
        events: list = []
        if self._tail and not self._skipping:
            self._line(self._tail, events)
        self.offset += len(self._tail)
        self._tail, self._skipping = b"", False
        return events

    def _feed(self, data: bytes) -> list:
        out: list = []
        end = max(data.rfind(b"\n"), data.rfind(b"\r"))
        if end < 0:
            self._hold(data)
            return out
        first = events.EOL.search(data)
        assert first is not None
        head, rest = data[: first.start()], data[end + 1 :]
        if self._skipping or len(self._tail) + len(head) > MAX_LINE:
            self._skipping = False
        else:
            self._line(self._tail + head, out)
        self.offset += len(self._tail) + first.end()
        self._tail = b""
        lo, hi = first.end(), end + 1
        if hi - lo >= self.bulk_min:
            self._block_bulk(data, lo, hi, out)  # in place: no copy of a big block
        else:
            self._block(data[lo:hi], out)
        self.offset += hi - lo
        self._hold(rest)
        return out

    def _hold(self, data: bytes) -> None:
        if self._skipping:
            self.offset += len(data)
            return
        if len(self._tail) + len(data) > MAX_LINE:
            self.offset += len(self._tail) + len(data)
            self._tail, self._skipping = b"", True
        else:
            self._tail += data

    def _block(self, block: bytes, out: list) -> None:
        """Complete lines (each ends with a terminator), one by one."""
        for line in events.EOL.split(block):
            if line and len(line) <= MAX_LINE:
                self._line(line, out)

    def _block_bulk(self, data: bytes, lo: int, hi: int, out: list) -> None:
        """Complete lines `data[lo:hi]`: canonical iteration lines parsed at once with
        numpy; every other line that can carry an event goes through `_line`, in order."""
        a = np.frombuffer(data, dtype=np.uint8, count=hi - lo, offset=lo)
        starts, ends = scan.line_bounds(a, _positions(data, b"\r", lo, hi))
        starts += lo  # positions in `data` from here on
        ends += lo
        whole = np.frombuffer(data, dtype=np.uint8)
        view = scan.u64_view(whole)
        kinds = scan.classify(whole, view, starts, ends)
        it_lines = np.flatnonzero(kinds == scan.ITERATION)
        rows, ok = scan.parse_iterations(whole, starts[it_lines], ends[it_lines])
        canon, rows = it_lines[ok], rows[ok]
        kinds[it_lines[~ok]] = scan.OTHER
        lengths = ends - starts
        wanted = (kinds == scan.OTHER) & (lengths > 0) & (lengths <= MAX_LINE)
        if not self._saw_map_calc:
            wanted |= kinds == scan.LAST_ACCURACY
        slow = np.flatnonzero(wanted)
        done = 0
        k = 0
        while k < len(slow):
            li = int(slow[k])
            upto = int(np.searchsorted(canon, li))
            if upto > done:
                self._rows(rows[done:upto], out)
                done = upto
            before = self._saw_map_calc
            self._line(data[starts[li] : ends[li]], out)
            if self._saw_map_calc and not before:  # "Last accuracy" lines carry nothing now
                rest = slow[k + 1 :]
                slow = np.concatenate([slow[: k + 1], rest[kinds[rest] != scan.LAST_ACCURACY]])
            k += 1
        if done < len(rows):
            self._rows(rows[done:], out)
        # The status line: only the block's last one matters (max_batches is a value).
        while (pos := data.rfind(b": loss=", lo, hi)) >= 0:
            li = int(np.searchsorted(starts, pos, side="right")) - 1
            if kinds[li] != scan.IGNORED and kinds[li] != scan.ITERATION:
                value = line_status(data[starts[li] : ends[li]])
                if value is not None:
                    self.max_batches = value
                    break
            hi = int(starts[li])

    def _rows(self, rows: np.ndarray, out: list) -> None:
        its = rows[:, 0]
        if (self._last_iteration is not None and its[0] <= self._last_iteration) or (
            len(its) > 1 and bool((its[1:] <= its[:-1]).any())
        ):
            # A resumed run inside; best restarts at the last going-back point, and mAP
            # reports only come from `_line`, so only the final segment's best matters.
            self._best = None
        self._last_iteration = int(its[-1])
        self._map_since_iteration = False
        out.append(_Rows(rows))

    def _line(self, line: bytes, out: list) -> None:
        kind = line_kind(line)
        if kind == "ignored":
            return
        for piece in events.SPLIT.split(line):
            if not piece.strip():
                continue
            if kind == "generic":
                self._piece(piece, out)
                continue
            m = events.STATUS.match(piece)
            if m:
                self.max_batches = int(m.group(2))
            elif kind == "last_accuracy" and b"mAP@" in piece:
                self._map_last(piece, out)

    def _piece(self, piece: bytes, out: list) -> None:
        kind, value = route(piece)
        if kind == "iteration":
            self._iteration(value, out)
        elif kind == "map":
            if not self._map_calc(piece, out):
                self._map_last(piece, out)
        elif kind == "status":
            self.max_batches = value
        elif kind == "other":
            complaint = complaint_kind(piece)
            if complaint is not None:
                out.append(Complaint(complaint, piece.decode("utf-8", "replace").strip()))

    def _iteration(self, it: Iteration, out: list) -> None:
        if self._last_iteration is not None and it.iteration <= self._last_iteration:
            self._best = None  # a resumed or restarted run: darknet's best starts over
        self._last_iteration = it.iteration
        self._map_since_iteration = False
        out.append(it)

    def _map_calc(self, piece: bytes, out: list) -> bool:
        m = events.MAP_VALIDATE.search(piece) or events.MAP_TRAIN.search(piece)
        if m is None:
            return False
        if parse_number(m.group(1)) != 0.5:
            return True
        self._saw_map_calc = True
        if not self._map_since_iteration:  # else: the same calculation, printed twice
            self._map_since_iteration = True
            self._report(parse_number(m.group(2)), out)
        return True

    def _map_last(self, piece: bytes, out: list) -> None:
        m = events.MAP_LAST.search(piece)
        # Repeated every iteration; only logs without the calculation lines need it.
        if m is None or self._saw_map_calc or parse_number(m.group(1)) != 0.5:
            return
        value = (parse_number(m.group(2)), parse_number(m.group(3)))
        if value != self._last_accuracy:
            self._last_accuracy = value
            self._report(value[0] / 100, out, best=value[1] / 100)

    def _report(self, value: float, out: list, best: float | None = None) -> None:
        if math.isfinite(value):
            self._best = max(value, self._best if self._best is not None else value)
        if best is not None and math.isfinite(best):
            self._best = max(best, self._best if self._best is not None else best)
        out.append(MapReport(self._last_iteration, value, self._best))


def _positions(data: bytes, needle: bytes, lo: int, hi: int) -> np.ndarray | None:
    """Offsets (from `lo`) of a byte that is usually rare, found without a numpy pass;
    None when it is frequent (the caller scans with numpy then)."""
    found: list[int] = []
    pos = data.find(needle, lo, hi)
    while pos >= 0:
        if len(found) == 4096:
            return None
        found.append(pos - lo)
        pos = data.find(needle, pos + 1, hi)
    return np.array(found, dtype=np.int64)


def _expand(items: list) -> list[Event]:
    out: list[Event] = []
    for item in items:
        if isinstance(item, _Rows):
            out.extend(_row_event(r) for r in item.array.tolist())
        else:
            out.append(item)
    return out


def _split(items: list) -> tuple[np.ndarray, list[Event]]:
    arrays: list[np.ndarray] = []
    pending: list[tuple] = []
    others: list[Event] = []
    for item in items:
        if isinstance(item, Iteration):
            pending.append((item.iteration, item.loss, item.avg_loss, item.rate, item.seconds,
                            item.images, item.hours_left))
            continue
        if pending:
            arrays.append(np.array(pending, dtype=np.float64))
            pending = []
        if isinstance(item, _Rows):
            arrays.append(item.array)
        else:
            others.append(item)
    if pending:
        arrays.append(np.array(pending, dtype=np.float64))
    rows = np.concatenate(arrays) if arrays else np.empty((0, 7), dtype=np.float64)
    return rows, others


def _row_event(r: list[float]) -> Iteration:
    return Iteration(int(r[0]), r[1], r[2], r[3], r[4], int(r[5]), r[6])


