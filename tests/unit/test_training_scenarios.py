"""The shipped training scenarios (``scenarios/training-*.yaml``) and their scripted trainees.

Each validates as ``gameday validate`` would (the simulation's machine included), has a
difficulty and a simulation that can recover, and its scripted trainee(s) in
``scenarios/responders/`` pass the responder check against it; the difficulties rise 1, 2, 3; and
at least one scenario has a branch where a runbook makes things worse.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from gameday.cli import main
from gameday.drill.responders import TRAINEE_ACTIONS, check_script, load_script
from gameday.loader import load_scenario
from gameday.model.scenario import Scenario
from gameday.model.terms import IC, SEVERITIES

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("training-*.yaml"))
RESPONDERS = ROOT / "scenarios" / "responders"


def _scripts(path: Path) -> list[Path]:
    """The scripted trainees of a training scenario: ``responders/<stem>.yaml`` and ``<stem>.*.yaml``."""
    return sorted([RESPONDERS / path.name, *RESPONDERS.glob(f"{path.stem}.*.yaml")])


def _scenario(path: Path) -> Scenario:
    return load_scenario(path).scenario


def _rank(severity: str) -> int:
    """Higher is worse: SEV1 -> 4 ... SEV4 -> 1."""
    return len(SEVERITIES) - [str(s) for s in SEVERITIES].index(severity)


def test_three_training_scenarios_are_shipped() -> None:
    assert len(SCENARIOS) >= 3, SCENARIOS


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_it_validates_with_its_scripts(path: Path) -> None:
    result = CliRunner().invoke(main, ["validate", str(path), *map(str, _scripts(path))])
    assert result.exit_code == 0, result.output + result.stderr
    assert "Traceback" not in result.output + result.stderr


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_it_is_a_training_scenario(path: Path) -> None:
    scenario = _scenario(path)
    assert scenario.difficulty is not None
    assert scenario.roles == [IC, "tech-lead", "comms-lead"]
    sim = scenario.simulation
    assert sim is not None
    assert any(state.recovered for state in sim.states.values())
    assert {p.role for p in scenario.training.responders} == {"tech-lead", "comms-lead"}
    actions = {step.action for step in scenario.response}
    assert {"acknowledge", "declare_incident", "set_severity", "notify_executives", "post_update", "runbook",
            "resolved"} <= actions
    assert any(step.every for step in scenario.response), "a status update cadence ('every:')"
    assert scenario.abort.max_duration <= 45 * 60, "short enough for a quick headless run"
    for state in sim.states.values():
        if state.impact:
            assert state.reports, f"every role has something to report in {state.description!r}"


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_its_scripted_trainees_pass_the_check(path: Path) -> None:
    scenario = _scenario(path)
    scripts = _scripts(path)
    assert scripts[0].exists(), f"no scripted trainee {scripts[0]}"
    for script in scripts:
        assert check_script(script, scenario) == [], script
        people, actions = load_script(script, scenario)
        assert [role for _, role in people] == [IC], "the trainee holds the incident commander's role; the rest are simulated"
        assert any(a.action in TRAINEE_ACTIONS for a in actions)


def test_the_good_scripts_never_run_a_runbook_themselves() -> None:
    for path in SCENARIOS:
        _, actions = load_script(RESPONDERS / path.name, _scenario(path))
        assert not [a for a in actions if a.action == "runbook"], path
        assert any(a.instruction is not None and a.instruction.kind == "runbook" for a in actions), path


def test_the_weak_script_goes_hands_on() -> None:
    path = ROOT / "scenarios" / "training-1-checkout-api-hang.yaml"
    _, actions = load_script(RESPONDERS / "training-1-checkout-api-hang.weak.yaml", _scenario(path))
    assert any(a.action == "runbook" for a in actions)
    assert not any(a.action == "set_severity" for a in actions)
    assert all(a.instruction.within is None for a in actions if a.instruction is not None and a.action == "assign_task")


def test_difficulties_are_distinct_and_rising() -> None:
    difficulties = [_scenario(p).difficulty or 0 for p in SCENARIOS]
    assert difficulties == sorted(difficulties) and len(set(difficulties)) == len(difficulties)
    assert difficulties[:3] == [1, 2, 3]


def _severity(scenario: Scenario, state: str) -> str:
    """The right severity in a state of the scenario's simulation (its own, else the scenario's)."""
    assert scenario.simulation is not None
    return scenario.simulation.states[state].severity or scenario.severity


def test_a_wrong_runbook_makes_things_worse_somewhere() -> None:
    worse = []
    for path in SCENARIOS:
        scenario = _scenario(path)
        sim = scenario.simulation
        assert sim is not None
        for tr in sim.transitions:
            if tr.when is None or tr.when.runbook is None:
                continue
            for src in tr.from_:
                if sim.states[tr.to].impact and _rank(_severity(scenario, tr.to)) > _rank(_severity(scenario, src)):
                    worse.append((path.stem, src, tr.to, tr.when.runbook))
    assert worse, "no scenario has a runbook that moves the system into a worse state"
    assert ("training-3-checkout-cascade", "degraded", "worse", "restart-database") in worse


def test_the_hardest_calls_for_a_handover_and_has_executive_pressure() -> None:
    scenario = _scenario(SCENARIOS[-1])
    assert scenario.training.handover is not None
    assert any(i.channel == "chat" and i.to == IC for i in scenario.injects)
    _, actions = load_script(RESPONDERS / SCENARIOS[-1].name, scenario)
    assert any(a.action == "handover" for a in actions)
