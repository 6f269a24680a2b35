"""Ports: the small protocols through which the conductor touches the world.

Adapters (Chaos Toolkit, local processes, HTTP probes, webhooks, locust, ...) implement
them in :mod:`gameday.adapters`; the conductor only sees these. Fakes for unit tests of
the core live in :mod:`gameday.fakes`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from gameday.model.events import ActivityRan, CheckResult, FaultHypothesisChecked, HypothesisStage
from gameday.model.scenario import ProcessSelector

ActivityPhase = Literal["method", "rollback", "runbook"]
ActivityStatus = Literal["succeeded", "failed"]


@dataclass(frozen=True)
class ActivityRun:
    """One activity an injector ran (a Chaos Toolkit activity, a signal sent, ...)."""

    name: str
    phase: ActivityPhase
    provider: str  # python, process, http, signal, restart, ...
    status: ActivityStatus
    started: float  # monotonic
    duration: float
    output: str = ""
    error: str | None = None

    def event(self, owner: str, t0: float) -> ActivityRan:
        """The ``ActivityRan`` payload of this run for the fault or runbook ``owner`` (``t0``: drill start)."""
        return ActivityRan(owner=owner, name=self.name, phase=self.phase, provider=self.provider, status=self.status,
                           started_t=round(self.started - t0, 6), duration_s=round(self.duration, 6),
                           output=self.output[:2000], error=self.error)


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProcessRollback(_Spec):
    """How to undo a process fault from another process (``gameday recover``): signal it, or restart it."""

    kind: Literal["process"] = "process"
    name: str
    owner: str = ""
    action: str
    signal: str = "SIGKILL"
    pid: int | None = None
    start_time: int | None = None
    restart: list[str] = Field(default_factory=list)
    cwd: str | None = None
    log: str | None = None
    selector: ProcessSelector


class ChaosToolkitRollback(_Spec):
    """A Chaos Toolkit fault's rollbacks, with the configuration and secrets to run them (the
    experiment's own activities: Chaos Toolkit's format, kept as it is).

    ``folder`` is the absolute folder the rollbacks run in (that of the file holding them, see
    :mod:`gameday.adapters.chaostoolkit`), so ``gameday recover`` runs them there from anywhere;
    absent (None), they run in the recovering process's own folder.
    """

    kind: Literal["chaostoolkit"] = "chaostoolkit"
    owner: str = ""
    rollbacks: list[dict[str, JsonValue]] = Field(default_factory=list)
    configuration: dict[str, JsonValue] = Field(default_factory=dict)
    secrets: dict[str, JsonValue] = Field(default_factory=dict)
    folder: str | None = None


class NoRollback(_Spec):
    """A fault with nothing to undo (``rollback: {none: REASON}`` in the scenario): recorded like any
    other, so a crash in mid-drill is seen, but ``gameday recover`` only strikes it off, saying why."""

    kind: Literal["none"] = "none"
    owner: str = ""
    reason: str


class ContainerRef(_Spec):
    """One container a docker fault touched, with what its rollback needs to put back."""

    id: str
    name: str
    aliases: list[str] = Field(default_factory=list, description="disconnect: its aliases on the network")
    ipv4_address: str | None = Field(None, description="disconnect: the static IPv4 address it had there")
    ipv6_address: str | None = Field(None, description="disconnect: the static IPv6 address it had there")
    nano_cpus: int = Field(0, description="limit: its CPU limit before (0: none)")
    memory: int = Field(0, description="limit: its memory limit before, bytes (0: none)")
    memory_swap: int = Field(0, description="limit: its memory+swap limit before (0: none, -1: unlimited)")


class DockerRollback(_Spec):
    """How to undo a docker fault from another process (``gameday recover``): the engine, the action, and the
    containers it touched. Written before injection with the selection alone (``containers`` empty), and again,
    with the containers resolved, before the first one is touched."""

    kind: Literal["docker"] = "docker"
    owner: str = ""
    host: str
    action: str
    target: str
    selection: str = Field("", description="the selection, in words (for messages)")
    network: str | None = None
    cpus: float | None = Field(None, description="limit: the CPUs the fault set (its rollback puts back only these)")
    memory: str | None = Field(None, description="limit: the memory the fault set")
    containers: list[ContainerRef] = Field(default_factory=list)


class NetworkRollback(_Spec):
    """How to undo a network fault from another process: the namespace, and the tag its iptables rules carry
    (``gameday:<owner>:<token>``) or the interfaces whose tbf qdisc it added (see :mod:`gameday.adapters.netfaults`)."""

    kind: Literal["network"] = "network"
    owner: str = ""
    netns: str
    target: str
    action: str
    token: str
    interfaces: list[str] = Field(default_factory=list)


class FakeRollback(_Spec):
    """The ledger spec of :class:`gameday.fakes.FakeInjector` (unit tests only)."""

    kind: Literal["fake"] = "fake"
    name: str


LedgerSpec = Annotated[ProcessRollback | ChaosToolkitRollback | DockerRollback | NetworkRollback | NoRollback
                       | FakeRollback, Field(discriminator="kind")]
"""What the fault ledger records to undo a fault later, by injector kind."""


@dataclass
class InjectionResult:
    """What an inject, rollback or runbook did: every activity run, and whether it worked."""

    ok: bool
    runs: list[ActivityRun] = field(default_factory=list)
    error: str | None = None
    rollback: LedgerSpec | None = None  # the updated ledger spec (e.g. with the pid now known)


@dataclass(frozen=True)
class HypothesisResult:
    """A fault's own steady-state hypothesis (a Chaos Toolkit experiment's), probed once."""

    title: str
    ok: bool
    probes: list[CheckResult] = field(default_factory=list)

    def event(self, fault: str, stage: HypothesisStage) -> FaultHypothesisChecked:
        """The ``FaultHypothesisChecked`` payload of this check of ``fault``."""
        return FaultHypothesisChecked(fault=fault, stage=stage, ok=self.ok, title=self.title, probes=list(self.probes))

    def failing(self) -> str:
        """'probe: why; probe: why' of the probes that failed ('' when it held)."""
        return "; ".join(f"{p.check}: {p.detail or 'failed'}" for p in self.probes if not p.ok)


class Injector(Protocol):
    """Injects one fault and rolls it back. Both must be safe to call from any thread."""

    def ledger_spec(self) -> LedgerSpec:
        """What the fault ledger needs to roll this fault back from another process (written before injection)."""

    def inject(self) -> InjectionResult:
        """Inject. ``result.rollback`` describes how to undo it (written to the ledger first)."""

    def rollback(self) -> InjectionResult:
        """Undo the fault. Idempotent: rolling back twice is harmless."""


@runtime_checkable
class HypothesisHolder(Protocol):
    """An injector whose fault brings its own steady-state hypothesis (a Chaos Toolkit experiment's
    ``steady-state-hypothesis``). The conductor probes it before injecting (the fault is not
    injected when it does not hold) and after the rollback; each result is journaled as
    ``FaultHypothesisChecked``. A capability some injectors have, checked with ``isinstance``."""

    def check_hypothesis(self) -> HypothesisResult | None:
        """Probe the hypothesis once, now; None when this fault has none."""


@runtime_checkable
class Targeting(Protocol):
    """An injector that chooses its targets when the fault falls due (containers by labels): :meth:`select`
    resolves them and checks the blast radius, and returns the ledger spec naming them, which the fault book
    writes to the ledger before :meth:`Injector.inject` touches any. A capability checked with ``isinstance``."""

    def select(self) -> LedgerSpec:
        """Resolve the targets now; raise :class:`~gameday.errors.InjectionError` (nothing touched) when the
        selection is refused: it matches nothing, or more than the scenario allows."""

    def preflight(self) -> str | None:
        """Before the drill injects anything: why the selection would be refused now ('' or None: it would not)."""


@dataclass(frozen=True)
class Observation:
    """A probe's verdict at one moment."""

    check: str
    ok: bool
    at: float  # monotonic
    detail: str = ""


