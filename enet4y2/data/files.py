"""darknet's data files, as darknet reads them: the `.data` file's `key = value` pairs,
image list files, names files, and the rule that maps an image path to its label file.

One implementation for everyone (anchors, pre-flight, train, eval, the binding). The
parsers are pure; the `read_*` functions at the end are their thin file-reading wrappers.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from enet4y2.errors import DataError, MissingFileError
from enet4y2.fileio import regular_file

#: Extensions `replace_image_to_label` swaps for `.txt` (src/utils.c), in its order.
IMAGE_EXTENSIONS = (".jpg", ".JPG", ".jpeg", ".JPEG", ".png", ".PNG", ".bmp", ".BMP",
                    ".ppm", ".PPM", ".tiff", ".TIFF")
#: Folder renames `replace_image_to_label` applies, in its order (first occurrence each).
_LABEL_FOLDERS = (("/images/train2017/", "/labels/train2017/"),
                  ("/images/val2017/", "/labels/val2017/"),
                  ("/JPEGImages/", "/labels/"),
                  ("\\images\\train2017\\", "\\labels\\train2017\\"),
                  ("\\images\\val2017\\", "\\labels\\val2017\\"),
                  ("\\images\\train2014\\", "\\labels\\train2014\\"),
                  ("\\images\\val2014\\", "\\labels\\val2014\\"),
                  ("/images/train2014/", "/labels/train2014/"),
                  ("/images/val2014/", "/labels/val2014/"),
                  ("\\JPEGImages\\", "\\labels\\"))


@dataclass(frozen=True)
class ListFile:
    """An image list as darknet's `get_paths` sees it: one path per line."""

    paths: list[str]  # every line, stripped of its line ending (blank ones included)
    blank_lines: list[int]  # 1-based numbers of blank lines (darknet crashes on them)

    def images(self) -> list[tuple[int, str]]:
        """(line number, path) of the non-blank lines."""
        return [(i, p) for i, p in enumerate(self.paths, 1) if p.strip()]


def label_path(image_path: str) -> str:
    """The label file darknet reads for an image (`replace_image_to_label`): COCO's and
    VOC's folder names map images/ to labels/, otherwise the .txt sits beside the image."""
    out = image_path
    for old, new in _LABEL_FOLDERS:
        out = out.replace(old, new, 1)
    out = out.strip()
    for ext in IMAGE_EXTENSIONS:
        if out.endswith(ext):
            return out[: -len(ext)] + ".txt"
    return out


def parse_data_file(text: str) -> dict[str, str]:
    """`key = value` pairs of a darknet .data file, whitespace removed as darknet does."""
    out: dict[str, str] = {}
    for raw in text.splitlines():
        line = "".join(raw.split())
        if not line or line[0] in "#;":
            continue
        key, sep, value = line.partition("=")
        if sep and key not in out:
            out[key] = value
    return out


def data_file_text(options: dict[str, str]) -> str:
    """A .data file's text from its `key = value` pairs (parse_data_file reads it back)."""
    return "".join(f"{key} = {value}\n" for key, value in options.items())


def replace_data_value(text: str, key: str, value: str) -> str:
    """The .data text with `key`'s value replaced (added when missing); other lines kept."""
    lines = text.splitlines()
    for i, raw in enumerate(lines):
        line = "".join(raw.split())
        if line and line[0] not in "#;" and line.partition("=")[0] == key and "=" in line:
            lines[i] = f"{key} = {value}"
            break
    else:
        lines.append(f"{key} = {value}")
    return "\n".join(lines) + "\n"


def parse_list(text: str) -> ListFile:
    """An image list (train.txt): darknet keeps each line minus its `\\n`/`\\r\\n`."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the final newline does not start a line
    paths = [line[:-1] if line.endswith("\r") else line for line in lines]
    blanks = [i for i, p in enumerate(paths, 1) if not p.strip()]
    return ListFile(paths, blanks)


def parse_names(text: str) -> list[str]:
    """Class names, one per non-empty line."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def _read(path: str | os.PathLike, what: str, hint: str) -> str:
    """The text of a small input file: UTF-8 with bad bytes replaced (darknet reads
    bytes), a regular file only (a FIFO would hang, a folder cannot be read)."""
    p = regular_file(path, what, hint)
    try:
        return p.read_text(errors="replace")
    except OSError as exc:
        raise MissingFileError(f"{what} {p} cannot be read ({exc.strerror}) — {hint}") \
            from None


def read_data_file(path: str | os.PathLike, hint: str = "check --data") -> dict[str, str]:
    return parse_data_file(_read(path, "data file", hint))


def read_list(path: str | os.PathLike, hint: str = "check the list file") -> list[str]:
    """The non-blank image paths of a list file, stripped; DataError when there are none."""
    images = [p.strip() for _, p in parse_list(_read(path, "image list", hint)).images()]
    if not images:
        raise DataError(f"image list {path} is empty — list one image path per line")
    return images


def read_names(path: str | os.PathLike, hint: str = "check names= or --names") -> list[str]:
    names = parse_names(_read(path, "names file", hint))
    if not names:
        raise DataError(f"names file {path} has no names — write one class name per line")
    return names
