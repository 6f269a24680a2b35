"""The conductor's own steady-state probes: ground truth of impact, never detection.

* :class:`HttpProbe` — one HTTP request per probe over a keep-alive connection;
  healthy iff the status is ``expect_status`` and the body contains ``body_contains``.
  ``http://`` URLs use the standard library's ``http.client`` (cheap to import, no TLS
  set-up); ``https://`` ones an ``httpx.Client``, imported on first use.
* :class:`ProcessProbe` — healthy iff the named process runs and is not stopped.

:func:`build_probes` makes one probe per steady-state check (``gameday.drill.observing.ProbeSet``
runs them, one thread per check). ``close()`` releases a probe's connections.

Every probe is thread-safe and reusable. ``Observation.at`` is the monotonic time the
probe *started* (when the state was sampled), ``detail`` says why a check is not ok
("status 503", "timeout after 1s", "connection refused", "pid 42 stopped").
"""

from __future__ import annotations

import contextlib
import errno
import sys
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from gameday.adapters.process import alive, describe, find_pids, resolve_selector
from gameday.clock import Clock, SystemClock
from gameday.errors import ConfigError
from gameday.model.containers import ContainerSelector
from gameday.model.scenario import Check, ProcessSelector
from gameday.ports import Observation


def _why_transport(exc: BaseException, timeout: float) -> str:
    """Why a request got no HTTP answer, in a few words."""
    httpx = sys.modules.get("httpx")  # only an https:// probe imports it
    if isinstance(exc, TimeoutError) or (httpx is not None and isinstance(exc, httpx.TimeoutException)):
        return f"timeout after {timeout:g}s"
    cause: BaseException | None = None if isinstance(exc, _NoAnswer) else exc  # _NoAnswer: already classified
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError) or getattr(cause, "errno", None) == errno.ECONNREFUSED:
            return "connection refused"
        if isinstance(cause, ConnectionResetError):
            return "connection reset"
        cause = cause.__cause__ or cause.__context__
    text = str(exc) or type(exc).__name__
    name = exc.kind if isinstance(exc, _NoAnswer) else type(exc).__name__
    return "connection refused" if "refused" in text.lower() else f"{name}: {text}"[:300]


class _NoAnswer(OSError):
    """A plain-HTTP request failed; ``kind`` names the failure as httpx would (ConnectError, ReadError, ...)."""

    def __init__(self, kind: str, text: str):
        super().__init__(text)
        self.kind = kind

    def __str__(self) -> str:
        return str(self.args[0])


