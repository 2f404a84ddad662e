"""A reader thread per source, so that decoding overlaps inference.

Files: a bounded queue, every frame in order, the container's timestamp (PTS) per frame;
a file that ends before the frame count its header promises, or whose decoder fails,
ends with `VideoError` naming the frame. Live sources (cameras, streams): the newest
frame wins, every frame replaced before it was taken is counted in `dropped`; a stream
that drops is reopened up to `reconnect` times with doubling waits, each step reported
through `on_event`.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import NamedTuple

import cv2
import numpy as np

from enet4y2.errors import VideoError
from enet4y2.video.sources import Source, open_capture

_END = object()


class Frame(NamedTuple):
    index: int  # 0-based; on live sources counted over every frame read, dropped ones too
    timestamp: float  # seconds: the PTS for files, wall-clock time (time.time()) for live
    image: np.ndarray  # BGR uint8


class Reader:
    """Opens `source` now (so a bad source fails before any work) and reads it in a
    daemon thread once started. `get()` returns the next frame, or None at the end;
    after the end, `error` holds the `VideoError` that ended a broken file, if any."""

    def __init__(self, source: Source, *, queue_size: int = 8, reconnect: int = 0,
                 backoff: float = 0.5, on_event: Callable[[str], None] | None = None,
                 opener: Callable[[Source], cv2.VideoCapture] = open_capture) -> None:
        if queue_size < 1:
            raise ValueError(f"queue_size must be >= 1, got {queue_size}")
        self.source = source
        self._open = opener
        self._cap = opener(source)
        self.fps = float(self._cap.get(cv2.CAP_PROP_FPS) or 0.0)
        if not 0 < self.fps < 1000:
            self.fps = 0.0  # unknown (many live streams)
        self.width = int(self._cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        self.height = int(self._cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        count = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        self.frame_count = count if count > 0 and not source.live else None
        self.reconnect = reconnect
        self.backoff = backoff
        self._on_event = on_event or (lambda message: None)
        self.dropped = 0
        self.read = 0
        self.error: VideoError | None = None
        self._stop = threading.Event()
        self._queue: queue.Queue = queue.Queue(maxsize=queue_size)
        self._cond = threading.Condition()
        self._slot: Frame | None = None
        self._ended = False
        self._thread = threading.Thread(target=self._run, name=f"reader {source.name}",
                                        daemon=True)

    # -- consumer side -----------------------------------------------------------------
    def start(self) -> Reader:
        self._thread.start()
        return self

    def get(self, timeout: float | None = None) -> Frame | None:
        """The next frame (files) or the newest one (live); None at the end. With a
        `timeout`, raises `TimeoutError` when nothing came in that time."""
        if not self.source.live:
            try:
                item = self._queue.get(timeout=timeout)
            except queue.Empty:
                raise TimeoutError(self.source.name) from None
            return None if item is _END else item
        with self._cond:
            if not self._cond.wait_for(lambda: self._slot is not None or self._ended,
                                       timeout):
                raise TimeoutError(self.source.name)
            frame, self._slot = self._slot, None
            return frame

    def stop(self) -> None:
        """Stop reading and release the capture (idempotent)."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        while not self.source.live:  # unblock a producer waiting on a full queue
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        if self._thread.ident is None:  # never started: the capture is still ours
            self._cap.release()
        elif self._thread.is_alive():
            self._thread.join(timeout=5)

    # -- producer side -----------------------------------------------------------------
    def _run(self) -> None:
        try:
            if self.source.live:
                self._run_live()
            else:
                self._run_file()
        finally:
            self._cap.release()
            self._finish()

    def _finish(self) -> None:
        if self.source.live:
            with self._cond:
                self._ended = True
                self._cond.notify_all()
        else:
            self._put(_END)

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run_file(self) -> None:
        index = 0
        while not self._stop.is_set():
            try:
                ok, image = self._cap.read()
            except cv2.error as exc:
                self.error = VideoError(f"{self.source.name}: frame {index} cannot be "
                                        f"decoded ({str(exc).strip().splitlines()[-1]})")
                return
            if not ok:
                if self.frame_count is not None and index < self.frame_count - 1:
                    self.error = VideoError(
                        f"{self.source.name}: frame {index} cannot be read — the file "
                        f"ends early (its header promises {self.frame_count} frames): "
                        "truncated or corrupt")
                return
            stamp = float(self._cap.get(cv2.CAP_PROP_POS_MSEC)) / 1000.0
            self.read += 1
            if not self._put(Frame(index, stamp, image)):
                return
            index += 1

    def _run_live(self) -> None:
        index, attempts = 0, 0
        while not self._stop.is_set():
            ok, image = self._cap.read()
            if ok:
                self.read += 1
                with self._cond:
                    if self._slot is not None:
                        self.dropped += 1
                    self._slot = Frame(index, time.time(), image)
                    self._cond.notify_all()
                index += 1
                attempts = 0
                continue
            if attempts >= self.reconnect:
                self._on_event(f"{self.source.name}: stream ended after {index} frames"
                               + (f" ({attempts} reconnects tried)" if attempts else ""))
                return
            attempts += 1
            if not self._reopen(attempts, index):
                return

    def _reopen(self, attempt: int, index: int) -> bool:
        """One reconnect attempt after a wait; False when stopped meanwhile."""
        self._cap.release()
        delay = min(self.backoff * 2 ** (attempt - 1), 30.0)
        self._on_event(f"{self.source.name}: stream dropped after frame {index}; "
                       f"reconnecting in {delay:.1f} s ({attempt}/{self.reconnect})")
        if self._stop.wait(delay):
            return False
        try:
            self._cap = self._open(self.source)
        except VideoError:
            self._cap = cv2.VideoCapture()  # read() fails: the next attempt follows
            return True
        self._on_event(f"{self.source.name}: reconnected")
        return True
