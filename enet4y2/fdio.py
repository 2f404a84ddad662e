"""File-descriptor redirection, for C code that prints (darknet writes to fds 1 and 2
directly, below Python's `sys.stdout`). One lock serialises redirections, so threads that
capture at the same time never restore each other's descriptors."""

from __future__ import annotations

import os
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

_LOCK = threading.RLock()


@contextmanager
def redirected(fds: Sequence[int], target: int,
               flush: Callable[[], None] | None = None) -> Iterator[None]:
    """Point each of `fds` at `target` for the block, then restore them. `flush` runs
    before each switch (C stdio buffers belong to the old destination)."""
    with _LOCK:
        sys.stdout.flush()
        sys.stderr.flush()
        if flush:
            flush()
        saved = [os.dup(fd) for fd in fds]
        try:
            for fd in fds:
                os.dup2(target, fd)
            yield
        finally:
            if flush:
                flush()
            for fd, copy in zip(fds, saved, strict=True):
                os.dup2(copy, fd)
                os.close(copy)


@contextmanager
def captured(sink: list[str], fds: Sequence[int] = (1, 2),
             flush: Callable[[], None] | None = None) -> Iterator[None]:
    """Everything written to `fds` during the block, appended to `sink` as text."""
    with tempfile.TemporaryFile() as tmp:
        try:
            with redirected(fds, tmp.fileno(), flush):
                yield
        finally:
            tmp.seek(0)
            sink.append(tmp.read().decode(errors="replace"))
