"""Writes confined to one directory, whatever is already inside it.

Every path is a tuple of names below the directory and is walked one name at a time from
an open descriptor of the directory (`openat`-style: `dir_fd=`), with `O_NOFOLLOW`: a name
that is a symlink, or not a folder, stops the walk (`Refused`) instead of being followed.
Files are created `O_CREAT|O_EXCL|O_NOFOLLOW` under a temp name in their folder and renamed
into place only when complete; symlinks and hard links are made relative to the same
descriptors and never dereferenced. So no write can leave the directory: not through a
symlink an archive made earlier, not through one that was there before.

Linux/POSIX only (needs `dir_fd` support in `os`).
"""

from __future__ import annotations

import errno
import io
import os
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

CHUNK = 1 << 20
_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
#: room left in a 255-byte name for the temp prefix and suffix
_NAME_ROOM = 200

Parts = tuple[str, ...]


class Refused(Exception):
    """A path that cannot be written without following a link (or clobbering a folder);
    its message completes "archive member X ..."."""


class ThroughLink(Refused):
    """The walk met a symlink at `link` (the names down to it)."""

    def __init__(self, message: str, link: Parts) -> None:
        super().__init__(message)
        self.link = link


class ShortOrLong(Refused):
    """Member data that ends before, or runs past, the size the archive declares."""


class ConfinedDir:
    """An open directory every write of which stays inside it (a context manager)."""

    def __init__(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)

    def __enter__(self) -> ConfinedDir:
        return self

    def __exit__(self, *exc) -> None:
        os.close(self.fd)

    # -- walking ----------------------------------------------------------------------

    @contextmanager
    def parent(self, parts: Parts, create: bool = True) -> Iterator[int]:
        """A descriptor of the folder that holds `parts[-1]` (folders made on the way
        when `create`); Refused when the walk meets a symlink or a non-folder."""
        fd = os.dup(self.fd)
        try:
            for depth, name in enumerate(parts[:-1], 1):
                step = _open_dir(fd, name, parts[:depth], create)
                os.close(fd)
                fd = step
            yield fd
        finally:
            os.close(fd)

    def make_dir(self, parts: Parts) -> None:
        if parts:
            with self.parent(parts) as dfd:
                os.close(_open_dir(dfd, parts[-1], parts, create=True))

    def lstat(self, parts: Parts) -> os.stat_result | None:
        """What is at `parts` (a link is not followed), or None when nothing is or the
        path cannot be walked."""
        try:
            with self.parent(parts, create=False) as dfd:
                return os.stat(parts[-1], dir_fd=dfd, follow_symlinks=False)
        except (OSError, Refused):
            return None

    def is_complete(self, parts: Parts, size: int) -> bool:
        """True when a regular file of `size` bytes is at `parts` (a finished member:
        members are renamed into place only when complete)."""
        st = self.lstat(parts)
        return st is not None and stat.S_ISREG(st.st_mode) and st.st_size == size

    # -- writing ----------------------------------------------------------------------

    def write_file(self, parts: Parts, src, size: int, tick: Callable[[int], None]) -> None:
        """Copy exactly `size` bytes of `src` (has `.read(n)`) to `parts`, via a temp name."""
        with self.parent(parts) as dfd:
            tmp = temp_name(parts[-1])
            out = _create_exclusive(dfd, tmp, parts)
            try:
                with os.fdopen(out, "wb", buffering=0) as fh:
                    copy_exactly(src, fh, size, tick)
                _rename_into_place(dfd, tmp, parts)
            except BaseException:
                _unlink_quietly(dfd, tmp)
                raise

    def write_bytes(self, parts: Parts, data: bytes) -> None:
        self.write_file(parts, io.BytesIO(data), len(data), lambda n: None)

    def make_symlink(self, parts: Parts, link: str) -> None:
        """A symlink `parts` -> `link` (the link text is stored, never followed here)."""
        with self.parent(parts) as dfd:
            tmp = temp_name(parts[-1])
            _unlink_quietly(dfd, tmp)
            os.symlink(link, tmp, dir_fd=dfd)
            try:
                _rename_into_place(dfd, tmp, parts)
            except BaseException:
                _unlink_quietly(dfd, tmp)
                raise

    def make_hardlink(self, parts: Parts, source: Parts) -> None:
        """A hard link `parts` to the regular file at `source` (a link is not followed)."""
        with self.parent(source, create=False) as sfd, self.parent(parts) as dfd:
            st = os.stat(source[-1], dir_fd=sfd, follow_symlinks=False)
            if not stat.S_ISREG(st.st_mode):
                raise Refused(f"links to {'/'.join(source)!r}, which is not a regular file")
            if _same_file(dfd, parts[-1], st):
                return  # linked already (a re-run), or a link to itself
            tmp = temp_name(parts[-1])
            _unlink_quietly(dfd, tmp)
            os.link(source[-1], tmp, src_dir_fd=sfd, dst_dir_fd=dfd, follow_symlinks=False)
            try:
                _rename_into_place(dfd, tmp, parts)
            except BaseException:
                _unlink_quietly(dfd, tmp)
                raise

    def unlink(self, parts: Parts) -> None:
        """Remove a non-folder at `parts` if it is there."""
        try:
            with self.parent(parts, create=False) as dfd:
                _unlink_quietly(dfd, parts[-1])
        except (OSError, Refused):
            pass


