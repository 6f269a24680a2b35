"""Fakes of the ports, for unit tests of the core (never used against a real system).

Like httpx's ``MockTransport``: small, honest stand-ins that record what was asked of
them. Adapters are tested against the real things they drive, not with these.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gameday.clock import FakeClock
from gameday.journal import Journal, JournalWriter, read_journal
from gameday.model.events import DrillStarted, Payload
from gameday.ports import ActivityRun, FakeRollback, InjectionResult, LedgerSpec, Observation

#: One scripted journal line: (seconds from drill start, payload, source).
ScriptedEvent = tuple[float, Payload, str]


def write_journal(path: Path, started: DrillStarted, script: Iterable[ScriptedEvent]) -> Journal:
    """Write a journal on a fake clock (``started`` at 0, then each payload at its offset, from its
    source), then replay the file: journals for unit tests of the analysis, as real as a drill's."""
    clock = FakeClock()
    writer = JournalWriter(path, clock, fsync=False)
    writer.append(started, "conductor")
    for at, payload, source in script:
        clock.advance(max(0.0, at - writer.offset()))
        writer.append(payload, source)
    writer.close()
    return read_journal(path)


@dataclass
class FakeInjector:
    """Records inject/rollback calls; ``fail_inject``/``fail_rollback`` make them fail."""

    name: str = "fake"
    fail_inject: bool = False
    fail_rollback: bool = False
    on_inject: Callable[[], None] | None = None
    on_rollback: Callable[[], None] | None = None
    calls: list[str] = field(default_factory=list)

    def ledger_spec(self) -> FakeRollback:
        return FakeRollback(name=self.name)

    def inject(self) -> InjectionResult:
        self.calls.append("inject")
        if self.on_inject:
            self.on_inject()
        run = ActivityRun(self.name, "method", "fake", "failed" if self.fail_inject else "succeeded", 0.0, 0.0)
        return InjectionResult(ok=not self.fail_inject, runs=[run], error="fake failure" if self.fail_inject else None)

    def rollback(self) -> InjectionResult:
        self.calls.append("rollback")
        if self.on_rollback:
            self.on_rollback()
        run = ActivityRun(self.name, "rollback", "fake", "failed" if self.fail_rollback else "succeeded", 0.0, 0.0)
        return InjectionResult(ok=not self.fail_rollback, runs=[run], error="fake failure" if self.fail_rollback else None)


@dataclass
class FakeRunbook:
    """A runbook that calls ``effect`` (e.g. to make the fake system healthy) and succeeds."""

    effect: Callable[[], None] | None = None
    runs: int = 0

    def run(self) -> InjectionResult:
        self.runs += 1
        if self.effect:
            self.effect()
        return InjectionResult(ok=True, runs=[ActivityRun("fake-runbook", "runbook", "fake", "succeeded", 0.0, 0.0)])


@dataclass
class FakeProbe:
    """Reports the state of a switchable fake system: ``healthy`` per check."""

    clock: Any
    healthy: dict[str, bool] = field(default_factory=lambda: {"health": True})

    def check(self) -> list[Observation]:
        return [Observation(name, ok, self.clock.now()) for name, ok in self.healthy.items()]


@dataclass
class FakeLedger:
    """In-memory fault ledger."""

    open: dict[tuple[str, str], LedgerSpec] = field(default_factory=dict)
    history: list[tuple[str, str]] = field(default_factory=list)

    def ensure_clear(self) -> None:
        if self.open:
            raise RuntimeError(f"fake ledger: {len(self.open)} fault(s) still open")

    def record(self, drill_id: str, fault_id: str, spec: LedgerSpec, journal_path: str | None = None) -> None:
        self.open[(drill_id, fault_id)] = spec
        self.history.append(("record", fault_id))

    def mark_injected(self, drill_id: str, fault_id: str, spec: LedgerSpec | None = None) -> None:
        self.history.append(("injected", fault_id))

    def mark_rollback_failed(self, drill_id: str, fault_id: str, error: str) -> None:
        self.history.append(("rollback_failed", fault_id))

    def clear(self, drill_id: str, fault_id: str) -> None:
        self.open.pop((drill_id, fault_id), None)
        self.history.append(("clear", fault_id))


@dataclass
class FakeFeed:
    """A timed input for the conductor (the :class:`~gameday.ports.Feed` a tabletop's MSEL player is):
    calls ``on_due(t)`` once at each of ``times`` (drill offsets), records every ``play``; ``hold_open``
    keeps the drill from ending by itself."""

    times: list[float] = field(default_factory=list)
    on_due: Callable[[float], None] | None = None
    hold_open: bool = False
    started: bool = False
    played: list[float] = field(default_factory=list)

    def start(self) -> None:
        self.started = True

    def play(self, t: float) -> list[float]:
        self.played.append(t)
        due = [x for x in self.times if x <= t + 1e-9]
        self.times = [x for x in self.times if x > t + 1e-9]
        for x in due:
            if self.on_due is not None:
                self.on_due(x)
        return list(self.times)

    def keeps_open(self) -> bool:
        return self.hold_open or bool(self.times)
