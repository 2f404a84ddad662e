"""Batched inference for eval: images decoded in a thread pool while the network runs.

OpenCV's decode releases the GIL and so does the cffi call into darknet, so a few
decode threads keep the next batches ready while the current one is on the network.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator, Sequence

from enet4y2 import images


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
    kwargs = {"thresh": thresh, "hier": hier, "nms": nms, "letterbox": letterbox}
    decoded = images.prefetch(image_paths, workers=workers, ahead=batch * 4)
    done = 0
    while chunk := [image for _, image in itertools.islice(decoded, batch)]:
        if len(chunk) == 1:
            results = [net.detect(chunk[0], **kwargs)]
        else:
            results = net.detect_batch(chunk, **kwargs)
        for offset, (image, dets) in enumerate(zip(chunk, results, strict=True)):
            yield done + offset, (image.shape[1], image.shape[0]), dets
        done += len(chunk)
        if on_batch:
            on_batch(len(chunk))
