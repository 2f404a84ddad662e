"""The download engine: resumable (HTTP Range into `<name>.part`), retried with backoff,
verified (size, sha256 or git blob sha1), parallel (a thread pool), with a manifest of
the hashes it computed.

No terminal code here: callers pass an `Observer` (start/advance/done callbacks) and the
CLI turns those into progress bars. Standard library only (urllib): one GET per attempt,
streamed with `readinto` into reused 4 MiB buffers, hashed as it arrives: on a helper
thread while there are spare cores, in the downloading thread once the streams alone
keep every core busy (see BENCHMARKS.md, "Downloads").
"""

from __future__ import annotations

import hashlib
import http.client
import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from enet4y2.errors import DownloadError
from enet4y2.fetch.http import USER_AGENT, range_start, reason, save_validator, total_size
from enet4y2.fetch.verify import (
    InlineHash,
    Manifest,
    PipelinedHash,
    available_cores,
    git_blob_sha1_of,
    hash_file_into,
    sha256_of,
)

#: HTTP statuses worth another try; every other 4xx is final.
RETRYABLE_STATUS = {408, 425, 429, 500, 502, 503, 504}
#: bytes per `readinto`: 1 MiB costs ~25 % more CPU per GB on loopback, 8 MiB leaves the
#: cache (benchmarks/bench_download.py)
TRANSFER_CHUNK = 4 << 20


@dataclass(frozen=True)
class FileSpec:
    """One file to fetch: where from, its name in the destination, what it must hash to."""

    name: str
    url: str
    size: int | None = None
    sha256: str | None = None
    git_sha1: str | None = None
    #: what the bytes must look like (`sniff`): the file -> why it is wrong, or None.
    #: A file that fails is fetched again when cached, and refused when downloaded.
    check: Callable[[Path], str | None] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class FetchResult:
    name: str
    path: Path
    size: int
    sha256: str
    #: "cached" (verified earlier), "downloaded" (fresh or resumed)
    status: str
    resumed_from: int = 0


class Observer:
    """Progress callbacks; the default does nothing. Called from worker threads."""

    def start(self, name: str, total: int | None, done: int) -> None:
        """A transfer of `name` begins with `done` bytes already on disk."""

    def advance(self, name: str, nbytes: int) -> None:
        """`nbytes` more bytes of `name` arrived."""

    def restart(self, name: str, done: int) -> None:
        """The transfer of `name` went back to `done` bytes (bad hash, server ignored Range)."""

    def finish(self, name: str) -> None:
        """`name` is complete and verified."""


class Cancelled(Exception):
    """Another download failed; this one stopped, leaving its `.part` for a resume."""


