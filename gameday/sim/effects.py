"""The simulator's side of the conductor's ports: injectors, runbooks and probes over simulated
shadows. Nothing here touches a target: injecting a fault opens its shadow, rolling it back (at
the end, or at its ``max_duration``) closes it, and a runbook the players run clears every open
shadow (in the story, the fix works). The probes report every steady-state check failing while
any shadow is open and healthy otherwise, so the conductor journals impact and recovery exactly
as it does from real probes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from gameday.clock import Clock
from gameday.model.scenario import Scenario
from gameday.ports import InjectionResult, LedgerSpec, NoRollback, Observation

#: Called with the faults a runbook (or the facilitator) cleared, the reason and who: journals ShadowCleared.
ClearedHook = Callable[[list[str], str, str], None]


class Shadows:
    """The open simulated shadows of one drill (thread-safe), and who watches them."""

    def __init__(self, scenario: Scenario, clock: Clock):
        self.scenario, self.clock = scenario, clock
        self._lock = threading.Lock()
        self._open: list[str] = []
        self._sink: Callable[[list[Observation]], None] | None = None
        self.on_cleared: ClearedHook | None = None
        #: a simulation's (:mod:`gameday.sim.statemachine`): whether customers feel the current state;
        #: when set, the probes follow it rather than the open shadows
        self.state_impact: Callable[[], bool] | None = None

    @property
    def open(self) -> list[str]:
        with self._lock:
            return list(self._open)

    def opened(self, fault_id: str) -> None:
        with self._lock:
            if fault_id not in self._open:
                self._open.append(fault_id)
        self._push()

    def closed(self, fault_id: str) -> None:
        with self._lock:
            if fault_id in self._open:
                self._open.remove(fault_id)
        self._push()

    def clear(self, by: str, reason: str) -> list[str]:
        """Clear every open shadow (the players' fix worked); the cleared fault ids."""
        with self._lock:
            cleared, self._open = self._open, []
        if cleared and self.on_cleared is not None:
            self.on_cleared(cleared, by, reason)
        if cleared:
            self._push()
        return cleared

    def push(self) -> None:
        """Tell the probes' sink what the checks see now (the simulation moved)."""
        self._push()

    def observations(self) -> list[Observation]:
        with self._lock:
            faults = list(self._open)
        at = self.clock.now()
        detail = f"simulated: fault {', '.join(faults)}" if faults else "simulated"
        failing = bool(faults) if self.state_impact is None else self.state_impact()
        if self.state_impact is not None:
            detail = "simulated: customers feel the current state" if failing else "simulated"
        return [Observation(check=c.label, ok=not failing, at=at, detail=detail) for c in self.scenario.steady_state]

    def watch(self, sink: Callable[[list[Observation]], None] | None) -> None:
        self._sink = sink
        if sink is not None:
            self._push()

    def _push(self) -> None:
        sink = self._sink
        if sink is not None:
            sink(self.observations())


class SimulatedInjector:
    """A fault's shadow: opened on inject, closed on rollback. Never written to a fault ledger
    (a tabletop has none), so its ledger spec only says why."""

    def __init__(self, shadows: Shadows, fault_id: str):
        self.shadows, self.fault_id = shadows, fault_id

    def ledger_spec(self) -> LedgerSpec:
        return NoRollback(owner=self.fault_id, reason="simulated (tabletop): nothing was injected")

    def inject(self) -> InjectionResult:
        self.shadows.opened(self.fault_id)
        return InjectionResult(ok=True)

    def rollback(self) -> InjectionResult:
        self.shadows.closed(self.fault_id)
        return InjectionResult(ok=True)


class SimulatedRunbook:
    """A runbook in the story: running it clears every open shadow (nothing runs anywhere), unless a
    simulation decides what it does (``clears=False``: its state machine moves on the runbook)."""

    def __init__(self, shadows: Shadows, name: str, *, clears: bool = True):
        self.shadows, self.name, self.clears = shadows, name, clears

    def run(self) -> InjectionResult:
        if self.clears:
            self.shadows.clear(f"runbook {self.name}", "runbook")
        return InjectionResult(ok=True)


class SimulatedProbes:
    """The conductor's probes over the shadows (a :class:`~gameday.ports.ProbeLoop` with no thread:
    each change of the shadows is pushed to the sink at once)."""

    def __init__(self, shadows: Shadows):
        self.shadows = shadows

    def check(self) -> list[Observation]:
        return self.shadows.observations()

    def start(self, sink: Callable[[list[Observation]], None]) -> None:
        self.shadows.watch(sink)

    def stop(self) -> None:
        self.shadows.watch(None)

    def bind_prometheus(self, url: str) -> None:
        """Nothing to bind: simulated checks ask no Prometheus."""
