"""The kubernetes target: every chaostoolkit-kubernetes action of a scenario (inline, or in an experiment it
names) is checked offline against target.kubernetes — namespace, selection, quantity — with located one-line
problems; a drill refuses to start under another kube context. No cluster is contacted by any of this."""

from __future__ import annotations

import os

from pathlib import Path

import pytest

from gameday.adapters.kubeconfig import context_problem, effective_context
from gameday.errors import ScenarioError
from gameday.loader import load_scenario
from gameday.model.kubernetes import K8sSelection, KubernetesTarget, k8s_activity_problems

REPO = Path(__file__).resolve().parents[2]
KUBE = KubernetesTarget(context="staging", namespace="shop", selections={
    "web": K8sSelection(labels={"app": "web"}, count=2),
    "half": K8sSelection(labels={"app": "web", "tier": "front"}, percent=50),
    "nodes": K8sSelection(kind="node", labels={"pool": "spot"}, count=1),
    "api": K8sSelection(kind="deployment", names=["api"], count=1),
    "batch": K8sSelection(kind="node", labels={"pool": "batch"}, percent=100),
    "canary": K8sSelection(labels={"app": "canary"}, names=["canary-0"], count=1)})


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
    assert "there is no such file" in context_problem("staging")
    monkeypatch.setenv("KUBERNETES_CONTEXT", "staging")  # a context, but no kubeconfig for it to pick from
    assert "there is no such file" in context_problem("staging")
    monkeypatch.delenv("KUBERNETES_CONTEXT")


@pytest.mark.parametrize("files", [
    [("a", "staging"), ("b", "production")],
    [("a", "staging")],
    [("missing", "staging")],
    [],  # KUBECONFIG= (empty): no file to chaosk8s, though Path("") is the current folder
])
def test_a_kubeconfig_is_read_as_chaostoolkit_kubernetes_reads_it(tmp_path, monkeypatch, files):
    """KUBECONFIG as one path, as chaosk8s takes it (its own check is the oracle here): a list of files is one
    missing file to it, and it would connect to KUBERNETES_HOST whatever the context — refused, even with
    KUBERNETES_CONTEXT set."""
    from chaosk8s import has_local_config_file

    paths = []
    for name, context in files:
        path = tmp_path / name
        if name != "missing":
            path.write_text(f"apiVersion: v1\nkind: Config\ncontexts: []\ncurrent-context: {context}\n")
        paths.append(str(path))
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join(paths))
    for env_context in (None, "staging"):
        if env_context:
            monkeypatch.setenv("KUBERNETES_CONTEXT", env_context)
        else:
            monkeypatch.delenv("KUBERNETES_CONTEXT", raising=False)
        problem = context_problem("staging")
        if has_local_config_file():
            assert problem is None and effective_context()[0] == "staging"
        else:
            assert effective_context()[0] is None
            assert problem is not None and "KUBERNETES_HOST" in problem and "not a list of files" in problem


NODE, DEPLOY = "chaosk8s.node.actions", "chaosk8s.deployment.actions"


