"""A Kubernetes target and its blast radius, checked offline.

A scenario's ``target.kubernetes`` declares the cluster a drill may touch: its ``context`` (kubeconfig), one
``namespace``, and named ``selections`` (pods, deployments or nodes, by labels and/or names), each with its
blast radius: ``count`` (the most objects an activity may act on) or ``percent`` (the share, for activities
that take a share; ``percent: 100`` allows every match). Faults and runbooks drive the cluster through
chaostoolkit-kubernetes activities (``chaosk8s.*`` python providers, as Chaos Toolkit runs them).
:func:`k8s_activity_problems` checks each such activity against the declaration, statically, as ``gameday
validate`` and ``gameday run`` read the scenario — no cluster is needed (and none is contacted).

An activity is classified by its **function**, not its ``type`` (chaoslib runs a probe's function like an
action's): functions of ``chaosk8s.*.probes`` modules only read, and are not bounded; every other
``chaosk8s`` function must be one of :data:`SUPPORTED` — the actions whose reach gameday knows, each with the
kind of object it acts on, its selector arguments and how it counts (read from chaostoolkit-kubernetes
0.39's code) — and is refused otherwise. A supported action's namespace (``ns``, default ``default``) must
be the declared one; its ``label_selector`` and/or ``name`` a declared selection of its kind; its quantity
within that selection's radius. :func:`k8s_secret_problems` checks the secrets chaostoolkit-kubernetes reads
before the environment (``KUBERNETES_CONTEXT``, ``KUBERNETES_HOST``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field, model_validator

from gameday.model.containers import production_label
from gameday.model.scenario_base import Strict

K8sKind = Literal["pod", "deployment", "node"]


class K8sSelection(Strict):
    """A named set of cluster objects a drill may act on, and how many at most."""

    kind: K8sKind = "pod"
    labels: dict[str, str] = Field(default_factory=dict, description="the label selector (every label equal)")
    names: list[str] = Field(default_factory=list, description="objects by name")
    count: int | None = Field(None, ge=1, le=10000, description="at most this many objects per activity")
    percent: float | None = Field(None, gt=0, le=100, description="at most this share (mode: percentage)")
    declared_production: bool = Field(False, alias="production", title="Production",
                                      description="production objects: the drill needs --allow-production")

    @model_validator(mode="after")
    def _bounded(self) -> K8sSelection:
        if not self.labels and not self.names:
            raise ValueError("a Kubernetes selection needs 'labels' or 'names': gameday never selects a whole namespace")
        if (self.count is None) == (self.percent is None):
            raise ValueError("a Kubernetes selection states its blast radius: exactly one of 'count' or 'percent'")
        return self

    @property
    def production(self) -> bool:
        """Production objects: declared (``production: true``) or labelled (``environment: production``, ``env:
        prod``, ... — :func:`gameday.model.containers.production_label`); a drill of them needs
        ``--allow-production``."""
        return self.declared_production or production_label(self.labels) is not None

    def selector(self) -> str:
        """The labels as a Kubernetes label selector: ``app=web,tier=front`` (sorted)."""
        return ",".join(f"{k}={v}" for k, v in sorted(self.labels.items()))


class KubernetesTarget(Strict):
    """The cluster a drill may touch: one namespace of one context, and what in it."""

    context: str | None = Field(None, description="the kubeconfig context (default: the current one)")
    namespace: str = Field(description="the only namespace activities may act in")
    selections: dict[str, K8sSelection] = Field(default_factory=dict)
    production: bool = Field(False, description="a production cluster: the drill needs --allow-production")


@dataclass(frozen=True)
class _Reach:
    """What one action reaches: the objects its ``label_selector`` and/or ``name`` pick, and how many of them."""

    selector: Any = None
    """The raw ``label_selector`` (None: none)."""
    name: Any = None
    """The raw ``name`` (None: none)."""
    name_and_labels: bool = True
    """With both: the object of that name if it has those labels (False: the name alone decides)."""
    amount: float | None = 1
    """At most this many objects (a share of the matches when ``share``); None: every match."""
    share: bool = False
    how: str = ""
    """How every match was asked for (messages): ``all: true``, ``no count``, ..."""


Bounder = Callable[[dict[str, Any]], "_Reach | str"]


def _given(args: dict[str, Any], key: str) -> Any:
    """An argument as chaostoolkit-kubernetes tests it (``if label_selector:``): a falsy value is none."""
    return args.get(key) or None


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _shown(value: Any) -> str:
    """An argument's value for a message, the way the YAML would spell the common ones."""
    return {True: "true", False: "false"}.get(value, repr(value)) if isinstance(value, bool) else repr(value)


