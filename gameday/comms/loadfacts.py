"""Load figures for stakeholder updates: the customers' failure rate and the revenue lost, from ``LoadStats``.

Part of :func:`gameday.comms.facts.comms_facts`; pure like it. The revenue lost so far is
the scorecard's figure (:func:`gameday.analysis.impact.measure_impact`: the shortfall of
successful customer-facing requests against the baseline) whenever that analysis can tell;
otherwise the business figure times the customers' failure rate, interval by interval.
The revenue lost *per minute now* is the latest interval's (``revenue_per_minute`` × its
failure rate, or its failures × ``value_per_request``), when that interval is fresh.

A time-scaled drill (``policy.scale`` below 1: 1 s of the drill stands for 1/scale s of an
incident) quotes the revenue lost so far on the incident clock, like its scorecard (the drill's
loss ÷ scale; ``money_lost_drill_clock`` keeps the drill's own figure); a rate per minute is the
same on both clocks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from gameday.analysis.clocks import incident_scale
from gameday.journal import events_of
from gameday.model.events import Event, LoadFailed, LoadStarted, LoadStats, LoadStopped, Payload
from gameday.model.load import Business

EPS = 1e-6
#: Load figures older than this (or three intervals) no longer describe "now".
STALE_AFTER = 30.0
#: The kinds that tell whether load is running now (the last of them is a ``LoadStats``).
LOAD_KINDS = (LoadStarted, LoadStats, LoadFailed, LoadStopped)


@dataclass(frozen=True)
class LoadFacts:
    """What the load generator tells an update (None: not measured)."""

    measured: bool
    requests: int | None = None
    failures: int | None = None
    rate_now: float | None = None
    rate_overall: float | None = None
    money_per_minute: float | None = None
    money_lost: float | None = None
    lower_bound: bool = False
    money_lost_drill_clock: float | None = None  # a time-scaled drill only: the loss over the drill's own time
    scale: float | None = None  # a time-scaled drill only: policy.scale (money_lost is on the incident clock)


def load_interval(stats: LoadStats, names: Iterable[str] = ()) -> tuple[float, float] | None:
    """(requests, failures) of one ``LoadStats`` interval: the named requests', else the totals.

    None when ``names`` are given and none of them was requested in this interval.
    """
    wanted = list(names)
    if wanted:
        rows = [stats.names[n] for n in wanted if n in stats.names]
        if not rows:  # the names customers feel were not requested in this interval
            return None
    else:
        rows = [stats.total]
    return float(sum(r.requests for r in rows)), float(sum(r.failures for r in rows))


def _interval(e: Event[LoadStats]) -> tuple[float, float]:
    """(t_from, t_to) of a ``LoadStats`` event as drill offsets (its own time when they look otherwise)."""
    t_from, t_to = e.data.t_from, e.data.t_to
    width = t_to - t_from if t_to >= t_from else 0.0
    if abs(t_to - e.t) > max(10.0, 2 * width):
        t_to = e.t
    return t_to - width, t_to


def load_facts(events: list[Event[Payload]], biz: Business | None, started_t: float | None, now_t: float) -> LoadFacts:
    """The load figures at ``now_t`` (``started_t``: when the incident began; None: no incident yet)."""
    stats = events_of(events, LoadStats)
    if not stats:
        return LoadFacts(measured=False)
    last_load = next((e for e in reversed(events) if isinstance(e.data, LOAD_KINDS)), None)
    live = last_load is not None and isinstance(last_load.data, LoadStats)
    names = biz.customer_facing if biz else []
    rows: list[tuple[float, float, float, float]] = []
    for e in stats:
        figures = load_interval(e.data, names)
        if figures is None:
            continue
        t_from, t_to = _interval(e)
        rows.append((t_from, t_to, figures[0], figures[1]))
    if not rows:
        return LoadFacts(measured=False)
    since = started_t if started_t is not None else float("-inf")
    during = [r for r in rows if r[1] > since + EPS]
    req = sum(r[2] for r in during)
    fail = sum(r[3] for r in during)
    t_from, t_to, last_req, last_fail = rows[-1]
    fresh = live and now_t - t_to <= max(STALE_AFTER, 3 * (t_to - t_from))
    rate_now = (last_fail / last_req if last_req else None) if fresh else None
    rate_all = fail / req if req else None
    per_minute: float | None = None
    lost: float | None = None
    if biz is not None and biz.revenue_per_minute is not None:
        if rate_now is not None:
            per_minute = biz.revenue_per_minute * rate_now
        lost = sum(biz.revenue_per_minute * max(0.0, b - a) / 60.0 * (f / r) for a, b, r, f in during if r)
    elif biz is not None and biz.value_per_request is not None:
        if fresh and t_to > t_from:
            per_minute = last_fail * biz.value_per_request * 60.0 / (t_to - t_from)
        lost = fail * biz.value_per_request
    lower_bound = False
    scale = incident_scale(events)
    drill_lost = lost  # on the drill's clock; priced on the incident clock in a time-scaled drill, like the scorecard
    if scale is not None and lost is not None:
        lost = lost / scale
    measured = _measured_loss(events)  # the scorecard's figures, so that updates and postmortem agree
    if measured is not None:
        lost, drill_lost, lower_bound = measured
    if started_t is None:  # no incident yet: nothing lost to it
        lost = drill_lost = None
    clock = {"scale": scale, "money_lost_drill_clock": _round(drill_lost, 2)} if scale is not None else {}
    return LoadFacts(measured=True, requests=int(req), failures=int(fail), rate_now=_round(rate_now), rate_overall=_round(rate_all),  # noqa: E501
                     money_per_minute=_round(per_minute, 2), money_lost=_round(lost, 2), lower_bound=lower_bound,
                     **clock)  # fmt: skip



def _measured_loss(events: list[Event[Payload]]) -> tuple[float, float, bool] | None:
    """(revenue lost, the same on the drill's clock, lower bound?) from :func:`gameday.analysis.impact.measure_impact`,
    when it can tell."""
    try:
        from gameday.analysis.impact import measure_impact
        from gameday.journal import Journal
    except ImportError:  # a build without the load feature
        return None
    try:
        result = measure_impact(Journal(path="<live>", events=list(events)))
    except Exception:  # a live journal the analysis cannot read yet: fall back to the failure-rate estimate  # noqa: BLE001
        return None
    revenue = getattr(result, "revenue", None)
    if revenue is None or revenue.lost is None:
        return None
    drill = revenue.lost_drill_clock if revenue.lost_drill_clock is not None else revenue.lost
    return float(revenue.lost), float(drill), bool(revenue.lower_bound)


def _round(x: float | None, digits: int = 4) -> float | None:
    return None if x is None else round(x, digits)
