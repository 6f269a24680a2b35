"""Which Kubernetes context chaostoolkit-kubernetes will use, read the way it reads it — ``KUBERNETES_CONTEXT``,
else the kubeconfig's ``current-context`` (of ``KUBECONFIG``'s files that exist, the last that sets it: the Kubernetes
Python client merges them so, where kubectl takes the first; without ``KUBECONFIG``, ``~/.kube/config``) — so a drill whose
scenario declares ``target.kubernetes.context`` is refused before anything starts when another context is in
force (a drill meant for staging never reaches production because of a stale ``kubectl config use-context``).
The kubeconfig is read up to :data:`MAX_BYTES` (``KUBECONFIG=/dev/zero`` is refused, not read to exhaustion).
What an activity's own secrets say (chaostoolkit-kubernetes reads them first) is checked offline, with the
scenario: :func:`gameday.model.kubernetes.k8s_secret_problems`."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

#: The largest kubeconfig read (bytes).
MAX_BYTES = 1_000_000


def _kubeconfigs() -> list[Path]:
    paths = [Path(p).expanduser() for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p]
    return paths or [Path.home() / ".kube" / "config"]


def _read_context(path: Path) -> tuple[str | None, str | None]:
    """(the file's ``current-context``, None) or (None, why there is none)."""
    try:
        with path.open("rb") as f:
            data = f.read(MAX_BYTES + 1)
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        return None, f"it cannot be read: {exc.strerror or exc}"
    if len(data) > MAX_BYTES:
        return None, f"it is larger than {MAX_BYTES // 1_000_000} MB"
    try:
        doc = yaml.safe_load(data.decode("utf-8"))
    except UnicodeDecodeError:
        return None, "it is not UTF-8 text"
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return None, "it is not YAML" + (f" (line {mark.line + 1})" if mark is not None else "")
    current = doc.get("current-context") if isinstance(doc, dict) else None
    return (current, None) if isinstance(current, str) and current else (None, None)


def _effective() -> tuple[str | None, str, str | None]:
    if os.environ.get("KUBERNETES_CONTEXT"):
        return os.environ["KUBERNETES_CONTEXT"], "KUBERNETES_CONTEXT", None
    paths = _kubeconfigs()
    found: tuple[str | None, str] = (None, os.pathsep.join(map(str, paths)))
    for path in paths:  # as kubernetes.config.kube_config.KubeConfigMerger: a later file's current-context wins
        current, trouble = _read_context(path)
        if trouble is not None:
            return None, str(path), trouble
        if current is not None:
            found = (current, str(path))
    return found[0], found[1], None


def effective_context() -> tuple[str | None, str]:
    """(the context chaosk8s would use, where that comes from); None when none is set anywhere (or the kubeconfig
    cannot be read: :func:`context_problem` says why)."""
    current, source, _ = _effective()
    return current, source


def context_problem(declared: str | None) -> str | None:
    """Why a drill of a scenario declaring ``declared`` may not start here (None: it may)."""
    if declared is None:
        return None
    current, source, trouble = _effective()
    if current == declared:
        return None
    if trouble is not None:
        found = f"the kubeconfig {source} gives none: {trouble}"
    elif current:
        found = f"the context in force is {current!r} ({source})"
    else:
        found = f"no context is set ({source})"
    return (f"the scenario declares Kubernetes context {declared!r} but {found}: set KUBERNETES_CONTEXT={declared} "
            "(chaostoolkit-kubernetes reads it) or switch contexts")
