"""The scenario loader: valid fixtures load, each bad fixture fails with a located first line."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from gameday.errors import Problem, ScenarioError
from gameday.loader import LoadedScenario, json_schema_text, load_scenario
from gameday.model.policy import ProjectConfig
from gameday.yamlio.files import load_model
from gameday.yamlio.marks import MAX_FILE_BYTES, load_yaml_text, parse_yaml

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"

MINIMAL = """\
apiVersion: gameday/v1
id: tmp
title: A scenario written by a test
severity: SEV3
steady_state:
  - http: {url: "{target.url}/health"}
faults:
  - id: stop-worker
    at: 1s
    experiment: EXPERIMENT
detection:
  within: 30s
recovery:
  within: 1m
abort:
  max_duration: 2m
"""


@pytest.fixture
def in_fixtures(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Work from tests/fixtures so problem file names are short and exact."""
    monkeypatch.chdir(FIXTURES)
    return FIXTURES


def problems_of(path: Path | str) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return [str(p) for p in info.value.problems]


def write_scenario(folder: Path, experiment: str, name: str = "s.yaml", text: str = MINIMAL) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text.replace("EXPERIMENT", experiment))
    return path


def copy_experiment(dest: Path, name: str = "stop-worker.yaml") -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text((FIXTURES / "experiments" / name).read_text())
    return dest


@pytest.mark.parametrize("name", ["full.yaml", "minimal.yaml"])
def test_valid_fixtures_load(name: str) -> None:
    loaded = load_scenario(FIXTURES / "scenarios" / "valid" / name)
    assert isinstance(loaded, LoadedScenario)
    assert loaded.scenario.api_version == "gameday/v1"
    for path in [*loaded.fault_experiments.values(), *loaded.runbook_experiments.values()]:
        assert str(path) in loaded.experiments


def test_full_fixture_resolves_every_reference() -> None:
    loaded = load_scenario(FIXTURES / "scenarios" / "valid" / "full.yaml")
    experiments = FIXTURES / "experiments"
    assert loaded.path == (FIXTURES / "scenarios" / "valid" / "full.yaml").resolve()
    assert loaded.base_dir == loaded.path.parent
    assert loaded.project_root == REPO  # the folder holding gameday.yaml
    assert loaded.fault_experiments == {"stop-worker": experiments / "stop-worker.yaml"}
    assert loaded.runbook_experiments == {"restart-worker": experiments / "restart-worker.json"}
    assert loaded.responders_path == FIXTURES / "scenarios" / "responders" / "full.ci.yaml"
    assert set(loaded.experiments) == {str(experiments / "stop-worker.yaml"), str(experiments / "restart-worker.json")}
    assert loaded.experiments[str(experiments / "restart-worker.json")]["title"] == "Restart the worker"
    sc = loaded.scenario
    assert [f.id for f in sc.faults] == ["stop-worker", "fill-disk", "freeze-worker"]
    assert sc.detection.within == 60 and sc.timing.probe_interval == 0.25
    with pytest.raises(Exception):
        sc.id = "changed"  # type: ignore[misc]


