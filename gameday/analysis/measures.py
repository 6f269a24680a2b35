"""The scorecard's time measures (MTTD, MTTA, MTTR, time to recovery, time impacted), each between two
journal points with its definition (split from :mod:`gameday.analysis.scorecard`)."""

from __future__ import annotations

from collections.abc import Callable

from gameday.analysis.matching import EPS, Action, Facts, r3
from gameday.model.events import (
    Event,
    ImpactEnded,
    ImpactStarted,
    Payload,
)
from gameday.model.scorecard import (
    Measure,
)
from gameday.model.terms import IC

Point = tuple[float, int]  # (t, seq) of an event


def _point(x: Action | Event[Payload] | None) -> Point | None:
    return None if x is None else (x.t, x.seq)


def _measure(name: str, start: Point | None, end: Point | None, definition: str) -> Measure:
    seconds = None if start is None or end is None else r3(max(0.0, end[0] - start[0]))
    to_seq = end[1] if start and end else None
    return Measure(name=name, seconds=seconds, from_seq=start[1] if start else None, to_seq=to_seq, definition=definition)


def measure_times(facts: Facts) -> list[Measure]:
    """MTTD, MTTA, MTTR, time_to_recovery and impact_duration, each traceable to two events."""
    inj, det = _point(facts.injection), _point(facts.detection)
    acks = (a for a in facts.actions if not a.vendor and (a.action == "acknowledge" or (a.action == "assign_role"
                                                                                          and a.assigned_role == IC)))
    ack = next((a for a in acks if a.t >= facts.window_t - EPS), None)
    impact_s, first_seq, last_seq = impacted_time(facts)
    return [
        _measure("MTTD", inj, det, "first fault injected → first detection recorded (alert or person)"),
        _measure("MTTA", det, _point(ack), "first detection → first acknowledge, or incident commander assigned "
                 "after injection (0 if earlier)"),
        _measure("MTTR", det, _point(facts.resolved), "first detection → first 'resolved' action"),
        _measure("time_to_recovery", inj, _point(facts.recovery), "first fault injected → steady state observed "
                 "again (RecoveryObserved)"),
        Measure(name="impact_duration", seconds=r3(impact_s), from_seq=first_seq, to_seq=last_seq,
                definition="union over checks of ImpactStarted → ImpactEnded; open impact runs to the end of the journal"),
    ]  # fmt: skip


def _event_t(e: Event[Payload]) -> float:
    return e.t


def impacted_time(facts: Facts, at: Callable[[Event[Payload]], float] = _event_t) -> tuple[float, int | None, int | None]:
    """Seconds of impact (union over checks), the first ImpactStarted seq, the seq ending the last interval.
    ``at``: an event's time (its ``t``; a tabletop's wall clock measures it again from each event's ``wall``)."""
    end = facts.ended or facts.events[-1]
    opened: dict[str, Point] = {}
    spans: list[tuple[float, float, int, int]] = []
    for e in facts.events:
        d = e.data
        if isinstance(d, ImpactStarted) and d.check not in opened:
            opened[d.check] = (at(e), e.seq)
        elif isinstance(d, ImpactEnded) and d.check in opened:
            t0, s0 = opened.pop(d.check)
            spans.append((t0, at(e), s0, e.seq))
    spans += [(t0, max(t0, at(end)), s0, end.seq) for t0, s0 in opened.values()]
    if not spans:
        return 0.0, None, None
    spans.sort()
    total, cur_start, cur_end, last_seq = 0.0, spans[0][0], spans[0][1], spans[0][3]
    for t0, t1, _s0, s1 in spans[1:]:
        if t0 > cur_end:
            total += cur_end - cur_start
            cur_start, cur_end = t0, t1
        if t1 >= cur_end:
            cur_end, last_seq = t1, s1
    return total + cur_end - cur_start, spans[0][2], last_seq


def impacted_at_injection(facts: Facts) -> bool:
    """A check was already failing when the first fault went in."""
    inj, failing = facts.injection, set[str]()
    for e in facts.events:
        if inj is None or e.seq > inj.seq:
            break
        if isinstance(e.data, ImpactStarted):
            failing.add(e.data.check)
        elif isinstance(e.data, ImpactEnded):
            failing.discard(e.data.check)
    return bool(failing)
