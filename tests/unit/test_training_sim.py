"""A training drill's simulator: the state machine, the seeded simulated responders, the trainee's desk,
the story told at its own times whatever the pace, and the state machine's checks in ``validate``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from gameday.clock import InstantClock, PacedClock, SystemClock
from gameday.drill.assemble import DrillOptions, Factories, assemble, run_drill
from gameday.errors import ConfigError, ScenarioError
from gameday import score
from gameday.journal import read_journal
from gameday.loader import load_project, load_scenario
from gameday.model import events as ev
from gameday.model.events import Event, Payload
from gameday.sim.msel import ExerciseError

ROOT = Path(__file__).resolve().parents[2]
FIX = ROOT / "tests" / "fixtures" / "training_sim"
SCENARIO = FIX / "scenario.yaml"
TRAINEE = FIX / "trainee.yaml"


def kinds[P: Payload](events: list[Event[Payload]], kind: type[P]) -> list[Event[P]]:
    return [e for e in events if isinstance(e.data, kind)]  # type: ignore[misc]


def script(tmp: Path, actions: list[dict[str, Any]], name: str = "dana") -> Path:
    path = tmp / "trainee.yaml"
    path.write_text(yaml.safe_dump({"people": {name: "incident-commander"}, "actions": actions}))
    return path


def headless(tmp: Path, responders: Path | None = TRAINEE, *, scenario: Path = SCENARIO, seed: int = 7,
             clock: Any = None, pace: str = "instant", out: str = "out") -> list[Event[Payload]]:
    options = DrillOptions(mode="training", trainee="dana", seed=seed, pace=pace, out=tmp / out, responders=responders,
                           web=False)
    run_drill(scenario, options, clock=clock or InstantClock(), factories=Factories().without_services(),
              echo=lambda line: None)
    return read_journal(tmp / out / "journal.jsonl").events


def story(events: list[Event[Payload]]) -> list[tuple[float, str, str, str]]:
    """The journal without its wall times and drill ids: what replaying must give again."""
    out = []
    for e in events:
        if isinstance(e.data, ev.DrillStarted | ev.PaceSet):
            continue
        out.append((e.t, e.kind, e.source, e.data.model_dump_json()))
    return out


@pytest.fixture(autouse=True)
def _here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def test_a_scripted_trainee_runs_the_incident_and_the_responders_answer(tmp_path: Path) -> None:
    events = headless(tmp_path)
    started = kinds(events, ev.TrainingStarted)[0].data
    assert (started.trainee, started.seed, [p.name for p in started.responders]) == ("dana", 7, ["Priya", "Sam"])
    assert [e.data.to_state for e in kinds(events, ev.StateChanged)] == [
        "healthy", "degraded", "failing-over", "recovered"]
    # the trainee holds command from the start, by the training; the responders join with no role
    first_ic = kinds(events, ev.RoleAssigned)[0].data
    assert (first_ic.person, first_ic.role, first_ic.by) == ("dana", "incident-commander", "training")
    assert all(e.data.role is None for e in kinds(events, ev.ResponderJoined))
    # each task is answered by the person it was given to, after it was given
    tasks = {e.data.task: e for e in kinds(events, ev.TaskAssigned)}
    for rep in kinds(events, ev.TaskReported):
        assert rep.data.by == tasks[rep.data.task].data.to and rep.t > tasks[rep.data.task].t
    finding = next(e.data.text for e in kinds(events, ev.TaskReported) if e.data.status == "finding")
    assert finding == "The primary does not answer. The replica is 4 s behind."
    # the failover ran as the tech lead (Priya), not as the trainee, and moved the simulation
    started_rb = next(e for e in kinds(events, ev.ActionRecorded) if e.data.action == "runbook_started")
    assert (started_rb.data.author, started_rb.data.role) == ("Priya", "tech-lead")
    move = next(e.data for e in kinds(events, ev.StateChanged) if e.data.to_state == "failing-over")
    assert move.cause_seq == started_rb.seq and move.trigger == "runbook failover started by Priya"
    # the tech lead objects in the degraded state; the comms lead does not
    voiced = {e.data.by: e.data for e in kinds(events, ev.ObjectionVoiced)}
    assert voiced["Priya"].strong and not voiced["Sam"].strong
    # recovery clears the shadow and settles the fault; the handover is formal and confirmed
    assert kinds(events, ev.ShadowCleared)[0].data.reason == "simulation"
    assert kinds(events, ev.FaultRolledBack)[0].data.reason == "cleared"
    handed = kinds(events, ev.CommandHandedOver)[0]
    assert (handed.data.outgoing, handed.data.incoming) == ("dana", "Morgan")
    assert kinds(events, ev.DrillEnded)[0].data.outcome == "completed"
    card = score(read_journal(tmp_path / "out" / "journal.jsonl"))
    assert (card.expected_severity, card.severity.final, card.severity.correct) == ("SEV2", "SEV2", True)


def test_a_replay_with_the_same_seed_tells_the_same_story(tmp_path: Path) -> None:
    assert story(headless(tmp_path, out="a")) == story(headless(tmp_path, out="b"))
    other = story(headless(tmp_path, out="c", seed=8))
    assert other != story(headless(tmp_path, out="d"))  # the seed changes when the responders answer


def test_the_pace_does_not_change_the_story(tmp_path: Path) -> None:
    """At x2000 on the real clock the drill's thread wakes late by a few scenario seconds each time; what
    falls due is journaled at its own offset all the same."""
    instant = story(headless(tmp_path, out="instant"))
    events = headless(tmp_path, out="paced", clock=PacedClock(SystemClock(), 2000.0), pace="45m:1.35s")
    assert story(events) == instant
    # the wall clock of a paced story runs forwards too: a late item is dated by the wall time its offset took
    walls = [e.wall for e in events]
    assert walls == sorted(walls)


def test_simulated_responders_do_nothing_they_were_not_asked(tmp_path: Path) -> None:
    idle = script(tmp_path, [{"as": "dana", "action": "acknowledge", "after": "detection", "delay": "1m"}])
    events = headless(tmp_path, idle)
    personas = {"Priya", "Sam"}
    assert not [e for e in events if e.source in personas and not isinstance(e.data, ev.ResponderJoined)]
    # unmitigated: the simulation escalates on time, with what everyone is told, and never recovers
    moves = [e.data for e in kinds(events, ev.StateChanged)]
    assert [m.to_state for m in moves] == ["healthy", "degraded", "outage"]
    assert moves[2].trigger == "10m00s in degraded" and moves[2].message == "Checkout errors now at 100%."
    assert moves[2].severity == "SEV1" and moves[1].severity == "SEV2"
    escalated = kinds(events, ev.StateChanged)[2].t - kinds(events, ev.StateChanged)[1].t
    assert escalated == pytest.approx(600.0)
    assert kinds(events, ev.DrillEnded)[0].data.reason.startswith("scenario time is up")
    # the scorecard expects the severity the story reached (SEV1), not the scenario's opening SEV2
    assert score(read_journal(tmp_path / "out" / "journal.jsonl")).expected_severity == "SEV1"


def test_a_wrong_runbook_makes_it_worse_and_the_right_one_recovers(tmp_path: Path) -> None:
    wrong = script(tmp_path, [
        {"as": "dana", "action": "take_command", "after": "detection", "delay": "30s"},
        {"as": "dana", "action": "assign_role", "to": "Priya", "role": "tech-lead", "after": "detection", "delay": "40s"},
        {"as": "dana", "action": "assign_task", "to": "Priya", "task": "runbook", "runbook": "restart-db", "within": "5m",
         "after": "detection", "delay": "1m"},
        {"as": "dana", "action": "assign_task", "to": "Priya", "task": "runbook", "runbook": "restore", "within": "5m",
         "after": "state:worse", "delay": "2m"},
        {"as": "dana", "action": "resolved", "after": "recovery", "delay": "1m"},
    ])
    events = headless(tmp_path, wrong)
    moves = kinds(events, ev.StateChanged)
    assert [m.data.to_state for m in moves] == ["healthy", "degraded", "worse", "failing-over", "recovered"]
    worse = moves[2]
    assert worse.data.message == "The replica stops answering too."
    # the worse state's alert came through the intake's matching, from the simulator
    alert = next(e for e in kinds(events, ev.AlertReceived) if e.t == worse.t and e.seq > worse.seq)
    assert alert.source == "simulator" and alert.data.alerts[0].alertname == "ReplicaCorrupt"
    # the script's 'state:worse' anchor: the restore task two minutes after the simulation got worse
    restore = next(e for e in kinds(events, ev.TaskAssigned) if e.data.runbook == "restore")
    assert restore.t == pytest.approx(worse.t + 120.0)


def test_answers_to_a_task_without_a_time_box_or_an_unknown_runbook(tmp_path: Path, monkeypatch) -> None:
    loaded = load_scenario(SCENARIO)
    opts = DrillOptions(mode="training", trainee="dana", seed=1, pace="instant", out=tmp_path / "o", web=False)
    with assemble(load_project(tmp_path), loaded, opts, clock=InstantClock(), factories=Factories().without_services(),
                  echo=lambda line: None) as drill:
        desk = drill.context.training
        assert desk is not None

        def moves(c) -> None:  # on the drill's thread, once it has started
            desk.take_command("dana", "I have command")
            desk.assign_task("dana", "Sam", "other", "Find the status page login")
            with pytest.raises(ExerciseError) as refused:
                desk.assign_task("dana", "Priya", "runbook", runbook="reboot-everything", within=60)
            assert refused.value.status == 404
            for bad, status in (({"kind": "dance"}, 422), ({"kind": "update"}, 422), ({"kind": "runbook"}, 422),
                                ({"kind": "other", "within": 0}, 422), ({"kind": "other", "to": "\x1b[31m"}, 422)):
                kw = {"to": "Sam", **bad}
                with pytest.raises(ExerciseError) as exc:
                    desk.assign_task("dana", kw.pop("to"), **kw)
                assert exc.value.status == status
            with pytest.raises(ExerciseError) as exc:
                desk.take_command("Sam")
            assert exc.value.status == 409
            with pytest.raises(ExerciseError) as exc:
                desk.hand_over("Sam", "Morgan", "brief")
            assert exc.value.status == 409
            desk.hint("dana")

        drill.conductor.submit(moves)
        drill.play()
        events = drill.journal.events
    answers = [e.data for e in kinds(events, ev.TaskReported)]
    assert answers[0].status == "question" and "By when" in answers[0].text
    assert answers[-1].status == "done" and answers[-1].text == "Done: Find the status page login"
    hint = kinds(events, ev.HintGiven)[0].data
    assert hint.cost == 5.0 and hint.to == "dana" and hint.text


def test_training_without_a_simulation_plays_the_tabletop_story(tmp_path: Path) -> None:
    plain = tmp_path / "plain.yaml"
    data = _absolute(yaml.safe_load(SCENARIO.read_text()))
    del data["simulation"]
    data["training"].pop("handover")
    plain.write_text(yaml.safe_dump(data))
    trainee = script(tmp_path, [
        {"as": "dana", "action": "take_command", "after": "detection", "delay": "30s"},
        {"as": "dana", "action": "assign_task", "to": "Priya", "task": "runbook", "runbook": "failover", "within": "5m",
         "after": "detection", "delay": "1m"},
        {"as": "dana", "action": "resolved", "after": "recovery", "delay": "1m"},
    ])
    events = headless(tmp_path, trainee, scenario=plain)
    assert not kinds(events, ev.StateChanged)
    assert kinds(events, ev.ShadowCleared)[0].data.reason == "runbook"  # the runbook in the story is the fix
    assert kinds(events, ev.RecoveryObserved)


@pytest.mark.parametrize(("options", "message"), [
    (DrillOptions(mode="training", web=False), "needs --trainee NAME"),
    (DrillOptions(mode="ci", trainee="dana"), "--trainee goes with --mode training"),
    (DrillOptions(mode="gameday", live=True), "--live goes with --mode training"),
    (DrillOptions(mode="training", trainee="Priya", web=False), "is the name of a simulated responder"),
    (DrillOptions(mode="training", trainee="automation", web=False), "reserved"),
    (DrillOptions(mode="training", trainee="dana", live=True, pace="4h:45m"), "--pace goes with"),
])  # fmt: skip
def test_bad_training_options_are_refused(tmp_path: Path, options: DrillOptions, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        run_drill(SCENARIO, options, factories=Factories().without_services(), echo=lambda line: None)


def test_a_scripted_trainee_must_be_the_trainee(tmp_path: Path) -> None:
    options = DrillOptions(mode="training", trainee="Dana", pace="instant", responders=TRAINEE, web=False)
    with pytest.raises(ConfigError, match="its incident commander is 'dana', but --trainee is 'Dana'"):
        run_drill(SCENARIO, options, clock=InstantClock(), factories=Factories().without_services(), echo=lambda line: None)
    ci = DrillOptions(mode="tabletop", pace="instant", responders=TRAINEE, web=False)
    with pytest.raises(ConfigError, match="for --mode training"):
        run_drill(SCENARIO, ci, clock=InstantClock(), factories=Factories().without_services(), echo=lambda line: None)


def _absolute(data: dict[str, Any]) -> dict[str, Any]:
    """The scenario's experiments by absolute path, so a copy in another folder still finds them."""
    for item in [*data["faults"], *data["runbooks"].values()]:
        item["experiment"] = str(ROOT / item["experiment"])
    return data


