"""The work a worker does: open the model once, then turn shard after shard into JSON lines.

`detect` lines are `enet4y2 detect --json`'s records (an unreadable image: a record with its
`error`); `eval` lines are `{"results": [COCO results]}` per image (or an `error`)."""

from __future__ import annotations

import json
import os
import time
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from enet4y2 import images
from enet4y2.errors import ImageError, MissingFileError
from enet4y2.fileio import strict

KINDS = ("detect", "eval")


@dataclass(frozen=True)
class ModelSpec:
    """How to open the model: what `open_model` takes (paths as strings)."""

    cfg: str | None = None
    weights: str | None = None
    model: str | None = None
    backend: str | None = None
    device: str | None = None
    batch: int = 1
    names: str | None = None

    def files(self) -> dict[str, str | None]:
        return {"cfg": self.cfg, "weights": self.weights, "model": self.model,
                "names": self.names}

    def settings(self) -> dict:
        return {"backend": self.backend or ("darknet" if self.model is None
                                            else "onnxruntime"),
                "device": self.device, "batch": self.batch}


@dataclass(frozen=True)
class Job:
    """A picklable description of the work: kind, model, options (detect: thresh, nms,
    letterbox; eval: thresh, letterbox, category_ids)."""

    kind: str
    model: ModelSpec
    options: dict = field(default_factory=dict)


@dataclass
class ShardResult:
    shard_id: int
    lines: list[str]
    failures: int
    seconds: float
    worker: str


def _decode(path: str):
    try:
        return images.decode(path), None
    except (ImageError, MissingFileError) as exc:
        return None, str(exc)
    except OSError as exc:
        return None, f"cannot read {path}: {exc.strerror or exc}"


def decoded(paths: Sequence[str], workers: int = 2, ahead: int = 8) -> Iterator[tuple]:
    """(path, image or None, error or None) in order, decoding ahead in threads."""
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="decode") as pool:
        pending: deque = deque()
        for path in paths:
            pending.append((path, pool.submit(_decode, path)))
            if len(pending) > ahead:
                p, fut = pending.popleft()
                yield (p, *fut.result())
        while pending:
            p, fut = pending.popleft()
            yield (p, *fut.result())


def line(record: object) -> str:
    """One JSON line as `enet4y2 detect --json` writes it."""
    return json.dumps(strict(record), allow_nan=False)


class Worker:
    """The model, opened once; `run(shard)` for every shard this worker gets."""

    def __init__(self, job: Job) -> None:
        from enet4y2.runtime import open_model

        if job.kind not in KINDS:
            raise ValueError(f"unknown job kind {job.kind!r}")
        self.job = job
        m = job.model
        self.net = open_model(m.cfg, m.weights, model=m.model, backend=m.backend,
                              device=m.device, batch=m.batch, names=m.names)
        self.name = f"{os.uname().nodename}:{os.getpid()}"
        if job.kind == "eval":
            from enet4y2.evaluate.results import category_map

            ids = job.options["category_ids"]
            self.category_ids = category_map(ids, len(ids))
            if self.net.classes != len(self.category_ids):
                category_map(self.category_ids, self.net.classes)  # the one-line mismatch

    def close(self) -> None:
        self.net.close()

    def run(self, shard) -> ShardResult:
        t0 = time.perf_counter()
        self.failures = 0
        lines = list(self._detect(shard.items) if self.job.kind == "detect"
                     else self._eval(shard.items))
        return ShardResult(shard.id, lines, self.failures, time.perf_counter() - t0,
                           self.name)

    def _error(self, path: str, error: str) -> str:
        self.failures += 1
        return line({"image": path, "error": error})

    def _detect(self, paths: Sequence[str]) -> Iterator[str]:
        from enet4y2.detect.output import to_record

        o = self.job.options
        for path, image, error in decoded(paths):
            if error is not None:
                yield self._error(path, error)
                continue
            t0 = time.perf_counter()
            dets = self.net.detect(image, thresh=o["thresh"], nms=o["nms"],
                                   letterbox=o["letterbox"])
            ms = (time.perf_counter() - t0) * 1000
            yield line(to_record(Path(path), image, dets, ms))

    def _eval(self, items: Sequence[tuple[str, int]]) -> list[str]:
        """Like `evaluate.inference.batched_detections`: batches of `net.batch`."""
        from enet4y2.evaluate.results import detections_to_results

        o = self.job.options
        kwargs = {"thresh": o["thresh"], "hier": 0.5, "nms": 0.45,
                  "letterbox": o["letterbox"] or self.net.letterbox_default}
        batch = max(1, int(getattr(self.net, "batch", 1)))
        out: list[str] = [""] * len(items)
        chunk: list[tuple[int, object]] = []

        def flush() -> None:
            if len(chunk) == 1:
                results = [self.net.detect(chunk[0][1], **kwargs)]
            else:
                results = self.net.detect_batch([im for _, im in chunk], **kwargs)
            for (i, image), dets in zip(chunk, results, strict=True):
                path, image_id = items[i]
                coco = detections_to_results(image_id, image.shape[1], image.shape[0],
                                             dets.classes, dets.scores, dets.boxes,
                                             self.category_ids)
                out[i] = line({"image": path, "results": coco})
            chunk.clear()

        paths = [p for p, _ in items]
        for i, (path, image, error) in enumerate(decoded(paths, ahead=batch * 4)):
            if error is not None:
                out[i] = self._error(path, error)
                continue
            chunk.append((i, image))
            if len(chunk) == batch:
                flush()
        if chunk:
            flush()
        return out
