"""Container targets in a scenario: selections state their blast radius, docker faults their arguments, and
nothing undeclared can be named — each refusal a located one-line problem (`gameday validate`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gameday.errors import ScenarioError
from gameday.loader import load_scenario
from gameday.model.containers import ContainerSelector, DockerFault, memory_bytes

BASE = """\
apiVersion: gameday/v1
id: tmp
title: containers
severity: SEV3
target:
  containers:
    web: {labels: {app: web}, count: 2}
steady_state:
  - container: {container: CHECKED}
faults:
  - id: f
    at: 1s
    docker: FAULT
detection: {within: 30s}
recovery: {within: 1m}
abort: {max_duration: 2m}
"""


def problems(tmp_path: Path, fault: str = "{target: web, action: pause}", checked: str = "web", text: str = BASE) -> list[str]:
    path = tmp_path / "s.yaml"
    path.write_text(text.replace("FAULT", fault).replace("CHECKED", checked))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return [str(p) for p in info.value.problems]


def test_a_valid_container_scenario_loads(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(BASE.replace("FAULT", "{target: web, action: limit, cpus: 0.5, memory: 64m}").replace("CHECKED", "web"))
    sc = load_scenario(path).scenario
    assert sc.faults[0].docker.memory == "64m" and sc.target.containers["web"].count == 2


def test_undeclared_containers_are_refused_by_name(tmp_path):
    got = problems(tmp_path, fault="{target: db, action: kill}", checked="cache")
    assert any("faults[0].docker.target: no containers named 'db' in target.containers: a docker fault touches only "
               "declared containers" in p for p in got), got
    assert any("steady_state[0].container.container: no containers named 'cache'" in p for p in got), got


def test_the_demo_target_has_no_containers(tmp_path):
    text = BASE.replace("target:\n  containers:\n    web: {labels: {app: web}, count: 2}\n", "")
    got = problems(tmp_path, text=text.replace("  - container: {container: CHECKED}", "  - http: {url: 'http://127.0.0.1:1/'}"))
    assert any("a docker fault needs a target with 'containers:'" in p for p in got), got


@pytest.mark.parametrize("selector, message", [
    ({"labels": {"app": "web"}}, "exactly one of 'count'"),
    ({"labels": {"app": "web"}, "count": 1, "percent": 50}, "exactly one of 'count'"),
    ({"count": 1}, "needs 'name' or 'labels': gameday never selects every container"),
    ({"name": "~(", "count": 1}, "not a valid regular expression"),
    ({"name": "bad name!", "count": 1}, "is not a container name"),
    ({"name": "x", "percent": 0}, "greater than 0"),
])
def test_a_selection_states_its_blast_radius(selector, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        ContainerSelector.model_validate(selector)


@pytest.mark.parametrize("fault, message", [
    ({"target": "w", "action": "disconnect"}, "'network' goes with action 'disconnect'"),
    ({"target": "w", "action": "pause", "network": "n"}, "'network' goes with action 'disconnect'"),
    ({"target": "w", "action": "limit"}, "needs 'cpus' or 'memory'"),
    ({"target": "w", "action": "kill", "cpus": 1}, "'cpus' and 'memory' go with action 'limit'"),
    ({"target": "w", "action": "limit", "memory": "1m"}, "below Docker's minimum of 6m"),
    ({"target": "w", "action": "limit", "memory": "lots"}, "expected a size like '64m'"),
    ({"target": "w", "action": "explode"}, "Input should be 'kill', 'stop', 'pause', 'restart', 'disconnect' or 'limit'"),
])
def test_docker_fault_arguments(fault, message):
    with pytest.raises(ValueError, match=message):
        DockerFault.model_validate(fault)


def test_memory_sizes():
    assert [memory_bytes(x) for x in ("64m", "1g", "512k", "100", "1.5g")] == [64 * 2**20, 2**30, 512 * 2**10, 100,
                                                                              int(1.5 * 2**30)]


def test_the_shipped_example_validates():
    from gameday.loader import load_scenario as load

    sc = load(Path(__file__).resolve().parents[2] / "scenarios" / "containers-pause-worker.yaml").scenario
    assert sc.target.containers["workers"].percent == 50 and sc.runbooks["restart-workers"].restart == "workers"


def test_what_a_scenario_declares_as_production():
    from gameday.model.containers import production_label

    base = {"apiVersion": "gameday/v1", "id": "p", "title": "p", "severity": "SEV3",
            "steady_state": [{"http": {"url": "http://127.0.0.1:1/"}}],
            "faults": [{"id": "f", "at": "1s", "docker": {"target": "web", "action": "pause"}}],
            "detection": {"within": "30s"}, "recovery": {"within": "1m"}, "abort": {"max_duration": "2m"}}
    from gameday.model.scenario import Scenario

    sc = Scenario.model_validate({**base, "target": {"production": True, "containers": {
        "web": {"name": "web", "count": 1, "production": True}, "db": {"name": "db", "count": 1}}}})
    assert sc.production_parts() == ["target", "target.containers.web"]
    assert production_label({"environment": "Production"}) == "environment=Production"
    assert production_label({"env": "prod"}) == "env=prod" and production_label({"gameday.production": "true"})
    assert production_label({"environment": "staging", "app": "x"}) is None


@pytest.mark.parametrize("pattern", ["~.*", "~.+", "~(.*)", "~[^/]*"])
def test_a_name_pattern_that_matches_any_name_without_labels_is_refused(pattern):
    """`name: "~.*"` with `percent: 100` would take every container of the engine: refused like no selection."""
    with pytest.raises(ValueError, match="matches any container name, so with no 'labels' it selects every container"):
        ContainerSelector.model_validate({"name": pattern, "percent": 100})
    # narrowed by labels, or a pattern that names something, it is a selection
    assert ContainerSelector.model_validate({"name": pattern, "labels": {"app": "web"}, "count": 2}).name == pattern
    assert ContainerSelector.model_validate({"name": "~web-[0-9]+", "percent": 100}).name == "~web-[0-9]+"
