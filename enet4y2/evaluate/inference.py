"""Batched inference for eval: images decoded in a thread pool while the network runs.

OpenCV's decode releases the GIL and so does the cffi call into darknet, so a few
decode threads keep the next batches ready while the current one is on the network.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from enet4y2.errors import ImageError, MissingFileError


def decode_image(path: str) -> np.ndarray:
    """BGR uint8 image from a file; a one-line error when it cannot be read."""
    import cv2

    if not os.path.isfile(path):
        raise MissingFileError(f"image {path} not found; fix the image list")
    # darknet's loader and COCO's width/height ignore EXIF orientation; so must we
    image = cv2.imread(path, cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    if image is None:
        raise ImageError(f"cannot decode image {path}; remove it from the list or replace it")
    return image


def batched_detections(net, image_paths: Sequence[str], *, thresh: float = 0.005,
                       hier: float = 0.5, nms: float = 0.45, letterbox: bool = False,
                       workers: int | None = None,
                       on_batch: Callable[[int], None] | None = None,
                       ) -> Iterator[tuple[int, tuple[int, int], object]]:
    """Yield (index, (width, height), detections) for every image, in list order.

    Batches of `net.batch` go through `net.detect_batch` (`net.detect` when batch is 1);
    up to three batches ahead are decoding meanwhile. `on_batch(n)` after each batch."""
    batch = max(1, int(getattr(net, "batch", 1)))
    workers = workers or min(8, max(2, (os.cpu_count() or 2)))
    ahead = batch * 3
    kwargs = {"thresh": thresh, "hier": hier, "nms": nms, "letterbox": letterbox}
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="decode") as pool:
        pending: deque[Future] = deque()
        next_index = 0

        def fill() -> None:
            nonlocal next_index
            while len(pending) < ahead + batch and next_index < len(image_paths):
                pending.append(pool.submit(decode_image, image_paths[next_index]))
                next_index += 1

        done = 0
        try:
            fill()
            while pending:
                futures = [pending.popleft() for _ in range(min(batch, len(pending)))]
                images = [f.result() for f in futures]
                fill()  # keep the pool busy while the network runs
                if len(images) == 1:
                    results = [net.detect(images[0], **kwargs)]
                else:
                    results = net.detect_batch(images, **kwargs)
                for offset, (image, dets) in enumerate(zip(images, results, strict=True)):
                    yield done + offset, (image.shape[1], image.shape[0]), dets
                done += len(images)
                if on_batch:
                    on_batch(len(images))
        finally:
            for future in pending:
                future.cancel()
