"""Step matching: anchors, windows, roles, automation, recurring steps, live (pending) evaluation."""

from __future__ import annotations

from typing import Any, Literal

import pytest

from gameday.analysis.matching import evaluate_steps, match_steps, read_facts
from gameday.model.roles import RoleBook
from gameday.errors import JournalError
from gameday.model.eventio import make_event
from gameday.model.events import (
    ActionRecorded,
    DetectionRecorded,
    DrillEnded,
    DrillStarted,
    Event,
    FaultInjected,
    Payload,
    RecordedAction,
    RecoveryObserved,
    RoleAssigned,
)
from gameday.model.policy import DEFAULT_POLICY
from gameday.model.scenario import Scenario

IC, TL, CL = "incident-commander", "tech-lead", "comms-lead"


def scenario(*steps: dict[str, Any], people_count: bool = True) -> Scenario:
    return Scenario.model_validate({
        "apiVersion": "gameday/v1", "id": "s", "title": "S", "severity": "SEV1",
        "steady_state": [{"http": {"url": "http://127.0.0.1:9/health"}}],
        "faults": [{"id": "f", "at": "2s", "experiment": "x.yaml"}],
        "detection": {"within": "10s", "people_count": people_count},
        "response": list(steps), "runbooks": {"failover": {"restart": "db"}},
        "recovery": {"within": "1m"}, "abort": {"max_duration": "5m"},
    })  # fmt: skip


Row = tuple[float, Payload, str]  # (t, payload, source)
WALL = "2026-01-01T09:00:00.000000Z"


def journal(*rows: Row) -> list[Event[Payload]]:
    """Events from rows of (t, payload, source); DrillStarted at t=0 is added."""
    start = DrillStarted(drill_id="d", mode="ci", scenario=scenario(), policy=DEFAULT_POLICY)
    out = [make_event(start, seq=0, wall=WALL, t=0.0, source="conductor")]
    for t, payload, source in rows:
        out.append(make_event(payload, seq=len(out), wall=WALL, t=t, source=source))
    return out


def inj(t: float = 2.0) -> Row:
    return (t, FaultInjected(fault="f", kind="experiment"), "injector")


def det(t: float, via: Literal["alert", "person"] = "alert") -> Row:
    return (t, DetectionRecorded(via=via, signal="s", alertname="A", by="eve" if via == "person" else None), "conductor")


def act(t: float, author: str, action: RecordedAction, role: str | None = None, source: str | None = None, **data: Any) -> Row:
    return (t, ActionRecorded(action=action, author=author, role=role, **data), author if source is None else source)


def assign(t: float, person: str, role: str) -> Row:
    return (t, RoleAssigned(person=person, role=role, by="dana"), "dana")


def end(t: float) -> Row:
    return (t, DrillEnded(outcome="completed", reason=None), "conductor")


ACK = {"id": "ack", "action": "acknowledge", "role": IC, "within": "5s"}


def one(sc: Scenario, events: list[Event[Payload]]) -> Any:
    (result,) = match_steps(sc, events)
    return result


def test_on_time_and_late() -> None:
    sc = scenario(ACK)
    assert one(sc, journal(inj(), det(4.0), act(9.0, "alice", "acknowledge", IC), end(30))).verdict == "on_time"
    late = one(sc, journal(inj(), det(4.0), act(9.5, "alice", "acknowledge", IC), end(30)))
    assert (late.verdict, late.deadline_t, late.done_t) == ("late", 9.0, 9.5)
    assert "0.5s after the deadline" in late.note


def test_anchor_never_happened_is_not_applicable() -> None:
    sc = scenario(ACK, {"id": "exec", "action": "notify_executives", "within": "5s", "after": "ack"})
    results = match_steps(sc, journal(inj(), end(30)))
    assert [r.verdict for r in results] == ["not_applicable", "not_applicable"]
    assert results[0].note == "not applicable: no detection was recorded"
    assert results[1].note == "not applicable: step 'ack' was not done"
    assert results[0].anchor_t is None and results[0].deadline_t is None


def test_no_injection_means_no_detection_anchor() -> None:
    # a detection before any fault is not the incident's detection
    assert one(scenario(ACK), journal(det(1.0), act(2.0, "alice", "acknowledge", IC), end(30))).verdict == "not_applicable"


def test_missed_and_drill_ending_before_the_deadline() -> None:
    sc = scenario(ACK)
    missed = one(sc, journal(inj(), det(4.0), end(30)))
    assert (missed.verdict, missed.note) == ("missed", "not done")
    short = one(sc, journal(inj(), det(4.0), end(7.0)))
    assert short.verdict == "not_applicable" and "before this step was due at +9.0s" in short.note


