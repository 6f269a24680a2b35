"""Chaos Toolkit activities behind the :class:`~gameday.ports.Injector` and :class:`~gameday.ports.RunbookRunner` ports.

Activities run one at a time through ``chaoslib.activity.run_activity``, which works
from any thread (``run_experiment`` installs signal handlers and is main-thread only,
so it is never used). What gameday adds on top of chaoslib:

* every activity is reported as an :class:`~gameday.ports.ActivityRun`;
* an activity fails when chaoslib raises, when a ``process`` provider exits non-zero,
  when an ``http`` provider answers 400 or more, or when the output is not within the
  activity's ``tolerance`` (if it has one): chaoslib counts none of these but the first;
* every activity has a timeout (its ``timeout``, else its provider's ``timeout``, else
  ``default_timeout``), enforced by running it in a worker thread and giving up on
  ``join``; an activity run in its folder's process (below) is then stopped, that process
  killed; one run in gameday's own process cannot be (a Python thread cannot be killed): it
  is reported failed and keeps running in the background until it returns by itself;
* ``pauses`` before and after are honoured (through the clock; the pause after is
  skipped when the activity failed);
* a rollback runs *every* rollback activity even if one fails;
* ``background: true`` is ignored (activities run one after another);
* an experiment's ``steady-state-hypothesis`` is the fault's own check
  (:meth:`ChaosToolkitInjector.check_hypothesis`): the conductor probes it before injecting
  (the fault is not injected if it does not hold) and after the rollback, and journals each
  result (``FaultHypothesisChecked``). The scenario's ``steady_state`` is probed as well,
  as for every drill; the hypothesis does not replace it.

Where activities run: **in the folder of the file that holds them** — an experiment's
activities (method, rollbacks, hypothesis) in the experiment's folder; a scenario's inline
``activities``/``rollbacks``/``rollback.activities`` in the scenario's folder; a rollback
experiment's method in that experiment's folder — wherever gameday itself was started, and
for ``gameday recover`` too (the ledger's spec carries the folder). The mechanism, given a
``folder``:

* gameday never calls ``os.chdir``: the working folder is the process's, shared by the
  conductor's threads (probes, intake, journal, control room);
* instead the activities of a folder run in a helper process started in that folder
  (:class:`~gameday.adapters.activity_host.ActivityHost`, one per folder and injector or
  runbook, started while the drill is set up (``warm``) or else on first use, ended with
  gameday). There a ``process`` provider's child inherits the folder as its working folder
  (so ``path: ./scripts/x.sh`` and relative arguments mean the experiment's files), and a
  ``python`` provider's relative file arguments, and the relative paths its module opens,
  resolve against it too. The helper leads its own session: a Ctrl-C at the terminal
  interrupts the drill, not the helper, so the rollbacks that follow still run there;
* python providers' modules are looked up on gameday's own ``sys.path`` first, then in the
  folder (a module shipped beside the experiment); the folder is also appended to gameday's
  ``sys.path`` (:func:`use_module_folder`), because chaoslib imports a python provider's
  module to validate it. Appended, never prepended: an installed module always wins.
* outputs travel back as JSON (what is not JSON becomes its ``str``); configuration and
  secrets are resolved in gameday's process and sent through a pipe, never a file; a
  ``tolerance`` is judged, and dynamic configuration is resolved, in gameday's process.

Without a ``folder`` (activities given in code, as the library allows) they run in
gameday's own process and its working folder, as chaoslib does.

Configuration and secrets are resolved with chaoslib (``{"type": "env", ...}``
references). The rollback spec given to the fault ledger keeps them *unresolved*, so a
secret read from the environment is never written to disk, and ``gameday recover``
resolves it again from its own environment.

chaoslib is imported lazily, inside functions, never when this module is imported.
"""

from __future__ import annotations

import copy
import logging
import sys
import threading
import warnings
from pathlib import Path
from typing import Any

from gameday.adapters.activities import DEFAULT_TIMEOUT, Activities, ActivityExecutor, summarise
from gameday.clock import Clock, SystemClock
from gameday.errors import ConfigError
from gameday.ports import ActivityRun, ChaosToolkitRollback, HypothesisResult, InjectionResult, LedgerSpec, NoRollback

__all__ = ["DEFAULT_TIMEOUT", "Activities", "ActivityExecutor", "ChaosToolkitInjector", "ChaosToolkitRunner",
           "located", "merge_configuration", "merge_secrets", "prepare_chaoslib", "resolve", "resolve_refs", "summarise",
           "use_module_folder", "validate"]


