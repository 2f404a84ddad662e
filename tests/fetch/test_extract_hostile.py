"""Hostile archives: whatever the members, extraction never writes outside its target.

Each case asserts the extraction either refuses (ArchiveError naming a member) or writes
only inside, and in both cases `Sandbox.assert_confined`: the sibling `outside/` folder,
its canary and /etc/passwd unchanged, no temp file left, no hard link to a file outside,
no symlink made by the archive that resolves outside.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from enet4y2.errors import ArchiveError, OutputError
from enet4y2.fetch import extract
from tests.fetch.hostile import CANARY, Sandbox, build

FORMATS = ("tar", "tgz", "zip")
F = b"data"

#: (name, entries, planted symlinks, member whose name the error must hold or None
#: when the extraction may succeed)
SHAPES = {
    "deferred symlink, then a file through it": (
        [("symlink", "esc", "l1/.."), ("symlink", "l1", "."), ("file", "esc/pwned", F)],
        {}, "esc/pwned"),
    "deferred symlink as the next member's temp name": (
        [("symlink", ".x.partial", "l1/../pwned"), ("symlink", "l1", "."), ("file", "x", F)],
        {}, None),
    "deferred symlink to the outside folder, a file through it": (
        [("dir", "d", ""), ("symlink", "d/esc", "../l1/../outside"), ("symlink", "l1", "."),
         ("file", "d/esc/canary.txt", b"owned")], {}, "d/esc/canary.txt"),
    "deferred symlink left behind, nothing through it": (
        [("symlink", "esc", "l1/../outside/canary.txt"), ("symlink", "l1", ".")], {}, "esc"),
    "chain of links": (
        [("symlink", "a", "b"), ("symlink", "b", "c"), ("symlink", "c", "l1/.."),
         ("symlink", "l1", "."), ("file", "a/pwned", F)], {}, "a/pwned"),
    "chain of links, each inside on its own": (
        [("dir", "d", ""), ("symlink", "d/x", ".."), ("symlink", "d/x/y", "..")], {}, "d/x/y"),
    "symlink to an absolute path": ([("symlink", "x", "{OUT}")], {}, "x"),
    "hard link via a symlink": (
        [("dir", "sub", ""), ("file", "sub/f", F), ("symlink", "d", "sub"),
         ("hardlink", "h", "d/f")], {}, "h"),
    "hard link to a deferred symlink to the outside": (
        [("symlink", "s", "l1/../outside/canary.txt"), ("symlink", "l1", "."),
         ("hardlink", "h", "s")], {}, "h"),
    "hard link to /etc/passwd": ([("hardlink", "passwd", "/etc/passwd")], {}, "passwd"),
    "hard link to ../outside": ([("hardlink", "h", "../outside/canary.txt")], {}, "h"),
    "hard link to an absolute path outside": ([("hardlink", "h", "{OUT}/canary.txt")], {},
                                               "h"),
    "hard link to a file already on disk, not in the archive": (
        [("hardlink", "h", "planted")], {"planted": "{OUT}/canary.txt"}, "h"),
    "hard link to a member that comes later": (
        [("hardlink", "h", "f"), ("file", "f", F)], {}, "h"),
    "symlink replaced by a directory": (
        [("dir", "sub", ""), ("symlink", "d", "sub"), ("dir", "d", ""), ("file", "d/f", F)],
        {}, "d"),
    "deferred symlink replaced by a directory": (
        [("symlink", "d", "l1/.."), ("symlink", "l1", "."), ("dir", "d", ""),
         ("file", "d/pwned", F)], {}, "d"),
    "directory replaced by a symlink": (
        [("dir", "d", ""), ("file", "d/f", F), ("symlink", "d", "l1/.."),
         ("symlink", "l1", "."), ("file", "d/pwned", F)], {}, "d"),
    "planted symlink folder pointing outside": (
        [("file", "images/a.jpg", F)], {"images": "{OUT}"}, "images/a.jpg"),
    "planted relative symlink folder pointing outside": (
        [("file", "images/sub/a.jpg", F)], {"images": "../outside"}, "images/sub/a.jpg"),
    "planted symlink at a member's own name": (
        [("file", "a.jpg", b"new")], {"a.jpg": "{OUT}/canary.txt"}, None),
    "planted symlink at a member's temp name": (
        [("file", "a.jpg", b"new")], {".a.jpg.partial": "{OUT}/canary.txt"}, None),
    "planted symlink as the markers' folder": (
        [("file", "a", F)], {extract.MARKER_DIR: "{OUT}"}, extract.MARKER_DIR),
    "member inside the markers' folder": (
        [("symlink", f"{extract.MARKER_DIR}/t.done", "{OUT}/canary.txt")], {},
        f"{extract.MARKER_DIR}/t.done"),
}


def run_case(base: Path, fmt: str, entries, planted: dict[str, str], twice: bool = False):
    """Extract once (twice: again after dropping the marker, as a re-run would);
    returns the error of the last run or None, having checked confinement."""
    box = Sandbox(base)
    for name, text in planted.items():
        box.plant_symlink(name, text)
    archive = build(fmt, base / "hostile", entries, box.outside)
    return box, extract_confined(box, archive, {name for _, name, _ in entries}, twice)


def extract_confined(box: Sandbox, archive: Path, names: set[str], twice: bool = False):
    """The extraction's error (None when it succeeded), confinement checked after each run."""
    error = None
    for _ in range(2 if twice else 1):
        extract.marker_path(archive, box.target).unlink(missing_ok=True)
        try:
            extract.extract(archive, box.target)
            error = None
        except (ArchiveError, OutputError) as exc:  # Output: a planted link on the way
            error = exc
            assert "\n" not in str(exc)
        box.assert_confined(names)
    return error


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("shape", SHAPES)
def test_hostile_shape_is_confined(tmp_path, shape, fmt):
    entries, planted, culprit = SHAPES[shape]
    if fmt == "zip" and any(kind == "hardlink" for kind, *_ in entries):
        pytest.skip("zip has no hard links")
    box, error = run_case(tmp_path, fmt, entries, planted)
    if culprit is not None:
        assert error is not None and f"'{culprit}" in str(error), error
        planted_on_the_way = any(culprit == p or culprit.startswith(p + "/") for p in planted)
        assert isinstance(error, OutputError if planted_on_the_way else ArchiveError)
    else:
        assert error is None
    assert (box.outside / "canary.txt").read_bytes() == CANARY


