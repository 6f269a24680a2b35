"""Every sentence of a report follows from the journal: failed, skipped and aborted drills read against
their journals.

Each drill below is a journal written like the conductor writes one (``gameday.fakes.write_journal``:
the real writer on a fake clock); the golden journals are read the same way. :func:`audit` derives,
from the journal's events alone, what no report may claim (a fault "injected" whose injection failed,
"rolled back cleanly" after a failed rollback, a deadline passed that the drill never reached, "no
steady-state check failed" after a failed preflight, alerts that never arrived, ...) and what every
report must say; then every report is checked: the one-line summary, the scorecard (JSON, Markdown,
HTML), JUnit and the postmortem (Markdown, HTML).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from gameday.analysis.junit import junit_xml
from gameday.analysis.postmortem import render_postmortem
from gameday.analysis.render import render_scorecard
from gameday.analysis.scorecard import score_journal
from gameday.analysis.timeline import timeline_rows
from gameday.drill.reports import summary_line
from gameday.fakes import ScriptedEvent, write_journal
from gameday.journal import Journal, read_journal
from gameday.model.events import (
    ActionRecorded,
    ActivityRan,
    AlertReceived,
    AlertRow,
    CheckResult,
    DetectionRecorded,
    DrillAborted,
    DrillEnded,
    DrillStarted,
    FaultInjected,
    FaultInjectionFailed,
    FaultRollbackFailed,
    FaultRolledBack,
    FaultSkipped,
    ImpactEnded,
    ImpactStarted,
    PhaseChanged,
    RecoveryObserved,
    RespondersNotLoaded,
    RoleAssigned,
    SteadyStateChecked,
)
from gameday.model.policy import DEFAULT_POLICY
from gameday.model.scenario import Scenario
from gameday.model.scorecard import Scorecard

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "journals"
IC, TL = "incident-commander", "tech-lead"

SCENARIO = Scenario.model_validate({
    "apiVersion": "gameday/v1", "id": "truth", "title": "Report truth", "severity": "SEV2",
    "target": {"url": "http://127.0.0.1:9", "processes": {"db": {"command": "postgres"}}},
    "steady_state": [{"name": "checkout", "http": {"url": "{target.url}/health"}}],
    "faults": [{"id": "kill-db", "description": "Kill the database", "at": "5s", "process": {"target": "db", "action": "kill"}}],
    "detection": {"within": "10s", "signals": [{"name": "db-down", "alert": {"alertname": "DatabaseDown"}}]},
    "response": [{"id": "ack", "action": "acknowledge", "role": IC, "within": "10s"},
                 {"id": "fix", "action": "note", "role": TL, "within": "20s", "after": "injection"}],
    "recovery": {"within": "30s"}, "abort": {"max_duration": "5m"},
})  # fmt: skip

PRE_OK = SteadyStateChecked(ok=True, stage="preflight", checks=[CheckResult(check="checkout", ok=True, detail="HTTP 200")])
START: list[ScriptedEvent] = [(0.0, PhaseChanged(phase="preflight"), "conductor"), (0.1, PRE_OK, "conductor")]
INJECT: list[ScriptedEvent] = [(5.0, FaultInjected(fault="kill-db", kind="process"), "injector")]


def ended(t: float, reason: str | None = None) -> list[ScriptedEvent]:
    """DrillAborted (with a reason) and DrillEnded at ``t``."""
    abort: list[ScriptedEvent] = [(t, DrillAborted(reason=reason), "conductor")] if reason else []
    return [*abort, (t + 0.2, DrillEnded(outcome="aborted" if reason else "completed", reason=reason), "conductor")]


def recovered(t: float) -> list[ScriptedEvent]:
    return [(t, ImpactEnded(check="checkout"), "observer"), (t, RecoveryObserved(checks=["checkout"]), "observer")]


def alert(t: float, matched: bool = True) -> list[ScriptedEvent]:
    name = "DatabaseDown" if matched else "DiskFull"
    row = AlertRow(status="firing", alertname=name, matched=matched, signal="db-down" if matched else None)
    out: list[ScriptedEvent] = [(t, AlertReceived(format="alertmanager", matched=matched, signal=row.signal, alerts=[row]),
                                 "webhook")]
    if matched:
        out.append((t, DetectionRecorded(via="alert", signal="db-down", alertname=name), "webhook"))
    return out


DRILLS: dict[str, list[ScriptedEvent]] = {
    # the injection starts (FaultInjected is journaled first), fails, and the conductor aborts
    "injection-failed": [*START, *INJECT,
                         (5.1, ActivityRan(owner="kill-db", name="SIGKILL db", phase="method", provider="signal",
                                           status="failed", started_t=5.0, duration_s=0.1, error="no such process"), "injector"),
                         (5.1, FaultInjectionFailed(fault="kill-db", error="no such process"), "injector"),
                         (5.2, DrillAborted(reason="injector failed: fault kill-db: no such process"), "conductor"),
                         (5.3, FaultRolledBack(fault="kill-db", reason="abort"), "injector"),
                         (5.4, DrillEnded(outcome="aborted", reason="injector failed: fault kill-db: no such process"),
                          "conductor")],
    # the facilitator skips the only fault: the drill completes having tested nothing
    "fault-skipped": [*START, (0.5, RoleAssigned(person="alice", role=IC, by="dana"), "dana"),
                      (2.0, FaultSkipped(fault="kill-db", by="dana"), "dana"), *ended(40.0)],
    # the steady state does not hold: aborted before anything is injected
    "preflight-failed": [(0.0, PhaseChanged(phase="preflight"), "conductor"),
                         (0.1, SteadyStateChecked(ok=False, stage="preflight", checks=[
                             CheckResult(check="checkout", ok=False, detail="HTTP 503")]), "conductor"),
                         *ended(0.2, "steady state not met before injection: checkout: HTTP 503")],
    # a full drill whose rollback fails at the end
    "rollback-failed": [*START, (0.5, RoleAssigned(person="alice", role=IC, by="dana"), "dana"),
                        (0.5, RoleAssigned(person="bob", role=TL, by="dana"), "dana"), *INJECT,
                        (5.5, ImpactStarted(check="checkout", detail="HTTP 503"), "observer"), *alert(8.0),
                        (9.0, ActionRecorded(action="acknowledge", author="alice", role=IC), "alice"),
                        (9.5, ActionRecorded(action="note", author="bob", role=TL, text="failing over"), "bob"),
                        *recovered(20.0),
                        (40.0, FaultRollbackFailed(fault="kill-db", error="restart refused"), "injector"), *ended(40.5)],
    # SIGINT at +8s, before the +15s detection deadline; nothing had arrived at the webhook
    "aborted-before-deadline": [*START, *INJECT, (5.5, ImpactStarted(check="checkout", detail="HTTP 503"), "observer"),
                                (8.0, DrillAborted(reason="signal SIGINT"), "conductor"),
                                (8.1, FaultRolledBack(fault="kill-db", reason="signal"), "injector"),
                                (8.3, DrillEnded(outcome="aborted", reason="signal SIGINT"), "conductor")],
    # a ci drill without responders: silent (no alert arrived), steps missed; the reports say why
    "ci-no-responders": [(0.0, PhaseChanged(phase="preflight"), "conductor"),
                         (0.0, RespondersNotLoaded(steps=["ack", "fix"]), "conductor"), (0.1, PRE_OK, "conductor"), *INJECT,
                         (5.5, ImpactStarted(check="checkout", detail="HTTP 503"), "observer"),
                         (30.0, FaultRolledBack(fault="kill-db", reason="max_duration"), "injector"),
                         *recovered(30.5),
                         *ended(31.0)],
    # alerts that matched nothing, then silence: alerts did arrive, none matched
    "unmatched-alerts": [*START, *INJECT, (5.5, ImpactStarted(check="checkout", detail="HTTP 503"), "observer"),
                         *alert(7.0, matched=False), *alert(9.0, matched=False),
                         *recovered(25.0),
                         (30.0, FaultRolledBack(fault="kill-db", reason="end"), "injector"), *ended(31.0)],
}  # fmt: skip


def drill_journal(name: str, folder: Path) -> Journal:
    started = DrillStarted(drill_id=f"truth-{name}", mode="ci", scenario=SCENARIO, policy=DEFAULT_POLICY.scaled(0.0167))
    return write_journal(folder / f"{name}.jsonl", started, DRILLS[name])


def all_reports(journal: Journal) -> tuple[Scorecard, dict[str, str]]:
    card = score_journal(journal)
    texts = {
        "summary": "\n".join([summary_line(card), *(f"  - {f}" for f in card.failures),
                               *(f"warning: {w}" for w in card.warnings)]),
        "scorecard.json": render_scorecard(card, "json"),
        "scorecard.md": render_scorecard(card, "md"),
        "scorecard.html": html.unescape(render_scorecard(card, "html")),
        "postmortem.md": render_postmortem(journal, card, "md"),
        "postmortem.html": html.unescape(render_postmortem(journal, card, "html")),
        "junit.xml": html.unescape(junit_xml(card)),
    }
    return card, texts


@dataclass
class Claims:
    """What the journal forbids every report to claim, and what every report must say (regexes)."""

    forbidden: list[str] = field(default_factory=list)
    required: list[str] = field(default_factory=list)


def audit(journal: Journal) -> Claims:
    """From the journal's events alone."""
    ev = journal.events
    kinds = {type(e.data) for e in ev}
    c = Claims()
    failed = {e.data.fault for e in ev if isinstance(e.data, FaultInjectionFailed)}
    injected = {e.data.fault for e in ev if isinstance(e.data, FaultInjected)} - failed
    if not injected:
        c.forbidden += [r"injected \+\d", r"[Rr]olled back cleanly", r"played out as the scenario expected",
                        r"PASSED — score", r"\d/100\b", r"Every expectation was met"]
    for fault in failed:
        c.forbidden.append(rf"Fault {fault} injected \(")  # the timeline row of its FaultInjected
        c.required.append(r"did not succeed")
    if FaultRollbackFailed in kinds:
        c.forbidden += [r"[Rr]olled back cleanly", r"every injected fault was rolled back"]
    if FaultSkipped in kinds:
        c.required.append(r"skipped by dana")
    if AlertReceived not in kinds:
        c.forbidden += [r"alert deliver(y|ies) arrived", r"Alerts fired", r"matched no detection signal"]
    if DrillAborted in kinds or DrillEnded not in kinds:
        c.forbidden += [r"\d/100\b", r"(?<!NOT )PASSED", r"Every expectation was met", r"No action items"]
        c.required.append(r"ABORTED — not scored" if DrillAborted in kinds else r"INCOMPLETE — not scored")
    pre = next((e.data for e in ev if isinstance(e.data, SteadyStateChecked) and e.data.stage == "preflight"), None)
    if pre is not None and not pre.ok:
        c.forbidden.append(r"No steady-state check failed")
    first = next((e for e in ev if isinstance(e.data, FaultInjected)), None)
    deadline = first.t + journal.started.data.scenario.detection.within if first and journal.started else None
    if deadline is not None and ev[-1].t < deadline and DetectionRecorded not in kinds:
        c.forbidden += [r"by its deadline", r"by the deadline", r"within \S+ of the injection"]
    if RespondersNotLoaded not in kinds:
        c.forbidden.append(r"responder script")
    return c


