"""Network faults in a scenario: the namespaces a drill may touch, each action's arguments, refused with a
one-line reason; the rules each action adds (read without a kernel: the commands the injector would run)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gameday.adapters.netfaults import NetworkInjector
from gameday.model.network import NetworkFault, NetworkSelector, rate_bits
from gameday.model.scenario import Scenario


@pytest.mark.parametrize("fault, message", [
    ({"target": "n", "action": "loss"}, "'probability' goes with action 'loss'"),
    ({"target": "n", "action": "partition", "probability": 0.5}, "'probability' goes with action 'loss'"),
    ({"target": "n", "action": "bandwidth", "rate": "1mbit"}, "needs 'rate' and 'interface'"),
    ({"target": "n", "action": "bandwidth", "rate": "1mbit", "interface": "v", "peer": "10.0.0.1"}, "no 'peer'"),
    ({"target": "n", "action": "bandwidth", "rate": "1kbit", "interface": "v"}, "below 8kbit"),
    ({"target": "n", "action": "bandwidth", "rate": "fast", "interface": "v"}, "a rate like '512kbit'"),
    ({"target": "n", "action": "partition", "rate": "1mbit"}, "go with action 'bandwidth'"),
    ({"target": "n", "action": "partition", "peer": "not-an-ip"}, "not an IPv4 address or network"),
    ({"target": "n", "action": "partition", "peer": "::1"}, "only IPv4 peers"),
    ({"target": "n", "action": "partition", "port": 80}, "a 'port' needs 'protocol: tcp' or 'udp'"),
    ({"target": "n", "action": "reset", "protocol": "udp"}, "a reset is TCP's"),
    ({"target": "n", "action": "delay"}, "Input should be 'partition', 'loss', 'reset' or 'bandwidth'"),
])
def test_network_fault_arguments(fault, message):
    with pytest.raises(ValueError, match=message):
        NetworkFault.model_validate(fault)


def test_namespaces_and_interfaces_are_names_not_commands():
    with pytest.raises(ValueError, match="not a namespace name"):
        NetworkSelector(netns="x; rm -rf /")
    with pytest.raises(ValueError, match="not an interface name"):
        NetworkSelector(netns="ok", interfaces=["a-very-long-interface-name"])
    assert rate_bits("1.5mbit") == 1_500_000 and rate_bits("512kbit") == 512_000


def scenario(network: dict, networks: dict | None = None) -> Scenario:
    return Scenario.model_validate({
        "apiVersion": "gameday/v1", "id": "n", "title": "n", "severity": "SEV3",
        "target": {"networks": networks if networks is not None else {"api": {"netns": "orders", "interfaces": ["v0"]}}},
        "steady_state": [{"http": {"url": "http://127.0.0.1:1/"}}],
        "faults": [{"id": "f", "at": "1s", "network": network}],
        "detection": {"within": "30s"}, "recovery": {"within": "1m"}, "abort": {"max_duration": "2m"}})


def test_undeclared_namespaces_and_interfaces_are_refused():
    with pytest.raises(ValueError, match="no network named 'db' in target.networks"):
        scenario({"target": "db", "action": "partition"})
    with pytest.raises(ValueError, match="interface 'v9' is not one of target.networks.api.interfaces"):
        scenario({"target": "api", "action": "bandwidth", "rate": "1mbit", "interface": "v9"})
    assert scenario({"target": "api", "action": "partition"}, {"api": {"netns": "o", "production": True}}
                    ).production_parts() == ["target.networks.api"]


def test_the_rules_each_action_adds_both_ways_tagged():
    sel = NetworkSelector(netns="orders", interfaces=["v0"])
    reset = NetworkInjector("api", sel, "reset", owner="f", peer="10.20.0.5/32", port=5432, token="t")
    assert reset._rules() == [
        ["iptables", "-I", "OUTPUT", "-d", "10.20.0.5/32", "-p", "tcp", "--dport", "5432", "-m", "comment", "--comment",
         "gameday:f:t", "-j", "REJECT", "--reject-with", "tcp-reset"],
        ["iptables", "-I", "INPUT", "-s", "10.20.0.5/32", "-p", "tcp", "--dport", "5432", "-m", "comment", "--comment",
         "gameday:f:t", "-j", "REJECT", "--reject-with", "tcp-reset"]]
    loss = NetworkInjector("api", sel, "loss", owner="f", probability=0.25, token="t")
    assert loss._rules()[0] == ["iptables", "-I", "OUTPUT", "-m", "comment", "--comment", "gameday:f:t", "-m",
                                "statistic", "--mode", "random", "--probability", "0.25", "-j", "DROP"]
    shape = NetworkInjector("api", sel, "bandwidth", owner="f", rate="1mbit", interface="v0", token="t")
    assert shape._shape()[:10] == ["tc", "qdisc", "replace", "dev", "v0", "root", "handle", "7a7e:", "tbf", "rate"]
    assert shape.ledger_spec().interfaces == ["v0"] and reset.ledger_spec().interfaces == []


def test_the_shipped_example_validates():
    from gameday.loader import load_scenario

    sc = load_scenario(Path(__file__).resolve().parents[2] / "scenarios" / "network-partition-db.yaml").scenario
    assert sc.faults[0].network.peer == "10.20.0.0/24" and sc.abort.when[0].check == "orders API answers"
