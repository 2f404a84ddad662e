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

#: Lines that carry nothing (load time, per-head loss lines from stderr, bbox counts).
IGNORED_PREFIXES = (b"Loaded: ", b"v3 (", b" total_bbox = ", b" Tensor Cores ")
#: Lines that carry darknet's status line (`5/500: loss=...`) and nothing else.
STATUS_PREFIXES = (b"\x1b[H\x1b[J", b" (next mAP calcul")
#: Repeated every iteration once mAP is known; also only status besides.
LAST_ACCURACY_PREFIX = b" Last accuracy mA"

# The literals between the fields of the canonical iteration line.
_SEPARATORS = (b": ", b", ", b" avg loss, ", b" rate, ", b" seconds, ", b" images, ",
               b" hours left")
_INT_FIELDS = (0, 5)  # iteration and images; the others are %f floats
_POW10 = 10 ** np.arange(19, dtype=np.int64)


def line_bounds(a: np.ndarray, has_cr: bool) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (terminator position) of every line of a block whose last byte is a
    terminator; `has_cr` says whether `\r` occurs (bytes.find is cheaper than a pass)."""
    ends = np.flatnonzero(a == _NL)
    if has_cr:
        crs = np.flatnonzero(a == _CR)
        ends = np.insert(ends, np.searchsorted(ends, crs), crs)
    starts = np.empty_like(ends)
    if len(ends):
        starts[0] = 0
        starts[1:] = ends[:-1] + 1
    return starts, ends


def u64_view(a: np.ndarray) -> np.ndarray:
    """Unaligned little-endian uint64 at every byte offset (len(a) - 7 of them)."""
    return np.ndarray(shape=(max(len(a) - 7, 0),), dtype="<u8", buffer=a, strides=(1,))


def _prefix(keys: tuple[np.ndarray, np.ndarray], lit: bytes) -> np.ndarray:
    lo, hi = keys
    ok = np.ones(len(lo), dtype=bool)
    for part, word in ((lit[:8], lo), (lit[8:16], hi)):
        if part:
            mask = np.uint64((1 << (8 * len(part))) - 1)
            ok &= (word & mask) == np.uint64(int.from_bytes(part, "little"))
    return ok


def classify(a: np.ndarray, view: np.ndarray, starts: np.ndarray,
             ends: np.ndarray) -> np.ndarray:
    """Kind of each line by its first bytes; lines too close to the block's end for the
    16-byte reads stay OTHER (the per-line parser takes them)."""
    kinds = np.zeros(len(starts), dtype=np.int8)
    safe = ends + 24 <= len(a)
    idx = np.flatnonzero(safe)
    s = starts[idx]
    keys = (view[s], view[s + 8])
    k = np.zeros(len(idx), dtype=np.int8)
    for lit in IGNORED_PREFIXES:
        k[_prefix(keys, lit)] = IGNORED
    for lit in STATUS_PREFIXES:
        k[_prefix(keys, lit)] = STATUSISH
    k[_prefix(keys, LAST_ACCURACY_PREFIX)] = LAST_ACCURACY
    b0 = (keys[0] & np.uint64(0xFF)).astype(np.uint8)
    b1 = ((keys[0] >> np.uint64(8)) & np.uint64(0xFF)).astype(np.uint8)
    k[(b0 == 32) & ((b1 - _ZERO) < 10) & (ends[idx] - s > 60)] = ITERATION
    kinds[idx] = k
    return kinds


def _window(view: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """The 16 bytes at each position, as an (n, 16) uint8 array."""
    both = np.empty((len(pos), 2), dtype="<u8")
    both[:, 0] = view[pos]
    both[:, 1] = view[pos + 8]
    return both.view(np.uint8).reshape(len(pos), 16)


def _digits(w: np.ndarray, ok: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """Leading decimal digits of each window row: (value, count); rows with none or more
    than `limit` are marked not ok."""
    n = len(w)
    value = np.zeros(n, dtype=np.int64)
    count = np.zeros(n, dtype=np.int64)
    alive = ok.copy()
    for j in range(limit + 1):
        d = w[:, j] - np.uint8(_ZERO)
        alive &= d < 10
        if not alive.any():
            break
        if j == limit:
            ok &= ~alive  # too many digits
            break
        value = np.where(alive, value * 10 + d, value)
        count += alive
    ok &= count > 0
    return value, count


def _literal(view: np.ndarray, pos: np.ndarray, lit: bytes, ok: np.ndarray) -> None:
    for i in range(0, len(lit), 8):
        part = lit[i : i + 8]
        mask = np.uint64((1 << (8 * len(part))) - 1)
        ok &= (view[pos + i] & mask) == np.uint64(int.from_bytes(part, "little"))


def parse_iterations(a: np.ndarray, view: np.ndarray, starts: np.ndarray,
                     ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Parse canonical iteration lines. Returns rows (n, 7: iteration, loss, avg_loss, rate,
    seconds, images, hours_left) and a mask of the lines that were exactly canonical."""
    n = len(starts)
    rows = np.zeros((n, 7), dtype=np.float64)
    ok = np.ones(n, dtype=bool)
    pos = starts + 1
    limit = len(view) - 16
    for field in range(7):
        ok &= pos <= limit
        pos = np.where(ok, pos, 0)
        w = _window(view, pos)
        if field in _INT_FIELDS:
            value, count = _digits(w, ok, 15)
            rows[:, field] = value
            pos = pos + count
        else:
            whole, count = _digits(w, ok, 8)
            ok &= w[np.arange(n), np.minimum(count, 15)] == _DOT
            frac_cols = np.minimum(count[:, None] + np.arange(1, 7), 15)
            frac = np.take_along_axis(w, frac_cols, axis=1) - np.uint8(_ZERO)
            ok &= (frac < 10).all(axis=1) & (count <= 8)
            frac_value = (frac.astype(np.int64) * _POW10[5::-1]).sum(axis=1)
            # One correctly rounded division: equals float() of the printed text.
            rows[:, field] = (whole * 1_000_000 + frac_value) / 1e6
            pos = pos + count + 7
        sep = _SEPARATORS[field]
        ok &= pos + len(sep) <= limit
        pos = np.where(ok, pos, 0)
        _literal(view, pos, sep, ok)
        pos = pos + len(sep)
    ok &= pos == ends
    return rows, ok
