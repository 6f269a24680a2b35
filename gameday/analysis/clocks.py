"""A drill's clocks.

A tabletop has two: the scenario clock (the journal's ``t``, at the exercise's pace, standing
still while paused) and the wall clock (each event's ``wall``, real UTC). Every measure of a tabletop's
scorecard is stated on both (:func:`on_both_clocks`); the reports show a moment on both (:func:`both_clocks`).

A time-scaled drill (the scenario's ``policy.scale`` below 1) declares a third, the **incident clock**:
1 s of the drill stands for 1/scale s of an incident. What happened stays on the drill's clock (the
journal's ``t``, every measured duration, the deadlines and the scaled policy's durations, which
are already on it); what is priced or judged by a rule written in incident time is stated on the
incident clock too (:func:`incident_scale`, :func:`on_incident_clock`; measures gain
``incident_seconds``: :func:`with_incident_seconds`). A drill with scale 1 has one clock and its
reports are unchanged."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from gameday.analysis.matching import simulated_faults
from gameday.model.duration import human
from gameday.model.events import DrillStarted, Event, Payload
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


# ------------------------------------------------------------------------------ the incident clock


def incident_scale(events: Sequence[Event[Payload]]) -> float | None:
    """The drill's declared ``policy.scale`` (from ``DrillStarted``'s scenario) when it is below 1; None for a
    drill on one clock (scale 1, or no ``DrillStarted``)."""
    started = next((e.data for e in events if isinstance(e.data, DrillStarted)), None)
    scale = started.scenario.policy.scale if started is not None else 1.0
    return scale if scale != 1.0 else None


def to_incident(seconds: float | None, scale: float | None) -> float | None:
    """Drill seconds on the incident clock (``seconds ÷ scale``, to the millisecond); ``seconds`` itself without a scale."""
    if seconds is None or scale is None:
        return seconds
    return round(seconds / scale, 3)


def scaled_clocks_note(scale: float) -> str:
    """Where a time-scaled drill's scorecard says which clock its figures are on."""
    return (f"this drill is time-scaled (policy.scale {scale:g}: 1 s of this drill stands for {human(1 / scale)} of an "
            "incident, the incident clock); seconds, every t, the deadlines and the scaled policy's durations are on the "
            "drill's clock (the journal's t); incident_seconds, degraded_minutes_incident_clock and the revenue lost are on "
            "the incident clock (lost_drill_clock is the loss over the drill's own window)")


def on_incident_clock(seconds: float | None, scale: float | None, *, offset: bool = False, short: bool = False) -> str:
    """``' (12m00s on the incident clock)'``: a drill's duration (an offset from drill start with ``offset``) on the
    incident clock, to write beside it; ``''`` for a drill on one clock or an unknown figure. ``short``: ``' (12m00s)'``
    (in a table whose heading names the clock)."""
    if scale is None or seconds is None:
        return ""
    text = (format_offset if offset else human)(seconds / scale)
    return f" ({text})" if short else f" ({text} on the incident clock)"


def with_incident_seconds(times: Sequence[Measure], scale: float | None) -> list[Measure]:
    """``times`` with each measure's ``incident_seconds`` (a time-scaled drill); unchanged without a scale."""
    if scale is None:
        return list(times)
    return [m.model_copy(update={"incident_seconds": to_incident(m.seconds, scale)}) for m in times]
