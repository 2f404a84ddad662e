"""Safe, streamed, resumable extraction of zip and tar(.gz) archives.

Safe: every member is checked *before* anything is written; absolute paths, `..`
components, links that point outside the target and special files are refused with the
member's name. Streamed: members are copied in chunks, never read whole. Resumable: each
member is written to a temp name and renamed, and a marker is written only after the
whole archive is out, so an interrupted run is detected (no marker) and finished on the
next one: members already complete are kept, the rest are written.
"""

from __future__ import annotations

import json
import os
import posixpath
import shutil
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from enet4y2.errors import ArchiveError, OutputError
from enet4y2.fileio import atomic_write

CHUNK = 1 << 20
MARKER_DIR = ".enet4y2-extracted"

#: progress callback: bytes of member data written (or skipped as already complete)
Progress = Callable[[int], None]


@dataclass(frozen=True)
class Member:
    """An archive member as extraction sees it."""

    name: str
    size: int
    kind: str  # "file", "dir", "symlink", "hardlink"
    link: str = ""


def marker_path(archive: Path, target: Path) -> Path:
    return target / MARKER_DIR / (archive.name + ".done")


def is_extracted(archive: Path, target: Path) -> bool:
    """True when `archive` was fully extracted into `target` by an earlier run."""
    return marker_path(archive, target).is_file()


