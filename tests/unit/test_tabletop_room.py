"""A tabletop's control room as pure functions: the page state for the facilitator and for players
(golden journal in, state out), who hears of what on the live stream, the page's escaping, and the
dashboard panel charts. The scenario (``tests/fixtures/tabletop_room/scenario.yaml``) marks with
``ZEBRA-7741`` everything a player must never see."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gameday.fakes import write_journal
from gameday.loader import load_scenario
from gameday.model.events import (
    AlertReceived,
    DecisionRecorded,
    DetectionRecorded,
    DrillStarted,
    EvaluatorNoted,
    FaultInjected,
    HotWashNoted,
    InjectHeld,
    InjectPublished,
    InjectSkipped,
    ObjectiveRated,
    PaceSet,
    RoleAssigned,
    ShadowCleared,
)
from gameday.model.exercise import Inject
from gameday.model.policy import DEFAULT_POLICY
from gameday.sim.panel import NoPanel, panel_series, render_panel
from gameday.web.auth import Principal
from gameday.web.live import default_audience
from gameday.web.state import HIDDEN_FROM_RESPONDERS, room_state, visible

SCENARIO = Path(__file__).resolve().parents[1] / "fixtures" / "tabletop_room" / "scenario.yaml"
MARKER = "ZEBRA-7741"
XSS = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'


def published(inject: Inject, by: str = "schedule", contingency_of: str | None = None) -> InjectPublished:
    return InjectPublished(inject=inject.id, channel=inject.channel, sender=inject.from_, to=inject.to,
                           subject=inject.subject, message=inject.message, scheduled_t=inject.at, by=by,
                           contingency_of=contingency_of, panel=inject.panel.title if inject.panel else None,
                           alert_format=inject.alert.format if inject.alert else None)


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(SCENARIO).scenario


@pytest.fixture(scope="module")
def events(scenario, tmp_path_factory):
    """A tabletop to its hot wash: carol (comms-lead), alice (IC); an inject for the IC only, one for
    everyone and its contingency, one held, one skipped, the facilitator's notes and rating."""
    inj = {i.id: i for i in scenario.injects}
    started = DrillStarted(drill_id="tabletop-room-1", mode="tabletop", scenario=scenario, policy=DEFAULT_POLICY)
    journal = write_journal(tmp_path_factory.mktemp("tabletop") / "journal.jsonl", started, [
        (0.0, PaceSet(pace="real", factor=1.0), "conductor"),
        (0.1, RoleAssigned(person="carol", role="comms-lead", by="facilitator"), "facilitator"),
        (0.1, RoleAssigned(person="alice", role="incident-commander", by="facilitator"), "facilitator"),
        (2.0, FaultInjected(fault="kill-db", kind="activities"), "simulator"),
        (3.0, published(inj["i01-page"]), "simulator"),
        (3.0, AlertReceived(format="alertmanager", matched=True, signal="checkout errors",
                            payload={"alerts": [{"labels": {"alertname": f"CheckoutErrorsHigh {MARKER}"}}]}), "simulator"),
        (3.0, DetectionRecorded(via="alert", signal="checkout errors", alertname=f"CheckoutErrorsHigh {MARKER}"), "simulator"),
        (4.0, published(inj["i02-customers"]), "simulator"),
        (5.0, InjectHeld(inject="i05-held", by="facilitator"), "facilitator"),
        (5.0, InjectSkipped(inject="i06-skipped", by="facilitator"), "facilitator"),
        (6.0, EvaluatorNoted(text=f"slow to page {MARKER}", author="facilitator", objective="detect"), "facilitator"),
        (6.0, ObjectiveRated(objective="detect", rating="S", note=f"late {MARKER}", by="facilitator"), "facilitator"),
        (7.0, DecisionRecorded(decision=f"fail over {XSS}", options=["wait", "fail over"], decided_by="alice",
                               rationale="the vendor is slow", author="carol", inject="i01-page"), "carol"),
        (8.0, ShadowCleared(faults=["kill-db"], by="facilitator", reason="facilitator"), "facilitator"),
        (9.0, HotWashNoted(person="carol", went_well=XSS, to_improve="page sooner", author="carol"), "carol"),
        (10.0, published(inj["i02b-press"], "contingency", "i02-customers"), "simulator"),
    ])
    return journal.events


def state(scenario, events, viewer: str, facilitator: bool = False):
    return room_state(scenario, DEFAULT_POLICY, events, 11.0, viewer=viewer, facilitator=facilitator,
                      drill_id="tabletop-room-1", mode="tabletop")