# One fixture per error class; the expected first problem line (file:line:col: path: message).
FIRST_LINES = {
    "syntax-error": "scenarios/invalid/syntax-error.yaml:13:9: YAML syntax: while parsing a flow sequence: expected ',' or ']', but got ':'",
    "multiple-documents": "scenarios/invalid/multiple-documents.yaml:17:1: YAML syntax: expected a single document in the stream",
    "duplicate-key": "scenarios/invalid/duplicate-key.yaml:5:1: title: duplicate key 'title' (first at line 3, again at line 5)",
    "unknown-key": "scenarios/invalid/unknown-key.yaml:15:3: recovery.deadline: unknown key 'deadline' (allowed: within)",
    "missing-key": "scenarios/invalid/missing-key.yaml:1:1: title: required key 'title' is missing",
    "bad-duration": "scenarios/invalid/bad-duration.yaml:12:11: detection.within: expected a duration like '90s' or '2m', got 'soon'",
    "bare-number": "scenarios/invalid/bare-number.yaml:9:9: faults[0].at: expected a duration like '90s' or '2m', got the bare number 90",
    "bad-literal": "scenarios/invalid/bad-literal.yaml:4:11: severity: expected 'SEV1', 'SEV2', 'SEV3' or 'SEV4', got 'SEV5'",
    "bad-target": "scenarios/invalid/bad-target.yaml:7:9: target: expected 'demo' or a mapping, got 'production'",
    "bad-id": "scenarios/invalid/bad-id.yaml:2:5: id: 'Broken Scenario' does not match the pattern",
    "duplicate-id": "scenarios/invalid/duplicate-id.yaml:11:9: faults[1].id: duplicate fault id 'stop-worker'",
    "missing-runbook": "scenarios/invalid/missing-runbook.yaml:18:46: response[0].runbook: no runbook named 'failover'",
    "missing-experiment": "scenarios/invalid/missing-experiment.yaml:10:17: faults[0].experiment: experiment '../../experiments/no-such-experiment.yaml' not found (looked in scenarios/invalid, then in the project root ",
    "missing-responders": "scenarios/invalid/missing-responders.yaml:17:13: responders: responder file 'responders/nobody.ci.yaml' not found",
    "impossible-timing": "scenarios/invalid/impossible-timing.yaml:14:11: recovery.within: the recovery deadline falls after abort.max_duration: the drill would abort first",
    "not-a-mapping": "scenarios/invalid/not-a-mapping.yaml:1:1: the top level is a list: expected a mapping of keys (apiVersion, id, title,",
    "empty": "scenarios/invalid/empty.yaml:1:1: the file is empty: expected a mapping of keys",
    "alias-bomb": "scenarios/invalid/alias-bomb.yaml:2:50: aliases expand to more than 10000 nodes (an alias bomb?)",
    "not-utf8": "scenarios/invalid/not-utf8.yaml:3:11: not UTF-8 text (byte 0xe9 at offset 44)",
    "python-tag": "scenarios/invalid/python-tag.yaml:9:9: faults[0].at: unsupported tag 'tag:yaml.org,2002:python/object/apply:os.system'",
    "invalid-experiment": "experiments/invalid-activity.yaml:7:7: method[0].provider: activity 'no-provider-type': a provider must have a type",
    "builtin-provider": "experiments/builtin-provider.yaml:6:15: method[0].provider: activity 'nap': python provider points at a builtin; wrap it in a module function",
    "fault-without-rollbacks": "scenarios/invalid/fault-without-rollbacks.yaml:10:17: faults[0].experiment: experiment '../../experiments/no-rollbacks.yaml' has no 'rollbacks', and every fault is paired with its rollback",
    "experiment-syntax-error": "experiments/bad-syntax.json:4:15: JSON syntax: Illegal trailing comma before end of object",
    "bad-inline-activity": "scenarios/invalid/bad-inline-activity.yaml:11:46: faults[0].activities[0].provider: activity 'fill': unknown provider type 'shell'",
    "many-problems": "scenarios/invalid/many-problems.yaml:4:11: severity: expected 'SEV1', 'SEV2', 'SEV3' or 'SEV4', got 'sev3'",
}


def test_every_invalid_fixture_is_covered() -> None:
    shipped = {p.stem for p in (FIXTURES / "scenarios" / "invalid").glob("*.yaml")}
    assert shipped == set(FIRST_LINES)


@pytest.mark.parametrize("name", sorted(FIRST_LINES))
def test_invalid_fixture_first_line(in_fixtures: Path, name: str) -> None:
    lines = problems_of(f"scenarios/invalid/{name}.yaml")
    assert lines[0].startswith(FIRST_LINES[name]), lines[0]


