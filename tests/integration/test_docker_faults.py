"""Docker faults against a real Docker engine (our own dockerd, see tests/fixtures/run/dockerd.py).

Each action is injected, seen in the engine's own listing, and rolled back; selections that match
nothing or too much are refused with nothing touched; a whole `gameday run` drill pauses a container
its container check then sees down; and after a kill -9 in mid-fault, `gameday recover` leaves no
container paused (checked in the engine's listing).
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "run"))
from dockerd import Engine  # noqa: E402
from drillkit import read_events, wait_for, wait_for_event  # noqa: E402

from gameday.adapters.docker import ContainerProbe, ContainerRestarter, DockerInjector  # noqa: E402
from gameday.errors import InjectionError  # noqa: E402
from gameday.model.containers import ContainerSelector  # noqa: E402

pytestmark = pytest.mark.integration


@pytest.fixture
def docker(engine: Engine) -> Iterator[Engine]:
    try:
        yield engine
    finally:
        engine.remove_all()


def sel(**kw) -> ContainerSelector:
    return ContainerSelector.model_validate(kw)


def injector(engine: Engine, action: str, selector: ContainerSelector, **kw) -> DockerInjector:
    return DockerInjector("web", selector, action, host=engine.host, owner="f", **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("action, seen", [
    ("pause", lambda s: s["Paused"]),
    ("stop", lambda s: not s["Running"]),
    ("kill", lambda s: not s["Running"]),
])
def test_each_action_is_injected_seen_by_the_engine_and_rolled_back(docker, action, seen):
    docker.run("web-1", labels={"app": "web"})
    inj = injector(docker, action, sel(labels={"app": "web"}, count=1))
    spec = inj.select()
    assert [c.name for c in spec.containers] == ["web-1"]  # named in the ledger before any is touched
    result = inj.inject()
    assert result.ok, result.error
    assert [(r.provider, r.status) for r in result.runs] == [("docker", "succeeded")]
    assert seen(docker.state("web-1"))
    back = inj.rollback()
    assert back.ok, back.error
    state = docker.state("web-1")
    assert state["Running"] and not state["Paused"]
    assert inj.rollback().ok  # idempotent


def test_restart_undoes_itself_and_its_rollback_starts_a_container_it_finds_stopped(docker):
    cid = docker.run("web-1", labels={"app": "web"})
    started = docker.state("web-1")["StartedAt"]
    inj = injector(docker, "restart", sel(name="web-1", count=1))
    assert inj.inject().ok
    assert docker.state("web-1")["StartedAt"] != started and docker.state("web-1")["Running"]
    docker.api.stop(cid, timeout=1)
    assert inj.rollback().ok and docker.state("web-1")["Running"]


def test_a_selection_that_matches_nothing_or_too_much_is_refused_with_nothing_touched(docker):
    for i in range(3):
        docker.run(f"web-{i}", labels={"app": "web"})
    with pytest.raises(InjectionError, match=r"no running container matches"):
        injector(docker, "pause", sel(labels={"app": "nope"}, count=1)).select()
    too_many = injector(docker, "pause", sel(labels={"app": "web"}, count=2))
    assert "3 running containers match (web-0, web-1, web-2), more than the 2 the scenario allows" in too_many.preflight()
    with pytest.raises(InjectionError, match="more than the 2 the scenario allows: refused, nothing injected"):
        too_many.select()
    assert not any(docker.state(f"web-{i}")["Paused"] for i in range(3))
    half = injector(docker, "pause", sel(name="~web-.*", percent=50))
    assert [c.name for c in half.select().containers] == ["web-0"]  # 50 % of 3: one, in name order
    assert half.inject().ok
    assert [docker.state(f"web-{i}")["Paused"] for i in range(3)] == [True, False, False]
    assert half.rollback().ok and not docker.state("web-0")["Paused"]


def test_limit_and_its_rollback_a_container_without_limits_gets_the_hosts(docker):
    docker.run("web-1", labels={"app": "web"})
    inj = injector(docker, "limit", sel(name="web-1", count=1), cpus=0.5, memory="64m")
    assert inj.inject().ok
    hc = docker.api.inspect_container("web-1")["HostConfig"]
    assert (hc["NanoCpus"], hc["Memory"]) == (500_000_000, 64 * 1024**2)
    back = inj.rollback()
    assert back.ok, back.runs
    assert "Docker cannot remove one" in back.runs[0].output
    hc = docker.api.inspect_container("web-1")["HostConfig"]
    assert hc["NanoCpus"] == (os.cpu_count() or 1) * 10**9 and hc["Memory"] >= 1024**3 and hc["MemorySwap"] == -1


def test_disconnect_and_reconnect_with_the_aliases(docker):
    api = docker.api
    api.create_network("shopnet", driver="bridge", internal=True)  # no route out: nothing leaves the machine
    cid = docker.run("web-1", labels={"app": "web"}, network="none")
    api.disconnect_container_from_network(cid, "none")
    api.connect_container_to_network(cid, "shopnet", aliases=["catalog"])
    inj = injector(docker, "disconnect", sel(name="web-1", count=1), network="shopnet")
    assert inj.inject().ok
    assert "shopnet" not in api.inspect_container(cid)["NetworkSettings"]["Networks"]
    assert inj.rollback().ok
    net = api.inspect_container(cid)["NetworkSettings"]["Networks"]["shopnet"]
    assert "catalog" in net["Aliases"]
    with pytest.raises(InjectionError, match="is not on network 'othernet'"):
        injector(docker, "disconnect", sel(name="web-1", count=1), network="othernet").select()


def test_container_probe_and_restart_runbook(docker):
    docker.run("web-1", labels={"app": "web"})
    probe = ContainerProbe("web up", "web", sel(labels={"app": "web"}, count=1), host=docker.host)
    assert probe.probe().ok
    docker.api.pause("web-1")
    obs = probe.probe()
    assert not obs.ok and obs.detail == "web-1 paused"
    result = ContainerRestarter("web", sel(labels={"app": "web"}, count=1), host=docker.host).run()
    assert result.ok and probe.probe().ok
    missing = ContainerProbe("x", "x", sel(labels={"app": "nope"}, count=1), host=docker.host).probe()
    assert not missing.ok and "no container matches" in missing.detail


# ---------------------------------------------------------------------------------- whole drills
SCENARIO = """\
apiVersion: gameday/v1
id: docker-pause-web
title: The web container freezes
severity: SEV2
target:
  docker_host: {host}
  containers:
    web: {{labels: {{app: web}}, count: {count}}}
