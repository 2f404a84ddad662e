"""Image files in: decoding as darknet sees them, and decoding ahead in threads.

OpenCV's decoder releases the GIL, and so does the darknet forward pass, so a small pool
keeps the next images ready while the network runs."""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np

from enet4y2.errors import ImageError, MissingFileError


def decode(path: str | os.PathLike) -> np.ndarray:
    """BGR uint8 image; EXIF orientation ignored (darknet and COCO's sizes ignore it)."""
    if not os.path.isfile(path):
        raise MissingFileError(f"image not found: {path}")
    image = cv2.imread(str(path), cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    if image is None:
        raise ImageError(f"cannot decode {path} as an image")
    return image


def prefetch(paths: Iterable, *, workers: int = 2,
             ahead: int = 8) -> Iterator[tuple[object, np.ndarray]]:
    """(path, image) in order, with up to `ahead` images decoding in `workers` threads."""
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="decode") as pool:
        pending: deque = deque()
        it = iter(paths)
        try:
            for path in it:
                pending.append((path, pool.submit(decode, path)))
                if len(pending) >= ahead:
                    break
            while pending:
                path, future = pending.popleft()
                nxt = next(it, None)
                if nxt is not None:
                    pending.append((nxt, pool.submit(decode, nxt)))
                yield path, future.result()
        finally:
            for _, future in pending:
                future.cancel()