@pytest.mark.parametrize("activity, expected", [
    # classified by the function, not the type: chaoslib runs a probe's function like an action's
    (act("terminate_pods", kind="probe", label_selector="app=web", ns="shop", qty=3), ["more than the 2"]),
    (act("terminate_pods", kind="probe", ns="shop"), ["names no label_selector or name"]),
    (act("pods_in_phase", "chaosk8s.pod.probes", label_selector="app=db", ns="other"), []),  # type action, reads
    (act("all_microservices_healthy", "chaosk8s.probes", ns="other"), []),
    # any truthy `all` takes every match (chaosk8s: `if not all`)
    (act("terminate_pods", label_selector="app=web", ns="shop", all=1), ["takes every match (all: 1)"]),
    (act("terminate_pods", label_selector="app=web", ns="shop", all="true"), ["takes every match (all: 'true')"]),
    (act("terminate_pods", label_selector="app=web", ns="shop", all="false"), ["takes every match (all: 'false')"]),
    (act("terminate_pods", label_selector="app=web", ns="shop", all=0, rand="yes", qty=2), []),
    (act("terminate_pods", label_selector="app=web", ns="shop", mode="Percentage", qty=10), ["mode 'Percentage' is neither"]),
    (act("terminate_pods", label_selector="app=web", ns="shop", qty=True), ["qty true is not a number of pods"]),
    (act("terminate_pods", label_selector="app=web", ns="shop", qty="2"), ["qty '2' is not a number of pods"]),
    (act("exec_in_pods", label_selector="app=web", ns="shop", cmd="id", qty=2), []),
    (act("exec_in_pods", label_selector="app=web", ns="shop", cmd="id", qty=3), ["more than the 2"]),
    # ns: null is not the declared namespace
    (act("terminate_pods", label_selector="app=web", ns=None), ["namespace None is not the declared"]),
    (act("terminate_pods", label_selector="app=web"), ["namespace 'default' is not the declared"]),
    # kinds: an explicit allowlist; a selection's kind must be the action's
    (act("scale_statefulset", "chaosk8s.statefulset.actions", name="web", replicas=0, ns="shop"),
     ["gameday cannot bound chaosk8s.statefulset.actions.scale_statefulset yet: what it acts on is no pod"]),
    (act("delete_replica_set", "chaosk8s.replicaset.actions", label_selector="app=web", ns="shop"),
     ["gameday cannot bound chaosk8s.replicaset.actions.delete_replica_set yet"]),
    (act("kill_microservice", "chaosk8s.actions", name="web", ns="shop"), ["gameday cannot bound chaosk8s.actions."]),
    (act("delete_namespace", "chaosk8s.namespace.actions", name="shop"), ["cannot bound chaosk8s.namespace.actions"]),
    (act("stress_cpu", "chaosk8s.chaosmesh.stress.actions", name="s", workers=1, load=50, ns="shop",
         label_selectors="app=web"), ["cannot bound chaosk8s.chaosmesh.stress.actions.stress_cpu"]),
    (act("create_deployment", DEPLOY, spec_path="d.yaml", ns="shop"), ["its reach is not known to gameday"]),
    (act("terminate_pods", label_selector="pool=spot", ns="shop"), ["'pool=spot' is no declared pod selection"]),
    (act("terminate_pods", label_selector="app=canary", ns="shop"), ["is no declared pod selection"]),  # not only canary-0
    # deployments: one by name; delete_deployment by label takes every match
    (act("rollout_deployment", DEPLOY, name="api", ns="shop"), []),
    (act("scale_deployment", DEPLOY, replicas=0, ns="shop"), ["names no deployment"]),
    (act("delete_deployment", DEPLOY, name="api", label_selector="app=other", ns="shop"), []),  # the name decides
    (act("delete_deployment", DEPLOY, label_selector="app=web", ns="shop"), ["no declared deployment selection"]),
    (act("delete_deployment", DEPLOY, ns="shop"), ["it would reach every deployment of the namespace"]),
    # nodes: cluster-wide; count, name, every match
    (act("drain_nodes", NODE, label_selector="pool=spot", count=2), ["takes 2 object(s), more than the 1"]),
    (act("drain_nodes", NODE, label_selector="pool=spot", name="n1"), []),  # one node at most
    (act("drain_nodes", NODE, label_selector="pool=batch"), []),  # every match: percent 100
    (act("drain_nodes", NODE, count=1), ["it would reach every node of the cluster"]),
    (act("drain_nodes", NODE, label_selector="pool=spot", count=True), ["count true is not a number of nodes"]),
    (act("cordon_node", NODE, label_selector="pool=spot"), ["takes every match (label_selector, no name)"]),
    (act("uncordon_node", NODE, label_selector="pool=batch"), []),
    (act("cordon_node", NODE, name="n1"), ["name 'n1' is no declared node selection"]),
    (act("delete_nodes", NODE, label_selector="pool=spot"), []),  # the first match
    (act("delete_nodes", NODE, label_selector="pool=spot", rand=True, count=5), []),  # rand: one
    (act("delete_nodes", NODE, label_selector="pool=spot", count=3), ["takes 3 object(s), more than the 1"]),
    (act("delete_nodes", NODE, label_selector="pool=batch", all="yes"), ["deletes every node of the cluster"]),
    (act("drain_nodes", NODE, label_selector="pool=spot", count=1, pod_label_selector="app=web", pod_namespace="x"),
     ["namespace 'x' is not the declared"]),
    # secrets in the activity's own arguments (chaosk8s reads them before the environment)
    (act("terminate_pods", label_selector="app=web", ns="shop", secrets={"KUBERNETES_CONTEXT": "production"}),
     ["arguments.secrets.KUBERNETES_CONTEXT is 'production', not the declared target.kubernetes.context 'staging'"]),
    (act("count_pods", "chaosk8s.pod.probes", label_selector="app=web", secrets={"KUBERNETES_HOST": "https://x"}),
     ["arguments.secrets.KUBERNETES_HOST is set"]),
    (act("terminate_pods", label_selector="app=web", ns="shop", secrets={"KUBERNETES_CONTEXT": "staging"}), []),
])
def test_each_function_is_bounded_by_what_it_does(activity, expected):
    got = k8s_activity_problems(activity, KUBE)
    assert len(got) == len(expected), got
    for message, want in zip(got, expected, strict=True):
        assert want in message
        assert "\n" not in message


