"""The simulator and the MSEL player on a fake clock: shadows, injects, contingencies, the
facilitator's controls, the pace; and the tabletop's set-up touching no target."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

import gameday.demo.control as control
from gameday.clock import FakeClock, InstantClock, PacedClock
from gameday.drill.assemble import DrillOptions, Factories, run_drill
from gameday.drill.conductor import Conductor
from gameday.drill.schedule import ScriptedAction
from gameday.errors import ConfigError, ScenarioError
from gameday.journal import JournalWriter, read_journal
from gameday.loader import load_scenario
from gameday.model import events as ev
from gameday.model.events import ActionDetails
from gameday.model.scenario import Scenario
from gameday.sim.msel import ExerciseError, MselPlayer, msel_status
from gameday.sim.pace import PaceError, parse_pace
from gameday.sim.parts import simulate
from gameday.sim.shadow import derive_msel, implied_series

ROOT = Path(__file__).resolve().parents[2]
LIVE = ROOT / "scenarios" / "checkout-db-primary-failure.yaml"
MSEL = ROOT / "scenarios" / "tabletop-checkout-db-outage.yaml"


def kinds(events, kind):
    return [e for e in events if isinstance(e.data, kind)]


class Table:
    """A tabletop conductor on a fake clock, with the facilitator's moves scheduled at scenario offsets."""

    def __init__(self, tmp: Path, sc: Scenario, *, pace: str = "real", script=(), roster=()):
        self.fake = FakeClock()
        p = parse_pace(pace)
        self.clock = PacedClock(self.fake, p.factor)
        self.sim = simulate(sc, self.clock, p)
        self.journal = JournalWriter(tmp / "journal.jsonl", self.clock, fsync=False)
        self.conductor = Conductor(sc, self.journal, self.clock, mode="tabletop", drill_id="t", injectors=self.sim.injectors,
                                   runbooks=self.sim.runbooks, probe=self.sim.probes, feed=self.sim.player, simulated=True,
                                   spawn=lambda fn: fn(), script=list(script), roster=list(roster))
        self.sim.player.bind(self.conductor)
        self.sim.probes.start(self.conductor.observe)
        self.t0 = self.fake.now()

    @property
    def player(self) -> MselPlayer:
        return self.sim.player

    def at(self, t: float, fn: Callable[[MselPlayer], object]) -> None:
        """Do ``fn(player)`` at wall offset ``t`` (scenario offset too at the real pace)."""
        self.fake.schedule(self.t0 + t, lambda c: fn(self.player))

    def run(self):
        self.conductor.run()
        self.journal.close()
        return self.journal.events


def act(person: str, action: str, after: str, delay: float, **kw) -> ScriptedAction:
    return ScriptedAction(person=person, action=action, after=after, delay=delay, details=ActionDetails(**kw))


# --------------------------------------------------------------------------- pace and clock
def test_paces_are_read_and_bad_ones_refused() -> None:
    assert parse_pace("4h:45m").factor == pytest.approx(4 * 60 / 45)
    assert parse_pace("real").factor == 1.0
    assert parse_pace("manual").kind == "manual" and parse_pace("instant").kind == "instant"
    for bad in ("fast", "4h", "0s:1m", "4h:x", "1000h:1ms"):
        with pytest.raises(PaceError, match="--pace"):
            parse_pace(bad)


def test_the_scenario_clock_runs_at_its_pace_pauses_and_jumps() -> None:
    fake = FakeClock()
    clock = PacedClock(fake, 4.0)
    t0 = clock.now()
    fake.advance(10)
    assert clock.now() - t0 == pytest.approx(40)
    clock.pause()
    fake.advance(100)
    assert clock.now() - t0 == pytest.approx(40)
    clock.resume()
    clock.jump(60)
    fake.advance(1)
    assert clock.now() - t0 == pytest.approx(104)
    clock.set_factor(None)  # manual: stands still
    fake.advance(50)
    assert clock.now() - t0 == pytest.approx(104)