def test_a_player_sees_only_what_was_published_to_them_and_what_players_recorded(scenario, events):
    s = state(scenario, events, "carol")
    assert MARKER not in json.dumps(s)  # nothing of the MSEL, the objectives, the notes, the IC's page
    ex = s["exercise"]
    assert [i["id"] for i in ex["injects"]] == ["i02-customers", "i02b-press"]
    assert set(ex) == {"pace", "started_wall", "injects", "decisions", "hot_wash"}
    assert "by" not in ex["injects"][1] and "contingency_of" not in ex["injects"][1]  # why it went out: hidden
    assert ex["decisions"][0]["inject"] is None  # it answers an inject that did not reach carol
    assert ex["decisions"][0]["decided_by"] == "alice" and ex["decisions"][0]["author"] == "carol"
    assert [h["person"] for h in ex["hot_wash"]] == ["carol"]
    assert ex["pace"] == {"label": "real", "factor": 1.0}
    kinds = [r["kind"] for r in s["timeline"]]
    assert not {"InjectHeld", "InjectSkipped", "EvaluatorNoted", "ObjectiveRated", "ShadowCleared", "FaultInjected",
                "AlertReceived", "StepMatched"} & set(kinds)
    assert kinds.count("InjectPublished") == 2 and "DecisionRecorded" in kinds and "HotWashNoted" in kinds
    rows = {r["kind"]: r for r in s["timeline"]}
    assert rows["DetectionRecorded"]["text"] == "The problem was detected (an alert fired)"
    press = [r for r in s["timeline"] if r["kind"] == "InjectPublished"][-1]
    assert press["text"] == "email to everyone: A journalist asks for comment"
    assert press["who"] == "A journalist" and "contingency" not in press["text"]
    assert all(c["kind"] != "step" for c in s["countdowns"])  # when the next step falls due is hidden
    assert "expectations" not in s and "faults" not in s and s["title"] == "Game day: Checkout"


def test_a_player_sees_the_injects_of_the_roles_they_hold_now(scenario, events):
    ex = state(scenario, events, "alice")["exercise"]
    assert [i["id"] for i in ex["injects"]] == ["i01-page", "i02-customers", "i02b-press"]
    assert ex["decisions"][0]["inject"] == "i01-page"
    handed = [*events, events[-1].model_copy(update={"seq": events[-1].seq + 1, "t": 12.0, "data": RoleAssigned(
        person="carol", role="incident-commander", by="alice")})]
    carol = state(scenario, handed, "carol")["exercise"]
    assert "i01-page" in [i["id"] for i in carol["injects"]]  # the IC's page, now that carol is the IC


def test_the_facilitator_sees_the_whole_msel_and_the_evaluation(scenario, events):
    s = state(scenario, events, "facilitator", facilitator=True)
    ex = s["exercise"]
    assert MARKER in json.dumps(s)
    msel = {i["id"]: i for i in ex["msel"]}
    assert [i["id"] for i in ex["msel"]][:3] == ["i01-page", "i02-customers", "i04-vendor"]  # by time; unscheduled last
    assert {k: v["state"] for k, v in msel.items()} == {
        "i01-page": "published", "i02-customers": "published", "i02b-press": "published", "i03-dashboard": "upcoming",
        "i04-vendor": "upcoming", "i05-held": "held", "i06-skipped": "skipped", "i09-secret": "upcoming"}
    assert msel["i02b-press"]["by"] == "contingency" and msel["i02b-press"]["contingency_of"] == "i02-customers"
    assert msel["i02-customers"]["contingency"] == {"after": 6.0, "publish": "i02b-press"}
    assert msel["i02-customers"]["expect"] == [{"label": "step status", "description": f"an external update goes out {MARKER}"}]
    assert msel["i03-dashboard"]["at"] is None and msel["i03-dashboard"]["panel"] == "Checkout errors"
    objectives = {o["id"]: o for o in ex["objectives"]}
    assert objectives["detect"]["override"]["rating"] == "S" and objectives["inform"]["override"] is None
    assert [n["objective"] for n in ex["notes"]] == ["detect"] and set(ex["ratings"]) == {"P", "S", "M", "U"}
    assert len(ex["injects"]) == 3 and ex["injects"][2]["by"] == "contingency"
    kinds = {r["kind"] for r in s["timeline"]}
    assert {"InjectHeld", "InjectSkipped", "EvaluatorNoted", "ObjectiveRated", "ShadowCleared"} <= kinds


