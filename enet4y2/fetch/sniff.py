"""What a downloaded file must look like when no hash vouches for it.

Some hosts answer a missing or rate-limited file with an HTML page and status 200; with
no published hash (pjreddie's lists, labels.tgz, the instances zip) only the content can
tell. Each check takes the file and returns why it is not what was asked for (a phrase
that completes "<name> from <url> ..."), or None. No network, no terminal.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from enet4y2.data.coco import list_line_problem

#: bytes looked at to recognise HTML or an archive format
HEAD = 512
#: longest list line accepted (a path)
LINE_MAX = 4096
_HTML_STARTS = (b"<!doctype", b"<html", b"<head", b"<body", b"<title", b"<?xml")
#: (offset, magic) of the archive formats extraction reads: zip (and an empty zip),
#: gzip, bzip2, xz, POSIX/GNU tar
_ARCHIVE_MAGIC = ((0, b"PK\x03\x04"), (0, b"PK\x05\x06"), (0, b"\x1f\x8b"), (0, b"BZh"),
                  (0, b"\xfd7zXZ\x00"), (257, b"ustar"))


def looks_like_html(head: bytes) -> bool:
    """True when the first bytes of a file open an HTML (or XML) document."""
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").lower().startswith(_HTML_STARTS)


def archive_problem(path: Path) -> str | None:
    """Why `path` is not a zip or tar(.gz/.bz2/.xz) archive, judged by its first bytes."""
    with open(path, "rb") as fh:
        head = fh.read(HEAD)
    if looks_like_html(head):
        return "is an HTML page, not an archive"
    if not any(head[at:at + len(magic)] == magic for at, magic in _ARCHIVE_MAGIC):
        return "is not a zip, tar, gzip, bzip2 or xz archive"
    return None


def list_problem(path: Path) -> str | None:
    """Why `path` is not a list of image paths (one per line, UTF-8, at least one);
    read line by line, never whole."""
    with open(path, "rb") as fh:
        if looks_like_html(fh.read(HEAD)):
            return "is an HTML page, not a list of image paths"
        fh.seek(0)
        images = 0
        for number, raw in enumerate(iter(partial(fh.readline, LINE_MAX + 2), b""), 1):
            body = raw.rstrip(b"\r\n")
            if len(body) > LINE_MAX:
                return f"has a line over {LINE_MAX} bytes (line {number})"
            try:
                line = body.decode("utf-8").strip()
            except UnicodeDecodeError:
                return f"is not UTF-8 text (line {number})"
            if line:
                problem = list_line_problem(number, line)
                if problem:
                    return problem
                images += 1
    return None if images else "lists no images"