def prepare_chaoslib() -> None:
    """Quiet chaoslib's loggers (unless the application configured them) and stub out logzero."""
    if "logzero" not in sys.modules:
        with warnings.catch_warnings():  # chaoslib.log imports a deprecated pythonjsonlogger path
            warnings.simplefilter("ignore", DeprecationWarning)
            from chaoslib import log

        override = getattr(log, "override_logzero_module", None)
        if override is not None:
            override()
    for name in ("chaostoolkit", "chaostoolkit-lib"):
        logger = logging.getLogger(name)
        if not logger.handlers:
            logger.addHandler(logging.NullHandler())  # no "last resort" warnings on stderr


def merge_configuration(base: dict[str, Any] | None, overrides: dict[str, Any] | None) -> dict[str, Any]:
    """An experiment's ``configuration`` with gameday's values laid over it."""
    return {**(base or {}), **(overrides or {})}


def merge_secrets(base: dict[str, Any] | None, overrides: dict[str, Any] | None) -> dict[str, Any]:
    """Secrets scopes merged key by key, overrides winning."""
    merged = copy.deepcopy(base or {})
    for scope, values in (overrides or {}).items():
        if isinstance(values, dict) and isinstance(merged.get(scope), dict) and "type" not in values:
            merged[scope] = {**merged[scope], **values}
        else:
            merged[scope] = values
    return merged


def resolve(configuration: dict[str, Any], secrets: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Resolve env references (and dynamic configuration probes) as ``chaos run`` would."""
    prepare_chaoslib()
    from chaoslib.configuration import load_configuration, load_dynamic_configuration
    from chaoslib.exceptions import ChaosException
    from chaoslib.secret import load_secrets

    try:
        config = load_configuration(copy.deepcopy(configuration))
        loaded = load_secrets(copy.deepcopy(secrets), config)
        if any(isinstance(v, dict) and v.get("type") == "probe" for v in config.values()):
            config = load_dynamic_configuration(config, loaded)
    except ChaosException as exc:
        raise ConfigError(f"Chaos Toolkit configuration or secrets: {exc}") from None
    return config, loaded


def use_module_folder(folder: Path | str | None) -> None:
    """Append ``folder`` to ``sys.path`` (once): python providers' modules shipped beside an experiment.

    Process-wide, so only ever appended (an installed module of the same name wins) and never
    removed (another thread may be importing meanwhile)."""
    if folder is None:
        return
    entry = str(Path(folder).resolve())
    if entry not in sys.path:
        sys.path.append(entry)


def located(activity: dict[str, Any], folder: Path | str | None) -> dict[str, Any]:
    """The activity as its folder sees it, for chaoslib's validator (which runs in gameday's folder):
    a process provider's relative ``path`` with a folder in it (``./scripts/x.sh``) made absolute."""
    provider = activity.get("provider") if isinstance(activity, dict) else None
    if folder is None or not isinstance(provider, dict) or provider.get("type") != "process":
        return activity
    path = provider.get("path")
    if not isinstance(path, str) or not path or "/" not in path or Path(path).expanduser().is_absolute():
        return activity
    return {**activity, "provider": {**provider, "path": str(Path(folder) / path)}}


def validate(activities: list[dict[str, Any]], owner: str, folder: Path | str | None = None) -> None:
    """``chaoslib.activity.ensure_activity_is_valid`` on each (as seen from ``folder``); :class:`ConfigError`
    naming the first bad one."""
    prepare_chaoslib()
    use_module_folder(folder)
    from chaoslib.activity import ensure_activity_is_valid
    from chaoslib.exceptions import ChaosException

    for activity in activities:
        name = activity.get("name") if isinstance(activity, dict) else None
        if isinstance(activity, dict) and "ref" in activity:
            raise ConfigError(f"{owner}: activity 'ref: {activity['ref']}' is resolved only inside an experiment")
        try:
            ensure_activity_is_valid(located(activity, folder))
        except (ChaosException, ValueError, TypeError, AttributeError) as exc:  # ValueError: builtins have no signature
            raise ConfigError(f"{owner}: activity {name or '?'!r} is invalid: {exc}") from None


