"""The conductor's own steady-state probes: ground truth of impact, never detection.

* :class:`HttpProbe` — one HTTP request per probe over a keep-alive ``httpx.Client``;
  healthy iff the status is ``expect_status`` and the body contains ``body_contains``.
* :class:`ProcessProbe` — healthy iff the named process runs and is not stopped.

:func:`build_probes` makes one probe per steady-state check (``gameday.observing.ProbeSet``
runs them, one thread per check). ``close()`` releases a probe's connection pool.

Every probe is thread-safe and reusable. ``Observation.at`` is the monotonic time the
probe *started* (when the state was sampled), ``detail`` says why a check is not ok
("status 503", "timeout after 1s", "connection refused", "pid 42 stopped").
"""

from __future__ import annotations

import errno
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from gameday.adapters.process import alive, describe, find_pids, resolve_selector
from gameday.clock import Clock, SystemClock
from gameday.errors import ConfigError
from gameday.model.scenario import Check, ProcessSelector
from gameday.ports import Observation


def _why_transport(exc: BaseException, timeout: float) -> str:
    import httpx

    if isinstance(exc, httpx.TimeoutException):
        return f"timeout after {timeout:g}s"
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError) or getattr(cause, "errno", None) == errno.ECONNREFUSED:
            return "connection refused"
        if isinstance(cause, ConnectionResetError):
            return "connection reset"
        cause = cause.__cause__ or cause.__context__
    text = str(exc) or type(exc).__name__
    return "connection refused" if "refused" in text.lower() else f"{type(exc).__name__}: {text}"[:300]


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
        self._client: Any = None

    def _get_client(self) -> Any:
        with self._lock:
            if self._client is None:
                import httpx

                self._client = httpx.Client(
                    timeout=self.http.timeout, follow_redirects=False, trust_env=False,
                    limits=httpx.Limits(max_connections=8, max_keepalive_connections=4),
                )  # fmt: skip
            return self._client

    def probe(self) -> Observation:
        """Send one request now and judge the answer. Never raises for the target's sake."""
        import httpx

        at = self.clock.now()
        try:
            response = self._get_client().request(self.http.method, self.url)
        except httpx.HTTPError as exc:
            return Observation(self.name, False, at, _why_transport(exc, self.http.timeout))
        except OSError as exc:
            return Observation(self.name, False, at, _why_transport(exc, self.http.timeout))
        if response.status_code != self.http.expect_status:
            return Observation(self.name, False, at, f"status {response.status_code}")
        if self.http.body_contains is not None and self.http.body_contains not in response.text:
            return Observation(self.name, False, at, f"status {response.status_code} but body lacks {self.http.body_contains!r}")
        return Observation(self.name, True, at, f"status {response.status_code}")

    def close(self) -> None:
        """Close the connection pool; the probe reopens one if used again."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()


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


Probe = HttpProbe | ProcessProbe  # | gameday.adapters.promql.PromProbe (check.prometheus)


def build_probes(
    checks: Sequence[Check],
    target_url: str | None,
    processes: Mapping[str, ProcessSelector | dict[str, Any]] | None = None,
    *,
    clock: Clock | None = None,
    prometheus_url: str | None = None,
) -> list[Probe]:
    """One probe per steady-state check, in order.

    PromQL checks (``check.prometheus``) query their own ``url``, else ``prometheus_url``,
    else the Prometheus the monitoring service binds once it runs (``PromProbe.bind``).
    """
    probes: list[Probe] = []
    for check in checks:
        if check.http is not None:
            probes.append(HttpProbe(check, target_url, clock=clock))
        elif check.prometheus is not None:
            from gameday.adapters.promql import PromProbe

            probes.append(PromProbe(check, prometheus_url, clock=clock))  # type: ignore[arg-type]
        else:
            probes.append(ProcessProbe(check, processes or {}, clock=clock))
    return probes
