"""Chaos Toolkit experiments checked with chaoslib's own validator, activity by activity.

Moved out of :mod:`gameday.loader`, which calls these on the experiments a scenario
references (``experiment:`` of a fault or a runbook) and on its inline ``activities``
and ``rollbacks``:

* :func:`check_experiment` — a parsed experiment (YAML or JSON) validated section by
  section (``method``, ``rollbacks``, ``steady-state-hypothesis.probes``), so each
  problem points at the offending activity, then as a whole. (That a fault's experiment needs
  ``rollbacks`` unless the scenario pairs it with a ``rollback:`` is reported by the loader, in
  the scenario, at the fault: a community experiment without rollbacks is not itself invalid.)
  Activities are checked as their folder (the experiment's) sees them.
* :func:`activity_problems` — chaoslib's verdict on one activity, located within it.

chaoslib is imported only when something is checked (never at import); it imports the
Python modules that python providers name. Its logger and warnings are silenced while it
validates.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from gameday.errors import Problem
from gameday.yamlio.marks import Marks

__all__ = ["activity_problems", "check_experiment"]

Loc = tuple[Any, ...]


@contextmanager
def _quiet_chaoslib() -> Iterator[None]:
    """Silence chaoslib's logger and warnings for the duration of a validation."""
    logger = logging.getLogger("chaostoolkit")
    level = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def activity_problems(activity: Any, names: set[str] | None, probe: bool = False,
                      folder: Path | None = None) -> list[tuple[Loc, str]]:
    """chaoslib's verdict on one activity, as ``(loc within the activity, message)`` pairs.

    ``names`` are the activities a ``ref`` may point at (None: refs are not allowed here).
    ``probe`` adds the steady-state hypothesis rules (a tolerance is required).
    ``folder`` is where the activity runs (the folder of the file holding it): a process
    provider's relative ``path`` is found there, a python provider's module on ``sys.path`` and
    then there (see :mod:`gameday.adapters.chaostoolkit`).
    """
    if not isinstance(activity, dict):
        return [((), f"an activity is a mapping, got {type(activity).__name__}")]
    label = f"activity {activity.get('name')!r}" if isinstance(activity.get("name"), str) else "activity"
    ref = activity.get("ref")
    if ref is not None:
        if names is None:
            return [(("ref",), "'ref' needs an experiment: inline activities cannot reference others")]
        if not isinstance(ref, str) or not ref:
            return [(("ref",), "a reference to an activity is a non-empty string")]
        return [] if ref in names else [(("ref",), f"no activity named {ref!r} in this experiment")]
    provider = activity.get("provider")
    if provider is not None and not isinstance(provider, dict):
        return [(("provider",), f"{label}: a provider is a mapping, got {type(provider).__name__}")]
    if isinstance(activity.get("pauses"), (list, str, int, float)) and not isinstance(activity.get("pauses"), bool):
        return [(("pauses",), f"{label}: 'pauses' is a mapping with 'before' and/or 'after'")]
    from chaoslib.activity import ensure_activity_is_valid
    from chaoslib.exceptions import ChaosException
    from chaoslib.hypothesis import ensure_hypothesis_tolerance_is_valid

    from gameday.adapters.chaostoolkit import located, use_module_folder

    use_module_folder(folder)
    try:
        with _quiet_chaoslib():
            ensure_activity_is_valid(located(activity, folder))
            if probe:
                if "tolerance" not in activity:
                    return [((), f"{label}: a hypothesis probe needs a 'tolerance'")]
                ensure_hypothesis_tolerance_is_valid(activity["tolerance"])
    except ChaosException as exc:
        return [(_where(activity, str(exc)), f"{label}: {exc}")]
    except ValueError as exc:
        if "no signature found for builtin" in str(exc):
            return [(("provider",), f"{label}: python provider points at a builtin; wrap it in a module function")]
        return [(_where(activity, str(exc)), f"{label}: {exc}")]
    except Exception as exc:  # noqa: BLE001 - chaoslib trusts its input; any crash is a problem of this activity
        return [((), f"{label}: invalid ({type(exc).__name__}: {exc})")]
    return []


