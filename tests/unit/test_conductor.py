"""The conductor on a fake clock with fake ports: minutes of drill in milliseconds."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from gameday.clock import FakeClock
from gameday.drill.conductor import Conductor, ScriptedAction
from gameday.fakes import FakeInjector, FakeLedger, FakeProbe, FakeRunbook
from gameday.journal import JournalWriter, read_journal
from gameday.model.alerts import Alert
from gameday.model.events import (
    ActionDetails,
    ActionRecorded,
    AlertReceived,
    DetectionRecorded,
    DrillAborted,
    FaultInjected,
    FaultInjectionFailed,
    FaultRolledBack,
    FaultSkipped,
    RecoveryObserved,
    SteadyStateChecked,
    StepMatched,
)
from gameday.model.scenario import Scenario

FIXTURE = Path(__file__).parent.parent / "fixtures" / "conductor" / "basic.yaml"


def scenario(**changes) -> Scenario:
    data = yaml.safe_load(FIXTURE.read_text())
    data.update(changes)
    return Scenario.model_validate(data)


class World:
    """A fake system: the fault makes it unhealthy, the runbook heals it."""

    def __init__(self, tmp_path: Path, sc: Scenario, *, mode="ci", heal=True, alert_at=7.0, script=(), roster=(),
                 fail_inject=False):
        self.clock = FakeClock()
        self.probe = FakeProbe(self.clock)
        self.injector = FakeInjector(on_inject=lambda: self._set(False), on_rollback=lambda: self._set(True),
                                     fail_inject=fail_inject)
        self.runner = FakeRunbook(effect=(lambda: self._set(True)) if heal else None)
        self.ledger = FakeLedger()
        self.journal = JournalWriter(tmp_path / "journal.jsonl", self.clock, fsync=False)
        self.conductor = Conductor(sc, self.journal, self.clock, mode=mode, drill_id="d1",
                                   injectors={"kill-db": self.injector}, runbooks={"failover": self.runner},
                                   probe=self.probe, ledger=self.ledger, roster=roster, script=script,
                                   spawn=lambda fn: fn())
        t0 = self.journal.t0
        self._tick(t0)
        if alert_at is not None:
            self.clock.schedule(t0 + alert_at, lambda c: c.receive_alerts(
                "alertmanager", {"alerts": []}, [Alert("firing", {"alertname": "CheckoutErrorsHigh"})]))

    def _set(self, ok: bool) -> None:
        self.probe.healthy["health"] = ok

    def _tick(self, at: float) -> None:
        def tick(c):
            c.observe(self.probe.check())
            self.clock.schedule(self.clock.now() + 0.25, tick)

        self.clock.schedule(at, tick)

    def run(self):
        result = self.conductor.run()
        self.journal.close()
        return result, read_journal(self.journal.path)


def kinds(j):
    return [e.kind for e in j.events]


def test_clean_ci_drill_detects_runs_runbook_recovers_and_rolls_back(tmp_path):
    script = [ScriptedAction("alice", "acknowledge", "detection", 1.0), ScriptedAction("alice", "resolved", "recovery", 2.0)]
    w = World(tmp_path, scenario(), script=script, roster=[("alice", "incident-commander"), ("bob", "tech-lead")])
    result, j = w.run()
    assert result.outcome == "completed"
    k = kinds(j)
    assert k[0] == "DrillStarted" and k[-1] == "DrillEnded"
    inj = j.first(FaultInjected)
    det = j.first(DetectionRecorded)
    rec = j.first(RecoveryObserved)
    assert inj.t == pytest.approx(5.0) and det.t == pytest.approx(7.0)
    assert det.data.via == "alert" and det.data.signal == "errors"
    assert rec.t >= det.t
    assert j.first(FaultRolledBack).data.reason == "end"
    assert w.injector.calls == ["inject", "rollback"]
    assert w.runner.runs == 1
    assert w.ledger.open == {} and w.ledger.history == [("record", "kill-db"), ("injected", "kill-db"), ("clear", "kill-db")]
    started = [e for e in j.of(ActionRecorded) if e.data.action == "runbook_started"]
    assert started[0].source == "automation"
    matched = {e.data.step for e in j.of(StepMatched)}
    assert {"ack", "failover", "resolve"} <= matched
    assert k.index("FaultInjected") < k.index("FaultRolledBack")


def test_silent_failure_rolls_back_at_max_duration_and_recovers(tmp_path):
    w = World(tmp_path, scenario(), alert_at=None, heal=False)
    result, j = w.run()
    assert result.outcome == "completed"
    assert j.first(DetectionRecorded) is None
    rb = j.first(FaultRolledBack)
    assert rb.data.reason == "max_duration" and rb.t == pytest.approx(45.0)
    assert j.first(RecoveryObserved).t >= rb.t
    assert w.runner.runs == 0


def test_preflight_failure_aborts_without_injecting(tmp_path):
    w = World(tmp_path, scenario())
    w.probe.healthy["health"] = False
    result, j = w.run()
    assert result.outcome == "aborted" and "steady state" in result.reason
    assert j.first(FaultInjected) is None
    assert w.injector.calls == []
    assert j.first(SteadyStateChecked).data.ok is False


def test_guardrail_aborts_and_rolls_back(tmp_path):
    sc = scenario(faults=[{"id": "kill-db", "at": "5s", "activities": [{"type": "action", "name": "k", "provider": {"type": "process", "path": "true"}}],
                           "rollbacks": [{"type": "action", "name": "r", "provider": {"type": "process", "path": "true"}}]}])
    w = World(tmp_path, sc, alert_at=None, heal=False)
    w.injector.on_rollback = None  # the system never recovers: only the guardrail ends it
    result, j = w.run()
    assert result.outcome == "aborted" and "guardrail" in result.reason
    assert j.first(DrillAborted).t == pytest.approx(60.0)
    assert j.first(FaultRolledBack).data.reason == "abort"
    assert w.ledger.open == {}


def test_abort_from_outside_rolls_back(tmp_path):
    w = World(tmp_path, scenario(), alert_at=None, heal=False)
    w.clock.schedule(w.journal.t0 + 6.0, lambda c: c.abort("signal: SIGINT"))
    result, j = w.run()
    assert result.outcome == "aborted"
    aborted = j.first(DrillAborted)
    assert aborted.t == pytest.approx(6.0)
    rb = j.first(FaultRolledBack)
    assert rb.data.reason == "signal" and rb.t == pytest.approx(6.0)
    assert kinds(j)[-1] == "DrillEnded" and j.events[-1].data.outcome == "aborted"


def test_injector_failure_aborts_and_still_rolls_back(tmp_path):
    w = World(tmp_path, scenario(), fail_inject=True)
    result, j = w.run()
    assert result.outcome == "aborted" and "injector failed" in result.reason
    assert j.first(FaultInjectionFailed) is not None
    assert w.injector.calls == ["inject", "rollback"]


def test_alert_before_injection_is_journaled_but_not_detection(tmp_path):
    w = World(tmp_path, scenario(), alert_at=3.0, heal=False)
    result, j = w.run()
    alert = j.first(AlertReceived)
    assert alert.t == pytest.approx(3.0) and alert.data.matched is True
    assert j.first(DetectionRecorded) is None


def test_person_marking_detected_counts_as_detection(tmp_path):
    script = [ScriptedAction("dana", "mark_detected", "injection", 2.0)]
    w = World(tmp_path, scenario(), alert_at=None, script=script)
    result, j = w.run()
    det = j.first(DetectionRecorded)
    assert det.data.via == "person" and det.data.by == "dana" and det.t == pytest.approx(7.0)


def test_unmatched_alert_is_journaled_not_detected(tmp_path):
    w = World(tmp_path, scenario(), alert_at=None, heal=False)
    w.clock.schedule(w.journal.t0 + 6.0, lambda c: c.receive_alerts(
        "alertmanager", {"x": 1}, [Alert("firing", {"alertname": "DiskFull"})]))
    _, j = w.run()
    assert j.first(AlertReceived).data.matched is False
    assert j.first(DetectionRecorded) is None


def test_facilitator_can_skip_inject_now_and_end(tmp_path):
    w = World(tmp_path, scenario(), alert_at=None, heal=False)
    w.clock.schedule(w.journal.t0 + 1.0, lambda c: c.inject_now("kill-db"))
    w.clock.schedule(w.journal.t0 + 3.0, lambda c: c.end("facilitator ended it"))
    result, j = w.run()
    assert result.outcome == "completed"
    assert j.first(FaultInjected).t == pytest.approx(1.0)
    assert j.events[-1].data.reason == "facilitator ended it"
    assert j.first(FaultRolledBack).data.reason == "end"


def test_skipped_fault_is_never_injected(tmp_path):
    w = World(tmp_path, scenario(), alert_at=None, heal=False)
    w.clock.schedule(w.journal.t0 + 1.0, lambda c: c.skip_fault("kill-db", by="fran"))
    w.clock.schedule(w.journal.t0 + 8.0, lambda c: c.end())
    result, j = w.run()
    assert j.first(FaultSkipped).source == "fran"
    assert j.first(FaultInjected) is None and w.injector.calls == []


def test_vendor_acknowledgement_is_recorded_as_the_responders_action(tmp_path):
    w = World(tmp_path, scenario(), alert_at=None, heal=False)
    w.clock.schedule(w.journal.t0 + 7.0, lambda c: c.receive_alerts(
        "pagerduty", {}, [Alert("firing", {"alertname": "CheckoutErrorsHigh"}, action="acknowledge", actor="Pat")]))
    w.clock.schedule(w.journal.t0 + 9.0, lambda c: c.end())
    _, j = w.run()
    ack = next(e for e in j.of(ActionRecorded) if e.data.action == "acknowledge")
    assert ack.source == "Pat" and ack.data.via == "pagerduty"
    assert j.first(DetectionRecorded).t == pytest.approx(7.0)


def test_pausable_clock_stops_drill_time():
    from gameday.clock import PausableClock

    inner = FakeClock()
    clock = PausableClock(inner)
    start = clock.now()
    inner.advance(2.0)
    assert clock.pause() and not clock.pause()
    inner.advance(10.0)
    assert clock.now() - start == pytest.approx(2.0)
    assert clock.resume()
    inner.advance(1.0)
    assert clock.now() - start == pytest.approx(3.0)


def test_every_rollback_is_in_the_ledger_before_any_injection_and_cleared_if_never_injected(tmp_path):
    sc = scenario(faults=[
        {"id": "kill-db", "at": "5s", "max_duration": "40s",
         "activities": [{"type": "action", "name": "k", "provider": {"type": "process", "path": "true"}}],
         "rollbacks": [{"type": "action", "name": "r", "provider": {"type": "process", "path": "true"}}]},
        {"id": "later", "at": "50s",
         "activities": [{"type": "action", "name": "k", "provider": {"type": "process", "path": "true"}}],
         "rollbacks": [{"type": "action", "name": "r", "provider": {"type": "process", "path": "true"}}]}])
    w = World(tmp_path, sc, alert_at=None, heal=False)
    later = FakeInjector(name="later")
    w.conductor.faults.injectors["later"] = later
    w.clock.schedule(w.journal.t0 + 8.0, lambda c: c.abort("signal: SIGINT"))
    w.run()
    h = w.ledger.history
    assert h[:2] == [("record", "kill-db"), ("record", "later")]  # both before the first injection
    assert h.index(("injected", "kill-db")) > 1
    assert ("clear", "kill-db") in h and ("clear", "later") in h and w.ledger.open == {}
    assert later.calls == []


def test_role_hand_over_leaves_one_holder_and_inputs_before_start_are_refused(tmp_path):
    from gameday.errors import DrillNotStarted

    w = World(tmp_path, scenario(), alert_at=None, heal=False, roster=[("alice", "incident-commander")])
    with pytest.raises(DrillNotStarted):
        w.conductor.record_action("alice", "note", ActionDetails(text="too early"))
    w.clock.schedule(w.journal.t0 + 6.0, lambda c: c.assign_role("bob", "incident-commander", by="alice"))
    w.clock.schedule(w.journal.t0 + 7.0, lambda c: c.record_action("alice", "note", ActionDetails(text="handed over")))
    w.clock.schedule(w.journal.t0 + 8.0, lambda c: c.end())
    _, j = w.run()
    note = next(e for e in j.of(ActionRecorded) if e.data.action == "note")
    assert note.data.role is None  # alice no longer holds incident-commander


def test_a_failing_ledger_write_does_not_stop_the_rollback_of_other_faults(tmp_path):
    sc = scenario(faults=[
        {"id": "kill-db", "at": "5s",
         "activities": [{"type": "action", "name": "k", "provider": {"type": "process", "path": "true"}}],
         "rollbacks": [{"type": "action", "name": "r", "provider": {"type": "process", "path": "true"}}]},
        {"id": "second", "at": "6s",
         "activities": [{"type": "action", "name": "k", "provider": {"type": "process", "path": "true"}}],
         "rollbacks": [{"type": "action", "name": "r", "provider": {"type": "process", "path": "true"}}]}])
    w = World(tmp_path, sc, alert_at=None, heal=False)
    second = FakeInjector(name="second")
    w.conductor.faults.injectors["second"] = second

    def broken_clear(drill_id, fault_id):
        raise OSError("disk full")

    w.ledger.clear = broken_clear
    w.clock.schedule(w.journal.t0 + 7.0, lambda c: c.abort("signal: SIGINT"))
    with pytest.raises(OSError):
        w.conductor.run()
    assert w.injector.calls == ["inject", "rollback"] and second.calls == ["inject", "rollback"]


def test_skip_after_inject_now_wins_and_abort_in_the_lobby_injects_nothing(tmp_path):
    w = World(tmp_path, scenario(), alert_at=None, heal=False)
    w.clock.schedule(w.journal.t0 + 1.0, lambda c: (c.inject_now("kill-db"), c.skip_fault("kill-db")))
    w.clock.schedule(w.journal.t0 + 3.0, lambda c: c.end())
    _, j = w.run()
    assert j.first(FaultInjected) is None and w.injector.calls == []

    w2 = World(tmp_path / "lobby", scenario(), alert_at=None, heal=False)
    w2.conductor.abort("signal: SIGINT")  # before run(): the facilitator never started it
    result, j2 = w2.run()
    assert [e.kind for e in j2.events] == ["DrillStarted", "PhaseChanged", "DrillAborted", "PhaseChanged", "DrillEnded"]
    assert result.outcome == "aborted" and w2.ledger.history == []


def test_impact_already_under_way_at_injection_still_ends_in_recovery(tmp_path):
    w = World(tmp_path, scenario(), alert_at=None, heal=False)
    w.injector.on_inject = None
    w.clock.schedule(w.journal.t0 + 3.0, lambda c: w._set(False))  # failing in the baseline
    w.clock.schedule(w.journal.t0 + 7.0, lambda c: w._set(True))
    _, j = w.run()
    assert j.first(RecoveryObserved) is not None


def test_no_pause_while_a_live_fault_is_in(tmp_path):
    from gameday.clock import PausableClock

    w = World(tmp_path, scenario(), alert_at=None, heal=False)
    w.conductor.clock = PausableClock(w.clock)  # only pause()/resume() go through it here
    results = []
    w.clock.schedule(w.journal.t0 + 6.0, lambda c: results.append(c.pause()))
    w.clock.schedule(w.journal.t0 + 8.0, lambda c: c.end())
    w.run()
    assert results == [False]


def test_a_feed_is_played_at_its_times_and_holds_the_drill_open(tmp_path: Path) -> None:
    from gameday.fakes import FakeFeed
    from gameday.model.events import DrillEnded, NoteAdded

    clock = FakeClock()
    journal = JournalWriter(tmp_path / "journal.jsonl", clock, fsync=False)
    holder: list[Conductor] = []
    feed = FakeFeed(times=[5.0, 40.0], on_due=lambda t: holder[0].record(NoteAdded(text=f"due {t:g}"), "feed"))
    conductor = Conductor(scenario(), journal, clock, mode="tabletop", drill_id="d1", injectors={"kill-db": FakeInjector()},
                          runbooks={"failover": FakeRunbook()}, probe=FakeProbe(clock), feed=feed, simulated=True,
                          spawn=lambda fn: fn())
    holder.append(conductor)
    conductor.run()
    events = read_journal(tmp_path / "journal.jsonl").events
    notes = [(e.t, e.data.text) for e in events if isinstance(e.data, NoteAdded)]
    assert feed.started and notes == [(pytest.approx(5.0), "due 5"), (pytest.approx(40.0), "due 40")]
    ended = [e for e in events if isinstance(e.data, DrillEnded)][0]
    assert ended.t >= 40.0  # held open until the feed had nothing left
