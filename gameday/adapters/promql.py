"""A PromQL probe: one instant query over Prometheus's HTTP API, judged against a threshold.

``PromProbe(check, default_url).probe() -> Observation`` sends ``GET {url}/api/v1/query?query=...``
and is healthy when the result compares true (``op``/``value`` of the
:class:`~gameday.model.monitoring.PromCheck`): a scalar by itself; a vector when it has at
least one sample and every sample compares true. An empty vector is "no data" (not
healthy), so ``up{job="checkout"} == 1`` style checks fail closed when a target vanishes.

Usable as a steady-state check (preflight, final) and as an impact observer (the probe
loop runs it at the scenario's rate, like an HTTP check). The Prometheus URL is the
check's ``url``, else the one given here, else one bound later with :meth:`bind` (the
monitoring service binds the drill's own Prometheus once it is up). Never raises for the
target's sake: every failure is an unhealthy Observation with the reason.
"""

from __future__ import annotations

import math
import operator
import threading
from typing import Any

from gameday.clock import Clock, SystemClock
from gameday.errors import ConfigError
from gameday.model.scenario import Check
from gameday.ports import Observation

OPS = {"<": operator.lt, "<=": operator.le, "==": operator.eq, "!=": operator.ne, ">=": operator.ge, ">": operator.gt}


def _series(metric: dict[str, Any]) -> str:
    name = metric.get("__name__", "")
    rest = ",".join(f'{k}="{v}"' for k, v in sorted(metric.items()) if k != "__name__")
    return f"{name}{{{rest}}}" if rest else (name or "{}")


def judge(data: dict[str, Any], op: str, value: float) -> tuple[bool, str]:
    """Judge the ``data`` of a successful ``/api/v1/query`` answer: (healthy, detail)."""
    compare = OPS[op]
    kind = data.get("resultType")
    result: Any = data.get("result")  # decoded JSON, shaped by ``kind``
    if kind == "scalar":
        sample = float(result[1])
        ok = not math.isnan(sample) and compare(sample, value)
        return ok, f"value {sample:g}{'' if ok else f' (want {op} {value:g})'}"
    if kind == "vector":
        if not result:
            return False, "no data"
        bad = [(r["metric"], float(r["value"][1])) for r in result
               if math.isnan(float(r["value"][1])) or not compare(float(r["value"][1]), value)]
        if not bad:
            first = float(result[0]["value"][1])
            return True, f"value {first:g}" if len(result) == 1 else f"{len(result)} series, all {op} {value:g}"
        metric, sample = bad[0]
        more = f" (+{len(bad) - 1} more)" if len(bad) > 1 else ""
        return False, f"{_series(metric)} = {sample:g}, want {op} {value:g}{more}"
    return False, f"unsupported result type {kind!r} (use an instant vector or scalar)"


class PromProbe:
    """Probes one :class:`~gameday.model.monitoring.PromCheck` (``check.prometheus``)."""

    def __init__(self, check: Check, default_url: str | None = None, *, clock: Clock | None = None):
        if check.prometheus is None:
            raise ConfigError(f"check {check.label!r} is not a PromQL check")
        self.check, self.prom, self.name = check, check.prometheus, check.label
        self._url = (check.prometheus.url or default_url or "").rstrip("/") or None
        self._explicit = check.prometheus.url is not None
        self.clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._client: Any = None

    @property
    def url(self) -> str | None:
        return self._url

    @property
    def needs_url(self) -> bool:
        """True while no Prometheus URL is known (neither the check's nor a default)."""
        return self._url is None

    def bind(self, url: str) -> None:
        """Use ``url`` as the Prometheus (unless the check names its own)."""
        if not self._explicit:
            self._url = url.rstrip("/")

    def _get_client(self) -> Any:
        with self._lock:
            if self._client is None:
                import httpx

                self._client = httpx.Client(timeout=self.prom.timeout, trust_env=False,
                                            limits=httpx.Limits(max_connections=4, max_keepalive_connections=2))
            return self._client

    def probe(self) -> Observation:
        import httpx

        at = self.clock.now()
        if self._url is None:
            return Observation(self.name, False, at, "no Prometheus URL (set prometheus.url, or monitoring.kind: prometheus)")
        try:
            # the query's own evaluation timeout, a little under ours, so Prometheus gives up first
            params = {"query": self.prom.query, "timeout": f"{max(0.1, self.prom.timeout * 0.9):.3f}"}
            response = self._get_client().get(f"{self._url}/api/v1/query", params=params)
        except httpx.TimeoutException:
            return Observation(self.name, False, at, f"Prometheus timeout after {self.prom.timeout:g}s")
        except (httpx.HTTPError, OSError) as exc:
            text = str(exc) or type(exc).__name__
            why = "connection refused" if "refused" in text.lower() else f"{type(exc).__name__}: {text}"[:300]
            return Observation(self.name, False, at, f"Prometheus unreachable: {why}")
        try:
            body = response.json()
        except ValueError:
            return Observation(self.name, False, at, f"Prometheus answered {response.status_code}, not JSON")
        if response.status_code != 200 or body.get("status") != "success":
            error = body.get("error") if isinstance(body, dict) else None
            return Observation(self.name, False, at, f"query failed ({response.status_code}): {error or body}"[:300])
        try:
            ok, detail = judge(body.get("data") or {}, self.prom.op, self.prom.value)
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            return Observation(self.name, False, at, f"unexpected query result: {type(exc).__name__}: {exc}"[:300])
        return Observation(self.name, ok, at, detail)

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()
