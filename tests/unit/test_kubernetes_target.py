"""The kubernetes target: every chaostoolkit-kubernetes action of a scenario (inline, or in an experiment it
names) is checked offline against target.kubernetes — namespace, selection, quantity — with located one-line
problems; a drill refuses to start under another kube context. No cluster is contacted by any of this."""

from __future__ import annotations

from pathlib import Path

import pytest

from gameday.adapters.kubeconfig import context_problem, effective_context
from gameday.errors import ScenarioError
from gameday.loader import load_scenario
from gameday.model.kubernetes import K8sSelection, KubernetesTarget, k8s_activity_problems

REPO = Path(__file__).resolve().parents[2]
KUBE = KubernetesTarget(namespace="shop", selections={
    "web": K8sSelection(labels={"app": "web"}, count=2),
    "half": K8sSelection(labels={"app": "web", "tier": "front"}, percent=50),
    "nodes": K8sSelection(kind="node", labels={"pool": "spot"}, count=1),
    "api": K8sSelection(kind="deployment", names=["api"], count=1)})


def act(func: str, module: str = "chaosk8s.pod.actions", kind: str = "action", **arguments) -> dict:
    return {"type": kind, "name": "a", "provider": {"type": "python", "module": module, "func": func,
                                                   "arguments": arguments}}


@pytest.mark.parametrize("activity, expected", [
    (act("terminate_pods", label_selector="app=web", ns="shop", qty=2), []),
    (act("terminate_pods", label_selector="tier=front, app=web", ns="shop", mode="percentage", qty=50), []),
    (act("scale_deployment", "chaosk8s.deployment.actions", name="api", replicas=0, ns="shop"), []),
    (act("drain_nodes", "chaosk8s.node.actions", label_selector="pool=spot", count=1), []),
    (act("read_pod_logs", "chaosk8s.pod.probes", kind="probe", ns="kube-system"), []),  # probes only read
    (act("terminate_pods", label_selector="app=web", qty=3, ns="shop"), ["takes 3 object(s), more than the 2"]),
    (act("terminate_pods", label_selector="app=web", ns="prod"), ["namespace 'prod' is not the declared"]),
    (act("terminate_pods", label_selector="app=web", ns="shop", all=True), ["takes every match (all: true)"]),
    (act("terminate_pods", label_selector="app=db", ns="shop"), ["label_selector 'app=db' is no declared pod selection"]),
    (act("terminate_pods", label_selector="app!=web", ns="shop"), ["is not plain key=value terms"]),
    (act("terminate_pods", ns="shop"), ["names no label_selector or name: it would reach every pod"]),
    (act("terminate_pods", label_selector="app=web,tier=front", ns="shop", mode="percentage", qty=80),
     ["takes 80 % of the matches; the selection allows 50.0 %"]),
    (act("drain_nodes", "chaosk8s.node.actions", label_selector="pool=spot"), ["takes every match (no count)"]),
    (act("scale_deployment", "chaosk8s.deployment.actions", name="web", replicas=0, ns="shop"),
     ["name 'web' is no declared deployment selection"]),
])
def test_each_action_against_the_declaration(activity, expected):
    got = k8s_activity_problems(activity, KUBE)
    assert len(got) == len(expected), got
    for message, want in zip(got, expected, strict=True):
        assert want in message


def test_an_undeclared_cluster_is_refused():
    [message] = k8s_activity_problems(act("terminate_pods", label_selector="app=web"), None)
    assert "declare target.kubernetes" in message
    assert k8s_activity_problems({"type": "action", "provider": {"type": "process", "path": "true"}}, None) == []


def test_selections_state_their_blast_radius():
    with pytest.raises(ValueError, match="gameday never selects a whole namespace"):
        K8sSelection(count=1)
    with pytest.raises(ValueError, match="exactly one of 'count' or 'percent'"):
        K8sSelection(labels={"a": "b"})


def test_problems_are_located_in_the_scenario_and_at_the_experiment_that_brings_them(tmp_path):
    (tmp_path / "kill.yaml").write_text("""\
title: kill pods
description: pods
method:
  - type: action
    name: kill-them-all
    provider: {type: python, module: chaosk8s.pod.actions, func: terminate_pods, arguments: {ns: shop, all: true}}
""")
    text = (REPO / "scenarios" / "kubernetes-pod-kill.yaml").read_text()
    text = text.replace("ns: shop, qty: 2", "ns: default, qty: 2")  # the shipped example, in the wrong namespace
    second = ('  - id: from-experiment\n    at: 20s\n    experiment: kill.yaml\n'
              '    rollback: {none: "the replica set restarts them"}\ndetection:')
    (tmp_path / "s.yaml").write_text(text.replace("detection:", second, 1))
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "s.yaml")
    shown = [str(p) for p in info.value.problems]
    assert any("faults[0].activities[0]: activity 'terminate-two-web-pods' (chaosk8s.pod.actions.terminate_pods): "
               "namespace 'default' is not the declared target.kubernetes.namespace 'shop'" in p for p in shown), shown
    assert any("faults[1].experiment: activity 'kill-them-all'" in p and "names no label_selector" in p
               for p in shown), shown


def test_the_shipped_example_validates_offline():
    sc = load_scenario(REPO / "scenarios" / "kubernetes-pod-kill.yaml").scenario
    assert sc.target.kubernetes.namespace == "shop" and sc.production_parts() == []


def test_a_drill_refuses_another_kube_context(tmp_path, monkeypatch):
    monkeypatch.delenv("KUBERNETES_CONTEXT", raising=False)
    config = tmp_path / "kubeconfig"
    config.write_text("apiVersion: v1\nkind: Config\ncurrent-context: production\ncontexts: []\n")
    monkeypatch.setenv("KUBECONFIG", str(config))
    assert effective_context() == ("production", str(config))
    assert "declares Kubernetes context 'staging' but the context in force is 'production'" in context_problem("staging")
    monkeypatch.setenv("KUBERNETES_CONTEXT", "staging")
    assert context_problem("staging") is None and context_problem(None) is None
    monkeypatch.delenv("KUBERNETES_CONTEXT")
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    assert "no context is set" in context_problem("staging")
