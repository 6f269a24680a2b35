"""The merged timeline: one row per event worth showing, with who, role and a one-line description."""

from __future__ import annotations

from pathlib import Path

from gameday.analysis.alert_entries import AlertEntry, alert_entries
from gameday.analysis.timeline import (
    TimelineRow,
    describe_event,
    format_offset,
    one_line,
    timeline_rows,
)
from gameday.fakes import write_journal
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
    Event,
    FaultInjected,
    FaultRollbackFailed,
    FaultRolledBack,
    ImpactEnded,
    ImpactStarted,
    NoteAdded,
    Payload,
    PhaseChanged,
    RecoveryObserved,
    RoleAssigned,
    SteadyStateChecked,
    StepMatched,
)
from gameday.model.policy import DEFAULT_POLICY
from gameday.model.scenario import Scenario

SCENARIO = Scenario.model_validate({
    "apiVersion": "gameday/v1", "id": "web-down", "title": "Web server dies", "severity": "SEV2",
    "target": {"url": "http://127.0.0.1:9", "processes": {"web": {"command": "web"}}},
    "steady_state": [{"name": "home", "http": {"url": "{target.url}/"}}],
    "faults": [{"id": "kill-web", "at": "5s", "process": {"target": "web", "action": "kill"}}],
    "detection": {"within": "30s"}, "recovery": {"within": "1m"}, "abort": {"max_duration": "5m"},
})  # fmt: skip

Script = list[tuple[float, Payload, str]]  # (t, payload, source)


def events(tmp_path: Path, script: Script) -> list[Event[Payload]]:
    started = DrillStarted(drill_id="d1", mode="ci", scenario=SCENARIO, policy=DEFAULT_POLICY)
    return write_journal(tmp_path / "journal.jsonl", started, script).events


WEB_DOWN = AlertRow(status="firing", alertname="WebDown", labels={"alertname": "WebDown", "job": "web"}, matched=True, signal="web-down")
NOISE = AlertRow(status="firing", alertname="Noise", labels={"alertname": "Noise"}, matched=False, signal=None)

SCRIPT: Script = [
    (0.0, PhaseChanged(phase="baseline"), "conductor"),
    (1.0, SteadyStateChecked(ok=True, stage="preflight", checks=[CheckResult(check="home", ok=True, detail="")]), "conductor"),
    (5.0, FaultInjected(fault="kill-web", kind="process"), "injector"),
    (5.5, ImpactStarted(check="home", detail="connection refused"), "observer"),
    (7.0, AlertReceived(format="alertmanager", matched=True, signal="web-down", error=None, alerts=[WEB_DOWN, NOISE],
                        payload={"alerts": [{"annotations": {"summary": "web is down\nreally"}}, {"annotations": {}}]}), "webhook"),
    (7.0, DetectionRecorded(via="alert", signal="web-down", alertname="WebDown", alert_seq=5), "webhook"),
    (8.0, RoleAssigned(person="dana", role="incident-commander", by="facilitator"), "facilitator"),
    (9.0, RoleAssigned(person="eli", role="tech-lead", by="dana"), "dana"),
    (10.0, ActionRecorded(action="acknowledge", author="dana", role="incident-commander"), "dana"),
    (11.0, ActionRecorded(action="declare_incident", author="dana", role="incident-commander"), "dana"),
    (12.0, ActionRecorded(action="runbook_started", runbook="restart-web", author="eli", role=None), "eli"),
    (13.0, ActivityRan(owner="restart-web", phase="runbook", name="restart", provider="restart", status="succeeded",
                       started_t=12.0, duration_s=0.8, output="pid 42"), "injector"),
    (13.0, ActionRecorded(action="post_update", author="automation", role=None, audience="external",
                          text="We are investigating."), "automation"),
    (13.5, StepMatched(step="ack", action_seq=9, verdict="on_time"), "conductor"),
    (14.0, ImpactEnded(check="home"), "observer"),
    (14.0, RecoveryObserved(checks=[]), "observer"),
    (15.0, FaultRolledBack(fault="kill-web", reason="end"), "injector"),
    (75.0, DrillEnded(outcome="completed", reason=None), "conductor"),
]  # fmt: skip


