"""The Kubernetes blast radius of a loaded scenario, checked offline (split from :mod:`gameday.loader`): every
chaostoolkit-kubernetes activity its faults and runbooks bring, inline or in the experiments they name, against
``target.kubernetes`` (the rules are :mod:`gameday.model.kubernetes`'s)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from gameday.errors import Problem
from gameday.model.scenario import Scenario
from gameday.yamlio.marks import Loc


class FileRefs(Protocol):
    """What the loader resolved of a scenario's references (the loader's ``_References``)."""

    experiments: dict[Path, dict[str, Any]]
    fault_experiments: dict[str, Path]
    fault_rollback_experiments: dict[str, Path]
    runbook_experiments: dict[str, Path]

    def located(self, loc: Loc, message: str) -> Problem: ...


def kubernetes_problems(scenario: Scenario, refs: FileRefs) -> list[Problem]:
    """Each chaostoolkit-kubernetes activity of the scenario's faults and runbooks (inline, or in the experiments they
    name: steady-state probes, method and rollbacks) checked against ``target.kubernetes``
    (:func:`gameday.model.kubernetes.k8s_activity_problems`), offline; located at the activity, or at the
    ``experiment:`` that brings it. Then the secrets scopes those activities read (``provider.secrets``) — in
    ``target.secrets``, and in each experiment's ``secrets`` unless ``target.secrets`` overrides them — must not
    pick another cluster (:func:`gameday.model.kubernetes.k8s_secret_problems`)."""
    from gameday.model.kubernetes import k8s_activity_problems, k8s_secret_problems, k8s_secret_scopes
    from gameday.model.scenario import Target

    target = scenario.target if isinstance(scenario.target, Target) else None
    kube = target.kubernetes if target is not None else None
    out: list[Problem] = []
    used: dict[str, None] = {}  # the secrets scopes chaosk8s activities read, anywhere (target.secrets reaches all)

    def check(acts: Any, loc: tuple[str | int, ...], inline: bool) -> list[str]:
        scopes: list[str] = []
        for j, act in enumerate(acts if isinstance(acts, list) else []):
            for message in k8s_activity_problems(act, kube):
                out.append(refs.located((*loc, j) if inline else loc, message))
            scopes += k8s_secret_scopes(act)
        used.update(dict.fromkeys(scopes))
        return scopes

    def experiment(path: Path | None, loc: tuple[str | int, ...]) -> None:
        exp = refs.experiments.get(path) if path is not None else None
        if path is None or not isinstance(exp, dict):
            return
        hypothesis = exp.get("steady-state-hypothesis")
        scopes = check(hypothesis.get("probes") if isinstance(hypothesis, dict) else None, loc, False)
        scopes += check(exp.get("method"), loc, False) + check(exp.get("rollbacks"), loc, False)
        secrets = exp.get("secrets")
        if kube is None or target is None or not isinstance(secrets, dict):
            return
        for scope in dict.fromkeys(scopes):
            over, own = target.secrets.get(scope), secrets.get(scope)
            if over is not None and not (isinstance(over, dict) and isinstance(own, dict) and "type" not in over):
                continue  # target.secrets replaces the whole scope (as gameday merges them): checked there
            for _, message in k8s_secret_problems(own, kube, f"secrets.{scope}", tuple(over or ())):
                out.append(refs.located(loc, f"experiment {path.name}: {message}"))

    for i, fault in enumerate(scenario.faults):
        check(fault.activities, ("faults", i, "activities"), True)
        check(fault.rollbacks, ("faults", i, "rollbacks"), True)
        if fault.rollback is not None:
            check(fault.rollback.activities, ("faults", i, "rollback", "activities"), True)
        experiment(refs.fault_experiments.get(fault.id), ("faults", i, "experiment"))
        experiment(refs.fault_rollback_experiments.get(fault.id), ("faults", i, "rollback", "experiment"))
    for name, book in scenario.runbooks.items():
        check(book.activities, ("runbooks", name, "activities"), True)
        experiment(refs.runbook_experiments.get(name), ("runbooks", name, "experiment"))
    if kube is not None and target is not None:
        for scope in used:
            for key, message in k8s_secret_problems(target.secrets.get(scope), kube, f"target.secrets.{scope}"):
                out.append(refs.located(("target", "secrets", scope, *((key,) if key else ())), message))
    return out
