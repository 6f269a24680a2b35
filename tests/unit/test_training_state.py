"""The training part of the control room's page state (:mod:`gameday.web.training_state`, through
:func:`gameday.web.state.room_state`): a pure function of a scripted journal
(:func:`gameday.fakes.write_journal`) of the shipped ``training-2`` scenario.

What the trainee sees (tasks with their time boxes and status, the answers, the calls for objections,
the hints and their cost, the simulation's alerts, what transitions told everyone) and what only the
facilitator sees (the simulation's state, where a hint came from, the responders' delays).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gameday.fakes import ScriptedEvent, write_journal
from gameday.loader import load_scenario
from gameday.model.events import (
    AlertReceived,
    AlertRow,
    CommandTaken,
    DecisionRecorded,
    DrillStarted,
    HintGiven,
    ObjectionsCalled,
    ObjectionVoiced,
    PersonaRow,
    RoleAssigned,
    StateChanged,
    TaskAssigned,
    TaskReported,
    TrainingStarted,
)
from gameday.model.policy import ProjectConfig
from gameday.web.state import player_numbers, renumber_for_player, room_state

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "training-2-checkout-db-failover.yaml"
SC = load_scenario(SCENARIO).scenario
POLICY = ProjectConfig().policy
TOLD = "The retry queue is full. Everyone is told."


def script() -> list[ScriptedEvent]:
    personas = [PersonaRow(name="Priya", role="tech-lead", delay=45.0), PersonaRow(name="Sam", role="comms-lead", delay=30.0)]
    return [
        (0.0, TrainingStarted(trainee="dana", seed=7, responders=personas, simulation=True, hint_cost=5.0), "training"),
        (0.0, RoleAssigned(person="dana", role="incident-commander", by="training"), "training"),
        (0.0, StateChanged(to_state="healthy", trigger="the drill started", impact=False), "simulator"),
        (120.0, StateChanged(from_state="healthy", to_state="degraded", trigger="fault kill-primary injected",
                             severity="SEV2"), "simulator"),
        (120.0, AlertReceived(format="alertmanager", matched=True, signal="checkout errors",
                              alerts=[AlertRow(status="firing", alertname="CheckoutErrorsHigh")]), "simulator"),
        (130.0, CommandTaken(person="dana", text="I have command"), "dana"),
        (140.0, RoleAssigned(person="Priya", role="tech-lead", by="dana"), "dana"),
        (150.0, TaskAssigned(task="t1", to="Priya", role="tech-lead", kind="investigate", text="why?", within=120.0,
                             by="dana"), "dana"),
        (155.0, TaskAssigned(task="t2", to="Sam", kind="update", audience="external", text="post", within=60.0,
                             by="dana"), "dana"),
        (160.0, TaskReported(task="t1", by="Priya", status="acknowledged", text="On it."), "Priya"),
        (200.0, TaskReported(task="t1", by="Priya", status="finding", text="db-a is dead."), "Priya"),
        (210.0, HintGiven(text="Decide with a time box.", cost=5.0, source="state degraded", to="dana"), "dana"),
        (220.0, ObjectionsCalled(call="o1", proposal="fail over", within=120.0, by="dana"), "dana"),
        (230.0, ObjectionVoiced(call="o1", by="Priya", role="tech-lead", strong=True, text="the replica lags"), "Priya"),
        (235.0, ObjectionVoiced(call="o1", by="Sam", role="comms-lead", strong=False, text="No objection."), "Sam"),
        (240.0, DecisionRecorded(decision="we wait", decided_by="dana", author="dana"), "dana"),
        (720.0, StateChanged(from_state="degraded", to_state="outage", trigger="10m00s in degraded", severity="SEV1",
                             message=TOLD), "simulator"),
    ]  # fmt: skip


@pytest.fixture(scope="module")
def events(tmp_path_factory):
    started = DrillStarted(drill_id="tr-1", mode="training", policy=POLICY, scenario=SC)
    return write_journal(tmp_path_factory.mktemp("tr") / "journal.jsonl", started, script()).events


def state_for(events, viewer: str, facilitator: bool, now: float = 400.0) -> dict:
    state = room_state(SC, POLICY, events, now, viewer=viewer, facilitator=facilitator, mode="training")
    if not facilitator:
        renumber_for_player(state, player_numbers(events, training=True))
    return state


def test_the_trainee_sees_tasks_answers_calls_and_hints(events):
    tr = state_for(events, "dana", False)["training"]
    assert (tr["trainee"], tr["you_are_trainee"], tr["commander"], tr["can_instruct"]) == ("dana", True, "dana", True)
    assert [(r["name"], r["role"], r["holds"]) for r in tr["responders"]] == [("Priya", "tech-lead", ["tech-lead"]),
                                                                              ("Sam", "comms-lead", [])]
    assert all("delay" not in r for r in tr["responders"])
    t1, t2 = tr["tasks"]
    assert (t1["status"], t1["open"], t1["overdue"], t1["due_t"]) == ("finding", False, False, 270.0)  # a finding answers it
    assert [r["status"] for r in t1["reports"]] == ["acknowledged", "finding"]
    assert (t2["status"], t2["open"], t2["overdue"], t2["due_t"]) == ("assigned", True, True, 215.0)  # no answer, box over
    (call,) = tr["calls"]
    assert (call["id"], call["strong"], call["due_t"]) == ("o1", 1, 340.0)
    assert [(a["by"], a["strong"]) for a in call["answers"]] == [("Priya", True), ("Sam", False)]
    assert [d["decision"] for d in tr["decisions"]] == ["we wait"]
    assert tr["hints"] == [{"seq": tr["hints"][0]["seq"], "t": 210.0, "text": "Decide with a time box.", "cost": 5.0,
                            "to": "dana"}]
    assert tr["hints_cost"] == 5.0 and tr["hint_cost"] == 5.0
    numbered = [tr["command_taken"][0]["seq"], t1["seq"], t2["seq"], *(r["seq"] for r in t1["reports"]), call["seq"],
                *(a["seq"] for a in call["answers"]), tr["decisions"][0]["seq"], tr["hints"][0]["seq"]]
    assert None not in numbered  # each renumbered as a player numbers events


def test_the_trainee_never_sees_the_simulation_state(events):
    state = state_for(events, "dana", False, now=800.0)
    assert "simulation" not in state["training"]
    text = json.dumps(state)
    for name in ("healthy", "degraded", "outage", "state degraded"):
        assert name not in text, name
    rows = state["timeline"]
    assert [r["text"] for r in rows if r["kind"] == "StateChanged"] == [TOLD]  # what everyone was told, nothing more
    assert any(r["kind"] == "AlertReceived" and "CheckoutErrorsHigh" in r["text"] for r in rows)  # the alert reaches her
    assert not [c for c in state["countdowns"] if c["kind"] == "step"]
    seqs = [r["seq"] for r in rows]
    assert seqs == list(range(1, len(seqs) + 1))  # her numbering has no gap where the hidden changes were journaled


def test_the_facilitator_sees_the_simulation_and_the_hints_source(events):
    tr = state_for(events, "facilitator", True, now=800.0)["training"]
    sim = tr["simulation"]
    assert (sim["state"], sim["since_t"], sim["severity"], sim["impact"], sim["recovered"]) == ("outage", 720.0, "SEV1",
                                                                                                  True, False)
    assert [(c["from"], c["to"]) for c in sim["changes"]] == [(None, "healthy"), ("healthy", "degraded"),
                                                               ("degraded", "outage")]
    assert tr["hints"][0]["source"] == "state degraded"
    assert [r["delay"] for r in tr["responders"]] == [45.0, 30.0]
    assert tr["can_instruct"] and not tr["you_are_trainee"]
    rows = state_for(events, "facilitator", True)["timeline"]
    assert sum(r["kind"] == "StateChanged" for r in rows) == 3


def test_another_person_in_the_room_gives_no_instructions(events):
    tr = state_for(events, "eve", False)["training"]
    assert (tr["you_are_trainee"], tr["can_instruct"]) == (False, False)


def test_other_modes_have_no_training_part(events):
    assert "training" not in room_state(SC, POLICY, events, 400.0, viewer="x", facilitator=False, mode="gameday")
