"""Scripted responder files: complete actions, real anchors, no posing as the tool; located problems."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from gameday.drill.responders import check_script, load_script
from gameday.errors import ScenarioError
from gameday.model.events import ActionDetails
from gameday.model.scenario import Scenario

SCENARIO = Path(__file__).resolve().parents[1] / "fixtures" / "conductor" / "basic.yaml"


def scenario() -> Scenario:
    return Scenario.model_validate(yaml.safe_load(SCENARIO.read_text()))


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "script.yaml"
    path.write_text(text)
    return path


def test_a_good_script_loads_roster_and_actions(tmp_path):
    path = write(tmp_path, "people: {alice: incident-commander}\n"
                           "actions:\n  - {as: alice, action: set_severity, severity: SEV1, after: ack, delay: 1s}\n")
    roster, actions = load_script(path, scenario())
    assert roster == [("alice", "incident-commander")]
    assert actions[0].after == "ack" and actions[0].delay == 1.0 and actions[0].details == ActionDetails(severity="SEV1")


@pytest.mark.parametrize("line, where, what", [
    ("{as: alice, action: set_severity, after: detection}", "4:5", "needs 'severity'"),
    ("{as: alice, action: assign_role, to: bob, after: detection}", "4:5", "needs 'role'"),
    ("{as: automation, action: acknowledge}", "4:10", "reserved for the tool itself"),
    ("{as: alice, action: acknowledge, after: detectoin}", "4:45", "no anchor or step named 'detectoin'"),
    ("{as: alice, action: runbook, runbook: nope}", "4:43", "no runbook 'nope'"),
])
def test_bad_scripts_are_refused_with_a_located_problem(tmp_path, line, where, what):
    path = write(tmp_path, f"people: {{alice: incident-commander}}\n# a comment\nactions:\n  - {line}\n")
    problems = check_script(path, scenario())
    assert problems, line
    first = str(problems[0])
    assert first.startswith(f"{path}:{where}:") and what in first
    with pytest.raises(ScenarioError):
        load_script(path, scenario())


def test_a_role_the_scenario_does_not_have_is_refused(tmp_path):
    path = write(tmp_path, "people: {alice: ops-wizard}\n")
    assert "is not one of the scenario's roles" in str(check_script(path, scenario())[0])


def test_type_errors_and_reference_problems_come_together(tmp_path):
    """A bad duration does not hide a dangling anchor or an unknown runbook in the same file."""
    path = write(tmp_path, "people: {alice: incident-commander}\n"
                           "actions:\n"
                           "  - {as: alice, action: acknowledge, delay: soon}\n"
                           "  - {as: alice, action: runbook, runbook: nosuch, after: nowhere}\n"
                           "  - {as: alice, action: note, after: [not, a, string]}\n")
    found = [(f"{p.line}:{p.column}", p.path, p.message) for p in check_script(path, scenario())]
    assert [where for where, _, _ in found] == sorted((where for where, _, _ in found), key=lambda w: tuple(map(int, w.split(":"))))
    paths = [p for _, p, _ in found]
    assert "actions[0].delay" in paths and "actions[1].runbook" in paths and "actions[1].after" in paths
    assert paths.count("actions[2].after") == 1  # its type error only: never reported twice