def _broken(tmp: Path, edit) -> list[str]:
    data = _absolute(yaml.safe_load(SCENARIO.read_text()))
    edit(data["simulation"])
    path = tmp / "broken.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(ScenarioError) as exc:
        load_scenario(path)
    return [f"{p.path}: {p.message}" for p in exc.value.problems]


def test_validate_finds_unreachable_states_dead_ends_and_no_way_to_recover(tmp_path: Path) -> None:
    def unreachable(sim):
        sim["states"]["limbo"] = {"description": "nobody gets here", "impact": True}
        sim["transitions"].append({"from": "limbo", "to": "recovered", "after": "1m"})

    assert any(p.startswith("simulation.states.limbo: unreachable") for p in _broken(tmp_path, unreachable))

    def dead_end(sim):
        sim["transitions"] = [t for t in sim["transitions"] if t["from"] != "worse"]

    assert any(p.startswith("simulation.states.worse: a dead end") for p in _broken(tmp_path, dead_end))

    def trapped(sim):
        sim["states"]["loop-a"] = {"impact": True}
        sim["states"]["loop-b"] = {"impact": True}
        sim["transitions"] += [{"from": "worse", "to": "loop-a", "after": "1m"},
                               {"from": "loop-a", "to": "loop-b", "after": "1m"},
                               {"from": "loop-b", "to": "loop-a", "after": "1m"}]

    problems = _broken(tmp_path, trapped)
    assert any(p.startswith("simulation.states.loop-a: no path from here to a recovered state") for p in problems)

    def no_goal(sim):
        sim["states"]["recovered"]["recovered"] = False

    assert "simulation.states: no state is 'recovered: true': the incident could never end" in _broken(tmp_path, no_goal)

    def bad_refs(sim):
        sim["initial"] = "nowhere"
        sim["transitions"][0]["when"] = {"fault": "no-such-fault"}
        sim["transitions"][2]["when"] = {"runbook": "no-such-runbook"}
        sim["states"]["degraded"]["reports"]["janitor"] = "?"

    problems = _broken(tmp_path, bad_refs)
    for expected in ("simulation.initial: no state named 'nowhere'",
                     "simulation.transitions[0].when.fault: no fault named 'no-such-fault'",
                     "simulation.transitions[2].when.runbook: no runbook named 'no-such-runbook' (the scenario's runbooks: "
                     "failover, restart-db, restore)",
                     "simulation.states.degraded.reports.janitor: role 'janitor' is not one of the scenario's roles"):
        assert expected in problems


