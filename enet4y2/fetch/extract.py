"""Safe, streamed, resumable extraction of zip and tar(.gz/.bz2/.xz) archives.

Safe, in two layers. Before anything is written every member is checked: absolute paths,
`..` components, the markers' folder name, symlinks whose text points outside the target
(or is over 4 KiB), hard links to anything but a regular member earlier in the same
archive, encrypted members and special files are refused with the member's name, and the
declared sizes must fit in the free space. While writing, no symlink is ever followed
(`confined`): a member whose path passes through a symlink, made by this archive or there
before, is refused, and no member gets more bytes than it declares. Once everything is
out, every symlink the archive made must still resolve inside the target (a link can be
aimed through another link that only a later member creates); any that does not is
removed and the archive refused.

Streamed: members are copied in chunks, never read whole. Resumable: each member is
written to a temp name and renamed, and a marker is written only after the whole archive
is out, so an interrupted run is detected (no marker) and finished on the next one:
members already complete are kept, the rest are written.
"""

from __future__ import annotations

import errno
import json
import lzma
import os
import posixpath
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from enet4y2.errors import ArchiveError, Enet4y2Error, OutputError
from enet4y2.fetch.confined import ConfinedDir, Parts, Refused, ThroughLink
from enet4y2.fetch.space import free_bytes, human_bytes

MARKER_DIR = ".enet4y2-extracted"
#: longest symlink text accepted (Linux's PATH_MAX); a zip stores it as member data
LINK_MAX = 4096
#: what a file costs on disk at least (one file-system block), for the space check
BLOCK = 4096
#: what reading a damaged or truncated archive raises (zipfile, tarfile, the codecs)
READ_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, tarfile.TarError, zlib.error,
               lzma.LZMAError, EOFError, NotImplementedError, OSError, UnicodeDecodeError)

#: progress callback: bytes of member data written (or skipped as already complete)
Progress = Callable[[int], None]
#: free bytes where the target lives (tests simulate a full disk)
FreeProbe = Callable[[Path], int]


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


def read_marker(archive: Path, target: Path) -> dict | None:
    """What the marker of a finished extraction recorded (None when unfinished)."""
    try:
        return json.loads(marker_path(archive, target).read_text())
    except (OSError, ValueError):
        return None


# -- checks before writing -------------------------------------------------------------

def refused(name: str, why: str) -> ArchiveError:
    return ArchiveError(f"archive member {name!r} {why}; refusing to extract this archive "
                        "(get a clean copy)")


def member_parts(name: str) -> Parts:
    """The names below the target where member `name` goes; ArchiveError if it would
    leave the target (absolute, `..`) or take the markers' folder."""
    norm = name.replace("\\", "/")
    if norm.startswith("/") or (len(norm) > 1 and norm[1] == ":"):
        raise refused(name, "has an absolute path")
    if "\0" in norm:
        raise refused(name, "has a NUL byte in its name")
    parts = tuple(p for p in norm.split("/") if p not in ("", "."))
    if ".." in parts:
        raise refused(name, "climbs out with '..'")
    if parts and parts[0] == MARKER_DIR:
        raise refused(name, f"is inside {MARKER_DIR}, the folder of extraction markers")
    return parts


def _check_link_text(member: Member, parts: Parts) -> None:
    """A link's text must point inside the target, judged lexically (a symlink's from its
    own folder, a hard link's from the archive's root)."""
    link = member.link.replace("\\", "/")
    if not link or "\0" in link or len(link.encode("utf-8", "surrogateescape")) > LINK_MAX:
        raise refused(member.name, f"has an empty, NUL-holding or over {LINK_MAX}-byte "
                                   "link target")
    if member.kind == "symlink" and not link.startswith("/"):
        link = posixpath.join(*parts[:-1], link) if len(parts) > 1 else link
    dest = posixpath.normpath(link)
    if dest == ".." or dest.startswith(("../", "/")):
        raise refused(member.name, f"links to {member.link!r} outside the target")


def _track(regular: set[Parts], parts: Parts, kind: str) -> None:
    """Keep the set of paths that hold a regular file this archive wrote."""
    if kind in ("file", "hardlink"):
        regular.add(parts)
    else:
        regular.discard(parts)


def check_members(members: list[Member]) -> None:
    """Refuse the whole archive if any member would escape the target."""
    regular: set[Parts] = set()
    for member in members:
        parts = member_parts(member.name)
        if not parts and member.kind != "dir":
            raise refused(member.name, "has no name")
        if member.kind in ("symlink", "hardlink"):
            _check_link_text(member, parts)
        if member.kind == "hardlink" and member_parts(member.link) not in regular:
            raise refused(member.name, f"is a hard link to {member.link!r}, which is not "
                                       "a regular file earlier in this archive")
        _track(regular, parts, member.kind)


