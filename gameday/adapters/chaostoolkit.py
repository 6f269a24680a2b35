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
  ``join``. Python threads cannot be killed: a timed-out activity is reported failed and
  keeps running in the background until it returns by itself;
* ``pauses`` before and after are honoured (through the clock; the pause after is
  skipped when the activity failed);
* a rollback runs *every* rollback activity even if one fails;
* ``background: true`` is ignored (activities run one after another), and an
  experiment's ``steady-state-hypothesis`` is ignored: gameday probes the steady state itself.

Configuration and secrets are resolved with chaoslib (``{"type": "env", ...}``
references). The rollback spec given to the fault ledger keeps them *unresolved*, so a
secret read from the environment is never written to disk, and ``gameday recover``
resolves it again from its own environment.

chaoslib is imported lazily, inside functions, never when this module is imported.
"""

from __future__ import annotations

import copy
import json
import logging
import sys
import threading
import warnings
from typing import Any

from gameday.clock import Clock, SystemClock
from gameday.errors import ConfigError
from gameday.ports import ActivityPhase, ActivityRun, ActivityStatus, ChaosToolkitRollback, InjectionResult

DEFAULT_TIMEOUT = 60.0
OUTPUT_LIMIT = 500


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


def validate(activities: list[dict[str, Any]], owner: str) -> None:
    """``chaoslib.activity.ensure_activity_is_valid`` on each; :class:`ConfigError` naming the first bad one."""
    prepare_chaoslib()
    from chaoslib.activity import ensure_activity_is_valid
    from chaoslib.exceptions import ChaosException

    for activity in activities:
        name = activity.get("name") if isinstance(activity, dict) else None
        if isinstance(activity, dict) and "ref" in activity:
            raise ConfigError(f"{owner}: activity 'ref: {activity['ref']}' is resolved only inside an experiment")
        try:
            ensure_activity_is_valid(activity)
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


def _seconds(value: Any) -> float:
    try:
        return max(0.0, float(value or 0))
    except (TypeError, ValueError):
        return 0.0


def summarise(output: Any) -> str:
    """A short, readable string of a provider's raw output."""
    if isinstance(output, dict) and {"status", "stdout", "stderr"} <= output.keys():
        parts = [f"status {output['status']}"]
        parts += [f"{k}: {str(output[k]).strip()}" for k in ("stdout", "stderr") if str(output[k] or "").strip()]
        text = "; ".join(parts)
    elif isinstance(output, dict) and {"status", "body"} <= output.keys():
        body = output["body"] if isinstance(output["body"], str) else json.dumps(output["body"], default=str)
        text = f"HTTP {output['status']}: {body.strip()}"
    elif output is None:
        text = ""
    elif isinstance(output, str):
        text = output
    else:
        try:
            text = json.dumps(output, default=str)
        except (TypeError, ValueError):
            text = repr(output)
    return text if len(text) <= OUTPUT_LIMIT else text[: OUTPUT_LIMIT - 1] + "…"


class ActivityExecutor:
    """Runs single activities with resolved configuration and secrets; reports ActivityRuns."""

    def __init__(
        self, configuration: dict[str, Any], secrets: dict[str, Any], clock: Clock, default_timeout: float = DEFAULT_TIMEOUT
    ):
        self.configuration, self.secrets = configuration, secrets
        self.clock, self.default_timeout = clock, default_timeout

    def timeout_of(self, activity: dict[str, Any]) -> tuple[float, float]:
        """(timeout, join timeout): process and http providers enforce theirs, so we wait a little longer."""
        provider = activity.get("provider") or {}
        for value, grace in ((activity.get("timeout"), 0.0), (provider.get("timeout"), 1.0)):
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
                return float(value), float(value) + (grace if provider.get("type") in ("process", "http") else 0.0)
        return self.default_timeout, self.default_timeout

    def run(self, activity: dict[str, Any], phase: ActivityPhase) -> ActivityRun:
        """Run one activity to completion, failure or timeout. Never raises for the activity's sake."""
        from chaoslib import substitute
        from chaoslib.activity import run_activity

        name = str(activity.get("name", "?"))
        provider = str((activity.get("provider") or {}).get("type", "?"))
        pauses = substitute(activity.get("pauses") or {}, self.configuration, self.secrets) or {}
        if _seconds(pauses.get("before")):
            self.clock.sleep(_seconds(pauses.get("before")))
        timeout, join = self.timeout_of(activity)
        box: dict[str, Any] = {}

        def work() -> None:
            try:
                box["output"] = run_activity(copy.deepcopy(activity), self.configuration, self.secrets)
            except BaseException as exc:  # noqa: BLE001 - reported as the activity's failure
                box["error"] = exc

        started = self.clock.now()
        worker = threading.Thread(target=work, name=f"gameday-activity-{name}", daemon=True)
        worker.start()
        worker.join(join)
        duration = self.clock.now() - started
        output, error = box.get("output"), None
        if worker.is_alive():
            error = f"timed out after {timeout:g}s (it may still be running: a Python thread cannot be killed)"
        elif "error" in box:
            exc = box["error"]
            error = str(exc).strip() or type(exc).__name__
            if type(exc).__name__ != "ActivityFailed":
                error = f"{type(exc).__name__}: {error}"
            for prefix in ("chaoslib.exceptions.ActivityFailed: ", "ActivityFailed: "):  # re-wrapped by the python provider
                error = error.removeprefix(prefix)
        else:
            error = self.judge(activity, output)
        if error is None and _seconds(pauses.get("after")):
            self.clock.sleep(_seconds(pauses.get("after")))
        status: ActivityStatus = "failed" if error else "succeeded"
        return ActivityRun(name, phase, provider, status, started, duration, summarise(output), error)

    def judge(self, activity: dict[str, Any], output: Any) -> str | None:
        """Why a provider's output counts as a failure, or None."""
        if "tolerance" in activity:
            from chaoslib.hypothesis import within_tolerance

            try:
                ok = within_tolerance(copy.deepcopy(activity["tolerance"]), output, self.configuration, self.secrets)
            except Exception as exc:  # noqa: BLE001
                return f"tolerance check failed: {type(exc).__name__}: {exc}"
            return None if ok else f"output not within tolerance {activity['tolerance']!r}"
        provider = (activity.get("provider") or {}).get("type")
        if provider == "process" and isinstance(output, dict) and output.get("status") not in (0, None):
            stderr = str(output.get("stderr") or "").strip()
            return f"exit status {output['status']}" + (f": {stderr[-300:]}" if stderr else "")
        if provider == "http" and isinstance(output, dict) and isinstance(output.get("status"), int) and output["status"] >= 400:
            return f"HTTP status {output['status']}"
        return None


