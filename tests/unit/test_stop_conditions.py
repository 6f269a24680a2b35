"""Stop conditions (abort.when): a guard check failing, or the load's error rate or failed requests over a
threshold for a while, aborts the drill and rolls every fault back, the reading journaled first."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from gameday.clock import FakeClock
from gameday.drill.conductor import Conductor
from gameday.fakes import FakeInjector, FakeLedger, FakeProbe
from gameday.journal import JournalWriter, read_journal
from gameday.model.events import DrillAborted, FaultInjected, FaultRolledBack, LoadStats, StopConditionMet, Totals
from gameday.model.load_events import Figures
from gameday.model.scenario import Scenario, StopCondition

FIXTURE = Path(__file__).parent.parent / "fixtures" / "conductor" / "basic.yaml"


def scenario(when: list[dict], *, load: bool = False) -> Scenario:
    data = yaml.safe_load(FIXTURE.read_text())
    data["steady_state"].append({"name": "payments", "http": {"url": "{target.url}/pay"}})
    data["abort"] = {"max_duration": "60s", "when": when}
    if load:
        data["load"] = {"locustfile": "demo", "users": 2, "spawn_rate": 2}
    return Scenario.model_validate(data)


class World:
    """The fault breaks 'health' (expected) and, when ``hurts_payments``, 'payments' (the guard) too."""

    def __init__(self, tmp_path: Path, sc: Scenario, *, hurts_payments: bool = True, stats=()):
        self.clock = FakeClock()
        self.probe = FakeProbe(self.clock, {"health": True, "payments": True})
        self.injector = FakeInjector(on_inject=lambda: self._set(False, not hurts_payments),
                                     on_rollback=lambda: self._set(True, True))
        self.journal = JournalWriter(tmp_path / "journal.jsonl", self.clock, fsync=False)
        self.conductor = Conductor(sc, self.journal, self.clock, mode="ci", drill_id="d1",
                                   injectors={"kill-db": self.injector}, probe=self.probe, ledger=FakeLedger(),
                                   spawn=lambda fn: fn())
        t0 = self.journal.t0

        def tick(c):
            c.observe(self.probe.check())
            self.clock.schedule(self.clock.now() + 0.25, tick)

        self.clock.schedule(t0, tick)
        for at, stat in stats:  # the load driver journals its intervals (a DrillService, not the conductor)
            self.clock.schedule(t0 + at, lambda c, s=stat: self.journal.append(s, "load"))

    def _set(self, health: bool, payments: bool) -> None:
        self.probe.healthy["health"] = health
        self.probe.healthy["payments"] = payments

    def run(self):
        result = self.conductor.run()
        self.journal.close()
        return result, read_journal(self.journal.path)


def test_a_guard_check_failing_for_its_duration_aborts_and_rolls_back(tmp_path):
    w = World(tmp_path, scenario([{"check": "payments", "for": "1s"}]))
    result, j = w.run()
    assert result.outcome == "aborted"
    [met] = j.of(StopConditionMet)
    assert met.data.what == "check 'payments' failing for 1s"
    assert met.data.reading == "payments failing since +5.2s"  # the first round after the injection at +5.0s
    assert (met.t, met.data.since_t) == (pytest.approx(6.25), 5.25)
    aborted = j.first(DrillAborted)
    assert aborted.data.reason == "stop condition: check 'payments' failing for 1s (payments failing since +5.2s)"
    assert aborted.seq > met.seq and j.first(FaultRolledBack).data.reason == "abort"
    assert w.injector.calls == ["inject", "rollback"]


def test_the_fault_breaking_only_what_it_should_does_not_stop_the_drill(tmp_path):
    result, j = World(tmp_path, scenario([{"check": "payments"}]), hurts_payments=False).run()
    assert j.of(StopConditionMet) == [] and j.first(DrillAborted) is None


def stats(t_from: float, requests: int, failures: int) -> LoadStats:
    return LoadStats(t_from=t_from, t_to=t_from + 1.0, users=2, total=Figures(requests=requests, failures=failures))


def test_an_error_rate_above_the_threshold_for_its_duration_aborts(tmp_path):
    load = [(6.0, stats(5.0, 100, 10)), (7.0, stats(6.0, 100, 80)), (8.0, stats(7.0, 100, 90)), (9.0, stats(8.0, 100, 95))]
    w = World(tmp_path, scenario([{"impact": "error_rate", "above": 0.5, "for": "2s"}], load=True), hurts_payments=False,
              stats=load)
    result, j = w.run()
    [met] = j.of(StopConditionMet)
    assert (met.data.value, met.data.threshold, met.data.since_t) == (0.9, 0.5, 6.0)
    assert met.data.reading == "90.0% of requests failed (90 of 100) in +7.0s..+8.0s"
    assert result.outcome == "aborted" and j.first(FaultRolledBack).data.reason == "abort"


def test_failed_requests_count_from_the_first_injection(tmp_path):
    load = [(5.0, stats(3.0, 100, 100)), (7.0, stats(6.0, 100, 30)), (8.0, stats(7.0, 100, 30))]
    w = World(tmp_path, scenario([{"impact": "failed_requests", "above": 50}], load=True), hurts_payments=False,
              stats=load)
    _, j = w.run()
    [met] = j.of(StopConditionMet)
    assert met.data.value == 60.0 and met.data.reading == "60 requests failed since the first injection (by +8.0s)"
    assert met.t == pytest.approx(8.0, abs=0.01) and j.first(FaultInjected).t == pytest.approx(5.0)


@pytest.mark.parametrize("raw, message", [
    ({}, "exactly one of 'check'"),
    ({"check": "x", "impact": "error_rate", "above": 0.1}, "exactly one of 'check'"),
    ({"impact": "error_rate"}, "needs 'above'"),
    ({"impact": "error_rate", "above": 2}, "a share from 0 to 1"),
    ({"check": "x", "above": 1}, "'above' goes with 'impact'"),
])
def test_a_stop_condition_says_what_is_wrong(raw, message):
    with pytest.raises(ValueError, match=message):
        StopCondition.model_validate(raw)


def test_names_and_load_are_cross_checked():
    with pytest.raises(ValueError, match=r"no steady-state check named 'paymnts'"):
        scenario([{"check": "paymnts"}])
    with pytest.raises(ValueError, match=r"impact 'error_rate' is measured by the load generator: the scenario needs"):
        scenario([{"impact": "error_rate", "above": 0.5}])
    assert Totals  # (imported with the load kinds)