def _pods(args: dict[str, Any]) -> _Reach | str:
    """``terminate_pods``/``exec_in_pods``: pods by ``label_selector`` (``name_pattern`` only filters those); a
    truthy ``all`` takes every match (chaosk8s tests ``if not all``), else ``qty`` pods (``mode: fixed``) or
    ``qty`` % of the matches, rounded up (``mode: percentage``); ``rand``/``order`` only choose which."""
    selector = _given(args, "label_selector")
    mode = args.get("mode", "fixed")
    if not isinstance(mode, str) or mode not in ("fixed", "percentage"):
        return f"mode {_shown(mode)} is neither 'fixed' nor 'percentage'"
    if args.get("all"):
        return _Reach(selector, amount=None, how=f"all: {_shown(args['all'])}")
    qty = args.get("qty", 1)
    if mode == "percentage":
        if not isinstance(qty, (int, float)) or isinstance(qty, bool) or qty < 0:
            return f"qty {_shown(qty)} is not a percentage (a number, 0 to 100)"
        return _Reach(selector, amount=qty, share=True)
    if not _whole(qty) or qty < 0:
        return f"qty {_shown(qty)} is not a number of pods"
    return _Reach(selector, amount=qty)


def _one_by_name(args: dict[str, Any]) -> _Reach | str:
    """``scale_deployment``/``rollout_deployment``: the one deployment ``name`` names."""
    name = _given(args, "name")
    if name is None:
        return "names no deployment: give 'name', a deployment of a declared selection"
    return _Reach(name=name, name_and_labels=False)


def _delete_deployment(args: dict[str, Any]) -> _Reach | str:
    """``delete_deployment``: by ``name`` one deployment (its ``label_selector`` is then ignored), else every
    deployment its ``label_selector`` matches (neither: every deployment of the namespace)."""
    name = _given(args, "name")
    if name is not None:
        return _Reach(name=name, name_and_labels=False)
    return _Reach(_given(args, "label_selector"), amount=None, how="label_selector, no name")


def _drain_nodes(args: dict[str, Any]) -> _Reach | str:
    """``drain_nodes``: nodes by ``name`` and/or ``label_selector`` (both: their intersection, one node at most),
    ``count`` of them picked at random (none: every match). ``pod_label_selector`` only narrows them."""
    name, count = _given(args, "name"), args.get("count")
    if count is not None and not _whole(count):
        return f"count {_shown(count)} is not a number of nodes"
    if name is not None:
        return _Reach(_given(args, "label_selector"), name, amount=1 if count is None else min(1, max(count, 0)))
    if count is None:
        return _Reach(_given(args, "label_selector"), amount=None, how="no count")
    return _Reach(_given(args, "label_selector"), amount=max(count, 0))


def _name_or_every(args: dict[str, Any]) -> _Reach | str:
    """``cordon_node``/``uncordon_node``: the node ``name`` names (with a ``label_selector`` too: if it matches),
    else every node the ``label_selector`` matches."""
    name = _given(args, "name")
    if name is not None:
        return _Reach(_given(args, "label_selector"), name)
    return _Reach(_given(args, "label_selector"), amount=None, how="label_selector, no name")


def _delete_nodes(args: dict[str, Any]) -> _Reach | str:
    """``delete_nodes``: nodes by ``label_selector``; a truthy ``all`` means every node of the cluster, whatever
    the selector; a truthy ``rand``, or no ``count`` (or one below 1), one node; else ``count`` nodes."""
    if args.get("all"):
        return f"all: {_shown(args['all'])} deletes every node of the cluster, whatever its label_selector"
    count = args.get("count")
    if count is not None and not _whole(count):
        return f"count {_shown(count)} is not a number of nodes"
    one = args.get("rand") or count is None or count < 1
    return _Reach(_given(args, "label_selector"), amount=1 if one else count)


#: The chaostoolkit-kubernetes actions whose reach gameday bounds: ``module.func`` -> (the kind of object it
#: acts on, how its arguments select and count them). Every other ``chaosk8s`` function outside a ``probes``
#: module is refused.
SUPPORTED: dict[str, tuple[K8sKind, Bounder]] = {
    "chaosk8s.pod.actions.terminate_pods": ("pod", _pods),
    "chaosk8s.pod.actions.exec_in_pods": ("pod", _pods),
    "chaosk8s.deployment.actions.scale_deployment": ("deployment", _one_by_name),
    "chaosk8s.deployment.actions.rollout_deployment": ("deployment", _one_by_name),
    "chaosk8s.deployment.actions.delete_deployment": ("deployment", _delete_deployment),
    "chaosk8s.node.actions.drain_nodes": ("node", _drain_nodes),
    "chaosk8s.node.actions.cordon_node": ("node", _name_or_every),
    "chaosk8s.node.actions.uncordon_node": ("node", _name_or_every),
    "chaosk8s.node.actions.delete_nodes": ("node", _delete_nodes),
}