def _result(runs: list[ActivityRun], spec: ChaosToolkitRollback | None) -> InjectionResult:
    failed = [r for r in runs if r.status == "failed"]
    error = "; ".join(f"{r.name}: {r.error}" for r in failed) or None
    return InjectionResult(ok=not failed, runs=runs, error=error, rollback=spec)


class ChaosToolkitInjector:
    """Injects by running ``method`` activities; rolls back by running every ``rollbacks`` activity.

    Thread-safe: inject and rollback are serialised. A rollback after a fully
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
    ):
        self.owner = owner
        self.method, self.rollbacks = list(method), list(rollbacks)
        if not self.rollbacks:
            raise ConfigError(f"{owner or 'fault'}: no rollbacks: every fault needs a way back")
        self.raw_configuration, self.raw_secrets = dict(configuration or {}), dict(secrets or {})
        validate(self.method + self.rollbacks, owner or "fault")
        config, secrets_ = resolve(self.raw_configuration, self.raw_secrets)
        self._exec = ActivityExecutor(config, secrets_, clock or SystemClock(), default_timeout)
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
    ) -> ChaosToolkitInjector:
        """The experiment's method injects, its rollbacks repair; gameday's values override its configuration."""
        method, config, secrets, name = _experiment_parts(experiment, configuration_overrides, secrets_overrides, owner)
        rollbacks = resolve_refs(experiment, experiment.get("rollbacks") or [])
        return cls(method, rollbacks, config, secrets, name, clock, default_timeout=default_timeout)

    def ledger_spec(self) -> ChaosToolkitRollback:
        """Enough to roll back from another process (``gameday recover``)."""
        return ChaosToolkitRollback(
            owner=self.owner,
            rollbacks=copy.deepcopy(self.rollbacks),
            configuration=copy.deepcopy(self.raw_configuration),
            secrets=copy.deepcopy(self.raw_secrets),
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
        """Run every rollback activity, even after one fails; report them all."""
        with self._lock:
            if self._rolled_back:
                return InjectionResult(ok=True, runs=[], rollback=self.ledger_spec())
            runs = [self._exec.run(activity, "rollback") for activity in self.rollbacks]
            result = _result(runs, self.ledger_spec())
            self._rolled_back = result.ok
            return result


class ChaosToolkitRunner:
    """A runbook: runs activities in order (phase ``runbook``), stopping at the first failure. No rollback."""

    def __init__(
        self,
        activities: list[dict[str, Any]],
        configuration: dict[str, Any] | None = None,
        secrets: dict[str, Any] | None = None,
        owner: str = "",
        clock: Clock | None = None,
        *,
        default_timeout: float = DEFAULT_TIMEOUT,
    ):
        self.owner, self.activities = owner, list(activities)
        if not self.activities:
            raise ConfigError(f"{owner or 'runbook'}: no activities to run")
        validate(self.activities, owner or "runbook")
        config, secrets_ = resolve(dict(configuration or {}), dict(secrets or {}))
        self._exec = ActivityExecutor(config, secrets_, clock or SystemClock(), default_timeout)
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
    ) -> ChaosToolkitRunner:
        """The experiment's method is the runbook; its rollbacks are not run."""
        method, config, secrets, name = _experiment_parts(experiment, configuration_overrides, secrets_overrides, owner)
        return cls(method, config, secrets, name, clock, default_timeout=default_timeout)

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