REPORTS_WITH_NARRATIVE = ("summary", "scorecard.md", "scorecard.html", "postmortem.md", "postmortem.html", "junit.xml")


def check(journal: Journal) -> tuple[Scorecard, dict[str, str]]:
    card, texts = all_reports(journal)
    claims = audit(journal)
    for name, text in texts.items():
        for pattern in claims.forbidden:
            found = re.search(pattern, text)
            assert found is None, f"{name} claims {found.group(0)!r}, which {journal.path} does not back"
    for name in REPORTS_WITH_NARRATIVE:
        if name.startswith("postmortem"):  # the postmortem also tells the story: every required fact is there
            for pattern in claims.required:
                assert re.search(pattern, texts[name]), f"{name} does not say {pattern!r}"
    return card, texts


@pytest.mark.parametrize("name", sorted(DRILLS))
def test_reports_of_drills_follow_their_journals(name: str, tmp_path: Path) -> None:
    check(drill_journal(name, tmp_path))


@pytest.mark.parametrize("name", ["clean", "silent", "late", "aborted", "torn"])
def test_reports_of_the_golden_journals_follow_them(name: str) -> None:
    check(read_journal(GOLDEN / f"{name}.jsonl"))


def test_a_failed_injection_is_never_called_injected(tmp_path: Path) -> None:
    journal = drill_journal("injection-failed", tmp_path)
    card, texts = check(journal)
    assert [(f.id, f.status, f.rollback) for f in card.faults] == [("kill-db", "injection_failed", "rolled_back")]
    row = next(r for r in timeline_rows(journal.events) if r.kind == "FaultInjected")
    assert row.text == "Fault kill-db injection started (process); it did not succeed"
    assert ("scheduled at 5s, not injected: the injection started at +5.0s and did not succeed (no such process), "
            "rolled back +5.3s (abort).") in texts["postmortem.md"]
    assert card.failures[0] == ("The drill was aborted (injector failed: fault kill-db: no such process) at +5.2s; the "
                                "injection of kill-db did not succeed; every fault whose injection started was rolled back")
    gap = "Fault kill-db could not be injected (no such process), so the drill did not test what it set out to."
    assert gap in texts["postmortem.md"]
    assert "Detection was not applicable: no fault was injected." in texts["junit.xml"]
    assert "| Detection | by +15.0s | — (no fault was injected) | not applicable |" in texts["postmortem.md"]


