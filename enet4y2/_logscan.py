"""Vectorized (numpy) scanning of a block of complete darknet log lines.

Pure helpers for `LogParser`'s bulk path: split a block into lines, classify lines by
their first bytes, and parse darknet's canonical iteration line
` N: F, F avg loss, F rate, F seconds, N images, F hours left` (F = digits, a dot and six
decimals, as printf's %f writes) for all lines at once. Anything that is not exactly
canonical is left to the per-line parser, so both paths give the same result.
"""

from __future__ import annotations

import numpy as np

_NL, _CR, _DOT, _ZERO = 10, 13, 46, 48

#: Line kinds.
OTHER, IGNORED, STATUSISH, LAST_ACCURACY, ITERATION = 0, 1, 2, 3, 4

# Prefixes are at most 8 bytes: one 8-byte read tells them apart.
#: Lines that carry nothing: load time, per-head losses and bbox counts (stderr), Tensor
#: Core notes, per-class AP of a mAP calculation.
IGNORED_PREFIXES = (b"Loaded: ", b"v3 (", b" total_b", b" Tensor ", b"class_id")
#: Lines that carry darknet's status line (`5/500: loss=...`) and nothing else.
STATUS_PREFIXES = (b"\x1b[H\x1b[J", b" (next m")
#: Repeated every iteration once mAP is known; also only status besides.
LAST_ACCURACY_PREFIX = b" Last ac"

# The literals between the fields of the canonical iteration line.
_SEPARATORS = (b": ", b", ", b" avg loss, ", b" rate, ", b" seconds, ", b" images, ",
               b" hours left")
