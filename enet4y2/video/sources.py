"""What a `detect` argument names: a video file, a camera (`0`, `/dev/video0`), a live
stream (`rtsp://`, `http(s)://`, `udp://`, ...), a `.streams` file listing several
streams, or none of these (an image: the caller's business). Opening one is here too."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2

from enet4y2.errors import VideoError

VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mkv", ".mov", ".m4v", ".webm", ".mpg",
                            ".mpeg", ".wmv", ".flv", ".ts", ".mts", ".3gp", ".asf", ".ogv"})
STREAM_SCHEMES = ("rtsp", "rtsps", "rtmp", "http", "https", "udp", "tcp", "srt", "rtp")
_URL = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://")
_DEVICE = re.compile(r"^/dev/video(\d+)$")

Kind = Literal["file", "camera", "stream"]


@dataclass(frozen=True)
class Source:
    """One video source. `target` is what cv2.VideoCapture opens (a path, URL or camera
    index); `name` is what the user wrote (used in records and output names)."""

    name: str
    kind: Kind
    target: str | int

    @property
    def live(self) -> bool:
        """Cameras and streams run in real time: the newest frame wins."""
        return self.kind != "file"


def _scheme(arg: str) -> str | None:
    m = _URL.match(arg)
    return m.group(1).lower() if m else None


def is_video_source(arg: str) -> bool:
    """True when `arg` is a video file, camera, stream URL or `.streams` file."""
    if arg.isdigit() or _DEVICE.match(arg) or _scheme(arg) in STREAM_SCHEMES:
        return True
    return Path(arg).suffix.lower() in VIDEO_SUFFIXES | {".streams"}


def classify(arg: str) -> Source:
    """The `Source` for one argument that `is_video_source` accepted (not `.streams`)."""
    scheme = _scheme(arg)
    if scheme is not None:
        if scheme not in STREAM_SCHEMES:
            raise VideoError(f"{arg}: unsupported stream scheme {scheme}:// — use one of "
                             + ", ".join(f"{s}://" for s in STREAM_SCHEMES))
        return Source(arg, "stream", arg)
    if arg.isdigit():
        return Source(arg, "camera", int(arg))
    if (m := _DEVICE.match(arg)) is not None:
        return Source(arg, "camera", int(m.group(1)))
    path = Path(arg)
    if not path.is_file():
        what = "is a folder" if path.is_dir() else "no such video file"
        raise VideoError(f"{arg}: {what}")
    if not os.access(path, os.R_OK):
        raise VideoError(f"{arg}: cannot be read (permission denied)")
    return Source(arg, "file", str(path))


def read_streams_file(path: Path) -> list[Source]:
    """The sources a `.streams` file lists: one URL, camera or video per line; blank
    lines and lines starting with `#` skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise VideoError(f"{path}: no such .streams file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise VideoError(f"{path}: cannot be read ({exc})") from None
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        entry = line.strip()
        if not entry or entry.startswith("#"):
            continue
        if not is_video_source(entry) or entry.endswith(".streams"):
            raise VideoError(f"{path}:{number}: {entry!r} is not a stream, camera or video")
        out.append(classify(entry))
    if not out:
        raise VideoError(f"{path}: lists no streams")
    return out


def parse_sources(args: list[str]) -> list[Source]:
    """Every video source the arguments name, `.streams` files expanded, in order."""
    out: list[Source] = []
    for arg in args:
        if Path(arg).suffix.lower() == ".streams" and _scheme(arg) is None:
            out.extend(read_streams_file(Path(arg)))
        else:
            out.append(classify(arg))
    names = [s.name for s in out]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise VideoError(f"{dup}: named twice — give each source once")
    return out


def open_capture(source: Source) -> cv2.VideoCapture:
    """An opened cv2.VideoCapture (FFmpeg or V4L2 backend), or `VideoError`."""
    if source.kind == "camera":
        cap = cv2.VideoCapture(source.target, cv2.CAP_V4L2)
        if not cap.isOpened():
            cap = cv2.VideoCapture(source.target)
    else:
        cap = cv2.VideoCapture(str(source.target), cv2.CAP_FFMPEG)
    if not cap.isOpened():
        cap.release()
        hint = {"file": "not a video OpenCV can decode, or corrupt/truncated",
                "camera": "no such camera, or it is in use",
                "stream": "nothing answers there, or it is not a video stream"}[source.kind]
        raise VideoError(f"{source.name}: cannot be opened ({hint})")
    return cap


def output_stem(source: Source) -> str:
    """A file-name stem for a source's annotated video (`clip`, `camera0`,
    `rtsp_host_8554_live`)."""
    if source.kind == "file":
        return Path(source.name).stem
    if source.kind == "camera":
        return f"camera{source.target}"
    rest = _URL.sub("", source.name)
    return re.sub(r"[^A-Za-z0-9._-]+", "_", rest).strip("_.")[:80] or "stream"
