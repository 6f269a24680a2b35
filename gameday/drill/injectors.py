"""Builds injectors and runbook runners from a scenario's faults and runbooks, and from ledger specs.

The conductor calls :func:`injector_for_fault` and :func:`runner_for_runbook` (for a loaded
scenario, :func:`effects` builds them all, each fault with its :class:`FaultFiles`); ``gameday
recover`` calls :func:`injector_from_spec` with what the fault ledger recorded. Adapter
modules (and so chaoslib) are imported only when one is built.

Chaos Toolkit activities run in the folder of the file that holds them (see
:mod:`gameday.adapters.chaostoolkit`): an experiment's in its folder, a scenario's inline ones in
the scenario's folder. Without the folders (an injector built from a bare :class:`Fault`), they
run in gameday's own process and folder.

Every injector has ``ledger_spec()`` (the :class:`~gameday.ports.Injector` protocol): the
typed spec written to the fault ledger *before* injecting (for a process fault the pid is
known only after injection; ``result.rollback`` carries the updated spec).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gameday.clock import Clock
from gameday.errors import ConfigError
from gameday.model.scenario import Fault, ProcessSelector, Runbook, Scenario, Target
from gameday.ports import (
    ChaosToolkitRollback,
    DockerRollback,
    Injector,
    LedgerSpec,
    NetworkRollback,
    NoRollback,
    ProcessRollback,
    RunbookRunner,
)

if TYPE_CHECKING:
    from gameday.adapters.chaostoolkit import Activities
    from gameday.drill.targets import TargetInfo
    from gameday.loader import LoadedScenario

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


@dataclass(frozen=True)
class FaultFiles:
    """Where a fault's Chaos Toolkit activities come from: the parsed experiments and their folders.

    ``experiment``/``experiment_dir``: the fault's experiment and its folder; ``rollback_experiment``
    /``rollback_dir``: the experiment of its ``rollback: {experiment: ...}``; ``scenario_dir``: the
    scenario's folder (inline activities run there).
    """

    experiment: dict[str, Any] | None = None
    experiment_dir: Path | None = None
    rollback_experiment: dict[str, Any] | None = None
    rollback_dir: Path | None = None
    scenario_dir: Path | None = None

    @classmethod
    def of(cls, loaded: LoadedScenario, fault_id: str) -> FaultFiles:
        """A loaded scenario's files for one fault."""
        path, back = loaded.fault_experiments.get(fault_id), loaded.fault_rollback_experiments.get(fault_id)
        return cls(experiment=loaded.experiments[str(path)] if path is not None else None,
                   experiment_dir=path.parent if path is not None else None,
                   rollback_experiment=loaded.experiments[str(back)] if back is not None else None,
                   rollback_dir=back.parent if back is not None else None, scenario_dir=loaded.base_dir)