def test_acting_early_counts_but_not_before_the_injection() -> None:
    sc = scenario(ACK)
    early = one(sc, journal(inj(), act(3.0, "alice", "acknowledge", IC), det(4.0), end(30)))
    assert (early.verdict, early.done_t) == ("on_time", 3.0)
    before = one(sc, journal(act(1.0, "alice", "acknowledge", IC), inj(), det(4.0), end(30)))
    assert before.verdict == "missed"


def test_start_anchor_counts_from_drill_start() -> None:
    sc = scenario({"id": "brief", "action": "note", "within": "5s", "after": "start"})
    assert one(sc, journal(act(1.0, "alice", "note", text="briefing"), inj(), end(30))).verdict == "on_time"


def test_recovery_anchor_ignores_premature_resolution() -> None:
    sc = scenario({"id": "resolve", "action": "resolved", "role": IC, "within": "10s", "after": "recovery"})
    rec = (20.0, RecoveryObserved(checks=["c"]), "observer")
    r = one(sc, journal(inj(), det(4.0), act(15.0, "alice", "resolved", IC), rec, act(25.0, "alice", "resolved", IC), end(40)))
    assert (r.verdict, r.done_t) == ("on_time", 25.0)
    assert "came before recovery was observed" in r.note


def test_wrong_role_is_matched_and_noted() -> None:
    r = one(scenario(ACK), journal(assign(0.5, "bob", TL), inj(), det(4.0), act(6.0, "bob", "acknowledge"), end(30)))
    assert (r.verdict, r.author, r.author_role) == ("on_time", "bob", TL)
    assert "recorded under the tech-lead; the scenario expects the incident-commander" in r.note


def test_role_held_by_assignment_and_hand_over() -> None:
    rows = [assign(0.5, "alice", IC), inj(), det(4.0)]
    ok = one(scenario(ACK), journal(*rows, act(6.0, "alice", "acknowledge"), end(30)))
    assert ok.note == "" and ok.author_role == IC
    handed = one(scenario(ACK), journal(*rows, assign(5.0, "bob", IC), act(6.0, "alice", "acknowledge"), end(30)))
    assert "the scenario expects the incident-commander" in handed.note and handed.author_role is None


def test_automation_never_counts_against_roles() -> None:
    sc = scenario({"id": "failover", "action": "runbook", "runbook": "failover", "role": TL, "within": "10s"})
    by_author = one(sc, journal(inj(), det(4.0), act(6.0, "automation", "runbook_started", runbook="failover"), end(30)))
    by_source = one(sc, journal(inj(), det(4.0), act(6.0, "ci-bot", "runbook_started", source="automation", runbook="failover"), end(30)))
    for r in (by_author, by_source):
        assert r.verdict == "on_time" and r.note == "done by automation"


def test_runbook_must_be_the_named_one() -> None:
    sc = scenario({"id": "failover", "action": "runbook", "runbook": "failover", "within": "10s"})
    assert one(sc, journal(inj(), det(4.0), act(6.0, "bob", "runbook_started", runbook="restart-api"), end(30))).verdict == "missed"


def test_severity_step_needs_the_expected_severity() -> None:
    sc = scenario({"id": "sev", "action": "set_severity", "expect": "SEV1", "within": "10s"})
    rows = [inj(), det(4.0), act(5.0, "alice", "set_severity", severity="SEV2")]
    assert one(sc, journal(*rows, act(16.0, "alice", "set_severity", severity="SEV1"), end(30))).verdict == "late"
    via_declare = one(sc, journal(*rows, act(6.0, "alice", "declare_incident", severity="SEV1"), end(30)))
    assert (via_declare.verdict, via_declare.done_t) == ("on_time", 6.0)


def test_audience_and_executive_updates() -> None:
    ext = scenario({"id": "st", "action": "post_update", "audience": "external", "within": "10s"})
    rows = [inj(), det(4.0), act(5.0, "carol", "post_update", audience="internal", text="x")]
    assert one(ext, journal(*rows, end(30))).verdict == "missed"
    execs = scenario({"id": "ex", "action": "notify_executives", "within": "10s"})
    assert one(execs, journal(inj(), det(4.0), act(5.0, "carol", "post_update", audience="executive", text="x"), end(30))).verdict == "on_time"


def test_one_action_satisfies_one_step_of_its_kind() -> None:
    sc = scenario(ACK, {**ACK, "id": "ack2", "within": "20s"})
    first, second = match_steps(sc, journal(inj(), det(4.0), act(6.0, "alice", "acknowledge", IC), end(30)))
    assert (first.verdict, second.verdict) == ("on_time", "missed")