steady_state:
  - name: web running
    container: {{container: web}}
faults:
  - id: pause-web
    at: 1s
    max_duration: {hold}
    docker: {{target: web, action: pause}}
detection:
  within: 2s
  signals: [{{alert: {{alertname: WebDown}}}}]
recovery: {{within: 1m}}
abort: {{max_duration: 2m}}
timing: {{baseline: 0s, cooldown: 0s, probe_interval: 100ms}}
"""


def write_scenario(ws, engine: Engine, *, count: int = 1, hold: str = "2s") -> Path:
    path = ws.cwd / "docker.yaml"
    path.write_text(SCENARIO.format(host=engine.host, count=count, hold=hold))
    return path


def test_a_drill_pauses_the_container_its_check_sees_down_and_rolls_it_back(docker, workspace):
    docker.run("web-1", labels={"app": "web"})
    path = write_scenario(workspace, docker)
    done = workspace.run("run", str(path), "--mode", "ci", "--out", "out", timeout=60)
    assert done.returncode in (0, 1), done
    events = read_events(next((workspace.cwd / "out").rglob("journal.jsonl")))
    injected = next(e for e in events if e["kind"] == "FaultInjected")
    assert injected["data"]["kind"] == "docker"
    ran = [e["data"] for e in events if e["kind"] == "ActivityRan"]
    assert [(r["name"], r["phase"], r["status"]) for r in ran] == [
        ("pause web-1", "method", "succeeded"), ("undo pause web-1", "rollback", "succeeded")]
    impact = next(e for e in events if e["kind"] == "ImpactStarted")
    assert impact["data"]["detail"] == "web-1 paused"
    assert any(e["kind"] == "RecoveryObserved" for e in events)
    state = docker.state("web-1")
    assert state["Running"] and not state["Paused"]
    assert workspace.ledger_entries() == []


def test_a_selection_over_the_blast_radius_aborts_the_drill_before_anything_is_injected(docker, workspace):
    docker.run("web-1", labels={"app": "web"})
    docker.run("web-2", labels={"app": "web"})
    path = write_scenario(workspace, docker, count=1)
    done = workspace.run("run", str(path), "--mode", "ci", "--out", "out", timeout=60)
    assert done.returncode == 3, done
    events = read_events(next((workspace.cwd / "out").rglob("journal.jsonl")))
    aborted = next(e for e in events if e["kind"] == "DrillAborted")
    assert aborted["data"]["reason"].startswith("blast radius refused before injection: fault pause-web: containers "
                                                "'web' (labels app=web): 2 running containers match (web-1, web-2)")
    assert not any(e["kind"] == "FaultInjected" for e in events)
    assert not docker.state("web-1")["Paused"] and not docker.state("web-2")["Paused"]


def test_kill_9_in_mid_fault_then_recover_leaves_no_container_paused(docker, workspace):
    docker.run("web-1", labels={"app": "web"})
    path = write_scenario(workspace, docker, hold="1m")
    drill = workspace.spawn("run", str(path), "--mode", "ci", "--out", "out")
    assert wait_for(lambda: any((workspace.cwd / "out").rglob("journal.jsonl")), 30)
    journal = next((workspace.cwd / "out").rglob("journal.jsonl"))
    wait_for_event(journal, "ActivityRan", drill.proc, timeout=30)
    assert docker.state("web-1")["Paused"]
    [entry] = workspace.ledger_entries()
    assert entry["spec"]["kind"] == "docker" and [c["name"] for c in entry["spec"]["containers"]] == ["web-1"]
    os.kill(drill.proc.pid, signal.SIGKILL)
    drill.proc.wait(10)
    assert docker.state("web-1")["Paused"]  # left behind by the crash
    done = workspace.run("recover", timeout=60)
    assert done.returncode == 0, done
    assert not any(c["State"] == "paused" for c in docker.api.containers(all=True))  # the engine's own listing
    assert workspace.ledger_entries() == []
    assert docker.state("web-1")["Running"]


def test_production_needs_allow_production_and_every_report_says_so(docker, workspace):
    docker.run("web-1", labels={"app": "web", "environment": "production"})
    path = write_scenario(workspace, docker)
    refused = workspace.run("run", str(path), "--mode", "ci", "--out", "out", timeout=60)
    assert refused.returncode == 3, refused
    events = read_events(next((workspace.cwd / "out").rglob("journal.jsonl")))
    reason = next(e for e in events if e["kind"] == "DrillAborted")["data"]["reason"]
    assert "web-1 (environment=production) labelled production: refused without --allow-production" in reason
    assert not docker.state("web-1")["Paused"]

    declared = path.read_text().replace("count: 1}", "count: 1, production: true}")
    path.write_text(declared)
    refused = workspace.run("run", str(path), "--mode", "ci", "--out", "out2", timeout=60)
    assert refused.returncode == 2 and refused.stdout.count("\n") + refused.stderr.count("\n") <= 2, refused
    assert "declares production (target.containers.web): run it with --allow-production" in refused.stderr
    assert not (workspace.cwd / "out2").exists() or not any((workspace.cwd / "out2").rglob("journal.jsonl"))

    done = workspace.run("run", str(path), "--mode", "ci", "--out", "out3", "--allow-production", timeout=60)
    assert done.returncode in (0, 1), done
    warning = ("PRODUCTION: this drill ran with --allow-production, against production: target.containers.web declared "
               "production by the scenario")
    card = (workspace.cwd / "out3" / "scorecard.json").read_text()
    assert warning in card
    post = (workspace.cwd / "out3" / "postmortem.md").read_text()
    assert "PRODUCTION: this drill ran with --allow-production" in post
    junit = (workspace.cwd / "out3" / "junit.xml").read_text()
    assert "PRODUCTION: this drill ran with --allow-production" in junit
    assert not docker.state("web-1")["Paused"]


def test_what_a_rollback_puts_back_and_what_it_leaves(docker):
    api = docker.api
    # --rm containers cannot be killed or stopped: nothing would bring them back
    docker.run("gone-1", labels={"app": "tmp"}, auto_remove=True)
    with pytest.raises(InjectionError, match=r"removed when it stops \(--rm\): a kill could not be undone"):
        injector(docker, "kill", sel(labels={"app": "tmp"}, count=1)).select()
    # a limit of CPUs alone is the only thing put back
    docker.run("web-1", labels={"app": "web"})
    cpu_only = injector(docker, "limit", sel(name="web-1", count=1), cpus=0.5)
    assert cpu_only.inject().ok and cpu_only.rollback().ok
    hc = api.inspect_container("web-1")["HostConfig"]
    assert hc["Memory"] == 0 and hc["NanoCpus"] == api.info()["NCPU"] * 10**9
    # a container paused by someone else before the injection failed on it stays paused
    docker.run("web-2", labels={"app": "web"})
    both = injector(docker, "pause", sel(labels={"app": "web"}, count=2))
    assert [c.name for c in both.select().containers] == ["web-1", "web-2"]
    api.pause("web-2")  # someone else, between the choice and the pause
    result = both.inject()
    assert not result.ok and [r.status for r in result.runs] == ["succeeded", "failed"]
    assert both.rollback().ok
    assert not docker.state("web-1")["Paused"] and docker.state("web-2")["Paused"]
    api.unpause("web-2")
    # a stopped container recreated under its name counts as restored
    stopper = injector(docker, "stop", sel(name="web-1", count=1))
    assert stopper.inject().ok
    api.remove_container("web-1", force=True)
    docker.run("web-1", labels={"app": "web"})
    back = stopper.rollback()
    assert back.ok and back.runs[0].output.startswith("replaced by ")


def test_disconnect_puts_back_a_static_address(docker):
    api = docker.api
    api.create_network("fixednet", driver="bridge", internal=True, ipam=__import__("docker").types.IPAMConfig(
        pool_configs=[__import__("docker").types.IPAMPool(subnet="169.254.90.0/24")]))
    cid = docker.run("web-1", labels={"app": "web"})
    api.disconnect_container_from_network(cid, "none")
    api.connect_container_to_network(cid, "fixednet", ipv4_address="169.254.90.77")
    inj = injector(docker, "disconnect", sel(name="web-1", count=1), network="fixednet")
    assert inj.inject().ok and inj.rollback().ok
    net = api.inspect_container(cid)["NetworkSettings"]["Networks"]["fixednet"]
    assert net["IPAddress"] == "169.254.90.77"


def test_a_restart_runbook_keeps_to_the_count_and_the_production_rule(docker):
    for i in range(2):
        docker.run(f"web-{i}", labels={"app": "web"})
    too_many = ContainerRestarter("web", sel(labels={"app": "web"}, count=1), host=docker.host).run()
    assert not too_many.ok and "more than the 1 the scenario allows" in too_many.error
    docker.run("db-1", labels={"app": "db", "environment": "production"})
    prod = ContainerRestarter("db", sel(labels={"app": "db"}, count=1), host=docker.host).run()
    assert not prod.ok and "labelled production: refused without --allow-production" in prod.error
    allowed = ContainerRestarter("db", sel(labels={"app": "db"}, count=1), host=docker.host, allow_production=True).run()
    assert allowed.ok


@pytest.mark.parametrize("action, kw, broken, healed", [
    ("kill", {}, lambda a, c: not a.inspect_container(c)["State"]["Running"],
     lambda a, c: a.inspect_container(c)["State"]["Running"]),
    ("stop", {}, lambda a, c: not a.inspect_container(c)["State"]["Running"],
     lambda a, c: a.inspect_container(c)["State"]["Running"]),
    ("limit", {"memory": "64m"}, lambda a, c: a.inspect_container(c)["HostConfig"]["Memory"] == 64 * 2**20,
     lambda a, c: a.inspect_container(c)["HostConfig"]["Memory"] > 2**30),
    ("disconnect", {"network": "recnet"}, lambda a, c: "recnet" not in a.inspect_container(c)["NetworkSettings"]["Networks"],
     lambda a, c: "catalog" in a.inspect_container(c)["NetworkSettings"]["Networks"]["recnet"]["Aliases"]),
])
def test_recover_undoes_each_action_from_what_the_ledger_recorded(docker, action, kw, broken, healed):
    """What `gameday recover` does after a crash: rebuild the injector from the ledger's spec alone and roll back."""
    from gameday.drill.injectors import injector_from_spec
    from gameday.drill.ledger import read_spec

    api = docker.api
    cid = docker.run("web-1", labels={"app": "web"})
    if action == "disconnect":
        api.create_network("recnet", driver="bridge", internal=True)
        api.disconnect_container_from_network(cid, "none")
        api.connect_container_to_network(cid, "recnet", aliases=["catalog"])
    crashed = injector(docker, action, sel(name="web-1", count=1), **kw)
    spec = crashed.select()
    assert crashed.inject().ok and broken(api, cid)
    as_written = read_spec(spec.model_dump(mode="json", exclude_none=True))  # the ledger's JSON, read back
    back = injector_from_spec(as_written).rollback()
    assert back.ok, back.runs
    assert healed(api, cid)
