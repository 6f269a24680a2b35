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

from gameday.analysis.failures import FaultFate, fault_fates
from gameday.analysis.findings import (
    ACTION_TEXT,
    ActionItem,
    action_items,
    contributing_gaps,
    late_by,
    measure,
    severity_applicable,
    via_text,
    went_well,
)
from gameday.analysis.templating import BUILTIN_TEMPLATES, TEMPLATE_NAMES, environment, md_escape, render_report, warm_up  # noqa: F401 - re-exported
from gameday.analysis.timeline import one_line, timeline_rows
from gameday.errors import ConfigError
from gameday.journal import Journal
from gameday.model.duration import format_duration, human
from gameday.model.events import (
    DrillStarted,
    Event,
    FaultForgotten,
    FaultHypothesisChecked,
    FaultInjected,
    FaultNotRolledBack,
    FaultRollbackFailed,
    FaultRolledBack,
    ImpactEnded,
    ImpactStarted,
    Payload,
    SteadyStateChecked,
)
from gameday.model.scenario import Fault, Scenario
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
    charts: Sequence[Path] | None = None,
) -> str:
    """Render the blameless postmortem of a drill as Markdown (``md``) or a self-contained HTML page.

    ``templates_dir`` (optional) holds templates overriding the built-in ones by name.
    ``charts``: the load charts' PNG files written beside the output (see
    :func:`gameday.analysis.charts.render_charts`): Markdown links them, HTML embeds them
    (data URIs) and links them. Without it, HTML of a drill with load renders the charts in
    memory and embeds them; Markdown has none.
    Raises :class:`~gameday.errors.ConfigError` for an unknown format, a missing
    templates folder or a broken template.
    """
    if fmt not in TEMPLATE_NAMES:
        raise ConfigError(f"unknown postmortem format {fmt!r} (expected one of: {', '.join(TEMPLATE_NAMES)})")
    return render_report("postmortem", TEMPLATE_NAMES[fmt], fmt, templates_dir, **postmortem_context(journal, card, charts, fmt))


def postmortem_context(journal: Journal, card: Scorecard, charts: Sequence[Path] | None = None,
                       fmt: str = "md") -> dict[str, Any]:
    """Everything the templates lay out, as plain values (texts unescaped).

    ``scenario`` is the scenario as the journal holds it (JSON by alias), for a project's
    own templates; the built-in ones lay out the computed values only. ``exercise``: a
    tabletop's sections (:func:`gameday.analysis.exercise.exercise_context`), None for other drills.
    """
    from gameday.analysis.exercise import exercise_context, tabletop_faults

    scenario = _scenario(journal)
    exercise = exercise_context(journal, card)  # None unless a tabletop: other postmortems are unchanged
    faults = _faults(journal, scenario)
    return {
        "card": card,
        "scenario": scenario.model_dump(mode="json", by_alias=True) if scenario is not None else {},
        "summary": _summary(journal, card, scenario),
        "timeline": timeline_rows(journal.events),  # per-second LoadStats are never rows
        "exercise": exercise,
        "faults": tabletop_faults(faults, journal) if exercise is not None else faults,
        "gaps": contributing_gaps(card, journal),
        "impact": _impact(journal, card, scenario, charts, fmt),
        "went_well": went_well(card, journal),
        "action_items": action_items(card, journal),
        "expected_vs_actual": _expected_vs_actual(card),
        "times": [{"name": m.name, "value": human(m.seconds), "definition": m.definition} for m in card.times],
        "score": _score(card),
    }


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
    }


def _fault_how(fault: Fault) -> str:
    if fault.experiment:
        return f"Chaos Toolkit experiment {fault.experiment}" + _paired_rollback(fault)
    if fault.activities:
        names = [str(a.get("name", "?")) for a in fault.activities]
        return "Chaos Toolkit activities: " + ", ".join(names) + _paired_rollback(fault)
    if fault.process is not None:
        p = fault.process
        return f"process fault: {p.action} {p.target} ({p.signal if p.action == 'kill' else 'SIGSTOP'})"  # stop: SIGSTOP
    return "—"