def test_step_anchors_are_matched_first() -> None:
    # 'exec' is listed first but anchored on 'declare', which must be matched before it
    sc = scenario({"id": "exec", "action": "notify_executives", "within": "5s", "after": "declare"},
                  {"id": "declare", "action": "declare_incident", "within": "10s"})  # fmt: skip
    ex, dc = match_steps(sc, journal(inj(), det(4.0), act(8.0, "alice", "declare_incident"), act(14.0, "carol", "notify_executives", text="x"), end(30)))
    assert (dc.done_t, ex.anchor_t, ex.deadline_t, ex.verdict) == (8.0, 8.0, 13.0, "late")


def test_assign_role_matches_role_assigned() -> None:
    sc = scenario({"id": "ic", "action": "assign_role", "expect": IC, "within": "5s"})
    r = one(sc, journal(inj(), det(4.0), assign(5.0, "bob", TL), assign(6.0, "alice", IC), end(30)))
    assert (r.verdict, r.done_t, r.author) == ("on_time", 6.0, "dana")


STATUS = {"id": "status", "action": "post_update", "role": CL, "within": "5s", "every": "10s"}


def updates(*ts: float) -> list[tuple[Any, ...]]:
    return [act(t, "carol", "post_update", CL, audience="external", text="u") for t in ts]


@pytest.mark.parametrize(
    ("times", "close", "verdict", "longest"),
    [
        ((8.0, 17.0, 26.0), 30.0, "on_time", 9.0),  # every gap, and the tail to 'resolved', within 10s
        ((8.0, 17.0, 30.0), 35.0, "late", 13.0),  # one gap too long
        ((8.0, 17.0), 30.0, "late", 13.0),  # silence from the last update to the close
        ((10.0, 15.0), 20.0, "late", 5.0),  # the first one came after its deadline (+9s)
    ],
)
def test_recurring_step_gaps(times: tuple[float, ...], close: float, verdict: str, longest: float) -> None:
    events = journal(inj(), det(4.0), *updates(*times), act(close, "alice", "resolved", IC), *updates(close + 40), end(close + 50))
    r = one(scenario(STATUS), events)
    assert r.verdict == verdict
    assert f"longest gap {longest:.1f}s" in r.note and f"{len(times)} matching action(s)" in r.note


def test_recurring_step_without_resolution_runs_to_drill_end() -> None:
    r = one(scenario(STATUS), journal(inj(), det(4.0), *updates(8.0, 17.0), end(40.0)))
    assert r.verdict == "late" and "longest gap 23.0s" in r.note


def test_live_pending_and_overdue() -> None:
    sc = scenario(ACK, {"id": "resolve", "action": "resolved", "within": "10s", "after": "recovery"})
    events = journal(inj(), det(4.0))
    ack, resolve = evaluate_steps(sc, events, now_t=8.0)
    assert ack.pending and ack.verdict is None and ack.deadline_t == 9.0 and ack.id == "ack"
    assert resolve.pending and resolve.anchor_t is None  # recovery may still happen
    with pytest.raises(ValueError, match="pending"):
        ack.result()
    overdue, _ = evaluate_steps(sc, events, now_t=9.5)
    assert overdue.verdict == "missed" and overdue.note.startswith("overdue")
    done, _ = evaluate_steps(sc, [*events, *journal(act(9.8, "alice", "acknowledge", IC))[1:]], now_t=10.0)
    assert done.verdict == "late"
    # once the drill has ended, now_t changes nothing
    final = evaluate_steps(sc, journal(inj(), det(4.0), end(6.0)), now_t=6.0)
    assert [s.verdict for s in final] == ["not_applicable", "not_applicable"]


def test_live_recurring_step_is_judged_so_far() -> None:
    events = journal(inj(), det(4.0), *updates(8.0))
    (ok,) = evaluate_steps(scenario(STATUS), events, now_t=15.0)
    assert ok.verdict == "on_time" and "so far" in ok.note
    (late,) = evaluate_steps(scenario(STATUS), events, now_t=19.0)
    assert late.verdict == "late" and late.longest_gap == pytest.approx(11.0)


def test_person_detection_needs_people_count() -> None:
    rows = journal(inj(), det(4.0, via="person"), act(5.0, "alice", "acknowledge", IC), end(30))
    assert one(scenario(ACK), rows).verdict == "on_time"
    assert one(scenario(ACK, people_count=False), rows).verdict == "not_applicable"


def test_action_without_an_author_is_a_journal_error_with_its_line() -> None:
    events = journal(inj(), act(3.0, "", "acknowledge", source=""))
    with pytest.raises(JournalError, match=r"^j\.jsonl:3: ActionRecorded data needs a non-empty 'author'"):
        read_facts(scenario(ACK), events, "j.jsonl")
    no_role = journal(inj(), (3.0, RoleAssigned(person="alice", role=""), "dana"))
    with pytest.raises(JournalError, match=r"^j\.jsonl:3: RoleAssigned data needs non-empty 'person' and 'role'"):
        read_facts(scenario(ACK), no_role, "j.jsonl")
    # an empty author falls back to the source, as before
    (action,) = read_facts(scenario(ACK), journal(inj(), act(3.0, "", "acknowledge", source="alice"))).actions
    assert (action.author, action.action, action.role) == ("alice", "acknowledge", None)


