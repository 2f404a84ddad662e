"""Incremental parser for darknet's training log: bytes in, events out.

`LogParser` is pure: it is fed bytes (a file's appended part, a process's stdout) and
returns events in log order. `LogState` accumulates events into what a view needs;
`LogFollower` is the one thin I/O piece: it reads only what was appended to a file.

Lines end at ``\\n`` or ``\\r``; inside a line darknet's screen clears (``\\033[H\\033[J``),
other escape sequences and the bell split it into pieces, each parsed on its own.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Union

import numpy as np

from enet4y2 import _logscan as scan

#: Lines longer than this are noise (darknet's lines are short): they are skipped whole,
#: however the bytes were chunked, so memory stays bounded on a file with no newlines.
MAX_LINE = 64 * 1024
#: Column order of iteration rows (`LogParser.feed_table`, `LogState.columns`).
ITERATION_COLUMNS = ("iteration", "loss", "avg_loss", "rate", "seconds", "images", "hours_left")


@dataclass(frozen=True)
class Iteration:
    """One training iteration: ` 5: 11.5, 80.7 avg loss, 0.001 rate, 0.5 seconds, ...`.

    Floats may be nan (darknet prints `nan`/`-nan` when training diverges); fields a
    line does not carry (old formats) are nan, `images` 0.
    """

    iteration: int
    loss: float
    avg_loss: float
    rate: float
    seconds: float
    images: int
    hours_left: float

    @property
    def diverged(self) -> bool:
        """True when the avg loss is nan or infinite: training has diverged."""
        return not math.isfinite(self.avg_loss)


@dataclass(frozen=True)
class MapReport:
    """A mAP@0.5 computed during training (`-map`), as a fraction 0..1."""

    iteration: int | None  # the last iteration seen before it
    map50: float
    best: float | None  # best mAP@0.5 so far in this run (segment), when known


@dataclass(frozen=True)
class Complaint:
    """Something darknet complained about: bad labels, unreadable images, errors."""

    kind: str
    text: str


Event = Union[Iteration, MapReport, Complaint]  # noqa: UP007 (runtime alias on 3.10)

_NUM = rb"[-+]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|nan|inf(?:inity)?)(?:\([a-z]*\))?"
_ITER = re.compile(
    rb"^\s*(\d+): (" + _NUM + rb"), (" + _NUM + rb") avg(?: loss)?"
    rb"(?:, (" + _NUM + rb") rate(?:, (" + _NUM + rb") seconds(?:, (\d+) images"
    rb"(?:, (" + _NUM + rb") hours left)?)?)?)?",
    re.IGNORECASE,
)
# The seed's avgout.py regex `([0-9.]+):.* +([0-9.]+) *avg`, iteration as an integer.
_SEED = re.compile(rb"(?<![0-9.])(\d+):.* +([0-9.]+) *avg")
_STATUS = re.compile(rb"^\s*(\d+)/(\d+): loss=")
_MAP_VALIDATE = re.compile(rb"mean average precision \(mAP@(" + _NUM + rb")\) = (" + _NUM + rb")")
_MAP_TRAIN = re.compile(rb"mean_average_precision \(mAP@(" + _NUM + rb")\) = (" + _NUM + rb")")
_MAP_LAST = re.compile(
    rb"Last accuracy mAP@(" + _NUM + rb") = (" + _NUM + rb") %, best = (" + _NUM + rb") %"
)
# Escape sequences (CSI and two-byte), the bell and other C0 controls split a line.
_SPLIT = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]?|[\x00-\x08\x0b-\x1f\x7f]+")
_EOL = re.compile(rb"[\r\n]")

#: (marker, kind), first match wins; texts as upstream darknet prints them.
_COMPLAINTS: tuple[tuple[bytes, str], ...] = (
    (b"Wrong annotation:", "wrong_annotation"),
    (b"Warning: in txt-labels class_id=", "wrong_annotation"),
    (b"Wrong label:", "wrong_label"),
    (b"Cannot load image", "cannot_load_image"),
    (b"Can't open label file", "missing_label"),
    (b"Couldn't open file:", "cannot_open_file"),
    (b"CUDA Error", "cuda_error"),
    (b"CUDA status", "cuda_error"),
    (b"out of memory", "out_of_memory"),
    (b"Darknet error location:", "darknet_error"),
    (b"bad.list", "bad_list"),
    (b"bad_label.list", "bad_list"),
    (b"double free or corruption", "crash"),
    (b"invalid next size", "crash"),
    (b"Segmentation fault", "crash"),
)

_ANY_COMPLAINT = re.compile(b"|".join(re.escape(marker) for marker, _ in _COMPLAINTS))


def parse_number(text: bytes) -> float:
    """A darknet-printed float: `1.5`, `nan`, `-nan`, `-nan(ind)`, `inf` (never raises)."""
    cut = text.find(b"(")
    if cut >= 0:
        text = text[:cut]
    try:
        return float(text)
    except ValueError:
        return math.nan


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
        first = _EOL.search(data)
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
        for line in _EOL.split(block):
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
        kind = _line_kind(line)
        if kind == "ignored":
            return
        for piece in _SPLIT.split(line):
            if not piece.strip():
                continue
            if kind == "generic":
                self._piece(piece, out)
                continue
            m = _STATUS.match(piece)
            if m:
                self.max_batches = int(m.group(2))
            elif kind == "last_accuracy" and b"mAP@" in piece:
                self._map_last(piece, out)

    def _piece(self, piece: bytes, out: list) -> None:
        route, value = _route(piece)
        if route == "iteration":
            self._iteration(value, out)
        elif route == "map":
            if not self._map_calc(piece, out):
                self._map_last(piece, out)
        elif route == "status":
            self.max_batches = value
        elif route == "other":
            kind = complaint_kind(piece)
            if kind is not None:
                out.append(Complaint(kind, piece.decode("utf-8", "replace").strip()))

    def _iteration(self, it: Iteration, out: list) -> None:
        if self._last_iteration is not None and it.iteration <= self._last_iteration:
            self._best = None  # a resumed or restarted run: darknet's best starts over
        self._last_iteration = it.iteration
        self._map_since_iteration = False
        out.append(it)

    def _map_calc(self, piece: bytes, out: list) -> bool:
        m = _MAP_VALIDATE.search(piece) or _MAP_TRAIN.search(piece)
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
        m = _MAP_LAST.search(piece)
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


def _line_kind(line: bytes) -> str:
    if line.startswith(scan.IGNORED_PREFIXES):
        return "ignored"
    if line.startswith(scan.STATUS_PREFIXES):
        return "status"
    if line.startswith(scan.LAST_ACCURACY_PREFIX):
        return "last_accuracy"
    return "generic"


def _route(piece: bytes) -> tuple[str, object]:
    """Where a piece of a generic line goes: iteration, map, status or other."""
    if b"avg" in piece:
        it = parse_iteration(piece)
        if it is not None:
            return "iteration", it
    if b"mAP@" in piece:
        return "map", None
    if b": loss=" in piece:
        m = _STATUS.match(piece)
        if m:
            return "status", int(m.group(2))
    return "other", None


def line_status(line: bytes) -> int | None:
    """max_batches from the last status piece of a line, as `LogParser` reads lines."""
    kind = _line_kind(line)
    if kind == "ignored":
        return None
    found = None
    for piece in _SPLIT.split(line):
        if kind == "generic":
            route, value = _route(piece)
            if route == "status":
                found = value
        else:
            m = _STATUS.match(piece)
            if m:
                found = int(m.group(2))
    return found


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


def parse_iteration(piece: bytes) -> Iteration | None:
    """The iteration a line (piece) reports, or None; accepts what the seed's regex does."""
    m = _ITER.match(piece)
    if m is not None:
        g = m.groups()
        return Iteration(
            int(g[0]),
            parse_number(g[1]),
            parse_number(g[2]),
            parse_number(g[3]) if g[3] is not None else math.nan,
            parse_number(g[4]) if g[4] is not None else math.nan,
            int(g[5]) if g[5] is not None else 0,
            parse_number(g[6]) if g[6] is not None else math.nan,
        )
    m = _SEED.search(piece)
    if m is None:
        return None
    avg = parse_number(m.group(2))
    if math.isnan(avg):  # `[0-9.]+` matched dots only
        return None
    nan = math.nan
    return Iteration(int(m.group(1)), nan, avg, nan, nan, 0, nan)


def complaint_kind(piece: bytes) -> str | None:
    """The kind of darknet complaint a piece of a line is, or None."""
    if _ANY_COMPLAINT.search(piece) is None:
        return None
    for marker, kind in _COMPLAINTS:
        if marker in piece:
            return kind
    return None


def __getattr__(name: str):
    # LogState and LogFollower live in enet4y2.logstate (which imports this module).
    if name in ("LogState", "LogFollower", "Segment"):
        from enet4y2 import logstate

        return getattr(logstate, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
