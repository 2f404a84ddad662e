"""The C library as darknet's cfg reader uses it, as pure functions: `fgetl` (utils.c)
splitting a file into lines, `strip` (utils.c), `atoi` and `atof`, and C's 32-bit `int`.

Darknet splits lines at b"\\n" only; a CR is dropped only where `fgetl` or `strip` drop it;
a NUL byte ends a line's text and glues the next line onto it (`strlen` after `fgets`);
form feeds, vertical tabs, U+0085 and U+2028 are ordinary bytes to it.
"""

from __future__ import annotations

import math
import re

INT_MAX = 2**31 - 1
INT_MIN = -(2**31)
_LONG_MAX = 2**63 - 1
_LONG_MIN = -(2**63)
#: C's isspace in the "C" locale (what strtol/strtod skip).
C_SPACE = " \t\n\v\f\r"
#: What darknet's strip() removes from every line (utils.c).
STRIP_BYTES = b" \t\n\r"

_INT = re.compile(r"[-+]?\d+")
_FLOAT = re.compile(
    r"[-+]?(?:0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][-+]?\d+)?"
    r"|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
    r"|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?"
    r"|[nN][aA][nN](?:\([0-9A-Za-z_]*\))?)"
)


def fgetl_lines(data: bytes) -> list[bytes]:
    """The lines `fgetl` returns for a file's bytes, in order (line N is item N-1).

    fgetl reads with fgets into a growing buffer and measures it with strlen, so a NUL
    cuts the text there and what the next fgets reads (the rest of a long line, or the
    next line) is appended; it then drops a b"\\r" just before the end (even when the
    line has no b"\\n") or one trailing b"\\n"."""
    reader = _Stream(data)
    lines: list[bytes] = []
    while not reader.eof:
        size = 512
        chunk = reader.fgets(size)
        if chunk is None:
            break
        text = chunk.split(b"\0", 1)[0]
        while not text.endswith(b"\n") and not reader.eof:
            if len(text) == size - 1:
                size *= 2
            more = reader.fgets(size - len(text))
            if more is None:
                break
            text += more.split(b"\0", 1)[0]
        if len(text) >= 2 and text[-2] == 0x0D:
            text = text[:-2]  # line[curr-2] = 0 also cuts the last byte
        elif text.endswith(b"\n"):
            text = text[:-1]
        lines.append(text)
    return lines


class _Stream:
    """A FILE* for fgets: `eof` is set once a read runs into the end of the data."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos, self.eof = data, 0, False

    def fgets(self, size: int) -> bytes | None:
        """At most size-1 bytes, stopping after a b"\\n"; None at the end."""
        data, pos = self.data, self.pos
        limit = pos + size - 1
        nl = data.find(b"\n", pos, limit)
        stop = nl + 1 if nl >= 0 else min(limit, len(data))
        if nl < 0 and limit > len(data):
            self.eof = True  # it tried to read past the last byte
        self.pos = stop
        return data[pos:stop] or None


def strip(line: bytes) -> bytes:
    """darknet's strip(): every space, tab, CR and LF removed, wherever it is."""
    return line.translate(None, STRIP_BYTES)


def wrap_int(value: int) -> int:
    """`value` stored in a C int (two's complement, as gcc does on x86-64)."""
    return (value - INT_MIN) % 2**32 + INT_MIN


def overflows_int(value: int) -> bool:
    return not INT_MIN <= value <= INT_MAX


def atoi(text: str) -> int:
    """glibc's atoi: (int)strtol(text, NULL, 10) — leading C spaces, a sign, digits;
    0 without digits; strtol saturates at LONG_MAX/LONG_MIN, then the cast wraps."""
    m = _INT.match(text.lstrip(C_SPACE))
    if not m:
        return 0
    value = min(max(int(m.group(0)), _LONG_MIN), _LONG_MAX)
    return wrap_int(value)


def atof(text: str) -> float:
    """glibc's atof (strtod): the longest leading number (decimal, hex, inf, nan)."""
    m = _FLOAT.match(text.lstrip(C_SPACE))
    if not m:
        return 0.0
    token = m.group(0)
    low = token.lower().lstrip("+-")
    sign = -1.0 if token.startswith("-") else 1.0
    if low.startswith("inf"):
        return sign * math.inf
    if low.startswith("nan"):
        return math.nan
    if "x" in low:
        return sign * _hex_float(low)
    try:
        return float(token)
    except OverflowError:  # pragma: no cover - float() returns inf instead
        return sign * math.inf


def _hex_float(low: str) -> float:
    body = low[2:]
    if "p" not in body:
        body += "p0"
    mantissa, _, exponent = body.partition("p")
    if mantissa.startswith("."):
        mantissa = "0" + mantissa
    try:
        return float.fromhex(f"0x{mantissa}p{exponent}")
    except OverflowError:
        return math.inf


def leading_number(text: str) -> str:
    """The part of `text` atof reads ("" when none), to say what darknet ignores."""
    m = _FLOAT.match(text.lstrip(C_SPACE))
    return m.group(0) if m else ""


def cdiv(a: int, b: int) -> int:
    """C's integer division (truncates toward zero); the caller rules out b == 0."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def cmod(a: int, b: int) -> int:
    """C's % (the sign follows a)."""
    return a - cdiv(a, b) * b


def list_count(value: str, stop_at_hash: bool) -> int:
    """How many items darknet counts in a comma list: commas + 1, up to the first `#`
    for the lists whose counting loop stops there (steps, mask, anchors of [yolo])."""
    text = value.split("#", 1)[0] if stop_at_hash else value
    return text.count(",") + 1


def list_items(value: str, count: int) -> list[str] | None:
    """The texts atoi/atof see for `count` items (darknet steps with strchr(p, ',') + 1);
    None when the value has too few commas, where darknet reads from address 1 and
    crashes."""
    parts = value.split(",")
    if len(parts) < count:
        return None
    return [",".join(parts[i:]) for i in range(count)]
