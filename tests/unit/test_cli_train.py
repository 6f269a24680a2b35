"""``gameday train profile`` and ``gameday train next`` over a folder of real journals (written by
:func:`gameday.fakes.write_journal`) and a folder of scenario files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result
from scenario_texts import BASE_DATA

from gameday.cli import main
from gameday.fakes import ScriptedEvent, write_journal
from gameday.model.events import (
    ActionRecorded,
    CommandTaken,
    DetectionRecorded,
    DrillEnded,
    DrillStarted,
    FaultInjected,
    RecoveryObserved,
    RoleAssigned,
    TaskAssigned,
    TrainingStarted,
)
from gameday.model.policy import SeverityPolicy
from gameday.model.scenario import Scenario
from gameday.program.training import find_training_journals, profile, sessions_of

IC, TL, CL = "incident-commander", "tech-lead", "comms-lead"
POLICY = SeverityPolicy.model_validate({"name": "default", "levels": {"SEV3": {"description": "Degraded."}}})
BASE: dict[str, Any] = BASE_DATA


def scenario_data(sid: str, difficulty: int | None) -> dict[str, Any]:
    return {**BASE, "id": sid, "title": f"Scenario {sid}", **({"difficulty": difficulty} if difficulty else {})}


def good_session(trainee: str) -> list[ScriptedEvent]:
    """A session run well by ``trainee``: command taken, roles and a time-boxed task given, severity set,
    updates posted, the incident resolved after recovery."""
    return [
        (0.0, TrainingStarted(trainee=trainee, seed=1), "conductor"),
        (0.1, RoleAssigned(person=trainee, role=IC, by="training"), "training"),
        (10.0, FaultInjected(fault="f", kind="activities"), "injector"),
        (20.0, DetectionRecorded(via="person", by=trainee), trainee),
        (25.0, CommandTaken(person=trainee, text="I am the incident commander"), trainee),
        (30.0, RoleAssigned(person="Priya", role=TL, by=trainee), trainee),
        (31.0, RoleAssigned(person="Sam", role=CL, by=trainee), trainee),
        (35.0, ActionRecorded(action="declare_incident", author=trainee, role=IC, severity="SEV3"), trainee),
        (36.0, ActionRecorded(action="set_severity", author=trainee, role=IC, severity="SEV3"), trainee),
        (40.0, TaskAssigned(task="t1", to="Priya", role=TL, kind="investigate", text="look at the db", within=120, by=trainee),
         trainee),
        (60.0, ActionRecorded(action="post_update", author="Sam", role=CL, audience="internal", text="investigating"), "Sam"),
        (120.0, RecoveryObserved(), "conductor"),
        (130.0, ActionRecorded(action="post_update", author="Sam", role=CL, audience="internal", text="fixed"), "Sam"),
        (140.0, ActionRecorded(action="resolved", author=trainee, role=IC), trainee),
        (150.0, DrillEnded(outcome="completed"), "conductor"),
    ]


def training_journal(folder: Path, drill_id: str, trainee: str, sid: str = "s1", difficulty: int | None = 1,
                     script: list[ScriptedEvent] | None = None) -> Path:
    path = folder / drill_id / "journal.jsonl"
    started = DrillStarted(drill_id=drill_id, mode="training", policy=POLICY,
                           scenario=Scenario.model_validate(scenario_data(sid, difficulty)))
    write_journal(path, started, good_session(trainee) if script is None else script)
    return path


def gameday_journal(folder: Path, drill_id: str, person: str, role: str) -> Path:
    path = folder / f"{drill_id}.jsonl"
    started = DrillStarted(drill_id=drill_id, mode="gameday", policy=POLICY,
                           scenario=Scenario.model_validate(scenario_data("g", None)))
    write_journal(path, started, [(1.0, RoleAssigned(person=person, role=role, by="dana"), "dana"),
                                  (5.0, DrillEnded(outcome="completed"), "conductor")])
    return path


def broken_journal(folder: Path) -> Path:
    path = folder / "broken" / "journal.jsonl"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not a journal\n")  # a damaged file, as a crash or a bad copy leaves one
    return path


def scenarios_folder(root: Path, *entries: tuple[str, int | None]) -> Path:
    folder = root / "scenarios"
    folder.mkdir(parents=True, exist_ok=True)
    for sid, difficulty in entries:
        (folder / f"{sid}.yaml").write_text(yaml.safe_dump(scenario_data(sid, difficulty), sort_keys=False))
    return folder


def train(*args: str) -> Result:
    return CliRunner().invoke(main, ["train", *args])


# ------------------------------------------------------------------------------------- journals
def test_find_training_journals_reads_training_ones_and_roles_of_the_others(tmp_path: Path) -> None:
    mine = training_journal(tmp_path, "2026-02-01-a", "Ada")
    gameday_journal(tmp_path, "gd-1", "Bob", TL)
    broken = broken_journal(tmp_path)
    scan = find_training_journals(tmp_path)
    assert scan.paths == [mine]
    assert [(r.person, r.role, r.drill_id) for r in scan.roles] == [("Bob", TL, "gd-1")]
    assert len(scan.warnings) == 1 and scan.warnings[0].startswith(f"{broken}:1: not JSON")


def test_sessions_of_match_the_trainee_by_name_and_come_oldest_first(tmp_path: Path) -> None:
    training_journal(tmp_path, "2026-02-02-b", "  ada   lovelace", sid="s2", difficulty=2)
    training_journal(tmp_path, "2026-02-01-a", "Ada Lovelace")
    training_journal(tmp_path, "2026-02-03-c", "Grace")
    scan = find_training_journals(tmp_path)
    sessions = sessions_of("ADA LOVELACE", scan.journals)
    assert [s.drill_id for s in sessions] == ["2026-02-01-a", "2026-02-02-b"]  # same wall time: by drill id
    prof = profile("Ada Lovelace", sessions)
    assert prof.standing.rung in ("scribe", "shadow IC")
    assert {i.id for i in prof.items if len(i.verdicts) == 2} == {i.id for i in prof.items}


# ------------------------------------------------------------------------------------- profile
def test_profile_of_an_unknown_trainee_is_an_observer(tmp_path: Path) -> None:
    result = train("profile", "Zed", "--journals", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "no training sessions for Zed yet: rung observer" in result.stdout


def test_profile_counts_a_role_held_in_a_real_drill(tmp_path: Path) -> None:
    gameday_journal(tmp_path, "gd-1", "Bob", TL)
    result = train("profile", "bob", "--journals", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "rung scribe" in result.stdout
    assert "gd-1" in result.stdout


def test_profile_of_a_missing_folder_is_invalid_input(tmp_path: Path) -> None:
    result = train("profile", "Ada", "--journals", str(tmp_path / "nope"))
    assert result.exit_code == 2
    assert result.stderr.strip() == f"gameday: {tmp_path / 'nope'}: no such folder"


def test_profile_skips_a_malformed_journal_with_a_warning(tmp_path: Path) -> None:
    training_journal(tmp_path, "2026-02-01-a", "Ada")
    broken = broken_journal(tmp_path)
    result = train("profile", "Ada", "--journals", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert f"gameday: skipped journal {broken}:1: not JSON" in result.stderr
    assert "Traceback" not in result.output
    assert "Rubric items over time" in result.stdout
    assert "2026-02-01-a" in result.stdout


def test_profile_json_parses(tmp_path: Path) -> None:
    training_journal(tmp_path, "2026-02-01-a", "Ada")
    training_journal(tmp_path, "2026-02-02-b", "Ada", sid="s2")
    result = train("profile", "ada", "--journals", str(tmp_path), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["trainee"] == "Ada"
    assert [s["drill_id"] for s in data["sessions"]] == ["2026-02-01-a", "2026-02-02-b"]
    assert data["standing"]["rung"] in ("scribe", "shadow IC")
    assert len(data["items"]) == 9


@pytest.mark.parametrize("name", ["[red]x[/red]", "[bold]Ada[/]", ":smile: Bo"])
def test_a_name_is_printed_literally(tmp_path: Path, name: str) -> None:
    result = train("profile", name, "--journals", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert f"no training sessions for {name} yet" in result.stdout
    training_journal(tmp_path, "2026-02-01-a", name)
    result = train("profile", name, "--journals", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert f"{name}: rung " in result.stdout


def test_a_refused_name_is_invalid_input(tmp_path: Path) -> None:
    result = train("profile", "conductor", "--journals", str(tmp_path))
    assert result.exit_code == 2
    assert "reserved" in result.stderr


# ------------------------------------------------------------------------------------- next
def test_next_draws_never_the_latest_scenario(tmp_path: Path) -> None:
    scenarios = scenarios_folder(tmp_path, ("s1", 1), ("s2", 2), ("plain", None))
    (scenarios / "broken.yaml").write_text("apiVersion: gameday/v1\nid: broken\n")
    journals = tmp_path / "reports"
    training_journal(journals, "2026-02-01-a", "Ada", sid="s1")
    for seed in range(5):
        result = train("next", "Ada", "--scenarios", str(scenarios), "--journals", str(journals), "--seed", str(seed),
                       "--json")
        assert result.exit_code == 0, result.output
        draw = json.loads(result.stdout)
        assert draw["chosen"]["scenario_id"] == "s2"
    skipped = {Path(s["path"]).name: s["reason"] for s in draw["skipped"]}
    assert skipped["plain.yaml"] == "no difficulty: field"
    assert skipped["broken.yaml"].startswith("invalid: ")
    result = train("next", "Ada", "--scenarios", str(scenarios), "--journals", str(journals), "--seed", "1")
    assert result.exit_code == 0, result.output
    assert "s2.yaml" in result.stdout.splitlines()[0]
    assert "not s1: played last time" in " ".join(result.stdout.split())


def test_next_is_reproducible_without_a_seed(tmp_path: Path) -> None:
    scenarios = scenarios_folder(tmp_path, *((f"s{i}", 1 + i % 3) for i in range(5)))
    args = ["next", "Ada", "--scenarios", str(scenarios), "--journals", str(tmp_path / "none"), "--json"]
    (tmp_path / "none").mkdir()
    first, again = train(*args), train(*args)
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout) == json.loads(again.stdout)


def test_next_without_any_difficulty_is_invalid_input(tmp_path: Path) -> None:
    scenarios = scenarios_folder(tmp_path, ("plain", None))
    (tmp_path / "reports").mkdir()
    result = train("next", "Ada", "--scenarios", str(scenarios), "--journals", str(tmp_path / "reports"))
    assert result.exit_code == 2
    assert "none has a difficulty: field" in result.stderr
    assert "no difficulty: field" in result.stdout  # the skipped files are listed first


def test_next_with_a_missing_scenarios_folder_is_invalid_input(tmp_path: Path) -> None:
    result = train("next", "Ada", "--scenarios", str(tmp_path / "nope"))
    assert result.exit_code == 2
    assert "no such folder" in result.stderr
