"""`gameday validate` on folders: each file recognised and validated as what it is, or skipped with a note."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from scenario_texts import process_scenario

from gameday import project
from gameday.cli import main
from gameday.yamlio import kinds
from gameday.yamlio.kinds import recognise, yaml_files

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"

SCENARIO = process_scenario("dir", "A scenario in a folder", roles=False)

RESPONDERS = """\
people:
  alice: incident-commander
actions:
  - {as: alice, action: acknowledge, after: detection, delay: 1s}
"""

EXPERIMENT = (FIXTURES / "experiments" / "stop-worker.yaml").read_text()


def invoke(*args: str):
    result = CliRunner().invoke(main, ["validate", *args])
    assert "Traceback" not in result.output + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder holding one file of each kind, two foreign YAML files and a subfolder; cwd is it."""
    (tmp_path / "gameday.yaml").write_text("state_dir: .state\n")
    (tmp_path / "drill.yaml").write_text(SCENARIO)
    (tmp_path / "kill.yaml").write_text(EXPERIMENT)
    (tmp_path / "deploy.yaml").write_text("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: shop}\n")
    (tmp_path / "compose.yml").write_text("services:\n  web: {image: nginx}\n")
    (tmp_path / "notes.txt").write_text("not yaml at all: [")
    (tmp_path / ".hidden.yaml").write_text("- not: looked at\n")
    (tmp_path / "responders").mkdir()
    (tmp_path / "responders" / "drill.ci.yaml").write_text(RESPONDERS)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_each_file_is_validated_as_what_it_is(folder: Path) -> None:
    result = invoke(".")
    assert result.exit_code == 0
    assert result.stderr == ""
    assert result.stdout.splitlines() == [
        "skipped compose.yml: not a gameday file (looks like a Docker Compose file)",
        "skipped deploy.yaml: not a gameday file (looks like a Kubernetes manifest, kind 'Deployment')",
        "drill.yaml: ok (scenario)",
        "gameday.yaml: ok (project file)",
        "kill.yaml: ok (Chaos Toolkit experiment)",
        ".: subfolders not searched (add --recursive): responders/",
    ]


def test_recursive_searches_subfolders(folder: Path) -> None:
    result = invoke("--recursive", ".")
    assert result.exit_code == 0
    assert "responders/drill.ci.yaml: ok (responder file)" in result.stdout.splitlines()
    assert "not searched" not in result.stdout
    assert invoke("-r", "-q", ".").stdout == ""


def test_no_note_when_no_subfolder_holds_yaml(folder: Path) -> None:
    (folder / "responders" / "drill.ci.yaml").rename(folder / "responders" / "drill.ci.txt")
    (folder / ".git").mkdir()
    (folder / ".git" / "config.yaml").write_text("a: 1\n")
    assert "not searched" not in invoke(".").stdout


def test_quiet_prints_errors_only(folder: Path) -> None:
    (folder / "kill.yaml").write_text(EXPERIMENT.replace("type: process", "type: shell", 1))
    result = invoke("-q", ".")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "kill.yaml:11:17: steady-state-hypothesis.probes[0].provider: activity 'worker-alive': unknown provider type 'shell'",
    ]


def test_a_responder_file_is_checked_against_its_scenario_and_reported_once(folder: Path) -> None:
    (folder / "drill.yaml").write_text(SCENARIO + "responders: responders/drill.ci.yaml\n")
    (folder / "responders" / "drill.ci.yaml").write_text(RESPONDERS.replace("after: detection", "after: nowhere"))
    result = invoke("-r", ".")
    assert result.exit_code == 2
    # found by the scenario's check, with the absolute path: shown once, under the file's own name
    assert result.stderr.splitlines() == [
        ("responders/drill.ci.yaml:4:45: actions[0].after: no anchor or step named 'nowhere'"
         " (anchors: start, injection, detection, recovery, a step id of the scenario, or state:NAME of its simulation)"),
    ]
    assert "drill.yaml: ok (scenario)" in result.stdout.splitlines()
    assert "responder file" not in result.stdout