def _paired_rollback(fault: Fault) -> str:
    """The rollback the scenario (in the journal's DrillStarted) gave the fault, as a clause ('' if none)."""
    rb = fault.rollback
    if rb is None:
        return ""
    if rb.none is not None:
        return f", with no rollback: {one_line(rb.none, 300)}"
    if rb.experiment is not None:
        return f", rolled back by the method of experiment {rb.experiment}"
    names = [str(a.get("name", "?")) for a in rb.activities or []]
    return ", rolled back by the scenario's activities: " + ", ".join(names)


def _rollback_text(journal: Journal, fid: str) -> str:
    """What the journal says of the fault's rollback, as a clause: 'rolled back +1m02s (end)', ..."""
    last: Event[Payload] | None = None
    for e in journal.of(FaultRolledBack, FaultRollbackFailed, FaultNotRolledBack):
        if isinstance(e.data, (FaultRolledBack, FaultRollbackFailed, FaultNotRolledBack)) and e.data.fault == fid:
            last = e
    if last is None:
        text = "no rollback recorded"
    elif isinstance(last.data, FaultRolledBack):
        text = f"rolled back {format_offset(last.t)} ({last.data.reason})"
    elif isinstance(last.data, FaultNotRolledBack):
        text = f"not rolled back at {format_offset(last.t)}: it has no rollback ({one_line(last.data.why, 300)})"
    elif isinstance(last.data, FaultRollbackFailed):
        text = f"rollback did not complete ({one_line(last.data.error or 'no error text', 200)})"
    else:
        text = "no rollback recorded"
    for e in journal.of(FaultForgotten):
        if e.data.fault == fid:
            text += (f"; struck off the fault ledger without a rollback by {one_line(e.data.by, 80)}"
                     f" ({one_line(e.data.reason, 300)})")
    return text


def _own_check(journal: Journal, fid: str) -> tuple[str, str]:
    """The fault's own check (its experiment's steady-state hypothesis), from ``FaultHypothesisChecked``:
    (the injection clause when it kept the fault out, else ''; a sentence on what it found, else '')."""
    checks = [e.data for e in journal.of(FaultHypothesisChecked) if e.data.fault == fid]
    before = next((c for c in checks if c.stage == "before"), None)
    after = next((c for c in reversed(checks) if c.stage == "after"), None)
    if before is None and after is None:
        return "", ""

    def failing(c: FaultHypothesisChecked) -> str:
        return one_line("; ".join(f"{p.check}: {p.detail or 'failed'}" for p in c.probes if not p.ok) or "failed", 300)

    name = f"its experiment's steady-state hypothesis '{one_line((before or after).title, 120)}'"  # type: ignore[union-attr]
    if before is not None and not before.ok:
        return f"not injected: {name} did not hold before injection ({failing(before)})", ""
    parts = ["held before injection"] if before is not None else []
    if after is None:
        parts.append("was not checked after a rollback")
    elif after.ok:
        parts.append("held after the rollback")
    else:
        parts.append(f"did not hold after the rollback ({failing(after)})")
    return "", f"Its own check, {name}, " + " and ".join(parts) + "."


def _faults(journal: Journal, scenario: Scenario | None) -> list[dict[str, Any]]:
    out = []
    fates = {f.fault: f for f in fault_fates(journal.events, [f.id for f in scenario.faults] if scenario else [])}
    for fault in scenario.faults if scenario else []:
        fid = fault.id
        rolled = [e for e in journal.events if isinstance(e.data, (FaultRolledBack, FaultRollbackFailed)) and e.data.fault == fid]
        rb = rolled[-1] if rolled else None
        fate = fates[fid]
        if fate.status == "injected":
            injected = format_offset(fate.t)  # short forms, for a project's own templates
        else:
            injected = "could not be injected" if fate.status == "injection_failed" else "not injected"
        if rb is None:
            rolled_back = "no rollback recorded"
        elif isinstance(rb.data, FaultRolledBack):
            rolled_back = f"{format_offset(rb.t)} ({rb.data.reason})"
        else:
            rolled_back = "rollback did not complete"
        out.append({
            "id": fid,
            "description": one_line(fault.description or "", 600) or "(no description)",
            "how": _fault_how(fault),
            "scheduled": format_duration(fault.at),
            "injected": injected,
            "injection": _own_check(journal, fid)[0] or _injection_text(fate),
            "rolled_back": rolled_back,
            "rollback": _rollback_text(journal, fid),
            "own_check": _own_check(journal, fid)[1],
        })  # fmt: skip
    return out


def _injection_text(fate: FaultFate) -> str:
    """What the journal says of a fault's injection, as a clause: ``'injected +4.0s'``, ``'not injected: …'``.

    ``FaultInjected`` is journaled as an injection starts, so it alone never makes a fault "injected":
    a ``FaultInjectionFailed`` after it means the injection did not succeed."""
    if fate.status == "injected":
        return f"injected {format_offset(fate.t)}"
    if fate.status == "injection_failed":
        error = one_line(fate.error or "no error text", 200)
        return f"not injected: the injection started at {format_offset(fate.t)} and did not succeed ({error})"
    if fate.status == "skipped":
        return f"not injected: skipped by {fate.by} at {format_offset(fate.t)}"
    return "not injected: the journal records no injection of it"


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
            open_.pop(check).update(ended=format_offset(e.t), duration=human(e.t - starts[check]))
    ttr = measure(card, "timetorecovery", "ttr")
    first = _first_injection(journal)
    if ttr is None and card.recovery.recovered_t is not None and first is not None:
        ttr = card.recovery.recovered_t - first
    load = _load_impact(journal, card, charts, fmt)
    customers = load["customers"] if load else (LOAD_SENTENCE if scenario is not None and scenario.load else NO_LOAD_SENTENCE)
    return {
        "duration": human(card.impact_seconds),
        "time_to_recovery": human(ttr),
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


def _verdict(verdict: str, done: float | None = None, deadline: float | None = None) -> tuple[str, str]:
    """Verdict text and CSS class (ok, late, miss, na)."""
    if verdict == "late":
        return f"{late_by(done, deadline)} after its deadline", "late"
    css = VERDICT_CLASS.get(verdict, "na" if verdict.startswith("not_") else "miss")
    return VERDICT_TEXT.get(verdict, verdict.replace("_", " ")), css


def _row(what: str, expected: str, actual: str, verdict: tuple[str, str]) -> dict[str, str]:
    return {"what": what, "expected": expected, "actual": actual, "verdict": verdict[0], "class": verdict[1]}


def _expected_vs_actual(card: Scorecard) -> list[dict[str, str]]:
    d = card.detection
    if d.detected_t is not None:
        actual = f"{format_offset(d.detected_t)}{via_text(d.via, d.signal)}"
    else:
        actual = _not_applicable_actual(card) if d.verdict == "not_applicable" else "not detected"
    rows = [_row("Detection", f"by {format_offset(d.deadline_t)}", actual, _verdict(d.verdict, d.detected_t, d.deadline_t))]
    for s in card.steps:
        if s.deadline_t is not None and s.anchor_t is not None:
            expected = f"by {format_offset(s.deadline_t)} ({human(s.deadline_t - s.anchor_t)} after {s.anchor})"
        else:
            expected = f"after {s.anchor} (which did not happen)"
        who = (f" by {s.author}" + (f" ({s.author_role})" if s.author_role else "")) if s.author else ""
        actual = f"{format_offset(s.done_t)}{who}" if s.done_t is not None else "not done"
        what = f"Step {s.id} ({ACTION_TEXT.get(s.action, s.action)}" + (f", {s.role})" if s.role else ")")
        rows.append(_row(what, expected, actual, _verdict(s.verdict, s.done_t, s.deadline_t)))
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
    else:
        expected = f"by {format_offset(deadline)} ({within})" if deadline is not None else within
    actual = format_offset(ex.notified_t) if ex.notified_t is not None else "not notified" if ex.required else "—"
    rows.append(_row("Executives notified", expected, actual, _verdict(ex.verdict)))
    co = card.comms
    actual = f"{co.updates} updates, longest gap {human(co.longest_gap)}" if co.updates else "no update posted"
    unjudged = co.verdict == "not_required" and co.required_every is not None  # required, but no incident was known
    rows.append(_row("Stakeholder updates", f"every {human(co.required_every)}" if co.required_every else "not required",
                     actual, _verdict("not_applicable" if unjudged else co.verdict)))  # fmt: skip
    r = card.recovery
    if r.recovered_t is not None:
        actual = format_offset(r.recovered_t)
    else:
        actual = _not_applicable_actual(card) if r.verdict == "not_applicable" else "not observed before the drill ended"
    rows.append(_row("Recovery", f"by {format_offset(r.deadline_t)}", actual, _verdict(r.verdict, r.recovered_t, r.deadline_t)))
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
