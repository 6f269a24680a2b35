"""Which Kubernetes context chaostoolkit-kubernetes will use, read the way it reads it — ``KUBERNETES_CONTEXT``,
else the kubeconfig's ``current-context`` (``KUBECONFIG``'s first file, else ``~/.kube/config``) — so a drill whose
scenario declares ``target.kubernetes.context`` is refused before anything starts when another context is in
force (a drill meant for staging never reaches production because of a stale ``kubectl config use-context``)."""

from __future__ import annotations

import os
from pathlib import Path

import yaml


def effective_context() -> tuple[str | None, str]:
    """(the context chaosk8s would use, where that comes from); None when none is set anywhere."""
    if os.environ.get("KUBERNETES_CONTEXT"):
        return os.environ["KUBERNETES_CONTEXT"], "KUBERNETES_CONTEXT"
    paths = os.environ.get("KUBECONFIG", "")
    path = Path(paths.split(os.pathsep)[0]) if paths else Path.home() / ".kube" / "config"
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")[:1_000_000])
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None, str(path)
    current = doc.get("current-context") if isinstance(doc, dict) else None
    return (current if isinstance(current, str) and current else None), str(path)


def context_problem(declared: str | None) -> str | None:
    """Why a drill of a scenario declaring ``declared`` may not start here (None: it may)."""
    if declared is None:
        return None
    current, source = effective_context()
    if current == declared:
        return None
    found = f"the context in force is {current!r} ({source})" if current else f"no context is set ({source})"
    return (f"the scenario declares Kubernetes context {declared!r} but {found}: set KUBERNETES_CONTEXT={declared} "
            "(chaostoolkit-kubernetes reads it) or switch contexts")
