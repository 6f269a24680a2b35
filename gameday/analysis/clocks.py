"""A tabletop's two clocks: the scenario clock (the journal's ``t``, at the exercise's pace, standing
still while paused) and the wall clock (each event's ``wall``, real UTC). Every measure of a tabletop's
scorecard is stated on both (:func:`on_both_clocks`); the reports show a moment on both (:func:`both_clocks`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from gameday.analysis.matching import simulated_faults
from gameday.model.events import Event, Payload
from gameday.model.scorecard import Measure
from gameday.model.terms import format_offset

#: Where the scorecard says which clock its times are on (tabletop only).
CLOCKS_NOTE = ("seconds and every t on this scorecard are on the scenario clock (the journal's t: the exercise's "
               "own time, at its pace, standing still while paused); wall_seconds is the same measure on the wall "
               "clock (the two events' wall times, real UTC)")


def parse_wall(iso: str) -> datetime | None:
    """An event's ``wall`` (``2026-01-01T09:00:04.000000Z``) as a datetime; None if it is not one."""
    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return None


def wall_between(start: str, end: str) -> float | None:
    """Seconds of wall clock from one event's ``wall`` to another's (never negative); None if unreadable."""
    a, b = parse_wall(start), parse_wall(end)
    if a is None or b is None:
        return None
    return round(max(0.0, (b - a).total_seconds()), 3)


def wall_clock(iso: str) -> str:
    """``'09:14:12 UTC'``: the time of day of an event's ``wall`` (the ISO text itself if unreadable)."""
    dt = parse_wall(iso)
    return dt.strftime("%H:%M:%S UTC") if dt is not None else iso


def both_clocks(t: float, wall: str, start_wall: str) -> str:
    """``'+1h05m (wall 09:14:12 UTC, +12m10s)'``: one moment on the scenario clock and the wall clock."""
    elapsed = wall_between(start_wall, wall)
    since = f", {format_offset(elapsed)}" if elapsed is not None else ""
    return f"{format_offset(t)} (wall {wall_clock(wall)}{since})"


def on_both_clocks(times: Sequence[Measure], events: Sequence[Event[Payload]],
                   impact_on: Callable[[Callable[[Event[Payload]], float]], float | None]) -> list[Measure]:
    """``times`` (scenario clock) with each measure's ``wall_seconds``: from its two events' ``wall``, and
    for ``impact_duration`` (a union of spans) the same union with each event placed by its wall time
    (``impact_on(at)``). A simulated fault's measure says it began, not that it was injected."""
    by_seq = {e.seq: e for e in events}
    start = parse_wall(events[0].wall) if events else None
    simulated = simulated_faults(events)

    def wall_t(e: Event[Payload]) -> float:
        at = parse_wall(e.wall)
        return (at - start).total_seconds() if at is not None and start is not None else e.t

    out = []
    for m in times:
        if m.name == "impact_duration":
            wall = impact_on(wall_t)
        elif m.from_seq in by_seq and m.to_seq in by_seq:
            wall = wall_between(by_seq[m.from_seq].wall, by_seq[m.to_seq].wall)
        else:
            wall = None
        definition = m.definition.replace("first fault injected", "first (simulated) fault began") if simulated \
            else m.definition
        out.append(m.model_copy(update={"wall_seconds": wall, "definition": definition}))
    return out
