"""How the postmortem tells each fault: how it was injected, its paired rollback, what its rollback did,
its own steady-state hypothesis, and the fault's fate (split from :mod:`gameday.analysis.postmortem`)."""

from __future__ import annotations

from typing import Any

from gameday.analysis.failures import FaultFate, fault_fates
from gameday.analysis.templating import BUILTIN_TEMPLATES, TEMPLATE_NAMES, environment, md_escape, render_report, warm_up  # noqa: F401 - re-exported
from gameday.analysis.timeline import one_line
from gameday.journal import Journal
from gameday.model.duration import format_duration
from gameday.model.events import (
    Event,
    FaultForgotten,
    FaultHypothesisChecked,
    FaultNotRolledBack,
    FaultRollbackFailed,
    FaultRolledBack,
    Payload,
)
from gameday.model.scenario import Fault, Scenario
from gameday.model.terms import format_offset


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


def fault_rows(journal: Journal, scenario: Scenario | None) -> list[dict[str, Any]]:
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