# --------------------------------------------------------------------------- shadows
def test_a_live_scenario_gets_an_msel_from_its_faults_signals_and_checks() -> None:
    sc = load_scenario(LIVE).scenario
    msel = derive_msel(sc)
    by_id = {i.id: i for i in msel}
    assert list(by_id) == ["shadow-1-panel", "shadow-1-alert", "shadow-1-customers"]
    alert = by_id["shadow-1-alert"]
    assert alert.alert is not None and alert.alert.alertname == "CheckoutErrorsHigh"
    assert alert.at == sc.faults[0].at + min(30.0, sc.detection.within / 2)
    assert {x.step for x in alert.expect} == {s.id for s in sc.response if s.after == "detection"}
    assert by_id["shadow-1-panel"].panel is not None and by_id["shadow-1-panel"].panel.fault == "kill-primary"
    assert derive_msel(load_scenario(MSEL).scenario) == list(load_scenario(MSEL).scenario.injects)


def test_a_live_scenario_plays_as_a_tabletop_detection_through_the_same_matching(tmp_path: Path) -> None:
    sc = load_scenario(LIVE).scenario
    table = Table(tmp_path, sc, script=[act("bob", "runbook", "detection", 3, runbook="failover")],
                  roster=[("bob", "tech-lead")])
    events = table.run()
    injected = kinds(events, ev.FaultInjected)[0]
    assert injected.source == "simulator" and injected.t == pytest.approx(sc.faults[0].at)
    received = kinds(events, ev.AlertReceived)[0]
    assert received.source == "simulator" and received.data.signal == "checkout errors"
    detected = kinds(events, ev.DetectionRecorded)[0]
    assert detected.data.via == "alert" and detected.data.alert_seq == received.seq
    assert kinds(events, ev.ShadowCleared)[0].data.reason == "runbook"
    assert kinds(events, ev.RecoveryObserved)
    assert kinds(events, ev.DrillEnded)[0].data.outcome == "completed"
    assert kinds(events, ev.PaceSet)[0].data.pace == "real"
    assert not kinds(events, ev.ActivityRan)  # nothing ran anywhere


def test_panels_draw_the_shadow_until_it_clears(tmp_path: Path) -> None:
    sc = load_scenario(LIVE).scenario
    table = Table(tmp_path, sc, script=[act("bob", "runbook", "detection", 3, runbook="failover")])
    events = table.run()
    cleared = kinds(events, ev.ShadowCleared)[0].t
    series = implied_series(sc, "kill-primary", events, until=cleared + 5)
    assert [s.name for s in series] == ["checkout health"]
    assert series[0].points[-1] == (cleared + 5, 100.0) and (sc.faults[0].at, 0.0) in series[0].points


# --------------------------------------------------------------------------- the MSEL
def test_injects_go_out_on_the_scenario_clock_at_the_pace(tmp_path: Path) -> None:
    sc = load_scenario(MSEL).scenario
    table = Table(tmp_path, sc, pace="4h:45m")
    table.at(60, lambda p: table.conductor.end())  # one wall minute: 5m20s of scenario
    events = table.run()
    published = kinds(events, ev.InjectPublished)
    assert published == []  # the first inject is at 7m
    table2 = Table(tmp_path / "b", sc, pace="4h:45m") if (tmp_path / "b").mkdir() is None else None
    assert table2 is not None
    table2.at(90, lambda p: table2.conductor.end())  # 8 scenario minutes
    events = table2.run()
    first = kinds(events, ev.InjectPublished)[0]
    assert first.data.inject == "i01-alert" and first.t == pytest.approx(7 * 60) and first.data.by == "schedule"
    assert first.data.scheduled_t == 7 * 60 and first.source == "simulator"


def test_a_contingency_fires_when_the_expected_action_is_not_done(tmp_path: Path) -> None:
    sc = load_scenario(MSEL).scenario
    events = Table(tmp_path, sc, pace="instant" if False else "real").run()
    fired = [e for e in kinds(events, ev.InjectPublished) if e.data.by == "contingency"]
    assert {(e.data.inject, e.data.contingency_of) for e in fired} == {("i01b-escalation", "i01-alert"),
                                                                         ("i03b-press", "i03-customers")}
    esc = next(e for e in fired if e.data.inject == "i01b-escalation")
    parent = next(e for e in kinds(events, ev.InjectPublished) if e.data.inject == "i01-alert")
    assert esc.t == pytest.approx(parent.t + 600)
    assert esc.data.missing == ["step acknowledge", "step declare"]  # journaled: what was not done in time


