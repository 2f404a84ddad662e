"""The C library as darknet's reader uses it: fgetl's lines, strip, atoi, atof, C ints.
(tests/darknet/test_cfg_generated.py checks the same against darknet's own read_cfg.)"""

from __future__ import annotations

import math

import pytest

from enet4y2.cfg import clib


@pytest.mark.parametrize(
    ("data", "lines"),
    [
        (b"", []),
        (b"a\nb\n", [b"a", b"b"]),
        (b"a\nb", [b"a", b"b"]),
        (b"a\r\nb\r\n", [b"a", b"b"]),
        (b"[net]\rwidth=1\r", [b"[net]\rwidth=1\r"]),  # CR-only: one line
        (b"ab\rc", [b"ab"]),        # a CR before the last byte cuts that byte too
        (b"a\x0cb\n\x0b\n", [b"a\x0cb", b"\x0b"]),
        ("a\u2028b\u0085c\n".encode(), ["a\u2028b\u0085c".encode()]),
        (b"ab\0cd\nef\n", [b"abef"]),  # a NUL ends the text; the next line is glued on
        (b"\0\nx\n", [b"x"]),
        (b"x" * 600 + b"\0yy\nz\n", [b"x" * 600 + b"z"]),
        # fgets read 511 bytes, strlen stopped at the NUL; the next fgets brings the rest
        (b"x" * 100 + b"\0" + b"y" * 500 + b"k\n", [b"x" * 100 + b"y" * 90 + b"k"]),
    ],
)
def test_fgetl_lines(data, lines):
    assert clib.fgetl_lines(data) == lines


def test_strip_removes_only_what_darknet_removes():
    assert clib.strip(b" a\tb\r\nc ") == b"abc"
    assert clib.strip(b"a\x0cb\x0b") == b"a\x0cb\x0b"


@pytest.mark.parametrize(
    ("text", "value"),
    [("64", 64), ("64#comment", 64), ("  -3", -3), ("\x0c7", 7), ("+5x", 5), ("x5", 0),
     ("", 0), ("- 5", 0), ("2147483648", -2147483648), ("4294967297", 1),
     ("99999999999999999999", -1), ("-99999999999999999999", 0), ("1\u20282", 1)],
)
def test_atoi(text, value):
    assert clib.atoi(text) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [(".1", 0.1), ("1e3x", 1000.0), ("0x10", 16.0), ("0x1p-2", 0.25), ("-inf", -math.inf),
     ("infinity", math.inf), ("1e", 1.0), ("abc", 0.0), ("\x0c2.5", 2.5), ("1e999", math.inf)],
)
def test_atof(text, value):
    assert clib.atof(text) == value
    assert math.isnan(clib.atof("nan(x)"))


def test_c_ints():
    assert clib.wrap_int(2**31) == -(2**31)
    assert clib.wrap_int(16 * (2**31 - 1)) == -16
    assert (clib.cdiv(-7, 2), clib.cmod(-7, 2), clib.cdiv(7, -2)) == (-3, -1, -3)
    assert clib.list_count("1,2#,3", stop_at_hash=True) == 2
    assert clib.list_count("1,2#,3", stop_at_hash=False) == 3
    assert clib.list_items("1,2,3", 2) == ["1,2,3", "2,3"]
    assert clib.list_items("1", 2) is None  # darknet would read from address 1
