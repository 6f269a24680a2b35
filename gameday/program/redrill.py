"""Closing a finding: a re-drill of its scenario that passes on its gap (``gameday redrill ID``,
``gameday findings close ID --drill JOURNAL``).

:func:`judge` decides, from the re-drill's journal alone, whether it proves the gap fixed:

1. it is a drill of the finding's scenario, in a mode that can show the gap (a live drill, ci or
   gameday, for the postmortem's gaps; a tabletop for the after-action report's, a training drill
   for the rubric's) — else exit 2, it cannot judge;
2. it completed (an aborted or unfinished drill proves nothing: exit 3) and injected its faults
   (a drill that injected nothing proves nothing: exit 1);
3. its own findings do not contain the gap (the same fingerprint), and the gap could show in it: the
   step fell due and was on time, detection came by alert (and on time for a late one), severity
   could be judged and was right, executives and updates were required and done, recovery on time,
   the objective was rated P or S, the rubric item met — else exit 1, it stays open;
4. it started after the last drill that showed the gap (an older drill cannot prove a fix).

Only then is the finding closed (``closed_by`` the re-drill). The re-drill's other findings are
recorded as any drill's are, in the same locked write.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from gameday.errors import EXIT_ABORTED, EXIT_EXPECTATIONS_NOT_MET, EXIT_INVALID_INPUT, EXIT_OK, ConfigError
from gameday.model.events import ActionRecorded, AlertReceived
from gameday.model.findings import Finding, FindingsFile, StatusChange
from gameday.model.terms import IC
from gameday.program.findings import DrillFindings, find_finding, merge, read_findings, update_findings

if TYPE_CHECKING:
    from gameday.journal import Journal
    from gameday.model.scorecard import Scorecard

__all__ = ["Decision", "close_with_drill", "judge", "judging_modes", "run_redrill"]


@dataclass(frozen=True)
class Decision:
    """What a re-drill proved about one finding: closed or not, the exit code, why (one sentence)."""

    closed: bool
    code: int
    why: str


#: Gaps in what people did: a live game day that showed one is re-drilled by people, in a live game day (a ci
#: drill's scripted responders prove the script, not the team).
PEOPLE_GAPS = frozenset({"step", "severity", "executives", "comms-cadence", "role-missing", "roles-shared", "ic-hands-on"})


def judging_modes(finding: Finding) -> tuple[str, ...]:
    """The drill modes that can show ``finding`` fixed: a tabletop's findings by a tabletop, a training drill's by a
    training drill, people's gaps of a live game day by a live game day; the system's gaps by ci or live."""
    kind = finding.gap.split(":", 1)[0]
    if kind == "rubric" or finding.mode == "training":
        return ("training",)
    if kind in ("objective", "contingency") or finding.mode == "tabletop":
        return ("tabletop",)
    if finding.mode == "gameday" and kind in PEOPLE_GAPS:
        return ("gameday",)
    return ("ci", "gameday")


def judge(finding: Finding, drill: DrillFindings, card: Scorecard, journal: Journal) -> Decision:
    """Whether ``drill`` (its findings, scorecard and journal) proves ``finding`` fixed (module docstring)."""
    name = f"re-drill {drill.drill.drill}"
    if drill.scenario != finding.scenario:
        return Decision(False, EXIT_INVALID_INPUT, f"{name} is of scenario {drill.scenario}, the finding's is "
                                                   f"{finding.scenario}")
    modes = judging_modes(finding)
    if drill.mode not in modes:
        return Decision(False, EXIT_INVALID_INPUT, f"a {drill.mode} drill cannot show gap {finding.gap} fixed; a "
                                                   f"{' or '.join(modes)} drill of {finding.scenario} can")
    if drill.outcome != "completed":
        reason = f" ({card.abort_reason})" if card.abort_reason else ""
        return Decision(False, EXIT_ABORTED, f"{name} was {drill.outcome}{reason}: it proves nothing")
    if not drill.injected:
        return Decision(False, EXIT_EXPECTATIONS_NOT_MET, f"{name} injected no fault: it proves nothing")
    again = next((o for o in drill.observations if o.gap == finding.gap), None)
    if again is not None:
        return Decision(False, EXIT_EXPECTATIONS_NOT_MET, f"{name} still shows it: {again.title}. {again.why}")
    shown, detail = _shown(finding.gap, card, journal)
    if not shown:
        return Decision(False, EXIT_EXPECTATIONS_NOT_MET, f"{name} could not show it fixed: {detail}")
    if drill.drill.order <= finding.last_seen.order:
        return Decision(False, EXIT_EXPECTATIONS_NOT_MET, f"{name} started before drill {finding.last_seen.drill}, the "
                                                          "last that showed it: it cannot prove the fix")
    return Decision(True, EXIT_OK, f"{name} completed with its faults injected and passed on this gap: {detail}")


def _shown(gap: str, card: Scorecard, journal: Journal) -> tuple[bool, str]:
    """Whether the drill could show ``gap`` and passed on it, and what it showed (one clause)."""
    from gameday.analysis.findings import severity_applicable

    kind, _, subject = gap.partition(":")
    d = card.detection
    if kind == "step":
        step = next((s for s in card.steps if s.id == subject), None)
        if step is None:
            return False, f"the scenario has no step {subject} now"
        return step.verdict == "on_time", f"step {subject} was {step.verdict.replace('_', ' ')}" + (
            " (it did not fall due before the drill ended)" if step.verdict == "not_applicable" else "")
    if kind in ("no-alert", "detection-late"):
        ok = d.via == "alert" and (d.verdict == "on_time" or (kind == "no-alert" and d.verdict == "late"))
        via = f" by alert {d.signal or ''}".rstrip() if d.via == "alert" else f" via {d.via or 'nothing'}"
        return ok, f"detection was {d.verdict.replace('_', ' ')}{via}"
    if kind == "severity":
        if not severity_applicable(card):
            return False, "severity could not be judged in it"
        sev = card.severity
        right = sev.correct and sev.first_declared == (sev.first_expected or sev.expected)
        return right, f"severity was first declared {sev.first_declared or 'never'}, expected {sev.expected}"
    if kind == "executives":
        return card.executives.verdict == "on_time", f"executives: {card.executives.verdict.replace('_', ' ')}"
    if kind == "comms-cadence":
        return card.comms.verdict == "met", f"stakeholder updates: {card.comms.verdict.replace('_', ' ')}"
    if kind == "recovery":
        return card.recovery.verdict == "on_time", f"recovery was {card.recovery.verdict.replace('_', ' ')}"
    if kind == "objective":
        o = next((o for o in card.objectives or [] if o.id == subject), None)
        rating = o.rating if o is not None else None
        return rating in ("P", "S"), f"objective {subject} was rated {rating or 'nothing'}"
    if kind == "rubric":
        from gameday.analysis.rubric import score_training

        item = score_training(journal.events, path=journal.path).item(subject)
        verdict = item.verdict if item is not None else "not scored"
        return verdict == "met", f"rubric item {subject}: {verdict}"
    if kind == "runbook-failed":
        ran = [e.data for e in journal.of(ActionRecorded) if isinstance(e.data, ActionRecorded)
               and e.data.action == "runbook_finished" and (e.data.runbook or "?") == subject]
        return any(d.ok for d in ran), f"runbook {subject} " + (
            "finished" if any(d.ok for d in ran) else "failed again" if ran else "did not run")
    if kind in ("rollback-failed", "injection-failed"):
        fault = next((f for f in card.faults if f.id == subject), None)
        if fault is None:
            return False, f"the scenario has no fault {subject} now"
        ok = fault.status == "injected" and (kind == "injection-failed" or fault.rollback == "rolled_back")
        return ok, f"fault {subject} was {fault.status.replace('_', ' ')}, rollback {fault.rollback.replace('_', ' ')}"
    if kind == "alerts-unmatched":
        from gameday.analysis.findings import unmatched_alerts

        alerts = sum(1 for _ in journal.of(AlertReceived))
        return alerts > 0 and not unmatched_alerts(journal), (
            f"{alerts} alert delivery(ies), every one matched a signal" if alerts and not unmatched_alerts(journal)
            else "no alert fired" if not alerts else "an alert matched no signal again")
    if kind == "detection-cut-short":
        return d.verdict == "on_time", f"detection was {d.verdict.replace('_', ' ')}"
    roles = card.roles
    if kind == "role-missing":
        return bool(roles.holders.get(subject)), f"role {subject} was " + ("held" if roles.holders.get(subject) else
                                                                            "not held")
    if kind == "roles-shared":
        return bool(roles.holders) and roles.distinct_people, "each role was held by its own person" if (
            roles.holders and roles.distinct_people) else "a person held two roles again, or no role was held"
    if kind == "ic-hands-on":
        held = bool(roles.holders.get(IC))
        return held and not roles.ic_did_technical_work, (
            "the incident commander did no technical work" if held and not roles.ic_did_technical_work
            else "no incident commander was assigned" if not held else "the incident commander did technical work")
    if kind == "responders-missing":
        acted = any(s.author for s in card.steps)
        return acted, "responders acted" if acted else "no responder acted"
    if kind in ("nothing-injected", "drill-unfinished"):
        return True, "it completed with its faults injected"
    return False, f"gameday has no test that shows a gap of kind {kind} fixed"


def close_with_drill(path: Path, given: str, drill: DrillFindings, card: Scorecard, journal: Journal,
                     root: Path | None = None) -> tuple[Finding, Decision]:
    """Record ``drill`` in the findings file and close the finding ``given`` names if the drill proves it
    fixed (one locked write). A closed finding stays closed (exit 0, nothing judged)."""

    def change(current: FindingsFile) -> tuple[FindingsFile, tuple[Finding, Decision]]:
        target = find_finding(current, given, path)
        if target.status == "closed" and target.closed_by is not None:
            return current, (target, Decision(True, EXIT_OK, f"already closed by re-drill {target.closed_by.drill}"))
        judged = judge(target, drill, card, journal)
        if judged.code == EXIT_INVALID_INPUT:  # not a drill that can judge it: not recorded for it either
            return current, (target, judged)
        merged, _ = merge(current, drill, root if root is not None else path.parent)
        finding = next(f for f in merged.findings if f.id == target.id)
        if judged.closed:
            change = StatusChange(status="closed", at=drill.drill.at, drill=drill.drill.drill, why=judged.why)
            finding = finding.model_copy(update={"status": "closed", "closed_by": drill.drill,
                                                 "history": [*finding.history, change]})
            merged = merged.model_copy(update={"findings": [finding if f.id == finding.id else f
                                                            for f in merged.findings]})
        return merged, (finding, judged)

    return update_findings(path, change)


def run_redrill(path: Path, given: str, responders: Path | None, echo: Callable[[str], None]) -> int:
    """``gameday redrill ID``: run the finding's scenario in ci mode (reports in the project's default
    places), then close the finding if the re-drill passed on its gap. Returns the exit code: 0 closed
    (or already closed), 1 still open (the gap showed again, or could not show), 2 cannot be re-drilled
    in ci (bad id, no scenario file, a tabletop or training gap), 3 the re-drill was aborted."""
    import gameday
    from gameday.analysis.scorecard import score_journal
    from gameday.drill.context import DrillOptions
    from gameday.drill.reports import Outputs
    from gameday.journal import read_journal
    from gameday.loader import load_project
    from gameday.program.findings import drill_findings

    finding = find_finding(read_findings(path), given, path)
    if finding.status == "closed" and finding.closed_by is not None:
        echo(f"{finding.id} is already closed (by re-drill {finding.closed_by.drill}): nothing to re-drill")
        return EXIT_OK
    if "ci" not in judging_modes(finding):
        mode = judging_modes(finding)[0]
        raise ConfigError(f"{finding.id} ({finding.gap}) is a {mode} finding: a ci drill cannot show it fixed; run a "
                          f"{mode} drill of {finding.scenario}, then gameday findings close {finding.id} --drill JOURNAL")
    project = load_project(Path.cwd())
    scenario = _scenario_file(finding, (path.resolve().parent, project.root))
    drill_id = f"{finding.scenario}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    echo(f"redrill {finding.id}: {finding.gap} of {finding.scenario} — running {scenario} in ci mode")
    gameday.run_drill(scenario, DrillOptions(mode="ci", responders=responders, drill_id=drill_id), project=project)
    journal_path = Outputs.for_drill(project.root, drill_id, None).journal
    journal = read_journal(journal_path)
    card = score_journal(journal)
    done, decision = close_with_drill(path, finding.id, drill_findings(journal, card), card, journal, project.root)
    state = "closed" if decision.closed else f"stays {done.status}"
    echo(f"redrill {finding.id}: {state} — {decision.why}")
    return decision.code


def _scenario_file(finding: Finding, bases: tuple[Path, ...]) -> Path:
    """The finding's scenario file: a relative path from the findings file's folder (where it was recorded) or
    else the project root; :class:`ConfigError` if it is gone."""
    if finding.scenario_path is None:
        raise ConfigError(f"{finding.id}: the drills that showed it did not journal their scenario file")
    given = Path(finding.scenario_path)
    candidates = [given] if given.is_absolute() else [base / given for base in bases]
    for path in candidates:
        if path.is_file():
            return path
    raise ConfigError(f"{finding.id}: scenario {finding.scenario} not found at {candidates[0]} (its file as last seen)")
