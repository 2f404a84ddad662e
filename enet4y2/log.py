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

#: Lines longer than this are noise (darknet's lines are short): they are skipped whole,
#: however the bytes were chunked, so memory stays bounded on a file with no newlines.
MAX_LINE = 64 * 1024


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


def parse_number(text: bytes) -> float:
    """A darknet-printed float: `1.5`, `nan`, `-nan`, `-nan(ind)`, `inf` (never raises)."""
    cut = text.find(b"(")
    if cut >= 0:
        text = text[:cut]
    try:
        return float(text)
    except ValueError:
        return math.nan


class LogParser:
    """Incremental, pure: `feed(bytes)` returns the events of the lines completed so far.

    A partial last line is kept until its end arrives (or `flush()`); feeding a text in
    chunks split anywhere gives the same events as feeding it whole.
    """

    def __init__(self) -> None:
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
        events: list[Event] = []
        end = max(data.rfind(b"\n"), data.rfind(b"\r"))
        if end < 0:
            self._hold(data)
            return events
        block, rest = data[: end + 1], data[end + 1 :]
        first = _EOL.search(block)
        assert first is not None
        head = block[: first.start()]
        if self._skipping or len(self._tail) + len(head) > MAX_LINE:
            self._skipping = False
        else:
            self._line(self._tail + head, events)
        self.offset += len(self._tail) + first.end()
        self._tail = b""
        self._block(block[first.end() :], events)
        self.offset += len(block) - first.end()
        self._hold(rest)
        return events

    def flush(self) -> list[Event]:
        """End of input: parse the pending partial line, if any."""
        events: list[Event] = []
        if self._tail and not self._skipping:
            self._line(self._tail, events)
        self.offset += len(self._tail)
        self._tail, self._skipping = b"", False
        return events

    def _hold(self, data: bytes) -> None:
        if self._skipping:
            self.offset += len(data)
            return
        if len(self._tail) + len(data) > MAX_LINE:
            self.offset += len(self._tail) + len(data)
            self._tail, self._skipping = b"", True
        else:
            self._tail += data

    def _block(self, block: bytes, events: list[Event]) -> None:
        """Complete lines (each ends with a terminator)."""
        for line in _EOL.split(block):
            if line and len(line) <= MAX_LINE:
                self._line(line, events)

    def _line(self, line: bytes, events: list[Event]) -> None:
        for piece in _SPLIT.split(line):
            if piece.strip():
                self._piece(piece, events)

    def _piece(self, piece: bytes, events: list[Event]) -> None:
        if b"avg" in piece:
            it = parse_iteration(piece)
            if it is not None:
                self._iteration(it, events)
                return
        if b"mAP@" in piece or b"precision (mAP" in piece:
            self._map(piece, events)
            return
        if b": loss=" in piece:
            m = _STATUS.match(piece)
            if m:
                self.max_batches = int(m.group(2))
                return
        kind = complaint_kind(piece)
        if kind is not None:
            events.append(Complaint(kind, piece.decode("utf-8", "replace").strip()))

    def _iteration(self, it: Iteration, events: list[Event]) -> None:
        if self._last_iteration is not None and it.iteration <= self._last_iteration:
            self._best = None  # a resumed or restarted run: darknet's best starts over
        self._last_iteration = it.iteration
        self._map_since_iteration = False
        events.append(it)

    def _map(self, piece: bytes, events: list[Event]) -> None:
        m = _MAP_VALIDATE.search(piece) or _MAP_TRAIN.search(piece)
        if m is not None:
            if parse_number(m.group(1)) != 0.5:
                return
            self._saw_map_calc = True
            if self._map_since_iteration:  # the same calculation, printed twice
                return
            self._map_since_iteration = True
            self._report(parse_number(m.group(2)), events)
            return
        m = _MAP_LAST.search(piece)
        # Repeated every iteration; only logs without the calculation lines need it.
        if m is None or self._saw_map_calc or parse_number(m.group(1)) != 0.5:
            return
        value = (parse_number(m.group(2)), parse_number(m.group(3)))
        if value != self._last_accuracy:
            self._last_accuracy = value
            self._report(value[0] / 100, events, best=value[1] / 100)

    def _report(self, value: float, events: list[Event], best: float | None = None) -> None:
        if math.isfinite(value):
            self._best = max(value, self._best if self._best is not None else value)
        if best is not None and math.isfinite(best):
            self._best = max(best, self._best if self._best is not None else best)
        events.append(MapReport(self._last_iteration, value, self._best))


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
