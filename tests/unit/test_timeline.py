"""The merged timeline: one row per event worth showing, with who, role and a one-line description."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gameday.analysis.timeline import TimelineRow, alert_entries, describe_event, format_offset, one_line, timeline_rows
from gameday.clock import FakeClock
from gameday.journal import JournalWriter, read_journal
from gameday.model.events import Event


def events(tmp_path: Path, script: list[tuple[float, str, str, dict[str, Any]]]) -> list[Event]:
    clock = FakeClock()
    writer = JournalWriter(tmp_path / "journal.jsonl", clock, fsync=False)
    writer.append("DrillStarted", "conductor", {"drill_id": "d1", "mode": "ci", "scenario": {"id": "web-down"}})
    for at, kind, source, data in script:
        clock.advance(max(0.0, at - writer.offset()))
        writer.append(kind, source, data)
    writer.close()
    return read_journal(tmp_path / "journal.jsonl").events


SCRIPT: list[tuple[float, str, str, dict[str, Any]]] = [
    (0.0, "PhaseChanged", "conductor", {"phase": "baseline"}),
    (1.0, "SteadyStateChecked", "conductor", {"ok": True, "stage": "preflight", "checks": [{"check": "home", "ok": True, "detail": ""}]}),
    (5.0, "FaultInjected", "injector", {"fault": "kill-web", "kind": "process"}),
    (5.5, "ImpactStarted", "observer", {"check": "home", "detail": "connection refused"}),
    (7.0, "AlertReceived", "webhook", {
        "format": "alertmanager", "matched": True, "signal": "web-down", "error": None,
        "alerts": [{"status": "firing", "alertname": "WebDown", "labels": {"alertname": "WebDown", "job": "web"}, "matched": True, "signal": "web-down"},
                   {"status": "firing", "alertname": "Noise", "labels": {"alertname": "Noise"}, "matched": False, "signal": None}],
        "payload": {"alerts": [{"annotations": {"summary": "web is down\nreally"}}, {"annotations": {}}]}}),
    (7.0, "DetectionRecorded", "webhook", {"via": "alert", "signal": "web-down", "alertname": "WebDown", "alert_seq": 5}),
    (8.0, "RoleAssigned", "facilitator", {"person": "dana", "role": "incident-commander", "by": "facilitator"}),
    (9.0, "RoleAssigned", "dana", {"person": "eli", "role": "tech-lead", "by": "dana"}),
    (10.0, "ActionRecorded", "dana", {"action": "acknowledge", "author": "dana", "role": "incident-commander"}),
    (11.0, "ActionRecorded", "dana", {"action": "declare_incident", "author": "dana", "role": "incident-commander"}),
    (12.0, "ActionRecorded", "eli", {"action": "runbook_started", "runbook": "restart-web", "author": "eli", "role": None}),
    (13.0, "ActivityRan", "injector", {"owner": "restart-web", "phase": "runbook", "name": "restart", "provider": "restart",
                                       "status": "succeeded", "started_t": 12.0, "duration_s": 0.8, "output": "pid 42"}),
    (13.0, "ActionRecorded", "automation", {"action": "post_update", "author": "automation", "role": None, "audience": "external",
                                            "text": "We are investigating."}),
    (13.5, "StepMatched", "conductor", {"step": "ack", "action_seq": 9, "verdict": "on_time"}),
    (14.0, "ImpactEnded", "observer", {"check": "home"}),
    (14.0, "RecoveryObserved", "observer", {"checks": []}),
    (15.0, "FaultRolledBack", "injector", {"fault": "kill-web", "reason": "end"}),
    (75.0, "DrillEnded", "conductor", {"outcome": "completed", "reason": None}),
]


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


def test_alert_formats() -> None:
    old = {"status": "firing", "alertname": "A", "labels": {"alertname": "A"}, "matched": False, "payload": {"annotations": {"summary": "s"}}}
    assert alert_entries(old) == [{"status": "firing", "alertname": "A", "labels": {"alertname": "A"}, "matched": False, "signal": None, "summary": "s"}]
    assert alert_entries({"format": "alertmanager", "alerts": [], "error": "not JSON", "payload": "junk"}) == []


def test_refused_delivery_person_detection_and_failures(tmp_path: Path) -> None:
    rows = timeline_rows(events(tmp_path, [
        (1.0, "AlertReceived", "webhook", {"format": "alertmanager", "matched": False, "signal": None, "error": "not JSON", "alerts": [], "payload": "x"}),
        (2.0, "RoleAssigned", "fac", {"person": "fay", "role": "comms-lead", "by": "fac"}),
        (3.0, "DetectionRecorded", "fay", {"via": "person", "by": "fay", "signal": None, "alertname": None}),
        (4.0, "FaultRollbackFailed", "injector", {"fault": "f", "error": "boom"}),
        (5.0, "ActionRecorded", "fay", {"action": "runbook_finished", "runbook": "rb", "ok": False, "error": "exit 1", "author": "fay", "role": None}),
        (6.0, "NoteAdded", "fay", {"text": "checked dashboards"}),
        (7.0, "DrillAborted", "conductor", {"reason": "operator stop"}),
        (8.0, "SteadyStateChecked", "conductor", {"ok": False, "stage": "final", "checks": [{"check": "home", "ok": False}]}),
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
    (row,) = timeline_rows(events(tmp_path, [(1.0, "ActionRecorded", "<b>", {"action": "note", "text": note, "author": "<b>", "role": None})]))[1:]
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
        (1.0, "RoleAssigned", "fac", {"person": "gus", "role": "incident-commander", "by": "fac"}),
        (2.0, "RoleAssigned", "fac", {"person": "gus", "role": "comms-lead", "by": "fac"}),
        (3.0, "NoteAdded", "gus", {"text": "a"}),
        (4.0, "RoleAssigned", "gus", {"person": "hal", "role": "incident-commander", "by": "gus"}),
        (5.0, "NoteAdded", "gus", {"text": "b"}),
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
