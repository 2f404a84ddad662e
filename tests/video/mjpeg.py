"""An HTTP MJPEG stream served by the test on loopback (multipart/x-mixed-replace, as
IP cameras serve it): each connection gets the next session's frames, then the server
closes it, so a test can drop a stream and have it come back."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import numpy as np

BOUNDARY = "enet4y2frame"


class MjpegServer:
    """`sessions[k]` are the frames of the k-th connection; later connections get 404."""

    def __init__(self, sessions: list[list[np.ndarray]], fps: float = 50.0) -> None:
        self.sessions = [[cv2.imencode(".jpg", f)[1].tobytes() for f in s] for s in sessions]
        self.fps = fps
        self.served = 0
        self.connections = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                with server._lock:
                    k = server.connections
                    server.connections += 1
                if k >= len(server.sessions):
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type",
                                 f"multipart/x-mixed-replace; boundary={BOUNDARY}")
                self.end_headers()
                try:
                    for jpg in server.sessions[k]:
                        self.wfile.write(f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                                         f"Content-Length: {len(jpg)}\r\n\r\n".encode())
                        self.wfile.write(jpg + b"\r\n")
                        self.wfile.flush()
                        with server._lock:
                            server.served += 1
                        time.sleep(1.0 / server.fps)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                self.close_connection = True

        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/stream.mjpg"

    def __enter__(self) -> MjpegServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
