"""The faults of one drill, each paired with its rollback and its fault-ledger entry.

:class:`FaultBook` does the effects (ledger writes, injector calls) and keeps each
fault's state; the conductor decides when and journals what happened. The order is the
safety rule of the whole tool: ledger entry first, then inject; rollback, then clear the
entry — and an injector that raises still counts as a failure that gets rolled back.

A fault with nothing to undo (``rollback: {none: ...}``) is recorded the same way; at its
rollback nothing is run and its entry is cleared. A fault whose injector carries its own
steady-state hypothesis (:class:`~gameday.ports.HypothesisHolder`) is probed by
:meth:`FaultBook.check_hypothesis` when the conductor asks (before injecting, after rolling back).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from gameday.errors import InjectionError
from gameday.model.events import CheckResult
from gameday.model.scenario import Fault
from gameday.ports import HypothesisHolder, HypothesisResult, InjectionResult, Injector, Ledger, Targeting


@dataclass
class FaultState:
    fault: Fault
    injected_t: float | None = None
    rolled_back: bool = False
    failed: bool = False  # injection failed, or skipped: settled, never to be injected

    @property
    def pending(self) -> bool:
        """Still to be injected."""
        return self.injected_t is None and not self.failed

    @property
    def open(self) -> bool:
        """Injected and not rolled back."""
        return self.injected_t is not None and not self.rolled_back

    @property
    def kind(self) -> Literal["experiment", "activities", "process", "docker", "network"]:
        f = self.fault
        return ("experiment" if f.experiment else "activities" if f.activities else "docker" if f.docker
                else "network" if f.network else "process")


class FaultBook:
    """Every fault of a drill with its injector, and the ledger entry written before it goes in."""

    def __init__(self, faults: list[Fault], injectors: Mapping[str, Injector], ledger: Ledger | None,
                 drill_id: str, journal_path: str | None, *, simulated: bool = False):
        #: simulated shadows (tabletop): every one is closed by its injector, even one with nothing to undo
        self.simulated = simulated
        self.states = {f.id: FaultState(f) for f in faults}
        self.injectors = dict(injectors)
        self.hypotheses = {fid: inj for fid, inj in self.injectors.items() if isinstance(inj, HypothesisHolder)}
        self.ledger, self.drill_id, self.journal_path = ledger, drill_id, journal_path
        self._recorded: set[str] = set()
        self._chosen: set[str] = set()  # faults whose targets were chosen (and written to the ledger)

    def __getitem__(self, fault_id: str) -> FaultState:
        return self.states[fault_id]

    def __iter__(self):
        return iter(list(self.states.values()))

    # ------------------------------------------------------------------ views
    def any_pending(self) -> bool:
        return any(st.pending for st in self.states.values())

    def last_injected_t(self) -> float | None:
        times = [st.injected_t for st in self.states.values() if st.injected_t is not None]
        return max(times) if times else None

    # ---------------------------------------------------------------- effects
    def record_all(self) -> None:
        """Write every fault's rollback to the ledger before any is injected.

        Done once after preflight rather than at each fault's time, so the fsynced ledger
        write never delays an injection; entries of faults never injected are cleared by
        :meth:`forget_uninjected` (a crash in between leaves rollbacks harmless to run).
        """
        for fault_id in self.injectors:
            self._record(fault_id)

    def choose_targets(self, st: FaultState) -> str | None:
        """For an injector that chooses its targets when the fault falls due (:class:`~gameday.ports.Targeting`):
        choose them now and rewrite the ledger entry naming them, before any is touched. Why it was refused (the
        fault is settled failed, its entry cleared: nothing was injected), or None (chosen, or nothing to choose)."""
        self._record(st.fault.id)
        injector = self.injectors[st.fault.id]
        if not isinstance(injector, Targeting) or st.fault.id in self._chosen:
            return None
        try:
            spec = injector.select()
        except Exception as exc:  # noqa: BLE001 - refused (InjectionError) or the engine's error: nothing touched
            st.failed = True
            if self.ledger is not None:
                self.ledger.clear(self.drill_id, st.fault.id)
                self._recorded.discard(st.fault.id)
            return str(exc) if isinstance(exc, InjectionError) else f"{type(exc).__name__}: {exc}"
        if self.ledger is not None:
            self.ledger.record(self.drill_id, st.fault.id, spec, self.journal_path)
        self._chosen.add(st.fault.id)
        return None

    def inject(self, st: FaultState) -> InjectionResult:
        """Run the injector (its ledger entry is written first if it is not yet; an injector that chooses its
        targets chooses them first, see :meth:`choose_targets`, unless the conductor already had it choose)."""
        refused = self.choose_targets(st)
        if refused is not None:
            return InjectionResult(ok=False, error=refused)
        result = safely(self.injectors[st.fault.id].inject)
        if self.ledger is not None:
            self.ledger.mark_injected(self.drill_id, st.fault.id, result.rollback or None)
        if not result.ok:
            st.failed = True
        return result

    def rollback(self, st: FaultState) -> InjectionResult | None:
        """Roll an open fault back and settle its ledger entry; None if it was not open.

        A fault with nothing to undo runs nothing: its entry is cleared, the result is empty."""
        if not st.open:
            return None
        st.rolled_back = True
        if st.fault.no_rollback is not None and not self.simulated:
            result = InjectionResult(ok=True)
        else:
            result = safely(self.injectors[st.fault.id].rollback)
        if self.ledger is not None:
            if result.ok:
                self.ledger.clear(self.drill_id, st.fault.id)
            else:
                self.ledger.mark_rollback_failed(self.drill_id, st.fault.id, result.error or "rollback failed")
        return result

    def refused_targets(self) -> list[str]:
        """Before anything is injected: each fault whose targets would be refused now (its blast radius), why."""
        out = []
        for fault_id, injector in self.injectors.items():
            if isinstance(injector, Targeting) and (why := injector.preflight()):
                out.append(f"fault {fault_id}: {why}")
        return out

    def check_hypothesis(self, st: FaultState) -> HypothesisResult | None:
        """Probe the fault's own steady-state hypothesis now (None: it has none); an error is a failed check."""
        holder = self.hypotheses.get(st.fault.id)
        if holder is None:
            return None
        try:
            return holder.check_hypothesis()
        except Exception as exc:  # noqa: BLE001 - an adapter bug is a failed check, journaled
            error = f"{type(exc).__name__}: {exc}"
            return HypothesisResult(title="steady-state hypothesis", ok=False,
                                    probes=[CheckResult(check="hypothesis", ok=False, detail=error)])

    def forget_uninjected(self) -> None:
        """Clear the ledger entries of faults that never went in: nothing to roll back."""
        for st in self.states.values():
            if st.injected_t is None and st.fault.id in self._recorded and self.ledger is not None:
                self.ledger.clear(self.drill_id, st.fault.id)
                self._recorded.discard(st.fault.id)

    def _record(self, fault_id: str) -> None:
        if self.ledger is None or fault_id in self._recorded:
            return
        self.ledger.record(self.drill_id, fault_id, self.injectors[fault_id].ledger_spec(), self.journal_path)
        self._recorded.add(fault_id)


def safely(fn: Callable[[], InjectionResult]) -> InjectionResult:
    """Call an injector or runner; an exception becomes a failed result (an adapter bug must not skip a rollback)."""
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - any adapter failure becomes a failed result, journaled
        return InjectionResult(ok=False, error=f"{type(exc).__name__}: {exc}")
