"""Writing files so that nothing is ever left half-written (a temp file in the same folder,
then `os.replace`), strict JSON, and the rule that an output never overwrites an input.
The one implementation every module uses."""

from __future__ import annotations

import fcntl
import json
import math
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from enet4y2.errors import MissingFileError, OutputError


def _process_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _process_umask()  # read once: os.umask() is process-wide, not thread-safe


def atomic_write(path: str | os.PathLike, data: bytes | str) -> Path:
    """Write `data` (text as UTF-8) to `path` atomically; the usual file mode; parents
    made. OutputError (one line) when it cannot be written: read-only, full, not a folder."""
    path = Path(path)
    payload = data.encode() if isinstance(data, str) else data
    try:
        if path.is_dir():
            raise IsADirectoryError(21, "Is a directory")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc} — choose a writable "
                          "path") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OutputError(f"cannot write {path}: {exc.strerror or exc} — free some space or "
                          "choose another path") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def strict(value: object) -> object:
    """`value` with every non-finite float replaced by None (JSON has no NaN/Infinity)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: strict(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [strict(v) for v in value]
    return value


def json_text(data: object, *, indent: int | None = None) -> str:
    """Strict JSON text (NaN and infinities become null); compact unless `indent`."""
    separators = (",", ":") if indent is None else None
    return json.dumps(strict(data), indent=indent, separators=separators, allow_nan=False)


def atomic_write_json(path: str | os.PathLike, data: object, *,
                      indent: int | None = None) -> Path:
    """Strict JSON written atomically, in one write."""
    return atomic_write(path, json_text(data, indent=indent))


def regular_file(path: str | os.PathLike, what: str = "file",
                 hint: str = "check the path") -> Path:
    """`path` when it is an existing regular file (not a folder, FIFO or device, which
    would hang or fail a reader), else MissingFileError naming what it is."""
    p = Path(path)
    try:
        mode = p.stat().st_mode
    except FileNotFoundError:
        raise MissingFileError(f"{what} {p} not found — {hint}") from None
    except OSError as exc:
        raise MissingFileError(f"{what} {p} cannot be read ({exc.strerror}) — {hint}") \
            from None
    if stat.S_ISDIR(mode):
        raise MissingFileError(f"{what} {p} is a directory, not a file — {hint}")
    if not stat.S_ISREG(mode):
        raise MissingFileError(f"{what} {p} is not a regular file (a pipe or a device) — "
                               f"{hint}")
    return p


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """True when both paths name one file (links and `..` resolved; missing -> by path)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return Path(a).resolve() == Path(b).resolve()


def refuse_overwrite(output: str | os.PathLike, inputs: Iterable[str | os.PathLike | None],
                     what: str = "output") -> None:
    """OutputError when `output` is one of the `inputs`: writing it would destroy one."""
    for source in inputs:
        if source is not None and same_file(output, source):
            raise OutputError(f"{what} {output} is the input {source} — writing it would "
                              "destroy the input; choose another path")


@contextmanager
def exclusive_lock(path: str | os.PathLike, what: str) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created, holding our PID) for the block; another
    holder makes it an OutputError naming that PID. The kernel drops the lock when the
    process ends, however it ends, so a killed run never leaves a stale lock."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise OutputError(f"cannot create the lock {path}: {exc.strerror}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            raise OutputError(f"{what} is in use by another process (pid {holder}, lock "
                              f"{path}) — wait for it to end, or use another folder") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock
