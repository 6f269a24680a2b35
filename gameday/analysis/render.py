"""Scorecards as text: JSON (deterministic), Markdown, or a small standalone HTML page.

Responder-supplied text (names, roles, reasons, notes) is untrusted: Markdown escapes
it, HTML goes through jinja2 with autoescape (``gameday/templates/scorecard.html.j2``). Times are
offsets from drill start. The headline is the scorecard's own
(:func:`~gameday.model.scorecard.headline` and :func:`~gameday.model.scorecard.verdict_reason`),
the same words the one-line summary, JUnit and the postmortem use.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Literal

from gameday.analysis.clocks import on_incident_clock
from gameday.model.duration import human
from gameday.model.scorecard import FaultResult, Measure, Scorecard, headline, verdict_reason
from gameday.model.terms import format_offset

FORMATS = ("json", "md", "html")
SCORECARD_HTML = "scorecard.html.j2"  # in gameday/templates/


def render_scorecard(card: Scorecard, fmt: Literal["json", "md", "html"]) -> str:
    """The scorecard as ``json``, ``md`` or ``html``; JSON is byte-identical for equal cards."""
    if fmt == "json":
        return json.dumps(card.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"
    if fmt == "md":
        return _markdown(card)
    if fmt == "html":
        return _html(card)
    raise ValueError(f"unknown scorecard format {fmt!r} (expected one of {', '.join(FORMATS)})")


_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]|#~"} | {"<": "&lt;", ">": "&gt;", "&": "&amp;", "\n": " ", "\r": " "})


def md(value: object) -> str:
    """Untrusted text made inert inside Markdown (and a table cell)."""
    if value is None or value == "":
        return "—"
    from gameday.model.textsafe import neutralise

    return neutralise(value, keep="").translate(_MD_SPECIAL)


def _verdict(v: str | None) -> str:
    return "—" if v is None else v.replace("_", " ")


def _seqs(a: int | None, b: int | None) -> str:
    """Event numbers of a measure: ``'#8 → #12'``, ``'#8 → —'``."""
    return " → ".join("—" if x is None else f"#{x}" for x in (a, b))


def _table(head: Iterable[str], rows: Iterable[Iterable[str]]) -> list[str]:
    head = list(head)
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return [*out, ""]


def _points(card: Scorecard) -> str:
    """The computation behind the total, or why there is none."""
    s = card.score
    if s.total is None or s.status != "scored" or card.outcome != "completed":
        return s.note or ("nothing to score" if s.status == "nothing_to_score" else "not scored")
    applying = [c for c in s.components if c.earned is not None and c.weight > 0]
    parts = [f"{c.weight:g}×{c.earned:g}" for c in applying]
    den = sum(c.weight for c in applying)
    held = f" ({s.note})" if s.note else ""
    return f"100 × ({' + '.join(parts) or '0'}) / {den:g} = {s.total:.1f}{held}"


def _measured_only(card: Scorecard) -> str:
    """Under the breakdown of a score with no total: what its numbers are."""
    if card.score.status == "scored" and card.outcome == "completed":
        return ""
    return "No total: the components above are what was measured, shown for the review; they are not a score."


_FAULT_STATUS = {"injected": "injected {t}", "injection_failed": "not injected: its injection started {t} and did not succeed",
                 "skipped": "not injected: skipped {t}", "not_injected": "not injected"}
_FAULT_ROLLBACK = {"rolled_back": "rolled back", "rollback_failed": "its rollback did not complete",
                   "not_needed": "needed no rollback", "none": "no rollback journaled"}


def fault_text(f: FaultResult, simulated: bool = False) -> str:
    """``'injected +4.0s; rolled back'``: what the journal says became of a fault (never 'injected' unless it was).
    ``simulated`` (a tabletop): ``'simulated from +5m00s; ended'``."""
    if simulated:
        when = f" from {format_offset(f.t)}" if f.t is not None else ""
        if f.status == "not_injected":
            return "never began (simulated)"
        if f.status != "injected":
            return f"simulated: {_FAULT_STATUS[f.status].format(t='').rstrip()}"
        return f"simulated{when} (nothing was injected); " + ("ended" if f.rollback != "none" else "still open at the end")
    status = _FAULT_STATUS[f.status].format(t=f"at {format_offset(f.t)}" if f.t is not None else "").rstrip()
    if f.status in ("injected", "injection_failed") or f.rollback != "none":
        status += f"; {_FAULT_ROLLBACK[f.rollback]}"
    return status


def _who(author: str | None, role: str | None) -> str:
    return md(f"{author} ({role})" if author and role else author)


def _markdown(c: Scorecard) -> str:
    out = [f"# Scorecard: {md(c.title)}", "", f"**{md(headline(c))}**", "", md(verdict_reason(c)), ""]
    out.append(f"- drill: {md(c.drill_id)} (scenario {md(c.scenario_id)}, mode {md(c.mode)})")
    out.append(f"- outcome: {c.outcome}" + (f" ({md(c.abort_reason)})" if c.abort_reason else ""))
    out.append(f"- started {md(c.started_at)}, ended {md(c.ended_at)}")
    if c.journal_torn:
        out.append("- the journal's last line was torn (a crash mid-write); it was left out")
    if c.warnings:
        out += ["", "## Warnings", "", *[f"- {md(w)}" for w in c.warnings]]
    if c.faults:
        out += ["", "## Faults", "", *[f"- {md(f.id)}: {fault_text(f, c.mode == 'tabletop')}" for f in c.faults]]
    out += ["", "## Times", ""]
    if c.clocks:  # a tabletop (scenario and wall clocks) or a time-scaled drill (drill and incident clocks)
        out += [md(c.clocks), ""]
        head, cells = _clock_columns(c)
        out += _table(
            ["measure", *head, "events", "definition"],
            [[m.name, *cells(m), _seqs(m.from_seq, m.to_seq), md(m.definition)] for m in c.times],
        )
    else:
        out += _table(
            ["measure", "value", "events", "definition"],
            [[m.name, human(m.seconds), _seqs(m.from_seq, m.to_seq), md(m.definition)] for m in c.times],
        )
    d = c.detection
    how = (f" via {md(d.via)}" + (f" ({md(d.signal)})" if d.signal else "")) if d.via else ""
    when = f"deadline {_at(d.deadline_t, c)}, detected {_at(d.detected_t, c)}"
    out += ["## Detection", "", f"**{_verdict(d.verdict)}** — {when}{how}", ""]
    lags = _lag_rows(c)
    out += _table(["part", "value", "events", "definition"],
                  [[r["name"], md(r["value"]), r["events"], md(r["definition"])] for r in lags]) if lags else []
    out += ["## Steps", "", *_md_steps(c)]
    out += _md_practice(c)
    from gameday.analysis.impact import impact_markdown  # pandas-free; only the scorecard's load figures

    out += impact_markdown(c.impact, md)
    out += ["## What did not go to plan", ""] + ([f"- {md(f)}" for f in c.failures] or ["Every expectation was met."]) + [""]
    out += ["## Policy applied", ""]
    out += [f"{md(c.policy)}, level {c.expected_severity} (the scenario's expected severity):", ""]
    out += [f"- {md(rule)}" for rule in c.policy_rules] + [""]
    out += ["## Score breakdown", ""]
    no_total = bool(_measured_only(c))  # no points either: nothing here may add up to a score
    rows = [
        [sc.name, f"{sc.weight:g}", "excluded" if sc.earned is None else f"{sc.earned:g}",
         "—" if sc.earned is None or no_total else f"{sc.weight * sc.earned:.2f}", md(sc.note)]
        for sc in c.score.components
    ]  # fmt: skip
    out += _table(["component", "weight", "earned", "points", "note"], rows)
    measured_only = _measured_only(c)
    out += [md(c.score.formula), "", md(_points(c)) if measured_only else f"`{_points(c)}`"]
    out += ["", measured_only] if measured_only else []
    return "\n".join(out) + "\n"


def _clock_columns(c: Scorecard) -> tuple[list[str], Callable[[Measure], list[str]]]:
    """The Times table's clock columns and each measure's cells: a tabletop's scenario and wall clocks, a
    time-scaled drill's drill and incident clocks (all three for a time-scaled tabletop)."""
    walled = c.mode == "tabletop"
    head = ["scenario clock", "wall clock"] if walled else ["drill clock"]
    head += ["incident clock"] if c.scale else []

    def cells(m: Measure) -> list[str]:
        return [human(m.seconds), *([human(m.wall_seconds)] if walled else []),
                *([human(m.incident_seconds)] if c.scale else [])]

    return head, cells


def _at(t: float | None, c: Scorecard, short: bool = False) -> str:
    """An offset from drill start, with its incident-clock equivalent in a time-scaled drill:
    ``+30.0s (+29m56s on the incident clock)``; ``short`` (a column whose heading names the clock): ``+30.0s (+29m56s)``."""
    return format_offset(t) + on_incident_clock(t, c.scale, offset=True, short=short)


def _dur(seconds: float | None, c: Scorecard) -> str:
    """A duration, with its incident-clock equivalent in a time-scaled drill: ``12.0s (11m59s on the incident clock)``."""
    return human(seconds) + on_incident_clock(seconds, c.scale)


def _md_steps(c: Scorecard) -> list[str]:
    rows = [
        [md(s.id), md(s.action), md(s.role), f"{md(s.anchor)} {format_offset(s.anchor_t)}", _at(s.deadline_t, c, True),
         _at(s.done_t, c, True), f"**{_verdict(s.verdict)}**", _who(s.author, s.author_role), md(s.note)]
        for s in c.steps
    ]  # fmt: skip
    head = ["step", "action", "role", "anchor", "deadline", "done", "verdict", "who", "note"]
    if c.scale:
        head[4:6] = ["deadline (incident clock)", "done (incident clock)"]
    return _table(head, rows or [["—"] * len(head)])


def _md_practice(c: Scorecard) -> list[str]:
    s, e, m, r, rc = c.severity, c.executives, c.comms, c.roles, c.recovery
    out = ["## Severity", ""]
    verdict = (f"expected {s.expected}; first declared {md(s.first_declared)}; final {md(s.final)}; "
               f"correct: {'yes' if s.correct else 'no'}; time to correct {_dur(s.time_to_correct, c)}")
    out += [verdict, "", md(s.note), ""]
    when = f"deadline {_at(e.deadline_t, c)}, notified {_at(e.notified_t, c)}"
    out += ["## Executives", "", f"**{_verdict(e.verdict)}** — {when}"]
    out += ["", md(e.note), "", "## Stakeholder updates", ""]
    out += [(f"**{_verdict(m.verdict)}** — {m.updates} update(s); longest gap {_dur(m.longest_gap, c)}; "
             f"required every {_dur(m.required_every, c)}"), "", md(m.note), ""]  # fmt: skip
    out += ["## Roles", ""]
    out += _table(["role", "held by"], [[md(role), md(" → ".join(people))] for role, people in _holders(c)])
    distinct = "yes" if r.distinct_people else "no"
    out += [f"missing: {md(', '.join(r.missing)) if r.missing else 'none'}; one role per person: {distinct}", ""]
    out += [f"- {md(n)}" for n in r.notes] + ([""] if r.notes else [])
    out += ["## Recovery", ""]
    when = f"deadline {_at(rc.deadline_t, c)}, recovered {_at(rc.recovered_t, c)}"
    out += [f"**{_verdict(rc.verdict)}** — {when}; impact {_dur(c.impact_seconds, c)}", ""]
    return out


def _holders(c: Scorecard) -> list[tuple[str, list[str]]]:
    """Required roles first (in scenario order), then any other role that was assigned."""
    r = c.roles
    return [(role, r.holders.get(role, [])) for role in r.required] + [
        (role, people) for role, people in sorted(r.holders.items()) if role not in r.required
    ]


def _neutral(value: object) -> object:
    """Every plain string a template outputs (text from the journal) with control and formatting
    characters shown as ``<U+XXXX>``; template-made ``Markup`` and non-strings are left alone."""
    if type(value) is str:
        from gameday.model.textsafe import neutralise

        return neutralise(value)
    return value


def _lag_rows(card: Scorecard) -> list[dict[str, str]]:
    from gameday.analysis.anatomy import anatomy_rows  # where the detection time went

    return anatomy_rows(card.detection, card.scale)


def _html(card: Scorecard) -> str:
    import jinja2  # lazily: keeps `gameday --help` fast

    from gameday.analysis.templating import BUILTIN_TEMPLATES

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(BUILTIN_TEMPLATES)), autoescape=True,
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True, finalize=_neutral)
    env.filters.update(offset=format_offset, human=human, v=_verdict, fault=fault_text,
                       at=lambda t: _at(t, card), cell=lambda t: _at(t, card, True), dur=lambda x: _dur(x, card))
    head, cells = _clock_columns(card)
    return env.get_template(SCORECARD_HTML).render(c=card, holders=_holders(card), points=_points(card), seqs=_seqs,
                                                   headline=headline(card), reason=verdict_reason(card),
                                                   measured_only=_measured_only(card), clock_head=head,
                                                   clock_cells=cells, lags=_lag_rows(card))
