"""Customer impact from the load generator: a pure function of a journal (no clock, no I/O).

:func:`measure_impact` reads the ``LoadStarted``/``LoadStats``/``LoadFailed``/``LoadStopped``
events (see :mod:`gameday.model.events`) and returns an
:class:`~gameday.model.scorecard.ImpactResult`, or None when the drill had no load.
Plain Python, histograms merged exactly: it also runs inside a live drill (stakeholder
updates quote the revenue lost so far), where importing pandas would stall the conductor's
threads for a moment; :func:`load_frame` gives trends and notebooks the same intervals as a
pandas table (imported lazily, never on the CLI's start-up path). The intervals and the
figures of a window over them are computed in :mod:`gameday.analysis.impact_windows`
(its names are importable from here too); this module assembles the result, estimates the
revenue lost and puts the impact in words (:func:`impact_text`, :func:`impact_markdown`).
Definitions (also in ``docs/scoring.md``):

* **Stats intervals** — one ``LoadStats`` event per second: requests, failures and the
  response-time histogram of each request name in ``[t_from, t_to]``. A window counts
  whole intervals.
* **Baseline window** — intervals that end before the first ``FaultInjected``, once the
  user count stopped ramping (both ends of the interval at the baseline's highest user
  count; all baseline intervals if none qualifies).
* **Impact window** — first ``FaultInjected`` → first ``RecoveryObserved`` after it (the
  steady state holds again); without recovery (or when the probes never saw impact),
  → the end of the load. Its figures count every interval that overlaps it.
* **Unknown** — from the last interval before a ``LoadFailed`` until the next
  ``LoadStarted`` (or the end): nothing was measured there. A window overlapping an unknown
  stretch makes the result ``partial`` (the revenue estimate is then a lower bound).
* **Customer-facing** — the request names in ``business.customer_facing`` (every request
  when the list is empty).
* **Degraded second** — an interval of the impact window whose customer-facing failure
  rate exceeds the baseline's by more than ``business.degraded_threshold`` (default 5
  percentage points), or in which no request at all was answered while users were running.
  Degraded minutes = Σ (overlap of those intervals with the window) ÷ 60.
* **Revenue** (see :data:`REVENUE_FORMULA`)::

      expected  = (baseline customer-facing successes per user-second) × user-seconds in the window
      shortfall = max(0, expected − customer-facing successes in the window)
      value     = value_per_request, or revenue_per_minute ÷ 60 ÷ baseline customer-facing successes per second
      lost      = value × shortfall;   per minute = lost ÷ (seconds of the window's intervals ÷ 60)

  A failed request is a success that did not happen; so is a request never made because
  customers were stuck waiting — the shortfall counts both. Normalising by running users
  keeps a load profile (stages) from reading as lost revenue.
* **Incident clock** — a time-scaled drill (``policy.scale`` below 1) declares that 1 s of it
  stands for 1/scale s of an incident (:mod:`gameday.analysis.clocks`). Its revenue is priced
  on that clock: ``lost`` = the drill's loss ÷ scale (the drill's shortfall stretched to the
  incident's length, whichever the basis), beside it ``lost_drill_clock``; per minute is the
  same on both clocks. Degraded minutes stay on the drill's clock, with
  ``degraded_minutes_incident_clock`` beside them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

from gameday.analysis.clocks import incident_scale, to_incident
from gameday.analysis.impact_windows import (
    EPS,
    Interval,
    baseline_intervals,
    degraded_seconds,
    intervals,
    load_end,
    load_frame,
    overlap,
    peak_rate,
    percentile,
    request_counts,
    successes,
    unknown_spans,
    window,
)
from gameday.analysis.matching import first_injection, first_recovery
from gameday.journal import Journal
from gameday.model.duration import human
from gameday.model.events import DrillStarted, LoadFailed, LoadStarted, LoadStats, LoadStopped, Payload
from gameday.model.load import Business
from gameday.model.scenario import Scenario
from gameday.model.scorecard import ImpactResult, LoadWindow, RevenueEstimate

__all__ = [
    "DEGRADED_DEFINITION", "EPS", "LOAD_KINDS", "REVENUE_FORMULA", "WINDOW_DEFINITION", "Interval", "business_of",
    "impact_markdown", "impact_text", "intervals", "load_frame", "measure_impact", "money", "percentile", "unknown_spans",
]

LOAD_KINDS: tuple[type[Payload], ...] = (LoadStarted, LoadStats, LoadFailed, LoadStopped)
REVENUE_FORMULA = (
    "lost = value per successful customer-facing request × shortfall; shortfall = max(0, expected − actual "
    "customer-facing successes in the impact window); expected = baseline customer-facing successes per user-second × "
    "user-seconds in the window; value = value_per_request, or revenue_per_minute ÷ 60 ÷ baseline customer-facing "
    "successes per second; per minute = lost ÷ minutes of the window's stats intervals"
)
WINDOW_DEFINITION = (
    "impact window: first FaultInjected → first RecoveryObserved (or the end of the load); baseline: stats intervals "
    "ending before the first injection, after the ramp-up"
)
#: Added to the formula in a time-scaled drill.
INCIDENT_CLOCK_FORMULA = (
    "; on the incident clock (policy.scale {scale:g}: 1 s of this drill stands for 1/scale s of an incident): lost = the "
    "drill's loss ÷ scale (its shortfall stretched to the incident's length), lost_drill_clock = the drill's loss; per "
    "minute is the same on both clocks"
)
DEGRADED_DEFINITION = (
    "an interval of the impact window whose customer-facing failure rate exceeds the baseline's by more than {pp:g} "
    "percentage points, or in which nothing was answered while users ran; minutes = overlap with the window ÷ 60"
)


#: A degraded second's margin over the baseline failure rate when no business context gives one.
DEFAULT_THRESHOLD = 0.05


def business_of(journal: Journal) -> Business | None:
    """The business context the drill ran with: LoadStarted's (the effective one), else the scenario's; None without one."""
    started = journal.first(LoadStarted)
    if started is not None and started.data.business is not None:
        return started.data.business
    scenario = _scenario(journal)
    return scenario.business if scenario is not None else None


def measure_impact(journal: Journal) -> ImpactResult | None:
    """The impact figures of a drill with load; None when it had no load (nothing journaled or configured)."""
    events = journal.events
    scenario = _scenario(journal)
    if not any(isinstance(e.data, LOAD_KINDS) for e in events) and (scenario is None or scenario.load is None):
        return None
    business = business_of(journal)
    facing = list(business.customer_facing) if business is not None else []
    items = intervals(events)
    seen = {name for iv in items for name in iv.names}
    cf = set(facing) if facing else seen
    unknown = unknown_spans(events, items)
    injection = first_injection(events)
    recovery = first_recovery(events, injection)
    base = baseline_intervals(items, injection.t if injection else None)
    common: dict[str, Any] = {"customer_facing": facing, "window_definition": WINDOW_DEFINITION, "unknown": unknown,
              "unseen_names": sorted(set(facing) - seen),
              "degraded_definition": DEGRADED_DEFINITION.format(pp=100 * _threshold(business))}
    baseline = window(base, cf, None, injection.t if injection else None) if base else None
    if injection is None:
        return ImpactResult(status="unknown", note="no fault was injected: there is no impact window", baseline=baseline,
                            during=None, **_no_figures(), **common)
    w0 = injection.t
    w1 = recovery.t if recovery else load_end(events, items)
    during_items = [iv for iv in items if iv.t_to > w0 + EPS and iv.t_from < w1 - EPS]
    missing = sum(overlap(s.from_t, s.to_t if s.to_t is not None else max(w1, s.from_t), w0, w1) for s in unknown)
    if not during_items:
        why = "the load generator was not running during the impact window" if missing or unknown else (
            "no load statistics were journaled during the impact window")
        return ImpactResult(status="unknown", note=why, baseline=baseline, during=None, **_no_figures(), **common)
    status: Literal["partial", "measured"] = "partial" if missing > EPS else "measured"
    during = window(during_items, cf, w0, w1)
    totals = {iv.seq: request_counts(iv, None) for iv in during_items}
    cf_totals = {iv.seq: request_counts(iv, cf) for iv in during_items}
    peak_t, peak = peak_rate(during_items, totals)
    _, cf_peak = peak_rate(during_items, cf_totals)
    base_rate = baseline.customer_facing.failure_rate if baseline else None
    degraded = degraded_seconds(during_items, totals, cf_totals, base_rate, _threshold(business), w0, w1)
    notes = []
    if status == "partial":
        notes.append(f"load data is missing for {missing:.1f}s of the impact window: figures cover the rest only")
    if baseline is None:
        notes.append("no stats interval ended before the first injection: no baseline to compare with")
    scale = incident_scale(events)
    revenue = _revenue(business, base, during_items, cf, status == "partial", scale)
    minutes = None if degraded is None else round(degraded / 60, 3)
    on_incident = to_incident(degraded / 60, scale) if scale and degraded is not None else None  # left out when None
    return ImpactResult(
        status=status, note="; ".join(notes), baseline=baseline, during=during, peak_error_rate=peak, peak_error_t=peak_t,
        peak_customer_facing_error_rate=cf_peak, degraded_seconds=None if degraded is None else round(degraded, 3),
        degraded_minutes=minutes, degraded_minutes_incident_clock=on_incident, revenue=revenue, **common,
    )  # fmt: skip


# ------------------------------------------------------------------------------ assembly


def _scenario(journal: Journal) -> Scenario | None:
    started = journal.first(DrillStarted)
    return started.data.scenario if started else None


def _threshold(business: Business | None) -> float:
    return business.degraded_threshold if business is not None else DEFAULT_THRESHOLD


def _revenue(business: Business | None, base: Sequence[Interval], during: Sequence[Interval], cf: set[str],
             partial: bool, scale: float | None = None) -> RevenueEstimate | None:
    """The revenue estimate (see :data:`REVENUE_FORMULA`); with a ``scale`` (a time-scaled drill) ``lost`` is priced on
    the incident clock, the drill's own figure kept beside it."""
    if business is None:
        return None
    rpm, vpr = business.revenue_per_minute, business.value_per_request
    if rpm is None and vpr is None:
        return None
    currency = business.currency or "USD"
    basis: Literal["revenue_per_minute", "value_per_request"] = "revenue_per_minute" if rpm is not None else "value_per_request"
    formula = REVENUE_FORMULA + (INCIDENT_CLOCK_FORMULA.format(scale=scale) if scale else "")
    clock: dict[str, Any] = {"scale": scale} if scale else {}
    empty: dict[str, Any] = {"currency": currency, "basis": basis, "lost": None, "per_minute": None, "value_per_success": None,
             "expected_successes": None, "actual_successes": None, "shortfall": None, "formula": formula, **clock}
    base_ok = successes(base, cf)
    base_s, base_us = sum(iv.dt for iv in base), sum(iv.user_seconds for iv in base)
    if not base or base_ok <= 0 or base_s <= 0 or base_us <= 0:
        return RevenueEstimate(**empty, note="unknown: no successful customer-facing request during the baseline")
    per_user_s = base_ok / base_us
    value = vpr if vpr is not None else (rpm or 0.0) / 60 / (base_ok / base_s)
    expected = per_user_s * sum(iv.user_seconds for iv in during)
    actual = successes(during, cf)
    shortfall = max(0.0, expected - actual)
    lost = value * shortfall
    seconds = sum(iv.dt for iv in during)
    per_minute = lost / (seconds / 60) if seconds > 0 else None
    how = (f"value = {rpm or 0.0:g} ÷ 60 ÷ {base_ok / base_s:.4f}/s = {value:.4f}" if vpr is None
           else f"value = {value:g} per request")
    user_s = sum(iv.user_seconds for iv in during)
    computation = (f"{how}; expected = {per_user_s:.5f} × {user_s:.3f} user-s = {expected:.2f}; actual = {actual}; "
                   f"shortfall = {shortfall:.2f}; lost = {value:.4f} × {shortfall:.2f} = {lost:.2f} {currency}")
    if scale:  # priced on the incident clock: the drill's loss stretched to the incident's length
        computation = (computation.replace("; lost = ", "; lost on the drill's clock = ")
                       + f"; lost on the incident clock = {lost:.2f} ÷ {scale:g} = {lost / scale:.2f} {currency}")
        clock["lost_drill_clock"] = round(lost, 2)
    note = "a lower bound: load data is missing for part of the impact window" if partial else ""
    return RevenueEstimate(
        currency=currency, basis=basis, lost=round(lost / scale if scale else lost, 2),
        per_minute=None if per_minute is None else round(per_minute, 2), lower_bound=partial,
        value_per_success=round(value, 6), expected_successes=round(expected, 3), actual_successes=actual,
        shortfall=round(shortfall, 3), formula=formula, computation=computation, note=note, **clock,
    )  # fmt: skip


