"""The incident commander's rubric scored from golden training journals: one passing and one failing
journal per item (verdict, and the evidence pointing at the right events), the score with hints,
the next hint; and the training report (training.md, training.html): content from the journal,
people's text escaped, the same bytes on every rendering, written beside the postmortem."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

import gameday
from gameday.analysis.rubric import hint_for, score_training
from gameday.analysis.training_report import render_training, training_context
from gameday.drill.reports import Outputs, write_reports
from gameday.errors import ConfigError, JournalError
from gameday.fakes import ScriptedEvent, write_journal
from gameday.journal import Journal
from gameday.model.events import (
    ActionRecorded,
    CommandHandedOver,
    CommandTaken,
    DecisionRecorded,
    DetectionRecorded,
    DrillEnded,
    DrillStarted,
    FaultInjected,
    HintGiven,
    ObjectionsCalled,
    ObjectionVoiced,
    Payload,
    PersonaRow,
    RecoveryObserved,
    RoleAssigned,
    StateChanged,
    TaskAssigned,
    TaskReported,
    TrainingStarted,
)
from gameday.model.policy import DEFAULT_POLICY
from gameday.model.rubric import RUBRIC, ItemVerdict, TrainingScore
from gameday.model.scenario import Scenario

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "training"
IC, TL, CL = "incident-commander", "tech-lead", "comms-lead"
TRAINEE = "Dana"
XSS = "<script>alert(1)</script>"


def scenario(name: str = "training") -> Scenario:
    return Scenario.model_validate(yaml.safe_load((FIXTURES / f"{name}.scenario.yaml").read_text(encoding="utf-8")))


def act(t: float, author: str, role: str | None, action: str, **extra: Any) -> ScriptedEvent:
    return (t, ActionRecorded(action=action, author=author, role=role, **extra), author)  # type: ignore[arg-type]


def task(t: float, tid: str, to: str, role: str, kind: str, text: str, within: float | None = 300.0,
         **extra: Any) -> ScriptedEvent:
    return (t, TaskAssigned(task=tid, to=to, role=role, kind=kind, text=text, within=within, by=TRAINEE, **extra),  # type: ignore[arg-type]
            TRAINEE)  # fmt: skip


def state(t: float, src: str | None, dst: str, trigger: str, severity: str | None = None, impact: bool = True,
          recovered: bool = False) -> ScriptedEvent:
    return (t, StateChanged(from_state=src, to_state=dst, trigger=trigger, severity=severity, impact=impact,  # type: ignore[arg-type]
                            recovered=recovered), "simulator")  # fmt: skip


def base() -> dict[str, ScriptedEvent]:
    """A drill where the trainee meets every item (the handover is the handover scenario's, below)."""
    personas = [PersonaRow(name="Priya", role=TL, delay=45.0), PersonaRow(name="Sam", role=CL, delay=45.0)]
    return {
        "training": (0.0, TrainingStarted(trainee=TRAINEE, seed=7, responders=personas, simulation=True, difficulty=2),
                     "conductor"),
        "ic": (0.0, RoleAssigned(person=TRAINEE, role=IC, by="training"), "conductor"),
        "healthy": state(0.0, None, "healthy", "drill start", impact=False),
        "fault": (60.0, FaultInjected(fault="kill-primary", kind="experiment"), "simulator"),
        "degraded": state(60.0, "healthy", "degraded", "fault kill-primary injected", "SEV2"),
        "detected": (120.0, DetectionRecorded(via="alert", alertname="CheckoutErrorsHigh", signal="checkout errors"),
                     "webhook"),
        "command": (150.0, CommandTaken(person=TRAINEE, text="I am the incident commander"), TRAINEE),
        "tl": (180.0, RoleAssigned(person="Priya", role=TL, by=TRAINEE), TRAINEE),
        "cl": (190.0, RoleAssigned(person="Sam", role=CL, by=TRAINEE), TRAINEE),
        "declare": act(200.0, TRAINEE, IC, "declare_incident"),
        "t1": task(210.0, "t1", "Priya", TL, "investigate", "Check the database primary"),
        "sev": act(230.0, TRAINEE, IC, "set_severity", severity="SEV2"),
        "t2": task(240.0, "t2", "Sam", CL, "notify_executives", "Tell the executives"),
        "execs": act(300.0, "Sam", CL, "notify_executives", text="Checkout is degraded"),
        "t3": task(320.0, "t3", "Sam", CL, "update", "Post a status update", audience="external"),
        "update": act(400.0, "Sam", CL, "post_update", audience="external", text="Some checkouts fail"),
        "found": (420.0, TaskReported(task="t1", by="Priya", status="finding", text="The primary's disk failed"), "Priya"),
        "objections": (480.0, ObjectionsCalled(call="o1", proposal="Fail over to the replica", within=120.0, by=TRAINEE),
                       TRAINEE),
        "no-objection-sam": (500.0, ObjectionVoiced(call="o1", by="Sam", role=CL, strong=False, text="No objection."), "Sam"),
        "no-objection-priya": (520.0, ObjectionVoiced(call="o1", by="Priya", role=TL, strong=False, text="No objection."),
                               "Priya"),
        "decision": (540.0, DecisionRecorded(decision="Fail over to the replica", decided_by=TRAINEE, author=TRAINEE),
                     TRAINEE),
        "t4": task(550.0, "t4", "Priya", TL, "runbook", "Run the failover", within=600.0, runbook="failover"),
        "runbook": act(600.0, "Priya", TL, "runbook_started", runbook="failover"),
        "recovered": state(600.0, "degraded", "recovered", "runbook failover started", impact=False, recovered=True),
        "resolved": act(700.0, TRAINEE, IC, "resolved"),
        "ended": (720.0, DrillEnded(outcome="completed"), "conductor"),
    }  # fmt: skip


HANDOVER = {
    "handover": (650.0, CommandHandedOver(outgoing=TRAINEE, incoming="Morgan",
                                          briefing="Checkout recovered after failover; SEV2 open; next update at +30m"),
                 TRAINEE),
    "ic-morgan": (651.0, RoleAssigned(person="Morgan", role=IC, by=TRAINEE), TRAINEE),
}


def drill(tmp_path: Path, changes: dict[str, ScriptedEvent | None] | None = None, *, name: str = "training",
          policy_scale: float = 1.0) -> Journal:
    """The base drill with some events replaced, added (a new label) or dropped (None), in time order."""
    script = {**base(), **(changes or {})}
    events = sorted((e for e in script.values() if e is not None), key=lambda e: e[0])
    sc = scenario(name)
    start = DrillStarted(drill_id=f"{sc.id}-1", mode="training", scenario=sc, policy=DEFAULT_POLICY.scaled(policy_scale))
    return write_journal(tmp_path / f"journal-{len(list(tmp_path.glob('*.jsonl')))}.jsonl", start, events)


def seq(journal: Journal, kind: type[Payload], pick: Callable[[Any], bool] = lambda d: True) -> int:
    """The seq of the first event of ``kind`` whose payload ``pick`` accepts."""
    return next(e.seq for e in journal.events if isinstance(e.data, kind) and pick(e.data))


def judge(journal: Journal, item: str) -> ItemVerdict:
    result = score_training(journal.events).item(item)
    assert result is not None
    assert result.why.strip() and result.why.endswith(".")
    if result.verdict in ("partly", "missed"):
        assert result.coaching.strip()
    return result


def seqs(v: ItemVerdict) -> set[int]:
    return {e.seq for e in v.evidence}


def is_action(name: str, author: str | None = None) -> Callable[[Any], bool]:
    return lambda d: d.action == name and (author is None or d.author == author)


# ---------------------------------------------------------------- the whole rubric


def test_the_base_drill_meets_every_item(tmp_path: Path) -> None:
    score = score_training(drill(tmp_path).events)
    assert [i.id for i in score.items] == list(RUBRIC)
    assert {i.id: i.verdict for i in score.items} == {**dict.fromkeys(RUBRIC, "met"), "handover": "n/a"}
    assert all(i.coaching == "" for i in score.items if i.verdict == "met")
    assert (score.trainee, score.outcome, score.difficulty, score.score) == (TRAINEE, "completed", 2, 100.0)
    assert score.scenario_id == "training-checkout-db" and score.drill_id == "training-checkout-db-1"


def test_a_journal_without_training_started_is_refused(tmp_path: Path) -> None:
    j = drill(tmp_path, {"training": None})
    with pytest.raises(JournalError, match="TrainingStarted"):
        score_training(j.events, path="x.jsonl")


# ---------------------------------------------------------------- took-command


def test_took_command_met(tmp_path: Path) -> None:
    j = drill(tmp_path)
    v = judge(j, "took-command")
    assert v.verdict == "met" and "+2m30s" in v.why
    assert seqs(v) == {seq(j, CommandTaken), seq(j, DetectionRecorded)}


def test_took_command_missed_and_partly(tmp_path: Path) -> None:
    j = drill(tmp_path, {"command": None})
    v = judge(j, "took-command")
    assert v.verdict == "missed" and seqs(v) == {seq(j, DetectionRecorded)}
    assert "+2m00s" in v.coaching
    late = drill(tmp_path, {"command": (600.0, CommandTaken(person=TRAINEE), TRAINEE)})
    v = judge(late, "took-command")
    assert v.verdict == "partly" and "+10m00s" in v.coaching and seq(late, CommandTaken) in seqs(v)


def test_someone_else_taking_command_is_not_the_trainee_taking_it(tmp_path: Path) -> None:
    j = drill(tmp_path, {"command": (150.0, CommandTaken(person="Priya"), "Priya")})
    assert judge(j, "took-command").verdict == "missed"


# ---------------------------------------------------------------- delegated


def test_delegated_met(tmp_path: Path) -> None:
    j = drill(tmp_path)
    v = judge(j, "delegated")
    assert v.verdict == "met"
    tasks = {e.seq for e in j.events if isinstance(e.data, TaskAssigned)}
    roles = {seq(j, RoleAssigned, lambda d: d.role == TL), seq(j, RoleAssigned, lambda d: d.role == CL)}
    assert seqs(v) == tasks | roles | {seq(j, CommandTaken)}


def test_delegated_missed_when_a_role_is_never_given(tmp_path: Path) -> None:
    j = drill(tmp_path, {"cl": None})
    v = judge(j, "delegated")
    assert v.verdict == "missed" and "comms lead" in v.why and "Sam" in v.coaching
    assert seq(j, RoleAssigned, lambda d: d.role == TL) in seqs(v)
    assert not any(e.kind == "RoleAssigned" and "comms" in e.text for e in v.evidence)


def test_delegated_missed_without_any_task_and_partly_without_a_time_box(tmp_path: Path) -> None:
    j = drill(tmp_path, dict.fromkeys(("t1", "t2", "t3", "t4")))
    assert judge(j, "delegated").verdict == "missed"
    j = drill(tmp_path, {"t1": task(210.0, "t1", "Priya", TL, "investigate", "Check the database primary", within=None)})
    v = judge(j, "delegated")
    assert v.verdict == "partly" and "time box" in v.why and "t1" in v.coaching and "+3m30s" in v.coaching
    assert seq(j, TaskAssigned, lambda d: d.task == "t1") in seqs(v)
    assert seq(j, TaskAssigned, lambda d: d.task == "t2") not in seqs(v)  # only the task without a time box


def test_a_role_the_trainee_keeps_is_not_delegated(tmp_path: Path) -> None:
    j = drill(tmp_path, {"tl": (180.0, RoleAssigned(person=TRAINEE, role=TL, by=TRAINEE), TRAINEE)})
    assert judge(j, "delegated").verdict == "missed"


def test_delegated_partly_when_a_role_comes_late(tmp_path: Path) -> None:
    j = drill(tmp_path, {"cl": (800.0, RoleAssigned(person="Sam", role=CL, by=TRAINEE), TRAINEE)})
    v = judge(j, "delegated")
    assert v.verdict == "partly" and "+13m20s" in v.why


# ---------------------------------------------------------------- severity


def test_severity_met(tmp_path: Path) -> None:
    j = drill(tmp_path)
    v = judge(j, "severity")
    assert v.verdict == "met" and "SEV2" in v.why
    assert seqs(v) == {seq(j, DetectionRecorded), seq(j, ActionRecorded, is_action("set_severity"))}


def test_severity_missed_when_never_set(tmp_path: Path) -> None:
    j = drill(tmp_path, {"sev": None})
    v = judge(j, "severity")
    assert v.verdict == "missed" and "SEV2" in v.coaching and "+2m00s" in v.coaching
    assert seqs(v) == {seq(j, DetectionRecorded)}


def test_severity_partly_when_wrong(tmp_path: Path) -> None:
    j = drill(tmp_path, {"sev": act(230.0, TRAINEE, IC, "set_severity", severity="SEV1")})
    v = judge(j, "severity")
    assert v.verdict == "partly" and "SEV1 at +3m50s when SEV2 was right" in v.why
    assert seq(j, ActionRecorded, is_action("set_severity")) in seqs(v)


def test_severity_partly_when_not_reset_after_the_outage(tmp_path: Path) -> None:
    outage = {"outage": state(660.0, "degraded", "outage", "10m in degraded", "SEV1"), "runbook": None, "recovered": None,
              "resolved": None, "ended": (1500.0, DrillEnded(outcome="completed"), "conductor")}
    j = drill(tmp_path, outage)
    v = judge(j, "severity")
    assert v.verdict == "partly" and "SEV1" in v.why and "+11m00s" in v.coaching
    assert seq(j, StateChanged, lambda d: d.to_state == "outage") in seqs(v)
    reset = drill(tmp_path, {**outage, "sev1": act(900.0, "Sam", CL, "set_severity", severity="SEV1")})
    assert judge(reset, "severity").verdict == "met"


# ---------------------------------------------------------------- executives


def test_executives_met(tmp_path: Path) -> None:
    j = drill(tmp_path)
    v = judge(j, "executives")
    assert v.verdict == "met" and "Sam" in v.why
    declared, told = seq(j, ActionRecorded, is_action("declare_incident")), seq(j, ActionRecorded, is_action("notify_executives"))
    assert seqs(v) == {declared, told}


def test_executives_missed_and_late(tmp_path: Path) -> None:
    scaled = 0.1  # SEV2: executives within 3m of the declaration (+3m20s): due +6m20s
    j = drill(tmp_path, {"execs": None}, policy_scale=scaled)
    v = judge(j, "executives")
    assert v.verdict == "missed" and "+6m20s" in v.why and "Sam" in v.coaching
    assert seqs(v) == {seq(j, ActionRecorded, is_action("declare_incident"))}
    late = drill(tmp_path, {"execs": act(500.0, "Sam", CL, "notify_executives")}, policy_scale=scaled)
    v = judge(late, "executives")
    assert v.verdict == "partly" and seq(late, ActionRecorded, is_action("notify_executives")) in seqs(v)


def test_executives_are_due_sooner_when_the_outage_comes(tmp_path: Path) -> None:
    # SEV2 from the declaration (+3m20s: due +33m20s); the outage (SEV1, +11m) makes them due at +16m
    j = drill(tmp_path, {"execs": (1100.0, *act(1100.0, "Sam", CL, "notify_executives")[1:]), "runbook": None,
                         "recovered": None, "resolved": None,
                         "outage": state(660.0, "degraded", "outage", "10m in degraded", "SEV1"),
                         "ended": (1500.0, DrillEnded(outcome="completed"), "conductor")})
    v = judge(j, "executives")
    assert v.verdict == "partly" and "+16m00s" in v.why
    assert seq(j, StateChanged, lambda d: d.to_state == "outage") in seqs(v)


# ---------------------------------------------------------------- cadence


def test_cadence_met(tmp_path: Path) -> None:
    j = drill(tmp_path)
    v = judge(j, "cadence")
    assert v.verdict == "met"
    assert seqs(v) == {seq(j, DetectionRecorded), seq(j, ActionRecorded, is_action("post_update"))}


def test_cadence_missed_and_partly(tmp_path: Path) -> None:
    # scaled x0.1: an update every 3m from detection (+2m) to resolution (+11m40s); one update at +6m40s
    j = drill(tmp_path, policy_scale=0.1)
    v = judge(j, "cadence")
    assert v.verdict == "missed" and "2 gaps" in v.why and "Sam" in v.coaching
    assert seq(j, ActionRecorded, is_action("post_update")) in seqs(v)
    j = drill(tmp_path, {"update0": act(250.0, "Sam", CL, "post_update", audience="internal")}, policy_scale=0.1)
    v = judge(j, "cadence")
    assert v.verdict == "partly" and "from +6m40s to +11m40s" in v.why
    none = drill(tmp_path, {"update": None}, policy_scale=0.1)
    assert judge(none, "cadence").verdict == "missed"


# ---------------------------------------------------------------- decisions


def test_decisions_met(tmp_path: Path) -> None:
    j = drill(tmp_path)
    v = judge(j, "decisions")
    assert v.verdict == "met" and "2m00s" in v.why
    assert seqs(v) == {seq(j, ObjectionsCalled), seq(j, DecisionRecorded)}


def test_decisions_missed_without_a_call_and_partly_without_a_time_box(tmp_path: Path) -> None:
    j = drill(tmp_path, {"objections": None})
    v = judge(j, "decisions")
    assert v.verdict == "missed" and "+9m00s" in v.coaching and seqs(v) == {seq(j, DecisionRecorded)}
    loose = ObjectionsCalled(call="o1", proposal="Fail over to the replica", within=None, by=TRAINEE)
    j = drill(tmp_path, {"objections": (480.0, loose, TRAINEE)})
    v = judge(j, "decisions")
    assert v.verdict == "partly" and "time box" in v.coaching and seq(j, ObjectionsCalled) in seqs(v)


def test_decisions_partly_when_one_of_two_had_no_call(tmp_path: Path) -> None:
    j = drill(tmp_path, {"decision2": (1100.0, DecisionRecorded(decision="Page the DBA", decided_by=TRAINEE, author=TRAINEE),
                                       TRAINEE), "ended": (1200.0, DrillEnded(outcome="completed"), "conductor"),
                         "objections": (100.0, ObjectionsCalled(call="o1", proposal="x", within=60.0, by=TRAINEE), TRAINEE),
                         "decision": (170.0, DecisionRecorded(decision="x", decided_by=TRAINEE, author=TRAINEE), TRAINEE)})
    v = judge(j, "decisions")
    assert v.verdict == "partly" and v.why == ("Of the 2 decisions Dana made, 1 after a time-boxed call for strong objections "
                                               "and 1 with no call at all.")
    assert "Page the DBA" in v.coaching and len(v.evidence) == 3


def test_decisions_not_applicable_without_one(tmp_path: Path) -> None:
    v = judge(drill(tmp_path, {"decision": None}), "decisions")
    assert v.verdict == "n/a" and "decision log" in v.coaching


def test_a_call_too_long_before_the_decision_does_not_count(tmp_path: Path) -> None:
    j = drill(tmp_path, {"objections": (130.0, ObjectionsCalled(call="o1", proposal="x", within=60.0, by=TRAINEE), TRAINEE),
                         "command": (125.0, CommandTaken(person=TRAINEE), TRAINEE),
                         "decision": (1100.0, DecisionRecorded(decision="y", decided_by="Priya", author=TRAINEE), TRAINEE)})
    assert judge(j, "decisions").verdict == "missed"


# ---------------------------------------------------------------- hands-off


def test_hands_off_met(tmp_path: Path) -> None:
    j = drill(tmp_path)
    v = judge(j, "hands-off")
    assert v.verdict == "met" and "Priya" in v.why
    assert seqs(v) == {seq(j, ActionRecorded, is_action("runbook_started"))}


def test_hands_off_missed_when_the_trainee_runs_the_runbook(tmp_path: Path) -> None:
    j = drill(tmp_path, {"runbook": act(600.0, TRAINEE, IC, "runbook_started", runbook="failover")})
    v = judge(j, "hands-off")
    assert v.verdict == "missed"
    assert v.coaching == ("You ran the failover runbook yourself at +10m00s: assign it to the tech lead (Priya) and keep "
                          "the overview.")
    assert seqs(v) == {seq(j, ActionRecorded, is_action("runbook_started"))}


def test_hands_off_partly_when_the_trainee_posts_the_external_update(tmp_path: Path) -> None:
    j = drill(tmp_path, {"update": act(400.0, TRAINEE, IC, "post_update", audience="external", text="We are on it")})
    v = judge(j, "hands-off")
    assert v.verdict == "partly" and "Sam" in v.why and "+6m40s" in v.coaching
    assert seqs(v) == {seq(j, ActionRecorded, is_action("post_update"))}


# ---------------------------------------------------------------- handover


def test_handover_met(tmp_path: Path) -> None:
    j = drill(tmp_path, dict(HANDOVER), name="handover")
    v = judge(j, "handover")
    assert v.verdict == "met" and "Morgan" in v.why
    assert seqs(v) == {seq(j, CommandHandedOver), seq(j, StateChanged, lambda d: d.recovered)}


def test_handover_missed_and_partly(tmp_path: Path) -> None:
    j = drill(tmp_path, {"ended": (1500.0, DrillEnded(outcome="completed"), "conductor")}, name="handover")
    v = judge(j, "handover")
    assert v.verdict == "missed" and "Morgan" in v.why and "+20m00s" in v.why
    assert seqs(v) == {seq(j, StateChanged, lambda d: d.recovered)}
    empty = {**HANDOVER, "handover": (650.0, CommandHandedOver(outgoing=TRAINEE, incoming="Morgan", briefing=" "), TRAINEE)}
    v = judge(drill(tmp_path, empty, name="handover"), "handover")
    assert v.verdict == "partly" and "no briefing" in v.why


def test_handover_not_called_for(tmp_path: Path) -> None:
    j = drill(tmp_path, {"ic-morgan": HANDOVER["ic-morgan"]})
    v = judge(j, "handover")
    assert v.verdict == "missed" and seqs(v) == {seq(j, RoleAssigned, lambda d: d.person == "Morgan")}
    j = drill(tmp_path, dict(HANDOVER))
    v = judge(j, "handover")
    assert v.verdict == "met" and seqs(v) == {seq(j, CommandHandedOver), seq(j, RoleAssigned, lambda d: d.person == "Morgan")}


# ---------------------------------------------------------------- resolution


def test_resolution_met(tmp_path: Path) -> None:
    j = drill(tmp_path)
    v = judge(j, "resolution")
    assert v.verdict == "met" and "+11m40s" in v.why
    assert seqs(v) == {seq(j, ActionRecorded, is_action("resolved")), seq(j, StateChanged, lambda d: d.recovered)}


def test_resolution_missed_and_partly(tmp_path: Path) -> None:
    j = drill(tmp_path, {"resolved": None, "ended": (1600.0, DrillEnded(outcome="completed"), "conductor")})
    v = judge(j, "resolution")
    assert v.verdict == "missed" and seqs(v) == {seq(j, StateChanged, lambda d: d.recovered)}
    j = drill(tmp_path, {"resolved": act(700.0, "Sam", CL, "resolved")})
    v = judge(j, "resolution")
    assert v.verdict == "partly" and "Sam" in v.why and seq(j, ActionRecorded, is_action("resolved")) in seqs(v)
    j = drill(tmp_path, {"early": act(590.0, TRAINEE, IC, "resolved")})
    v = judge(j, "resolution")
    assert v.verdict == "partly" and "Confirm recovery first" in v.coaching
    assert seq(j, ActionRecorded, is_action("resolved")) in seqs(v)  # the early one


def test_resolution_by_whom_the_trainee_handed_command_to_counts(tmp_path: Path) -> None:
    j = drill(tmp_path, {**HANDOVER, "resolved": act(700.0, "Morgan", IC, "resolved")}, name="handover")
    v = judge(j, "resolution")
    assert v.verdict == "met" and "Morgan, to whom Dana had handed command" in v.why
    assert seq(j, CommandHandedOver) in seqs(v)
    j = drill(tmp_path, {"resolved": act(700.0, "Morgan", IC, "resolved")})  # no handover: someone else
    assert judge(j, "resolution").verdict == "partly"


def test_resolution_not_applicable_without_recovery(tmp_path: Path) -> None:
    j = drill(tmp_path, {"runbook": None, "recovered": None, "resolved": None})
    assert judge(j, "resolution").verdict == "n/a"


# ---------------------------------------------------------------- reviewed: one story, the trainee's own command

OUTAGE = {"outage": state(660.0, "degraded", "outage", "10m in degraded", "SEV1"), "runbook": None, "recovered": None,
          "resolved": None, "ended": (1500.0, DrillEnded(outcome="completed"), "conductor")}


def test_a_severity_reset_after_recovery_keeps_the_storys_severity(tmp_path: Path) -> None:
    # the scenario opens at SEV1, the story was a SEV2; recovery (+10m00s) does not bring back the scenario's SEV1
    j = drill(tmp_path, {"again": act(650.0, TRAINEE, IC, "set_severity", severity="SEV2")})
    assert judge(j, "severity").verdict == "met"


def test_executives_told_of_the_sev2_but_not_of_the_sev1(tmp_path: Path) -> None:
    j = drill(tmp_path, OUTAGE)  # told at +5m00s (SEV2); the outage (SEV1) at +11m00s: due by +16m00s, never told
    v = judge(j, "executives")
    assert v.verdict == "missed"
    assert v.why.startswith("The executives were told of the SEV2 at +5m00s, but not of the SEV1 at +11m00s (due by "
                            "+16m00s")
    assert "+11m00s" in v.coaching and "within 5m00s of an escalation" in v.coaching and "Sam" in v.coaching
    assert seq(j, StateChanged, lambda d: d.to_state == "outage") in seqs(v)
    told = drill(tmp_path, {**OUTAGE, "execs2": act(800.0, "Sam", CL, "notify_executives")})
    v = judge(told, "executives")
    assert v.verdict == "met" and "every deadline" in v.why and "+13m20s" in v.why


def test_a_coach_taking_command_is_not_the_trainees_handover(tmp_path: Path) -> None:
    j = drill(tmp_path, {"ic-morgan": (651.0, RoleAssigned(person="Morgan", role=IC, by="Kim"), "Kim")})
    v = judge(j, "handover")
    assert v.verdict == "n/a" and "Kim" in v.why and "Morgan" in v.why
    assert seqs(v) == {seq(j, RoleAssigned, lambda d: d.person == "Morgan")}


def test_after_the_trainee_hands_over_the_omissions_are_the_next_commanders(tmp_path: Path) -> None:
    handed = {**OUTAGE, **{k: (400.0, *v[1:]) for k, v in HANDOVER.items()}}  # formal handover at +6m40s, then the outage
    j = drill(tmp_path, handed)
    assert judge(j, "handover").verdict == "met"
    assert judge(j, "severity").verdict == "met"  # no one re-set the SEV1 at +11m00s: Morgan's to do
    assert judge(j, "executives").verdict == "met"  # nor told the executives of it
    assert judge(j, "cadence").verdict == "met"
    v = judge(j, "resolution")
    assert v.verdict == "n/a"
    # while the trainee still held command, it was theirs
    assert judge(drill(tmp_path, OUTAGE), "severity").verdict == "partly"


def test_an_idle_trainee_earns_no_hands_off_point(tmp_path: Path) -> None:
    idle = dict.fromkeys(("command", "tl", "cl", "declare", "t1", "sev", "t2", "t3", "t4", "objections",
                          "no-objection-sam", "no-objection-priya", "decision", "resolved"))
    v = judge(drill(tmp_path, idle), "hands-off")
    assert v.verdict == "n/a" and "never took command" in v.why
    # a runbook of their own is hands-on all the same
    v = judge(drill(tmp_path, {**idle, "runbook": act(600.0, TRAINEE, IC, "runbook_started", runbook="failover")}),
              "hands-off")
    assert v.verdict == "missed"


def test_a_decision_before_the_answers_and_the_time_box_is_partly(tmp_path: Path) -> None:
    strong = ObjectionVoiced(call="o1", by="Priya", role=TL, strong=True, text="The replica is behind: we lose orders")
    j = drill(tmp_path, {"decision": (510.0, DecisionRecorded(decision="Fail over to the replica", decided_by=TRAINEE,
                                                              author=TRAINEE), TRAINEE),
                         "no-objection-priya": (530.0, strong, "Priya")})
    v = judge(j, "decisions")
    assert v.verdict == "partly" and "before the time box" in v.why
    assert v.coaching == ("Priya objected at +8m50s \u2014 after you decided at +8m30s; wait for the answers or the "
                          "time box.")
    assert seq(j, ObjectionVoiced, lambda d: d.strong) in seqs(v)
    # once the time box is over, the decision may come before everyone answered
    late = drill(tmp_path, {"decision": (610.0, DecisionRecorded(decision="Fail over", decided_by=TRAINEE, author=TRAINEE),
                                         TRAINEE), "no-objection-priya": (630.0, strong, "Priya")})
    assert judge(late, "decisions").verdict == "met"


def test_a_role_someone_else_gave_does_not_earn_delegated(tmp_path: Path) -> None:
    j = drill(tmp_path, {"cl": (190.0, RoleAssigned(person="Sam", role=CL, by="Kim"), "Kim")})
    v = judge(j, "delegated")
    assert v.verdict == "partly" and "comms lead role was given to Sam by Kim, not by Dana" in v.why
    assert "yourself" in v.coaching
    roster = drill(tmp_path, {"cl": (0.0, RoleAssigned(person="Sam", role=CL), "conductor")})
    v = judge(roster, "delegated")
    assert v.verdict == "partly" and "pre-assigned roster" in v.why


def test_delegated_names_both_a_missing_role_and_a_task_without_a_time_box(tmp_path: Path) -> None:
    j = drill(tmp_path, {"cl": None,
                         "t1": task(210.0, "t1", "Priya", TL, "investigate", "Check the database primary", within=None)})
    v = judge(j, "delegated")
    assert v.verdict == "missed"
    assert "comms lead role was never given" in v.why and "had no time box" in v.why
    assert "comms lead role to a named person" in v.coaching and "Task t1" in v.coaching


def test_recovery_is_the_simulations_not_a_quiet_state_the_probes_liked(tmp_path: Path) -> None:
    # at +9m00s a no-impact state that is no recovery makes the probes see the steady state; recovery comes at +10m00s
    j = drill(tmp_path, {"quiet": state(540.0, "degraded", "mitigating", "failover started", impact=False),
                         "observed": (540.0, RecoveryObserved(checks=["checkout health"]), "conductor"),
                         "resolved": act(570.0, TRAINEE, IC, "resolved")})
    v = judge(j, "resolution")
    assert v.verdict == "partly" and "before recovery (+10m00s)" in v.why


# ---------------------------------------------------------------- score and hints


def _score(tmp_path: Path, changes: dict[str, ScriptedEvent | None]) -> TrainingScore:
    return score_training(drill(tmp_path, changes).events)


def test_score_arithmetic_with_hints(tmp_path: Path) -> None:
    hint = HintGiven(text="Ask the tech lead", cost=5.0, source="state degraded", to=TRAINEE)
    assert _score(tmp_path, {"h1": (100.0, hint, TRAINEE), "h2": (200.0, hint, TRAINEE)}).score == 90.0
    one_missed = _score(tmp_path, {"command": None, "h1": (100.0, hint, TRAINEE)})  # 100 x 7.5/8 (delegated partly) - 5
    assert [i.verdict for i in one_missed.items].count("missed") == 1
    assert one_missed.score == round(100 * sum(i.points or 0 for i in one_missed.items)
                                     / sum(i.points is not None for i in one_missed.items) - 5, 1)
    assert one_missed.hints[0].cost == 5.0 and one_missed.hints[0].text == "Ask the tech lead"
    costly = HintGiven(text="x", cost=250.0, source="rubric severity", to=TRAINEE)
    assert _score(tmp_path, {"h": (100.0, costly, TRAINEE)}).score == 0.0


def test_score_of_nine_items_with_one_missed(tmp_path: Path) -> None:
    s = score_training(drill(tmp_path, {**HANDOVER, "command": None}, name="handover").events)
    assert [i.verdict for i in s.items] == ["missed"] + ["met"] * 8
    assert s.score == 88.9


def test_an_unfinished_journal_is_scored(tmp_path: Path) -> None:
    j = drill(tmp_path, {"ended": None})
    assert score_training(j.events).outcome == "unfinished"


def test_hint_for_names_the_first_item_not_met(tmp_path: Path) -> None:
    j = drill(tmp_path)
    before_command = [e for e in j.events if e.t < 150.0]
    text, source = hint_for(before_command)
    assert source == "rubric took-command" and "incident commander" in text
    no_roles = [e for e in j.events if e.t <= 150.0]
    text, source = hint_for(no_roles)
    assert source == "rubric delegated" and "Priya" in text and "Sam" in text
    assert hint_for(j.events)[1] == "rubric"


# ---------------------------------------------------------------- the training report


def hostile(tmp_path: Path) -> Journal:
    """A drill where the trainee types markup: a script tag, and Markdown table and emphasis syntax."""
    return drill(tmp_path, {
        "command": (150.0, CommandTaken(person=TRAINEE, text=f"I am the IC {XSS}"), TRAINEE),
        "objections": (480.0, ObjectionsCalled(call="o1", proposal="fail over | *now*", within=None, by=TRAINEE), TRAINEE),
        "decision": (540.0, DecisionRecorded(decision="fail over | *now*", decided_by=TRAINEE, author=TRAINEE), TRAINEE),
        "hint": (100.0, HintGiven(text="Ask **Priya** | quickly", cost=5.0, source="state degraded", to=TRAINEE), TRAINEE),
        "update": act(400.0, TRAINEE, IC, "post_update", audience="external", text=XSS),
    })  # fmt: skip


def test_the_report_lays_out_the_rubric(tmp_path: Path) -> None:
    hint = HintGiven(text="Look at the database", cost=5.0, source="state degraded", to=TRAINEE)
    j = drill(tmp_path, {"objections": None, "hint": (100.0, hint, TRAINEE)})
    score = score_training(j.events)
    md = render_training(j, score, "md")
    assert md.startswith("# Incident commander training: Dana\n")
    assert f"**{score.score:.1f} / 100**" in md and "2 of 5" in md and "training-checkout-db" in md
    assert "| Decisions time-boxed, strong objections asked for | missed |" in md
    assert "## What to practise next" in md
    assert "1. Decisions time-boxed, strong objections asked for (missed): Before deciding" in md
    assert "| +1m40s | Look at the database | 5 |" in md
    assert "| +1m00s | healthy | degraded | fault kill-primary injected | SEV2 |" in md
    assert f"- +2m30s (#{seq(j, CommandTaken)}, CommandTaken): Dana took command" in md
    assert "(100 × 7 points earned / 8 applicable items, less 5 for 1 hint)" in md
    html = render_training(j, score, "html")
    assert "<h1>Incident commander training: Dana</h1>" in html and 'id="item-decisions"' in html


def test_only_the_session_date_comes_from_the_wall_clock(tmp_path: Path) -> None:
    j = drill(tmp_path)
    score = score_training(j.events)
    for fmt in ("md", "html"):
        text = render_training(j, score, fmt)  # type: ignore[arg-type]
        assert re.findall(r"\d\d:\d\d:\d\d", text) == []
        assert score.started_wall[:10] in text


def test_html_escapes_what_the_trainee_typed(tmp_path: Path) -> None:
    j = hostile(tmp_path)
    html = render_training(j, score_training(j.events), "html")
    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_markdown_escapes_table_and_emphasis_syntax(tmp_path: Path) -> None:
    j = hostile(tmp_path)
    md = render_training(j, score_training(j.events), "md")
    assert "<script" not in md and "&lt;script&gt;" in md
    assert "fail over \\| \\*now\\*" in md
    assert "Ask \\*\\*Priya\\*\\* \\| quickly" in md
    assert "fail over | *now*" not in md
    for line in md.splitlines():  # every table row keeps its columns
        if line.startswith("| +1m40s"):
            assert re.sub(r"\\\|", "", line).count("|") == 4


def test_rendering_twice_gives_the_same_bytes(tmp_path: Path) -> None:
    j = hostile(tmp_path)
    for fmt in ("md", "html"):
        first = render_training(j, score_training(j.events), fmt)  # type: ignore[arg-type]
        again = render_training(j, score_training(j.events), fmt)  # type: ignore[arg-type]
        assert first == again


def test_a_journal_that_is_not_a_training_drill_is_refused(tmp_path: Path) -> None:
    j = drill(tmp_path)
    score = score_training(j.events)
    other = drill(tmp_path, {"training": None})
    with pytest.raises(JournalError, match="training drills"):
        training_context(other, score)
    with pytest.raises(ConfigError, match="unknown training report format"):
        render_training(j, score, "pdf")  # type: ignore[arg-type]


def test_a_project_template_overrides_a_block(tmp_path: Path) -> None:
    j = drill(tmp_path)
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "training.md.j2").write_text('{% extends "gameday/training.md.j2" %}{% block story %}## Our story\n'
                                           '{% endblock %}', encoding="utf-8")
    md = render_training(j, score_training(j.events), "md", templates_dir=folder)
    assert "## Our story" in md and "## The rubric" in md


