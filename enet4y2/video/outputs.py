"""What a video run writes: an annotated video per source (encoded in its own thread,
written under a temporary name and renamed when finalised, so a half-written file never
carries the final name), JSON-lines records per frame, and MOTChallenge text."""

from __future__ import annotations

import math
import os
import queue
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from enet4y2.detect.output import draw
from enet4y2.errors import OutputError
from enet4y2.fileio import atomic_write, same_file
from enet4y2.video.pipeline import FrameResult
from enet4y2.video.sources import Source, output_stem

DEFAULT_FPS = 25.0
_END = object()


def record(result: FrameResult) -> dict:
    """One JSON-lines record for a frame (track ids with tracking, dropped frames for
    live sources)."""
    ids = result.track_ids
    dets = []
    for i, d in enumerate(result.detections):
        item = {"class_id": d.class_id, "name": d.name, "confidence": round(d.confidence, 6),
                "x": round(d.x, 2), "y": round(d.y, 2), "w": round(d.w, 2),
                "h": round(d.h, 2)}
        if ids is not None:
            item["track_id"] = int(ids[i]) if ids[i] >= 0 else None
        dets.append(item)
    return {"source": result.source, "frame": result.index,
            "timestamp": round(result.timestamp, 6), "width": result.width,
            "height": result.height, "dropped": result.dropped, "detections": dets}


def mot_lines(result: FrameResult) -> str:
    """MOTChallenge rows (`frame,id,left,top,width,height,conf,-1,-1,-1`, frames from 1);
    id -1 without tracking or for a box with no confirmed track."""
    ids = result.track_ids
    out = []
    for i, (x, y, w, h) in enumerate(result.detections.boxes.tolist()):
        tid = int(ids[i]) if ids is not None else -1
        out.append(f"{result.index + 1},{tid},{x:.2f},{y:.2f},{w:.2f},{h:.2f},"
                   f"{float(result.detections.scores[i]):.4f},-1,-1,-1\n")
    return "".join(out)


def annotate(result: FrameResult) -> np.ndarray:
    """The frame with its boxes drawn, and `#id` under each tracked box."""
    if result.image is None:
        raise ValueError("annotate needs the frame: detect with keep_frames=True")
    image = draw(result.image, result.detections)
    if result.track_ids is not None:
        for (x, y, _w, h), tid in zip(result.detections.boxes.tolist(),
                                      result.track_ids.tolist(), strict=True):
            if tid >= 0 and math.isfinite(x + y + h):
                cv2.putText(image, f"#{tid}", (int(x), int(y + h) - 3),
                            cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1, cv2.LINE_AA)
    return image


def video_paths(sources: list[Source], out_dir: Path) -> dict[str, Path]:
    """Where each source's annotated video goes: `<stem>.mp4` in `out_dir`, never an
    input, `-2`, `-3`... for repeated stems."""
    taken: set[str] = set()
    out = {}
    inputs = [Path(s.name) for s in sources if s.kind == "file"]
    for source in sources:
        stem, n = output_stem(source), 1
        while True:
            name = f"{stem}{'' if n == 1 else f'-{n}'}.mp4"
            if name not in taken and not any(same_file(out_dir / name, p) for p in inputs):
                break
            n += 1
        taken.add(name)
        out[source.name] = out_dir / name
    return out


class VideoSink:
    """An mp4 (MPEG-4 video) written by a thread from a bounded queue; `close()`
    finalises it and renames it into place (also after an error or Ctrl-C). With
    `render`, what is written is `render(item)`, made in the writer's thread (e.g.
    `annotate`: drawing stays off the inference thread)."""

    def __init__(self, path: Path, fps: float, size: tuple[int, int],
                 queue_size: int = 16,
                 render: Callable[[Any], np.ndarray] | None = None) -> None:
        self.path = path
        self._render = render
        self.fps = fps if fps > 0 else DEFAULT_FPS
        self.size = size
        self.tmp = path.with_name(f".{path.stem}.partial-{os.getpid()}{path.suffix}")
        self._writer = cv2.VideoWriter(str(self.tmp), cv2.VideoWriter_fourcc(*"mp4v"),
                                       self.fps, size)
        if not self._writer.isOpened():
            self._writer.release()
            self.tmp.unlink(missing_ok=True)
            raise OutputError(f"{path}: cannot write a video there")
        self.frames = 0
        self.error: BaseException | None = None
        self._queue: queue.Queue = queue.Queue(maxsize=queue_size)
        self._thread = threading.Thread(target=self._run, name=f"writer {path.name}",
                                        daemon=True)
        self._thread.start()
        self._closed = False

    def write(self, item: Any) -> None:
        """Queue one BGR frame, or what `render` makes one of; a frame of another size
        (e.g. after a reconnect) is resized to the video's."""
        if self.error is not None:
            raise OutputError(f"{self.path}: {self.error}")
        self._queue.put(item)

    def _run(self) -> None:
        while (item := self._queue.get()) is not _END:
            if self.error is not None:
                continue
            try:
                image = self._render(item) if self._render is not None else item
                if (image.shape[1], image.shape[0]) != self.size:
                    image = cv2.resize(image, self.size)
                self._writer.write(image)
                self.frames += 1
            except Exception as exc:  # cv2.error, a failed render: said by write/close
                self.error = exc

    def close(self) -> Path | None:
        """Finish writing and move the video to its name; the path, or None when no
        frame was written (the empty file is removed)."""
        if self._closed:
            return self.path if self.path.exists() else None
        self._closed = True
        self._queue.put(_END)
        self._thread.join()
        self._writer.release()
        if self.frames == 0:
            self.tmp.unlink(missing_ok=True)
            return None
        os.replace(self.tmp, self.path)
        return self.path


class MotFile:
    """MOTChallenge rows collected while running, written atomically by `close()`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._parts: list[str] = []

    def add(self, result: FrameResult) -> None:
        self._parts.append(mot_lines(result))

    def close(self) -> None:
        atomic_write(self.path, "".join(self._parts))
