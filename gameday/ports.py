"""Ports: the small protocols through which the conductor touches the world.

Adapters (Chaos Toolkit, local processes, HTTP probes, webhooks, locust, ...) implement
them in :mod:`gameday.adapters`; the conductor only sees these. Fakes for unit tests of
the core live in :mod:`gameday.fakes`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class ActivityRun:
    """One activity an injector ran (a Chaos Toolkit activity, a signal sent, ...)."""

    name: str
    phase: str  # "method", "rollback" or "runbook"
    provider: str  # python, process, http, signal, restart, ...
    status: str  # "succeeded" or "failed"
    started: float  # monotonic
    duration: float
    output: str = ""
    error: str | None = None

    def as_data(self, t0: float) -> dict[str, Any]:
        return {
            "name": self.name,
            "phase": self.phase,
            "provider": self.provider,
            "status": self.status,
            "started_t": round(self.started - t0, 6),
            "duration_s": round(self.duration, 6),
            "output": self.output[:2000],
            "error": self.error,
        }


@dataclass
class InjectionResult:
    """What an inject, rollback or runbook did: every activity run, and whether it worked."""

    ok: bool
    runs: list[ActivityRun] = field(default_factory=list)
    error: str | None = None
    rollback: dict[str, Any] = field(default_factory=dict)  # what the ledger needs to undo it later


class Injector(Protocol):
    """Injects one fault and rolls it back. Both must be safe to call from any thread."""

    def inject(self) -> InjectionResult:
        """Inject. ``result.rollback`` describes how to undo it (written to the ledger first)."""

    def rollback(self) -> InjectionResult:
        """Undo the fault. Idempotent: rolling back twice is harmless."""


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
    """Where a fault's rollback is written before injection (see :mod:`gameday.ledger`)."""

    def record(self, drill_id: str, fault_id: str, spec: dict[str, Any], journal_path: str | None = None) -> None: ...

    def mark_injected(self, drill_id: str, fault_id: str, spec: dict[str, Any] | None = None) -> None: ...

    def mark_rollback_failed(self, drill_id: str, fault_id: str, error: str) -> None: ...

    def clear(self, drill_id: str, fault_id: str) -> None: ...


class Runner(Protocol):
    """Runs a runbook (remediation) and reports its activity runs."""

    def run(self) -> InjectionResult: ...


Listener = Callable[[Any], None]
