"""A tabletop's control room over real HTTP: the drill assembled as ``gameday run --mode tabletop`` assembles
it (:func:`gameday.drill.assemble.assemble`: the simulator, the MSEL player, the conductor, the control room
on the intake's uvicorn server on loopback), played on a thread of its own.

The facilitator's console (every route, every refusal, the journal events each one writes), and the
players' view: the scenario (``tests/fixtures/tabletop_room/scenario.yaml``) marks with ``ZEBRA-7741``
everything a player must never see (future injects, the IC's page, the controller fields of every inject,
the objectives); a player calls every route and reads the live stream while the facilitator holds, skips,
publishes, notes and rates, and the marker is in none of it; the facilitator's token sees it.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "run"))
from roomdrill import RoomDrill, Stream

from gameday.drill.context import DrillOptions
from gameday.loader import load_scenario
from gameday.model.events import (
    ClockPaused,
    DecisionRecorded,
    DrillEnded,
    DrillStarted,
    EvaluatorNoted,
    Event,
    HotWashNoted,
    InjectHeld,
    InjectPublished,
    InjectSkipped,
    ObjectiveRated,
    PaceSet,
    Payload,
    ShadowCleared,
)

pytestmark = pytest.mark.integration
SCENARIO = Path(__file__).resolve().parents[1] / "fixtures" / "tabletop_room" / "scenario.yaml"
MARKER = "ZEBRA-7741"
HIDDEN_KINDS = {"InjectHeld", "InjectSkipped", "EvaluatorNoted", "ObjectiveRated", "ShadowCleared", "FaultInjected",
                "StepMatched", "ImpactStarted", "RecoveryObserved", "AlertReceived", "PhaseChanged"}
FACILITATOR_ROUTES = ["/api/exercise/injects/i04-vendor/publish", "/api/exercise/injects/i04-vendor/hold",
                      "/api/exercise/injects/i04-vendor/skip", "/api/exercise/next", "/api/exercise/pace",
                      "/api/exercise/mitigate", "/api/exercise/notes", "/api/exercise/objectives/detect/rating"]


class Tabletop(RoomDrill):
    """One tabletop drill of the test scenario, with its control room, at ``pace``."""

    def __init__(self, tmp_path: Path, pace: str = "10m:1m"):
        super().__init__(tmp_path, SCENARIO, DrillOptions(mode="tabletop", pace=pace, out=tmp_path / "out"))

    def invite(self, person: str, role: str) -> str:
        with self.fac() as c:
            r = c.post("/api/responders", json={"person": person, "role": role})
        assert r.status_code == 201, r.text
        return r.json()["token"]

    def start(self) -> None:
        with self.fac() as c:
            assert c.post("/api/drill/start", json={}).status_code == 202
        self.wait_for(lambda e: isinstance(e.data, DrillStarted))

    def published(self, inject: str) -> Event[Payload]:
        return self.wait_for(lambda e: isinstance(e.data, InjectPublished) and e.data.inject == inject)


@pytest.fixture
def table(tmp_path):
    t = Tabletop(tmp_path)
    try:
        yield t
    finally:
        t.close()


def nested(depth: int) -> list:
    out: list = []
    for _ in range(depth):
        out = [out]
    return out


def test_a_player_never_receives_what_is_hidden_by_any_route(table):
    carol = table.invite("carol", "comms-lead")
    bob = table.invite("bob", "tech-lead")
    table.invite("alice", "incident-commander")
    carol_stream, fac_stream = Stream(table, carol), Stream(table, table.facilitator)
    bodies: list[tuple[str, str]] = []  # (what, body) of every answer carol got

    def call(c: httpx.Client, method: str, path: str, body: object = None) -> httpx.Response:
        r = c.request(method, path, json=body)
        bodies.append((f"{method} {path} -> {r.status_code}", r.text))
        return r

    with table.client(carol) as c:
        lobby = call(c, "GET", "/api/exercise").json()
        assert lobby["injects"] == [] and lobby["pace"] == {"label": "10m:1m", "factor": 10.0}
        table.start()
        table.published("i02b-press")  # carol posted no external update: the contingency of i02-customers fired
        with table.fac() as f:
            assert f.post("/api/exercise/injects/i05-held/hold").status_code == 200
            assert f.post("/api/exercise/injects/i06-skipped/skip").status_code == 200
            assert f.post("/api/exercise/injects/i03-dashboard/publish", json={}).status_code == 200
            assert f.post("/api/exercise/notes", json={"text": f"note {MARKER}", "objective": "detect"}).status_code == 201
            r = f.post("/api/exercise/objectives/inform/rating", json={"rating": "M", "note": f"why {MARKER}"})
            assert r.status_code == 201, r.text
            assert f.post("/api/exercise/mitigate").json() == {"cleared": ["kill-db"]}
        # what carol may record
        r = call(c, "POST", "/api/exercise/decisions", {"decision": "post the status page now", "decided_by": "carol",
                                                        "options": ["wait for the fix", "post now"], "inject": "i02-customers"})
        assert r.status_code == 201, r.text
        wash = {"went_well": "fast update", "to_improve": "the press"}
        assert call(c, "POST", "/api/exercise/hotwash", wash).status_code == 201
        # an inject that did not reach carol: the same 404, whether it exists, is to come, or is someone else's
        answers = {i: call(c, "POST", "/api/exercise/decisions", {"decision": "x", "decided_by": "carol", "inject": i})
                   for i in ("i09-secret", "i01-page", "i03-dashboard", "no-such")}
        assert {i: r.status_code for i, r in answers.items()} == dict.fromkeys(answers, 404)
        assert len({r.json()["error"].split("'")[0] for r in answers.values()}) == 1
        for inject in ("i01-page", "i02-customers", "i03-dashboard", "i04-vendor", "i05-held", "i09-secret", "no-such"):
            assert call(c, "GET", f"/api/exercise/injects/{inject}/panel.svg").status_code == 404
        for path in FACILITATOR_ROUTES:
            r = call(c, "POST", path, {"pace": "manual"} if path.endswith("/pace") else {})
            assert r.status_code == 403, (path, r.text)
        for path in ("/api/me", "/api/state", "/api/exercise", "/api/drafts/internal", "/api/drafts/external",
                     "/api/drafts/executive", "/api/openapi.json", "/room", "/", "/api/no-such-route"):
            assert call(c, "GET", path).status_code in (200, 303, 404), path
        state = c.get("/api/state").json()
        table.wait_for(lambda e: isinstance(e.data, HotWashNoted))
    # the facilitator ends; the streams close
    with table.fac() as f:
        fac_state = f.get("/api/state").text
        fac_room = f.get("/room").text
        fac_draft = f.get("/api/drafts/internal").json()["text"]  # the scenario's title, as in a live drill
        svg = f.get("/api/exercise/injects/i03-dashboard/panel.svg")
        assert f.post("/api/drill/end", json={}).status_code == 202
    table.wait_for(lambda e: isinstance(e.data, DrillEnded))
    with table.client(bob) as b:
        mine = b.get("/api/exercise/injects/i03-dashboard/panel.svg")
    assert mine.status_code == 200 and mine.headers["content-type"].startswith("image/svg+xml")
    assert mine.text == svg.text and "Checkout errors" in svg.text  # drawn up to its publication: the same bytes
    table.close()
    carol_stream.join()
    fac_stream.join()

    leaks = [what for what, body in bodies if MARKER in body]
    assert leaks == [], leaks
    assert MARKER not in "\n".join(carol_stream.lines)
    assert [i["id"] for i in state["exercise"]["injects"]] == ["i02-customers", "i02b-press"]
    kinds = [m["kind"] for m in carol_stream.messages()]
    assert not set(kinds) & HIDDEN_KINDS, kinds
    from gameday.web.state import player_numbers

    numbers = player_numbers(list(table.journal))  # a player's stream carries their numbers: no gap where hidden events were
    to_carol = [numbers[e.seq] for e in table.journal
                if isinstance(e.data, InjectPublished) and e.data.to in ("everyone", "comms-lead")]
    assert [m["seq"] for m in carol_stream.messages() if m["kind"] == "InjectPublished"] == to_carol
    # a test that can fail: the facilitator does see the hidden things
    assert MARKER in fac_state and MARKER in fac_room and MARKER in fac_draft
    fac_kinds = {m["kind"] for m in fac_stream.messages()}
    assert {"InjectHeld", "InjectSkipped", "EvaluatorNoted", "ObjectiveRated", "ShadowCleared"} <= fac_kinds
    decision = next(e for e in table.journal if isinstance(e.data, DecisionRecorded))
    assert (decision.source, decision.data.author, decision.data.inject) == ("carol", "carol", "i02-customers")


def test_the_facilitators_console_journals_each_control_and_refuses_what_cannot_be(table):
    dave = table.invite("dave", "comms-lead")
    with table.fac() as f:
        early = f.post("/api/exercise/injects/i03-dashboard/publish")
        assert early.status_code == 409 and "not started" in early.json()["error"]
        table.start()
        table.published("i02-customers")
        for path, body, status, words in [
            ("/api/exercise/injects/i02-customers/publish", None, 409, "is published"),
            ("/api/exercise/injects/i02-customers/hold", None, 409, "is published"),
            ("/api/exercise/injects/nope/skip", None, 404, "no inject named"),
            ("/api/exercise/pace", {"pace": "soon"}, 422, "SCENARIO:WALL"),
            ("/api/exercise/pace", {"pace": "instant"}, 422, "cannot be changed"),
            ("/api/exercise/pace", {"pace": "real", "extra": 1}, 422, "extra"),
            ("/api/exercise/objectives/nope/rating", {"rating": "P", "note": "n"}, 404, "no objective"),
            ("/api/exercise/objectives/detect/rating", {"rating": "X", "note": "n"}, 422, "rating"),
            ("/api/exercise/objectives/detect/rating", {"rating": "P", "note": "  "}, 422, "note"),
            ("/api/exercise/notes", {"text": "n", "objective": "nope"}, 404, "no objective"),
            ("/api/exercise/decisions", {"decision": " ", "decided_by": "alice"}, 422, "decision"),
            ("/api/exercise/decisions", {"decision": "d", "decided_by": "conductor"}, 400, "reserved"),
            ("/api/exercise/hotwash", {"person": "dave"}, 422, "went well"),
            ("/api/exercise/notes", {"text": "n", "objective": nested(70)}, 400, "beyond the limits"),
        ]:
            r = f.post(path, json=body) if body is not None else f.post(path)
            assert r.status_code == status, (path, body, r.text)
            assert set(r.json()) <= {"error", "detail"} and words.lower() in r.json()["error"].lower(), (path, r.text)
        assert f.post("/api/exercise/pace", json={"pace": "manual"}).json()["kind"] == "PaceSet"
        paced = f.get("/api/state").json()
        time.sleep(0.3)
        assert f.get("/api/state").json()["now_t"] == paced["now_t"]  # manual: the game clock stands still
        assert paced["exercise"]["pace"] == {"label": "manual", "factor": None}
        assert f.post("/api/exercise/injects/i05-held/hold").status_code == 200
        assert f.post("/api/exercise/next").json() == {"inject": "i04-vendor"}
        vendor = table.published("i04-vendor")
        assert vendor.t == pytest.approx(1800.0, abs=1.0) and vendor.data.by == "facilitator"
        assert f.post("/api/exercise/injects/i06-skipped/skip").status_code == 200
        assert f.post("/api/exercise/next").json() == {"inject": "i09-secret"}  # past the held and the skipped
        table.published("i09-secret")
        assert f.post("/api/exercise/next").status_code == 409
        assert f.post("/api/exercise/injects/i05-held/publish").status_code == 200
        assert f.post("/api/exercise/hotwash", json={"person": "dave", "to_improve": "ask for graphs"}).status_code == 201
        assert f.post("/api/exercise/hotwash", json={"went_well": "the pace"}).status_code == 201
        assert f.post("/api/drill/pause", json={}).status_code == 200
        assert f.post("/api/exercise/decisions", json={"decision": "wait", "decided_by": "dave"}).status_code == 201
        assert f.post("/api/drill/resume", json={}).status_code == 200
    with table.client(dave) as d:
        other = d.post("/api/exercise/hotwash", json={"person": "alice", "went_well": "x"})
        assert other.status_code == 403 and "dave" in other.json()["error"]
        assert d.post("/api/exercise/hotwash", json={"person": "dave", "went_well": "the journalist inject"}).status_code == 201
    with table.fac() as f:
        assert f.post("/api/drill/end", json={}).status_code == 202
        table.wait_for(lambda e: isinstance(e.data, DrillEnded))
        late = f.post("/api/exercise/hotwash", json={"went_well": "x"})
        assert late.status_code == 409 and "over" in late.json()["error"]
    ev = table.journal
    held = [e.data for e in ev if isinstance(e.data, InjectHeld)]
    assert held == [InjectHeld(inject="i05-held", by="facilitator")]
    assert [e.data.inject for e in ev if isinstance(e.data, InjectSkipped)] == ["i06-skipped"]
    paces = [(e.data.pace, e.data.by) for e in ev if isinstance(e.data, PaceSet)]
    assert paces == [("10m:1m", "conductor"), ("manual", "facilitator")]
    washes = [(e.data.person, e.data.author, e.source) for e in ev if isinstance(e.data, HotWashNoted)]
    assert washes == [("dave", "facilitator", "facilitator"), ("facilitator", "facilitator", "facilitator"),
                      ("dave", "dave", "dave")]
    assert any(isinstance(e.data, ClockPaused) for e in ev)
    assert not any(isinstance(e.data, (EvaluatorNoted, ObjectiveRated, ShadowCleared)) for e in ev)  # all refused


def test_the_exercise_routes_are_a_tabletops_only(tmp_path):
    from fastapi.testclient import TestClient

    from gameday.model.policy import DEFAULT_POLICY
    from gameday.web.controlroom import make_app
    from gameday.web.room import ControlRoom

    class Journal:
        def __init__(self) -> None:
            self.listeners: list = []
            self.events: list = []

    class Conductor:
        def __init__(self) -> None:
            self.phase_listeners: list = []

    room = ControlRoom(scenario=load_scenario(SCENARIO).scenario, policy=DEFAULT_POLICY, conductor=Conductor(),
                       journal=Journal(), drill_id="d", mode="gameday")
    token = room.registry.issue_facilitator()
    with TestClient(make_app(room), base_url="http://127.0.0.1") as c:
        for method, path in (("GET", "/api/exercise"), ("POST", "/api/exercise/next"),
                             ("GET", "/api/exercise/injects/i03-dashboard/panel.svg")):
            r = c.request(method, path, headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 404 and "tabletop" in r.json()["error"], (path, r.text)
        assert "exercise" not in c.get("/api/state", headers={"Authorization": f"Bearer {token}"}).json()
