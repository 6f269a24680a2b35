"""The demo shop in containers (``gameday demo up --docker``) on a real Docker engine (our own dockerd,
see tests/fixtures/run/dockerd.py), its image built here from this machine's Python (no registry).

The demo's operations act on its containers and the engine sees them; the docker twin of the
database-failover scenario drills it end to end (docker kill, failover runbook, rollback by docker
start); a killed supervisor's containers stop by themselves and the next demo removes them; and
``demo down`` leaves no container behind (the engine's own listing).
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "run"))
from dockerd import Engine  # noqa: E402
from drillkit import SCENARIOS, read_events, sooner_copy, wait_for, wait_for_event  # noqa: E402

pytestmark = pytest.mark.integration

SERVICES = ["db-a", "db-b", "checkout", "monitor", "traffic"]


@pytest.fixture
def docker(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    monkeypatch.setenv("DOCKER_HOST", engine.host)  # the CLI runs in a workspace with our environment
    try:
        yield engine
    finally:
        engine.remove_all()


def demo_containers(engine: Engine) -> dict[str, dict]:
    """Service name → the engine's listing entry, for every container of a demo (running or not)."""
    listed = engine.api.containers(all=True, filters={"label": "gameday.demo.service"})
    return {c["Labels"]["gameday.demo.service"]: c for c in listed}


def test_demo_up_docker_runs_every_service_in_a_container_and_its_operations_act_on_them(docker, workspace):
    up = workspace.run("demo", "up", "--docker", timeout=120)
    assert up.returncode == 0, up
    assert "containers: gameday-demo-" in up.stdout
    boxes = demo_containers(docker)
    assert sorted(boxes) == sorted(SERVICES)
    assert all(c["State"] == "running" for c in boxes.values())
    state = workspace.demo_state()
    assert state is not None and state["runtime"]["kind"] == "docker"
    assert state["runtime"]["docker_host"] == docker.host  # from DOCKER_HOST, recorded as it was
    instance = state["runtime"]["instance"]
    assert {c["Labels"]["gameday.demo.instance"] for c in boxes.values()} == {instance}
    # the pid file holds the container's process, as the engine sees it (the host's pid namespace)
    db_a = docker.api.inspect_container(boxes["db-a"]["Id"])["State"]
    assert int(Path(state["processes"]["db-a"]["pid_file"]).read_text()) == db_a["Pid"]

    from gameday.demo.control import attach_demo

    handle = attach_demo(workspace.state_dir)
    assert handle is not None and handle.url == state["url"]
    handle.kill("db-primary")
    assert not docker.state(boxes["db-a"]["Id"])["Running"]  # the engine's own word
    handle.stop_process("checkout")
    assert workspace.run("demo", "status").stdout.count("stopped") == 1
    reset = handle.reset()
    assert reset["started"] == ["db-a"] and reset["continued"] == ["checkout"]
    assert docker.state(boxes["db-a"]["Id"])["Running"]  # the same container, started again
    assert docker.state(boxes["db-a"]["Id"])["Pid"] != db_a["Pid"]
    # the engine acting behind the supervisor's back (as a docker fault and its rollback do): it follows
    docker.api.kill(boxes["db-b"]["Id"])
    assert wait_for(lambda: handle.status()["processes"]["db-b"]["state"] == "dead", 10)
    docker.api.start(boxes["db-b"]["Id"])
    assert wait_for(lambda: handle.status()["processes"]["db-b"]["state"] == "running", 10)
    pid_b = docker.state(boxes["db-b"]["Id"])["Pid"]
    assert wait_for(lambda: Path(state["processes"]["db-b"]["pid_file"]).read_text().strip() == str(pid_b), 10)
    # a container removed behind its back (docker rm) is made again by the next restart
    docker.api.remove_container(boxes["db-b"]["Id"], force=True)
    assert handle.restart("db-b")["restarted"] == "db-b"
    assert demo_containers(docker)["db-b"]["State"] == "running"

    down = workspace.run("demo", "down", timeout=60)
    assert down.returncode == 0, down
    assert demo_containers(docker) == {}  # removed, not just stopped


def test_the_docker_twin_drills_the_failover_against_the_demos_containers(docker, workspace):
    twin = sooner_copy(SCENARIOS / "checkout-db-primary-failure-docker.yaml", workspace.cwd)  # the fault at 1s
    done = workspace.run("run", str(twin), "--mode", "ci", "--out", "out", timeout=180)
    assert done.returncode == 0, done
    assert "score 100.0/100" in done.stdout
    events = read_events(next((workspace.cwd / "out").rglob("journal.jsonl")))
    injected = next(e["data"] for e in events if e["kind"] == "FaultInjected")
    assert injected["kind"] == "docker"
    ran = [(e["data"]["name"], e["data"]["phase"], e["data"]["status"]) for e in events if e["kind"] == "ActivityRan"
           and e["data"]["name"].endswith("-db-a")]
    assert next(e["data"]["target"] for e in events if e["kind"] == "DrillStarted")["kind"] == "demo"
    assert [(n.split(" ")[0], p, s) for n, p, s in ran] == [("kill", "method", "succeeded"),
                                                           ("undo", "rollback", "succeeded")]
    assert any(e["kind"] == "RecoveryObserved" for e in events)
    assert workspace.ledger_entries() == []
    assert demo_containers(docker) == {}  # the drill started the demo, and stopped it


