"""Pre-flight checks before darknet trains: what crashes day three, caught in seconds.

Pure checks over file contents (`check_label_text`, `check_data_options`, `sample`) and
thin I/O around them (`check_data`, `check_images`, the list writers). Images are stat'ed
one by one (missing and 0-byte files), a sample — or all of them — is decoded in parallel
with its label file checked; a progress callback sees (done, total).
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from enet4y2.data.files import ListFile, label_path, parse_data_file, parse_list, parse_names
from enet4y2.data.labels import parse_label_text
from enet4y2.errors import DataError, MissingFileError

__all__ = ["BadFile", "DataCheck", "ImageCheck", "check_data", "check_data_options",
           "check_images", "check_label_text", "clean_list_text", "parse_list",
           "read_listing", "sample", "write_bad_list", "write_clean_list"]

#: Images decoded (with their labels checked) by default; `--check-all` decodes all.
DEFAULT_SAMPLE = 1000
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class BadFile:
    path: str
    problem: str


@dataclass
class DataCheck:
    """A .data file's resolved pieces (paths as darknet will open them from `cwd`)."""

    data: Path
    options: dict[str, str]
    classes: int
    train: Path
    valid: Path | None
    names: Path
    backup: Path
    problems: list[str] = field(default_factory=list)


@dataclass
class ImageCheck:
    list_path: Path
    images: int  # non-blank lines
    decoded: int  # images decoded with their labels checked
    bad: list[BadFile]


# --- pure ---------------------------------------------------------------------------
def check_label_text(text: str, classes: int) -> list[str]:
    """Problems of a darknet label file: lines `class x y w h`, class < classes,
    coordinates in (0, 1] (what `fill_truth_detection` accepts)."""
    return [str(p) for p in parse_label_text(text, classes)[1]]


def check_data_options(options: dict[str, str], cfg_classes: int | None) -> list[str]:
    """Problems of a parsed .data file on its own (keys present, classes a number that
    matches the cfg's)."""
    out = [f"no `{key} =` line" for key in ("classes", "train", "names") if key not in options]
    if "backup" not in options:
        out.append("no `backup =` line (darknet would save weights to /backup/)")
    if "classes" in options:
        try:
            classes = int(options["classes"])
        except ValueError:
            out.append(f"classes = {options['classes']!r} is not a whole number")
        else:
            if cfg_classes is not None and classes != cfg_classes:
                out.append(f"classes = {classes}, but the cfg's yolo layers have "
                           f"classes={cfg_classes}")
    return out


def sample(items: list, size: int | None, seed: int = 0) -> list:
    """`size` items spread over the list (reproducible); all when size is None or large."""
    if size is None or size >= len(items):
        return list(items)
    return [items[i] for i in sorted(random.Random(seed).sample(range(len(items)), size))]


def clean_list_text(list_file: ListFile, bad: Iterable[str]) -> str:
    """The list without blank lines and without the bad images."""
    drop = set(bad)
    kept = [p for p in list_file.paths if p.strip() and p not in drop]
    return "".join(p + "\n" for p in kept)


# --- I/O ----------------------------------------------------------------------------
def _at(value: str, cwd: Path) -> Path:
    p = Path(value)
    return p if p.is_absolute() else cwd / p


def check_data(data: str | Path, cfg_classes: int | None, cwd: Path | None = None
               ) -> DataCheck:
    """Read a .data file and check its keys and the files they name (as darknet opens
    them, relative to `cwd`). Problems are collected, not raised; a missing .data raises."""
    cwd = cwd or Path.cwd()
    data_path = Path(data)
    try:
        options = parse_data_file(data_path.read_text())
    except FileNotFoundError:
        raise MissingFileError(f"{data_path}: no such data file — check --data") from None
    problems = check_data_options(options, cfg_classes)
    classes = int(options["classes"]) if options.get("classes", "").isdigit() else 0
    train = _at(options.get("train", "data/train.list"), cwd)
    valid = _at(options["valid"], cwd) if "valid" in options else None
    names = _at(options.get("names", "data/names.list"), cwd)
    backup = _at(options.get("backup", "/backup/"), cwd)
    for key, path in (("train", train), ("valid", valid), ("names", names)):
        if key in options and path is not None and not path.is_file():
            problems.append(f"{key} = {options[key]}: {path} not found")
    if names.is_file() and "classes" in options:
        count = len(parse_names(names.read_text(errors="replace")))
        if count != classes:
            problems.append(f"{names} has {count} names for classes = {classes}")
    if backup.exists() and not backup.is_dir():
        problems.append(f"backup = {options.get('backup')}: {backup} is not a directory")
    return DataCheck(data_path, options, classes, train, valid, names, backup,
                     [f"{data_path}: {p}" for p in problems])