def test_every_problem_is_reported_at_once(in_fixtures: Path) -> None:
    lines = problems_of("scenarios/invalid/many-problems.yaml")
    assert lines == [
        FIRST_LINES["many-problems"],
        "scenarios/invalid/many-problems.yaml:5:1: colour: unknown key 'colour' (allowed: apiVersion, id, title, description,"
        " severity, tags, roles, service, symptom, target, steady_state, faults, detection, response, runbooks, recovery,"
        " abort, timing, scoring, policy, responders, load, business, monitoring, injects, objectives, difficulty, simulation, training)",
        "scenarios/invalid/many-problems.yaml:10:9: faults[0].at: scheduled at 3m, not before abort.max_duration 2m",
        "scenarios/invalid/many-problems.yaml:13:11: detection.within: expected a duration like '90s' or '2m',"
        " got the bare number 30 (ambiguous: add a unit)",
        "scenarios/invalid/many-problems.yaml:15:11: recovery.within: the recovery deadline falls after"
        " abort.max_duration: the drill would abort first",
    ]


def test_every_activity_problem_of_an_experiment(in_fixtures: Path) -> None:
    lines = problems_of("scenarios/invalid/invalid-experiment.yaml")
    assert lines == [
        FIRST_LINES["invalid-experiment"],
        "experiments/invalid-activity.yaml:14:15: rollbacks[0].provider: activity 'unknown-provider': unknown provider type 'shell'",
        "scenarios/invalid/invalid-experiment.yaml:10:17: faults[0].experiment: experiment '../../experiments/invalid-activity.yaml'"
        " is invalid: 2 problems reported in experiments/invalid-activity.yaml",
    ]


def test_cross_checks_give_one_problem_each(tmp_path: Path) -> None:
    copy_experiment(tmp_path / "x.yaml")
    text = MINIMAL.replace("abort:", "response:\n  - {id: a, action: runbook, runbook: nope, within: 1m, after: b}\n"
                                     "  - {id: a, action: note, role: janitor, within: 1m}\nabort:")
    lines = problems_of(write_scenario(tmp_path, "x.yaml", text=text))
    messages = [line.split(": ", 1)[1] for line in lines]
    assert messages == [
        "response[0].runbook: no runbook named 'nope'",
        "response[0].after: no anchor or step named 'b' (anchors: start, injection, detection, recovery)",
        "response[1].id: duplicate step id 'a'",
        "response[1].role: role 'janitor' is not one of the scenario's roles",
    ]


def test_union_picks_the_relevant_branch(tmp_path: Path) -> None:
    copy_experiment(tmp_path / "x.yaml")
    text = MINIMAL.replace("steady_state:", "target:\n  url: 5\n  processes: {api: {}}\nsteady_state:")
    lines = problems_of(write_scenario(tmp_path, "x.yaml", text=text))
    assert [line.split(": ", 1)[1] for line in lines] == [
        "target.url: expected text, got 5",
        "target.processes.api: a process needs 'pid_file' or 'command' to be found",
    ]
    assert lines[0].startswith(f"{tmp_path / 's.yaml'}:6:8: ")


def test_type_and_range_messages(tmp_path: Path) -> None:
    copy_experiment(tmp_path / "x.yaml")
    text = MINIMAL.replace("abort:", "policy: {scale: 2}\nscoring: {detection: -1}\ntags: notalist\nabort:")
    text = text.replace("title: A scenario written by a test", "title: ''")
    lines = problems_of(write_scenario(tmp_path, "x.yaml", text=text))
    assert [line.split(": ", 1)[1] for line in lines] == [
        "title: must not be empty",
        "policy.scale: must be at most 1, got 2",
        "scoring.detection: must be at least 0, got -1",
        "tags: expected a list, got 'notalist'",
    ]


def test_a_crashing_validator_is_still_a_problem(tmp_path: Path) -> None:
    copy_experiment(tmp_path / "x.yaml")
    text = MINIMAL.replace("  within: 30s", '  within: 30s\n  signals: [{alert: {labels: {a: "~a{4294967296}"}}}]')
    [line] = problems_of(write_scenario(tmp_path, "x.yaml", text=text))  # re.compile raises OverflowError here
    assert "repetition number is too large" in line


def test_missing_file_and_folder_are_problems(tmp_path: Path) -> None:
    assert problems_of(tmp_path / "nope.yaml") == [f"{tmp_path / 'nope.yaml'}:1:1: file not found"]
    assert problems_of(tmp_path) == [f"{tmp_path}:1:1: is a folder, not a file"]