#: The secrets keys chaostoolkit-kubernetes reads (secrets first, then the environment) that pick the cluster.
CLUSTER_KEYS = ("KUBERNETES_CONTEXT", "KUBERNETES_HOST")


def is_k8s_module(module: Any) -> bool:
    """Whether a python provider's module is chaostoolkit-kubernetes's."""
    return isinstance(module, str) and (module == "chaosk8s" or module.startswith("chaosk8s."))


def read_only(module: str) -> bool:
    """Functions of ``chaosk8s.*.probes`` modules (and ``chaosk8s.probes``) only read the cluster."""
    return module.rsplit(".", 1)[-1] == "probes"


def _provider(activity: Any) -> dict[str, Any] | None:
    """A chaostoolkit-kubernetes activity's python provider (None: not such an activity)."""
    provider = activity.get("provider") if isinstance(activity, dict) else None
    if not isinstance(provider, dict) or not is_k8s_module(provider.get("module")):
        return None
    return provider


def k8s_secret_scopes(activity: Any) -> list[str]:
    """The secrets scopes a chaostoolkit-kubernetes activity reads (its provider's ``secrets: [NAME, ...]``)."""
    provider = _provider(activity)
    scopes = provider.get("secrets") if provider is not None else None
    return [s for s in scopes if isinstance(s, str)] if isinstance(scopes, list) else []


def _unsupported_why(module: str) -> str:
    kinds = {"chaosk8s.pod.": "pod", "chaosk8s.deployment.": "deployment", "chaosk8s.node.": "node"}
    if not any(module.startswith(prefix) for prefix in kinds):
        return ("what it acts on is no pod, deployment or node, the kinds a target.kubernetes selection declares; "
                "run it outside the drill, or use a supported action")
    known = ", ".join(key.rsplit(".", 1)[-1] for key in SUPPORTED)
    return f"its reach is not known to gameday (the supported actions: {known})"


def k8s_activity_problems(activity: Any, kube: KubernetesTarget | None) -> list[str]:
    """What is wrong with one activity's reach into the cluster (empty: nothing, or not a Kubernetes action)."""
    provider = _provider(activity)
    if provider is None:
        return []
    module, func = provider["module"], provider.get("func")
    if not isinstance(func, str):
        return []  # chaoslib's own validation says what is wrong with it
    name = activity.get("name")
    label = f"activity {name!r} ({module}.{func})"
    args = provider.get("arguments") or {}
    if not isinstance(args, dict):
        return []  # chaoslib's own validation says what is wrong with it
    if read_only(module):  # a probe's function, whatever the activity's type: it only reads
        return [] if kube is None else _argument_secrets(label, provider, args, kube)
    if kube is None:
        why = ("acts on a Kubernetes cluster: declare target.kubernetes (context, namespace, selections): gameday never "
               "drills an undeclared cluster")
        return [f"{label} {why}"]
    problems = _argument_secrets(label, provider, args, kube)
    known = SUPPORTED.get(f"{module}.{func}")
    if known is None:
        return [*problems, f"{label}: gameday cannot bound {module}.{func} yet: {_unsupported_why(module)}"]
    kind, bound = known
    key = "ns" if kind != "node" else "pod_namespace"  # nodes are cluster-wide: only the pods that pick them
    ns = args.get(key, "default" if kind != "node" else None)  # an explicit `ns: null` is None: refused
    if ns != kube.namespace and (key == "ns" or ns is not None):
        problems.append(f"{label}: namespace {ns!r} is not the declared target.kubernetes.namespace {kube.namespace!r}")
    reach = bound(args)
    if isinstance(reach, str):
        return [*problems, f"{label}: {reach}"]
    return problems + _selection_problems(label, kind, reach, kube)


def _selection_problems(label: str, kind: K8sKind, reach: _Reach, kube: KubernetesTarget) -> list[str]:
    """The declared selection the action reaches into, and its quantity against that selection's radius."""
    wanted = _selector_labels(reach.selector)
    if reach.selector is not None and wanted is None:
        why = "is not plain key=value terms: gameday cannot bound what it selects"
        return [f"{label}: label_selector {reach.selector!r} {why}"]
    if reach.name is not None and not isinstance(reach.name, str):
        return [f"{label}: name {reach.name!r} is not an object's name"]
    if wanted is None and reach.name is None:
        where = "of the cluster" if kind == "node" else "of the namespace"
        return [f"{label}: names no label_selector or name: it would reach every {kind} {where}"]
    inside = [s for s in kube.selections.values() if _within(reach, wanted, kind, s)]
    if not inside:
        declared = "; ".join(f"{n}: {s.kind} {s.selector()} {','.join(s.names)}".strip()
                             for n, s in kube.selections.items()) or "none"
        asked = " and ".join(x for x in (f"label_selector {reach.selector!r}" if wanted is not None else "",
                                         f"name {reach.name!r}" if reach.name is not None else "") if x)
        return [f"{label}: {asked} is no declared {kind} selection (target.kubernetes.selections: {declared})"]
    found = [_quantity(label, reach, s) for s in inside]
    return [] if None in found else [next(p for p in found if p is not None)]


