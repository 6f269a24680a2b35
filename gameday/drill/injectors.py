"""Builds injectors and runbook runners from a scenario's faults and runbooks, and from ledger specs.

The conductor calls :func:`injector_for_fault` and :func:`runner_for_runbook`; ``gameday
recover`` calls :func:`injector_from_spec` with what the fault ledger recorded. Adapter
modules (and so chaoslib) are imported only when one is built.

Every injector has ``ledger_spec()`` (the :class:`~gameday.ports.Injector` protocol): the
typed spec written to the fault ledger *before* injecting (for a process fault the pid is
known only after injection; ``result.rollback`` carries the updated spec).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gameday.clock import Clock
from gameday.errors import ConfigError
from gameday.model.scenario import Fault, ProcessSelector, Runbook, Target
from gameday.ports import ChaosToolkitRollback, Injector, LedgerSpec, ProcessRollback, RunbookRunner

TargetLike = Target | Mapping[str, Any] | None


def _target(target: TargetLike) -> Target:
    """A Target from a Target, a Target as a dict, or a bare mapping of process name to selector."""
    if target is None:
        return Target()
    if isinstance(target, Target):
        return target
    as_target = set(target) <= set(Target.model_fields) and not any(isinstance(v, ProcessSelector) for v in target.values())
    try:
        return Target.model_validate(dict(target)) if as_target else Target(processes=dict(target))
    except ValueError as exc:
        raise ConfigError(f"target is invalid: {exc}") from None


def _settings(
    tgt: Target, configuration: dict[str, Any] | None, secrets: dict[str, Any] | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The target's Chaos Toolkit configuration and secrets, with the caller's values over them."""
    from gameday.adapters.chaostoolkit import merge_configuration, merge_secrets

    return merge_configuration(tgt.configuration, configuration), merge_secrets(tgt.secrets, secrets)


def _selector(tgt: Target, name: str, what: str) -> Any:
    if name not in tgt.processes:
        raise ConfigError(f"{what}: no process named {name!r} in target.processes")
    return tgt.processes[name]


def injector_for_fault(
    fault: Fault,
    *,
    experiment: dict[str, Any] | None = None,
    target: TargetLike = None,
    configuration: dict[str, Any] | None = None,
    secrets: dict[str, Any] | None = None,
    clock: Clock | None = None,
    log_dir: Path | None = None,
) -> Injector:
    """The injector of one fault.

    ``experiment`` is the loaded Chaos Toolkit experiment when ``fault.experiment`` is set.
    ``target`` is a :class:`Target`, its dict form, or just its ``processes`` mapping.
    ``configuration``/``secrets`` (e.g. ``checkout_url``, ``demo_control_url``) override the
    target's, which override the experiment's. ``log_dir`` receives restart logs of
    process faults. Raises :class:`ConfigError` for a fault that cannot be built (no
    rollback, invalid activity, unknown process).
    """
    tgt = _target(target)
    config, secrets_ = _settings(tgt, configuration, secrets)
    if fault.experiment is not None:
        if experiment is None:
            raise ConfigError(f"fault {fault.id!r}: experiment {fault.experiment!r} was not loaded")
        from gameday.adapters.chaostoolkit import ChaosToolkitInjector

        return ChaosToolkitInjector.from_experiment(experiment, config, secrets_, owner=fault.id, clock=clock)
    if fault.activities is not None:
        from gameday.adapters.chaostoolkit import ChaosToolkitInjector

        return ChaosToolkitInjector(fault.activities, fault.rollbacks or [], config, secrets_, owner=fault.id, clock=clock)
    assert fault.process is not None
    from gameday.adapters.process import ProcessInjector

    selector = _selector(tgt, fault.process.target, f"fault {fault.id!r}")
    return ProcessInjector(fault.process.target, selector, fault.process.action, fault.process.signal,
                           owner=fault.id, clock=clock, log_dir=log_dir)  # fmt: skip


def runner_for_runbook(
    runbook: Runbook,
    *,
    name: str = "runbook",
    experiment: dict[str, Any] | None = None,
    target: TargetLike = None,
    configuration: dict[str, Any] | None = None,
    secrets: dict[str, Any] | None = None,
    clock: Clock | None = None,
    log_dir: Path | None = None,
) -> RunbookRunner:
    """The runner of one runbook: an experiment's method, inline activities, or a process restart."""
    tgt = _target(target)
    config, secrets_ = _settings(tgt, configuration, secrets)
    if runbook.experiment is not None:
        if experiment is None:
            raise ConfigError(f"runbook {name!r}: experiment {runbook.experiment!r} was not loaded")
        from gameday.adapters.chaostoolkit import ChaosToolkitRunner

        return ChaosToolkitRunner.from_experiment(experiment, config, secrets_, owner=name, clock=clock)
    if runbook.activities is not None:
        from gameday.adapters.chaostoolkit import ChaosToolkitRunner

        return ChaosToolkitRunner(runbook.activities, config, secrets_, owner=name, clock=clock)
    assert runbook.restart is not None
    from gameday.adapters.process import ProcessRestarter

    selector = _selector(tgt, runbook.restart, f"runbook {name!r}")
    return ProcessRestarter(runbook.restart, selector, owner=name, clock=clock, log_dir=log_dir)


def injector_from_spec(spec: LedgerSpec, *, clock: Clock | None = None) -> Injector:
    """Rebuild an injector from a fault ledger spec, to roll it back (``gameday recover``)."""
    if isinstance(spec, ChaosToolkitRollback):
        from gameday.adapters.chaostoolkit import ChaosToolkitInjector

        return ChaosToolkitInjector([], list(spec.rollbacks), dict(spec.configuration), dict(spec.secrets),
                                    owner=spec.owner, clock=clock)  # fmt: skip
    if isinstance(spec, ProcessRollback):
        from gameday.adapters.process import ProcessInjector

        return ProcessInjector.from_spec(spec, clock=clock)
    raise ConfigError(f"a {spec.kind!r} fault cannot be rolled back from the ledger (only chaostoolkit and process faults)")