def test_rows_follow_the_journal_and_hide_bookkeeping(tmp_path: Path) -> None:
    rows = timeline_rows(events(tmp_path, SCRIPT))
    assert all(isinstance(r, TimelineRow) for r in rows)
    assert "PhaseChanged" not in [r.kind for r in rows]
    assert [r.seq for r in rows] == sorted(r.seq for r in rows)
    text = {r.kind: r.text for r in rows}
    assert text["DrillStarted"] == "Drill d1 started: scenario web-down, ci mode"
    assert text["SteadyStateChecked"] == "Steady state holds (preflight check)"
    assert text["FaultInjected"] == "Fault kill-web injected (process)"
    assert text["ImpactStarted"] == "Impact started: check home failing (connection refused)"
    assert text["DetectionRecorded"] == "Detected via alert WebDown (signal web-down)"
    assert text["ActivityRan"] == "Runbook restart-web: activity restart succeeded in 0.8s (output: pid 42)"
    assert text["StepMatched"] == "Step ack done (on time)"
    assert text["ImpactEnded"] == "Impact ended: check home healthy again"
    assert text["FaultRolledBack"] == "Fault kill-web rolled back at the end of the drill"
    assert text["DrillEnded"] == "Drill ended (completed)"
    first = rows[0]
    assert (first.offset, first.clock, first.wall) == ("+0.0s", "09:00:00", "2026-01-01T09:00:00.000000Z")
    assert rows[-1].offset == "+1m15s" and rows[-1].category == "drill"


def test_who_role_and_human(tmp_path: Path) -> None:
    rows = [r for r in timeline_rows(events(tmp_path, SCRIPT)) if r.kind in ("RoleAssigned", "ActionRecorded")]
    got = [(r.who, r.role, r.human, r.text) for r in rows]
    assert got == [
        ("facilitator", None, True, "dana took the role incident-commander"),
        ("dana", "incident-commander", True, "eli took the role tech-lead"),
        ("dana", "incident-commander", True, "Acknowledged the page"),
        ("dana", "incident-commander", True, "Declared an incident"),
        ("eli", "tech-lead", True, "Started runbook restart-web"),  # role from the assignment
        ("automation", None, False, "Posted an external update: We are investigating."),
    ]


def test_alerts_one_row_per_delivery_with_labels_and_summary(tmp_path: Path) -> None:
    (row,) = [r for r in timeline_rows(events(tmp_path, SCRIPT)) if r.kind == "AlertReceived"]
    assert row.text == "Alerts WebDown firing [job=web] “web is down really” (matched signal web-down); Noise firing (matched no signal)"
    assert row.who == "webhook" and not row.human and row.category == "alert"


def test_alert_entries() -> None:
    # one alert: its summary may sit in the payload's own annotations; a missing name comes from the labels
    one = AlertReceived(format="webhook", matched=False, alerts=[AlertRow(status="", labels={"alertname": "A"})],
                        payload={"annotations": {"description": "d"}})  # fmt: skip
    assert alert_entries(one) == [AlertEntry(status="firing", alertname="A", labels={"alertname": "A"}, matched=False,
                                             signal=None, summary="d")]  # fmt: skip
    # several: each alert's own annotations, never the delivery's
    two = AlertReceived(format="alertmanager", matched=True, alerts=[WEB_DOWN, NOISE],
                        payload={"commonAnnotations": {"summary": "shared"}, "alerts": [{"annotations": {"summary": "s1"}}]})
    assert [(a.alertname, a.matched, a.signal, a.summary) for a in alert_entries(two)] == [
        ("WebDown", True, "web-down", "s1"), ("Noise", False, None, None)]
    assert alert_entries(AlertReceived(format="alertmanager", matched=False, alerts=[], error="not JSON", payload="junk")) == []


