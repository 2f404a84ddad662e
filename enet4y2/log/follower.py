"""Following a darknet log file: each poll reads only what was appended since the last
one; a file that shrank or was replaced is read again from the start."""

from __future__ import annotations

import os
from pathlib import Path

from enet4y2.errors import MissingFileError
from enet4y2.fileio import regular_file
from enet4y2.log.events import Event
from enet4y2.log.parser import LogParser
from enet4y2.log.state import LogState


class LogFollower:
    """Follows a growing log file: each `poll()` parses only the bytes appended since the
    last one; a file that shrank or was replaced (other inode, other first bytes) is
    re-read from the start with a fresh state."""

    CHUNK = 4 * 1024 * 1024  # bigger blocks parse no faster: their arrays leave the cache
    _HEAD = 64

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self.state = LogState()
        self.restarts = 0  # times the file was found truncated or replaced
        self._parser = LogParser()
        self._offset = 0
        self._identity: tuple[int, int] | None = None
        self._head = b""

    @property
    def offset(self) -> int:
        """Bytes of the file read so far."""
        return self._offset

    def poll(self) -> list[Event]:
        """Read what was appended; return its events in log order (also added to
        `state`)."""
        return self._poll(want_events=True)

    def refresh(self) -> int:
        """Read what was appended into `state` only (no event objects: fast on huge
        logs); returns the bytes read."""
        before = self._offset
        self._poll(want_events=False)
        return self._offset - before if self._offset >= before else self._offset

    def _poll(self, want_events: bool) -> list[Event]:
        events: list[Event] = []
        regular_file(self.path, "log file")  # a FIFO or /dev/zero would never end
        try:
            with open(self.path, "rb") as f:
                st = os.fstat(f.fileno())
                if self._identity is not None and self._replaced(f, st):
                    self._restart()
                self._identity = (st.st_dev, st.st_ino)
                f.seek(self._offset)
                while chunk := f.read(self.CHUNK):
                    if len(self._head) < self._HEAD:
                        self._head += chunk[: self._HEAD - len(self._head)]
                    self._offset += len(chunk)
                    if want_events:
                        new = self._parser.feed(chunk)
                        self.state.update(new)
                        events += new
                    else:
                        self.state.update_table(*self._parser.feed_table(chunk))
        except OSError as exc:
            raise MissingFileError(
                f"cannot read {self.path}: {exc.strerror}: check the path and its permissions"
            ) from None
        self.state.max_batches = self._parser.max_batches
        return events

    def _replaced(self, f, st: os.stat_result) -> bool:
        if (st.st_dev, st.st_ino) != self._identity or st.st_size < self._offset:
            return True
        head = f.read(len(self._head))
        return head != self._head

    def _restart(self) -> None:
        self.restarts += 1
        self.state = LogState()
        self._parser = LogParser()
        self._offset = 0
        self._head = b""