class _Answer:
    """What a probe needs of a response: its status and (decoded on demand) its body."""

    __slots__ = ("_body", "_charset", "_encoding", "status_code")

    def __init__(self, status: int, body: bytes, content_type: str | None, content_encoding: str | None):
        self.status_code, self._body = status, body
        self._charset, self._encoding = content_type, content_encoding

    @property
    def text(self) -> str:
        import codecs
        import zlib

        body = self._body
        if (self._encoding or "").strip().lower() in ("gzip", "x-gzip", "deflate"):
            for wbits in (47, -15):  # gzip or zlib (auto-detected), else raw deflate
                try:
                    body = zlib.decompress(body, wbits)
                    break
                except zlib.error:
                    pass
        charset = "utf-8"
        for param in (self._charset or "").split(";")[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "charset" and value.strip().strip('"'):
                charset = value.strip().strip('"')
        try:
            codecs.lookup(charset)
        except LookupError:
            charset = "utf-8"
        return body.decode(charset, errors="replace")


class _HttpPool:
    """Keep-alive ``http.client`` connections to one ``http://`` origin, shared by threads.

    A connection serves one request at a time; idle ones (at most ``max_idle``) are kept
    for the next probe. One found closed by the server (readable while idle, or failing
    before any answer) is replaced by a fresh one, once, as httpx's pool does; any other
    failure closes the connection, so the next probe reconnects.
    """

    def __init__(self, host: str, port: int, timeout: float, max_idle: int = 4):
        self.host, self.port, self.timeout, self.max_idle = host, port, timeout, max_idle
        self._lock = threading.Lock()
        self._idle: list[Any] = []
        self._generation = 0  # bumped by close(): connections out at the time are not kept

    def _connect(self) -> Any:
        import http.client

        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def _take(self) -> tuple[Any, bool, int]:
        with self._lock:
            generation = self._generation
            while self._idle:
                conn = self._idle.pop()
                if conn.sock is not None and not _readable(conn.sock):
                    return conn, True, generation
                conn.close()  # readable while idle: the server hung up (or sent junk)
        return self._connect(), False, generation

    def _give_back(self, conn: Any, generation: int) -> None:
        with self._lock:
            if conn.sock is not None and generation == self._generation and len(self._idle) < self.max_idle:
                self._idle.append(conn)
                return
        conn.close()

    def request(self, method: str, target: str, headers: dict[str, str]) -> _Answer:
        """One request; raises ``OSError`` (``TimeoutError`` included) or ``http.client.HTTPException``."""
        import http.client

        for attempt in (0, 1):
            conn, reused, generation = self._take()
            if not reused:
                try:
                    conn.connect()
                except (TimeoutError, ConnectionRefusedError):
                    conn.close()
                    raise
                except OSError as exc:
                    conn.close()
                    raise _NoAnswer("ConnectError", str(exc) or type(exc).__name__) from exc
            try:
                conn.request(method, target, headers=headers)
                response = conn.getresponse()
                body = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, ConnectionAbortedError) as exc:
                conn.close()
                if reused and attempt == 0:
                    continue  # a kept-alive connection the server had closed: try a fresh one
                if isinstance(exc, http.client.RemoteDisconnected):
                    raise _NoAnswer("RemoteProtocolError", "Server disconnected without sending a response.") from exc
                raise
            except TimeoutError:
                conn.close()
                raise
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                kind = "RemoteProtocolError" if isinstance(exc, http.client.HTTPException) else "ReadError"
                raise _NoAnswer(kind, str(exc).strip() or type(exc).__name__) from exc
            except BaseException:
                conn.close()
                raise
            if response.will_close:
                conn.close()
            else:
                self._give_back(conn, generation)
            return _Answer(response.status, body, response.getheader("Content-Type"),
                           response.getheader("Content-Encoding"))
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
            self._generation += 1
        for conn in idle:
            conn.close()

    def __del__(self) -> None:  # a probe dropped without close(): no open sockets left to the GC
        with contextlib.suppress(Exception):  # interpreter shutdown
            for conn in self._idle:
                conn.close()


def _readable(sock: Any) -> bool:
    """Has this idle socket something to read (EOF included)? True on any doubt."""
    import select

    try:
        if hasattr(select, "poll"):
            poller = select.poll()
            poller.register(sock, select.POLLIN)
            return bool(poller.poll(0))
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True


def _plain_http(url: str, timeout: float) -> tuple[_HttpPool, str, dict[str, str]] | None:
    """``(pool, request target, headers)`` for an ``http://`` URL; None for anything else (httpx takes it)."""
    from urllib.parse import quote, unquote, urlsplit

    try:
        parts = urlsplit(url)
        if parts.scheme.lower() != "http" or not parts.hostname:
            return None
        port = parts.port or 80
    except ValueError:
        return None
    target = quote(parts.path or "/", safe="/%:@!$&'()*+,;=~-._") + (
        "?" + quote(parts.query, safe="/?%:@!$&'()*+,;=~-._") if parts.query else "")
    headers = {"Accept": "*/*"}
    if parts.username is not None or parts.password is not None:
        import base64

        user = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}"
        headers["Authorization"] = "Basic " + base64.b64encode(user.encode()).decode("ascii")
    return _HttpPool(parts.hostname, port, timeout), target, headers


class HttpProbe:
    """Probes one :class:`~gameday.model.scenario.HttpCheck`; ``{target.url}`` is replaced by ``target_url``."""

    def __init__(self, check: Check, target_url: str | None = None, *, clock: Clock | None = None):
        if check.http is None:
            raise ConfigError(f"check {check.label!r} is not an HTTP check")
        self.check, self.http, self.name = check, check.http, check.label
        url = check.http.url
        if "{target.url}" in url:
            if not target_url:
                raise ConfigError(f"check {check.label!r} uses {{target.url}} but the target has no url")
            url = url.replace("{target.url}", target_url.rstrip("/"))
        self.url = url
        self.clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._client: Any = None  # https:// (or anything http.client does not take): an httpx.Client
        self._plain = _plain_http(url, float(self.http.timeout))

    def _get_client(self) -> Any:
        with self._lock:
            if self._client is None:
                import httpx

                self._client = httpx.Client(
                    timeout=self.http.timeout, follow_redirects=False, trust_env=False,
                    limits=httpx.Limits(max_connections=8, max_keepalive_connections=4),
                )  # fmt: skip
            return self._client

    def _request(self) -> Any:
        if self._plain is not None:
            pool, target, headers = self._plain
            return pool.request(self.http.method, target, headers)
        return self._get_client().request(self.http.method, self.url)

    def probe(self) -> Observation:
        """Send one request now and judge the answer. Never raises for the target's sake."""
        at = self.clock.now()
        try:
            response = self._request()
        except Exception as exc:
            if not _transport_error(exc):
                raise
            return Observation(self.name, False, at, _why_transport(exc, self.http.timeout))
        if response.status_code != self.http.expect_status:
            return Observation(self.name, False, at, f"status {response.status_code}")
        if self.http.body_contains is not None and self.http.body_contains not in response.text:
            return Observation(self.name, False, at, f"status {response.status_code} but body lacks {self.http.body_contains!r}")
        return Observation(self.name, True, at, f"status {response.status_code}")

    def close(self) -> None:
        """Close the connections; the probe reopens one if used again."""
        if self._plain is not None:
            self._plain[0].close()
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()


