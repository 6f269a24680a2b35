"""Alerts, whatever system sent them, and how they match a scenario's detection signals.

Domain logic, pure: the webhook formats (:mod:`gameday.adapters.alerts`,
:mod:`gameday.adapters.formats`) turn payloads into :class:`Alert`; the conductor matches
them to the scenario's signals with :func:`first_signal`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pydantic import JsonValue

from gameday.model.events import AlertReceived, AlertRow
from gameday.model.scenario import AlertMatcher, Signal


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
    """How a signal is named in the journal and reports."""
    return signal.name or signal.alert.alertname or "signal"


def match_delivery(signals: list[Signal], fmt: str, payload: JsonValue, alerts: list[Alert],
                   error: str | None = None) -> tuple[AlertReceived, Alert | None]:
    """One webhook delivery as its ``AlertReceived`` event (each alert with the signal it matched), and
    the first alert that matched a detection signal (None if none did)."""
    rows, first, first_signal_name = [], None, None
    for alert in alerts:
        sig = first_signal(signals, alert)
        name = signal_name(sig) if sig is not None else None
        rows.append(AlertRow(status=alert.status, alertname=alert.alertname, labels=alert.labels,
                             matched=sig is not None, signal=name))
        if sig is not None and first is None:
            first, first_signal_name = alert, name
    received = AlertReceived(format=fmt, matched=first is not None, signal=first_signal_name, error=error,
                             alerts=rows, payload=payload)
    return received, first
