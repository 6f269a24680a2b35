"""Alert payloads: normalise Alertmanager webhook bodies into :class:`~gameday.model.alerts.Alert`.

Pure functions, no I/O; matching alerts to signals is domain logic (:mod:`gameday.model.alerts`).
Alertmanager's webhook body (version 4) is::

    {"version": "4", "status": "firing", "receiver": ..., "groupKey": ...,
     "alerts": [{"status", "labels", "annotations", "startsAt", "endsAt",
                 "generatorURL", "fingerprint"}], "groupLabels", "commonLabels", ...}
"""

from __future__ import annotations

from typing import Any

from gameday.model.alerts import Alert
from gameday.model.instants import utc_instant


class PayloadError(ValueError):
    """A webhook body that is JSON but not of the expected shape."""


def _str_map(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PayloadError(f"{where}: expected an object")
    return {str(k): str(v) for k, v in value.items()}


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def parse_alertmanager(body: Any) -> list[Alert]:
    """Alerts of an Alertmanager v4 webhook body. Raises :class:`PayloadError` naming the field.

    ``startsAt``/``endsAt`` are kept in UTC with their fraction digits (:func:`~gameday.model.instants.utc_instant`;
    the zero time of a firing alert's ``endsAt`` is None); a time that is not RFC 3339 is None (the raw body keeps
    it): the alert still counts."""
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
                starts_at=utc_instant(raw.get("startsAt")),
                fingerprint=_str_or_none(raw.get("fingerprint")),
                ends_at=utc_instant(raw.get("endsAt")),
                source_url=_str_or_none(raw.get("generatorURL")),
            )
        )
    return out
