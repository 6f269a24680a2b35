"""A trivial healthy target for the in-process drill harnesses, in its own process.

    python bench/probe_target.py      # prints "PORT <n>" then serves until stdin closes

Answers ``GET /health`` with 200 so the harness drill can run its real steady-state probe
loop (4 Hz, one thread per check, as in a real drill) against something outside the drill
process. Exits when its stdin is closed (the parent died or is done): never left behind.
"""

from __future__ import annotations

import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802
        body = b'{"status":"ok"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_HEAD = do_GET  # noqa: N815

    def log_message(self, *args) -> None:
        pass


def main() -> int:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"PORT {server.server_address[1]}", flush=True)
    sys.stdin.read()  # until the parent closes our stdin
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