def test_a_tabletop_of_a_scenario_with_a_simulation_plays_its_state_machine(tmp_path: Path) -> None:
    players = tmp_path / "players.yaml"
    players.write_text(yaml.safe_dump({"people": {"alice": "incident-commander", "bob": "tech-lead"}, "actions": [
        {"as": "bob", "action": "runbook", "runbook": "restart-db", "after": "detection", "delay": "2m"},
        {"as": "bob", "action": "runbook", "runbook": "restore", "after": "state:worse", "delay": "3m"},
        {"as": "alice", "action": "resolved", "after": "recovery", "delay": "1m"}]}))
    options = DrillOptions(mode="tabletop", pace="instant", out=tmp_path / "out", responders=players, web=False)
    run_drill(SCENARIO, options, clock=InstantClock(), factories=Factories().without_services(), echo=lambda line: None)
    events = read_journal(tmp_path / "out" / "journal.jsonl").events
    assert [e.data.to_state for e in kinds(events, ev.StateChanged)] == [
        "healthy", "degraded", "worse", "failing-over", "recovered"]
    # a runbook does not clear the shadow by itself when a simulation decides what it does
    cleared = kinds(events, ev.ShadowCleared)
    assert [c.data.reason for c in cleared] == ["simulation"]
    assert not kinds(events, ev.TrainingStarted)  # no trainee, no simulated responders