def test_no_contingency_when_the_players_act(tmp_path: Path) -> None:
    sc = load_scenario(MSEL).scenario
    script = [act("alice", "acknowledge", "detection", 60), act("alice", "declare_incident", "detection", 120),
              act("carol", "post_update", "start", 21 * 60, audience="external", text="We know.")]
    roster = [("alice", "incident-commander"), ("carol", "comms-lead")]
    events = Table(tmp_path, sc, script=script, roster=roster).run()
    assert not [e for e in kinds(events, ev.InjectPublished) if e.data.by == "contingency"]


def test_hold_skip_and_publish_now(tmp_path: Path) -> None:
    sc = load_scenario(MSEL).scenario
    table = Table(tmp_path, sc)
    table.at(60, lambda p: p.hold("i02-dashboard", "fran"))
    table.at(61, lambda p: p.skip("i01b-escalation", "fran"))
    table.at(600, lambda p: p.publish_now("i02-dashboard", "fran"))
    table.at(601, lambda p: p.publish_now("i05-exec", "fran"))
    events = table.run()
    pub = {e.data.inject: e for e in kinds(events, ev.InjectPublished)}
    assert pub["i02-dashboard"].t == pytest.approx(600) and pub["i02-dashboard"].data.by == "fran"
    assert pub["i02-dashboard"].source == "fran"
    assert "i01b-escalation" not in pub  # skipped: its contingency publishes nothing
    assert pub["i05-exec"].t == pytest.approx(601)
    assert len([e for e in kinds(events, ev.InjectPublished) if e.data.inject == "i05-exec"]) == 1  # not again at 50m
    status = {v.inject.id: v for v in msel_status(sc, events)}
    assert status["i01b-escalation"].state == "skipped" and status["i02-dashboard"].by == "fran"
    assert [e.data.inject for e in kinds(events, ev.InjectHeld)] == ["i02-dashboard"]


def test_the_facilitators_controls_refuse_what_cannot_be_done(tmp_path: Path) -> None:
    sc = load_scenario(MSEL).scenario
    table = Table(tmp_path, sc)
    errors: list[tuple[int, str]] = []

    def attempt(fn: Callable[[], object]) -> None:
        try:
            fn()
        except ExerciseError as exc:
            errors.append((exc.status, exc.message))

    p = table.player
    table.at(600, lambda _: attempt(lambda: p.publish_now("nope")))
    table.at(601, lambda _: attempt(lambda: p.publish_now("i01-alert")))  # published at 7m
    table.at(602, lambda _: attempt(lambda: p.hold("i01-alert")))
    table.at(603, lambda _: attempt(lambda: p.rate("restore-checkout", "M", "  ")))
    table.at(604, lambda _: attempt(lambda: p.evaluator_note("x", "eve", objective="nope")))
    table.at(605, lambda _: attempt(lambda: p.hot_wash("alice", "", " ", "alice")))
    table.at(606, lambda _: attempt(lambda: p.set_pace(parse_pace("instant"))))
    table.at(607, lambda _: table.conductor.end())
    table.run()
    assert [s for s, _ in errors] == [404, 409, 409, 422, 404, 422, 422]
    assert "i01-alert" in errors[1][1] and "published" in errors[1][1]


def test_decisions_notes_ratings_and_the_hot_wash_are_journaled(tmp_path: Path) -> None:
    sc = load_scenario(MSEL).scenario
    table = Table(tmp_path, sc)
    p = table.player
    table.at(500, lambda _: p.decide("Fail over now", "alice", "alice", ["wait for the vendor", "fail over"],
                                     "every minute costs orders", inject="i01-alert"))
    table.at(510, lambda _: p.evaluator_note("IC delegated well", "eve", objective="detect-and-declare"))
    table.at(520, lambda _: p.rate("restore-checkout", "S", "failover late but clean"))
    table.at(530, lambda _: p.hot_wash("bob", "<b>runbook</b> worked", "find the replica lag sooner", "bob"))
    table.at(540, lambda _: table.conductor.end())
    events = table.run()
    d = kinds(events, ev.DecisionRecorded)[0].data
    assert (d.decision, d.options, d.decided_by, d.inject) == ("Fail over now", ["wait for the vendor", "fail over"],
                                                              "alice", "i01-alert")
    assert kinds(events, ev.EvaluatorNoted)[0].data.objective == "detect-and-declare"
    assert kinds(events, ev.ObjectiveRated)[0].data.rating == "S"
    assert kinds(events, ev.HotWashNoted)[0].data.went_well == "<b>runbook</b> worked"  # data, kept literally