def temp_name(name: str) -> str:
    """The name a member is written under in its folder until it is complete."""
    return f".{name[:_NAME_ROOM]}.partial"


def copy_exactly(src, out, size: int, tick: Callable[[int], None]) -> None:
    """Copy `size` bytes, never more; ShortOrLong when `src` holds fewer or more."""
    left = size
    while left:
        chunk = src.read(min(CHUNK, left))
        if not chunk:
            raise ShortOrLong(f"holds {size - left} bytes, fewer than the {size} it declares")
        if len(chunk) > left:
            raise ShortOrLong(f"holds more data than the {size} bytes it declares")
        out.write(chunk)
        left -= len(chunk)
        tick(len(chunk))
    if src.read(1):
        raise ShortOrLong(f"holds more data than the {size} bytes it declares")


def _open_dir(dfd: int, name: str, parts: Parts, create: bool) -> int:
    """A descriptor of folder `name` in `dfd` (made when missing and `create`)."""
    try:
        return os.open(name, _DIR, dir_fd=dfd)
    except FileNotFoundError:
        if not create:
            raise
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
            raise _not_a_folder(dfd, name, parts) from None
        raise
    # FileExistsError: made meanwhile (another extraction into the same target); the
    # open below judges what is there.
    with suppress(FileExistsError):
        os.mkdir(name, 0o777, dir_fd=dfd)
    return _open_dir(dfd, name, parts, create=False)


def _not_a_folder(dfd: int, name: str, parts: Parts) -> Refused:
    where = "/".join(parts)
    try:
        st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
    except OSError:
        return Refused(f"passes through {where!r}, which cannot be opened as a folder")
    if stat.S_ISLNK(st.st_mode):
        return ThroughLink(f"passes through the symlink {where!r}", parts)
    return Refused(f"passes through {where!r}, which is not a folder")


def _create_exclusive(dfd: int, tmp: str, parts: Parts) -> int:
    """A new file `tmp` in `dfd`; a stale one (an interrupted run's, or anything the
    archive put there, a symlink included) is removed first, never opened."""
    try:
        return os.open(tmp, _NEW_FILE, 0o666, dir_fd=dfd)
    except FileExistsError:
        try:
            os.unlink(tmp, dir_fd=dfd)
        except (IsADirectoryError, PermissionError):
            raise Refused(f"cannot be written: {tmp!r} beside it is a folder") from None
        return os.open(tmp, _NEW_FILE, 0o666, dir_fd=dfd)


def _rename_into_place(dfd: int, tmp: str, parts: Parts) -> None:
    try:
        os.rename(tmp, parts[-1], src_dir_fd=dfd, dst_dir_fd=dfd)
    except (IsADirectoryError, NotADirectoryError):
        raise Refused(f"would replace the folder {'/'.join(parts)!r}") from None
    except OSError as exc:
        if exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
            raise Refused(f"would replace the folder {'/'.join(parts)!r}") from None
        raise


def _same_file(dfd: int, name: str, st: os.stat_result) -> bool:
    """True when `name` in `dfd` is the file `st` describes (renaming a hard link onto
    its own file would do nothing and leave the temp name behind)."""
    try:
        there = os.stat(name, dir_fd=dfd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return (there.st_dev, there.st_ino) == (st.st_dev, st.st_ino)


def _unlink_quietly(dfd: int, name: str) -> None:
    try:
        os.unlink(name, dir_fd=dfd)
    except FileNotFoundError:
        pass
    except (IsADirectoryError, PermissionError):
        raise Refused(f"cannot be written: {name!r} is a folder") from None

