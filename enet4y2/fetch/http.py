"""The small HTTP pieces of the download engine (urllib, standard library only): a HEAD
for the size, a small text file, and what a response's headers say about ranges."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from pathlib import Path

from enet4y2.errors import DownloadError

USER_AGENT = "enet4y2-fetch/1"


def remote_size(url: str, timeout: float = 30.0) -> int | None:
    """The Content-Length a HEAD request reports, or None when the server does not say."""
    req = urllib.request.Request(url, method="HEAD", headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            length = resp.headers.get("Content-Length")
            return int(length) if length is not None else None
    except (urllib.error.URLError, OSError, ValueError):
        return None


def fetch_text(url: str, timeout: float = 30.0) -> str | None:
    """A small text file, or None when the server has no such file (404/410)."""
    req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        if exc.code in (404, 410):
            return None
        raise DownloadError(f"HTTP {exc.code} {exc.reason} for {url}; check the URL") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise DownloadError(f"cannot reach {url} ({reason(exc)}); check the URL") from exc


def save_validator(resp, path: Path) -> None:
    """Keep the strong ETag (else Last-Modified) of a transfer that starts at byte 0."""
    etag = resp.headers.get("ETag")
    value = etag if etag and not etag.startswith("W/") else resp.headers.get("Last-Modified")
    if value:
        path.write_text(value + "\n")
    else:
        path.unlink(missing_ok=True)


def range_start(resp) -> int | None:
    """The first byte of a 206 answer, from `Content-Range: bytes START-END/TOTAL`."""
    content_range = resp.headers.get("Content-Range") or ""
    head = content_range.removeprefix("bytes ").split("-", 1)[0].strip()
    return int(head) if head.isdigit() else None


def total_size(resp, have: int) -> int | None:
    """The full file size from Content-Range (206) or Content-Length (200)."""
    content_range = resp.headers.get("Content-Range")
    if resp.status == 206 and content_range and "/" in content_range:
        tail = content_range.rsplit("/", 1)[1].strip()
        if tail.isdigit():
            return int(tail)
    length = resp.headers.get("Content-Length")
    if length is not None and length.isdigit():
        return int(length) + (have if resp.status == 206 else 0)
    return None


def reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or exc
    if isinstance(reason, socket.timeout):
        return "timed out"
    return str(reason) or type(reason).__name__