def test_a_skipped_fault_is_said_to_be_skipped_and_nothing_is_scored(tmp_path: Path) -> None:
    card, texts = check(drill_journal("fault-skipped", tmp_path))
    assert (card.verdict, card.score.status) == ("not_passed", "not_scored")
    assert texts["summary"].startswith("drill truth-fault-skipped: NOT PASSED — not scored. Not scored: no fault was "
                                       "injected, so nothing was tested.")
    assert "not injected: skipped by dana at +2.0s" in texts["postmortem.md"]
    assert "No fault was injected, so the response was not tested." in texts["postmortem.md"]
    assert "Run the drill again with its faults injected" in texts["postmortem.md"]
    assert "No fault was injected, so the probes measured no impact." in texts["postmortem.md"]


def test_a_drill_stopped_by_its_preflight_says_so(tmp_path: Path) -> None:
    card, texts = check(drill_journal("preflight-failed", tmp_path))
    md = texts["postmortem.md"]
    assert "The steady state did not hold before injection (failing: checkout), so no fault was injected" in md
    assert ("The preflight check found the steady state not holding (checkout) and the drill stopped before injecting "
            "anything.") in md
    assert "not injected: the journal records no injection of it" in md
    assert "no fault had been injected" in card.failures[0]


def test_a_failed_rollback_is_never_called_clean(tmp_path: Path) -> None:
    card, texts = check(drill_journal("rollback-failed", tmp_path))
    assert card.passed  # the response met its gates: the broken rollback is the drill's own gap
    assert "no rollback" not in texts["postmortem.md"].lower() or "rollback did not complete" in texts["postmortem.md"]
    assert "The rollback of fault kill-db did not complete (restart refused)." in texts["postmortem.md"]
    assert "Make the rollback of fault kill-db reliable" in texts["postmortem.md"]


