"""The webhook sender of bench_detection, run as its own process (so it never competes for the
drill process's GIL, as Alertmanager would not).

    python bench/webhook_client.py URL COUNT [--gap-ms LO,HI] [--seed N] [--start INDEX] [--burst K]

Posts COUNT Alertmanager v4 webhooks (alertname ``BenchAlert``, firing) one by one — or
``--burst K`` at once on K parallel connections, as Alertmanager flushes several alert
groups together — each on a fresh TCP connection, waiting for the full response(s) before
the next post (burst), with a random gap between them. For each it records ``time.monotonic()`` read just before the request
bytes are written (``send``) and just after the whole response was read (``done``):
CLOCK_MONOTONIC is system-wide on Linux, so these compare directly with the drill
process's journal times. Prints one JSON document on stdout. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import sys
import time
from urllib.parse import urlsplit


def payload(i: int) -> bytes:
    body = {
        "version": "4", "status": "firing", "receiver": "gameday-bench", "groupKey": f"bench-{i}",
        "truncatedAlerts": 0, "externalURL": "http://127.0.0.1:9093",
        "groupLabels": {"alertname": "BenchAlert"}, "commonLabels": {"alertname": "BenchAlert", "severity": "critical"},
        "commonAnnotations": {"summary": "benchmark alert"},
        "alerts": [{
            "status": "firing",
            "labels": {"alertname": "BenchAlert", "severity": "critical", "service": "bench", "n": str(i)},
            "annotations": {"summary": "benchmark alert", "description": "posted by bench/webhook_client.py"},
            "startsAt": "2026-01-01T00:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://127.0.0.1:9090/graph", "fingerprint": f"{i:016x}",
        }],
    }
    return json.dumps(body).encode()


def request(host: str, port: int, path: str, body: bytes) -> bytes:
    head = (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: Alertmanager/0.27.0\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n")
    return head.encode() + body


def read_response(sock: socket.socket, timeout: float) -> tuple[int, bytes]:
    """Read one HTTP/1.1 response (Content-Length framed); (status, body)."""
    sock.settimeout(timeout)
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed before the response headers")
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return status, rest[:length]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("count", type=int)
    ap.add_argument("--gap-ms", default="5,15")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=5.0)
    ap.add_argument("--burst", type=int, default=1, help="send this many at once, on parallel connections")
    args = ap.parse_args(argv)
    parts = urlsplit(args.url)
    host, port, path = parts.hostname or "127.0.0.1", parts.port or 80, parts.path or "/"
    lo, hi = (float(x) / 1000.0 for x in args.gap_ms.split(","))
    rng = random.Random(args.seed)
    reqs = [request(host, port, path, payload(args.start + i)) for i in range(args.count)]  # built before timing
    out = []
    for first in range(0, len(reqs), max(1, args.burst)):
        group = list(enumerate(reqs))[first:first + max(1, args.burst)]
        socks = [socket.create_connection((host, port), timeout=args.timeout) for _ in group]
        sent = []
        try:
            for sock, (i, req) in zip(socks, group):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for sock, (i, req) in zip(socks, group):  # a burst: every request written before any answer is read
                sent.append(time.monotonic())
                sock.sendall(req)
            for sock, (i, req), send in zip(socks, group, sent):
                status, body = read_response(sock, args.timeout)
                done = time.monotonic()
                try:
                    data = json.loads(body)
                except ValueError:
                    data = None
                out.append({"i": args.start + i, "send": send, "done": done, "status": status, "body": data})
        finally:
            for sock in socks:
                sock.close()
        time.sleep(rng.uniform(lo, hi))
    json.dump(out, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
