"""The program file: the shipped example validates; every cross-check is a located problem, all at once."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from program_texts import PROGRAM, ROOT

from gameday.errors import ScenarioError
from gameday.program.programfile import load_program, program_file_problems
from gameday.yamlio.kinds import recognise


def _write(tmp_path: Path, text: str, name: str = "program.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _problems(tmp_path: Path, text: str) -> list[str]:
    path = _write(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        load_program(path)
    return [str(p) for p in info.value.problems]


def test_the_shipped_example_validates_and_staffs_its_pool() -> None:
    loaded = load_program(ROOT / "program.yaml")
    assert loaded.program.cadence.timezone == "Europe/Berlin"
    assert {p.scenario.id for p in loaded.pool} >= {"training-1-checkout-api-hang", "checkout-db-primary-failure"}
    assert all("scribe" in p.roles for p in loaded.pool)


def test_the_test_program_is_valid(tmp_path: Path) -> None:
    assert program_file_problems(_write(tmp_path, PROGRAM)) == []


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


@pytest.mark.parametrize(("old", "new", "path", "message"), [
    ("timezone: Europe/Berlin", "timezone: Europe/Berlinn", "cadence.timezone", "unknown time zone 'Europe/Berlinn'"),
    ('rrule: "FREQ=MONTHLY;BYDAY=1TH"', 'rrule: "FREQ=MONTHLY;BYDAY=1XX"', "cadence.rrule", "does not parse"),
    ('rrule: "FREQ=MONTHLY;BYDAY=1TH"', 'rrule: "FREQ=HOURLY"', "cadence.rrule", "by day or coarser"),
    ('time: "14:00"', "time: 14:00", "cadence.time", 'quote it, "14:00"'),
    ('time: "14:00"', 'time: "16:00"', "cadence.time", "outside working hours (09:00-17:00)"),
    ("{name: dan,", "{name: Alice,", "roster.people[3].name", "on the roster twice"),
])
def test_each_cross_check_is_one_located_problem(tmp_path: Path, old: str, new: str, path: str, message: str) -> None:
    text = PROGRAM.replace(old, new)
    assert text != PROGRAM
    problems = _problems(tmp_path, text)
    assert len(problems) == 1, problems
    line = _line_of(text, new)
    assert problems[0].startswith(f"{tmp_path / 'program.yaml'}:{line}:"), problems
    assert f": {path}: " in problems[0] and message in problems[0], problems


def test_prerequisites_unknown_role_and_cycle(tmp_path: Path) -> None:
    text = PROGRAM.replace("scenarios:\n", "  prerequisites:\n    incident-commander: [scribe]\n"
                           "    tech-lead: [comms-lead]\n    comms-lead: [tech-lead]\nscenarios:\n")
    problems = _problems(tmp_path, text)
    assert any("roster.prerequisites.incident-commander[0]: unknown role 'scribe'" in p for p in problems), problems
    assert any("go round in a circle (comms-lead -> tech-lead -> comms-lead)" in p for p in problems), problems


def test_a_role_no_one_may_hold_and_a_missing_scenario(tmp_path: Path) -> None:
    text = PROGRAM.replace("roster:\n", "roles: [incident-commander, scribe]\nroster:\n") + "  - scenarios/nope.yaml\n"
    problems = _problems(tmp_path, text)
    assert any(": roles: role 'scribe' (the program's roles:) is one no one on the roster may hold" in p
               for p in problems), problems
    assert any("scenarios[2]: scenario 'scenarios/nope.yaml' not found" in p for p in problems), problems


def test_every_problem_at_once_type_errors_with_cross_checks(tmp_path: Path) -> None:
    text = PROGRAM.replace("timezone: Europe/Berlin", "timezone: Mars/Olympus").replace("name: Test game days\n",
                                                                                         "name: Test\nwhen_closed: maybe\n")
    problems = _problems(tmp_path, text)
    assert any("when_closed" in p for p in problems) and any("Mars/Olympus" in p for p in problems), problems


def test_recognised_as_the_program_file() -> None:
    assert recognise("x.yaml", {"apiVersion": "gameday/v1", "kind": "Program"}).kind == "program"
    assert recognise("program.yaml", {"name": "x"}).kind == "program"
    assert recognise("x.yaml", {"apiVersion": "gameday/v1", "id": "s"}).kind == "scenario"


def test_the_published_schema_is_current() -> None:
    from gameday.cli import main

    result = CliRunner().invoke(main, ["program", "schema"])
    assert result.exit_code == 0
    assert (ROOT / "schema" / "program.schema.json").read_text(encoding="utf-8") == result.output, \
        "schema/program.schema.json is behind: run `make schema`"


def test_gameday_validate_checks_a_program_file(tmp_path: Path) -> None:
    from gameday.cli import main

    path = _write(tmp_path, PROGRAM.replace("timezone: Europe/Berlin", "timezone: Nowhere/Land"))
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2
    assert "cadence.timezone: unknown time zone 'Nowhere/Land'" in result.output
    ok = CliRunner().invoke(main, ["validate", str(ROOT / "program.yaml")])
    assert ok.exit_code == 0 and "ok (program file)" in ok.output
