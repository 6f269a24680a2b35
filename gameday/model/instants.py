"""Instants as monitoring systems send them (RFC 3339), normalised to UTC without losing a digit.

Alertmanager and Grafana write ``startsAt`` with Go's ``time.Time``: nanoseconds (``.123456789``)
and whatever offset the sender's clock had (``+01:00``). Python's ``datetime`` keeps microseconds
only, so :func:`utc_instant` shifts the date and time to UTC and keeps the fraction digits as sent;
:func:`epoch_ns` reads such a text as integer nanoseconds since the epoch for exact arithmetic.
Go's zero time (``0001-01-01T00:00:00Z``: Alertmanager's ``endsAt`` of a firing alert) means "not
set": both give None for it, as for anything that is not an RFC 3339 date-time.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_RFC3339 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?"
    r"(?:([Zz])|([+-])([0-9]{2}):([0-9]{2}))"
)  # ASCII digits only: a time is journaled with the digits it was sent with
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _parse(text: str) -> tuple[datetime, str] | None:
    """The UTC date-time (whole seconds) and the fraction digits as sent; None if not RFC 3339 or zero time."""
    m = _RFC3339.fullmatch(text.strip()) if isinstance(text, str) and len(text) <= 64 else None
    if m is None:
        return None
    year, month, day, hour, minute, second = (int(m.group(i)) for i in range(1, 7))
    if year < 1000:  # Go's zero time 0001-01-01 (not set), or a date no monitoring sends
        return None
    if m.group(9) and (int(m.group(10)) > 23 or int(m.group(11)) > 59):
        return None  # RFC 3339 offsets are at most 23:59
    try:
        at = datetime(year, month, day, hour, minute, min(second, 59), tzinfo=UTC)  # a leap second reads as :59
        if m.group(9):
            offset = timedelta(hours=int(m.group(10)), minutes=int(m.group(11)))
            at -= offset if m.group(9) == "+" else -offset
    except (ValueError, OverflowError):
        return None
    if at.year < 1000:
        return None
    return at, m.group(7) or ""


def is_zero_time(text: object) -> bool:
    """Go's zero time (``0001-01-01T00:00:00Z``, any offset): what senders write for "not set"."""
    return isinstance(text, str) and text.strip().startswith("0001-01-01")


def utc_instant(text: object) -> str | None:
    """``text`` (RFC 3339, any offset, up to nanoseconds) in UTC with ``Z``, its fraction digits as sent:
    ``'2026-01-01T10:00:00.123456789+01:00'`` → ``'2026-01-01T09:00:00.123456789Z'``. None for Go's zero
    time and for anything that is not an RFC 3339 date-time."""
    parsed = _parse(text) if isinstance(text, str) else None
    if parsed is None:
        return None
    at, fraction = parsed
    return at.strftime("%Y-%m-%dT%H:%M:%S") + (f".{fraction}" if fraction else "") + "Z"


def epoch_ns(text: object) -> int | None:
    """Nanoseconds since the epoch of an RFC 3339 ``text`` (see :func:`utc_instant`); None if not one."""
    parsed = _parse(text) if isinstance(text, str) else None
    if parsed is None:
        return None
    at, fraction = parsed
    return (at - _EPOCH) // timedelta(seconds=1) * 1_000_000_000 + int((fraction or "0").ljust(9, "0"))
