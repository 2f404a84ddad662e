"""darknet label files (`class x_center y_center width height`, normalized), pure, and
the training boxes of a .data file (the one thin reader, for anchors).

One parser for everyone: pre-flight reports every problem, the COCO ground truth built
from labels refuses format and class problems, k-means takes the sizes.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from enet4y2.data.files import label_path, read_data_file, read_list
from enet4y2.errors import DataError, MissingFileError


@dataclass(frozen=True)
class LabelProblem:
    """One bad line: `kind` is "format" (the line is not `class x y w h`; it carries no
    box), "class" (class id outside 0..classes-1) or "range" (a coordinate outside
    (0, 1], what darknet's `fill_truth_detection` rejects)."""

    line: int
    kind: str
    message: str
    raw: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


def parse_label_text(text: str, classes: int | None = None
                     ) -> tuple[np.ndarray, list[LabelProblem]]:
    """(rows, problems): rows (N, 5) float64 of every line that reads as five numbers
    (class problems and range problems included: callers decide), and the problems in
    line order. Blank lines are skipped, as darknet skips them."""
    rows: list[tuple[float, ...]] = []
    problems: list[LabelProblem] = []
    for number, line in enumerate(text.splitlines(), 1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 5:
            problems.append(LabelProblem(number, "format", f"{len(fields)} fields, need "
                                         "`class x y w h`", line.strip()))
            continue
        try:
            cls = int(fields[0])
            coords = [float(v) for v in fields[1:]]
        except ValueError:
            problems.append(LabelProblem(number, "format",
                                         f"not numbers: {line.strip()[:60]!r}", line.strip()))
            continue
        rows.append((cls, *coords))
        if classes is not None and not 0 <= cls < classes:
            problems.append(LabelProblem(number, "class",
                                         f"class {cls} outside 0..{classes - 1}", line.strip()))
        for name, raw, value in zip("xywh", fields[1:], coords, strict=True):
            if not (math.isfinite(value) and 0 < value <= 1):
                problems.append(LabelProblem(number, "range", f"{name}={raw} outside (0, 1]",
                                             line.strip()))
                break
    return np.asarray(rows, dtype=np.float64).reshape(-1, 5), problems


def label_sizes(text: str, name: str = "<labels>") -> np.ndarray:
    """(n, 2) normalized (w, h) of a label file; DataError on a malformed line."""
    rows, problems = parse_label_text(text)
    bad = next((p for p in problems if p.kind == "format"), None)
    if bad is not None:
        raise DataError(f"{name}:{bad.line}: lines must be `class x y w h` — fix the label "
                        "file")
    return rows[:, 3:5].astype(np.float32)


def _resolve(path: str, base: Path) -> Path:
    p = Path(path)
    if p.is_absolute() or p.exists():
        return p
    return base / p  # darknet resolves against the working directory; try the file's too


def boxes_from_data(datafile: str | Path, width: int, height: int,
                    progress: Callable[[Iterable[str], int], Iterable[str]] | None = None
                    ) -> np.ndarray:
    """All training boxes of a .data file as (N,2) sizes in network pixels.
    Images without a label file are skipped (darknet lists them in bad.list)."""
    data_path = Path(datafile)
    options = read_data_file(data_path, "check the .data path")
    if "train" not in options:
        raise DataError(f"{data_path}: no train= line — add train=<list of images>")
    train = _resolve(options["train"], data_path.parent)
    if not train.is_file():
        raise MissingFileError(f"{train}: train list from {data_path} not found — fix "
                               "train= or run from the directory darknet would use")
    images = read_list(train)
    iterator: Iterable[str] = progress(images, len(images)) if progress else images
    chunks = []
    for image in iterator:
        path = _resolve(label_path(image), train.parent)
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        chunks.append(label_sizes(text, os.fspath(path)))
    wh = np.concatenate(chunks) if chunks else np.zeros((0, 2), dtype=np.float32)
    wh = wh[(wh[:, 0] > 0) & (wh[:, 1] > 0)]
    if not len(wh):
        raise DataError(f"{data_path}: no boxes found in the label files of {train} — "
                        "check that labels/ sits beside images/")
    return wh * np.array([width, height], dtype=np.float32)
