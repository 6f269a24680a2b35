"""Mapping keys YAML 1.1 reads as booleans (``on:``, ``Yes:``, ``OFF:``...): one located problem at the
key, in its own words and spelling, instead of pydantic's ``Keys should be strings`` at ``path[1]``.

A transition's ``on:`` is its ``when:`` (the hint says so); any other such key anywhere in a scenario or
a responder file is to be quoted or renamed. A GitHub workflow's ``on:`` is still recognised as one.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from scenario_texts import SIMULATION_HEAD, process_scenario

from gameday.cli import main
from gameday.drill.responders import ResponderScript
from gameday.model.scenario import Scenario
from gameday.yamlio.kinds import recognise
from gameday.yamlio.marks import parse_yaml
from gameday.yamlio.modelerrors import validate_data

SCENARIO = process_scenario("bools", "A training scenario") + SIMULATION_HEAD + """\
    - from: restarting
      to: recovered
      when: {action: resolved}
training:
  responders:
    - {name: Priya, role: tech-lead}
"""


def at(text: str, needle: str) -> str:
    """``LINE:COL`` (1-based) of the first ``needle`` in ``text``."""
    i = text.index(needle)
    return f"{text.count(chr(10), 0, i) + 1}:{i - (text.rfind(chr(10), 0, i) + 1) + 1}"


def validate(*paths: Path) -> tuple[int, list[str]]:
    result = CliRunner().invoke(main, ["validate", *map(str, paths)])
    assert "Traceback" not in result.output + result.stderr
    return result.exit_code, (result.stdout + result.stderr).splitlines()


def write(tmp_path: Path, text: str, name: str = "sc.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_the_base_scenario_is_valid(tmp_path: Path) -> None:
    assert validate(write(tmp_path, SCENARIO)) == (0, [f"{tmp_path / 'sc.yaml'}: ok (scenario)"])


def test_on_in_a_transition_says_write_when_at_the_keys_line(tmp_path: Path) -> None:
    text = SCENARIO.replace("      when: {action: resolved}", "      on: {action: resolved}")
    path = write(tmp_path, text)
    code, lines = validate(path)
    assert code == 2
    assert lines == [f"{path}:{at(text, 'on: {action')}: simulation.transitions[2]: 'on' is read by YAML as true: write 'when:'"]


def test_on_in_a_flow_mapping_transition_too(tmp_path: Path) -> None:
    text = SCENARIO.replace("{from: broken, to: restarting, when: {runbook: restart}}",
                            "{from: broken, to: restarting, On: {runbook: restart}}")
    code, lines = validate(write(tmp_path, text))
    assert code == 2 and len(lines) == 1, lines
    assert lines[0].endswith(f":{at(text, 'On:')}: simulation.transitions[1]: 'On' is read by YAML as true: write 'when:'"), lines


@pytest.mark.parametrize("spelling,value", [("yes", "true"), ("Yes", "true"), ("NO", "false"), ("off", "false"),
                                            ("True", "true"), ("FALSE", "false"), ("ON", "true")])
def test_any_boolean_key_elsewhere_is_to_be_quoted(tmp_path: Path, spelling: str, value: str) -> None:
    text = SCENARIO.replace("    restarting: {}", f"    restarting: {{}}\n    {spelling}: {{}}")
    path = write(tmp_path, text)
    code, lines = validate(path)
    assert code == 2
    assert lines == [(f"{path}:{at(text, f'{spelling}: {{}}')}: simulation.states: {spelling!r} is read by YAML as {value}: "
                     "quote it or use another word")], lines


def test_a_quoted_on_is_text(tmp_path: Path) -> None:
    path = write(tmp_path, SCENARIO.replace("      when: {action: resolved}", "      'on': {action: resolved}"))
    code, lines = validate(path)
    assert code == 2 and "unknown key 'on'" in "\n".join(lines) and "read by YAML" not in "\n".join(lines), lines


def test_a_problem_inside_a_boolean_keys_value_is_named_by_its_spelling(tmp_path: Path) -> None:
    text = SCENARIO.replace("    restarting: {}", "    restarting: {}\n    Off:\n      description: 7")
    path = write(tmp_path, text)
    code, lines = validate(path)
    assert code == 2
    assert lines == [(f"{path}:{at(text, 'Off:')}: simulation.states: 'Off' is read by YAML as false: quote it or use "
                     "another word"),
                     f"{path}:{at(text, '7' + chr(10))}: simulation.states.Off.description: expected text, got 7"], lines
    assert not [line for line in lines if "Keys should be strings" in line or "[0]" in line]


def test_a_boolean_key_where_anything_goes_is_still_reported(tmp_path: Path) -> None:
    """An inline Chaos Toolkit activity's arguments are free-form: the model takes a true key, Chaos Toolkit
    would get `True` for the argument `on`."""
    text = SCENARIO.replace("    process: {target: worker, action: stop}\n", "    activities:\n"
                            "      - {type: action, name: stop, provider: {type: process, path: 'true', "
                            "arguments: {on: 1}}}\n    rollback: {none: nothing to undo}\n")
    data, marks, problems = parse_yaml(text, "sc.yaml")
    assert problems == []
    model, found = validate_data(data, marks, Scenario, "sc.yaml")
    assert model is None
    assert [str(p) for p in found] == [
        (f"sc.yaml:{at(text, 'on: 1')}: faults[0].activities[0].provider.arguments: 'on' is read by YAML as true: "
        "quote it or use another word")]


def test_a_responder_file_too(tmp_path: Path) -> None:
    text = "people:\n  dana: incident-commander\n  yes: tech-lead\nactions:\n  - {as: dana, action: acknowledge, off: 1s}\n"
    data, marks, _ = parse_yaml(text, "r.yaml")
    model, found = validate_data(data, marks, ResponderScript, "r.yaml")
    assert model is None
    assert [str(p) for p in found] == [
        "r.yaml:3:3: people: 'yes' is read by YAML as true: quote it or use another word",
        f"r.yaml:{at(text, 'off:')}: actions[0]: 'off' is read by YAML as false: quote it or use another word"]


def test_a_responder_file_next_to_its_scenario(tmp_path: Path) -> None:
    (tmp_path / "responders").mkdir()
    scenario = write(tmp_path, SCENARIO + "responders: responders/r.yaml\n")
    text = "people:\n  dana: incident-commander\nactions:\n  - {as: dana, action: acknowledge, On: 1s}\n"
    write(tmp_path / "responders", text, "r.yaml")
    code, lines = validate(scenario)
    assert code == 2
    assert lines == [(f"{tmp_path / 'responders' / 'r.yaml'}:{at(text, 'On:')}: actions[0]: 'On' is read by YAML as true: "
                     "quote it or use another word")], lines


def test_two_keys_that_are_both_true_are_a_duplicate_in_their_spelling() -> None:
    _, _, problems = parse_yaml("a: 1\nYes: 2\nON: 3\n", "x.yaml")
    assert [p.message for p in problems] == ["duplicate key 'ON', read by YAML as true, (first at line 2, again at line 3)"]


def test_a_github_workflow_is_still_recognised() -> None:
    data, marks, problems = parse_yaml("on: [push]\njobs:\n  test: {runs-on: ubuntu-latest}\n", "ci.yml")
    assert problems == [] and marks.bool_keys == {(True,): "on"}
    assert recognise("ci.yml", data).looks_like == "a GitHub Actions workflow"