def safe_member_path(name: str, target: Path) -> Path:
    """Where member `name` goes under `target`; raises ArchiveError if outside."""
    norm = name.replace("\\", "/")
    if norm.startswith("/") or (len(norm) > 1 and norm[1] == ":"):
        raise ArchiveError(f"archive member {name!r} has an absolute path; refusing to "
                                 "extract this archive (get a clean copy)")
    parts = [p for p in norm.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise ArchiveError(f"archive member {name!r} climbs out with '..'; refusing to "
                                 "extract this archive (get a clean copy)")
    return target.joinpath(*parts) if parts else target


def _check_link(member: Member, target: Path) -> None:
    """A link must resolve inside `target`, judged lexically (nothing is on disk yet)."""
    where = safe_member_path(member.name, target)
    link = member.link.replace("\\", "/")
    if member.kind == "hardlink":
        dest = posixpath.normpath(link)
    else:
        if link.startswith("/"):
            dest = "/.."  # absolute link target: outside by definition
        else:
            rel_dir = posixpath.dirname(where.relative_to(target).as_posix())
            dest = posixpath.normpath(posixpath.join(rel_dir, link))
    if dest == ".." or dest.startswith("../") or dest.startswith("/"):
        raise ArchiveError(f"archive member {member.name!r} links to {member.link!r} "
                                 "outside the target; refusing to extract this archive")


def check_members(members: list[Member], target: Path) -> None:
    """Refuse the whole archive if any member would escape `target`."""
    for member in members:
        safe_member_path(member.name, target)
        if member.kind in ("symlink", "hardlink"):
            _check_link(member, target)


def list_members(archive: Path) -> list[Member]:
    """Members of a zip or tar(.gz/.bz2/.xz) archive; special files are refused."""
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            return [_zip_member(info, zf) for info in zf.infolist()]
    try:
        with tarfile.open(archive, "r:*") as tf:
            return [_tar_member(info) for info in tf]
    except tarfile.TarError as exc:
        raise ArchiveError(f"{archive} is not a readable zip or tar archive ({exc}); "
                           "delete it and fetch it again") from exc


def total_size(archive: Path) -> int:
    """Bytes the archive's files take once extracted."""
    return sum(m.size for m in list_members(archive))


def read_marker(archive: Path, target: Path) -> dict | None:
    """What the marker of a finished extraction recorded (None when unfinished)."""
    try:
        return json.loads(marker_path(archive, target).read_text())
    except (OSError, ValueError):
        return None


def extract(
    archive: Path, target: Path, progress: Progress | None = None, record: dict | None = None
) -> int:
    """Extract `archive` into `target` safely; returns the bytes of member data.

    Skips the work when the marker says a previous run finished; otherwise checks every
    member, writes what is missing, and writes the marker last (with `record` added,
    e.g. the archive's sha256, so a later run can tell which bytes were extracted).
    """
    if is_extracted(archive, target):
        return 0
    members = list_members(archive)
    target.mkdir(parents=True, exist_ok=True)
    check_members(members, target)
    tick = progress or (lambda n: None)
    try:
        if zipfile.is_zipfile(archive):
            _extract_zip(archive, target, tick)
        else:
            _extract_tar(archive, target, tick)
    except (zipfile.BadZipFile, tarfile.TarError, zlib.error, EOFError) as exc:
        raise ArchiveError(f"{archive} is damaged ({exc}); delete it and fetch it again") \
            from exc
    except OSError as exc:
        raise OutputError(f"cannot extract {archive} into {target} ({exc.strerror or exc}); "
                          "free some space or choose another directory") from exc
    written = sum(m.size for m in members)
    stamp = {"archive": archive.name, "members": len(members), "bytes": written}
    atomic_write(marker_path(archive, target), json.dumps({**stamp, **(record or {})}) + "\n")
    return written


# -- zip ----------------------------------------------------------------------------

def _zip_member(info: zipfile.ZipInfo, zf: zipfile.ZipFile) -> Member:
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return Member(info.filename, 0, "symlink", zf.read(info).decode("utf-8", "replace"))
    if info.is_dir():
        return Member(info.filename, 0, "dir")
    if stat.S_IFMT(mode) and not stat.S_ISREG(mode):
        raise ArchiveError(f"archive member {info.filename!r} is a special file; "
                                 "refusing to extract this archive")
    return Member(info.filename, info.file_size, "file")


def _extract_zip(archive: Path, target: Path, tick: Progress) -> None:
    root = target.resolve()
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            member = _zip_member(info, zf)
            dest = _resolved_inside(member, target, root)
            if member.kind == "dir":
                dest.mkdir(parents=True, exist_ok=True)
            elif member.kind == "symlink":
                _make_symlink(member.link, dest)
            else:
                if _already_there(dest, member.size):
                    tick(member.size)
                    continue
                with zf.open(info) as src:
                    _write_stream(src, dest, tick)


# -- tar ----------------------------------------------------------------------------

def _tar_member(info: tarfile.TarInfo) -> Member:
    if info.isdir():
        return Member(info.name, 0, "dir")
    if info.issym():
        return Member(info.name, 0, "symlink", info.linkname)
    if info.islnk():
        return Member(info.name, 0, "hardlink", info.linkname)
    if info.isfile():
        return Member(info.name, info.size, "file")
    raise ArchiveError(f"archive member {info.name!r} is a special file; "
                             "refusing to extract this archive")


def _extract_tar(archive: Path, target: Path, tick: Progress) -> None:
    # "r|*" streams: one pass over the (compressed) file, no seeking back.
    root = target.resolve()
    with tarfile.open(archive, "r|*") as tf:
        for info in tf:
            member = _tar_member(info)
            dest = _resolved_inside(member, target, root)
            if member.kind == "dir":
                dest.mkdir(parents=True, exist_ok=True)
            elif member.kind == "symlink":
                _make_symlink(member.link, dest)
            elif member.kind == "hardlink":
                source = safe_member_path(member.link, target)
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.unlink(missing_ok=True)
                os.link(source, dest)
            else:
                if _already_there(dest, member.size):
                    tick(member.size)
                    continue
                src = tf.extractfile(info)
                assert src is not None
                _write_stream(src, dest, tick)


# -- shared -------------------------------------------------------------------------

def _resolved_inside(member: Member, target: Path, root: Path) -> Path:
    """The member's path, checked again against the disk: links extracted earlier in the
    same archive must not carry a later member (or a link's target) outside."""
    dest = safe_member_path(member.name, target)
    checks = [dest.parent.resolve()]
    if member.kind == "symlink":
        checks.append(Path(os.path.realpath(dest.parent / member.link)))
    for path in checks:
        if path != root and root not in path.parents:
            raise ArchiveError(f"archive member {member.name!r} would be written "
                                     "outside the target through a link; refusing it")
    return dest


def _already_there(dest: Path, size: int) -> bool:
    # Members are renamed into place only when complete, so the right size means done.
    try:
        return dest.stat().st_size == size
    except OSError:
        return False


def _write_stream(src, dest: Path, tick: Progress) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.partial")
    with open(tmp, "wb") as out:
        while chunk := src.read(CHUNK):
            out.write(chunk)
            tick(len(chunk))
    os.replace(tmp, dest)


def _make_symlink(link: str, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.is_symlink() or dest.exists():
        if dest.is_dir() and not dest.is_symlink():
            shutil.rmtree(dest)
        else:
            dest.unlink()
    os.symlink(link, dest)
