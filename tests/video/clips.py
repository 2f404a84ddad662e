"""Clips made by the tests: synthetic objects (the detector's square and disc) moving
along known paths over a fixed noisy background, written with cv2.VideoWriter, and the
ground truth of every frame."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np


@dataclass(frozen=True)
class Obj:
    track: int  # ground-truth id
    class_id: int  # 0 square, 1 disc (synthetic.NAMES)
    x: int
    y: int
    size: int


def background(width: int, height: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.integers(60, 180, 3)
    return (base + rng.normal(0, 12, (height, width, 3))).clip(0, 255).astype(np.uint8)


def render(bg: np.ndarray, objects: list[Obj]) -> np.ndarray:
    image = bg.copy()
    for o in objects:
        if o.class_id == 0:
            cv2.rectangle(image, (o.x, o.y), (o.x + o.size - 1, o.y + o.size - 1),
                          (30, 40, 220), thickness=-1)
        else:
            r = o.size // 2
            cv2.circle(image, (o.x + r, o.y + r), r, (220, 40, 30), thickness=-1)
    return image


def write_clip(path: Path, frames: list[list[Obj]], *, width: int = 96, height: int = 80,
               fps: float = 10.0, fourcc: str = "mp4v") -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps,
                             (width, height))
    assert writer.isOpened(), path
    bg = background(width, height)
    for objects in frames:
        writer.write(render(bg, objects))
    writer.release()
    return path


def zigzag(n: int, *, width: int = 96, height: int = 80, size: int = 28) -> list[Obj]:
    """One square along a path whose consecutive positions are far apart (>= 14 px), so a
    box one frame early or late is nearer another frame's truth than its own."""
    xs = [4, 32, 60, 46, 18]
    ys = [4, 24, 46, 14, 36]
    return [Obj(1, 0, min(xs[i % 5] + (i // 5) % 3, width - size - 1),
                min(ys[(i * 2) % 5], height - size - 1), size) for i in range(n)]


def two_tracks(n: int, *, width: int = 96, height: int = 80) -> list[list[Obj]]:
    """A square crossing left to right along the top and a disc right to left along the
    bottom, in equal steps that keep both wholly inside the frame: two ground-truth tracks
    with known ids."""
    size = 24
    travel = width - size - 4
    frames = []
    for i in range(n):
        step = round(i * travel / max(n - 1, 1))
        frames.append([Obj(1, 0, 2 + step, 4, size),
                       Obj(2, 1, width - size - 2 - step, height - size - 4, size)])
    return frames
