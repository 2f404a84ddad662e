"""Reading an annotation source from disk: where each format keeps its files, which
folder its image paths are relative to, and image sizes from the files when the
annotations lack them. The parsing itself is `enet4y2.data.readers` (pure)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from enet4y2.data import readers
from enet4y2.data.annotations import ImageAnn, Source, source_class_order
from enet4y2.data.files import IMAGE_EXTENSIONS, label_path, read_names
from enet4y2.errors import DataError, MissingFileError

FORMATS = ("coco", "voc", "labelme", "cvat", "yolo")
#: names files a YOLO folder may hold, in the order they are looked for
YOLO_NAMES = ("obj.names", "classes.txt", "classes.names")


@dataclass
class Located:
    """A source read from disk: its annotations and the folder its image paths start in."""

    source: Source
    images_root: Path


def _bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise MissingFileError(f"{path} cannot be read ({exc.strerror})") from None


def _json(path: Path) -> object:
    try:
        return json.loads(_bytes(path))
    except ValueError as exc:
        raise DataError(f"{path}: not valid JSON ({exc}) — fix or remove the file") from None


def _need(path: Path, kind: str, directory: bool) -> Path:
    ok = path.is_dir() if directory else path.is_file()
    if not ok:
        what = "folder" if directory else "file"
        raise MissingFileError(f"{path}: no such {what} ({kind} source) — check SRC")
    return path


def _files(folder: Path, suffixes: tuple[str, ...], skip: frozenset[Path]) -> list[Path]:
    """Files under `folder` with one of `suffixes`, sorted; the folders in `skip` (the
    output and its staging folders, resolved) left out."""
    out = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        here = Path(dirpath)
        if skip:
            dirnames[:] = [d for d in dirnames if (here / d).resolve() not in skip]
        dirnames.sort()
        out.extend(here / f for f in sorted(filenames) if f.endswith(suffixes))
    return out


def read_source(fmt: str, src: Path, images: Path | None = None, names: Path | None = None,
                skip: frozenset[Path] = frozenset()) -> Located:
    """The annotations of `src` in format `fmt` (see `enet4y2 data import --help`); a
    file that parses but lacks what the format needs is a DataError, not a crash."""
    try:
        return _read_source(fmt, src, images, names, skip)
    except DataError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        what = f"{type(exc).__name__}: {exc}"
        raise DataError(f"{src}: not a well-formed {fmt} source ({what}) — check --format "
                        "and the file") from None


def _read_source(fmt: str, src: Path, images: Path | None, names: Path | None,
                 skip: frozenset[Path]) -> Located:
    if fmt == "coco":
        doc = _json(_need(src, "COCO", False))
        return Located(readers.coco_source(doc, str(src)), images or src.parent)
    if fmt == "cvat":
        source = readers.cvat_source(_bytes(_need(src, "CVAT", False)), str(src))
        default = src.parent / "images" if (src.parent / "images").is_dir() else src.parent
        return Located(source, images or default)
    if fmt == "voc":
        _need(src, "VOC", True)
        xml_dir = src / "Annotations" if (src / "Annotations").is_dir() else src
        found = [readers.voc_image(_bytes(p), str(p), p.stem + ".jpg")
                 for p in _files(xml_dir, (".xml",), skip)]
        default = src / "JPEGImages" if (src / "JPEGImages").is_dir() else xml_dir
        return Located(_with_classes(found), images or default)
    if fmt == "labelme":
        _need(src, "LabelMe", True)
        found, skipped = [], 0
        for p in _files(src, (".json",), skip):
            doc = _json(p)
            image, n = readers.labelme_image(doc, str(p), p.parent.relative_to(src).as_posix())
            found.append(image)
            skipped += n
        located = Located(_with_classes(found), images or src)
        located.source.skipped_shapes = skipped
        return located
    if fmt == "yolo":
        return _yolo(_need(src, "YOLO", True), names, skip)
    raise DataError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")


def _with_classes(images: list[ImageAnn]) -> Source:
    return Source(images, source_class_order([b.label for im in images for b in im.boxes]))


def _yolo_names(src: Path, names: Path | None) -> list[str]:
    if names is not None:
        return read_names(names)
    for candidate in YOLO_NAMES:
        if (src / candidate).is_file():
            return read_names(src / candidate)
    found = sorted(src.glob("*.names"))
    if len(found) == 1:
        return read_names(found[0])
    raise DataError(f"{src}: no class names ({', '.join(YOLO_NAMES)} or one *.names) — "
                    "pass --names FILE")


def _yolo(src: Path, names_file: Path | None, skip: frozenset[Path]) -> Located:
    names = _yolo_names(src, names_file)
    found = []
    for image in _files(src, IMAGE_EXTENSIONS, skip):
        label = Path(label_path(str(image)))
        text = label.read_text(errors="replace") if label.is_file() else ""
        width, height = image_size(image)
        found.append(readers.yolo_image(text, image.relative_to(src).as_posix(), width, height,
                                        names, str(label)))
    return Located(Source(found, list(names), sizes_read=len(found)), src)


def image_size(path: str | Path) -> tuple[int, int]:
    """(width, height) from the image file's header (OpenCV decodes it as a fallback)."""
    from enet4y2.evaluate.yolo_gt import image_size as header_size

    return header_size(path)


def fill_sizes(images: list[ImageAnn], paths: list[str],
               progress: Callable[[int], None] | None = None) -> int:
    """Sizes the annotations lack, read from the files; how many were read."""
    read = 0
    for image, path in zip(images, paths, strict=True):
        if not image.width or not image.height:
            image.width, image.height = image_size(path)
            read += 1
            if progress:
                progress(read)
    return read
