"""The alerts of an ``AlertReceived`` delivery, one entry each, for people: what the timeline and the findings
show of a delivery (a pure function of the event)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import JsonValue

from gameday.model import events


@dataclass(frozen=True)
class AlertEntry:
    """One alert of an ``AlertReceived`` delivery, for people: ``summary`` is its ``summary``
    (or ``description``) annotation from the raw payload, when there is one."""

    status: str
    alertname: str
    labels: Mapping[str, str]
    matched: bool
    signal: str | None
    summary: str | None


def alert_entries(data: events.AlertReceived) -> list[AlertEntry]:
    """The alerts of one ``AlertReceived`` event, each with its summary from the raw payload
    (the payload's own annotations when the delivery carried one alert)."""
    payload = data.payload
    raw = payload.get("alerts") if isinstance(payload, dict) else None
    out = []
    for i, a in enumerate(data.alerts):
        source = raw[i] if isinstance(raw, list) and i < len(raw) else None
        summary = _summary(source) or (_summary(payload) if len(data.alerts) == 1 else None)
        out.append(AlertEntry(
            status=a.status or "firing",
            alertname=a.alertname or a.labels.get("alertname") or "?",
            labels=a.labels,
            matched=a.matched,
            signal=a.signal,
            summary=summary,
        ))  # fmt: skip
    return out


def _summary(payload: JsonValue) -> str | None:
    if not isinstance(payload, dict):
        return None
    for holder in (payload.get("annotations"), payload.get("commonAnnotations")):
        if isinstance(holder, dict):
            text = holder.get("summary") or holder.get("description")
            if text:
                return str(text)
    return None