_INT_FIELDS = (0, 5)  # iteration and images; the others are %f floats
def line_bounds(a: np.ndarray, crs: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (terminator position) of every line of a block whose last byte is a
    terminator. `crs`: positions of `\r` when known (usually few), else None."""
    ends = np.flatnonzero(a == _NL)
    if crs is None:
        crs = np.flatnonzero(a == _CR)
    if len(crs):
        ends = np.insert(ends, np.searchsorted(ends, crs), crs)
    starts = np.empty_like(ends)
    if len(ends):
        starts[0] = 0
        starts[1:] = ends[:-1] + 1
    return starts, ends


def u64_view(a: np.ndarray) -> np.ndarray:
    """Unaligned little-endian uint64 at every byte offset (len(a) - 7 of them)."""
    return np.ndarray(shape=(max(len(a) - 7, 0),), dtype="<u8", buffer=a, strides=(1,))


_PREFIXES = (
    [(lit, IGNORED) for lit in IGNORED_PREFIXES]
    + [(lit, STATUSISH) for lit in STATUS_PREFIXES]
    + [(LAST_ACCURACY_PREFIX, LAST_ACCURACY)]
)


def _matches(view: np.ndarray, starts: np.ndarray, lit: bytes) -> np.ndarray:
    ok = np.ones(len(starts), dtype=bool)
    for i in range(0, len(lit), 8):
        part = lit[i : i + 8]
        mask = np.uint64((1 << (8 * len(part))) - 1)
        ok &= (view[starts + i] & mask) == np.uint64(int.from_bytes(part, "little"))
    return ok


def classify(a: np.ndarray, view: np.ndarray, starts: np.ndarray,
             ends: np.ndarray) -> np.ndarray:
    """Kind of each line by its first bytes; lines too close to the end of `a` for the
    16-byte reads stay OTHER (the per-line parser takes them)."""
    kinds = np.zeros(len(starts), dtype=np.int8)
    idx = np.flatnonzero(ends + 24 <= len(a))
    s = starts[idx]
    first = view[s]
    head = (first & np.uint64(0xFFFFFFFF)).astype(np.uint32)  # first 4 bytes: cheap test
    k = np.zeros(len(idx), dtype=np.int8)
    for lit, kind in _PREFIXES:
        hit = np.flatnonzero(head == np.uint32(int.from_bytes(lit[:4], "little")))
        if len(lit) > 4 and len(hit):
            hit = hit[_matches(view, s[hit], lit)]
        k[hit] = kind
    b0 = (head & np.uint32(0xFF)).astype(np.uint8)
    b1 = ((head >> np.uint32(8)) & np.uint32(0xFF)).astype(np.uint8)
    k[(b0 == 32) & ((b1 - np.uint8(_ZERO)) < 10) & (ends[idx] - s > 60)] = ITERATION
    kinds[idx] = k
    return kinds


#: The canonical line without its 12 digit runs (iteration, loss int/frac, avg int/frac,
#: rate int/frac, seconds int/frac, images, hours_left int/frac).
_TEMPLATE = (b" ", b": ", b".", b", ", b".", b" avg loss, ", b".", b" rate, ", b".",
             b" seconds, ", b" images, ", b".", b" hours left")
#: Which digit runs make each column: (int run, frac run or None).
_FIELDS = ((0, None), (1, 2), (3, 4), (5, 6), (7, 8), (9, None), (10, 11))
_LINE = 128  # canonical lines are shorter than this
_POW10 = 10 ** np.arange(19, dtype=np.int64)
# Packed-bit masks keeping the first `length` columns, for each length.
_LENGTH_MASK = np.packbits(
    np.arange(_LINE)[None, :] < np.arange(_LINE)[:, None], axis=1).view("<u8")


def parse_iterations(a: np.ndarray, starts: np.ndarray,
                     ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Parse canonical iteration lines. Returns rows (n, 7: iteration, loss, avg_loss, rate,
    seconds, images, hours_left) and a mask of the lines that were exactly canonical.

    Lines are grouped by their layout (where the digits are); each layout is checked
    against the canonical template once, then every line of the group byte by byte, and
    its numbers are read from fixed columns."""
    n = len(starts)
    rows = np.zeros((n, 7), dtype=np.float64)
    ok = np.zeros(n, dtype=bool)
    lens = ends - starts
    idx = np.flatnonzero((lens < _LINE) & (starts + _LINE <= len(a)))
    if not len(idx):
        return rows, ok
    lines = np.lib.stride_tricks.as_strided(a, (len(a) - _LINE + 1, _LINE), (1, 1))[starts[idx]]
    lens = lens[idx]
    digit = (lines - np.uint8(_ZERO)) < 10  # includes the next line's bytes: masked below
    words = np.packbits(digit, axis=1).view("<u8") & _LENGTH_MASK[lens]
    key = (words[:, 0] * np.uint64(0x9E3779B97F4A7C15)) ^ words[:, 1] ^ lens.astype(np.uint64)
    _, group_of = np.unique(key, return_inverse=True)
    order = np.argsort(group_of, kind="stable")
    bounds = np.flatnonzero(np.diff(group_of[order])) + 1
    for members in np.split(order, bounds):
        same = (words[members] == words[members[0]]).all(axis=1)  # the key is a hash
        _parse_group(lines[members], lens[members] * same, digit[members[0]], idx[members],
                     rows, ok)
    return rows, ok


def _parse_group(lines: np.ndarray, lens: np.ndarray, pattern: np.ndarray, where: np.ndarray,
                 rows: np.ndarray, ok: np.ndarray) -> None:
    """One layout: `pattern` (where the digits are) is the same for every line whose
    `lens` is the first one's (others are zeroed by the caller)."""
    size = int(lens[0])
    runs = _runs(pattern[:size])
    if len(runs) != 12:
        return
    rep = lines[0, :size].tobytes()
    gaps = [rep[: runs[0][0]]] + [rep[runs[i][1] : runs[i + 1][0]] for i in range(11)]
    gaps.append(rep[runs[-1][1] :])
    if tuple(gaps) != _TEMPLATE:
        return
    fixed = np.flatnonzero(~pattern[:size])
    good = (lens == size) & (lines[:, fixed] == lines[0, fixed]).all(axis=1)
    values = []
    for s, e in runs:
        if e - s > 15:
            return
        digits = lines[:, s:e].astype(np.int64) - _ZERO
        values.append(digits @ _POW10[e - s - 1 :: -1])
    for column, (whole, frac) in enumerate(_FIELDS):
        if frac is None:
            rows[where, column] = values[whole]
            continue
        places = runs[frac][1] - runs[frac][0]
        if (runs[whole][1] - runs[whole][0]) + places > 15:
            return  # beyond exact float64 integers: the per-line parser takes them
        # One correctly rounded division: equals float() of the printed text.
        rows[where, column] = (values[whole] * _POW10[places] + values[frac]) / float(
            _POW10[places])
    ok[where] = good


def _runs(pattern: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) of each run of True."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], pattern.view(np.int8), [0]))))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))