def _where(activity: dict[str, Any], message: str) -> Loc:
    """Best guess of the key inside an activity that a chaoslib message is about."""
    text = message.lower()
    for key in ("tolerance", "timeout", "pauses", "background"):
        if key in text and key in activity:
            return (key,)
    if "provider" in activity and any(w in text for w in ("provider", "module", "function", "argument", "path", "url")):
        return ("provider",)
    return ()


_EXPERIMENT_KEYS = (("hypothesis", "steady-state-hypothesis"), ("tag", "tags"), ("configuration", "configuration"),
                    ("secret", "secrets"), ("control", "controls"), ("extension", "extensions"))


def check_experiment(data: Any, marks: Marks, file: str, folder: Path | None = None) -> list[Problem]:
    """Validate a parsed Chaos Toolkit experiment with chaoslib, activity by activity: its own problems
    (whether a fault that uses it needs ``rollbacks`` is the scenario's question, asked by the loader).
    ``folder``: the experiment's folder, where its activities run (default: the folder of ``file``
    when that names a file).
    """
    def problem(loc: Loc, message: str) -> Problem:
        return marks.problem(file, loc, message)

    if folder is None and Path(file).is_file():
        folder = Path(file).resolve().parent

    if not isinstance(data, dict):
        return [problem((), "a Chaos Toolkit experiment is a mapping (title, description, method, rollbacks...)")]
    problems: list[Problem] = []
    rest = dict(data)
    hypothesis = data.get("steady-state-hypothesis")
    if hypothesis is not None and not isinstance(hypothesis, dict):
        message = f"expected a mapping (title, probes), got {type(hypothesis).__name__}"
        problems.append(problem(("steady-state-hypothesis",), message))
        rest.pop("steady-state-hypothesis")
    probes = hypothesis.get("probes") if isinstance(hypothesis, dict) else None
    sections: list[tuple[Loc, Any, bool]] = [
        (("method",), data.get("method"), False),
        (("rollbacks",), data.get("rollbacks"), False),
        (("steady-state-hypothesis", "probes"), probes, True),
    ]
    names = {a["name"] for _, items, _ in sections if isinstance(items, list)
             for a in items if isinstance(a, dict) and isinstance(a.get("name"), str)}
    kept: dict[Loc, list[Any]] = {}
    for loc, items, probe in sections:
        if items is None:
            continue
        kept[loc] = []
        if not isinstance(items, list):
            problems.append(problem(loc, f"expected a list of activities, got {type(items).__name__}"))
            continue
        for i, activity in enumerate(items):
            found = activity_problems(activity, names, probe=probe, folder=folder)
            problems += [problem((*loc, i, *sub), message) for sub, message in found]
            if not found and not (isinstance(activity, dict) and "ref" in activity):
                kept[loc].append(activity)
    for loc, items in kept.items():
        if loc == ("steady-state-hypothesis", "probes") and isinstance(hypothesis, dict):  # probes come from a mapping
            rest[loc[0]] = {**hypothesis, "probes": items}
        else:
            rest[loc[0]] = items
    from chaoslib.experiment import ensure_experiment_is_valid

    from gameday.adapters.chaostoolkit import located

    for key in ("method", "rollbacks"):  # as its folder sees them (chaoslib checks again)
        if isinstance(rest.get(key), list):
            rest[key] = [located(a, folder) for a in rest[key]]
    if isinstance(rest.get("steady-state-hypothesis"), dict) and isinstance(rest["steady-state-hypothesis"].get("probes"), list):
        hyp = rest["steady-state-hypothesis"]
        rest["steady-state-hypothesis"] = {**hyp, "probes": [located(a, folder) for a in hyp["probes"]]}
    try:
        with _quiet_chaoslib():
            ensure_experiment_is_valid(rest)
    except Exception as exc:  # noqa: BLE001 - chaoslib raises its own errors and crashes on odd types alike
        text = str(exc) if type(exc).__module__.startswith("chaoslib") else f"{type(exc).__name__}: {exc}"
        loc = next(((key,) for word, key in _EXPERIMENT_KEYS if word in text.lower() and key in data), ())
        problems.append(problem(loc, f"invalid experiment: {text}"))
    return problems