def test_actions_carry_typed_fields() -> None:
    facts = read_facts(scenario(ACK), journal(
        inj(), assign(2.5, "carol", CL),
        act(3.0, "alice", "declare_incident", IC, severity="SEV2"),
        act(4.0, "carol", "post_update", "", audience="executive", text="x"),
        act(5.0, "bob", "runbook_started", runbook="failover", source="automation"),
    ))  # fmt: skip
    assign_role, declare, update, runbook = facts.actions
    assert (assign_role.action, assign_role.author, assign_role.role, assign_role.assigned_role, assign_role.person) == (
        "assign_role", "dana", None, CL, "carol")
    assert (declare.severity, declare.role, declare.audience) == ("SEV2", IC, None)
    assert (update.audience, update.role, update.severity) == ("executive", None, None)  # an empty role is no role
    assert (runbook.runbook, runbook.automated) == ("failover", True)


def test_role_book() -> None:
    book = RoleBook([(1, 0.5, "alice", IC), (2, 0.5, "bob", TL), (5, 9.0, "bob", IC), (6, 9.5, "bob", IC)])
    assert book.holder(IC, 3) == "alice" and book.holder(IC, 6) == "bob" and book.holder(CL, 9) is None
    assert book.roles_of("bob", 9) == [IC, TL] and book.roles_of("alice", 9) == []
    assert book.holders() == {IC: ["alice", "bob"], TL: ["bob"]}


def test_milestones_count_only_after_the_injection_and_people_only_when_they_count() -> None:
    from gameday.analysis.matching import first_detection, first_injection, first_recovery

    events = journal((1.0, DetectionRecorded(via="alert"), "webhook"),  # before any injection: noise
                     (1.5, RecoveryObserved(), "observer"),
                     inj(2.0),
                     (3.0, DetectionRecorded(via="person"), "person"),
                     (4.0, DetectionRecorded(via="alert"), "webhook"),
                     (9.0, RecoveryObserved(), "observer"))
    assert first_injection(events[:2]) is None and first_detection(events[:3], None, True) is None
    injection = first_injection(events)
    assert injection is not None and injection.t == 2.0
    assert first_detection(events, injection, people_count=True).t == 3.0
    assert first_detection(events, injection, people_count=False).t == 4.0
    assert first_recovery(events, injection).t == 9.0
    assert first_recovery(events, None) is None


# ------------------------------------------------------------------ who really acted (issue 16)
RESOLVE = {"id": "resolve", "action": "resolved", "role": IC, "within": "10s", "after": "recovery"}


def test_a_vendors_automation_does_no_step_and_ends_no_measure() -> None:
    """A PagerDuty auto-resolve (agent: a service) is journaled under 'pagerduty': nobody's action."""
    from gameday.analysis.measures import measure_times

    sc = scenario(ACK, RESOLVE)
    rec = (20.0, RecoveryObserved(checks=["c"]), "observer")
    rows = [inj(), det(4.0), act(5.0, "pagerduty", "acknowledge", source="webhook", via="pagerduty"), rec,
            act(21.0, "pagerduty", "resolved", source="webhook", via="pagerduty")]
    events = journal(*rows, end(40))
    ack, resolve = match_steps(sc, events)
    assert (ack.verdict, resolve.verdict) == ("missed", "missed")
    times = {m.name: m.seconds for m in measure_times(read_facts(sc, events))}
    assert times["MTTA"] is None and times["MTTR"] is None
    with_people = journal(*rows, act(6.0, "alice", "acknowledge", IC), act(25.0, "alice", "resolved", IC), end(40))
    ack, resolve = match_steps(sc, with_people)
    assert (ack.verdict, ack.author, resolve.verdict, resolve.author) == ("on_time", "alice", "on_time", "alice")
    times = {m.name: m.seconds for m in measure_times(read_facts(sc, with_people))}
    assert (times["MTTA"], times["MTTR"]) == (2.0, 21.0)  # from the people's actions, not the vendor's


def test_the_vendor_names_are_the_intakes_formats_and_no_person_can_take_one() -> None:
    from gameday.adapters.webhooks import PARSERS
    from gameday.analysis.matching import VENDOR_ACTORS
    from gameday.model.names import is_reserved

    assert set(PARSERS) | {"webhook"} == VENDOR_ACTORS
    assert all(is_reserved(name) for name in VENDOR_ACTORS)
