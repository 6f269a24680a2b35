"""The blameless postmortem of a drill, drafted from its journal and scorecard.

:func:`render_postmortem` lays out :func:`postmortem_context` with a Jinja2 template
(``postmortem.md.j2`` or ``postmortem.html.j2``); a project's templates folder overrides
the built-in ones by file name, and a template there can ``{% extends
"gameday/postmortem.md.j2" %}`` to change single blocks (extending the same name would
extend itself). The findings (:func:`~gameday.analysis.findings.action_items`, what went
well, contributing gaps) are computed in Python, in :mod:`gameday.analysis.findings`;
templates only lay out.

Everything responder-supplied is untrusted: HTML output is autoescaped, and Markdown
output escapes every ``{{ ... }}`` value with :func:`md_escape` (also a filter, ``md``;
``|safe`` opts a value out in both formats). The output depends only on its inputs: no
current time, no randomness.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from gameday.analysis.anatomy import anatomy_context
from gameday.analysis.clocks import on_incident_clock
from gameday.analysis.fault_story import fault_rows
from gameday.analysis.findings import (
    ACTION_TEXT,
    ActionItem,
    action_items,
    cadence_misses,
    late_by,
    measure,
    severity_applicable,
    via_text,
)
from gameday.analysis.lessons import contributing_gaps, went_well
from gameday.analysis.templating import BUILTIN_TEMPLATES, TEMPLATE_NAMES, environment, md_escape, render_report, warm_up  # noqa: F401 - re-exported
from gameday.analysis.timeline import one_line, timeline_rows
from gameday.errors import ConfigError
from gameday.journal import Journal
from gameday.model.duration import human
from gameday.model.events import (
    DrillStarted,
    FaultInjected,
    ImpactEnded,
    ImpactStarted,
    SteadyStateChecked,
)
from gameday.model.scenario import Scenario
from gameday.model.scorecard import VERDICT_LABEL, Scorecard, fault_injected, headline, score_text, verdict_reason
from gameday.model.terms import format_offset

__all__ = ["ActionItem", "action_items", "md_escape", "postmortem_context", "render_postmortem"]

NO_LOAD_SENTENCE = "Customers affected and revenue impact: not measured in this drill (no load configured)."
LOAD_SENTENCE = "Customers affected and revenue impact: not measured in this drill (load figures are not reported yet)."

VERDICT_TEXT = {
    "on_time": "on time",
    "missed": "not done",
    "silent": "not detected",
    "never": "not recovered",
    "not_applicable": "not applicable",
    "not_required": "not required",
    "met": "met",
    "not_met": "not met",
}
VERDICT_CLASS = {"on_time": "ok", "met": "ok", "late": "late", "not_met": "late"}

def render_postmortem(
    journal: Journal, card: Scorecard, fmt: Literal["md", "html"], templates_dir: Path | None = None,
    charts: Sequence[Path] | None = None, timeline: Path | bytes | None = None,
) -> str:
    """Render the blameless postmortem of a drill as Markdown (``md``) or a self-contained HTML page.

    ``templates_dir`` (optional) holds templates overriding the built-in ones by name.
    ``charts``: the load charts' PNG files written beside the output (see
    :func:`gameday.analysis.charts.render_charts`): Markdown links them, HTML embeds them
    (data URIs) and links them. Without it, HTML of a drill with load renders the charts in
    memory and embeds them; Markdown has none.
    ``timeline``: the drill's timeline chart (:mod:`gameday.analysis.timeline_chart`), opening "What
    happened": its PNG file written beside the output (``timeline.png``: Markdown links it, HTML embeds
    and links it), or its PNG bytes rendered in memory (HTML embeds them; Markdown, with no file to
    link, leaves the chart out); None (the default): no chart.
    Raises :class:`~gameday.errors.ConfigError` for an unknown format, a missing
    templates folder or a broken template.
    """
    if fmt not in TEMPLATE_NAMES:
        raise ConfigError(f"unknown postmortem format {fmt!r} (expected one of: {', '.join(TEMPLATE_NAMES)})")
    context = postmortem_context(journal, card, charts, fmt, timeline)
    return render_report("postmortem", TEMPLATE_NAMES[fmt], fmt, templates_dir, **context)


def postmortem_context(journal: Journal, card: Scorecard, charts: Sequence[Path] | None = None,
                       fmt: str = "md", timeline: Path | bytes | None = None) -> dict[str, Any]:
    """Everything the templates lay out, as plain values (texts unescaped).

    ``scenario`` is the scenario as the journal holds it (JSON by alias), for a project's
    own templates; the built-in ones lay out the computed values only. ``exercise``: a
    tabletop's sections (:func:`gameday.analysis.exercise.exercise_context`), None for other drills.
    ``timeline_chart``: the timeline chart's ``file``, ``alt`` text and (HTML) ``data_uri``, or None
    (see :func:`render_postmortem`'s ``timeline``).
    """
    from gameday.analysis.exercise import exercise_context, tabletop_faults

    scenario = _scenario(journal)
    exercise = exercise_context(journal, card)  # None unless a tabletop: other postmortems are unchanged
    faults = fault_rows(journal, scenario)
    return {
        "card": card,
        "scenario": scenario.model_dump(mode="json", by_alias=True) if scenario is not None else {},
        "summary": _summary(journal, card, scenario),
        "timeline": timeline_rows(journal.events),  # per-second LoadStats are never rows
        "timeline_chart": _timeline_chart(journal, card, timeline, fmt),
        "exercise": exercise,
        "faults": tabletop_faults(faults, journal) if exercise is not None else faults,
        "gaps": contributing_gaps(card, journal),
        "anatomy": anatomy_context(card.detection, card.scale),
        "impact": _impact(journal, card, scenario, charts, fmt),
        "went_well": went_well(card, journal),
        "action_items": action_items(card, journal),
        "expected_vs_actual": _expected_vs_actual(card, journal),
        "times": [{"name": m.name, "value": human(m.seconds) + on_incident_clock(m.seconds, card.scale),
                   "definition": m.definition} for m in card.times],
        "score": _score(card),
    }


def _timeline_chart(journal: Journal, card: Scorecard, timeline: Path | bytes | None, fmt: str) -> dict[str, Any] | None:
    """The timeline chart for the templates: ``file`` (to link; None when rendered in memory), ``alt`` and, for
    HTML, ``data_uri``; None without a chart, or for Markdown without a file to link."""
    if timeline is None or (fmt != "html" and not isinstance(timeline, Path)):
        return None
    from urllib.parse import quote

    from gameday.analysis.timeline_chart import timeline_alt

    file = quote(timeline.name) if isinstance(timeline, Path) else None  # a link target, safe in Markdown and HTML
    data = b"" if fmt != "html" else timeline.read_bytes() if isinstance(timeline, Path) else timeline
    uri = "data:image/png;base64," + base64.b64encode(data).decode("ascii") if data else None
    return {"file": file, "alt": timeline_alt(journal, card), "data_uri": uri}


def _scenario(journal: Journal) -> Scenario | None:
    start = journal.first(DrillStarted)
    return start.data.scenario if start else None


def _first_injection(journal: Journal) -> float | None:
    event = journal.first(FaultInjected)
    return event.t if event else None


def _date(iso: str | None) -> str:
    if not iso:
        return "—"
    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).strftime("%Y-%m-%d %H:%M:%S UTC")
    except ValueError:
        return iso


def _summary(journal: Journal, card: Scorecard, scenario: Scenario | None) -> dict[str, Any]:
    start = journal.first(DrillStarted)
    levels = start.data.policy.levels if start else {}
    level = next((lv for sev, lv in levels.items() if sev == card.expected_severity), None)
    outcome = card.outcome + (f" ({card.abort_reason})" if card.abort_reason else "")
    return {
        "scenario_id": card.scenario_id,
        "title": card.title,
        "service": (scenario.service if scenario else "") or "the service",
        "description": one_line(scenario.description if scenario else "", 600),
        "drill_id": card.drill_id,
        "mode": card.mode,
        "date": _date(card.started_at).split(" ")[0],
        "started": _date(card.started_at),
        "ended": _date(card.ended_at),
        "outcome": outcome,
        "score": score_text(card),
        "result": VERDICT_LABEL[card.verdict],
        "headline": headline(card),
        "reason": verdict_reason(card),
        "warnings": list(getattr(card, "warnings", [])),
        "severity_expected": card.expected_severity,
        "severity_expected_means": level.description if level is not None else None,
        "severity_declared": card.severity.first_declared or "none declared",
        "severity_final": card.severity.final or "none declared",
        "policy": card.policy,
        "torn": card.journal_torn or journal.torn,
        "clock": _clock_sentence(card.scale),
    }


def _clock_sentence(scale: float | None) -> str | None:
    """A time-scaled drill's clocks in one sentence (None for a drill on one clock)."""
    if scale is None:
        return None
    return (f"time-scaled (policy.scale {scale:g}): 1 s of this drill stands for {human(1 / scale)} of an incident. "
            "Offsets and durations are on the drill's clock, with the incident clock beside them where it differs; "
            "the revenue is priced on the incident clock.")














def _impact(journal: Journal, card: Scorecard, scenario: Scenario | None, charts: Sequence[Path] | None = None,
            fmt: str = "md") -> dict[str, Any]:
    checks: list[dict[str, str]] = []
    open_: dict[str, dict[str, str]] = {}
    starts: dict[str, float] = {}
    for e in journal.events:
        d = e.data
        if not isinstance(d, (ImpactStarted, ImpactEnded)):
            continue
        check = d.check or "?"
        if isinstance(d, ImpactStarted):
            row = {"check": check, "started": format_offset(e.t), "ended": "still failing at drill end", "duration": "—",
                   "detail": one_line(d.detail or "", 200)}  # fmt: skip
            open_[check], starts[check] = row, e.t
            checks.append(row)
        elif check in open_:
            span = e.t - starts[check]
            open_.pop(check).update(ended=format_offset(e.t), duration=human(span) + on_incident_clock(span, card.scale))
    ttr = measure(card, "timetorecovery", "ttr")
    first = _first_injection(journal)
    if ttr is None and card.recovery.recovered_t is not None and first is not None:
        ttr = card.recovery.recovered_t - first
    load = _load_impact(journal, card, charts, fmt)
    customers = load["customers"] if load else (LOAD_SENTENCE if scenario is not None and scenario.load else NO_LOAD_SENTENCE)
    return {
        "duration": human(card.impact_seconds) + on_incident_clock(card.impact_seconds, card.scale),
        "time_to_recovery": human(ttr) + on_incident_clock(ttr, card.scale),
        "checks": checks,
        "no_checks": _no_checks(journal),
        "customers": customers,
        "load": load,
    }


def _no_checks(journal: Journal) -> str:
    """The Impact section's sentence when no check failed during the drill, true to the journal."""
    pre = next((e.data for e in journal.of(SteadyStateChecked) if e.data.stage == "preflight"), None)
    if pre is not None and not pre.ok:
        failing = ", ".join(one_line(c.check, 80) for c in pre.checks if not c.ok) or "a check"
        return (f"The steady state did not hold before injection (failing: {failing}), so no fault was injected and "
                "the probes measured no impact.")
    if journal.first(FaultInjected) is None:
        return "No fault was injected, so the probes measured no impact."
    return "No steady-state check failed during the drill."


def _load_impact(journal: Journal, card: Scorecard, charts: Sequence[Path] | None, fmt: str) -> dict[str, Any] | None:
    """The load generator's figures in words (see :func:`gameday.analysis.impact.impact_text`) and the charts."""
    impact = getattr(card, "impact", None)
    if impact is None:
        return None
    from gameday.analysis.impact import impact_text

    text = impact_text(impact)
    if charts is not None:
        titles = dict(_chart_titles())
        images = [(p.name, titles.get(p.name, p.stem), p.read_bytes() if fmt == "html" else b"", True) for p in charts]
    elif fmt == "html":
        from gameday.analysis.charts import chart_images

        images = [(name, title, data, False) for name, title, data in chart_images(journal)]
    else:
        images = []
    text["charts"] = [{"file": name, "title": f"{title} over the drill", "linked": linked,
                       "data_uri": "data:image/png;base64," + base64.b64encode(data).decode("ascii") if data else None}
                      for name, title, data, linked in images]  # fmt: skip
    return text


def _chart_titles() -> tuple[tuple[str, str], ...]:
    from gameday.analysis.charts import CHARTS

    return CHARTS


def _verdict(verdict: str, done: float | None = None, deadline: float | None = None,
             scale: float | None = None) -> tuple[str, str]:
    """Verdict text and CSS class (ok, late, miss, na); ``scale``: a time-scaled drill's (how late, on both clocks)."""
    if verdict == "late":
        late = done - deadline if done is not None and deadline is not None else None
        incident = on_incident_clock(late, scale) if late is not None and late > 0 else ""
        return f"{late_by(done, deadline)}{incident} after its deadline", "late"
    css = VERDICT_CLASS.get(verdict, "na" if verdict.startswith("not_") else "miss")
    return VERDICT_TEXT.get(verdict, verdict.replace("_", " ")), css


def _row(what: str, expected: str, actual: str, verdict: tuple[str, str]) -> dict[str, str]:
    return {"what": what, "expected": expected, "actual": actual, "verdict": verdict[0], "class": verdict[1]}


def _expected_vs_actual(card: Scorecard, journal: Journal) -> list[dict[str, str]]:
    scale = card.scale  # a time-scaled drill: each deadline and time on the incident clock too
    misses = cadence_misses(journal)  # recurring steps done by their deadline, late for a gap in their cadence

    def at(t: float | None) -> str:
        return format_offset(t) + on_incident_clock(t, scale, offset=True)

    d = card.detection
    if d.detected_t is not None:
        actual = f"{at(d.detected_t)}{via_text(d.via, d.signal)}"
    else:
        actual = _not_applicable_actual(card) if d.verdict == "not_applicable" else "not detected"
    rows = [_row("Detection", f"by {at(d.deadline_t)}", actual, _verdict(d.verdict, d.detected_t, d.deadline_t, scale))]
    for s in card.steps:
        if s.deadline_t is not None and s.anchor_t is not None:
            window = s.deadline_t - s.anchor_t
            incident = (f"; by {format_offset(s.deadline_t / scale)}, {human(window / scale)} after it, on the incident "
                        "clock") if scale else ""
            expected = f"by {format_offset(s.deadline_t)} ({human(window)} after {s.anchor}{incident})"
        else:
            expected = f"after {s.anchor} (which did not happen)"
        who = (f" by {s.author}" + (f" ({s.author_role})" if s.author_role else "")) if s.author else ""
        actual = f"{at(s.done_t)}{who}" if s.done_t is not None else "not done"
        what = f"Step {s.id} ({ACTION_TEXT.get(s.action, s.action)}" + (f", {s.role})" if s.role else ")")
        miss = misses.get(s.id) if s.verdict == "late" else None
        verdict = (miss.text(scale), "late") if miss is not None else _verdict(s.verdict, s.done_t, s.deadline_t, scale)
        rows.append(_row(what, expected, actual, verdict))
    sev = card.severity
    if not severity_applicable(card):
        verdict = _verdict("not_applicable")
    else:
        verdict = ("as expected", "ok") if sev.correct else ("differs from expected", "late")
    rows.append(_row("Severity", sev.expected, f"first {sev.first_declared or 'none'}, final {sev.final or 'none'}", verdict))
    ex = card.executives
    deadline = getattr(ex, "deadline_t", None)
    within = "immediately" if ex.within == 0 else f"within {human(ex.within)}"
    if not ex.required:
        expected = "not required"
    elif deadline is None:
        expected = within + (f" ({human(ex.within / scale)} on the incident clock)" if scale and ex.within else "")
    else:
        incident = ("; by " + format_offset(deadline / scale) + (f", within {human(ex.within / scale)}" if ex.within else "")
                    + ", on the incident clock") if scale else ""
        expected = f"by {format_offset(deadline)} ({within}{incident})"
    actual = at(ex.notified_t) if ex.notified_t is not None else "not notified" if ex.required else "—"
    rows.append(_row("Executives notified", expected, actual, _verdict(ex.verdict)))
    co = card.comms
    gap = f"{human(co.longest_gap)}{on_incident_clock(co.longest_gap, scale)}"
    actual = f"{co.updates} updates, longest gap {gap}" if co.updates else "no update posted"
    unjudged = co.verdict == "not_required" and co.required_every is not None  # required, but no incident was known
    every = f"every {human(co.required_every)}{on_incident_clock(co.required_every, scale)}"
    rows.append(_row("Stakeholder updates", every if co.required_every else "not required",
                     actual, _verdict("not_applicable" if unjudged else co.verdict)))  # fmt: skip
    r = card.recovery
    if r.recovered_t is not None:
        actual = at(r.recovered_t)
    else:
        actual = _not_applicable_actual(card) if r.verdict == "not_applicable" else "not observed before the drill ended"
    rows.append(_row("Recovery", f"by {at(r.deadline_t)}", actual, _verdict(r.verdict, r.recovered_t, r.deadline_t, scale)))
    return rows


def _not_applicable_actual(card: Scorecard) -> str:
    """The 'actual' of detection or recovery that did not apply: no fault went in, or it caused no impact."""
    return "— (the probes saw no customer impact)" if fault_injected(card) else "— (no fault was injected)"


def _score(card: Scorecard) -> dict[str, Any]:
    no_total = score_text(card) in ("not scored", "nothing to score")  # then no points either
    comps = [
        {
            "name": c.name,
            "weight": f"{c.weight:g}",
            "earned": "excluded" if c.earned is None else f"{c.earned * 100:.0f}%",
            "points": "—" if c.earned is None or no_total else f"{c.weight * c.earned:.1f}",
            "note": c.note,
        }
        for c in card.score.components
    ]
    return {
        "total": score_text(card),
        "headline": headline(card),
        "reason": verdict_reason(card),
        "components": comps,
        "formula": card.score.formula,
        "note": getattr(card.score, "note", "") if not no_total else
        "No total: the components above are what was measured, shown for the review; they are not a score.",
        "passed": card.passed,
        "failures": list(card.failures),
    }
