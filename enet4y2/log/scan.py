"""Vectorized (numpy) scanning of a block of complete darknet log lines.

Pure helpers for `LogParser`'s bulk path: split a block into lines, classify lines by
their first bytes, and parse darknet's canonical iteration line
` N: F, F avg loss, F rate, F seconds, N images, F hours left` (F = digits, a dot and six
decimals, as printf's %f writes) for all lines at once. Anything that is not exactly
canonical is left to the per-line parser, so both paths give the same result.
"""

from __future__ import annotations

import numpy as np

_NL, _CR, _ZERO = 10, 13, 48

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
# Packed-bit masks keeping the first `length` columns, for each length.
_LENGTH_MASK = np.packbits(
    np.arange(_LINE)[None, :] < np.arange(_LINE)[:, None], axis=1).view("<u8")
#: Layouts told apart one by one (a pass each) before sorting takes over.
_FEW_LAYOUTS = 24


def parse_iterations(a: np.ndarray, starts: np.ndarray,
                     ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Parse canonical iteration lines. Returns rows (n, 7: iteration, loss, avg_loss, rate,
    seconds, images, hours_left) and a mask of the lines that were exactly canonical.

    Lines are grouped by their layout (length and where the digits are); each layout is
    checked against the canonical template once, then every line of the group word by
    word, and its numbers are read from fixed columns, eight digits per 64-bit word."""
    n = len(starts)
    rows = np.zeros((n, 7), dtype=np.float64)
    ok = np.zeros(n, dtype=bool)
    lens = ends - starts
    idx = np.flatnonzero((lens < _LINE) & (starts + _LINE <= len(a)))
    if not len(idx):
        return rows, ok
    starts, lens = starts[idx], lens[idx]
    lines = np.lib.stride_tricks.as_strided(a, (len(a) - _LINE + 1, _LINE), (1, 1))[starts]
    digit = (lines - np.uint8(_ZERO)) < 10  # includes the next line's bytes: masked below
    words = np.packbits(digit, axis=1).view("<u8") & _LENGTH_MASK[lens]
    for members in _layouts(words[:, 0], words[:, 1], lens):
        first = int(members[0])
        _parse_group(lines[members], int(lens[first]), digit[first], idx[members], rows, ok)
    return rows, ok


def _layouts(w0: np.ndarray, w1: np.ndarray, lens: np.ndarray):
    """Indices of the lines sharing each (digit bits, length) layout: usually a handful,
    told apart a pass each; many (a pathological log) are sorted."""
    rest = np.arange(len(lens))
    for _ in range(_FEW_LAYOUTS):
        if not len(rest):
            return
        r = rest[0]
        same = (w0[rest] == w0[r]) & (w1[rest] == w1[r]) & (lens[rest] == lens[r])
        yield rest[same]
        rest = rest[~same]
    if not len(rest):
        return
    order = rest[np.lexsort((lens[rest], w1[rest], w0[rest]))]
    change = ((w0[order[1:]] != w0[order[:-1]]) | (w1[order[1:]] != w1[order[:-1]])
              | (lens[order[1:]] != lens[order[:-1]]))
    yield from np.split(order, np.flatnonzero(change) + 1)


_SWAR = ((np.uint64(0x0F0F0F0F0F0F0F0F), np.uint64(2561), np.uint64(8)),
         (np.uint64(0x00FF00FF00FF00FF), np.uint64(6553601), np.uint64(16)),
         (np.uint64(0x0000FFFF0000FFFF), np.uint64(42949672960001), np.uint64(32)))


def _eight_digits(v: np.ndarray) -> np.ndarray:
    """The numbers eight ASCII digits make, each read as a little-endian 64-bit word
    (first digit in the lowest byte); zero bytes count as leading zeros."""
    for mask, mul, shift in _SWAR:
        v = ((v & mask) * mul) >> shift
    return v


def _parse_group(lines: np.ndarray, size: int, pattern: np.ndarray, where: np.ndarray,
                 rows: np.ndarray, ok: np.ndarray) -> None:
    """One layout: lines of `size` bytes, digits where `pattern` says (the same for every
    line: the caller grouped them so). Each column is one integer of at most 15 digits (a
    float's integer and decimal digits together), read eight digits per 64-bit word; one
    correctly rounded division then gives what float() gives for the printed text."""
    runs = _runs(pattern[:size])
    if len(runs) != 12:
        return
    rep = lines[0, :size].tobytes()
    gaps = [rep[: runs[0][0]]] + [rep[runs[i][1] : runs[i + 1][0]] for i in range(11)]
    gaps.append(rep[runs[-1][1] :])
    if tuple(gaps) != _TEMPLATE:
        return
    # Every column's digits, cut into pieces of at most eight: (start, length, column,
    # digits after the piece in its column).
    pieces = []
    for column, (whole, frac) in enumerate(_FIELDS):
        spans = [runs[whole]] if frac is None else [runs[whole], runs[frac]]
        cuts = [(p, min(8, e - p)) for s, e in spans for p in range(s, e, 8)]
        after = sum(length for _, length in cuts)
        if after > 15:
            return  # beyond exact float64 integers: the per-line parser takes them
        for start, length in cuts:
            after -= length
            pieces.append((start, length, column, after))
    # Non-digit bytes as the representative's; digits as 8-byte words, left-aligned.
    fixed = np.zeros(_LINE, dtype=np.uint8)
    fixed[:size] = ~pattern[:size] * np.uint8(0xFF)
    words_needed = (size + 7) // 8
    fixed_words = fixed.view("<u8")[:words_needed]
    line_words = lines.view("<u8")[:, :words_needed]
    differ = (line_words ^ line_words[0]) & fixed_words
    while differ.shape[1] > 1:  # OR the words of each line together, halving
        half = differ.shape[1] // 2
        folded = differ[:, :half] | differ[:, half : 2 * half]
        if differ.shape[1] % 2:
            folded[:, 0] |= differ[:, -1]
        differ = folded
    good = differ[:, 0] == 0
    # The 8 bytes at every column of every line (unaligned, no copy), then the pieces'.
    at = np.ndarray((len(lines), _LINE - 7), dtype="<u8", buffer=lines, strides=(_LINE, 1))
    words = at[:, [start for start, _, _, _ in pieces]]
    # Keep each piece's digits, moved to the top bytes: the bytes below read as zeros.
    keep_digits = np.array([(1 << 8 * n) - 1 for _, n, _, _ in pieces], dtype=np.uint64)
    shifts = np.array([8 * (8 - n) for _, n, _, _ in pieces], dtype=np.uint64)
    values = _eight_digits((words & keep_digits) << shifts)
    # Each column: the sum of its pieces times their powers of ten (exact: under 10**15).
    scale = np.array([10**after for _, _, _, after in pieces], dtype=np.uint64)
    scaled = values * scale
    firsts = [j for j, piece in enumerate(pieces) if j == 0 or piece[2] != pieces[j - 1][2]]
    columns = scaled[:, firsts]
    for j in range(len(pieces)):  # a column's further pieces (it has one to three)
        if j not in firsts:
            columns[:, pieces[j][2]] += scaled[:, j]
    columns = columns.astype(np.float64)
    divisors = [1.0 if frac is None else float(10 ** (runs[frac][1] - runs[frac][0]))
                for _, frac in _FIELDS]
    rows[where] = columns / np.array(divisors)  # correctly rounded: what float() gives
    ok[where] = good


def _runs(pattern: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) of each run of True."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], pattern.view(np.int8), [0]))))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))
