"""Durations written as ``90s``, ``2m``, ``1h30m``, ``250ms``; a bare number is refused."""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
_MS_PER_UNIT = {"h": 3_600_000.0, "m": 60_000.0, "s": 1000.0, "ms": 1.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
DURATION_PATTERN = r"^(\d+(\.\d+)?(h|ms|m|s))+$"


def parse_duration(value: Any) -> float:
    """Parse a duration string into seconds.

    >>> parse_duration("1h30m")
    5400.0
    >>> parse_duration("250ms")
    0.25
    """
    if isinstance(value, (bool, int, float)):
        shown = repr(value) if not isinstance(value, int) or value.bit_length() < 64 else "a very large integer"
        raise ValueError(f"expected a duration like '90s' or '2m', got the bare number {shown} (ambiguous: add a unit)")
    if not isinstance(value, str):
        raise ValueError(f"expected a duration like '90s' or '2m', got {type(value).__name__}")
    text = value.strip().replace(" ", "")
    pos, total_ms = 0, 0.0
    seen: list[str] = []
    for match in _PART.finditer(text):
        if match.start() != pos:
            break
        unit = match.group(2)
        if unit in seen or (seen and list(_UNITS).index(unit) <= list(_UNITS).index(seen[-1])):
            raise ValueError(f"expected units in order h, m, s, ms once each, got {value!r}")
        seen.append(unit)
        total_ms += float(match.group(1)) * _MS_PER_UNIT[unit]  # sum in ms, divide once: 9ms is 0.009 exactly
        pos = match.end()
    if not text or pos != len(text):
        raise ValueError(f"expected a duration like '90s' or '2m', got {value!r}")
    total = total_ms / 1000
    if not math.isfinite(total) or total > 1e9:
        raise ValueError(f"duration out of range: {value!r}")
    return total


def format_duration(seconds: float) -> str:
    """Canonical text of a duration: ``format_duration(5400.0) == '1h30m'``.

    Round-trips: ``parse_duration(format_duration(x)) == x`` for millisecond multiples.
    """
    ms_total = round(seconds * 1000)
    if ms_total == 0:
        return "0s"
    hours, rest = divmod(ms_total, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, ms = divmod(rest, 1000)
    out = ""
    if hours:
        out += f"{hours}h"
    if minutes:
        out += f"{minutes}m"
    if secs:
        out += f"{secs}s"
    if ms:
        out += f"{ms}ms"
    return out


def human(seconds: float | None) -> str:
    """Short human text for reports: ``'1m05s'``, ``'—'`` for None."""
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema({"type": "string", "pattern": DURATION_PATTERN, "examples": ["90s", "2m", "1h30m"]}),
]
"""A duration in seconds inside the model, written as text in YAML and JSON."""