def test_every_supported_action_exists_with_the_arguments_it_is_bounded_by():
    """The allowlist is read from chaostoolkit-kubernetes's code: each function is there, an action (not a probe),
    with the selector and quantity arguments its bounder reads."""
    import importlib
    import inspect

    from gameday.model.kubernetes import SUPPORTED

    reads = {"label_selector", "name", "all", "rand", "mode", "qty", "count", "ns", "pod_namespace"}
    for dotted in SUPPORTED:
        module, func = dotted.rsplit(".", 1)
        params = set(inspect.signature(getattr(importlib.import_module(module), func)).parameters)
        assert module.endswith(".actions") and "secrets" in params, dotted
        assert params & reads, dotted
        assert ("ns" in params) == (SUPPORTED[dotted][0] != "node"), dotted  # nodes are cluster-wide


def test_production_selections_are_declared_or_labelled():
    assert K8sSelection(labels={"environment": "production"}, count=1).production
    assert K8sSelection(labels={"env": "prod"}, count=1).production
    assert K8sSelection.model_validate({"names": ["a"], "count": 1, "production": True}).production
    assert not K8sSelection(labels={"env": "staging"}, count=1).production
    with pytest.raises(ValueError, match="Extra inputs"):
        K8sSelection.model_validate({"names": ["a"], "count": 1, "declared_production": True})
    schema = K8sSelection.model_json_schema()["properties"]
    assert "production" in schema and "declared_production" not in schema


def test_a_labelled_production_selection_needs_allow_production(tmp_path):
    text = (REPO / "scenarios" / "kubernetes-pod-kill.yaml").read_text()
    text = text.replace("labels: {pool: spot}", "labels: {pool: spot, environment: production}")
    (tmp_path / "s.yaml").write_text(text)
    sc = load_scenario(tmp_path / "s.yaml").scenario
    assert sc.production_parts() == ["target.kubernetes.selections.spot-nodes"]


def _scenario(tmp_path, secrets: str, provider_secrets: str = "[k8s]") -> Path:
    text = (REPO / "scenarios" / "kubernetes-pod-kill.yaml").read_text()
    text = text.replace("          func: terminate_pods\n",
                        f"          func: terminate_pods\n          secrets: {provider_secrets}\n")
    text = text.replace("  url: http://127.0.0.1:8080\n", f"  url: http://127.0.0.1:8080\n  secrets: {secrets}\n")
    (tmp_path / "s.yaml").write_text(text)
    return tmp_path / "s.yaml"