def read_listing(path: Path) -> ListFile:
    """A list file with its blank lines (see `datafile.read_list` for just the paths)."""
    try:
        return parse_list(path.read_text(errors="surrogateescape"))
    except FileNotFoundError:
        raise MissingFileError(f"{path}: no such list file — fix the .data file") from None


def _stat_problem(path: Path) -> str | None:
    try:
        size = path.stat().st_size
    except OSError:
        return "image not found"
    return "0-byte image" if size == 0 else None


def _decode_problem(path: Path, label: Path, classes: int) -> list[str]:
    out = []
    try:
        raw = np.fromfile(path, dtype=np.uint8)
        # A reduced decode still reads every entropy-coded byte: corruption shows, faster.
        image = cv2.imdecode(raw, cv2.IMREAD_REDUCED_GRAYSCALE_4) if raw.size else None
    except (OSError, cv2.error):
        image = None
    if image is None or image.size == 0:
        out.append("image does not decode")
    try:
        text = label.read_text(errors="replace")
    except OSError:
        out.append(f"no label file {label}")
    else:
        out += [f"{label}: {p}" for p in check_label_text(text, classes)[:3]]
    return out


def check_images(list_path: Path, classes: int, *, sample_size: int | None = DEFAULT_SAMPLE,
                 cwd: Path | None = None, jobs: int | None = None,
                 progress: Progress | None = None) -> ImageCheck:
    """Blank lines, missing and 0-byte images for the whole list; decoding and label
    checks for a sample (all when `sample_size` is None), in parallel threads."""
    cwd = cwd or Path.cwd()
    listing = read_listing(list_path)
    bad = [BadFile(f"{list_path}:{n}", "blank line (darknet crashes on it)")
           for n in listing.blank_lines]
    entries = listing.images()
    to_decode = []
    for _, image in entries:
        path = _at(image, cwd)
        problem = _stat_problem(path)
        if problem:
            bad.append(BadFile(image, problem))
        else:
            to_decode.append((image, path))
    chosen = sample(to_decode, sample_size)
    total, done = len(chosen), 0
    chunk = 64

    def work(part: list[tuple[str, Path]]) -> list[BadFile]:
        found = []
        for image, path in part:
            label = _at(label_path(image), cwd)
            found += [BadFile(image, p) for p in _decode_problem(path, label, classes)]
        return found

    parts = [chosen[i:i + chunk] for i in range(0, total, chunk)]
    with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1) as pool:
        for part, found in zip(parts, pool.map(work, parts), strict=True):
            bad += found
            done += len(part)
            if progress:
                progress(done, total)
    return ImageCheck(list_path, len(entries), total, bad)


def write_bad_list(bad: list[BadFile], out: Path) -> Path:
    """`path<TAB>problem` per line, atomically."""
    from enet4y2.fileio import atomic_write

    return atomic_write(out, "".join(f"{b.path}\t{b.problem}\n" for b in bad).encode())


def write_clean_list(listing: ListFile, bad: list[BadFile], out: Path) -> Path:
    """A cleaned copy of a list (the user's file is never edited)."""
    from enet4y2.fileio import atomic_write

    text = clean_list_text(listing, (b.path for b in bad))
    if not text:
        raise DataError(f"every image of the list is bad, nothing left to train on — fix "
                        f"the files listed beside {out}")
    return atomic_write(out, text.encode(errors="surrogateescape"))