def _transport_error(exc: BaseException) -> bool:
    """Did the request get no (valid) HTTP answer — the target's fault, not a bug here?"""
    if isinstance(exc, OSError):
        return True
    http_client = sys.modules.get("http.client")
    if http_client is not None and isinstance(exc, http_client.HTTPException):
        return True
    httpx = sys.modules.get("httpx")
    return httpx is not None and isinstance(exc, httpx.HTTPError)


class ProcessProbe:
    """Probes a :class:`~gameday.model.scenario.ProcessCheck`: ok iff the process runs and is not stopped."""

    def __init__(self, check: Check, selectors: Mapping[str, ProcessSelector | dict[str, Any]], *, clock: Clock | None = None):
        if check.process is None:
            raise ConfigError(f"check {check.label!r} is not a process check")
        self.check, self.name, self.process = check, check.label, check.process.process
        if self.process not in selectors:
            raise ConfigError(f"check {check.label!r}: no process named {self.process!r} in target.processes")
        self.sel = resolve_selector(selectors[self.process])
        self.clock = clock or SystemClock()

    def probe(self) -> Observation:
        at = self.clock.now()
        try:
            pids = find_pids(self.sel)
        except OSError as exc:
            return Observation(self.name, False, at, f"cannot read /proc: {exc}")
        if not pids:
            return Observation(self.name, False, at, f"no process matches {describe(self.sel)}")
        if len(pids) > 1:
            return Observation(self.name, False, at, f"{len(pids)} processes match ({', '.join(map(str, pids))})")
        info = alive(pids[0])
        if info is None:
            return Observation(self.name, False, at, f"pid {pids[0]} exited")
        if info.state in ("T", "t"):
            return Observation(self.name, False, at, f"pid {info.pid} stopped")
        return Observation(self.name, True, at, f"pid {info.pid} running")

    def close(self) -> None:
        """Nothing to release; here so every probe can be closed alike."""


Probe = HttpProbe | ProcessProbe  # | PromProbe (check.prometheus) | gameday.adapters.docker.ContainerProbe


def build_probes(
    checks: Sequence[Check],
    target_url: str | None,
    processes: Mapping[str, ProcessSelector | dict[str, Any]] | None = None,
    *,
    clock: Clock | None = None,
    prometheus_url: str | None = None,
    containers: Mapping[str, ContainerSelector] | None = None,
    docker_host: str | None = None,
) -> list[Probe]:
    """One probe per steady-state check, in order.

    PromQL checks (``check.prometheus``) query their own ``url``, else ``prometheus_url``,
    else the Prometheus the monitoring service binds once it runs (``PromProbe.bind``).
    Container checks ask the Docker engine at ``docker_host`` about ``containers``' selections.
    """
    probes: list[Probe] = []
    for check in checks:
        if check.http is not None:
            probes.append(HttpProbe(check, target_url, clock=clock))
        elif check.container is not None:
            from gameday.adapters.docker import ContainerProbe, check_selector

            name = check.container.container
            selector = check_selector(dict(containers or {}), name, f"check {check.label!r}")
            probes.append(ContainerProbe(check.label, name, selector, host=docker_host, clock=clock))  # type: ignore[arg-type]
        elif check.prometheus is not None:
            from gameday.adapters.promql import PromProbe

            probes.append(PromProbe(check, prometheus_url, clock=clock))  # type: ignore[arg-type]
        else:
            probes.append(ProcessProbe(check, processes or {}, clock=clock))
    return probes