def _problems(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return [str(p) for p in info.value.problems]


def test_target_secrets_chaosk8s_reads_must_not_pick_another_cluster(tmp_path):
    path = _scenario(tmp_path, "{k8s: {KUBERNETES_CONTEXT: production, KUBERNETES_HOST: 'https://10.0.0.1'}, "
                               "other: {KUBERNETES_HOST: 'https://x'}}")
    shown = _problems(path)
    assert len(shown) == 2, shown
    want = ("target.secrets.k8s.KUBERNETES_CONTEXT: target.secrets.k8s.KUBERNETES_CONTEXT is 'production', not the "
            "declared target.kubernetes.context 'staging'")
    assert want in shown[0], shown
    assert "target.secrets.k8s.KUBERNETES_HOST: " in shown[1] and "remove it" in shown[1]
    shown = _problems(_scenario(tmp_path, "{k8s: {KUBERNETES_CONTEXT: {type: env, key: KCTX}}}"))
    assert len(shown) == 1 and "comes from 'env' 'KCTX': gameday cannot check it offline" in shown[0], shown
    shown = _problems(_scenario(tmp_path, "{k8s: {type: vault, path: secret/k8s}}"))
    assert len(shown) == 1 and "target.secrets.k8s is loaded from 'vault'" in shown[0], shown
    # the declared context, or a scope no chaosk8s activity reads: fine
    load_scenario(_scenario(tmp_path, "{k8s: {KUBERNETES_CONTEXT: staging}, other: {KUBERNETES_HOST: 'https://x'}}"))
    load_scenario(_scenario(tmp_path, "{k8s: {KUBERNETES_HOST: 'https://x'}}", provider_secrets="[other]"))


def test_an_experiments_probes_and_secrets_are_checked_too(tmp_path):
    (tmp_path / "exp.yaml").write_text("""\
title: pods
description: pods
secrets:
  k8s: {KUBERNETES_CONTEXT: production, KUBERNETES_HOST: "https://10.0.0.1"}
  vault: {type: vault, path: secret/k8s}
steady-state-hypothesis:
  title: web is up
  probes:
    - type: probe
      name: sneaky-kill
      tolerance: true
      provider: {type: python, module: chaosk8s.pod.actions, func: terminate_pods,
                 arguments: {ns: shop, label_selector: "app=web", all: true}, secrets: [k8s, vault]}
method:
  - type: probe
    name: count
    provider: {type: python, module: chaosk8s.pod.probes, func: count_pods, arguments: {label_selector: "app=x"}}
rollbacks: []
""")
    text = (REPO / "scenarios" / "kubernetes-pod-kill.yaml").read_text()
    second = ('  - id: from-experiment\n    at: 20s\n    experiment: exp.yaml\n'
              '    rollback: {none: "the replica set restarts them"}\ndetection:')
    text = text.replace("detection:", second, 1)
    (tmp_path / "s.yaml").write_text(text)
    shown = _problems(tmp_path / "s.yaml")
    assert len(shown) == 4, shown
    assert all("faults[1].experiment: " in p for p in shown), shown
    assert "activity 'sneaky-kill'" in shown[0] and "takes every match (all: true)" in shown[0]
    assert "experiment exp.yaml: secrets.k8s.KUBERNETES_CONTEXT is 'production'" in shown[1]
    assert "experiment exp.yaml: secrets.k8s.KUBERNETES_HOST is set" in shown[2]
    assert "experiment exp.yaml: secrets.vault is loaded from 'vault'" in shown[3]
    # target.secrets overrides the experiment's keys (gameday merges them so): the declared context wins
    text = text.replace("  url: http://127.0.0.1:8080\n",
                        "  url: http://127.0.0.1:8080\n  secrets: {k8s: {KUBERNETES_CONTEXT: staging}}\n")
    (tmp_path / "s.yaml").write_text(text)
    shown = _problems(tmp_path / "s.yaml")
    assert len(shown) == 3 and not any("KUBERNETES_CONTEXT is" in p for p in shown), shown


def test_a_kubeconfig_that_is_endless_or_not_yaml_is_said_so(tmp_path, monkeypatch):
    monkeypatch.delenv("KUBERNETES_CONTEXT", raising=False)
    monkeypatch.setenv("KUBECONFIG", "/dev/zero")
    assert effective_context() == (None, "/dev/zero")
    assert "the kubeconfig /dev/zero gives none: it is larger than 1 MB" in context_problem("staging")
    config = tmp_path / "kubeconfig"
    config.write_text("current-context: [staging\n")
    monkeypatch.setenv("KUBECONFIG", str(config))
    problem = context_problem("staging")
    assert "it is not YAML (line 2)" in problem and "no context is set" not in problem, problem
    config.write_bytes(b"current-context: \xff\n")
    assert "it is not UTF-8 text" in context_problem("staging")
    monkeypatch.setenv("KUBECONFIG", str(tmp_path))
    assert "it cannot be read" in context_problem("staging")
    config.write_text("current-context: staging\n")
    monkeypatch.setenv("KUBECONFIG", str(config))
    assert context_problem("staging") is None
    monkeypatch.setenv("KUBECONFIG", f"{config}{':'}{tmp_path / 'other'}")  # a list: chaosk8s reads no file of it
    assert "point KUBECONFIG at one kubeconfig file" in context_problem("staging")
