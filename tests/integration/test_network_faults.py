"""Network faults in a real network namespace (tests/fixtures/run/netns.py: our own, linked to the host by a
veth pair on a link-local /30, a small HTTP server inside): each action is injected, seen from the host, and
removed by its rollback — only its own rules; a whole drill's probe sees the partition; after a kill -9 in
mid-fault, `gameday recover` leaves no rule behind (checked in the kernel's own listing, iptables-save)."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "run"))
from drillkit import read_events, wait_for, wait_for_event  # noqa: E402
from netns import Namespace, make_namespace  # noqa: E402

from gameday.adapters.netfaults import NetworkInjector  # noqa: E402
from gameday.model.network import NetworkSelector  # noqa: E402

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def ns() -> Iterator[Namespace]:
    space = make_namespace()
    try:
        yield space
    finally:
        space.delete()


def injector(ns: Namespace, action: str, **kw) -> NetworkInjector:
    sel = NetworkSelector(netns=ns.name, interfaces=[ns.inner])
    return NetworkInjector("shop", sel, action, owner="f", **kw)  # type: ignore[arg-type]


def test_partition_drops_both_ways_and_its_rollback_removes_only_its_rules(ns):
    assert ns.get()[0] == 200
    foreign = ["ip", "netns", "exec", ns.name, "iptables", "-A", "INPUT", "-p", "udp", "--dport", "9", "-j", "DROP"]
    import subprocess

    subprocess.run(foreign, check=True)
    try:
        inj = injector(ns, "partition", peer="169.254.77.1")
        assert inj.select().kind == "network"
        result = inj.inject()
        assert result.ok, result.error
        assert ns.rules().count(inj.tag) == 2
        status, _ = ns.get(timeout=0.5)
        assert status in ("TimeoutError", "timeout")  # dropped: no answer at all
        back = inj.rollback()
        assert back.ok, back.error
        assert inj.tag not in ns.rules() and "--dport 9 -j DROP" in ns.rules()  # ours gone, the other rule kept
        assert ns.get()[0] == 200
        assert inj.rollback().ok  # idempotent: nothing left to remove
    finally:
        subprocess.run([*foreign[:5], "-D", *foreign[6:]], check=True)


def test_reset_refuses_connections_at_once(ns):
    inj = injector(ns, "reset", peer="169.254.77.1", port=8080)
    try:
        assert inj.inject().ok
        status, _ = ns.get(timeout=2.0)
        assert status == "ConnectionRefusedError"  # a TCP reset: refused at once, not a timeout
    finally:
        assert inj.rollback().ok and ns.get()[0] == 200


def test_loss_rules_carry_their_probability(ns):
    inj = injector(ns, "loss", peer="169.254.77.1", probability=0.3)
    try:
        assert inj.inject().ok
        rules = [line for line in ns.rules().splitlines() if inj.tag in line]
        assert len(rules) == 2, rules
        for line in rules:  # the kernel keeps it as a 32-bit fraction: 0.29999999981
            assert "--mode random --probability " in line
            assert float(line.split("--probability ")[1].split()[0]) == pytest.approx(0.3, abs=1e-6)
    finally:
        assert inj.rollback().ok and inj.tag not in ns.rules()


def test_bandwidth_limits_what_leaves_the_namespace(ns):
    size = 200_000  # 1.6 Mbit: at 1 mbit at least 1.6 s (a slow machine only makes it slower)
    status, quick = ns.get(f"/{size}", timeout=10)
    assert status == 200
    inj = injector(ns, "bandwidth", rate="1mbit", interface=ns.inner)
    try:
        result = inj.inject()
        assert result.ok, result.runs
        assert "tbf 7a7e:" in ns.qdisc()
        status, slow = ns.get(f"/{size}", timeout=20)
        assert status == 200 and slow >= 1.2 and slow > 3 * quick
    finally:
        assert inj.rollback().ok and "7a7e:" not in ns.qdisc()


def test_a_missing_namespace_or_undeclared_interface_is_refused(ns):
    gone = NetworkInjector("shop", NetworkSelector(netns="gd-no-such-ns"), "partition", owner="f")
    assert "no network namespace 'gd-no-such-ns'" in gone.preflight()
    other = NetworkInjector("shop", NetworkSelector(netns=ns.name, interfaces=[]), "bandwidth", owner="f", rate="1mbit",
                            interface=ns.inner)
    assert "is not declared in its interfaces" in other.preflight()


# ---------------------------------------------------------------------------------- whole drills
SCENARIO = """\
apiVersion: gameday/v1
id: netns-partition
title: The shop's namespace is cut off
severity: SEV2
target:
  url: http://169.254.77.2:8080
  networks:
    shop: {{netns: {netns}, interfaces: [{inner}]}}
