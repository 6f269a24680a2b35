"""A Kubernetes target and its blast radius, checked offline.

A scenario's ``target.kubernetes`` declares the cluster a drill may touch: its ``context`` (kubeconfig), one
``namespace``, and named ``selections`` (pods, deployments or nodes, by labels and/or names), each with its
blast radius: ``count`` (the most objects an activity may act on) or ``percent`` (the share, for activities
that take a share). Faults and runbooks drive the cluster through chaostoolkit-kubernetes activities
(``chaosk8s.*`` python providers, as Chaos Toolkit runs them). :func:`k8s_activity_problems` checks each such
action against the declaration, statically, as ``gameday validate`` and ``gameday run`` read the scenario —
no cluster is needed (and none is contacted): its namespace must be the declared one; its
``label_selector``/``name`` a declared selection of the right kind; its quantity (``qty``, ``count``,
``all``, ``mode: percentage``) within the selection's radius. Probes only read, and are not bounded.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from gameday.model.scenario_base import Strict

K8sKind = Literal["pod", "deployment", "node"]
#: The module families of chaostoolkit-kubernetes and the kind of object each acts on.
MODULE_KINDS: dict[str, K8sKind] = {"chaosk8s.pod": "pod", "chaosk8s.deployment": "deployment",
                                    "chaosk8s.node": "node"}


class K8sSelection(Strict):
    """A named set of cluster objects a drill may act on, and how many at most."""

    kind: K8sKind = "pod"
    labels: dict[str, str] = Field(default_factory=dict, description="the label selector (every label equal)")
    names: list[str] = Field(default_factory=list, description="objects by name")
    count: int | None = Field(None, ge=1, le=10000, description="at most this many objects per activity")
    percent: float | None = Field(None, gt=0, le=100, description="at most this share (mode: percentage)")
    production: bool = Field(False, description="production objects: the drill needs --allow-production")

    @model_validator(mode="after")
    def _bounded(self) -> K8sSelection:
        if not self.labels and not self.names:
            raise ValueError("a Kubernetes selection needs 'labels' or 'names': gameday never selects a whole namespace")
        if (self.count is None) == (self.percent is None):
            raise ValueError("a Kubernetes selection states its blast radius: exactly one of 'count' or 'percent'")
        return self

    def selector(self) -> str:
        """The labels as a Kubernetes label selector: ``app=web,tier=front`` (sorted)."""
        return ",".join(f"{k}={v}" for k, v in sorted(self.labels.items()))


class KubernetesTarget(Strict):
    """The cluster a drill may touch: one namespace of one context, and what in it."""

    context: str | None = Field(None, description="the kubeconfig context (default: the current one)")
    namespace: str = Field(description="the only namespace activities may act in")
    selections: dict[str, K8sSelection] = Field(default_factory=dict)
    production: bool = Field(False, description="a production cluster: the drill needs --allow-production")


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


def k8s_activity_problems(activity: Any, kube: KubernetesTarget | None) -> list[str]:
    """What is wrong with one activity's reach into the cluster (empty: nothing, or not a Kubernetes action)."""
    if not isinstance(activity, dict) or activity.get("type") == "probe":
        return []
    provider = activity.get("provider")
    if not isinstance(provider, dict):
        return []
    module, func = provider.get("module"), provider.get("func")
    if not isinstance(module, str) or not module.startswith("chaosk8s"):
        return []
    label = f"activity {activity.get('name')!r} ({module}.{func})"
    if kube is None:
        why = ("acts on a Kubernetes cluster: declare target.kubernetes (context, namespace, selections): gameday never "
               "drills an undeclared cluster")
        return [f"{label} {why}"]
    args = provider.get("arguments") or {}
    if not isinstance(args, dict):
        return []  # chaoslib's own validation says what is wrong with it
    kind = next((k for prefix, k in MODULE_KINDS.items() if module.startswith(prefix)), None)
    problems = []
    ns = args.get("ns", args.get("pod_namespace", "default" if kind != "node" else None))
    if ns is not None and ns != kube.namespace:
        problems.append(f"{label}: namespace {ns!r} is not the declared target.kubernetes.namespace {kube.namespace!r}")
    raw_selector, name = args.get("label_selector"), args.get("name")
    wanted = _selector_labels(raw_selector)
    if raw_selector is not None and wanted is None:
        why = "is not plain key=value terms: gameday cannot bound what it selects"
        return [*problems, f"{label}: label_selector {raw_selector!r} {why}"]
    if wanted is None and name is None:
        every = f"it would reach every {kind or 'object'} of the namespace"
        return [*problems, f"{label}: names no label_selector or name: {every}"]
    candidates = [s for s in kube.selections.values() if kind is None or s.kind == kind]
    chosen = next((s for s in candidates if (wanted is None or s.labels == wanted)
                   and (name is None or name in s.names or (not s.names and wanted is not None))), None)
    if chosen is None:
        declared = "; ".join(f"{n}: {s.kind} {s.selector()} {','.join(s.names)}".strip()
                             for n, s in kube.selections.items()) or "none"
        asked = " and ".join(x for x in (f"label_selector {raw_selector!r}" if wanted else "",
                                         f"name {name!r}" if name else "") if x)
        unknown = f"is no declared {kind or 'Kubernetes'} selection (target.kubernetes.selections: {declared})"
        return [*problems, f"{label}: {asked} {unknown}"]
    return problems + _quantity(label, args, chosen, func)


def _quantity(label: str, args: dict[str, Any], sel: K8sSelection, func: Any) -> list[str]:
    """The activity's quantity against the selection's radius (``drain_nodes`` without ``count``: every match)."""
    every = args.get("all") is True or (func == "drain_nodes" and args.get("count") is None and args.get("name") is None)
    allowed = f"count {sel.count}" if sel.count else f"{sel.percent} %"
    if every and sel.percent != 100:
        how = "all: true" if args.get("all") is True else "no count"
        return [f"{label}: takes every match ({how}); the selection allows {allowed}"]
    if args.get("mode") == "percentage":
        share = args.get("qty", 1)
        if sel.percent is None or not isinstance(share, (int, float)) or share > sel.percent:
            limit = allowed if sel.percent is not None else "a count, not a share"
            return [f"{label}: takes {share} % of the matches; the selection allows {limit}"]
        return []
    qty = args.get("qty", args.get("count", 1))
    if sel.count is None:
        return [f"{label}: takes {qty} object(s); the selection states a percent: use mode: percentage, or a count"]
    if not isinstance(qty, int) or isinstance(qty, bool) or qty > sel.count:
        return [f"{label}: takes {qty!r} object(s), more than the {sel.count} the selection allows"]
    return []