def test_a_responder_file_with_errors_in_both_sections(folder: Path) -> None:
    (folder / "responders" / "drill.ci.yaml").write_text("people:\n  alice: Boss\nactions:\n  - {as: alice, action: dance}\n")
    result = invoke("-r", "-q", ".")
    assert result.exit_code == 2
    assert [line.split(": ")[:2] for line in result.stderr.splitlines()] == [
        ["responders/drill.ci.yaml:2:10", "people.alice"],
        ["responders/drill.ci.yaml:4:25", "actions[0].action"],
    ]


def test_an_experiment_a_scenario_uses_for_a_fault_needs_rollbacks(folder: Path) -> None:
    no_rollbacks = EXPERIMENT[: EXPERIMENT.index("rollbacks:")]
    (folder / "kill.yaml").write_text(no_rollbacks)
    assert invoke("kill.yaml").stdout == "kill.yaml: ok (Chaos Toolkit experiment)\n"  # fine for a runbook
    (folder / "drill.yaml").write_text(SCENARIO.replace("    process: {target: worker, action: stop}",
                                                        "    experiment: kill.yaml"))
    result = invoke(".")
    assert result.exit_code == 2
    (only,) = result.stderr.splitlines()  # the scenario's problem, located in it: the experiment itself is fine
    assert only.startswith("drill.yaml:14:17: faults[0].experiment: experiment 'kill.yaml' has no 'rollbacks'")
    assert "kill.yaml: ok (Chaos Toolkit experiment)" in result.stdout


def test_problems_in_files_outside_the_run_follow_the_file_that_found_them(folder: Path) -> None:
    (folder / "kill.yaml").rename(folder / "responders" / "kill.yaml")
    (folder / "responders" / "kill.yaml").write_text(EXPERIMENT.replace("rollbacks:", "rollbacks: 5\nx:"))
    (folder / "drill.yaml").write_text(SCENARIO.replace("    process: {target: worker, action: stop}",
                                                        "    experiment: responders/kill.yaml"))
    result = invoke("drill.yaml")
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0].startswith("drill.yaml:14:17: faults[0].experiment: experiment 'responders/kill.yaml' is invalid")
    assert lines[1:] and all(line.startswith("responders/kill.yaml:") for line in lines[1:])


def test_a_file_named_on_the_command_line_that_is_no_gameday_file_is_a_problem(folder: Path) -> None:
    result = invoke("deploy.yaml", "drill.yaml")
    assert result.exit_code == 2
    assert result.stdout == "drill.yaml: ok (scenario)\n"
    assert result.stderr.startswith("deploy.yaml:1:1: not a gameday file (looks like a Kubernetes manifest, kind 'Deployment'): "
                                    "a scenario has 'apiVersion: gameday/v1'")
    assert len(result.stderr.splitlines()) == 1


def test_a_folder_without_gameday_files_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("services: {}\n")
    result = invoke(str(tmp_path))
    assert result.exit_code == 2
    assert result.stdout == f"skipped {tmp_path / 'a.yaml'}: not a gameday file (looks like a Docker Compose file)\n"
    assert result.stderr == f"{tmp_path}:1:1: no gameday files in this folder (skipped 1 YAML file: not gameday files)\n"
    (tmp_path / "a.yaml").unlink()
    expected = f"{tmp_path}:1:1: no gameday files (*.yaml, *.yml) in this folder or its subfolders\n"
    assert invoke("-r", str(tmp_path)).stderr == expected


def test_unreadable_files_in_a_folder_are_problems(folder: Path) -> None:
    (folder / "broken.yaml").write_text("key: [unclosed\n")
    (folder / "binary.yml").write_bytes(b"\x00\x01")
    result = invoke("-q", ".")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "binary.yml:1:1: binary file (contains NUL bytes), not YAML text",
        "broken.yaml:2:1: YAML syntax: while parsing a flow sequence: expected ',' or ']', but got '<stream end>'",
    ]


def test_the_project_file_is_validated(folder: Path) -> None:
    (folder / "gameday.yaml").write_text("state_dir: .state\ncolour: red\n")
    result = invoke("gameday.yaml")
    assert result.exit_code == 2
    assert result.stderr.startswith("gameday.yaml:2:1: colour: unknown key 'colour'")


def test_a_file_given_twice_is_reported_once(folder: Path) -> None:
    (folder / "drill.yaml").write_text(SCENARIO.replace("SEV3", "SEV9"))
    result = invoke("-q", ".", "drill.yaml", "./drill.yaml", str(folder / "drill.yaml"))
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1


