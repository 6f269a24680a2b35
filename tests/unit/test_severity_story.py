"""One notion of the right severity over time (gameday.analysis.severity), for the rubric and the scorecard:
the timeline, the worst severity reached, the recovery anchor; and the scorecard of a drill whose simulation
escalated (a SEV2 that became a SEV1): the first classification judged at its own time, the final one against
the worst reached, executives due again on the escalation, the policy level shown with its own description."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from gameday.analysis.findings import action_items
from gameday.analysis.render import render_scorecard
from gameday.analysis.scorecard import score_journal
from gameday.analysis.severity import (
    has_simulation,
    recovery_event,
    right_severity_at,
    severity_changes,
    severity_timeline,
    worst_severity,
)
from gameday.fakes import ScriptedEvent, write_journal
from gameday.journal import Journal
from gameday.model.events import (
    ActionRecorded,
    DetectionRecorded,
    DrillEnded,
    DrillStarted,
    FaultInjected,
    RecoveryObserved,
    RoleAssigned,
    StateChanged,
    TrainingStarted,
)
from gameday.model.policy import DEFAULT_POLICY
from gameday.model.scenario import Scenario

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "training" / "training.scenario.yaml"
IC, TL, CL = "incident-commander", "tech-lead", "comms-lead"


def scenario(severity: str = "SEV2") -> Scenario:
    """The training fixture (degraded SEV2, after 10 min an outage SEV1, failover recovers), opening at ``severity``
    (its severity step expects that one too)."""
    sc = Scenario.model_validate(yaml.safe_load(FIXTURE.read_text(encoding="utf-8")))
    steps = [s.model_copy(update={"expect": severity}) if s.action == "set_severity" else s for s in sc.response]
    return sc.model_copy(update={"severity": severity, "response": steps})


def act(t: float, author: str, role: str | None, action: str, **extra: Any) -> ScriptedEvent:
    return (t, ActionRecorded(action=action, author=author, role=role, **extra), author)  # type: ignore[arg-type]


def state(t: float, src: str | None, dst: str, severity: str | None = None, impact: bool = True,
          recovered: bool = False) -> ScriptedEvent:
    return (t, StateChanged(from_state=src, to_state=dst, trigger="x", severity=severity, impact=impact,  # type: ignore[arg-type]
                            recovered=recovered), "simulator")  # fmt: skip


def story() -> dict[str, ScriptedEvent | None]:
    """Dana sets SEV2 while SEV2 is right, the outage makes it a SEV1 at +11m00s, she re-sets SEV1 and has the
    executives told again; the failover recovers it."""
    return {
        "training": (0.0, TrainingStarted(trainee="dana", seed=7, simulation=True), "conductor"),
        "ic": (0.0, RoleAssigned(person="dana", role=IC, by="training"), "conductor"),
        "healthy": state(0.0, None, "healthy", impact=False),
        "fault": (60.0, FaultInjected(fault="kill-primary", kind="experiment"), "simulator"),
        "degraded": state(60.0, "healthy", "degraded", "SEV2"),
        "detected": (120.0, DetectionRecorded(via="alert", alertname="CheckoutErrorsHigh", signal="checkout errors"),
                     "webhook"),
        "declare": act(130.0, "dana", IC, "declare_incident"),
        "sev2": act(140.0, "dana", IC, "set_severity", severity="SEV2"),
        "tl": (150.0, RoleAssigned(person="Priya", role=TL, by="dana"), "dana"),
        "cl": (150.0, RoleAssigned(person="Sam", role=CL, by="dana"), "dana"),
        "execs": act(200.0, "Sam", CL, "notify_executives", text="Checkout is degraded"),
        "update": act(210.0, "Sam", CL, "post_update", audience="external", text="Some orders fail"),
        "outage": state(660.0, "degraded", "outage", "SEV1"),
        "sev1": act(700.0, "dana", IC, "set_severity", severity="SEV1"),
        "execs2": act(760.0, "Sam", CL, "notify_executives", text="Checkout is down: SEV1"),
        "runbook": act(800.0, "Priya", TL, "runbook_started", runbook="failover"),
        "recovered": state(800.0, "outage", "recovered", impact=False, recovered=True),
        "observed": (805.0, RecoveryObserved(checks=["checkout health"]), "conductor"),
        "resolved": act(900.0, "dana", IC, "resolved"),
        "ended": (960.0, DrillEnded(outcome="completed"), "conductor"),
    }  # fmt: skip


def journal(tmp_path: Path, changes: dict[str, ScriptedEvent | None] | None = None, *, severity: str = "SEV2",
            simulated: bool = True) -> Journal:
    script = {**story(), **(changes or {})}
    events = sorted((e for e in script.values() if e is not None), key=lambda e: e[0])
    if not simulated:
        events = [e for e in events if not isinstance(e[1], StateChanged)]
    start = DrillStarted(drill_id="d-1", mode="training", scenario=scenario(severity), policy=DEFAULT_POLICY)
    return write_journal(tmp_path / f"journal-{len(list(tmp_path.glob('*.jsonl')))}.jsonl", start, events)


# ---------------------------------------------------------------- the timeline


def test_the_right_severity_follows_the_states_with_impact_and_never_goes_down_on_recovery(tmp_path: Path) -> None:
    j = journal(tmp_path)
    line = severity_timeline(j.started.data.scenario, j.events)
    assert has_simulation(j.events)
    assert [(p.t, p.severity) for p in line] == [(0.0, "SEV2"), (60.0, "SEV2"), (660.0, "SEV1")]
    assert right_severity_at(line, 30.0) == "SEV2"  # before any state with impact: the scenario's
    assert right_severity_at(line, 659.0) == "SEV2" and right_severity_at(line, 660.0) == "SEV1"
    assert right_severity_at(line, 950.0) == "SEV1"  # recovered at +13m20s: it stays what it was
    assert worst_severity(line) == "SEV1"
    assert [p.t for p in severity_changes(line)] == [660.0]
    outage = next(e for e in j.events if isinstance(e.data, StateChanged) and e.data.to_state == "outage")
    assert right_severity_at(line, 660.0, before_seq=outage.seq) == "SEV2"  # just before the event, by journal order


def test_a_state_without_impact_does_not_lower_the_right_severity(tmp_path: Path) -> None:
    j = journal(tmp_path, {"quiet": state(700.0, "outage", "mitigated", "SEV3", impact=False)})
    line = severity_timeline(j.started.data.scenario, j.events)
    assert right_severity_at(line, 750.0) == "SEV1"
    # a state with impact and no severity of its own: the scenario's
    j = journal(tmp_path, {"outage": state(660.0, "degraded", "outage")}, severity="SEV1")
    line = severity_timeline(j.started.data.scenario, j.events)
    assert [p.severity for p in line] == ["SEV1", "SEV2", "SEV1"] and worst_severity(line) == "SEV1"


def test_the_worst_reached_is_the_stories_not_the_scenarios_opening(tmp_path: Path) -> None:
    j = journal(tmp_path, {"outage": None, "recovered": state(800.0, "degraded", "recovered", impact=False,
                                                               recovered=True)}, severity="SEV1")
    assert worst_severity(severity_timeline(j.started.data.scenario, j.events)) == "SEV2"


def test_without_a_simulation_the_scenarios_severity_holds_throughout(tmp_path: Path) -> None:
    j = journal(tmp_path, simulated=False)
    line = severity_timeline(j.started.data.scenario, j.events)
    assert not has_simulation(j.events)
    assert [p.severity for p in line] == ["SEV2"] and worst_severity(line) == "SEV2"
    assert right_severity_at(line, 10_000.0) == "SEV2"


def test_recovery_is_the_simulations_recovered_state_not_a_recovery_observed(tmp_path: Path) -> None:
    # the probes see the steady state again in a no-impact state that is no recovery (+10m00s)
    j = journal(tmp_path, {"quiet": state(600.0, "degraded", "mitigated", impact=False),
                           "quiet-observed": (600.0, RecoveryObserved(checks=["checkout health"]), "conductor")})
    rec = recovery_event(j.events)
    assert rec is not None and isinstance(rec.data, StateChanged) and rec.t == 800.0
    plain = journal(tmp_path, simulated=False)
    rec = recovery_event(plain.events)
    assert rec is not None and isinstance(rec.data, RecoveryObserved) and rec.t == 805.0


# ---------------------------------------------------------------- the scorecard


def test_a_sev2_set_while_sev2_was_right_then_a_sev1_is_correct(tmp_path: Path) -> None:
    j = journal(tmp_path)
    card = score_journal(j)
    assert card.expected_severity == "SEV1"
    sev = card.severity
    assert (sev.first_declared, sev.first_expected, sev.final, sev.correct) == ("SEV2", "SEV2", "SEV1", True)
    assert sev.time_to_correct == 20.0  # detection +2m00s -> the SEV2 at +2m20s, right then
    assert sev.note.startswith("correct from the first classification")
    assert next(c.earned for c in card.score.components if c.name == "severity") == 1.0
    assert card.policy_rules[0] == f"SEV1: {DEFAULT_POLICY.levels['SEV1'].description}"
    # executives: SEV2's 30 min from the declaration, then SEV1's 5 min from the escalation (+11m00s)
    ex = card.executives
    assert (ex.verdict, ex.deadline_t, ex.notified_t) == ("on_time", 960.0, 760.0)
    assert "escalation to SEV1 at +11m00s" in ex.note
    assert not [f for f in card.failures if "everity" in f or "xecutives" in f]
    titles = [i.title for i in action_items(card, j)]
    assert not [t for t in titles if "from the start" in t or "severity" in t.lower()]


def test_executives_told_before_the_escalation_are_not_told_of_it(tmp_path: Path) -> None:
    card = score_journal(journal(tmp_path, {"execs2": None}))
    ex = card.executives
    assert (ex.verdict, ex.deadline_t, ex.notified_t) == ("missed", 960.0, None)
    told_late = score_journal(journal(tmp_path, {"execs2": act(1000.0, "Sam", CL, "notify_executives"),
                                                 "ended": (1100.0, DrillEnded(outcome="completed"), "conductor")}))
    assert (told_late.executives.verdict, told_late.executives.notified_t) == ("late", 1000.0)


def test_the_first_classification_is_judged_at_its_own_time(tmp_path: Path) -> None:
    card = score_journal(journal(tmp_path, {"sev2": act(140.0, "dana", IC, "set_severity", severity="SEV3")}))
    sev = card.severity
    assert (sev.first_declared, sev.first_expected, sev.final) == ("SEV3", "SEV2", "SEV1")
    assert sev.note == "first classified SEV3 while SEV2 was right, corrected to SEV1"
    assert next(c.earned for c in card.score.components if c.name == "severity") == 0.5
    titles = [i.title for i in action_items(card, journal(tmp_path, {"sev2": act(140.0, "dana", IC, "set_severity",
                                                                                 severity="SEV3")}))]
    assert "Classify this failure as SEV2 from the start" in titles


def test_an_escalation_after_the_final_classification_expects_a_reclassification(tmp_path: Path) -> None:
    card = score_journal(journal(tmp_path, {"sev1": None}))
    sev = card.severity
    assert (sev.final, sev.correct) == ("SEV2", False)
    assert sev.note == "classified SEV2; expected SEV1: expected a re-classification after the escalation to SEV1 at +11m00s"
    assert next(c.earned for c in card.score.components if c.name == "severity") == 0.0


def test_without_a_simulation_the_scorecard_is_as_before(tmp_path: Path) -> None:
    card = score_journal(journal(tmp_path, simulated=False))
    sev = card.severity
    assert card.expected_severity == "SEV2" and sev.first_expected is None
    assert (sev.first_declared, sev.final, sev.correct) == ("SEV2", "SEV1", False)
    assert sev.note == "classified SEV1; expected SEV2"
    assert "first_expected" not in json.loads(render_scorecard(card, "json"))["severity"]
    assert (card.executives.verdict, card.executives.note) == ("on_time", "SEV2: within 30m00s of declaration")