def injector_for_fault(
    fault: Fault,
    *,
    experiment: dict[str, Any] | None = None,
    target: TargetLike = None,
    configuration: dict[str, Any] | None = None,
    secrets: dict[str, Any] | None = None,
    clock: Clock | None = None,
    log_dir: Path | None = None,
    files: FaultFiles | None = None,
    allow_production: bool = False,
) -> Injector:
    """The injector of one fault.

    ``files`` are the fault's experiments and folders (:meth:`FaultFiles.of` a loaded scenario);
    ``experiment`` alone (the loaded Chaos Toolkit experiment when ``fault.experiment`` is set)
    runs it in gameday's own folder. ``target`` is a :class:`Target`, its dict form, or just its
    ``processes`` mapping. ``configuration``/``secrets`` (e.g. ``checkout_url``,
    ``demo_control_url``) override the target's, which override the experiment's. ``log_dir``
    receives restart logs of process faults. ``allow_production``: containers labelled production may be
    touched (``--allow-production``). Raises :class:`ConfigError` for a fault that cannot be
    built (no rollback, invalid activity, unknown process).
    """
    tgt = _target(target)
    config, secrets_ = _settings(tgt, configuration, secrets)
    files = files or FaultFiles(experiment=experiment)
    if fault.docker is not None:
        from gameday.adapters.docker import DockerInjector, check_selector

        d = fault.docker
        selector = check_selector(tgt.containers, d.target, f"fault {fault.id!r}")
        return DockerInjector(d.target, selector, d.action, host=tgt.docker_host, owner=fault.id, signal=d.signal,
                              network=d.network, cpus=d.cpus, memory=d.memory, clock=clock,
                              allow_production=allow_production)
    if fault.network is not None:
        from gameday.adapters.netfaults import NetworkInjector

        n = fault.network
        if n.target not in tgt.networks:
            raise ConfigError(f"fault {fault.id!r}: no network named {n.target!r} in target.networks")
        return NetworkInjector(n.target, tgt.networks[n.target], n.action, owner=fault.id, peer=n.peer, port=n.port,
                               protocol=n.protocol, probability=n.probability, rate=n.rate, interface=n.interface,
                               clock=clock)
    if fault.process is not None:
        from gameday.adapters.process import ProcessInjector

        selector = _selector(tgt, fault.process.target, f"fault {fault.id!r}")
        return ProcessInjector(fault.process.target, selector, fault.process.action, fault.process.signal,
                               owner=fault.id, clock=clock, log_dir=log_dir)  # fmt: skip
    from gameday.adapters.chaostoolkit import ChaosToolkitInjector, merge_configuration, merge_secrets

    back = _rollback_of(fault, files, config, secrets_)
    no_rollback = fault.no_rollback
    if fault.experiment is not None:
        exp = files.experiment
        if exp is None:
            raise ConfigError(f"fault {fault.id!r}: experiment {fault.experiment!r} was not loaded")
        if back is not None and back.configuration is None:  # the scenario's activities: with the experiment's settings
            back = back.with_settings(merge_configuration(exp.get("configuration"), config),
                                      merge_secrets(exp.get("secrets"), secrets_))
        return ChaosToolkitInjector.from_experiment(exp, config, secrets_, owner=fault.id, clock=clock,
                                                    folder=files.experiment_dir, no_rollback=no_rollback,
                                                    rollback_from=back.activities() if back else None)
    assert fault.activities is not None
    if back is not None and back.configuration is None:
        back = back.with_settings(config, secrets_)
    return ChaosToolkitInjector(fault.activities, fault.rollbacks or [], config, secrets_, owner=fault.id, clock=clock,
                                folder=files.scenario_dir, no_rollback=no_rollback,
                                rollback_from=back.activities() if back else None)


@dataclass(frozen=True)
class _Back:
    """A scenario-given rollback being built (configuration None: the fault's own settings, set later)."""

    acts: list[dict[str, Any]]
    folder: Path | None
    configuration: dict[str, Any] | None = None
    secrets: dict[str, Any] | None = None

    def with_settings(self, configuration: dict[str, Any], secrets: dict[str, Any]) -> _Back:
        return _Back(self.acts, self.folder, configuration, secrets)

    def activities(self) -> Activities:
        from gameday.adapters.chaostoolkit import Activities

        return Activities(self.acts, dict(self.configuration or {}), dict(self.secrets or {}), self.folder)


def _rollback_of(fault: Fault, files: FaultFiles, config: dict[str, Any], secrets: dict[str, Any]) -> _Back | None:
    """The rollback the scenario gives the fault (``rollback:`` activities or experiment), or None."""
    rb = fault.rollback
    if rb is None or rb.none is not None:
        return None
    if rb.activities is not None:
        return _Back(list(rb.activities), files.scenario_dir)
    exp = files.rollback_experiment
    if exp is None:
        raise ConfigError(f"fault {fault.id!r}: rollback experiment {rb.experiment!r} was not loaded")
    from gameday.adapters.chaostoolkit import merge_configuration, merge_secrets, resolve_refs

    return _Back(resolve_refs(exp, exp.get("method") or []), files.rollback_dir,
                 merge_configuration(exp.get("configuration"), config), merge_secrets(exp.get("secrets"), secrets))


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
    folder: Path | None = None,
    allow_production: bool = False,
) -> RunbookRunner:
    """The runner of one runbook: an experiment's method, inline activities, or a process restart.

    ``folder``: where its Chaos Toolkit activities run (the experiment's folder, or the scenario's
    for inline activities); None: gameday's own process and folder."""
    tgt = _target(target)
    config, secrets_ = _settings(tgt, configuration, secrets)
    if runbook.experiment is not None:
        if experiment is None:
            raise ConfigError(f"runbook {name!r}: experiment {runbook.experiment!r} was not loaded")
        from gameday.adapters.chaostoolkit import ChaosToolkitRunner

        return ChaosToolkitRunner.from_experiment(experiment, config, secrets_, owner=name, clock=clock, folder=folder)
    if runbook.activities is not None:
        from gameday.adapters.chaostoolkit import ChaosToolkitRunner

        return ChaosToolkitRunner(runbook.activities, config, secrets_, owner=name, clock=clock, folder=folder)
    assert runbook.restart is not None
    if runbook.restart in tgt.containers:
        from gameday.adapters.docker import ContainerRestarter

        return ContainerRestarter(runbook.restart, tgt.containers[runbook.restart], host=tgt.docker_host, owner=name,
                                  clock=clock, allow_production=allow_production)
    from gameday.adapters.process import ProcessRestarter

    selector = _selector(tgt, runbook.restart, f"runbook {name!r}")
    return ProcessRestarter(runbook.restart, selector, owner=name, clock=clock, log_dir=log_dir)