def test_a_drill_aborted_before_a_deadline_does_not_claim_the_deadline_passed(tmp_path: Path) -> None:
    card, texts = check(drill_journal("aborted-before-deadline", tmp_path))
    assert card.detection.verdict == "silent" and card.end_t == 8.3
    assert ("Detection was silent: impact started at +5.5s and nothing had detected it when the drill ended at +8.3s, "
            "before its +15.0s deadline") in card.failures
    assert "Nothing had detected the fault when the drill ended at +8.3s, before its +15.0s deadline" in texts["junit.xml"]
    assert "Add an alert" not in texts["postmortem.md"]  # unknown what monitoring would have done by the deadline
    assert "no alert arrived at the drill's webhook" in texts["postmortem.md"]
    assert "Recovery was not observed before the drill ended at +8.3s (deadline +35.0s)" in card.failures


def test_a_ci_drill_without_responders_says_why_nothing_responded(tmp_path: Path) -> None:
    """Was 'detection silent, score 25' with no hint why: the journaled fact reaches every report."""
    card, texts = check(drill_journal("ci-no-responders", tmp_path))
    warning = ("This ci drill ran without a responder script: no one was there to do step(s) ack, fix, which no automated "
               "runbook covers. Name one with responders: in the scenario or pass --responders FILE.")
    assert card.warnings == [warning]
    for name in REPORTS_WITH_NARRATIVE:
        assert "without a responder script" in texts[name], name
    assert card.detection.alerts_received == 0
    assert "Monitoring stayed silent: no alert arrived at the drill's webhook, and no one reported the problem by the deadline." \
        in texts["postmortem.md"]
    assert "Give this ci drill a responder script" in texts["postmortem.md"]


def test_unmatched_alerts_are_counted_not_denied(tmp_path: Path) -> None:
    card, texts = check(drill_journal("unmatched-alerts", tmp_path))
    assert card.detection.alerts_received == 2
    assert "2 alert deliveries arrived, none matching a detection signal" in texts["postmortem.md"]
    assert "Alerts fired that matched no detection signal: DiskFull." in texts["postmortem.md"]


def test_a_crashed_journal_reads_incomplete(tmp_path: Path) -> None:
    path = tmp_path / "crash.jsonl"
    path.write_bytes(b"".join((GOLDEN / "clean.jsonl").read_bytes().splitlines(keepends=True)[:20]))
    card, texts = check(read_journal(path))
    assert card.verdict == "incomplete"
    assert all("INCOMPLETE — not scored" in texts[n] for n in REPORTS_WITH_NARRATIVE)


def test_only_steps_no_automated_runbook_covers_are_unattended() -> None:
    from gameday.drill.responders import unattended_steps

    data = SCENARIO.model_dump(mode="json", by_alias=True)
    data["response"].append({"id": "restart", "action": "runbook", "runbook": "restart", "within": "10s"})
    data["runbooks"] = {"restart": {"restart": "db", "automated_in": ["ci"]}}
    sc = Scenario.model_validate(data)
    assert unattended_steps(sc, "ci") == ["ack", "fix"]
    assert unattended_steps(sc, "gameday") == ["ack", "fix", "restart"]