def test_too_large_file_is_refused_unread(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"a: 1\n" + b"#" * MAX_FILE_BYTES)
    [line] = problems_of(big)
    assert line.startswith(f"{big}:1:1: file too large (")


def test_binary_file_is_refused(tmp_path: Path) -> None:
    binary = tmp_path / "image.yaml"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert problems_of(binary) == [f"{binary}:1:1: binary file (contains NUL bytes), not YAML text"]


def test_paths_resolve_beside_the_scenario_first_then_at_the_project_root(tmp_path: Path) -> None:
    (tmp_path / "gameday.yaml").write_text("state_dir: .state\n")
    at_root = copy_experiment(tmp_path / "experiments" / "x.yaml")
    scenario = write_scenario(tmp_path / "scenarios", "experiments/x.yaml")
    loaded = load_scenario(scenario)
    assert loaded.project_root == tmp_path
    assert loaded.fault_experiments["stop-worker"] == at_root.resolve()
    beside = copy_experiment(tmp_path / "scenarios" / "experiments" / "x.yaml")
    assert load_scenario(scenario).fault_experiments["stop-worker"] == beside.resolve()


def test_absolute_experiment_path(tmp_path: Path) -> None:
    exp = copy_experiment(tmp_path / "elsewhere" / "x.yaml")
    loaded = load_scenario(write_scenario(tmp_path / "s", str(exp)))
    assert loaded.fault_experiments["stop-worker"] == exp.resolve()


def test_experiment_that_is_a_folder(tmp_path: Path) -> None:
    (tmp_path / "exp").mkdir()
    [line] = problems_of(write_scenario(tmp_path, "exp"))
    assert line.startswith(f"{tmp_path / 's.yaml'}:10:17: faults[0].experiment: experiment 'exp' is not a file (")


def test_json_experiment_yaml_cannot_read_still_loads(tmp_path: Path) -> None:
    exp = {"title": "t", "description": "d", "method": [], "rollbacks": [{"type": "action", "name": "r",
           "provider": {"type": "process", "path": "true"}}]}
    (tmp_path / "x.json").write_text(json.dumps(exp, indent="\t"))  # tabs: not YAML
    loaded = load_scenario(write_scenario(tmp_path, "x.json"))
    assert loaded.experiments[str((tmp_path / "x.json").resolve())] == exp