def resolve_refs(experiment: dict[str, Any], activities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Replace ``{"ref": name}`` by the experiment's activity of that name."""
    candidates = [*experiment.get("steady-state-hypothesis", {}).get("probes", []), *experiment.get("method", [])]
    named = {a.get("name"): a for a in candidates if isinstance(a, dict) and "ref" not in a}
    out = []
    for activity in activities:
        if isinstance(activity, dict) and "ref" in activity:
            if activity["ref"] not in named:
                title = experiment.get("title", "?")
                raise ConfigError(f"experiment {title!r}: no activity named {activity['ref']!r} to reference")
            activity = named[activity["ref"]]
        out.append(activity)
    return out


def _result(runs: list[ActivityRun], spec: LedgerSpec | None) -> InjectionResult:
    failed = [r for r in runs if r.status == "failed"]
    error = "; ".join(f"{r.name}: {r.error}" for r in failed) or None
    return InjectionResult(ok=not failed, runs=runs, error=error, rollback=spec)


def _executor(acts: Activities, clock: Clock, default_timeout: float) -> ActivityExecutor:
    config, secrets = resolve(dict(acts.configuration), dict(acts.secrets))
    return ActivityExecutor(config, secrets, clock, default_timeout, acts.folder)


class ChaosToolkitInjector:
    """Injects by running ``method`` activities; rolls back by running every ``rollbacks`` activity.

    ``folder``: where the method, the rollbacks and the hypothesis run (see the module docstring).
    ``rollback_from``: rollbacks of their own, with their own configuration, secrets and folder (a
    scenario's ``rollback:``), instead of ``rollbacks``. ``no_rollback``: there is nothing to undo,
    and why (then there are no rollbacks; the ledger spec says so). ``hypothesis``: the
    experiment's ``steady-state-hypothesis`` (title, probes), probed by :meth:`check_hypothesis`.

    Thread-safe: inject, rollback and hypothesis checks are serialised. A rollback after a fully
    successful one is a no-op (idempotent); a failed rollback can be retried.
    """

    def __init__(
        self,
        method: list[dict[str, Any]],
        rollbacks: list[dict[str, Any]],
        configuration: dict[str, Any] | None = None,
        secrets: dict[str, Any] | None = None,
        owner: str = "",
        clock: Clock | None = None,
        *,
        default_timeout: float = DEFAULT_TIMEOUT,
        folder: Path | str | None = None,
        rollback_from: Activities | None = None,
        no_rollback: str | None = None,
        hypothesis: dict[str, Any] | None = None,
    ):
        self.owner = owner
        what = owner or "fault"
        base = Path(folder).resolve() if folder is not None else None
        self.method = list(method)
        self.raw_configuration, self.raw_secrets = dict(configuration or {}), dict(secrets or {})
        own = Activities(list(rollbacks), self.raw_configuration, self.raw_secrets, base)
        self.back = rollback_from if rollback_from is not None else own
        if rollback_from is not None and rollbacks:
            raise ConfigError(f"{what}: rollbacks given twice (its own and a scenario's)")
        self.rollbacks = list(self.back.activities)
        self.no_rollback = no_rollback
        if no_rollback is not None and self.rollbacks:
            raise ConfigError(f"{what}: 'none' to undo, yet rollbacks are given")
        if not self.rollbacks and no_rollback is None:
            raise ConfigError(f"{what}: no rollbacks: every fault needs a way back (or 'rollback: {{none: REASON}}')")
        self.probes = list((hypothesis or {}).get("probes") or [])
        self.hypothesis_title = str((hypothesis or {}).get("title") or "steady-state hypothesis")
        validate(self.method + self.probes, what, base)
        validate(self.rollbacks, what, self.back.folder)
        clock = clock or SystemClock()
        self._exec = _executor(Activities(self.method, self.raw_configuration, self.raw_secrets, base), clock,
                               default_timeout)
        same = self.back.folder == base and self.back.configuration == self.raw_configuration \
            and self.back.secrets == self.raw_secrets
        self._back_exec = self._exec if same else _executor(self.back, clock, default_timeout)
        self._lock = threading.Lock()
        self._rolled_back = False

    @classmethod
    def from_experiment(
        cls,
        experiment: dict[str, Any],
        configuration_overrides: dict[str, Any] | None = None,
        secrets_overrides: dict[str, Any] | None = None,
        *,
        owner: str | None = None,
        clock: Clock | None = None,
        default_timeout: float = DEFAULT_TIMEOUT,
        folder: Path | str | None = None,
        rollback_from: Activities | None = None,
        no_rollback: str | None = None,
    ) -> ChaosToolkitInjector:
        """The experiment's method injects, its rollbacks repair (unless ``rollback_from`` or ``no_rollback``
        replaces them), its steady-state hypothesis is the fault's own check; gameday's values override its
        configuration."""
        method, config, secrets, name = _experiment_parts(experiment, configuration_overrides, secrets_overrides, owner)
        own = rollback_from is None and no_rollback is None
        rollbacks = resolve_refs(experiment, experiment.get("rollbacks") or []) if own else []
        hypothesis = experiment.get("steady-state-hypothesis")
        if isinstance(hypothesis, dict):
            hypothesis = {**hypothesis, "probes": resolve_refs(experiment, hypothesis.get("probes") or [])}
        else:
            hypothesis = None
        return cls(method, rollbacks, config, secrets, name, clock, default_timeout=default_timeout, folder=folder,
                   rollback_from=rollback_from, no_rollback=no_rollback, hypothesis=hypothesis)

    def ledger_spec(self) -> LedgerSpec:
        """Enough to roll back from another process (``gameday recover``), in the rollbacks' folder."""
        if self.no_rollback is not None:
            return NoRollback(owner=self.owner, reason=self.no_rollback)
        return ChaosToolkitRollback(
            owner=self.owner,
            rollbacks=copy.deepcopy(self.rollbacks),
            configuration=copy.deepcopy(self.back.configuration),
            secrets=copy.deepcopy(self.back.secrets),
            folder=str(self.back.folder) if self.back.folder is not None else None,
        )

    def inject(self) -> InjectionResult:
        """Run the method in order; stop at the first failed activity (the caller still rolls back)."""
        with self._lock:
            self._rolled_back = False
            runs: list[ActivityRun] = []
            for activity in self.method:
                runs.append(self._exec.run(activity, "method"))
                if runs[-1].status == "failed":
                    break
            return _result(runs, self.ledger_spec())

    def rollback(self) -> InjectionResult:
        """Run every rollback activity, even after one fails; report them all (none: nothing to run)."""
        with self._lock:
            if self._rolled_back:
                return InjectionResult(ok=True, runs=[], rollback=self.ledger_spec())
            runs = [self._back_exec.run(activity, "rollback") for activity in self.rollbacks]
            result = _result(runs, self.ledger_spec())
            self._rolled_back = result.ok
            return result

    def check_hypothesis(self) -> HypothesisResult | None:
        """Probe the experiment's steady-state hypothesis once, every probe (None: it has none)."""
        if not self.probes:
            return None
        with self._lock:
            checks = [self._exec.check(probe) for probe in self.probes]
        return HypothesisResult(title=self.hypothesis_title, ok=all(c.ok for c in checks), probes=checks)

    def warm(self) -> None:
        """Start the helper processes of this fault's folders ahead of the drill (see the module docstring)."""
        if self._back_exec is not self._exec:
            self._exec.warm([*self.method, *self.probes])
            self._back_exec.warm(self.rollbacks)
        else:
            self._exec.warm([*self.method, *self.probes, *self.rollbacks])

    def close(self) -> None:
        """End the helper processes started for this fault's folders (see the module docstring)."""
        self._exec.close()
        self._back_exec.close()


class ChaosToolkitRunner:
    """A runbook: runs activities in order (phase ``runbook``), stopping at the first failure. No rollback.

    ``folder``: where its activities run (see the module docstring)."""

    def __init__(
        self,
        activities: list[dict[str, Any]],
        configuration: dict[str, Any] | None = None,
        secrets: dict[str, Any] | None = None,
        owner: str = "",
        clock: Clock | None = None,
        *,
        default_timeout: float = DEFAULT_TIMEOUT,
        folder: Path | str | None = None,
    ):
        self.owner, self.activities = owner, list(activities)
        if not self.activities:
            raise ConfigError(f"{owner or 'runbook'}: no activities to run")
        base = Path(folder).resolve() if folder is not None else None
        validate(self.activities, owner or "runbook", base)
        self._exec = _executor(Activities(self.activities, dict(configuration or {}), dict(secrets or {}), base),
                               clock or SystemClock(), default_timeout)
        self._lock = threading.Lock()

    @classmethod
    def from_experiment(
        cls,
        experiment: dict[str, Any],
        configuration_overrides: dict[str, Any] | None = None,
        secrets_overrides: dict[str, Any] | None = None,
        *,
        owner: str | None = None,
        clock: Clock | None = None,
        default_timeout: float = DEFAULT_TIMEOUT,
        folder: Path | str | None = None,
    ) -> ChaosToolkitRunner:
        """The experiment's method is the runbook; its rollbacks are not run."""
        method, config, secrets, name = _experiment_parts(experiment, configuration_overrides, secrets_overrides, owner)
        return cls(method, config, secrets, name, clock, default_timeout=default_timeout, folder=folder)

    def warm(self) -> None:
        """Start the helper process of this runbook's folder ahead of the drill."""
        self._exec.warm(self.activities)

    def close(self) -> None:
        """End the helper process of this runbook's folder, if one was started."""
        self._exec.close()

    def run(self) -> InjectionResult:
        with self._lock:
            runs: list[ActivityRun] = []
            for activity in self.activities:
                runs.append(self._exec.run(activity, "runbook"))
                if runs[-1].status == "failed":
                    break
            return _result(runs, None)


def _experiment_parts(experiment: dict[str, Any], configuration_overrides: dict[str, Any] | None,
                      secrets_overrides: dict[str, Any] | None, owner: str | None):
    """An experiment's method (refs resolved), merged configuration and secrets, and its owner name."""
    return (resolve_refs(experiment, experiment.get("method") or []),
            merge_configuration(experiment.get("configuration"), configuration_overrides),
            merge_secrets(experiment.get("secrets"), secrets_overrides),
            owner or str(experiment.get("title", "experiment")))
