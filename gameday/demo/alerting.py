"""The demo monitor's alert rules and Alertmanager v4 webhook bodies (pure, no I/O).

Two rules, evaluated on each scrape of checkout's ``/metrics``:

* ``CheckoutErrorsHigh`` — over the last 5 s, more than 20 % of ``handler="checkout"``
  requests answered 5xx, with at least 3 requests in the window. PromQL equivalent:
  ``sum(increase(checkout_requests_total{handler="checkout",code=~"5.."}[5s]))
  / sum(increase(checkout_requests_total{handler="checkout"}[5s])) > 0.2``.
* ``CheckoutDown`` — two consecutive scrapes failed (``up == 0`` twice).

Nothing watches ``/products``: a broken catalog raises no alert. That gap is what the
silent-failure scenario drills.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

ZERO_TIME = "0001-01-01T00:00:00Z"
ERRORS_EXPR = (
    'sum(increase(checkout_requests_total{handler="checkout",code=~"5.."}[5s]))'
    ' / sum(increase(checkout_requests_total{handler="checkout"}[5s])) > 0.2'
)
DOWN_EXPR = 'up{job="checkout"} == 0'


def rfc3339(when: datetime) -> str:
    """``2026-11-28T10:00:00.123Z``, as Alertmanager writes times."""
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def fingerprint(labels: dict[str, str]) -> str:
    """Alertmanager's alert fingerprint: FNV-1a 64 over the sorted label pairs, as 16 hex digits."""
    h = 0xCBF29CE484222325
    for name in sorted(labels):
        for part in (name, labels[name]):
            for byte in part.encode() + b"\xff":
                h ^= byte
                h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def checkout_totals(text: str) -> tuple[float, float]:
    """``(all, 5xx)`` ``handler="checkout"`` request counts from a Prometheus text exposition."""
    from prometheus_client.parser import text_string_to_metric_families

    total = errors = 0.0
    for family in text_string_to_metric_families(text):
        if family.name != "checkout_requests":
            continue
        for sample in family.samples:
            if sample.name != "checkout_requests_total" or sample.labels.get("handler") != "checkout":
                continue
            total += sample.value
            if sample.labels.get("code", "").startswith("5"):
                errors += sample.value
    return total, errors


@dataclass
class Alert:
    """One alert's state: firing since ``starts_at`` or resolved at ``ends_at``."""

    name: str
    labels: dict[str, str]
    annotations: dict[str, str] = field(default_factory=dict)
    firing: bool = False
    starts_at: datetime | None = None
    ends_at: datetime | None = None

    def payload(self, generator_url: str) -> dict[str, Any]:
        return {
            "status": "firing" if self.firing else "resolved",
            "labels": dict(self.labels),
            "annotations": dict(self.annotations),
            "startsAt": rfc3339(self.starts_at) if self.starts_at else ZERO_TIME,
            "endsAt": ZERO_TIME if self.firing or self.ends_at is None else rfc3339(self.ends_at),
            "generatorURL": generator_url,
            "fingerprint": fingerprint(self.labels),
        }


def webhook_body(alert: Alert, external_url: str, receiver: str = "gameday") -> dict[str, Any]:
    """The exact Alertmanager v4 webhook body for one alert group (grouped by alertname)."""
    expr = ERRORS_EXPR if alert.name == "CheckoutErrorsHigh" else DOWN_EXPR
    payload = alert.payload(f"{external_url}/graph?g0.expr={quote(expr)}&g0.tab=1")
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{alert.name}"}}',
        "truncatedAlerts": 0,
        "status": payload["status"],
        "receiver": receiver,
        "groupLabels": {"alertname": alert.name},
        "commonLabels": dict(alert.labels),
        "commonAnnotations": dict(alert.annotations),
        "externalURL": external_url,
        "alerts": [payload],
    }


class Rules:
    """Evaluates both rules scrape by scrape; returns the alerts that changed state."""

    def __init__(self, instance: str, window: float = 5.0, threshold: float = 0.2, min_requests: int = 3, down_after: int = 2):
        self.window, self.threshold, self.min_requests, self.down_after = window, threshold, min_requests, down_after
        base = {"severity": "critical", "service": "checkout", "job": "checkout", "instance": instance}
        self.alerts = {
            "CheckoutErrorsHigh": Alert("CheckoutErrorsHigh", {"alertname": "CheckoutErrorsHigh", **base}),
            "CheckoutDown": Alert("CheckoutDown", {"alertname": "CheckoutDown", **base}),
        }
        self.samples: deque[tuple[float, float, float]] = deque()
        self.failures = 0
        self.last_error = ""

    def error_ratio(self) -> tuple[float, float] | None:
        """``(ratio, requests)`` of checkout 5xx over the window, or None without two samples."""
        if len(self.samples) < 2:
            return None
        _, total0, errors0 = self.samples[0]
        _, total1, errors1 = self.samples[-1]
        requests = total1 - total0
        return ((errors1 - errors0) / requests if requests > 0 else 0.0), requests

    def observe(self, mono: float, now: datetime, totals: tuple[float, float] | None, error: str = "") -> list[Alert]:
        """Feed one scrape (``totals`` None if it failed) taken at ``mono``/``now``; changed alerts out."""
        changed: list[Alert] = []
        if totals is None:
            self.failures += 1
            self.last_error = error
        else:
            self.failures = 0
            if self.samples and totals[0] < self.samples[-1][1]:
                self.samples.clear()  # counter reset: checkout restarted
            self.samples.append((mono, *totals))
            while len(self.samples) > 2 and self.samples[1][0] <= mono - self.window:
                self.samples.popleft()
            ratio = self.error_ratio()
            high = ratio is not None and ratio[1] >= self.min_requests and ratio[0] > self.threshold
            annotations = {}
            if high and ratio is not None:
                annotations = {
                    "summary": "Checkout requests are failing",
                    "description": (
                        f"{ratio[0]:.0%} of {ratio[1]:.0f} checkout requests answered 5xx over the last {self.window:g}s."
                    ),
                }
            self._set("CheckoutErrorsHigh", high, now, annotations, changed)
        down_annotations = {
            "summary": "Checkout API is down",
            "description": f"{self.failures} consecutive scrapes of checkout /metrics failed: {self.last_error}",
        }
        self._set("CheckoutDown", self.failures >= self.down_after, now, down_annotations, changed)
        return changed

    def _set(self, name: str, active: bool, now: datetime, annotations: dict[str, str], changed: list[Alert]) -> None:
        alert = self.alerts[name]
        if active and not alert.firing:
            alert.firing, alert.starts_at, alert.ends_at, alert.annotations = True, now, None, annotations
            changed.append(alert)
        elif not active and alert.firing:
            alert.firing, alert.ends_at = False, now
            changed.append(alert)
