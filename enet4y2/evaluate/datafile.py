"""What eval reads from darknet's habits: the .data file, the image list, the names."""

from __future__ import annotations

import os
from pathlib import Path

from enet4y2.errors import DataError, MissingFileError


def parse_data_file(text: str) -> dict[str, str]:
    """darknet `.data` text (`key = value` lines, `#` comments) -> dict."""
    options: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        key, sep, value = line.partition("=")
        if sep:
            options[key.strip()] = value.strip()
    return options


def parse_list(text: str) -> list[str]:
    """An image list (one path a line; blank lines and CR ignored, as darknet trims)."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def parse_names(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _read(path: str | os.PathLike, what: str, hint: str) -> str:
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"{what} {path} not found; {hint}")
    return path.read_text(errors="replace")


def read_data_file(path: str | os.PathLike) -> dict[str, str]:
    return parse_data_file(_read(path, "data file", "give --data coco.data"))


def read_list(path: str | os.PathLike) -> list[str]:
    images = parse_list(_read(path, "image list", "give --list or set valid= in the .data"))
    if not images:
        raise DataError(f"image list {path} is empty; list the images to evaluate")
    return images


def read_names(path: str | os.PathLike) -> list[str]:
    return parse_names(_read(path, "names file", "set names= in the .data"))


def cfg_letterbox(cfg_text: str) -> bool:
    """True when the cfg's [net] section sets `letter_box=1` (darknet's map then
    letterboxes whatever its command line says)."""
    section = ""
    for line in cfg_text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("["):
            section = line
        elif section in ("[net]", "[network]") and line.replace(" ", "").startswith("letter_box="):
            return line.split("=", 1)[1].strip() not in ("", "0")
    return False