def test_both_waves_of_a_scenario_in_a_folder_run(folder: Path) -> None:
    (folder / "drill.yaml").write_text(SCENARIO.replace("SEV3", "SEV9").replace("at: 1s", "at: 5m"))
    result = invoke("-q", ".")
    assert [line.split(": ")[:2] for line in result.stderr.splitlines()] == [
        ["drill.yaml:4:11", "severity"],
        ["drill.yaml:13:9", "faults[0].at"],
        ["drill.yaml:22:11", "recovery.within"],
    ]


@pytest.mark.parametrize("name, text, kind, looks_like", [
    ("s.yaml", "apiVersion: gameday/v2\n", "scenario", ""),
    ("s.yaml", "id: x\nfaults: []\n", "scenario", ""),
    ("s.yaml", "", "scenario", ""),
    ("s.yaml", "- apiVersion: gameday/v1\n", "scenario", ""),
    ("e.yaml", "title: t\nmethod: []\n", "experiment", ""),
    ("e.yaml", "steady-state-hypothesis: {}\n", "experiment", ""),
    ("r.yaml", "actions: []\n", "responders", ""),
    ("r.yaml", "people: {}\n", "responders", ""),
    ("gameday.yaml", "apiVersion: gameday/v1\n", "project", ""),
    ("k.yaml", "apiVersion: v1\nkind: Service\n", None, "a Kubernetes manifest, kind 'Service'"),
    ("w.yaml", "on: push\njobs: {}\n", None, "a GitHub Actions workflow"),
    ("a.yaml", "route: {}\nreceivers: []\n", None, "an Alertmanager configuration"),
    ("p.yaml", "groups: []\n", None, "Prometheus rules"),
    ("l.yaml", "- a\n- b\n", None, "a list"),
    ("v.yaml", "42\n", None, "a single value (int)"),
    ("m.yaml", "{}\n", None, "an empty mapping"),
    ("m.yaml", "a: 1\nb: 2\nc: 3\nd: 4\n\"e\\nf\": 5\n", None, "a mapping with keys 'a', 'b', 'c', 'd' and 1 more"),
])
def test_recognise(name: str, text: str, kind: str | None, looks_like: str) -> None:
    import yaml

    seen = recognise(name, yaml.safe_load(text))
    assert (seen.kind, seen.looks_like) == (kind, looks_like)


def test_the_project_file_name_is_the_projects() -> None:
    assert kinds.PROJECT_FILE == project.PROJECT_FILE


def test_yaml_files_leaves_out_hidden_and_does_not_follow_folder_links(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("x: 1\n")
    (tmp_path / "b.yml").write_text("x: 1\n")
    (tmp_path / "c.json").write_text("{}")
    (tmp_path / ".d.yaml").write_text("x: 1\n")
    (tmp_path / "sub" / ".hidden").mkdir(parents=True)
    (tmp_path / "sub" / ".hidden" / "e.yaml").write_text("x: 1\n")
    (tmp_path / "sub" / "f.yaml").write_text("x: 1\n")
    os.symlink(tmp_path, tmp_path / "sub" / "loop")
    flat = yaml_files(tmp_path, recursive=False)
    assert (flat.files, flat.unsearched, flat.problems) == ([tmp_path / "a.yaml", tmp_path / "b.yml"], [tmp_path / "sub"], [])
    deep = yaml_files(tmp_path, recursive=True)
    assert deep.files == [tmp_path / "a.yaml", tmp_path / "b.yml", tmp_path / "sub" / "f.yaml"]


def test_the_repository_validates_as_a_real_process() -> None:
    run = subprocess.run([sys.executable, "-m", "gameday", "validate", "scenarios", "experiments", "--recursive"],
                         capture_output=True, text=True, cwd=REPO, timeout=120)
    assert (run.returncode, run.stderr) == (0, "")
    lines = run.stdout.splitlines()
    assert "scenarios/responders/checkout-db-primary-failure.ci.yaml: ok (responder file)" in lines
    assert "experiments/kill-db-primary.yaml: ok (Chaos Toolkit experiment)" in lines
    assert all(line.endswith(("ok (scenario)", "ok (responder file)", "ok (Chaos Toolkit experiment)")) for line in lines)
