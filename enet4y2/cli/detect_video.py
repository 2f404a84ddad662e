"""`enet4y2 detect` on video files, cameras and streams: the options it adds, the
argument type that lets URLs and cameras through, and the run that writes the outputs
(annotated videos, JSON lines, MOT text) and shows progress. Outputs are finalised on
every way out: the end, a broken input, Ctrl-C."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from enet4y2.cli.options import check_input_file
from enet4y2.cli.terminal import terminal
from enet4y2.errors import OutputError

F = TypeVar("F", bound=Callable[..., Any])


class SourceParam(click.ParamType):
    """An image file (checked as today), or a video source: checked when it is opened."""

    name = "source"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> str:
        from enet4y2.video.sources import is_video_source

        value = os.fspath(value)
        return value if is_video_source(value) else check_input_file(value, "image")


def video_options(func: F) -> F:
    """The options `detect` has for video sources."""
    options = [
        click.option("--track", is_flag=True,
                     help="Track ids per class with ByteTrack (pip install "
                          "'enet4y2[trackers]')."),
        click.option("--mot", type=click.Path(dir_okay=False, path_type=Path),
                     help="Write MOTChallenge text (one video source)."),
        click.option("--reconnect", type=click.IntRange(min=0), default=0,
                     show_default=True,
                     help="Reopen a live stream that drops, up to N times in a row."),
        click.option("--queue", "queue_size", type=click.IntRange(min=1), default=8,
                     show_default=True, help="Frames decoded ahead of inference (files)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def sources(args: list, mot: Path | None) -> list:
    """The video sources the arguments name (`.streams` expanded), checked before the
    model loads: a missing file or a bad option combination stops here. `Source`s given
    are kept as they are."""
    from enet4y2.video.sources import Source, parse_sources

    found = [a for a in args if isinstance(a, Source)]
    found += parse_sources([a for a in args if not isinstance(a, Source)])
    if mot is not None and len(found) > 1:
        raise click.UsageError(f"--mot {mot}: one MOT file holds one video source, "
                               f"{len(found)} were given")
    return found


def run(model: Any, args: list, *, thresh: float, nms: float,
        letterbox: bool | None, as_json: bool, out: Path | None, mot: Path | None,
        track: bool, reconnect: int, queue_size: int) -> None:
    """Detect on the video sources in `args` (`Source`s, or arguments as typed) with
    `model`, writing what was asked."""
    from enet4y2.video import outputs
    from enet4y2.video.pipeline import detect_video

    _quiet_decoders()
    if out is not None:
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"--out {out}: {exc.strerror} — choose a writable folder") \
                from None
    run_ = detect_video(model, sources(args, mot), thresh=thresh, nms=nms,
                        letterbox=letterbox, keep_frames=out is not None, track=track,
                        queue_size=queue_size, reconnect=reconnect, on_event=terminal.info)
    with run_:
        paths = outputs.video_paths(run_.sources, out) if out is not None else {}
        sinks = {}
        mot_file = outputs.MotFile(mot) if mot is not None else None
        view = _Progress(run_)
        try:
            for result in run_:
                if as_json:
                    terminal.json(outputs.record(result), indent=None)
                if mot_file is not None:
                    mot_file.add(result)
                if out is not None:
                    sink = sinks.get(result.source)
                    if sink is None:
                        reader = next(r for r in run_.readers
                                      if r.source.name == result.source)
                        sink = sinks[result.source] = outputs.VideoSink(
                            paths[result.source], reader.fps,
                            (result.width, result.height), render=outputs.annotate)
                    sink.write(result)
                view.advance()
        finally:
            view.stop()
            if mot_file is not None:
                mot_file.close()
            for sink in sinks.values():
                written = sink.close()
                if written is not None:
                    terminal.info(f"wrote {written} ({sink.frames} frames)")
    terminal.info(view.summary())


def _quiet_decoders() -> None:
    """FFmpeg's and OpenCV's own warnings (a stream that ends, a backend probe) would
    interleave with progress; what matters is reported in our own lines. ENET4Y2_DEBUG=1
    keeps them."""
    if os.environ.get("ENET4Y2_DEBUG", "") not in ("", "0"):
        return
    import cv2

    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET, read on first open
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)


class _Progress:
    """Frames/s; position and ETA for files; rate and dropped frames for live sources."""

    def __init__(self, run_) -> None:
        self.run = run_
        counts = [r.frame_count for r in run_.readers]
        self.total = sum(counts) if all(c is not None for c in counts) else None
        self.live = any(r.source.live for r in run_.readers)
        self.progress = terminal.progress(transient=True)
        self.task = self.progress.add_task("video", total=self.total)
        self.shown = terminal.err.is_terminal  # no bar's remains in a log or a pipe
        if self.shown:
            self.progress.start()
        self.t0 = time.perf_counter()
        self.last = 0.0

    def rate(self) -> float:
        return self.run.frames / max(time.perf_counter() - self.t0, 1e-9)

    def advance(self) -> None:
        now = time.perf_counter()
        self.progress.advance(self.task)
        if now - self.last > 0.5:
            self.last = now
            text = f"{self.rate():.1f} frames/s"
            if self.live:
                text += f", {self.run.dropped} dropped"
            self.progress.update(self.task, description=text)

    def stop(self) -> None:
        if self.shown:
            self.progress.stop()

    def summary(self) -> str:
        text = f"{self.run.frames} frames, {self.rate():.1f} frames/s"
        if self.live:
            text += f", {self.run.dropped} dropped (live: the newest frame wins)"
        return text
