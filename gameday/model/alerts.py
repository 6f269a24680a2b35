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
    starts_at: str | None = None  # when the monitoring saw it start (UTC, RFC 3339, fraction digits as sent)
    fingerprint: str | None = None  # the sender's identity of the alert across deliveries (fingerprint, dedup key)
    action: str | None = None  # a responder action the delivery also carries (PagerDuty acknowledge/resolve)
    actor: str | None = None  # who did it, as the vendor names them
    ends_at: str | None = None  # when the monitoring saw it end (UTC, like starts_at); None while firing
    source_url: str | None = None  # where the sender shows it (Alertmanager's generatorURL, PagerDuty's html_url)

    @property
    def alertname(self) -> str | None:
        return self.labels.get("alertname")


#: Grafana's alerts about the rule's data source rather than its condition: their ``alertname`` is one of
#: these, and the rule's own title is only in the ``rulename`` label.
GRAFANA_STATE_ALERTS = frozenset({"DatasourceNoData", "DatasourceError"})


def _spaced(text: str) -> str:
    """Whitespace as a person reads it: trimmed, each run one space (``' test  alert'`` is ``'test alert'``)."""
    return " ".join(text.split())


def alert_names(alert: Alert) -> list[str]:
    """The names a signal's ``alertname`` is compared with: the alert's name as sent and with its whitespace
    normalised (the journal keeps it as sent), and for Grafana's ``DatasourceNoData``/``DatasourceError`` the
    rule's title (``rulename``) too."""
    name = alert.labels.get("alertname")
    if name is None:
        return []
    names = [name, _spaced(name)]
    rule = alert.labels.get("rulename")
    if name in GRAFANA_STATE_ALERTS and rule:
        names += [rule, _spaced(rule)]
    return list(dict.fromkeys(names))


def _fits(want: str, have: str) -> bool:
    return re.fullmatch(want[1:], have) is not None if want.startswith("~") else have == want


def _name_fits(want: str, alert: Alert) -> bool:
    """``want`` (equality, or ``~regex``) against any of :func:`alert_names`; an equal name also as a person
    reads it (``' test  alert'`` is ``'test alert'``)."""
    wants = [want] if want.startswith("~") else list(dict.fromkeys([want, _spaced(want)]))
    return any(_fits(w, have) for w in wants for have in alert_names(alert))


def matches(matcher: AlertMatcher, alert: Alert) -> bool:
    """True if ``alert`` satisfies ``matcher``: name (``alertname``, over a label of that name; see
    :func:`alert_names`) and every label (equal, or ``~regex`` full match), status."""
    if matcher.status != "any" and alert.status != matcher.status:
        return False
    wanted = dict(matcher.labels)
    if matcher.alertname is not None:
        wanted["alertname"] = matcher.alertname
    for key, want in wanted.items():
        if key == "alertname":
            if not _name_fits(want, alert):
                return False
            continue
        have = alert.labels.get(key)
        if have is None or not _fits(want, have):
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
                             matched=sig is not None, signal=name, starts_at=alert.starts_at, ends_at=alert.ends_at,
                             fingerprint=alert.fingerprint, source_url=alert.source_url))
        if sig is not None and first is None:
            first, first_signal_name = alert, name
    received = AlertReceived(format=fmt, matched=first is not None, signal=first_signal_name, error=error,
                             alerts=rows, payload=payload)
    return received, first
