"""Disk space before a long fetch: free bytes where files will land, a clear error when
they do not fit, and sizes as people read them."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from enet4y2.errors import DownloadError


def check_disk_space(
    directory: Path, needed: int, free_probe: Callable[[Path], int] | None = None
) -> int:
    """Raise DownloadError when `directory`'s file system has less than `needed` bytes free.

    `free_probe(directory) -> free bytes` is injectable (tests simulate a full disk).
    Returns the free bytes found.
    """
    free = free_bytes(directory, free_probe)
    if needed > free:
        raise DownloadError(
            f"not enough disk space in {directory}: need {human_bytes(needed)}, "
            f"{human_bytes(free)} free; free some space or choose another directory"
        )
    return free


def free_bytes(directory: Path, free_probe: Callable[[Path], int] | None = None) -> int:
    """Free bytes on the file system that holds (or will hold) `directory`."""
    existing = directory
    while not existing.exists():
        existing = existing.parent
    return (free_probe or (lambda d: shutil.disk_usage(d).free))(existing)


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n} B"