def test_train_report_rescores_a_journal_to_the_same_bytes(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from gameday.cli import main

    headless(tmp_path)
    out = tmp_path / "out"
    runner = CliRunner()
    md = runner.invoke(main, ["train", "report", str(out / "journal.jsonl")])
    assert md.exit_code == 0 and md.output == (out / "training.md").read_text()
    html = runner.invoke(main, ["train", "report", str(out / "journal.jsonl"), "--format", "html", "-o", str(tmp_path / "r.html")])
    assert html.exit_code == 0 and (tmp_path / "r.html").read_bytes() == (out / "training.html").read_bytes()
    rubric = runner.invoke(main, ["train", "report", str(out / "journal.jsonl"), "--format", "json"])
    assert rubric.exit_code == 0 and json.loads(rubric.output)["trainee"] == "dana"
    options = DrillOptions(mode="tabletop", pace="instant", out=tmp_path / "tt", web=False)
    run_drill(SCENARIO, options, clock=InstantClock(), factories=Factories().without_services(), echo=lambda line: None)
    refused = runner.invoke(main, ["train", "report", str(tmp_path / "tt" / "journal.jsonl")])
    assert refused.exit_code == 2 and "has no TrainingStarted" in refused.output


def test_a_panel_follows_the_simulation_state(tmp_path: Path) -> None:
    from gameday.sim.shadow import implied_series

    events = headless(tmp_path)
    sc = load_scenario(SCENARIO).scenario
    moves = {e.data.to_state: e.t for e in kinds(events, ev.StateChanged)}
    series = implied_series(sc, "kill-primary", events, until=moves["recovered"] + 60)
    points = series[0].points
    assert points[0] == (0.0, 100.0) and points[-1][1] == 100.0
    assert (moves["degraded"], 0.0) in points and (moves["recovered"], 100.0) in points
    # before the story recovered, the panel shows the checks failing
    mid = implied_series(sc, "kill-primary", events, until=moves["failing-over"])[0].points
    assert mid[-1] == (moves["failing-over"], 0.0)


def test_an_interrupted_training_is_aborted_not_completed(tmp_path: Path) -> None:
    """A tabletop interrupted ends and is scored; a training session interrupted must not count as completed
    on the trainee's ladder: it is aborted (and still reported)."""
    loaded = load_scenario(SCENARIO)
    opts = DrillOptions(mode="training", trainee="dana", seed=1, pace="instant", out=tmp_path / "o", web=False,
                        responders=TRAINEE)
    with assemble(load_project(tmp_path), loaded, opts, clock=InstantClock(), factories=Factories().without_services(),
                  echo=lambda line: None) as drill:
        drill.conductor.submit(lambda c: c.abort("signal: SIGINT"))
        result = drill.play()
        events = drill.journal.events
    assert result.outcome == "aborted"
    assert kinds(events, ev.DrillAborted)[0].data.reason == "signal: SIGINT"
    assert kinds(events, ev.DrillEnded)[0].data.outcome == "aborted"


def test_only_whoever_holds_command_instructs(tmp_path: Path) -> None:
    loaded = load_scenario(SCENARIO)
    opts = DrillOptions(mode="training", trainee="dana", seed=1, pace="instant", out=tmp_path / "o", web=False)
    with assemble(load_project(tmp_path), loaded, opts, clock=InstantClock(), factories=Factories().without_services(),
                  echo=lambda line: None) as drill:
        desk = drill.context.training
        assert desk is not None
        statuses: list[int] = []

        def moves(c) -> None:
            desk.hand_over("dana", "Morgan", "Morgan has it now")
            for attempt in (lambda: desk.assign_task("dana", "Priya", "investigate", within=60),
                            lambda: desk.call_objections("dana", "Fail over", within=60),
                            lambda: desk.decide("dana", "Fail over")):
                try:
                    attempt()
                except ExerciseError as exc:
                    statuses.append(exc.status)
            c.end("done")

        drill.conductor.submit(moves)
        drill.play()
    assert statuses == [409, 409, 409]  # dana handed command to Morgan: her instructions are refused


def test_a_live_story_never_holds_the_drill_open() -> None:
    from gameday.sim.statemachine import StateMachine

    sc = load_scenario(SCENARIO).scenario
    assert sc.simulation is not None
    live = StateMachine(sc, sc.simulation, deliver_alerts=False)  # no shadows: the real system's probes decide
    live.current = "degraded"
    assert not live.keeps_open()