def _within(reach: _Reach, wanted: dict[str, str] | None, kind: K8sKind, sel: K8sSelection) -> bool:
    """Whether every object the action can reach is in the selection."""
    if sel.kind != kind:
        return False
    if reach.name is not None and reach.name in sel.names:
        return not sel.labels or (reach.name_and_labels and wanted == sel.labels)
    both = reach.name is None or reach.name_and_labels  # a name with the labels only narrows them
    return both and wanted is not None and not sel.names and sel.labels == wanted


def _selector_labels(text: Any) -> dict[str, str] | None:
    """``'app=web, tier=front'`` as a dict; None for anything but plain equality terms."""
    if not isinstance(text, str) or not text.strip():
        return None
    out = {}
    for term in text.split(","):
        key, sep, value = term.strip().partition("=")
        if not sep or not key or value.startswith("=") or "!" in key:
            return None
        out[key.strip()] = value.strip()
    return out


def _quantity(label: str, reach: _Reach, sel: K8sSelection) -> str | None:
    """The action's quantity against one selection's radius (None: within it). ``percent: 100`` allows anything."""
    allowed = f"count {sel.count}" if sel.count else f"{sel.percent} %"
    if sel.percent == 100:
        return None
    if reach.amount is None:
        return f"{label}: takes every match ({reach.how}); the selection allows {allowed} (every match needs percent: 100)"
    if reach.share:
        if sel.percent is None or reach.amount > sel.percent:
            limit = allowed if sel.percent is not None else "a count, not a share"
            return f"{label}: takes {reach.amount:g} % of the matches; the selection allows {limit}"
        return None
    if sel.count is None:
        return (f"{label}: takes {reach.amount:g} object(s); the selection states a percent: use mode: percentage, "
                "or a count")
    if reach.amount > sel.count:
        return f"{label}: takes {reach.amount:g} object(s), more than the {sel.count} the selection allows"
    return None


def _argument_secrets(label: str, provider: dict[str, Any], args: dict[str, Any], kube: KubernetesTarget) -> list[str]:
    """Secrets given in the activity's own ``arguments`` (used when its provider names no ``secrets`` scopes)."""
    if "secrets" in provider or not isinstance(args.get("secrets"), dict):
        return []
    return [f"{label}: {m}" for _, m in k8s_secret_problems(args["secrets"], kube, "arguments.secrets")]


def k8s_secret_problems(scope: Any, kube: KubernetesTarget, where: str,
                        skip: tuple[str, ...] = ()) -> list[tuple[str | None, str]]:
    """What is wrong with one secrets scope chaostoolkit-kubernetes reads (it looks there before the environment):
    a ``KUBERNETES_CONTEXT`` other than the declared context, any ``KUBERNETES_HOST`` (it bypasses the
    kubeconfig's contexts), or either taken from the environment or a vault (unknowable offline). Each as (the
    key, or None for the whole scope; a one-line message naming ``where``). ``skip``: keys overridden elsewhere."""
    if not isinstance(scope, dict):
        return []
    if "type" in scope:
        return [(None, (f"{where} is loaded from {_shown(scope.get('type'))}: gameday cannot tell offline whether it "
                        f"sets {' or '.join(CLUSTER_KEYS)}; give chaostoolkit-kubernetes activities a scope of plain "
                        "values"))]
    out: list[tuple[str | None, str]] = []
    declared = kube.context
    for key in CLUSTER_KEYS:
        if key not in scope or key in skip:
            continue
        value, at = scope[key], f"{where}.{key}"
        if isinstance(value, dict):
            source = f"{_shown(value.get('type'))} {_shown(value.get('key', value.get('path')))}"
            fix = f"write {declared!r} there, or remove it" if key == "KUBERNETES_CONTEXT" and declared else "remove it"
            out.append((key, f"{at} comes from {source}: gameday cannot check it offline; {fix}"))
        elif key == "KUBERNETES_HOST":
            out.append((key, (f"{at} is set ({_shown(value)}): chaostoolkit-kubernetes would talk to that API server "
                              "whatever the context; remove it and name the cluster with target.kubernetes.context")))
        elif declared is None:
            out.append((key, (f"{at} is {_shown(value)} but target.kubernetes declares no context: declare it "
                              "(target.kubernetes.context), so the drill checks it is in force, or remove it")))
        elif value != declared:
            out.append((key, (f"{at} is {_shown(value)}, not the declared target.kubernetes.context {declared!r}: "
                              "chaostoolkit-kubernetes would use it over the context gameday checks; set it to "
                              f"{declared!r} or remove it")))
    return out
