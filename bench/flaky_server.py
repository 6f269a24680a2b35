"""A tiny HTTP server whose failures the benchmark switches on at a known instant (bench_stops.py).

    .venv/bin/python bench/flaky_server.py

Listens on 127.0.0.1 (a free port), prints ``PORT N`` once it listens, and quits when its stdin
closes (:func:`common.port_process`). ``GET`` anything: ``200 ok`` while healthy, ``500 failing``
once failing. ``POST /fail`` switches every later answer to 500 and ``POST /ok`` back to 200; the
flag is set before the control call's reply is sent, so every request answered after that reply
fails. HTTP/1.1 keep-alive (locust's users keep their connection), one thread per connection.
"""

from __future__ import annotations

import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FAILING = threading.Event()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if FAILING.is_set():
            self._answer(500, b"failing\n")
        else:
            self._answer(200, b"ok\n")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        if self.path == "/fail":
            FAILING.set()
        elif self.path == "/ok":
            FAILING.clear()
        else:
            self._answer(404, b"no such control\n")
            return
        self._answer(200, b"failing\n" if FAILING.is_set() else b"ok\n")

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server's signature
        pass


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    print(f"PORT {server.server_address[1]}", flush=True)
    sys.stdin.read()  # until the benchmark closes our stdin
    server.shutdown()
    server.server_close()


if __name__ == "__main__":
    main()
