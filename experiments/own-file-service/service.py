"""A small service of your own, for the 'own-file-service' example drill (not part of gameday).

    python experiments/own-file-service/service.py --port 8765 [--pid-file FILE]

It serves ``GET /health``: 200 while ``data/config.json`` (beside this file) holds valid JSON,
503 otherwise. It keeps a cache file, ``data/cache.json``, and rebuilds it within a fifth of a
second whenever it is missing, so deleting the cache needs no rollback. Wherever it is started
from, its files are the ones beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
CONFIG, CACHE = DATA / "config.json", DATA / "cache.json"


def config_ok() -> bool:
    try:
        json.loads(CONFIG.read_text())
    except (OSError, ValueError):
        return False
    return True


def keep_cache(stop: threading.Event) -> None:
    """Rebuild the cache file whenever it is missing."""
    while not stop.is_set():
        if not CACHE.exists():
            tmp = CACHE.with_suffix(".tmp")
            tmp.write_text(json.dumps({"built_at": time.time()}))
            os.replace(tmp, CACHE)
        stop.wait(0.2)


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        ok = self.path == "/health" and config_ok()
        body = b"ok\n" if ok else b"config missing or invalid\n"
        self.send_response(200 if ok else 503)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--pid-file")
    args = parser.parse_args()
    stop = threading.Event()
    threading.Thread(target=keep_cache, args=(stop,), daemon=True).start()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    if args.pid_file:
        Path(args.pid_file).write_text(f"{os.getpid()}\n")
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()


if __name__ == "__main__":
    main()