class Observer(Protocol):
    """Probes the target's steady state."""

    def check(self) -> list[Observation]:
        """Probe every check once, now."""


class Ledger(Protocol):
    """Where a fault's rollback is written before injection (see :mod:`gameday.drill.ledger`)."""

    def ensure_clear(self) -> None:
        """Refuse to start (a one-line error) while a fault of an earlier drill is still open."""

    def record(self, drill_id: str, fault_id: str, spec: LedgerSpec, journal_path: str | None = None) -> None: ...

    def mark_injected(self, drill_id: str, fault_id: str, spec: LedgerSpec | None = None) -> None: ...

    def mark_rollback_failed(self, drill_id: str, fault_id: str, error: str) -> None: ...

    def clear(self, drill_id: str, fault_id: str) -> None: ...


class RunbookRunner(Protocol):
    """Runs a runbook (remediation) and reports its activity runs."""

    def run(self) -> InjectionResult: ...


class Feed(Protocol):
    """Timed input the conductor plays along its timeline: a tabletop's MSEL (:mod:`gameday.sim.msel`)."""

    def start(self) -> None:
        """The drill has just started (``DrillStarted`` is journaled)."""

    def play(self, t: float) -> list[float]:
        """Do what is due at drill offset ``t``; return the later offsets at which something falls due."""

    def keeps_open(self) -> bool:
        """True while the drill must not end by itself."""


class ProbeLoop(Observer, Protocol):
    """The conductor's own probes, also run continuously: each round's observations go to ``sink``."""

    def start(self, sink: Callable[[list[Observation]], None]) -> None: ...

    def stop(self) -> None: ...

    def bind_prometheus(self, url: str) -> None:
        """Point the PromQL checks that name no Prometheus at the drill's (see :mod:`gameday.monitoring`)."""


class IntakeServer(Protocol):
    """The webhook intake, listening (``url`` is its base URL); the control room may share its server."""

    @property
    def url(self) -> str: ...

    @property
    def base_app(self) -> object:
        """The ASGI app serving the intake (the control room mounts it beside its own routes)."""

    def mount(self, app: object) -> None:
        """Serve ``app`` from now on (it keeps serving :attr:`base_app`)."""

    def unmount(self) -> None:
        """Serve :attr:`base_app` alone again."""

    def stop(self, *, wait: bool = True) -> None: ...


class DrillService(Protocol):
    """A part that runs beside the conductor for the drill's length: load, monitoring, notifications, the
    control room. Started after the conductor exists, before it runs; stopped in reverse order, whatever
    happened. It journals through the journal and follows phases through ``conductor.phase_listeners``."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


class LoadDriver(DrillService, Protocol):
    """Drives load (locust) from the baseline until rollback, journaling LoadStarted/LoadStats/LoadStopped."""


class Notifier(DrillService, Protocol):
    """Delivers status updates the responders post to chat channels, journaling NotificationSent/Failed."""


class MonitoringStack(DrillService, Protocol):
    """Real monitoring for the drill (Prometheus and Alertmanager, or the user's), alerting to the intake."""


class ControlRoom(DrillService, Protocol):
    """The facilitator's and responders' web console; the drill starts when its gate opens."""

    @property
    def start_gate(self) -> threading.Event: ...
