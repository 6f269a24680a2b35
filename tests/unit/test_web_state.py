"""The control room's page state: a pure function of journal events (golden journals in, state out)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gameday.analysis.scorecard import drill_setup
from gameday.journal import read_journal
from gameday.model.eventio import make_event
from gameday.model.events import (
    ActivityRan,
    ClockPaused,
    ClockResumed,
    Event,
    FaultSkipped,
    LoadStats,
    Payload,
    ResponderJoined,
    RoleAssigned,
)
from gameday.web.state import describe_row, room_state, visible

JOURNALS = Path(__file__).resolve().parents[1] / "fixtures" / "journals"


@pytest.fixture(scope="module")
def clean():
    journal = read_journal(JOURNALS / "clean.jsonl")
    scenario, policy, drill_id, mode = drill_setup(journal)
    return scenario, policy, journal.events


def state(clean, upto: int | None = None, now: float | None = None, facilitator: bool = False, viewer: str = "alice", **kw):
    scenario, policy, events = clean
    events = events if upto is None else events[: upto + 1]
    return room_state(scenario, policy, events, now, viewer=viewer, facilitator=facilitator, drill_id="d1", **kw)


def ev(seq: int, payload: Payload, t: float, source: str = "conductor") -> Event[Payload]:
    return make_event(payload, seq=seq, wall="2026-01-01T09:00:00.000000Z", t=t, source=source)


def test_responders_never_see_ground_truth_or_expectations(clean):
    s = state(clean)
    kinds = {r["kind"] for r in s["timeline"]}
    assert not kinds & {"FaultInjected", "ImpactStarted", "ImpactEnded", "RecoveryObserved", "StepMatched",
                        "SteadyStateChecked", "FaultRolledBack", "PhaseChanged"}
    assert {"AlertReceived", "DetectionRecorded", "ActionRecorded", "RoleAssigned", "DrillEnded"} <= kinds
    assert "expectations" not in s and "faults" not in s
    text = repr(s)
    assert "kill-primary" not in text  # the injected fault's name is nowhere in a responder's state
    assert "checkout-db-primary-failure" not in text and "Primary database" not in text  # nor the scenario
    assert s["title"] == "Game day: Checkout" and s["phase"] is None


def test_facilitator_sees_everything_and_the_expectations(clean):
    s = state(clean, facilitator=True, viewer="facilitator")
    kinds = {r["kind"] for r in s["timeline"]}
    assert {"FaultInjected", "ImpactStarted", "RecoveryObserved", "StepMatched"} <= kinds
    assert s["expectations"]["severity"] == "SEV1"
    steps = {x["id"]: x for x in s["expectations"]["steps"]}
    assert steps["acknowledge"]["verdict"] == "on_time" and steps["acknowledge"]["author"] == "alice"
    assert steps["acknowledge"]["deadline_t"] == pytest.approx(9.0 + 5.0)
    assert s["faults"] == [{"id": "kill-primary", "description": s["faults"][0]["description"], "at": 4.0,
                            "status": "rolled_back", "injected_t": 4.0}]


def test_finished_drill_state(clean):
    s = state(clean)
    assert s["status"] == "ended" and s["outcome"] == "completed" and s["now_t"] == 30.0
    assert s["countdowns"] == []
    assert s["viewer"] == {"name": "alice", "facilitator": False, "roles": ["incident-commander"]}
    assert {r["role"]: r["holder"] for r in s["roles"]} == {"incident-commander": "alice", "tech-lead": "bob",
                                                           "comms-lead": "carol"}
    inc = s["incident"]
    assert inc["detected_t"] == 9.0 and inc["acknowledged_t"] == 11.0 and inc["declared_t"] == 14.0
    assert inc["severity"] == "SEV1" and inc["updates"] == 2 and inc["resolved_t"] == 28.0
    (rb,) = s["runbooks"]
    assert rb["name"] == "failover"
    (run,) = rb["runs"]
    assert run["by"] == "bob" and run["ok"] is True and run["started_t"] == 16.0 and run["finished_t"] == 20.0
    assert [a["name"] for a in run["activities"]] == ["promote-replica"]


def test_mid_drill_countdowns_for_responders_name_no_step(clean):
    s = state(clean, upto=12, now=10.0)  # just after detection at 9.0
    assert s["status"] == "running"
    assert s["countdowns"] == [{"id": "step", "kind": "step", "label": "next expected step", "due_t": 14.0}]


def test_mid_drill_countdowns_for_the_facilitator_name_each_step(clean):
    s = state(clean, upto=12, now=10.0, facilitator=True, viewer="facilitator")
    due = {c["id"]: c["due_t"] for c in s["countdowns"]}
    assert due["step:acknowledge"] == 14.0
    assert due["step:failover"] == pytest.approx(9.0 + 15.0)
    assert "step:resolve" not in due  # anchored on recovery, which has not happened


def test_policy_countdowns_follow_the_declared_severity(clean):
    scenario, policy, events = clean
    every = policy.levels["SEV1"].update_every
    s = state(clean, upto=17, now=15.5)  # SEV1 set at 15.0, no update yet; executives told at 14.0
    due = {c["id"]: c for c in s["countdowns"]}
    assert due["update"]["due_t"] == pytest.approx(9.0 + every)  # from detection
    assert due["update"]["label"] == "next status update (SEV1 policy)"
    assert "executives" not in due  # already notified
    s = state(clean, upto=19, now=18.5)  # the first update at 18.0
    assert {c["id"]: c["due_t"] for c in s["countdowns"]}["update"] == pytest.approx(18.0 + every)


def test_overdue_steps_stay_on_the_countdown(clean):
    s = state(clean, upto=12, now=20.0, facilitator=True, viewer="facilitator")
    ack = next(c for c in s["countdowns"] if c["id"] == "step:acknowledge")
    assert ack["due_t"] == 14.0 < s["now_t"]


def test_same_events_same_state(clean):
    assert state(clean, upto=20, now=20.0) == state(clean, upto=20, now=20.0)
    assert state(clean, upto=20, now=20.0, facilitator=True) == state(clean, upto=20, now=20.0, facilitator=True)


def test_lobby_state_shows_staged_roles_and_invited_people(clean):
    scenario, policy, _ = clean
    s = room_state(scenario, policy, [], None, viewer="facilitator", facilitator=True, invited=["alice", "bob"],
                   staged_roles=[("alice", "incident-commander")])
    assert s["status"] == "lobby" and s["timeline"] == [] and s["countdowns"] == []
    assert {r["role"]: r["holder"] for r in s["roles"]}["incident-commander"] == "alice"
    assert [(p["name"], p["invited"], p["roles"]) for p in s["people"]] == [
        ("alice", True, ["incident-commander"]), ("bob", True, [])]
    assert s["faults"][0]["status"] == "scheduled"
    assert [x["verdict"] for x in s["expectations"]["steps"]] == [None] * len(scenario.response)


def test_paused_status_and_new_event_kinds_are_worded(clean):
    scenario, policy, events = clean
    live = list(events[:13]) + [ev(13, ResponderJoined(person="dana", role=None), 11.0, "dana"),
                                ev(14, ClockPaused(by="facilitator"), 11.5, "facilitator")]
    s = room_state(scenario, policy, live, 11.5, viewer="dana", facilitator=False)
    assert s["status"] == "paused"
    texts = [r["text"] for r in s["timeline"]]
    assert "dana joined the control room" in texts and "Drill clock paused by facilitator" in texts
    live.append(ev(15, ClockResumed(by="facilitator"), 11.5, "facilitator"))
    assert room_state(scenario, policy, live, 12.0, viewer="dana", facilitator=False)["status"] == "running"


def test_untrusted_text_is_passed_through_unescaped_for_the_renderer():
    payload = '<script>alert("x")</script>'
    row = describe_row(ev(3, ResponderJoined(person=payload, role="tech-lead"), 1.0, payload))
    assert row == f"{payload} (tech-lead) joined the control room"


def test_visibility_rules():
    def activity(owner: str, phase: str) -> ActivityRan:
        return ActivityRan(owner=owner, name="a", phase=phase, provider="python", status="succeeded", started_t=1.0,
                           duration_s=0.1)

    runbook = ev(1, activity("failover", "runbook"), 1.0, "injector")
    fault = ev(2, activity("kill", "method"), 1.0, "injector")
    assert visible(runbook, False) and not visible(fault, False) and visible(fault, True)
    assert not visible(ev(3, LoadStats(t_from=0.0, t_to=1.0), 1.0), True)
    assert not visible(ev(4, FaultSkipped(fault="x", by="facilitator"), 1.0), False)
    assert visible(ev(4, FaultSkipped(fault="x", by="facilitator"), 1.0), True)


def test_role_holders_hand_roles_over_and_roles_of_is_the_latest_still_held():
    from gameday.model.roles import role_holders, roles_held, roles_of

    events = [ev(i, RoleAssigned(person=p, role=r, by="facilitator"), float(i)) for i, (p, r) in enumerate([
        ("alice", "incident-commander"), ("alice", "tech-lead"), ("bob", "comms-lead"),
        ("bob", "tech-lead"),  # handed over: alice no longer holds it
        ("", "scribe"), ("carol", ""),  # incomplete assignments count for nothing
    ])]  # fmt: skip
    assert role_holders(events) == {"incident-commander": "alice", "tech-lead": "bob", "comms-lead": "bob"}
    assert roles_of(events) == {"alice": "incident-commander", "bob": "tech-lead"}  # bob's latest, alice's left
    assert roles_held(events, "bob") == ["comms-lead", "tech-lead"] and roles_held(events, "carol") == []
    assert role_holders(events[:2]) == {"incident-commander": "alice", "tech-lead": "alice"}  # as it was then
    assert role_holders([ev(0, ResponderJoined(person="dana", role="scribe"), 0.0)]) == {}  # joining gives no role
