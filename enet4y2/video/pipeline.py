"""Detection over video sources, one result per frame, as a generator.

    with Network(cfg, weights) as net:
        for r in detect_video(net, ["clip.mp4"]):
            print(r.source, r.index, r.timestamp, len(r.detections))

Each source has a reader thread (`enet4y2.video.reader`), so decoding overlaps inference;
several sources (a `.streams` file) are detected together, one frame of each per round,
in batches of the model's `batch`. Files yield every frame in order; live sources the
newest frame, with the count of frames dropped so far.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from enet4y2.darknet import Detections
from enet4y2.errors import VideoError
from enet4y2.video.reader import Frame, Reader
from enet4y2.video.sources import Source, parse_sources


@dataclass(frozen=True)
class FrameResult:
    """One frame's detections. `timestamp` is seconds: the container's PTS for files,
    wall-clock time for live sources. `track_ids` (with tracking) is aligned with
    `detections`, -1 for boxes not yet confirmed. `image` is kept on request only."""

    source: str
    index: int
    timestamp: float
    detections: Detections
    track_ids: np.ndarray | None = None
    image: np.ndarray | None = None
    dropped: int = 0  # frames of this (live) source dropped so far
    width: int = 0
    height: int = 0


class VideoRun:
    """Readers started on the given sources; iterate for `FrameResult`s. Use as a context
    manager (or exhaust it) so the readers stop. A file that ended broken raises its
    `VideoError` once every source is done, after all of its good frames."""

    def __init__(self, model: Any, sources: Sequence[Source | str], *, thresh: float = 0.25,
                 nms: float = 0.45, letterbox: bool | None = None, keep_frames: bool = False,
                 track: bool = False, queue_size: int = 8, reconnect: int = 0,
                 backoff: float = 0.5, on_event: Callable[[str], None] | None = None) -> None:
        self.model = model
        given = [s for s in sources if isinstance(s, Source)]
        named = [s for s in sources if not isinstance(s, Source)]
        self.sources = given + (parse_sources([str(s) for s in named]) if named else [])
        if not self.sources:
            raise VideoError("no video source given")
        self._detect_args = {"thresh": thresh, "nms": nms, "letterbox": letterbox}
        self.keep_frames = keep_frames
        self.readers: list[Reader] = []
        self.trackers = None
        try:
            for source in self.sources:
                self.readers.append(Reader(source, queue_size=queue_size,
                                           reconnect=reconnect, backoff=backoff,
                                           on_event=on_event))
            if track:
                from enet4y2.video.track import ClassTracker

                self.trackers = {r.source.name: ClassTracker(r.fps or 30.0)
                                 for r in self.readers}
        except BaseException:
            self.close()
            raise
        self._started = False
        self.frames = 0
        self.started_at = time.perf_counter()

    def __enter__(self) -> VideoRun:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Stop every reader (idempotent)."""
        for reader in self.readers:
            reader.stop()

    @property
    def dropped(self) -> int:
        return sum(r.dropped for r in self.readers)

    def __iter__(self) -> Iterator[FrameResult]:
        if self._started:
            raise RuntimeError("a VideoRun is iterated once")
        self._started = True
        self.started_at = time.perf_counter()
        for reader in self.readers:
            reader.start()
        try:
            yield from self._rounds()
        finally:
            self.close()
        for reader in self.readers:
            if reader.error is not None:
                raise reader.error

    def _rounds(self) -> Iterator[FrameResult]:
        batch = max(1, int(getattr(self.model, "batch", 1) or 1))
        active = list(self.readers)
        while active:
            taken: list[tuple[Reader, Frame]] = []
            for reader in list(active):
                frame = reader.get()
                if frame is None:
                    active.remove(reader)
                else:
                    taken.append((reader, frame))
            for start in range(0, len(taken), batch):
                chunk = taken[start:start + batch]
                found = self.model.detect_batch([f.image for _, f in chunk],
                                                **self._detect_args)
                for (reader, frame), dets in zip(chunk, found, strict=True):
                    yield self._result(reader, frame, dets)

    def _result(self, reader: Reader, frame: Frame, dets: Detections) -> FrameResult:
        self.frames += 1
        ids = self.trackers[reader.source.name].update(dets) if self.trackers else None
        height, width = frame.image.shape[:2]
        return FrameResult(reader.source.name, frame.index, frame.timestamp, dets, ids,
                           frame.image if self.keep_frames else None, reader.dropped,
                           width, height)


def detect_video(model: Any, sources: Sequence[Source | str], **options: Any) -> VideoRun:
    """Detection on video files, cameras and streams: a `VideoRun` to iterate (see its
    options: thresh, nms, letterbox, keep_frames, track, queue_size, reconnect, backoff,
    on_event). Sources are `Source`s or what a user would type (`clip.mp4`, `0`,
    `rtsp://...`, `cams.streams`)."""
    return VideoRun(model, sources, **options)
