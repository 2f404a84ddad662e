"""Generated broken cfgs (random bytes, CR-only line endings, form feeds, NULs, U+0085 and
U+2028, huge batch and filters): darknet's verdict, from loading the cfg in a child, and
`check_file`'s agree; darknet's own `read_cfg` sees the sections and values our parser
sees; `check_file` never raises or hangs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from enet4y2 import paths
from enet4y2.cfg import check, machine_memory, parse_cfg
from enet4y2.errors import CfgError
from enet4y2.modelfiles import check_file
from tests.darknet.dnload import darknet_load

pytestmark = pytest.mark.darknet

# ENET4Y2_CFG_EXAMPLES=N explores N random examples per test instead of the fixed 40.
EXPLORE = int(os.environ.get("ENET4Y2_CFG_EXAMPLES", "0"))
SLOW = settings(max_examples=EXPLORE or 40, deadline=None, derandomize=not EXPLORE,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])

# A small detector darknet loads: conv, maxpool, mish, shortcut, route, upsample, yolo.
BASE = b"""[net]
batch=4
subdivisions=1
width=64
height=64
channels=3
policy=steps
steps=100,200
scales=.1,.1

[convolutional]
filters=8
size=3
stride=2
pad=1
batch_normalize=1
activation=leaky

[maxpool]
size=2
stride=2

[convolutional]
filters=8
size=3
pad=1
activation=mish

[shortcut]
from=-2

[convolutional]
filters=16
size=1
activation=leaky

[route]
layers=-1,-3

[upsample]
stride=2

[convolutional]
filters=21
size=1
activation=linear

[yolo]
mask=0,1,2
anchors=10,14,23,27,37,58
classes=2
num=3
"""

ODD = [b"\x0c", b"\x0b", "\u0085".encode(), "\u2028".encode(), b"\r", b"\0", b"#", b"=",
       b" ", b"\t", b"[", b"]", b",", b"-", b"9", b"\xff"]


def agree(tmp_path: Path, data: bytes, batch: int) -> None:
    """darknet (a child, `batch` 0 = as training reads it) and check_file agree."""
    cfg = tmp_path / "g.cfg"
    cfg.write_bytes(data)
    report = check_file(cfg, batch=batch or None)
    dn = darknet_load(cfg, batch, cwd=tmp_path, timeout=240)
    assert dn.returncode != "timeout", data[:300]
    said = report["problems"][:2] or report["warnings"][:3]
    assert report["ok"] == dn.ok, (f"darknet {'loads' if dn.ok else 'refuses'} it "
                                   f"({dn.why()}); check: {said}\n{data[:400]!r}")
    if dn.ok and report["bflops"] is not None:
        assert f"{report['bflops']:.3f}" == dn.bflops


@st.composite
def mutated(draw) -> bytes:
    data = bytearray(BASE)
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(data)))
        data[at:at] = draw(st.sampled_from(ODD))
    return bytes(data)


@SLOW
@given(data=mutated())
def test_odd_bytes_inside_a_good_cfg(tmp_path, data):
    agree(tmp_path, data, 1)


@SLOW
@given(ending=st.sampled_from([b"\r", b"\r\r\n", b"\n\r", b"\x0c\n", "\u2028".encode(),
                               "\u0085".encode() + b"\n", b"\0\n"]),
       keep_first=st.booleans())
def test_other_line_endings(tmp_path, ending, keep_first):
    lines = BASE.split(b"\n")
    head = lines[:1] if keep_first else []
    data = b"\n".join(head) + (b"\n" if head else b"") + ending.join(lines[len(head):])
    agree(tmp_path, data, 1)


HUGE = [0, -1, 1, 7, 10**3, 10**4, 10**5, 10**6, 10**8, 2**31 - 1, 2**31, 10**12]


@SLOW
@given(key=st.sampled_from(["batch", "subdivisions", "filters", "width", "height",
                            "size", "stride", "classes", "num"]),
       value=st.sampled_from(HUGE), train=st.booleans(), nth=st.integers(1, 3))
def test_huge_and_odd_sizes(tmp_path, key, value, train, nth):
    lines = BASE.decode().split("\n")
    hits = [i for i, ln in enumerate(lines) if ln.startswith(key + "=")]
    assume(hits)
    lines[hits[(nth - 1) % len(hits)]] = f"{key}={value}"
    data = "\n".join(lines).encode()
    # keep clear of the memory line itself (the child's interpreter also needs a little)
    model = check(parse_cfg(data), batch=None if train else 1, memory=1 << 62).model
    if model is not None:
        assume(not 0.8 < model.memory_bytes / machine_memory() < 1.25)
    agree(tmp_path, data, 0 if train else 1)


TOKENS = [b"[net]", b"[convolutional]", b"[yolo]", b"[route]", b"\n", b"\r", b"\r\n",
          b"width=", b"height=", b"channels=", b"filters=", b"layers=", b"16", b"-1",
          b"#", b";", b"=", b" ", b"\0", b"\x0c", "\u0085".encode(), "\u2028".encode()]


@SLOW
@given(chunks=st.lists(st.one_of(st.sampled_from(TOKENS), st.binary(max_size=6)),
                       max_size=40))
def test_random_bytes(tmp_path, chunks):
    agree(tmp_path, b"".join(chunks), 1)


READ_CFG = r"""
import ctypes, json, sys
lib = ctypes.CDLL(sys.argv[2])
class Node(ctypes.Structure):
    pass
