"""The fault book's safety order for injectors that choose their targets when the fault falls due: the
targets are chosen and written to the ledger before any is touched; a refused selection injects nothing and
leaves no ledger entry; the conductor refuses the drill at preflight when a selection would be refused."""

from __future__ import annotations

from dataclasses import dataclass, field

from gameday.clock import FakeClock
from gameday.drill.conductor import Conductor
from gameday.drill.faults import FaultBook
from gameday.errors import InjectionError
from gameday.fakes import FakeInjector, FakeLedger, FakeProbe
from gameday.journal import JournalWriter
from gameday.model.events import DrillAborted, FaultInjected
from gameday.model.scenario import Fault, Scenario
from gameday.ports import FakeRollback, Targeting

TRUE = [{"type": "action", "name": "noop", "provider": {"type": "process", "path": "true"}}]


@dataclass
class Choosing(FakeInjector):
    """A fake injector that chooses targets: ``refuse`` makes the choice fail; ``log`` sees the order."""

    refuse: str | None = None
    log: list[str] = field(default_factory=list)

    def select(self) -> FakeRollback:
        self.log.append("select")
        if self.refuse:
            raise InjectionError(self.refuse)
        return FakeRollback(name="chosen")

    def preflight(self) -> str | None:
        return self.refuse


def fault() -> Fault:
    return Fault.model_validate({"id": "f", "at": "1s", "activities": TRUE, "rollbacks": TRUE})


def test_chosen_targets_reach_the_ledger_before_the_injection():
    inj, ledger = Choosing(), FakeLedger()
    assert isinstance(inj, Targeting)
    inj.on_inject = lambda: inj.log.append(f"inject with ledger {ledger.open[('d', 'f')]}")
    book = FaultBook([fault()], {"f": inj}, ledger, "d", None)
    result = book.inject(book["f"])
    assert result.ok
    assert inj.log == ["select", "inject with ledger kind='fake' name='chosen'"]


def test_a_refused_selection_injects_nothing_and_clears_its_entry():
    inj, ledger = Choosing(refuse="containers 'web': 3 match, more than 1"), FakeLedger()
    book = FaultBook([fault()], {"f": inj}, ledger, "d", None)
    book.record_all()
    result = book.inject(book["f"])
    assert (result.ok, result.error, inj.calls) == (False, "containers 'web': 3 match, more than 1", [])
    assert ledger.open == {} and book["f"].failed


def play(tmp_path, inj: Choosing) -> list:
    """A whole drill (fake clock, fake probe, fake ledger) of one fault ``f`` injected by ``inj``: its events."""
    sc = Scenario.model_validate({
        "apiVersion": "gameday/v1", "id": "t", "title": "t", "severity": "SEV3", "target": {"url": "http://127.0.0.1:1"},
        "steady_state": [{"name": "health", "http": {"url": "{target.url}/health"}}],
        "faults": [{"id": "f", "at": "1s", "activities": TRUE, "rollbacks": TRUE}],
        "detection": {"within": "30s"}, "recovery": {"within": "1m"}, "abort": {"max_duration": "2m"}})
    clock = FakeClock()
    journal = JournalWriter(tmp_path / "j.jsonl", clock, fsync=False)
    Conductor(sc, journal, clock, mode="ci", drill_id="t", injectors={"f": inj}, probe=FakeProbe(clock, {"health": True}),
              ledger=FakeLedger()).run()
    return list(journal.events)


def test_the_drill_is_refused_at_preflight_with_the_reason(tmp_path):
    inj = Choosing(refuse="containers 'web': no running container matches")
    events = play(tmp_path, inj)
    [aborted] = [e for e in events if isinstance(e.data, DrillAborted)]
    assert aborted.data.reason == ("blast radius refused before injection: fault f: containers 'web': no running "
                                   "container matches")
    assert not any(isinstance(e.data, FaultInjected) for e in events) and inj.calls == [] and inj.log == []


def test_a_selection_refused_when_the_fault_falls_due_is_never_journaled_as_injected(tmp_path):
    from gameday.model.events import FaultInjectionFailed


    class LateRefusal(Choosing):
        def preflight(self) -> str | None:
            return None  # fine at preflight; another container appears before the fault's time

    inj = LateRefusal(refuse="containers 'web': 2 running containers match, more than the 1 the scenario allows")
    events = play(tmp_path, inj)
    kinds = [e.kind for e in events]
    assert "FaultInjected" not in kinds and "FaultRolledBack" not in kinds
    [failed] = [e for e in events if isinstance(e.data, FaultInjectionFailed)]
    assert failed.data.error == inj.refuse and inj.calls == []
    [aborted] = [e for e in events if isinstance(e.data, DrillAborted)]
    assert aborted.data.reason.startswith("fault f refused: containers 'web': 2 running containers match")
