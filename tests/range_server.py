"""A threaded HTTP server on 127.0.0.1 that serves files with Range support and knobs to
misbehave: drop the connection mid-file, answer 404/500, serve wrong bytes, ignore Range,
send a chosen Content-Type.
Used by the fetch tests and by benchmarks/bench_download.py (bodies from disk go out with
sendfile so the server is not the bottleneck)."""

from __future__ import annotations

import hashlib
import os
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class RangeServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.files: dict[str, bytes | Path] = {}
        #: name -> bytes after which the connection is dropped (for the next `drops` GETs)
        self.drop_after: dict[str, int] = {}
        self.drops: dict[str, int] = {}
        #: name -> HTTP status to answer instead of the file
        self.status: dict[str, int] = {}
        #: name -> number of GETs answered with wrong bytes (same length)
        self.corrupt: dict[str, int] = {}
        self.ignore_range = False
        #: name -> Content-Type header to send with the file (none sent otherwise)
        self.content_type: dict[str, str] = {}
        #: bytes per second per connection for file bodies (None: as fast as possible),
        #: to stand in for a network link instead of loopback
        self.rate: float | None = None
        self.log: list[tuple[str, str, str | None]] = []  # (method, name, Range header)
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True)

    def handle_error(self, request, client_address) -> None:
        """Clients hanging up mid-body is part of the tests; stay quiet about it."""

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"

    def __enter__(self) -> RangeServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()

    def gets(self, name: str) -> list[str | None]:
        """The Range headers of every GET of `name`, in order."""
        return [r for m, n, r in self.log if m == "GET" and n == name]

    def _take(self, table: dict[str, int], name: str) -> bool:
        with self._lock:
            left = table.get(name, 0)
            if left > 0:
                table[name] = left - 1
                return True
            return False


class _Handler(BaseHTTPRequestHandler):
    server: RangeServer
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # quiet
        pass

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def do_GET(self) -> None:
        self._serve(head=False)

    def _serve(self, head: bool) -> None:
        srv = self.server
        name = self.path.lstrip("/").split("?", 1)[0]
        range_header = self.headers.get("Range")
        srv.log.append(("HEAD" if head else "GET", name, range_header))
        if name in srv.status:
            self._error(srv.status[name])
            return
        body = srv.files.get(name)
        if body is None:
            self._error(404)
            return
        size = body.stat().st_size if isinstance(body, Path) else len(body)
        etag = _etag(body)
        if_range = self.headers.get("If-Range")
        start = 0
        match = re.fullmatch(r"bytes=(\d+)-", range_header or "")
        if match and not srv.ignore_range and if_range in (None, etag):
            start = int(match.group(1))
            if start >= size:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{size - 1}/{size}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(size - start))
        if name in srv.content_type:
            self.send_header("Content-Type", srv.content_type[name])
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("ETag", etag)
        self.end_headers()
        if head:
            return
        count = size - start
        if not head and srv.drop_after.get(name) is not None and srv._take(srv.drops, name):
            count = max(0, min(count, srv.drop_after[name] - start))
            self._send(body, start, count, corrupt=False)
            self.close_connection = True
            self.connection.shutdown(2)
            return
        self._send(body, start, count, corrupt=srv._take(srv.corrupt, name))

    def _send(self, body: bytes | Path, start: int, count: int, corrupt: bool) -> None:
        if isinstance(body, Path) and not corrupt:
            self.wfile.flush()
            with open(body, "rb") as fh:
                if self.server.rate:
                    _paced_sendfile(self.connection, fh, start, count, self.server.rate)
                else:
                    self.connection.sendfile(fh, start, count)
            return
        data = body.read_bytes() if isinstance(body, Path) else body
        chunk = data[start:start + count]
        if corrupt:
            chunk = bytes(b ^ 0xFF for b in chunk[:64]) + chunk[64:]
        self.wfile.write(chunk)

    def _error(self, code: int) -> None:
        payload = f"error {code}\n".encode()
        self.send_response(code)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)


def _paced_sendfile(sock, fh, start: int, count: int, rate: float) -> None:
    """sendfile in 256 KiB slices, each sent no earlier than `rate` allows."""
    slice_ = 256 * 1024
    t0 = time.monotonic()
    sent = 0
    while sent < count:
        ahead = t0 + sent / rate - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
        n = min(slice_, count - sent)
        sock.sendfile(fh, start + sent, n)
        sent += n


def _etag(body: bytes | Path) -> str:
    if isinstance(body, Path):
        st = body.stat()
        return f'"{st.st_size:x}-{st.st_mtime_ns:x}"'
    return '"' + hashlib.sha1(body).hexdigest()[:16] + '"'


def serve(directory: os.PathLike | str) -> RangeServer:
    """A server for every file in `directory` (by name), not yet started."""
    server = RangeServer()
    for path in Path(directory).iterdir():
        if path.is_file():
            server.files[path.name] = path
    return server
