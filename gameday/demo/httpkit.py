"""Small HTTP plumbing shared by the demo's services: a fast threaded server and a client.

Standard library only, so every demo process is ready in well under a second.

* :class:`Server` — ``ThreadingHTTPServer`` tuned for load: daemon threads, a listen
  backlog of 1024, ``TCP_NODELAY`` on accepted sockets, ``SO_REUSEPORT`` (so the
  supervisor can keep each port reserved while a service is down), no reverse DNS.
* :class:`Handler` — HTTP/1.1 keep-alive with exact ``Content-Length``, JSON helpers,
  one ``route`` method to override, no per-request logging.
* :class:`Pool` — keep-alive ``http.client`` connections to one host, for service-to-service calls.
* :func:`request_json` — a one-shot JSON request (urllib), for control-plane calls.
* :func:`watch_parent` — exit when the supervisor that started us goes away.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import socketserver
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

LOOPBACK = "127.0.0.1"


class Server(ThreadingHTTPServer):
    """A threaded HTTP server on loopback that stays fast under thousands of requests/s."""

    daemon_threads = True
    request_queue_size = 1024
    allow_reuse_address = True
    allow_reuse_port = True

    def server_bind(self) -> None:
        """Bind without ``HTTPServer``'s reverse-DNS lookup of the host name."""
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), port  # a TCP server's host is text

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = super().get_request()
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock, addr

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet about clients that hang up; report anything else once."""
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError, socket.timeout)):
            return
        super().handle_error(request, client_address)


class Handler(BaseHTTPRequestHandler):
    """Base request handler: override :meth:`route`; ``self.body`` holds the request body."""

    protocol_version = "HTTP/1.1"
    server_version = "gameday-demo"
    sys_version = ""
    timeout = 60  # idle keep-alive connections are closed after a minute
    body: bytes = b""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """No per-request logging."""

    def route(self, method: str, path: str, query: dict[str, str]) -> None:
        """Answer the request; the default is 404."""
        self.send_json(404, {"error": f"no route for {method} {path}"})

    def _dispatch(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.body = self.rfile.read(length) if length > 0 else b""
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        try:
            self.route(method, parts.path, query)
        except (ConnectionError, TimeoutError):
            self.close_connection = True
        except Exception as exc:  # noqa: BLE001 - a bug must not kill the connection thread silently
            self.send_json(500, {"error": f"{type(exc).__name__}: {exc}"})

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def json_body(self) -> Any:
        """The request body parsed as JSON (``{}`` when empty); ValueError if malformed."""
        return json.loads(self.body) if self.body.strip() else {}

    def send_bytes(self, code: int, data: bytes, content_type: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def send_json(self, code: int, obj: Any) -> None:
        self.send_bytes(code, json.dumps(obj, separators=(",", ":")).encode(), "application/json")

    def send_text(self, code: int, text: str, content_type: str = "text/plain; charset=utf-8") -> None:
        self.send_bytes(code, text.encode(), content_type)


def serve(port: int, handler: type[Handler], host: str = LOOPBACK, **attrs: Any) -> Server:
    """Create a :class:`Server` on ``host:port`` (default 127.0.0.1); ``attrs`` are set on the server for handlers."""
    server = Server((host, port), handler)
    for key, value in attrs.items():
        setattr(server, key, value)
    return server


def reserve_port() -> socket.socket:
    """Bind (without listening) a loopback port with ``SO_REUSEPORT``; keep it to hold the port.

    A bound socket that does not listen refuses connections, so a dead service still looks
    dead (connection refused), yet no other program can take its port meanwhile.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((LOOPBACK, 0))
    return sock


class HTTPFailure(Exception):
    """A request got no HTTP answer (refused, reset, timed out)."""


class Pool:
    """Keep-alive HTTP connections to one ``http://host:port`` base URL, shared by threads."""

    def __init__(self, base_url: str, size: int = 64):
        parts = urlsplit(base_url)
        self.base_url = base_url.rstrip("/")
        self.host, self.port = parts.hostname or LOOPBACK, parts.port or 80
        self._idle: deque[http.client.HTTPConnection] = deque()
        self._size = size

    def request(self, method: str, path: str, body: Any = None, timeout: float = 1.0) -> tuple[int, bytes]:
        """Send a request and return ``(status, body)``; :class:`HTTPFailure` if no answer came."""
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if data is not None else {}
        for attempt in range(2):
            conn, reused = self._take(fresh=attempt > 0, timeout=timeout)
            try:
                if conn.sock is not None:
                    conn.sock.settimeout(timeout)
                conn.request(method, path, body=data, headers=headers)
                resp = conn.getresponse()
                payload = resp.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                conn.close()
                if reused and attempt == 0:
                    self.close()  # the server restarted or died: every idle connection is stale
                    continue  # retry once on a fresh connection
                raise HTTPFailure(f"{self.base_url}: {exc or type(exc).__name__}") from exc
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                raise HTTPFailure(f"{self.base_url}: {exc or type(exc).__name__}") from exc
            if resp.will_close or len(self._idle) >= self._size:
                conn.close()
            else:
                self._idle.append(conn)
            return resp.status, payload
        raise HTTPFailure(f"{self.base_url}: no answer")  # pragma: no cover - loop always returns

    def _take(self, fresh: bool, timeout: float) -> tuple[http.client.HTTPConnection, bool]:
        """An idle connection ``(conn, True)``, or a new one ``(conn, False)``."""
        if not fresh:
            try:
                return self._idle.pop(), True
            except IndexError:
                pass
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout), False

    def close(self) -> None:
        """Close every idle connection."""
        while self._idle:
            self._idle.pop().close()


def request_json(method: str, url: str, body: Any = None, timeout: float = 2.0) -> tuple[int, Any]:
    """One JSON request with urllib: ``(status, parsed body or text)``; HTTPFailure if no answer."""
    data = json.dumps(body).encode() if body is not None else (b"" if method in ("POST", "PUT") else None)
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    except (OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise HTTPFailure(f"{method} {url}: {reason}") from exc
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode("utf-8", "replace")


def _started(pid: int) -> str | None:
    """When ``pid`` started (field 22 of ``/proc/PID/stat``), or None if there is no such process."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def watch_parent(parent_pid: int | None, interval: float = 0.5, watch_pid: int | None = None) -> None:
    """Exit this process (immediately) once ``parent_pid`` is no longer our parent, or once the process
    ``watch_pid`` is gone (a service in a container, whose parent is the engine's shim, watches the
    supervisor that way: the container shares the host's process namespace)."""
    if not parent_pid and not watch_pid:
        return
    born = _started(watch_pid) if watch_pid else None

    def alive() -> bool:
        if parent_pid and os.getppid() != parent_pid:
            return False
        return not watch_pid or (born is not None and _started(watch_pid) == born)

    def watch() -> None:
        while alive():
            time.sleep(interval)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def add_common_args(parser: Any) -> None:
    """Arguments every child service takes: ``--port``, ``--parent-pid`` and ``--watch-pid``."""
    parser.add_argument("--port", type=int, default=0, help="loopback port to listen on (0: any free port)")
    parser.add_argument("--host", default=LOOPBACK, help="the address to listen on (a node in its namespace: its own)")
    parser.add_argument("--parent-pid", type=int, default=0, help="exit when this process is no longer our parent")
    parser.add_argument("--watch-pid", type=int, default=0, help="exit when this process (the supervisor) is gone")
