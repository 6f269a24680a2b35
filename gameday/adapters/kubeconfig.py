"""Which Kubernetes context chaostoolkit-kubernetes will use, read the way it reads it, so a drill whose scenario
declares ``target.kubernetes.context`` is refused before anything starts when another context is in force (a drill
meant for staging never reaches production because of a stale ``kubectl config use-context``).

chaostoolkit-kubernetes (0.39, ``create_k8s_api_client``) uses a kubeconfig only if ``os.path.exists`` holds for
``KUBECONFIG`` taken as one path (default ``~/.kube/config``): a list such as ``a.yaml:b.yaml`` is one missing
file to it, and then it connects to ``KUBERNETES_HOST`` or the in-pod configuration, whatever the context says.
So: no such file, no context in force (a declared one is refused); else ``KUBERNETES_CONTEXT``, else the file's
``current-context``. The kubeconfig is read up to :data:`MAX_BYTES` (``KUBECONFIG=/dev/zero`` is refused, not read
to exhaustion). What an activity's own secrets say (chaostoolkit-kubernetes reads them first) is checked offline,
with the scenario: :func:`gameday.model.kubernetes.k8s_secret_problems`."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

#: The largest kubeconfig read (bytes).
MAX_BYTES = 1_000_000


def _kubeconfig() -> str:
    """``KUBECONFIG`` as chaostoolkit-kubernetes takes it: one path (default ``~/.kube/config``), never a list; a
    string, as it tests it (``KUBECONFIG=`` is no file to it, where ``Path("")`` would be the current folder)."""
    return os.path.expanduser(os.environ.get("KUBECONFIG", "~/.kube/config"))


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
    path = _kubeconfig()
    if not os.path.exists(path):
        why = ("there is no such file, so chaostoolkit-kubernetes would connect to KUBERNETES_HOST or the in-pod "
               "configuration (it takes KUBECONFIG as one path, not a list of files)")
        return None, path or "KUBECONFIG (empty)", why
    if os.environ.get("KUBERNETES_CONTEXT"):
        return os.environ["KUBERNETES_CONTEXT"], "KUBERNETES_CONTEXT", None
    current, trouble = _read_context(Path(path))
    return current, path, trouble


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
    if trouble is not None and not os.path.exists(_kubeconfig()) and source != "KUBERNETES_CONTEXT":
        return f"the scenario declares Kubernetes context {declared!r} but {found}: point KUBECONFIG at one kubeconfig file"
    return (f"the scenario declares Kubernetes context {declared!r} but {found}: set KUBERNETES_CONTEXT={declared} "
            "(chaostoolkit-kubernetes reads it) or switch contexts")