def test_refused_delivery_person_detection_and_failures(tmp_path: Path) -> None:
    rows = timeline_rows(events(tmp_path, [
        (1.0, AlertReceived(format="alertmanager", matched=False, signal=None, error="not JSON", alerts=[], payload="x"), "webhook"),
        (2.0, RoleAssigned(person="fay", role="comms-lead", by="fac"), "fac"),
        (3.0, DetectionRecorded(via="person", by="fay", signal=None, alertname=None), "fay"),
        (4.0, FaultRollbackFailed(fault="f", error="boom"), "injector"),
        (5.0, ActionRecorded(action="runbook_finished", runbook="rb", ok=False, error="exit 1", author="fay", role=None), "fay"),
        (6.0, NoteAdded(text="checked dashboards"), "fay"),
        (7.0, DrillAborted(reason="operator stop"), "conductor"),
        (8.0, SteadyStateChecked(ok=False, stage="final", checks=[CheckResult(check="home", ok=False)]), "conductor"),
    ]))  # fmt: skip
    assert [r.text for r in rows[1:]] == [
        "Alert delivery refused: not JSON",
        "fay took the role comms-lead",
        "Detected: fay reported the problem",
        "Rollback of fault f did not complete: boom",
        "Runbook rb did not succeed: exit 1",
        "Note: checked dashboards",
        "Drill aborted: operator stop",
        "Steady state does not hold (final check): failing home",
    ]
    assert rows[3].human and rows[3].role == "comms-lead"


def test_untrusted_text_is_kept_on_one_line_unescaped(tmp_path: Path) -> None:
    note = "<script>alert(1)</script>\nsecond line " + "x" * 400
    (row,) = timeline_rows(events(tmp_path, [(1.0, ActionRecorded(action="note", text=note, author="<b>", role=None), "<b>")]))[1:]
    assert row.who == "<b>" and row.text.startswith("Note: <script>alert(1)</script> second line x")
    assert "\n" not in row.text and len(row.text) == 200 and row.text.endswith("…")


def test_pure_and_accepts_any_iterable(tmp_path: Path) -> None:
    evs = events(tmp_path, SCRIPT)
    assert timeline_rows(iter(evs)) == timeline_rows(evs) == timeline_rows(list(evs))
    assert timeline_rows([]) == []


def test_format_offset_and_one_line() -> None:
    assert [format_offset(t) for t in (None, 0, 12.34, 65, 3725)] == ["—", "+0.0s", "+12.3s", "+1m05s", "+1h02m"]
    assert one_line(" a\n\tb  c ") == "a b c" and one_line(None) == "" and one_line("abcdef", 4) == "abc…"


def test_roles_follow_handovers(tmp_path: Path) -> None:
    rows = timeline_rows(events(tmp_path, [
        (1.0, RoleAssigned(person="gus", role="incident-commander", by="fac"), "fac"),
        (2.0, RoleAssigned(person="gus", role="comms-lead", by="fac"), "fac"),
        (3.0, NoteAdded(text="a"), "gus"),
        (4.0, RoleAssigned(person="hal", role="incident-commander", by="gus"), "gus"),
        (5.0, NoteAdded(text="b"), "gus"),
    ]))  # fmt: skip
    assert [(r.who, r.role) for r in rows if r.kind != "DrillStarted"] == [
        ("fac", None), ("fac", None), ("gus", "incident-commander, comms-lead"),
        ("gus", "incident-commander, comms-lead"), ("gus", "comms-lead"),
    ]  # fmt: skip


def test_describe_event_covers_every_kind(tmp_path: Path) -> None:
    evs = events(tmp_path, SCRIPT)
    assert describe_event(evs[1]) == "Phase: baseline"
    rows = {r.seq: r.text for r in timeline_rows(evs)}
    assert all(describe_event(e) == rows[e.seq] for e in evs if e.seq in rows)


def test_every_kind_shown_has_a_category() -> None:
    from gameday.analysis.timeline import CATEGORY, HIDDEN_KINDS
    from gameday.model.events import PAYLOADS

    assert set(PAYLOADS.values()) - set(CATEGORY) <= set(HIDDEN_KINDS)
