"""darknet's training-log lines, pure: the events they carry (`Iteration`, `MapReport`,
`Complaint`) and how one line (or a piece of one) is read. Formats are upstream's
(FACTS.md): ` 5: 11.5, 80.7 avg loss, 0.001 rate, 0.5 seconds, 20 images, 0.006 hours
left`, `mean_average_precision (mAP@0.50) = 0.45`, `Last accuracy mAP@0.50 = 45.20 %, ...`,
`5/500200: loss=...`, and the complaints darknet prints about data and crashes.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Union

from enet4y2.log import scan

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
STATUS = re.compile(rb"^\s*(\d+)/(\d+): loss=")
MAP_VALIDATE = re.compile(rb"mean average precision \(mAP@(" + _NUM + rb")\) = (" + _NUM + rb")")
MAP_TRAIN = re.compile(rb"mean_average_precision \(mAP@(" + _NUM + rb")\) = (" + _NUM + rb")")
MAP_LAST = re.compile(
    rb"Last accuracy mAP@(" + _NUM + rb") = (" + _NUM + rb") %, best = (" + _NUM + rb") %"
)
# Escape sequences (CSI and two-byte), the bell and other C0 controls split a line.
SPLIT = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]?|[\x00-\x08\x0b-\x1f\x7f]+")
EOL = re.compile(rb"[\r\n]")

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


def line_kind(line: bytes) -> str:
    if line.startswith(scan.IGNORED_PREFIXES):
        return "ignored"
    if line.startswith(scan.STATUS_PREFIXES):
        return "status"
    if line.startswith(scan.LAST_ACCURACY_PREFIX):
        return "last_accuracy"
    return "generic"


def route(piece: bytes) -> tuple[str, object]:
    """Where a piece of a generic line goes: iteration, map, status or other."""
    if b"avg" in piece:
        it = parse_iteration(piece)
        if it is not None:
            return "iteration", it
    if b"mAP@" in piece:
        return "map", None
    if b": loss=" in piece:
        m = STATUS.match(piece)
        if m:
            return "status", int(m.group(2))
    return "other", None


def line_status(line: bytes) -> int | None:
    """max_batches from the last status piece of a line, as `LogParser` reads lines."""
    kind = line_kind(line)
    if kind == "ignored":
        return None
    found = None
    for piece in SPLIT.split(line):
        if kind == "generic":
            where, value = route(piece)
            if where == "status":
                found = value
        else:
            m = STATUS.match(piece)
            if m:
                found = int(m.group(2))
    return found


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