def list_members(archive: Path) -> list[Member]:
    """Members of a zip or tar(.gz/.bz2/.xz) archive; special files are refused."""
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                return [_zip_member(info, zf) for info in zf.infolist()]
        with tarfile.open(archive, "r:*") as tf:
            return [_tar_member(info) for info in tf]
    except READ_ERRORS as exc:
        raise ArchiveError(f"{archive} is not a readable zip or tar archive ({exc}); "
                           "delete it and fetch it again") from exc


def total_size(archive: Path) -> int:
    """Bytes the archive's files take once extracted."""
    return sum(m.size for m in list_members(archive))


def _check_space(archive: Path, members: list[Member], tree: ConfinedDir,
                 free_probe: FreeProbe | None) -> None:
    """The members still to write (declared sizes, a block at least each) must fit."""
    needed = sum(-(-max(m.size, 1) // BLOCK) * BLOCK for m in members
                 if m.kind == "file" and not tree.is_complete(member_parts(m.name), m.size))
    free = free_bytes(tree.path, free_probe)
    if needed > free:
        raise OutputError(f"{archive.name} declares {human_bytes(needed)} of files to write "
                          f"into {tree.path}, which has {human_bytes(free)} free; free some "
                          "space or choose another directory")


# -- extraction ------------------------------------------------------------------------

def extract(archive: Path, target: Path, progress: Progress | None = None,
            record: dict | None = None, free_probe: FreeProbe | None = None) -> int:
    """Extract `archive` into `target` safely; returns the bytes of member data.

    Skips the work when the marker says a previous run finished; otherwise checks every
    member, writes what is missing, and writes the marker last (with `record` added,
    e.g. the archive's sha256, so a later run can tell which bytes were extracted).
    """
    if is_extracted(archive, target):
        return 0
    members = list_members(archive)
    check_members(members)
    try:
        tree = ConfinedDir(target)
    except OSError as exc:
        raise OutputError(f"cannot create {target} ({exc.strerror or exc}); choose a "
                          "writable directory") from exc
    with tree:
        _check_space(archive, members, tree, free_probe)
        unpacker = _Unpacker(tree, progress or (lambda n: None))
        try:
            _unpack(archive, unpacker)
        except BaseException:
            _remove_escaping_links(tree, unpacker.symlinks)
            raise
        escaping = _remove_escaping_links(tree, unpacker.symlinks)
        if escaping:
            raise refused(escaping[0].name, f"links to {escaping[0].link!r}, which leads "
                                            "outside the target through other links (removed)")
        written = sum(m.size for m in members)
        stamp = {"archive": archive.name, "members": len(members), "bytes": written}
        marker = json.dumps({**stamp, **(record or {})}) + "\n"
        marker_parts = (MARKER_DIR, archive.name + ".done")
        _writing(archive, "/".join(marker_parts), tree.path, unpacker.symlinks,
                 partial(tree.write_bytes, marker_parts, marker.encode()))
    return written


def _unpack(archive: Path, unpacker: _Unpacker) -> None:
    with _reading(archive):
        for member, open_data in _entries(archive):
            _writing(archive, member.name, unpacker.tree.path, unpacker.symlinks,
                     partial(unpacker.put, member, open_data))


class _Unpacker:
    """Writes members in archive order, remembering what the later checks need."""

    def __init__(self, tree: ConfinedDir, tick: Progress) -> None:
        self.tree, self.tick = tree, tick
        self.regular: set[Parts] = set()
        self.symlinks: dict[Parts, Member] = {}

    def put(self, member: Member, open_data: Callable[[], object]) -> None:
        parts = member_parts(member.name)
        if member.kind == "dir":
            self.tree.make_dir(parts)
        elif member.kind == "symlink":
            self.tree.make_symlink(parts, member.link)
            self.symlinks[parts] = member
        elif member.kind == "hardlink":
            source = member_parts(member.link)
            if source not in self.regular:
                raise Refused(f"is a hard link to {member.link!r}, which is not a regular "
                              "file earlier in this archive")
            self.tree.make_hardlink(parts, source)
        elif self.tree.is_complete(parts, member.size):
            self.tick(member.size)
        else:
            self.tree.write_file(parts, _ArchiveData(open_data), member.size, self.tick)
        _track(self.regular, parts, member.kind)


def _remove_escaping_links(tree: ConfinedDir, symlinks: dict[Parts, Member]) -> list[Member]:
    """Remove every symlink the archive made that resolves outside the target (one can
    be aimed through a link a later member makes); returns their members."""
    root = os.path.realpath(tree.path)
    escaping = []
    for parts, member in symlinks.items():
        st = tree.lstat(parts)
        if st is None or not stat.S_ISLNK(st.st_mode):
            continue  # replaced by a later member
        real = os.path.realpath(os.path.join(tree.path, *parts))
        if real != root and not real.startswith(root.rstrip("/") + "/"):
            tree.unlink(parts)
            escaping.append(member)
    return escaping


def _writing(archive: Path, name: str, target: Path, made: dict[Parts, Member],
             step: Callable[[], None]) -> None:
    """Run one write step; its failures become one-line errors naming the member. A
    symlink on the way that the archive did not make (`made`) was there before: the
    user's layout, not the archive's fault."""
    try:
        step()
    except Enet4y2Error:
        raise
    except ThroughLink as exc:
        if exc.link in made:
            raise refused(name, str(exc)) from None
        link = target.joinpath(*exc.link)
        raise OutputError(f"cannot extract {name!r} of {archive.name}: {link} is a symlink "
                          "and extraction never writes through links; make it a folder "
                          "(or extract where it points)") from None
    except _Damaged as exc:
        raise ArchiveError(f"{archive} is damaged ({exc.__cause__}); delete it and fetch it "
                           "again") from exc
    except Refused as exc:
        raise refused(name, str(exc)) from None
    except (UnicodeError, ValueError) as exc:  # os.* cannot encode the name
        raise refused(name, f"has a name that cannot be written here ({exc})") from None
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            raise refused(name, "has a name too long for this file system") from None
        raise OutputError(f"cannot extract {name!r} of {archive} into {target} "
                          f"({exc.strerror or exc}); free some space or choose another "
                          "directory") from exc


@contextmanager
def _reading(archive: Path) -> Iterator[None]:
    """Errors from reading the archive itself (headers, codecs) say it is damaged."""
    try:
        yield
    except Enet4y2Error:
        raise
    except READ_ERRORS as exc:
        raise ArchiveError(f"{archive} is damaged ({exc}); delete it and fetch it again") \
            from exc


class _Damaged(Exception):
    """Reading a member's data failed; carries the cause."""


class _ArchiveData:
    """A member's data stream, opened on first read; read errors become `_Damaged` so
    they are not taken for write errors."""

    def __init__(self, open_data: Callable[[], object]) -> None:
        self.open_data, self.src = open_data, None

    def read(self, n: int) -> bytes:
        try:
            if self.src is None:
                self.src = self.open_data()
            return self.src.read(n)
        except READ_ERRORS as exc:
            raise _Damaged() from exc


def _entries(archive: Path) -> Iterator[tuple[Member, Callable[[], object]]]:
    """(member, opener of its data) in archive order, in one pass over the archive."""
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                yield _zip_member(info, zf), partial(zf.open, info)
    else:
        # "r|*" streams: one pass over the (compressed) file, no seeking back.
        with tarfile.open(archive, "r|*") as tf:
            for info in tf:
                yield _tar_member(info), partial(tf.extractfile, info)


def _zip_member(info: zipfile.ZipInfo, zf: zipfile.ZipFile) -> Member:
    mode = info.external_attr >> 16
    if info.flag_bits & 0x1:
        raise refused(info.filename, "is encrypted")
    if stat.S_ISLNK(mode):
        return Member(info.filename, 0, "symlink", _zip_link_text(info, zf))
    if info.is_dir() or stat.S_ISDIR(mode):
        return Member(info.filename, 0, "dir")
    if stat.S_IFMT(mode) and not stat.S_ISREG(mode):
        raise refused(info.filename, "is a special file")
    return Member(info.filename, info.file_size, "file")


def _zip_link_text(info: zipfile.ZipInfo, zf: zipfile.ZipFile) -> str:
    """A zip symlink's target is its data: read at most LINK_MAX bytes of it."""
    too_long = f"is a symlink whose target is over {LINK_MAX} bytes"
    if info.file_size > LINK_MAX:
        raise refused(info.filename, too_long)
    with zf.open(info) as fh:
        data = fh.read(LINK_MAX + 1)
    if len(data) > LINK_MAX:
        raise refused(info.filename, too_long)
    return data.decode("utf-8", "surrogateescape")


def _tar_member(info: tarfile.TarInfo) -> Member:
    if info.isdir():
        return Member(info.name, 0, "dir")
    if info.issym():
        return Member(info.name, 0, "symlink", info.linkname)
    if info.islnk():
        return Member(info.name, 0, "hardlink", info.linkname)
    if info.isfile():
        return Member(info.name, info.size, "file")
    raise refused(info.name, "is a special file")
