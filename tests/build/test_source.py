"""`make darknet DARKNET_SRC=<archive>`: the archive GitHub serves (`darknet-<commit>/`
inside a .tar.gz or .zip) is checked for its commit before it is unpacked, then file by
file against the pinned tree; another commit is refused."""

from __future__ import annotations

import io
import tarfile
import zipfile

import pytest

from enet4y2 import DARKNET_PINNED_COMMIT, paths
from enet4y2.build import source
from enet4y2.errors import BuildError

OTHER = "0123456789abcdef0123456789abcdef01234567"


def _tar(path, top: str, files: dict[str, bytes], comment: str | None = None):
    with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT,
                      pax_headers={"comment": comment} if comment else None) as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(f"{top}/{name}")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


def _zip(path, top: str, files: dict[str, bytes]):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in files.items():
            zf.writestr(f"{top}/{name}", data)
    return path


TREE = {"Makefile": b"all:\n", "include/darknet.h": b"/* x */\n", "src/a.c": b"int a;\n"}


def test_archive_commit_from_folder_and_pax_comment(tmp_path):
    pinned = f"darknet-{DARKNET_PINNED_COMMIT}"
    assert source.archive_commit(_tar(tmp_path / "a.tar.gz", pinned, TREE,
                                      DARKNET_PINNED_COMMIT)) == DARKNET_PINNED_COMMIT
    assert source.archive_commit(_zip(tmp_path / "b.zip", pinned, TREE)) == \
        DARKNET_PINNED_COMMIT
    # a folder renamed to the pinned commit does not fool the pax comment
    assert source.archive_commit(_tar(tmp_path / "c.tar.gz", pinned, TREE, OTHER)) is None
    assert source.archive_commit(_tar(tmp_path / "d.tar.gz", "darknet-master", TREE)) == \
        "master"


def test_archive_of_another_commit_is_refused_before_unpacking(tmp_path):
    archive = _tar(tmp_path / f"darknet-{OTHER}.tar.gz", f"darknet-{OTHER}", TREE, OTHER)
    dest = tmp_path / "dest"
    with pytest.raises(BuildError, match=rf"holds commit {OTHER[:12]}, not the pinned "
                                         rf"{DARKNET_PINNED_COMMIT[:12]}"):
        source.resolve(dest, str(archive), allow_other=False)
    assert not dest.exists() and [p.name for p in tmp_path.iterdir()] == [archive.name]


def test_archive_with_the_pinned_name_but_other_files_is_refused(tmp_path):
    top = f"darknet-{DARKNET_PINNED_COMMIT}"
    archive = _zip(tmp_path / f"{top}.zip", top, TREE)
    with pytest.raises(BuildError, match=r"not the pinned darknet .*\(differs\)|missing"):
        source.resolve(tmp_path / "dest", str(archive), allow_other=False)
    assert not list(tmp_path.glob(".dest.unpack-*"))  # the unpacked copy is cleaned up


def test_unreadable_archive_is_one_line(tmp_path):
    bad = tmp_path / "darknet.tar.gz"
    bad.write_bytes(b"not gzip")
    with pytest.raises(BuildError, match="not a readable archive"):
        source.resolve(tmp_path / "dest", str(bad), allow_other=False)


def test_the_pinned_upstream_archive_unpacks_verified(tmp_path):
    archive = paths.shared_dir() / "upstream" / f"darknet-{DARKNET_PINNED_COMMIT}.tar.gz"
    if not archive.is_file():
        pytest.skip(f"pinned upstream archive not found at {archive}")
    dest = tmp_path / "darknet"
    found = source.resolve(dest, str(archive), allow_other=False)
    assert (found.commit, found.check, found.path) == (DARKNET_PINNED_COMMIT, "tree", dest)
    assert source.tree_differences(dest) == []
    stamp = (dest / "src" / "parser.c").stat().st_mtime_ns
    source.resolve(dest, str(archive), allow_other=False)  # again: nothing rewritten
    assert (dest / "src" / "parser.c").stat().st_mtime_ns == stamp