def test_json_experiment_problems(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text("[" * 100_000 + "]" * 100_000)
    scenario = write_scenario(tmp_path, "x.json")
    assert problems_of(scenario) == [
        f"{scenario}:10:17: faults[0].experiment: experiment 'x.json' is invalid: 1 problem reported in {tmp_path / 'x.json'}",
        f"{tmp_path / 'x.json'}:1:65: JSON beyond the limits: nesting deeper than 64 levels",
    ]
    (tmp_path / "x.json").write_text('{"title": "t", "description": "d", "method": [{"type": "action"}],\n "rollbacks": 3}')
    lines = problems_of(scenario)[1:]
    assert [line.split(".json:", 1)[1] for line in lines] == [
        "1:47: method[0]: activity: an activity must have a name",
        "2:15: rollbacks: expected a list of activities, got int",
    ]


def test_control_character_is_located(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("apiVersion: gameday/v1\nid: a\x07b\n")
    assert problems_of(path) == [f"{path}:2:6: character U+0007 is not allowed in YAML"]


def test_inline_ref_is_refused(tmp_path: Path) -> None:
    text = MINIMAL.replace("    experiment: EXPERIMENT", "    activities: [{ref: other}]\n    rollbacks: [{ref: other}]")
    lines = problems_of(write_scenario(tmp_path, "unused", text=text))
    assert [line.split(": ", 1)[1] for line in lines] == [
        "faults[0].activities[0].ref: 'ref' needs an experiment: inline activities cannot reference others",
        "faults[0].rollbacks[0].ref: 'ref' needs an experiment: inline activities cannot reference others",
    ]


def test_experiment_level_problem_is_located(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text("title: t\ndescription: d\ntags: ['', x]\nmethod: []\nrollbacks:\n"
                                     "  - {type: action, name: r, provider: {type: process, path: 'true'}}\n")
    [_, line] = problems_of(write_scenario(tmp_path, "x.yaml"))
    assert line == f"{tmp_path / 'x.yaml'}:3:7: tags: invalid experiment: experiment tags must be a non-empty string"


def test_anchors_and_merge_keys_within_budget(tmp_path: Path) -> None:
    copy_experiment(tmp_path / "x.yaml")
    text = MINIMAL.replace("abort:", "response:\n  - &step {id: ack, action: acknowledge, within: 1m}\n"
                                     "  - {<<: *step, id: ack2}\nabort:")
    sc = load_scenario(write_scenario(tmp_path, "x.yaml", text=text)).scenario
    assert [(s.id, s.within) for s in sc.response] == [("ack", 60.0), ("ack2", 60.0)]


def test_load_model_reads_the_project_file() -> None:
    config = load_model(REPO / "gameday.yaml", ProjectConfig)
    assert config.policy.levels["SEV1"].update_every == 1800


def test_load_model_locates_problems(tmp_path: Path) -> None:
    path = tmp_path / "gameday.yaml"
    path.write_text("policy:\n  levels:\n    SEV9: {description: nope}\nstate_dir: [x]\n")
    with pytest.raises(ScenarioError) as info:
        load_model(path, ProjectConfig)
    assert [str(p) for p in info.value.problems] == [
        f"{path}:3:5: policy.levels.SEV9: expected 'SEV1', 'SEV2', 'SEV3' or 'SEV4', got 'SEV9'",
        f"{path}:4:12: state_dir: expected text, got a list",
    ]


def test_load_yaml_text_gives_marks() -> None:
    data, marks = load_yaml_text("a:\n  - x\n  - {b: 1}\n", "t.yaml")
    assert data == {"a": ["x", {"b": 1}]}
    assert marks.value(("a", 1, "b")) == (3, 9)
    assert marks.key(("a",)) == (1, 1)
    assert marks.value(("a", 5, "nowhere")) == (2, 3)  # nearest located parent
    with pytest.raises(ScenarioError, match=r"t.yaml:2:1: a: duplicate key 'a' \(first at line 1, again at line 2\)"):
        load_yaml_text("a: 1\na: 2\n", "t.yaml")


@pytest.mark.parametrize("text", ["a: &a [*a]\n", "a: &a {<<: *a}\n", "[" * 3000 + "]" * 3000])
def test_self_reference_and_deep_nesting_fail_fast(text: str) -> None:
    with pytest.raises(ScenarioError, match="nested deeper than"):
        parse_yaml(text, "t.yaml")


def test_problem_str_format() -> None:
    assert str(Problem("s.yaml", 14, 5, "detection.within", "bad")) == "s.yaml:14:5: detection.within: bad"
    assert str(Problem("s.yaml", 1, 1, "", "empty")) == "s.yaml:1:1: empty"


def test_chaoslib_logger_is_left_as_it_was() -> None:
    logger = logging.getLogger("chaostoolkit")
    before = logger.level
    load_scenario(FIXTURES / "scenarios" / "valid" / "minimal.yaml")
    assert logger.level == before


def test_schema_is_draft_2020_12_by_alias() -> None:
    text = json_schema_text()
    schema = json.loads(text)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] and schema["title"]
    assert "apiVersion" in schema["properties"] and "apiVersion" in schema["required"]
    assert schema["additionalProperties"] is False


def test_shipped_schema_is_current() -> None:
    """Regenerate with: gameday schema > schema/scenario.schema.json"""
    shipped = (REPO / "schema" / "scenario.schema.json").read_text(encoding="utf-8")
    assert shipped == json_schema_text() + "\n"


def test_importing_the_loader_does_not_import_chaoslib() -> None:
    code = "import sys, gameday.cli, gameday.loader; print('chaoslib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "False"
    help_run = subprocess.run([sys.executable, "-X", "importtime", "-m", "gameday", "--help"],
                              capture_output=True, text=True, check=True, cwd=REPO)
    assert "chaoslib" not in help_run.stderr and "Usage" in help_run.stdout