def test_library_api(tmp_path: Path) -> None:
    j = drill(tmp_path)
    score = gameday.score_training(j)
    assert gameday.render_training(j, score, "md") == render_training(j, score, "md")


def test_outputs_put_the_training_report_beside_the_postmortem(tmp_path: Path) -> None:
    out = Outputs.for_drill(tmp_path, "d1", None)
    assert out.training_md == out.postmortem_md.with_name("training.md")
    assert out.training_html == out.postmortem_html.with_name("training.html")


def test_write_reports_writes_the_training_report(tmp_path: Path) -> None:
    out = Outputs.for_drill(tmp_path, "d1", tmp_path / "out")
    out.journal.parent.mkdir(parents=True)
    j = drill(tmp_path)
    out.journal.write_bytes(Path(j.path).read_bytes())
    lines: list[str] = []
    write_reports(out, "training", lines.append, "completed", None, None)
    assert out.training_md.read_text(encoding="utf-8") == render_training(j, score_training(j.events), "md")
    assert out.training_html.is_file()
    assert f"training:   {out.training_html}" in lines


def test_a_training_drill_stopped_before_its_trainee_came_writes_no_training_report(tmp_path: Path) -> None:
    out = Outputs.for_drill(tmp_path, "d1", tmp_path / "out")
    out.journal.parent.mkdir(parents=True)
    out.journal.write_bytes(Path(drill(tmp_path, {"training": None}).path).read_bytes())
    lines: list[str] = []
    write_reports(out, "training", lines.append, "completed", None, None)
    assert out.postmortem_md.is_file() and not out.training_md.exists()
    assert not any(line.startswith("training:") for line in lines)


def test_a_tabletop_journal_has_no_rubric(tmp_path: Path) -> None:
    sc = scenario()
    start = DrillStarted(drill_id="t1", mode="tabletop", scenario=sc, policy=DEFAULT_POLICY)
    j = write_journal(tmp_path / "j.jsonl", start, [act(10.0, "Sam", CL, "note", text="hello")])
    with pytest.raises(JournalError):
        score_training(j.events)