def prestart_activity_hosts(sc: Scenario) -> None:
    """Start, now, the helper processes the scenario's Chaos Toolkit activities will run in (one per
    fault's method, per rollback in another folder, per runbook): they import chaoslib while the drill
    sets up, so a fault at 0 s does not wait ~0.3 s for one (:func:`gameday.adapters.activity_host.prestart`)."""
    count = sum(1 for f in sc.faults if f.experiment is not None or f.activities is not None)
    count += sum(1 for f in sc.faults if f.rollback is not None and (f.rollback.experiment is not None
                                                                    or (f.rollback.activities and f.experiment)))
    count += sum(1 for rb in sc.runbooks.values() if rb.experiment is not None or rb.activities is not None)
    from gameday.adapters.activity_host import prestart

    prestart(count)  # tops up the one `gameday run` started on a guess, or ends it (no activities)


def effects(loaded: LoadedScenario, target: TargetInfo, clock: Clock,
            log_dir: Path) -> tuple[dict[str, Injector], dict[str, RunbookRunner]]:
    """Every fault's injector and every runbook's runner of a loaded scenario, each Chaos Toolkit
    activity set running in its file's folder (``Factories.effects`` of :mod:`gameday.drill.assemble`).
    The folders' helper processes are started now, in the background, so no injection waits for one."""
    sc = loaded.scenario
    whom = Target(processes=target.processes, containers=target.containers, docker_host=target.docker_host,
                  networks=target.networks)
    common: dict[str, Any] = {"target": whom, "configuration": target.configuration,
                              "secrets": target.secrets, "clock": clock, "log_dir": log_dir}
    injectors = {f.id: injector_for_fault(f, files=FaultFiles.of(loaded, f.id), allow_production=target.allow_production,
                                          **common) for f in sc.faults}
    runbooks: dict[str, RunbookRunner] = {}
    for name, rb in sc.runbooks.items():
        path = loaded.runbook_experiments.get(name)
        runbooks[name] = runner_for_runbook(rb, name=name, experiment=loaded.experiments[str(path)] if path else None,
                                            folder=path.parent if path else loaded.base_dir,
                                            allow_production=target.allow_production, **common)
    from gameday.adapters.chaostoolkit import ChaosToolkitInjector, ChaosToolkitRunner

    for part in [*injectors.values(), *runbooks.values()]:  # their folders' processes start while the drill sets up
        if isinstance(part, (ChaosToolkitInjector, ChaosToolkitRunner)):
            part.warm()
    return injectors, runbooks


def injector_from_spec(spec: LedgerSpec, *, clock: Clock | None = None) -> Injector:
    """Rebuild an injector from a fault ledger spec, to roll it back (``gameday recover``), in the
    folder the spec names."""
    if isinstance(spec, ChaosToolkitRollback):
        from gameday.adapters.chaostoolkit import ChaosToolkitInjector

        if spec.folder is not None and not Path(spec.folder).is_dir():
            raise ConfigError(f"the rollbacks' folder {spec.folder} does not exist any more")
        return ChaosToolkitInjector([], list(spec.rollbacks), dict(spec.configuration), dict(spec.secrets),
                                    owner=spec.owner, clock=clock, folder=spec.folder)  # fmt: skip
    if isinstance(spec, NoRollback):
        raise ConfigError(f"fault {spec.owner!r} has nothing to roll back ({spec.reason})")
    if isinstance(spec, ProcessRollback):
        from gameday.adapters.process import ProcessInjector

        return ProcessInjector.from_spec(spec, clock=clock)
    if isinstance(spec, DockerRollback):
        from gameday.adapters.docker import DockerInjector

        return DockerInjector.from_spec(spec, clock=clock)
    if isinstance(spec, NetworkRollback):
        from gameday.adapters.netfaults import NetworkInjector

        return NetworkInjector.from_spec(spec, clock=clock)
    raise ConfigError(f"a {spec.kind!r} fault cannot be rolled back from the ledger (only chaostoolkit, process, "
                      "docker and network faults)")