def test_the_manual_pace_advances_to_each_inject_with_faults_on_the_way(tmp_path: Path) -> None:
    sc = load_scenario(MSEL).scenario
    table = Table(tmp_path, sc, pace="manual")
    table.clock.resume()
    table.at(10, lambda p: p.next("fran"))
    table.at(20, lambda p: p.next("fran"))
    table.at(30, lambda _: table.conductor.end())
    events = table.run()
    injected = kinds(events, ev.FaultInjected)[0]
    assert injected.t == pytest.approx(5 * 60)  # at its own time, not the inject's
    pub = kinds(events, ev.InjectPublished)
    assert [(e.data.inject, e.t, e.data.by) for e in pub] == [("i01-alert", pytest.approx(420), "fran"),
                                                             ("i02-dashboard", pytest.approx(540), "fran")]
    assert kinds(events, ev.DrillEnded)[0].t == pytest.approx(540)  # time stood still between words


def test_a_tabletop_may_pause_with_a_simulated_fault_in(tmp_path: Path) -> None:
    sc = load_scenario(MSEL).scenario
    table = Table(tmp_path, sc)
    paused: list[bool] = []
    table.at(400, lambda _: paused.append(table.conductor.pause("fran")))
    table.at(500, lambda _: paused.append(table.conductor.resume("fran")))
    table.at(501, lambda _: table.conductor.end())
    events = table.run()
    assert paused == [True, True]
    assert kinds(events, ev.DrillEnded)[0].t == pytest.approx(401)  # 100 s of pause is not scenario time


def test_scenario_time_running_out_ends_a_tabletop_without_aborting_it(tmp_path: Path) -> None:
    sc = load_scenario(MSEL).scenario
    table = Table(tmp_path, sc)
    table.player.holds_open = True  # a facilitator who never presses end
    events = table.run()
    end = kinds(events, ev.DrillEnded)[0]
    assert end.data.outcome == "completed" and "scenario time is up" in (end.data.reason or "")
    assert not kinds(events, ev.DrillAborted)


# --------------------------------------------------------------------------- set-up
def test_a_tabletop_touches_no_target_and_writes_no_ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("a tabletop touched the demo")

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(control, "attach_demo", refuse)
    monkeypatch.setattr(control, "start_demo", refuse)
    responders = ROOT / "scenarios" / "responders" / "tabletop-checkout-db-outage.yaml"
    code = run_drill(MSEL, DrillOptions(mode="tabletop", out=tmp_path / "out", responders=responders, pace="instant"),
                     clock=InstantClock(), factories=Factories().without_services(), echo=lambda line: None)
    assert code in (0, 1)
    journal = read_journal(tmp_path / "out" / "journal.jsonl")
    assert journal.events[0].data.mode == "tabletop"
    assert not list(tmp_path.rglob("ledger*.json*"))
    assert {e.source for e in journal.events if isinstance(e.data, ev.FaultInjected | ev.FaultRolledBack)} == {"simulator"}


@pytest.mark.parametrize(("options", "message"), [
    (DrillOptions(mode="ci", pace="4h:45m"), "--pace goes with --mode tabletop"),
    (DrillOptions(mode="tabletop", pace="soon"), "--pace 'soon'"),
    (DrillOptions(mode="tabletop", pace="manual", web=False), "--pace manual needs the control room"),
])  # fmt: skip
def test_bad_tabletop_options_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, options: DrillOptions,
                                          message: str) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=message):
        run_drill(MSEL, options, factories=Factories().without_services(), echo=lambda line: None)


def test_msel_references_are_checked_and_located(tmp_path: Path) -> None:
    data = yaml.safe_load(MSEL.read_text())
    data["injects"][0]["expect"][0]["step"] = "no-such-step"
    data["injects"][0]["contingency"]["publish"] = "no-such-inject"
    data["injects"][1]["to"] = "janitor"
    data["objectives"][0]["steps"] = ["ghost"]
    data["injects"][2]["panel"]["fault"] = "nope"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    text = str(err.value)
    for needle in ("injects[0].expect[0].step: no response step named 'no-such-step'",
                   "injects[0].contingency.publish: no inject named 'no-such-inject'",
                   "injects[1].to: 'janitor' is neither", "objectives[0].steps[0]: no response step named 'ghost'",
                   "injects[2].panel.fault: no fault named 'nope'"):
        assert needle in text, text