def test_hidden_kinds_and_addressed_injects_on_the_stream(scenario, events):
    facilitator, carol = Principal("facilitator", facilitator=True), Principal("carol")
    by_kind = {e.kind: e for e in events}
    for kind in ("InjectHeld", "InjectSkipped", "EvaluatorNoted", "ObjectiveRated", "ShadowCleared"):
        assert isinstance(by_kind[kind].data, HIDDEN_FROM_RESPONDERS)
        assert default_audience(by_kind[kind])(facilitator) and not default_audience(by_kind[kind])(carol)
    page = next(e for e in events if isinstance(e.data, InjectPublished) and e.data.to == "incident-commander")
    assert not visible(page, False) and not visible(page, False, {"comms-lead"}) and visible(page, False, {"incident-commander"})
    assert not default_audience(page)(carol) and default_audience(page)(facilitator)  # without roles: nobody but the facilitator
    alert = by_kind["AlertReceived"]
    assert not visible(alert, False, {"incident-commander"}) and visible(alert, True)  # the inject shows it, if theirs
    assert visible(by_kind["PaceSet"], False) and visible(by_kind["DecisionRecorded"], False)


def test_the_page_escapes_every_text(scenario, events):
    from gameday.web.pages import render

    for viewer, fac in (("carol", False), ("facilitator", True)):
        s = state(scenario, events, viewer, fac)
        html = render("room.html.j2", state=s, drill=s).body.decode()
        assert "<script>window.__pwned" not in html and "onerror=\"window" not in html
        assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html  # the decision and hot wash, as text
        assert 'id="inbox"' in html and 'id="decision-form"' in html and 'id="hotwash-form"' in html
        assert ('id="msel"' in html) is fac and ('id="rate-form"' in html) is fac
        assert (MARKER in html) is fac


# ------------------------------------------------------------------ panels
def test_a_panel_is_drawn_up_to_its_publication_and_the_same_bytes_every_time(scenario):
    dashboard = next(i for i in scenario.injects if i.id == "i03-dashboard")
    series = panel_series(scenario, dashboard, [], until=6.0)
    assert [(s.name, s.points) for s in series] == [("checkout errors", [(0.0, 0.0), (2.0, 0.0), (2.0, 85.0), (6.0, 85.0)])]
    assert panel_series(scenario, dashboard, [], until=1.0)[0].points == [(0.0, 0.0), (1.0, 0.0)]
    svg = render_panel(scenario, dashboard, [], 6.0)
    assert svg == render_panel(scenario, dashboard, [], 6.0)
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and "<dc:date>" not in svg
    assert "Checkout errors" in svg and "% failing" in svg
    with pytest.raises(NoPanel):
        render_panel(scenario, next(i for i in scenario.injects if i.id == "i01-page"), [], 6.0)


def test_a_panel_title_and_series_are_escaped(scenario):
    inject = Inject.model_validate({"id": "x", "channel": "dashboard", "from": "Grafana", "subject": "s", "panel": {
        "title": XSS, "unit": "<u>%</u>", "series": [{"name": "</text><script>x()</script>", "points": [["0s", 1], ["5s", 2]]}]}})
    svg = render_panel(scenario, inject, [], 5.0)
    assert "<script>" not in svg and "<img" not in svg and "<u>" not in svg
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in svg


def test_a_fault_panel_draws_its_shadow_from_the_journal(scenario, events):
    inject = Inject.model_validate({"id": "p", "channel": "dashboard", "from": "Grafana", "subject": "s",
                                    "panel": {"title": "health", "unit": "% healthy", "fault": "kill-db"}})
    points = panel_series(scenario, inject, events, until=9.0)[0].points
    assert points[0] == (0.0, 100.0) and (2.0, 0.0) in points and points[-1] == (9.0, 100.0)  # cleared at 8s
    assert render_panel(scenario, inject, events, 9.0) == render_panel(scenario, inject, events, 9.0)


def test_a_players_numbers_have_no_gap_where_a_hidden_event_was_journaled() -> None:
    from gameday.web.state import player_numbers, renumber_for_player

    from gameday.clock import FakeClock
    from gameday.journal import JournalWriter
    from gameday.model.events import ActionRecorded, StepMatched
    import tempfile
    from pathlib import Path

    folder = Path(tempfile.mkdtemp())
    j = JournalWriter(folder / "j.jsonl", FakeClock(), fsync=False)
    mine = j.append(ActionRecorded(action="acknowledge", author="alice"), "alice")
    j.append(StepMatched(step="ack", action_seq=mine.seq, verdict="on_time"), "conductor")  # hidden from players
    nxt = j.append(ActionRecorded(action="note", author="bob", text="hi"), "bob")
    numbers = player_numbers(j.events)
    assert numbers == {mine.seq: 1, nxt.seq: 2}  # consecutive: nothing says a step matched in between
    state = renumber_for_player({"timeline": [{"seq": mine.seq}, {"seq": nxt.seq}]}, numbers)
    assert [r["seq"] for r in state["timeline"]] == [1, 2]
