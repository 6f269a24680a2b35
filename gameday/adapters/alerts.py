"""Alert payloads: normalise webhook bodies into alerts and match them to detection signals.

Pure functions, no I/O. Alertmanager's webhook body (version 4) is::

    {"version": "4", "status": "firing", "receiver": ..., "groupKey": ...,
     "alerts": [{"status", "labels", "annotations", "startsAt", "endsAt",
                 "generatorURL", "fingerprint"}], "groupLabels", "commonLabels", ...}
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from gameday.model.scenario import AlertMatcher, Signal


class PayloadError(ValueError):
    """A webhook body that is JSON but not of the expected shape."""


@dataclass(frozen=True)
class Alert:
    """One alert, whatever system sent it."""

    status: str  # firing | resolved
    labels: dict[str, str]
    annotations: dict[str, str] = field(default_factory=dict)
    starts_at: str | None = None
    fingerprint: str | None = None
    action: str | None = None  # a responder action the delivery also carries (PagerDuty acknowledge/resolve)
    actor: str | None = None  # who did it, as the vendor names them

    @property
    def alertname(self) -> str | None:
        return self.labels.get("alertname")


def _str_map(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PayloadError(f"{where}: expected an object")
    return {str(k): str(v) for k, v in value.items()}


def parse_alertmanager(body: Any) -> list[Alert]:
    """Alerts of an Alertmanager v4 webhook body. Raises :class:`PayloadError` naming the field."""
    if not isinstance(body, dict):
        raise PayloadError("body: expected a JSON object")
    alerts = body.get("alerts")
    if not isinstance(alerts, list):
        raise PayloadError("alerts: expected a list")
    out = []
    for i, raw in enumerate(alerts):
        if not isinstance(raw, dict):
            raise PayloadError(f"alerts[{i}]: expected an object")
        status = raw.get("status", body.get("status"))
        if status not in ("firing", "resolved"):
            raise PayloadError(f"alerts[{i}].status: expected 'firing' or 'resolved', got {status!r}")
        out.append(
            Alert(
                status=status,
                labels=_str_map(raw.get("labels"), f"alerts[{i}].labels"),
                annotations=_str_map(raw.get("annotations"), f"alerts[{i}].annotations"),
                starts_at=raw.get("startsAt") if isinstance(raw.get("startsAt"), str) else None,
                fingerprint=raw.get("fingerprint") if isinstance(raw.get("fingerprint"), str) else None,
            )
        )
    return out


def matches(matcher: AlertMatcher, alert: Alert) -> bool:
    """True if ``alert`` satisfies ``matcher``: name and every label (equal, or ``~regex`` full match), status."""
    if matcher.status != "any" and alert.status != matcher.status:
        return False
    wanted = dict(matcher.labels)
    if matcher.alertname is not None:
        wanted["alertname"] = matcher.alertname
    for key, want in wanted.items():
        have = alert.labels.get(key)
        if have is None:
            return False
        if want.startswith("~"):
            if not re.fullmatch(want[1:], have):
                return False
        elif have != want:
            return False
    return True


def first_signal(signals: list[Signal], alert: Alert) -> Signal | None:
    """The first detection signal that ``alert`` matches, if any."""
    return next((s for s in signals if matches(s.alert, alert)), None)


def signal_name(signal: Signal) -> str:
    return signal.name or signal.alert.alertname or "signal"
