"""``--pace``: how the scenario clock of an exercise runs against the wall clock.

``4h:45m`` plays four hours of scenario in 45 minutes of wall time; ``real`` is one to one;
``manual`` stands still and advances to each next inject on the facilitator's word;
``instant`` (headless, with scripted participants) jumps to each next deadline at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from gameday.model.duration import format_duration, parse_duration


class PaceError(ValueError):
    """A ``--pace`` that cannot be read (the message says what was expected)."""


@dataclass(frozen=True)
class Pace:
    """A parsed ``--pace``: ``factor`` scenario seconds per wall second (None for manual and instant)."""

    label: str
    kind: Literal["paced", "manual", "instant"]
    factor: float | None = None


def parse_pace(text: str) -> Pace:
    """Read ``SCENARIO:WALL`` (``4h:45m``), ``real``, ``manual`` or ``instant``."""
    value = text.strip().lower()
    if value == "real":
        return Pace("real", "paced", 1.0)
    if value in ("manual", "instant"):
        return Pace(value, "manual" if value == "manual" else "instant")
    scenario, sep, wall = value.partition(":")
    if not sep:
        raise PaceError(f"--pace {text!r}: expected SCENARIO:WALL durations like '4h:45m', or real, manual or instant")
    try:
        s, w = parse_duration(scenario), parse_duration(wall)
    except ValueError as exc:
        raise PaceError(f"--pace {text!r}: {exc}") from None
    if s <= 0 or w <= 0:
        raise PaceError(f"--pace {text!r}: both durations must be positive")
    factor = s / w
    if not 0.01 <= factor <= 10_000:
        raise PaceError(f"--pace {text!r}: {factor:g} scenario seconds per wall second is out of range (0.01 to 10000)")
    return Pace(f"{format_duration(s)}:{format_duration(w)}", "paced", factor)