@dataclass
class Downloader:
    """Fetches `FileSpec`s into `directory`, verifying and recording them."""

    directory: Path
    observer: Observer = field(default_factory=Observer)
    retries: int = 5
    backoff: float = 1.0
    timeout: float = 60.0
    #: set by a failing job so the others stop at their next chunk
    stop: threading.Event = field(default_factory=threading.Event)
    #: hash on a helper thread per transfer (overlapping socket, disk and sha256); None:
    #: only while the transfers leave a core free (`fetch_all` decides per its `jobs`)
    hash_thread: bool | None = None

    def __post_init__(self) -> None:
        self.manifest = Manifest(self.directory)
        self.failures: dict[str, DownloadError] = {}

    def is_verified(self, spec: FileSpec) -> bool:
        """True when the final file exists and matches what is known about it."""
        return self._verify_existing(spec) is not None

    def fetch(self, spec: FileSpec) -> FetchResult:
        """Fetch one file (or accept the verified copy already there)."""
        return self._fetch(spec, self._hash_on_thread(streams=1))

    def _fetch(self, spec: FileSpec, hash_thread: bool) -> FetchResult:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DownloadError(f"cannot create {self.directory} ({exc.strerror or exc}); "
                                "choose a writable directory") from exc
        final = self.directory / spec.name
        cached = self._verify_existing(spec)
        if cached is not None:
            self.observer.start(spec.name, final.stat().st_size, final.stat().st_size)
            self.observer.finish(spec.name)
            return FetchResult(spec.name, final, final.stat().st_size, cached, "cached")
        if final.exists():
            final.unlink()  # present but wrong: fetch it again
        part = part_path(final)
        resumed_from = part.stat().st_size if part.exists() else 0
        last_error: Exception | None = None
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(min(self.backoff * 2 ** (attempt - 1), 30.0))
            try:
                digest = self._transfer(spec, part, hash_thread)
            except _Retryable as exc:
                last_error = exc
                continue
            problem = self._check(spec, part, digest)
            if problem is None:
                self._check_content(spec, part)
                os.replace(part, final)
                _validator_path(part).unlink(missing_ok=True)
                self.manifest.record(final, spec.url, digest, _verified_by(spec))
                self.observer.finish(spec.name)
                return FetchResult(spec.name, final, final.stat().st_size, digest, "downloaded",
                                   resumed_from)
            part.unlink(missing_ok=True)  # wrong bytes: start over, not from a bad prefix
            _validator_path(part).unlink(missing_ok=True)
            self.observer.restart(spec.name, 0)
            last_error = _Retryable(f"{problem} for {spec.url}")
        attempts = self.retries + 1
        raise DownloadError(
            f"{last_error} (after {attempts} attempt{'s' if attempts > 1 else ''}); "
            "retry later or use --mirror with a good copy"
        )

    def fetch_all(
        self,
        specs: Iterable[FileSpec],
        jobs: int = 4,
        optional: Iterable[str] = (),
        on_done: Callable[[FetchResult], None] | None = None,
    ) -> list[FetchResult]:
        """Fetch in parallel; the first failure stops the rest (their `.part` files stay).

        Files named in `optional` may fail without stopping the others: they are left out
        of the result and their errors kept in `self.failures`. `on_done(result)` runs in
        the worker right after a file is verified (e.g. to extract it while the others
        are still downloading); its exceptions count as that job's failure.
        """
        specs = list(specs)
        optional = set(optional)
        if not specs:
            return []
        helper = self._hash_on_thread(streams=min(max(1, jobs), len(specs)))

        def job(spec: FileSpec) -> FetchResult | None:
            try:
                result = self._fetch(spec, helper)
            except DownloadError as exc:
                if spec.name not in optional:
                    raise
                self.failures[spec.name] = exc
                return None
            if on_done is not None:
                on_done(result)
            return result

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = [pool.submit(job, spec) for spec in specs]
            try:
                done, _ = wait(futures, return_when=FIRST_EXCEPTION)
            except BaseException:  # Ctrl-C: stop the workers now, keep their .part files
                self.stop.set()
                for f in futures:
                    f.cancel()
                raise
            failed = [f for f in done if f.exception() is not None]
            if failed:
                self.stop.set()
                for f in futures:
                    f.cancel()
                wait(futures)
                first = next(
                    (f.exception() for f in futures if f.done() and not f.cancelled()
                     and f.exception() is not None and not isinstance(f.exception(), Cancelled)),
                    failed[0].exception(),
                )
                raise first
            return [r for f in futures if (r := f.result()) is not None]

    # -- internals -------------------------------------------------------------------

    def _hash_on_thread(self, streams: int) -> bool:
        """`hash_thread`, or by default: while `streams` transfers leave a core free."""
        return streams < available_cores() if self.hash_thread is None else self.hash_thread

    def _verify_existing(self, spec: FileSpec) -> str | None:
        final = self.directory / spec.name
        if not final.is_file():
            return None
        if spec.size is not None and final.stat().st_size != spec.size:
            return None
        if spec.check is not None and spec.check(final) is not None:
            return None  # e.g. an error page kept by an older version: fetched again
        trusted = self.manifest.trusted_sha256(final)
        digest = trusted or sha256_of(final)
        if spec.sha256 and digest != spec.sha256:
            return None
        if trusted is None:
            if spec.git_sha1 and git_blob_sha1_of(final) != spec.git_sha1:
                return None
            self.manifest.record(final, spec.url, digest, _verified_by(spec))
        return digest

    def _check_content(self, spec: FileSpec, part: Path) -> None:
        """Refuse (finally: another try would get the same page) bytes of the wrong kind."""
        problem = spec.check(part) if spec.check is not None else None
        if problem is not None:
            part.unlink(missing_ok=True)
            _validator_path(part).unlink(missing_ok=True)
            raise DownloadError(f"{spec.name} from {spec.url} {problem}; the server sent "
                                "an error page or another file — retry later or use --mirror")

    def _check(self, spec: FileSpec, part: Path, digest: str) -> str | None:
        size = part.stat().st_size
        if spec.size is not None and size != spec.size:
            return f"size mismatch ({size} bytes, expected {spec.size})"
        if spec.sha256 and digest != spec.sha256:
            return f"sha256 mismatch (got {digest}, expected {spec.sha256})"
        if spec.git_sha1:
            got = git_blob_sha1_of(part)
            if got != spec.git_sha1:
                return f"git blob sha1 mismatch (got {got}, expected {spec.git_sha1})"
        return None

    def _transfer(self, spec: FileSpec, part: Path, hash_thread: bool) -> str:
        """One GET, resuming from `part`; returns the sha256 of the whole file."""
        have = part.stat().st_size if part.exists() else 0
        if spec.size is not None and have > spec.size:
            part.unlink()
            have = 0
        digest = hashlib.sha256()
        if have:
            hash_file_into(part, digest)
        if spec.size is not None and have == spec.size:
            self.observer.start(spec.name, spec.size, have)
            return digest.hexdigest()
        headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
        validator = _validator_path(part)
        if have:
            headers["Range"] = f"bytes={have}-"
            if validator.is_file():
                # If the file changed on the server since the .part began, it sends the
                # whole new file (200) instead of the rest of a different one.
                headers["If-Range"] = validator.read_text().strip()
        req = urllib.request.Request(spec.url, headers=headers)
        try:
            resp = urllib.request.urlopen(req, timeout=self.timeout)
        except urllib.error.HTTPError as exc:
            if exc.code == 416 and have:
                # The .part already holds everything the server has; let _check judge it.
                self.observer.start(spec.name, have, have)
                return digest.hexdigest()
            message = f"HTTP {exc.code} {exc.reason} for {spec.url}"
            if exc.code in RETRYABLE_STATUS:
                raise _Retryable(message) from exc
            raise DownloadError(f"{message}; check the URL or --mirror") from exc
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            raise _Retryable(f"cannot download {spec.url} ({reason(exc)})") from exc
        with resp:
            _refuse_html(spec, resp)
            total = total_size(resp, have)
            if spec.size is not None and total is not None and total != spec.size:
                # Known to be the wrong file before a byte is read: no point retrying.
                raise DownloadError(
                    f"size mismatch for {spec.url}: the server has {total} bytes, expected "
                    f"{spec.size}; use a mirror with the right file (or a SHA256SUMS for it)")
            if have and (resp.status != 206 or range_start(resp) != have):
                # Range ignored, or the file changed (If-Range): start from the first byte.
                have = 0
                digest = hashlib.sha256()
                self.observer.restart(spec.name, 0)
            if not have:
                save_validator(resp, validator)
            self.observer.start(spec.name, spec.size or total, have)
            try:
                self._stream(resp, part, have, digest, spec.name, hash_thread)
            except DownloadError:  # an OSError too, but final (cannot write)
                raise
            except (OSError, http.client.HTTPException) as exc:
                raise _Retryable(f"connection lost while downloading {spec.url} "
                                 f"({reason(exc)})") from exc
            got = part.stat().st_size
            if total is not None and got < total:
                raise _Retryable(f"connection closed early for {spec.url} ({got} of {total} bytes)")
        return digest.hexdigest()

    def _stream(self, resp, part: Path, have: int, digest, name: str,
                hash_thread: bool) -> None:
        """Copy the body into `part`, hashing the chunks: on a second thread when
        `hash_thread` (hashlib releases the GIL, so hashing overlaps the socket and the
        disk), else right after each write, while the chunk is still in the cache.
        Socket errors propagate (worth a retry); file errors become a final DownloadError
        (a full disk is not the network's fault)."""
        hasher = (PipelinedHash if hash_thread else InlineHash)(digest, TRANSFER_CHUNK)
        try:
            with _file_errors(part):
                out = open(part, "r+b" if have else "wb", buffering=0)  # noqa: SIM115
            with out:
                with _file_errors(part):
                    out.seek(have)
                    out.truncate()
                while True:
                    if self.stop.is_set():
                        raise Cancelled(name)
                    buf = hasher.free_buffer()
                    n = resp.readinto(buf)
                    if not n:
                        break
                    with _file_errors(part):
                        out.write(memoryview(buf)[:n])
                    hasher.submit(buf, n)
                    self.observer.advance(name, n)
        finally:
            hasher.close()


@contextmanager
def _file_errors(part: Path):
    try:
        yield
    except OSError as exc:
        raise DownloadError(f"cannot write {part} ({exc.strerror or exc}); "
                            "free some space or choose another directory") from exc


class _Retryable(Exception):
    """A failure another attempt may cure (connection, 5xx, bad bytes)."""


def _refuse_html(spec: FileSpec, resp) -> None:
    """An HTML answer for a file no hash vouches for is an error page, not the file."""
    unverified = not (spec.sha256 or spec.git_sha1)
    if unverified and resp.headers.get_content_type() == "text/html" \
            and not spec.name.endswith((".html", ".htm")):
        raise DownloadError(f"{spec.name} from {spec.url} is an HTML page (Content-Type "
                            "text/html), not the file; the server sent an error page — "
                            "retry later or use --mirror")


def _verified_by(spec: FileSpec) -> str:
    return "sha256" if spec.sha256 else "git-sha1" if spec.git_sha1 else "recorded"


def part_path(final: Path) -> Path:
    """Where a download of `final` grows until it verifies (resumed from there)."""
    return final.with_name(final.name + ".part")


def _validator_path(part: Path) -> Path:
    return part.with_name(part.name + ".validator")