steady_state:
  - name: shop health
    http: {{url: "{{target.url}}/health", timeout: 300ms}}
faults:
  - id: cut
    at: 1s
    max_duration: {hold}
    network: {{target: shop, action: partition, peer: 169.254.77.1}}
detection:
  within: 2s
  signals: [{{alert: {{alertname: ShopDown}}}}]
recovery: {{within: 1m}}
abort: {{max_duration: 2m}}
timing: {{baseline: 0s, cooldown: 0s, probe_interval: 100ms}}
"""


def write_scenario(ws, ns: Namespace, hold: str = "2s") -> Path:
    path = ws.cwd / "net.yaml"
    path.write_text(SCENARIO.format(netns=ns.name, inner=ns.inner, hold=hold))
    return path


def test_a_drill_partitions_its_probe_sees_it_and_the_rollback_heals(ns, workspace):
    done = workspace.run("run", str(write_scenario(workspace, ns)), "--mode", "ci", "--out", "out", timeout=60)
    assert done.returncode in (0, 1), done
    events = read_events(workspace.cwd / "out" / "journal.jsonl")
    assert next(e for e in events if e["kind"] == "FaultInjected")["data"]["kind"] == "network"
    assert any(e["kind"] == "ImpactStarted" for e in events) and any(e["kind"] == "RecoveryObserved" for e in events)
    ran = [(e["data"]["phase"], e["data"]["status"]) for e in events if e["kind"] == "ActivityRan"]
    assert ran == [("method", "succeeded")] * 2 + [("rollback", "succeeded")] * 2
    assert "gameday:" not in ns.rules() and workspace.ledger_entries() == []


def test_kill_9_in_mid_fault_then_recover_leaves_no_rule_behind(ns, workspace):
    drill = workspace.spawn("run", str(write_scenario(workspace, ns, hold="1m")), "--mode", "ci", "--out", "out")
    assert wait_for(lambda: (workspace.cwd / "out" / "journal.jsonl").exists(), 30)
    wait_for_event(workspace.cwd / "out" / "journal.jsonl", "ActivityRan", drill.proc, timeout=30)
    assert wait_for(lambda: ns.rules().count("gameday:cut:") == 2, 10)
    os.kill(drill.proc.pid, signal.SIGKILL)
    drill.proc.wait(10)
    assert "gameday:cut:" in ns.rules()  # left behind by the crash
    done = workspace.run("recover", timeout=60)
    assert done.returncode == 0, done
    assert "gameday:" not in ns.rules() and workspace.ledger_entries() == []
    assert ns.get()[0] == 200


@pytest.mark.parametrize("action, kw", [("bandwidth", {"rate": "2mbit"}), ("loss", {"probability": 0.5}),
                                        ("reset", {"port": 8080})])
def test_recover_removes_each_actions_rules_from_what_the_ledger_recorded(ns, action, kw):
    """What `gameday recover` does after a crash: rebuild the injector from the ledger's spec alone and roll back."""
    from gameday.drill.injectors import injector_from_spec
    from gameday.drill.ledger import read_spec

    extra = {"interface": ns.inner} if action == "bandwidth" else {"peer": "169.254.77.1"}
    crashed = injector(ns, action, **kw, **extra)
    spec = crashed.select()
    assert crashed.inject().ok
    assert ("7a7e:" in ns.qdisc()) if action == "bandwidth" else (crashed.tag in ns.rules())
    back = injector_from_spec(read_spec(spec.model_dump(mode="json", exclude_none=True))).rollback()
    assert back.ok, back.runs
    assert "7a7e:" not in ns.qdisc() and "gameday:" not in ns.rules()