def _no_figures() -> dict[str, Any]:
    return {"peak_error_rate": None, "peak_error_t": None, "peak_customer_facing_error_rate": None,
            "degraded_seconds": None, "degraded_minutes": None, "revenue": None}


# ------------------------------------------------------------------------------ in words


def money(value: float | None, currency: str) -> str:
    """``$1,234.50`` for USD, ``EUR 1,234.50`` otherwise; ``—`` when unknown."""
    if value is None:
        return "—"
    return f"${value:,.2f}" if currency == "USD" else f"{currency} {value:,.2f}"


def _pct(rate: float | None) -> str:
    return "—" if rate is None else f"{100 * rate:.1f}%"


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:g} ms"


def impact_text(impact: ImpactResult) -> dict[str, Any]:
    """The impact in sentences and table rows, for the postmortem and the scorecard (texts unescaped)."""
    base, during, rev = impact.baseline, impact.during, impact.revenue
    names = ", ".join(impact.customer_facing) or "every request"
    if during is None:
        customers = f"Customers affected and revenue impact: unknown — {impact.note or 'no load data'}."
    else:
        cf = during.customer_facing
        at_base = f" vs {_pct(base.customer_facing.failure_rate)} at baseline" if base else ""
        on_incident = impact.degraded_minutes_incident_clock
        incident = "" if on_incident is None else f" ({on_incident:g} on the incident clock)"
        customers = (f"Customers affected: {cf.failures} of {cf.requests} customer-facing requests ({names}) failed during "
                     f"the impact window ({_pct(cf.failure_rate)}{at_base}); customer-facing minutes degraded: "
                     f"{'—' if impact.degraded_minutes is None else f'{impact.degraded_minutes:g}'}{incident}.")
    revenue = None
    if rev is not None:
        if rev.lost is None:
            revenue = f"Revenue lost: unknown ({rev.note or 'no baseline'})."
        else:
            least = "at least " if rev.lower_bound else ""
            seconds = during.seconds if during else 0.0
            if rev.scale:  # a time-scaled drill: priced on the incident clock, the drill's own figure beside it
                revenue = (f"Estimated revenue lost: {least}{money(rev.lost, rev.currency)} on the incident clock "
                           f"({least}{money(rev.lost_drill_clock, rev.currency)} over the drill's {seconds:g}s) — "
                           f"{money(rev.per_minute, rev.currency)} per minute over "
                           f"{human(seconds / rev.scale)} of the impact window on the incident clock.")
            else:
                revenue = (f"Estimated revenue lost: {least}{money(rev.lost, rev.currency)} — "
                           f"{money(rev.per_minute, rev.currency)} per minute over {seconds:g}s of the impact window.")
    rows = []
    if during is not None:
        measures: list[tuple[str, Callable[[LoadWindow], str]]] = [
            ("requests", lambda w: str(w.total.requests)),
            ("failed requests", lambda w: str(w.total.failures)),
            ("failure rate, all requests", lambda w: _pct(w.total.failure_rate)),
            (f"failure rate, customer-facing ({names})", lambda w: _pct(w.customer_facing.failure_rate)),
            ("p50 latency", lambda w: _ms(w.total.p50_ms)),
            ("p95 latency", lambda w: _ms(w.total.p95_ms)),
            ("p99 latency", lambda w: _ms(w.total.p99_ms)),
        ]
        for label, get in measures:  # (baseline, during) texts
            rows.append({"measure": label, "baseline": get(base) if base else "—", "during": get(during)})
    by_name = []
    if during is not None:
        before = {f.name: f for f in (base.by_name if base else [])}
        for f in during.by_name:
            b = before.get(f.name)
            by_name.append({"name": f.name, "requests": str(f.requests), "failures": str(f.failures),
                            "baseline_rate": _pct(b.failure_rate) if b else "—", "rate": _pct(f.failure_rate),
                            "baseline_p95": _ms(b.p95_ms) if b else "—", "p95": _ms(f.p95_ms),
                            "customer_facing": f.name in impact.customer_facing or not impact.customer_facing})
    peak = None
    if impact.peak_error_rate is not None:
        peak = (f"Peak error rate: {_pct(impact.peak_error_rate)} of all requests (interval ending at "
                f"{impact.peak_error_t:g}s); customer-facing peak {_pct(impact.peak_customer_facing_error_rate)}.")
    unknown = [f"from {s.from_t:g}s to {'the end' if s.to_t is None else f'{s.to_t:g}s'}: {s.reason}" for s in impact.unknown]
    return {
        "status": impact.status, "note": impact.note, "customers": customers, "revenue": revenue, "peak": peak,
        "formula": rev.formula if rev else None, "computation": rev.computation if rev and rev.lost is not None else None,
        "rows": rows, "by_name": by_name, "unknown": unknown, "window": impact.window_definition,
        "degraded": impact.degraded_definition, "unseen": impact.unseen_names,
    }  # fmt: skip


def impact_markdown(impact: ImpactResult | None, escape: Callable[[Any], str] = str) -> list[str]:
    """Lines of an "Impact (load)" Markdown section for the scorecard; ``escape`` makes text inert."""
    if impact is None:
        return []
    t = impact_text(impact)
    out = ["## Impact (load)", "", f"**{impact.status}** — {escape(t['customers'])}", ""]
    out += [escape(x) for x in (t["revenue"], t["peak"]) if x] + ([""] if t["revenue"] or t["peak"] else [])
    if t["rows"]:
        out += ["| measure | baseline | impact window |", "|---|---|---|"]
        out += [f"| {escape(r['measure'])} | {r['baseline']} | {r['during']} |" for r in t["rows"]] + [""]
    if t["computation"]:
        out += [f"Revenue formula: {escape(t['formula'])}", "", f"`{t['computation']}`", ""]
    out += [f"- impact unknown {escape(u)}" for u in t["unknown"]] + ([""] if t["unknown"] else [])
    return out
