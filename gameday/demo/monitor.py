"""The demo's own monitoring: a stand-in for Prometheus plus Alertmanager.

``python -m gameday.demo.monitor --checkout URL --webhooks-file F [--port P]``

Scrapes checkout's ``/metrics`` every 0.25 s (timeout 0.3 s), evaluates the rules in
:mod:`gameday.demo.alerting`, and POSTs an Alertmanager v4 webhook body to every URL in
the webhooks file (``{"urls": [...]}``, re-read when it changes, so the supervisor's
``PUT /webhooks`` takes effect at once) when an alert starts firing and when it resolves.
Each receiver has its own sender thread: 1 s timeout, three retries, never a crash.

Its own HTTP port answers ``GET /health`` and ``GET /alerts`` (current alerts and
notification counts) and is the ``externalURL`` of the webhook bodies.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from gameday.demo.alerting import Rules, checkout_totals, webhook_body
from gameday.demo.httpkit import Handler, HTTPFailure, Pool, add_common_args, request_json, serve, watch_parent

INTERVAL = 0.25
SCRAPE_TIMEOUT = 0.3
POST_TIMEOUT = 1.0
RETRY_DELAYS = (0.2, 0.5, 1.0)


class Webhooks:
    """The receivers' URLs from the webhooks file, re-read when the file changes."""

    def __init__(self, path: Path | None):
        self.path = path
        self._key: tuple[int, int, int] | None = None
        self.urls: list[str] = []

    def current(self) -> list[str]:
        if self.path is None:
            return self.urls
        try:
            st = os.stat(self.path)
        except OSError:
            self.urls, self._key = [], None
            return self.urls
        key = (st.st_mtime_ns, st.st_size, st.st_ino)
        if key != self._key:
            try:
                self.urls = [str(u) for u in json.loads(self.path.read_text()).get("urls", [])]
                self._key = key
            except (OSError, ValueError, AttributeError):
                pass
        return self.urls


class Sender:
    """One thread and queue per receiver URL, so a slow receiver delays only itself."""

    def __init__(self) -> None:
        self.queues: dict[str, queue.Queue[dict[str, Any]]] = {}
        self.sent: dict[str, int] = {}
        self.failed: dict[str, int] = {}
        self._lock = threading.Lock()

    def send(self, url: str, body: dict[str, Any]) -> None:
        with self._lock:
            q = self.queues.get(url)
            if q is None:
                q = self.queues[url] = queue.Queue()
                threading.Thread(target=self._drain, args=(url, q), name=f"send {url}", daemon=True).start()
        q.put(body)

    def _drain(self, url: str, q: queue.Queue[dict[str, Any]]) -> None:
        while True:
            body = q.get()
            for delay in (*RETRY_DELAYS, None):
                try:
                    status, _ = request_json("POST", url, body, timeout=POST_TIMEOUT)
                    if status < 300:
                        self.sent[url] = self.sent.get(url, 0) + 1
                        break
                    error = f"HTTP {status}"
                except HTTPFailure as exc:
                    error = str(exc)
                if delay is None:
                    self.failed[url] = self.failed.get(url, 0) + 1
                    print(f"monitor: gave up posting {body['status']} {body['groupLabels']} to {url}: {error}", flush=True)
                else:
                    time.sleep(delay)


class Monitor:
    """The scrape-evaluate-notify loop."""

    def __init__(self, checkout_url: str, webhooks: Webhooks, external_url: str):
        self.pool = Pool(checkout_url, size=1)
        instance = urlsplit(checkout_url).netloc
        self.rules = Rules(instance)
        self.webhooks = webhooks
        self.external_url = external_url
        self.sender = Sender()
        self.scrapes = self.failed_scrapes = 0

    def scrape(self) -> tuple[tuple[float, float] | None, str]:
        try:
            status, raw = self.pool.request("GET", "/metrics", timeout=SCRAPE_TIMEOUT)
        except HTTPFailure as exc:
            return None, str(exc)
        if status != 200:
            return None, f"HTTP {status}"
        try:
            return checkout_totals(raw.decode()), ""
        except ValueError as exc:
            return None, f"unparsable metrics: {exc}"

    def tick(self) -> None:
        totals, error = self.scrape()
        self.scrapes += 1
        self.failed_scrapes += totals is None
        for alert in self.rules.observe(time.monotonic(), datetime.now(UTC), totals, error):
            body = webhook_body(alert, self.external_url)
            print(f"monitor: {body['status']} {alert.name}", flush=True)
            for url in self.webhooks.current():
                self.sender.send(url, body)

    def run_forever(self) -> None:
        next_at = time.monotonic()
        while True:
            try:
                self.tick()
            except Exception as exc:  # noqa: BLE001 - the monitor must outlive any bad scrape (printed)
                print(f"monitor: tick failed: {type(exc).__name__}: {exc}", flush=True)
            next_at = max(next_at + INTERVAL, time.monotonic())
            time.sleep(max(0.0, next_at - time.monotonic()))

    def status(self) -> dict[str, Any]:
        return {
            "alerts": {name: {"firing": a.firing, "labels": a.labels, "annotations": a.annotations}
                       for name, a in self.rules.alerts.items()},
            "webhook_urls": self.webhooks.current(),
            "scrapes": self.scrapes,
            "failed_scrapes": self.failed_scrapes,
            "sent": dict(self.sender.sent),
            "failed": dict(self.sender.failed),
        }


class MonitorHandler(Handler):
    server_version = "gameday-demo-monitor"

    def route(self, method: str, path: str, query: dict[str, str]) -> None:
        monitor: Monitor = self.server.monitor  # type: ignore[attr-defined]
        if method == "GET" and path == "/health":
            self.send_json(200, {"status": "ok"})
        elif method == "GET" and path == "/alerts":
            self.send_json(200, monitor.status())
        else:
            super().route(method, path, query)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m gameday.demo.monitor", description=__doc__.splitlines()[0])
    parser.add_argument("--checkout", required=True, help="checkout base URL")
    parser.add_argument("--webhooks-file", type=Path, help='JSON file {"urls": [...]} naming the receivers')
    parser.add_argument("--state-dir", type=Path, help="gameday state dir (webhooks file: DIR/demo/webhooks.json)")
    parser.add_argument("--webhook-url", action="append", default=[], help="a fixed receiver (repeatable)")
    add_common_args(parser)
    args = parser.parse_args(argv)
    watch_parent(args.parent_pid, watch_pid=args.watch_pid)
    path = args.webhooks_file or (args.state_dir / "demo" / "webhooks.json" if args.state_dir else None)
    webhooks = Webhooks(path)
    webhooks.urls = list(args.webhook_url) if path is None else []
    server = serve(args.port, MonitorHandler)
    monitor = Monitor(args.checkout, webhooks, f"http://127.0.0.1:{server.server_port}")
    server.monitor = monitor  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, name="http", daemon=True).start()
    monitor.run_forever()


if __name__ == "__main__":
    main()
