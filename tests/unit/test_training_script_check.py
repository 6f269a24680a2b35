"""A scripted trainee's file checked against its scenario (:func:`gameday.drill.responders.check_script`):
``people:`` holds exactly one incident commander (the trainee), and every ``to:`` of ``assign_task``,
``assign_role`` and ``handover`` is someone the drill will have: a simulated responder, the scenario's
incoming incident commander, or one of ``people:``. Each problem located; ``gameday validate`` reports them."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from scenario_texts import process_scenario

from gameday.cli import main
from gameday.drill.responders import check_script
from gameday.loader import load_scenario
from gameday.model.scenario import Scenario

SCENARIO = process_scenario("script-check", "A training scenario") + """\
simulation:
  initial: healthy
  states:
    healthy: {impact: false}
    broken: {severity: SEV2}
    recovered: {impact: false, recovered: true}
  transitions:
    - {from: healthy, to: broken, when: {fault: stop-worker}}
    - {from: broken, to: recovered, when: {runbook: restart}}
training:
  responders:
    - {name: Priya, role: tech-lead}
"""
HANDOVER = "  handover: {to: Morgan, after: recovery}\n"
SCRIPT = """\
people:
  dana: incident-commander
actions:
  - {as: dana, action: take_command, after: detection}
  - {as: dana, action: assign_role, to: Priya, role: tech-lead, after: detection, delay: 5s}
  - {as: dana, action: assign_task, to: Sam, task: investigate, after: detection, delay: 10s}
  - {as: dana, action: resolved, after: recovery}
"""


def scenario(tmp_path: Path, text: str = SCENARIO) -> Scenario:
    path = tmp_path / "sc.yaml"
    path.write_text(text)
    return load_scenario(path).scenario


def check(tmp_path: Path, script: str, text: str = SCENARIO) -> list[str]:
    path = tmp_path / "trainee.yaml"
    path.write_text(script)
    return [f"{p.line}:{p.column}: {p.path}: {p.message}" for p in check_script(path, scenario(tmp_path, text))]


def test_a_good_scripted_trainee_passes(tmp_path: Path) -> None:
    assert check(tmp_path, SCRIPT) == []


def test_two_incident_commanders_are_named(tmp_path: Path) -> None:
    script = SCRIPT.replace("people:\n  dana: incident-commander\n",
                            "people:\n  alex: incident-commander\n  bob: incident-commander\n").replace("dana", "alex")
    assert check(tmp_path, script) == [
        "2:3: people: a scripted trainee's people: has exactly one incident-commander (the trainee): found 'alex', 'bob'"]


def test_no_incident_commander(tmp_path: Path) -> None:
    script = SCRIPT.replace("  dana: incident-commander\n", "  dana: comms-lead\n")
    assert check(tmp_path, script) == [
        "2:3: people: a scripted trainee's people: has exactly one incident-commander (the trainee): found none"]


def test_no_people_at_all(tmp_path: Path) -> None:
    script = SCRIPT.replace("people:\n  dana: incident-commander\n", "")
    assert check(tmp_path, script) == [
        "1:1: people: a scripted trainee's people: has exactly one incident-commander (the trainee): found none"]


def test_a_task_for_someone_the_drill_will_not_have(tmp_path: Path) -> None:
    script = SCRIPT.replace("to: Sam, task", "to: Zed, task")
    assert check(tmp_path, script) == [("6:41: actions[2].to: no one named 'Zed' in this drill (simulated responders: "
                                       "Priya, Sam)")]


def test_a_role_for_someone_the_drill_will_not_have(tmp_path: Path) -> None:
    script = SCRIPT.replace("to: Priya, role", "to: Pria, role")
    assert check(tmp_path, script) == [("5:41: actions[1].to: no one named 'Pria' in this drill (simulated responders: "
                                       "Priya, Sam)")]


def test_names_compare_without_case_or_runs_of_whitespace(tmp_path: Path) -> None:
    script = SCRIPT.replace("to: Priya, role", "to: '  PRIYA ', role").replace("to: Sam, task", "to: sAm, task")
    assert check(tmp_path, script) == []


def test_a_handover_to_the_scenarios_incoming_commander(tmp_path: Path) -> None:
    handover = "  - {as: dana, action: handover, to: morgan, text: all calm, after: recovery}\n"
    assert check(tmp_path, SCRIPT + handover, SCENARIO + HANDOVER) == []
    assert check(tmp_path, SCRIPT + handover) == [
        "8:38: actions[4].to: no one named 'morgan' in this drill (simulated responders: Priya, Sam)"]
    assert check(tmp_path, SCRIPT + handover.replace("morgan", "Kai"), SCENARIO + HANDOVER) == [
        ("8:38: actions[4].to: no one named 'Kai' in this drill (simulated responders: Priya, Sam; the incoming "
        "incident commander: Morgan)")]


def test_a_person_of_people_may_be_given_a_task(tmp_path: Path) -> None:
    script = SCRIPT.replace("  dana: incident-commander\n", "  dana: incident-commander\n  bob: tech-lead\n")
    assert check(tmp_path, script.replace("to: Sam, task", "to: Bob, task")) == []
    assert check(tmp_path, script.replace("to: Sam, task", "to: Zed, task")) == [
        "7:41: actions[2].to: no one named 'Zed' in this drill (simulated responders: Priya, Sam; people: bob)"]


def test_a_trainee_called_like_a_simulated_responder(tmp_path: Path) -> None:
    script = SCRIPT.replace("dana", "priya")
    assert check(tmp_path, script) == [
        ("2:10: people.priya: the trainee 'priya' has the name of a simulated responder of this scenario (or of its "
        "incoming incident commander): choose another name")]


def test_a_file_of_scripted_responders_is_not_a_trainees(tmp_path: Path) -> None:
    """No trainee actions: a ci drill's roster and names are its own (anyone may be assigned a role)."""
    script = "people:\n  alex: tech-lead\nactions:\n  - {as: alex, action: assign_role, to: Zed, role: comms-lead}\n"
    assert check(tmp_path, script) == []


def test_with_type_errors_the_names_are_still_checked(tmp_path: Path) -> None:
    script = SCRIPT.replace("to: Sam, task", "to: Zed, task").replace("delay: 5s", "delay: soon")
    found = check(tmp_path, script)
    assert "6:41: actions[2].to: no one named 'Zed' in this drill (simulated responders: Priya, Sam)" in found
    assert any(line.startswith("5:") and "delay" in line for line in found), found


@pytest.mark.parametrize("edit,says", [
    (("to: Sam, task", "to: Zed, task"), "responders/trainee.yaml:6:41: actions[2].to: no one named 'Zed' in this drill"),
    (("  dana: incident-commander\n", "  dana: comms-lead\n"),
     "responders/trainee.yaml:2:3: people: a scripted trainee's people: has exactly one incident-commander"),
])
def test_gameday_validate_reports_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edit: tuple[str, str],
                                       says: str) -> None:
    (tmp_path / "responders").mkdir()
    (tmp_path / "sc.yaml").write_text(SCENARIO + "responders: responders/trainee.yaml\n")
    (tmp_path / "responders" / "trainee.yaml").write_text(SCRIPT.replace(*edit))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["validate", "--recursive", "."])
    lines = (result.stdout + result.stderr).splitlines()
    assert result.exit_code == 2 and "Traceback" not in "\n".join(lines)
    assert [line for line in lines if line.startswith("responders/")] == [line for line in lines if says in line], lines
    assert len([line for line in lines if says in line]) == 1, lines