Node._fields_ = [("val", ctypes.c_void_p), ("next", ctypes.POINTER(Node)),
                 ("prev", ctypes.POINTER(Node))]
class List(ctypes.Structure):
    _fields_ = [("size", ctypes.c_int), ("front", ctypes.POINTER(Node)),
                ("back", ctypes.POINTER(Node))]
class Section(ctypes.Structure):
    _fields_ = [("type", ctypes.c_char_p), ("options", ctypes.POINTER(List))]
class Kvp(ctypes.Structure):
    _fields_ = [("key", ctypes.c_char_p), ("val", ctypes.c_char_p), ("used", ctypes.c_int)]
lib.read_cfg.restype = ctypes.POINTER(List)
lib.read_cfg.argtypes = [ctypes.c_char_p]
out, node = [], lib.read_cfg(sys.argv[1].encode()).contents.front
while node:
    sec = ctypes.cast(node.contents.val, ctypes.POINTER(Section)).contents
    opts, opt = [], sec.options.contents.front
    while opt:
        kv = ctypes.cast(opt.contents.val, ctypes.POINTER(Kvp)).contents
        opts.append([kv.key.decode("latin-1"),
                     None if kv.val is None else kv.val.decode("latin-1")])
        opt = opt.contents.next
    out.append([sec.type.decode("latin-1"), opts])
    node = node.contents.next
print(json.dumps(out))
"""


def _text(latin: str) -> str:
    return latin.encode("latin-1").decode("utf-8", "backslashreplace")


@settings(max_examples=EXPLORE or 150, deadline=None, derandomize=not EXPLORE,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chunks=st.lists(st.one_of(st.sampled_from(TOKENS), st.binary(max_size=6)),
                       max_size=60),
       start=st.booleans(), long_line=st.booleans())
def test_darknets_read_cfg_sees_what_we_parse(tmp_path, chunks, start, long_line):
    """darknet's read_cfg (called through ctypes in a child) and parse_cfg: the same
    sections, and the value darknet finds first for every key (None: a key without '=')."""
    data = (b"[net]\n" if start else b"") + b"".join(chunks)
    if long_line:
        data = data.replace(b"\0", b"x" * 600 + b"\0", 1)  # a NUL past fgets' 512 bytes
    cfg_path = tmp_path / "r.cfg"
    cfg_path.write_bytes(data)
    proc = subprocess.run([sys.executable, "-c", READ_CFG, str(cfg_path),
                           str(paths.libdarknet_path())], capture_output=True, timeout=60,
                          check=False)
    if proc.returncode != 0:  # darknet crashed: an option before any section
        with pytest.raises(CfgError, match="before any section"):
            parse_cfg(data)
        return
    theirs = json.loads(proc.stdout)
    ours = parse_cfg(data).sections
    assert [_text(t) for t, _ in theirs] == [s.header for s in ours]
    for (_, opts), sec in zip(theirs, ours, strict=True):
        first: dict[str, str | None] = {}
        for key, value in opts:
            first.setdefault(_text(key), None if value is None else _text(value))
        keys = set(sec.options) | set(sec.bare) | {k for k, _, _ in sec.duplicates}
        assert set(first) == keys
        assert first == {k: sec.options.get(k) for k in keys}