def test_next_lets_a_contingency_on_the_way_fire_at_its_own_time(tmp_path: Path) -> None:
    sc = load_scenario(MSEL).scenario
    table = Table(tmp_path, sc, pace="manual")
    table.clock.resume()
    for n in range(1, 5):  # i01-alert (7m), i02-dashboard (9m), i03-customers (20m), i04-vendor (35m)
        table.at(10 * n, lambda p: p.next("fran"))
    table.at(50, lambda _: table.conductor.end())
    events = table.run()
    pub = {e.data.inject: e for e in kinds(events, ev.InjectPublished)}
    assert pub["i01b-escalation"].t == pytest.approx(7 * 60 + 600)  # i01-alert + 10m, not when the clock got to 20m
    assert pub["i01b-escalation"].data.by == "contingency"
    assert pub["i03b-press"].t == pytest.approx(20 * 60 + 900)


def test_a_contingency_leaves_a_held_inject_alone(tmp_path: Path) -> None:
    sc = load_scenario(MSEL).scenario
    table = Table(tmp_path, sc)
    table.at(60, lambda p: p.hold("i01b-escalation", "fran"))
    events = table.run()
    assert "i01b-escalation" not in {e.data.inject for e in kinds(events, ev.InjectPublished)}
    assert "i03b-press" in {e.data.inject for e in kinds(events, ev.InjectPublished)}


def test_a_signal_ends_a_tabletop_and_it_is_scored(tmp_path: Path) -> None:
    sc = load_scenario(MSEL).scenario
    table = Table(tmp_path, sc)
    table.at(600, lambda _: table.conductor.abort("signal: SIGINT"))
    events = table.run()
    end = kinds(events, ev.DrillEnded)[0]
    assert end.data.outcome == "completed" and "SIGINT" in (end.data.reason or "")
    assert not kinds(events, ev.DrillAborted)


def test_a_cleared_shadow_settles_its_fault_at_once(tmp_path: Path) -> None:
    sc = load_scenario(LIVE).scenario
    events = Table(tmp_path, sc, script=[act("bob", "runbook", "detection", 3, runbook="failover")]).run()
    cleared = kinds(events, ev.ShadowCleared)[0]
    rolled = kinds(events, ev.FaultRolledBack)
    assert [(e.data.reason, e.source) for e in rolled] == [("cleared", "simulator")]
    assert rolled[0].t == pytest.approx(cleared.t)


def test_a_fault_with_nothing_to_undo_still_ends_its_shadow(tmp_path: Path) -> None:
    data = yaml.safe_load(MSEL.read_text())
    data["faults"][0]["rollback"] = {"none": "the database heals itself"}
    data["faults"][0]["max_duration"] = "10m"
    path = tmp_path / "heals.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    (tmp_path / "experiments").symlink_to(ROOT / "experiments")
    sc = load_scenario(path).scenario
    events = Table(tmp_path, sc).run()
    not_rolled = kinds(events, ev.FaultNotRolledBack)[0]
    assert not_rolled.source == "simulator" and not_rolled.t == pytest.approx(15 * 60)
    assert kinds(events, ev.RecoveryObserved)[0].t == pytest.approx(15 * 60)
    assert kinds(events, ev.SteadyStateChecked)[-1].data.ok


def test_a_tabletop_refuses_real_webhooks() -> None:
    from starlette.testclient import TestClient

    from gameday.adapters.webhooks import DeliveryRefused, make_intake_app

    def sink(*args, **kwargs):
        raise DeliveryRefused("a tabletop takes no webhook")

    with TestClient(make_intake_app(sink)) as client:
        reply = client.post("/webhooks/alertmanager", json={"status": "firing", "alerts": [
            {"status": "firing", "labels": {"alertname": "CheckoutErrorsHigh"}}]})
    assert reply.status_code == 409 and "tabletop" in reply.json()["error"]