def test_a_killed_supervisors_containers_stop_and_the_next_demo_removes_them_with_a_teams_own_image(docker, workspace):
    assert workspace.run("demo", "up", "--docker", timeout=120).returncode == 0
    state = workspace.demo_state()
    assert state is not None
    os.kill(state["pid"], signal.SIGKILL)
    # every service watches the supervisor (--watch-pid) and exits when it is gone
    assert wait_for(lambda: all(c["State"] == "exited" for c in demo_containers(docker).values()), 15), \
        json.dumps({n: c["State"] for n, c in demo_containers(docker).items()})
    # the next demo runs a team's own image, built from `gameday demo image --context` (on the built one: no
    # registry here) as the README says a team with a registry does
    assert workspace.run("demo", "image", "--context", "ctx").returncode == 0
    built = list(docker.api.build(path=str(workspace.cwd / "ctx"), tag="team/gameday-demo:1", rm=True, decode=True,
                                  buildargs={"BASE": state["runtime"]["image"]}))
    assert not [b for b in built if "error" in b], built
    again = workspace.run("demo", "up", "--docker", "--image", "team/gameday-demo:1", timeout=120)
    assert again.returncode == 0, again
    assert "image team/gameday-demo:1" in again.stdout
    assert sorted(demo_containers(docker)) == sorted(SERVICES)
    assert all(c["State"] == "running" for c in demo_containers(docker).values())
    assert workspace.run("demo", "down", timeout=60).returncode == 0
    assert demo_containers(docker) == {}
    # older demo images go on --prune only, and the one this machine builds now stays
    docker.api.tag(state["runtime"]["image"], "gameday-demo", "py3.11-000000000000")
    pruned = workspace.run("demo", "image", "--prune", timeout=60)
    assert pruned.returncode == 0, pruned
    assert "removed gameday-demo:py3.11-000000000000" in pruned.stdout
    tags = [t for i in docker.api.images(name="gameday-demo") for t in i["RepoTags"] or []]
    assert tags == [state["runtime"]["image"]]


def test_a_drill_of_the_containers_refuses_the_demo_running_as_processes(docker, workspace):
    assert workspace.run("demo", "up", timeout=60).returncode == 0
    done = workspace.run("run", str(SCENARIOS / "checkout-db-primary-failure-docker.yaml"), "--mode", "ci", "--out",
                         "out", timeout=60)
    assert done.returncode == 3, done  # DemoError: the world is not as the drill needs it
    assert "runs as processes, and this scenario drills its containers" in done.stderr
    assert demo_containers(docker) == {}


def test_kill_9_of_the_twin_drill_in_mid_fault_then_recover_starts_the_demos_container_again(docker, workspace):
    twin = sooner_copy(SCENARIOS / "checkout-db-primary-failure-docker.yaml", workspace.cwd)
    drill = workspace.spawn("run", str(twin), "--mode", "ci", "--out", "out")
    assert wait_for(lambda: any((workspace.cwd / "out").rglob("journal.jsonl")), 60)
    wait_for_event(next((workspace.cwd / "out").rglob("journal.jsonl")), "ActivityRan", drill.proc, timeout=60)
    db_a = demo_containers(docker)["db-a"]
    assert db_a["State"] == "exited"  # killed by the fault
    os.kill(drill.proc.pid, signal.SIGKILL)
    drill.proc.wait(10)
    [entry] = workspace.ledger_entries()
    assert entry["spec"]["kind"] == "docker" and entry["spec"]["action"] == "kill"
    done = workspace.run("recover", timeout=60)
    assert done.returncode == 0, done
    assert workspace.ledger_entries() == []
    assert docker.state(db_a["Id"])["Running"]  # the same container, started again by the recorded rollback
    handle_state = workspace.demo_state()  # the demo the crashed drill started survives it, and follows the engine
    assert handle_state is not None
    from gameday.demo.control import attach_demo

    handle = attach_demo(workspace.state_dir)
    assert handle is not None
    assert wait_for(lambda: handle.status()["processes"]["db-a"]["state"] == "running", 10)
    assert workspace.run("demo", "down", timeout=60).returncode == 0
    assert demo_containers(docker) == {}