def test_planted_symlink_at_a_members_name_is_replaced_not_followed(tmp_path):
    box, _ = run_case(tmp_path, "tgz", [("file", "a.jpg", b"new")],
                      {"a.jpg": "{OUT}/canary.txt"})
    assert not (box.target / "a.jpg").is_symlink()
    assert (box.target / "a.jpg").read_bytes() == b"new"


def test_the_original_exploit_lands_inside(tmp_path):
    # issue 12: `.x.partial -> l1/../pwned`, `l1 -> .`, then `x` was written to ../pwned
    entries, planted, _ = SHAPES["deferred symlink as the next member's temp name"]
    box, error = run_case(tmp_path, "tgz", entries, planted)
    assert error is None and not (tmp_path / "pwned").exists()
    assert (box.target / "x").read_bytes() == F and not (box.target / "x").is_symlink()


# -- generated ------------------------------------------------------------------------

NAMES = st.lists(st.sampled_from(["a", "b", "d", "l1", "l2", "x", ".x.partial"]),
                 min_size=1, max_size=3).map("/".join)
#: lexically inside, outside, and inside only until another link appears
LINK_TEXTS = st.sampled_from([".", "..", "l1", "l2", "x", "a/b", "l1/..", "l1/l1/..",
                              "l2/../..", "a/..", "b/../l1/..", "../outside",
                              "l1/../outside", "l1/../outside/canary.txt", "{OUT}",
                              "{OUT}/canary.txt", "d/../l1/.."])
HARDLINK_TEXTS = st.one_of(NAMES, st.sampled_from(
    ["/etc/passwd", "{OUT}/canary.txt", "../outside/canary.txt", "l1/../outside/canary.txt",
     "planted/canary.txt", "planted"]))
ENTRY = st.one_of(
    st.tuples(st.just("file"), NAMES, st.binary(max_size=64)),
    st.tuples(st.just("dir"), NAMES, st.just("")),
    st.tuples(st.just("symlink"), NAMES, LINK_TEXTS),
    st.tuples(st.just("hardlink"), NAMES, HARDLINK_TEXTS),
)
PLANTED = st.sampled_from([{}, {"planted": "{OUT}"}, {"l1": "{OUT}"}, {"a": "../outside"},
                           {"x": "{OUT}/canary.txt"}, {".x.partial": "../outside/pwned"}])
#: examples per generated test (each is one archive, extracted once or twice)
GENERATED_CASES = 400


@settings(max_examples=GENERATED_CASES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(fmt=st.sampled_from(FORMATS), entries=st.lists(ENTRY, min_size=1, max_size=8),
       planted=PLANTED, twice=st.booleans())
def test_generated_hostile_archives_are_confined(fmt, entries, planted, twice):
    with tempfile.TemporaryDirectory() as tmp:
        box, error = run_case(Path(tmp), fmt, entries, planted, twice)
        if error is None:
            assert extract.is_extracted(Path(tmp) / f"hostile.{fmt}", box.target)


@pytest.mark.parametrize("fmt", ["tar", "tgz"])
def test_hard_link_onto_its_own_file_leaves_no_temp(tmp_path, fmt):
    # found by the generated test: rename() of a hard link onto the same file does nothing
    box, error = run_case(tmp_path, fmt, [("file", "a", F), ("hardlink", "a", "a"),
                                          ("hardlink", "b", "a"), ("hardlink", "b", "a")],
                          {}, twice=True)
    assert error is None and (box.target / "b").read_bytes() == F


ODD_NAMES = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30) | \
    st.sampled_from(["/abs", "C:/x", "..", "a/../..", "a\\..\\..\\x", "./.", "a//b", "\\\\x",
                     extract.MARKER_DIR, "x\x00y", "é/ü", "a" * 300, "a/" * 40 + "f"])


@settings(max_examples=GENERATED_CASES // 2, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(fmt=st.sampled_from(FORMATS), names=st.lists(ODD_NAMES, min_size=1, max_size=4),
       kinds=st.lists(st.sampled_from(["file", "dir", "symlink"]), min_size=4, max_size=4))
def test_generated_odd_names_are_confined(fmt, names, kinds):
    entries = [(kind, name, b"x" if kind == "file" else ("." if kind == "symlink" else ""))
               for name, kind in zip(names, kinds, strict=False)]
    with tempfile.TemporaryDirectory() as tmp:
        box = Sandbox(Path(tmp))
        try:
            archive = build(fmt, Path(tmp) / "hostile", entries, box.outside)
        except (ValueError, UnicodeError):
            assume(False)  # a name tar or zip cannot even store
        extract_confined(box, archive, {name for _, name, _ in entries})
