"""Verification helpers: sha256 and git blob SHA-1 of files, hashing a stream as it
arrives (inline, or on a helper thread), `SHA256SUMS` parsing, and the manifest of
computed hashes. No network, no terminal."""

from __future__ import annotations

import hashlib
import json
import os
import queue
import threading
from pathlib import Path

from enet4y2.fileio import atomic_write

CHUNK = 1 << 20
MANIFEST_NAME = "manifest.json"


def git_blob_sha1_of(path: Path) -> str:
    """The git blob SHA-1 of a file: sha1(b"blob <size>\\0" + content)."""
    digest = hashlib.sha1(f"blob {path.stat().st_size}\0".encode())
    hash_file_into(path, digest)
    return digest.hexdigest()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    hash_file_into(path, digest)
    return digest.hexdigest()


def hash_file_into(path: Path, digest) -> None:
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as fh:
        while n := fh.readinto(buf):
            digest.update(view[:n])


def parse_sha256sums(text: str) -> dict[str, str]:
    """`sha256sum` output (`<hex>  <name>` or `<hex> *<name>`) -> {base name: hex}."""
    sums: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 1)
        if len(parts) != 2 or len(parts[0]) != 64:
            continue
        digest, name = parts
        try:
            int(digest, 16)
        except ValueError:
            continue
        sums[name.lstrip("*").strip().rsplit("/", 1)[-1]] = digest.lower()
    return sums


class Manifest:
    """The hashes computed for finished files, kept in `<dir>/manifest.json`.

    An entry also records size and mtime so a re-run trusts an untouched file without
    reading it again; a file that changed since is hashed afresh.
    """

    def __init__(self, directory: Path) -> None:
        self.path = directory / MANIFEST_NAME
        self._lock = threading.Lock()
        try:
            self.entries: dict[str, dict] = json.loads(self.path.read_text())
        except (OSError, ValueError):
            self.entries = {}

    def trusted_sha256(self, path: Path) -> str | None:
        """The recorded sha256 when the file is unchanged since it was recorded."""
        entry = self.entries.get(path.name)
        if not entry:
            return None
        try:
            st = path.stat()
        except OSError:
            return None
        if entry.get("size") == st.st_size and entry.get("mtime_ns") == st.st_mtime_ns:
            return entry.get("sha256")
        return None

    def record(self, path: Path, url: str, sha256: str, verified_by: str) -> None:
        st = path.stat()
        with self._lock:
            self.entries[path.name] = {
                "url": url,
                "size": st.st_size,
                "sha256": sha256,
                "verified_by": verified_by,
                "mtime_ns": st.st_mtime_ns,
            }
            atomic_write(self.path, json.dumps(self.entries, indent=1, sort_keys=True) + "\n")


def available_cores() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


class InlineHash:
    """One buffer, hashed in the calling thread as soon as it is submitted."""

    def __init__(self, digest, chunk: int) -> None:
        self.digest = digest
        self._buf = bytearray(chunk)

    def free_buffer(self) -> bytearray:
        return self._buf

    def submit(self, buf: bytearray, n: int) -> None:
        self.digest.update(memoryview(buf)[:n])

    def close(self) -> None:
        pass


class PipelinedHash:
    """Feeds chunks to `digest.update` on a worker thread, recycling a few buffers."""

    def __init__(self, digest, chunk: int, buffers: int = 4) -> None:
        self.digest = digest
        self._free: queue.Queue[bytearray] = queue.Queue()
        for _ in range(buffers):
            self._free.put(bytearray(chunk))
        self._work: queue.Queue[tuple[bytearray, int] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (item := self._work.get()) is not None:
            buf, n = item
            self.digest.update(memoryview(buf)[:n])
            self._free.put(buf)

    def free_buffer(self) -> bytearray:
        return self._free.get()

    def submit(self, buf: bytearray, n: int) -> None:
        self._work.put((buf, n))

    def close(self) -> None:
        """Wait until every submitted chunk is hashed."""
        self._work.put(None)
        self._thread.join()
