"""The control room's HTTP API against a live drill: a real conductor on the system clock
(fake injectors, runbook and probe: a switchable fake system), the control room served
by uvicorn on loopback with the webhook intake mounted on the same port, exactly as the
runner wires it. Every action, and every refusal (no token, wrong role, bad input, CSRF,
body limits), with the journal events each one produces. ``test_act_cli.py`` runs real
drills of the demo through the CLI.
"""

from __future__ import annotations

import json
import stat
import threading
import time
from pathlib import Path
from typing import TypeVar

import httpx
import pytest

from gameday.drill.observing import ProbeSet
from gameday.adapters.webhooks import make_intake_app
from gameday.analysis.scorecard import score_journal
from gameday.clock import PausableClock, SystemClock
from gameday.drill.conductor import Conductor
from gameday.drill.context import DrillContext, DrillOptions
from gameday.drill.targets import TargetInfo
from gameday.fakes import FakeInjector, FakeLedger, FakeProbe, FakeRunbook
from gameday.journal import JournalWriter, read_journal
from gameday.loader import LoadedScenario
from gameday.model.events import (
    ActionRecorded,
    ClockPaused,
    ClockResumed,
    DetectionRecorded,
    DrillAborted,
    DrillEnded,
    DrillStarted,
    Event,
    FaultInjected,
    FaultRolledBack,
    Payload,
    RecoveryObserved,
    ResponderJoined,
    ResponderRevoked,
    RoleAssigned,
)
from gameday.model.policy import ProjectConfig
from gameday.model.scenario import Scenario
from gameday.project import Project
from gameday.web.controlroom import service_for
from gameday.web.server import BackgroundServer

pytestmark = pytest.mark.integration
P = TypeVar("P", bound=Payload)

XSS = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'
NAME_XSS = "<img src=x onerror=window.__pwned=3>"

ACTIVITY = [{"type": "action", "name": "true", "provider": {"type": "process", "path": "true"}}]
SCENARIO = {
    "apiVersion": "gameday/v1", "id": "api-drill", "title": "A fake database fails (control room API tests)",
    "severity": "SEV1", "service": "Checkout", "target": {"url": "http://127.0.0.1:9"},
    "steady_state": [{"name": "health", "http": {"url": "{target.url}/health"}}],
    "faults": [{"id": "kill-db", "at": "300ms", "activities": ACTIVITY, "rollbacks": ACTIVITY},
               {"id": "later", "at": "100s", "activities": ACTIVITY, "rollbacks": ACTIVITY},
               {"id": "spare", "at": "100s", "activities": ACTIVITY, "rollbacks": ACTIVITY}],
    "detection": {"within": "60s", "signals": [{"name": "errors", "alert": {"alertname": "CheckoutErrorsHigh"}}]},
    "response": [
        {"id": "ack", "action": "acknowledge", "role": "incident-commander", "within": "60s"},
        {"id": "declare", "action": "declare_incident", "role": "incident-commander", "within": "60s"},
        {"id": "severity", "action": "set_severity", "expect": "SEV1", "within": "60s"},
        {"id": "failover", "action": "runbook", "runbook": "failover", "role": "tech-lead", "within": "60s"},
        {"id": "status", "action": "post_update", "audience": "external", "role": "comms-lead", "within": "60s"},
        {"id": "resolve", "action": "resolved", "role": "incident-commander", "within": "60s", "after": "recovery"},
    ],
    "runbooks": {"failover": {"description": "promote the replica", "activities": ACTIVITY}},
    "recovery": {"within": "150s"}, "abort": {"max_duration": "170s"}, "timing": {"baseline": "200ms"},
    "policy": {"scale": 0.0167},
}  # fmt: skip


def alert_body(status: str = "firing") -> dict:
    return {"version": "4", "status": status, "receiver": "gameday", "groupKey": "k", "truncatedAlerts": 0,
            "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {}, "externalURL": "http://127.0.0.1/",
            "alerts": [{"status": status, "labels": {"alertname": "CheckoutErrorsHigh"}, "annotations": {},
                        "startsAt": "2026-01-01T00:00:00Z", "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "",
                        "fingerprint": "f"}]}


class Drill:
    """A live drill with its control room, wired as ``gameday run --mode gameday`` wires it."""

    def __init__(self, tmp_path: Path, kill_db_max: str | None = None):
        """``kill_db_max``: a dead-man limit for the first fault (rolled back on its own after it)."""
        faults = [dict(SCENARIO["faults"][0], max_duration=kill_db_max), *SCENARIO["faults"][1:]] if kill_db_max \
            else SCENARIO["faults"]
        self.sc = Scenario.model_validate({**SCENARIO, "faults": faults})
        self.clock = PausableClock(SystemClock())
        self.clock.pause()  # the lobby: drill time starts when the facilitator starts the drill
        self.journal = JournalWriter(tmp_path / "journal.jsonl", self.clock, fsync=False)
        self.healthy = {"health": True}
        self.probe = FakeProbe(self.clock, self.healthy)
        injectors = {"kill-db": FakeInjector(on_inject=lambda: self.healthy.update(health=False)),
                     "later": FakeInjector(), "spare": FakeInjector()}
        self.runner = FakeRunbook(effect=lambda: self.healthy.update(health=True))
        policy = ProjectConfig().policy.scaled(self.sc.policy.scale)
        self.conductor = Conductor(self.sc, self.journal, self.clock, mode="gameday", drill_id="api-drill",
                                   injectors=injectors, runbooks={"failover": self.runner}, probe=self.probe,
                                   ledger=FakeLedger(), policy=policy)
        conductor = self.conductor

        def sink(fmt, payload, alerts, *, received_at=None, error=None):
            if conductor.phase is None:
                return None
            return conductor.receive_alerts(fmt, payload, alerts, error=error)

        self.intake = BackgroundServer(make_intake_app(sink)).start()
        self.lines: list[str] = []
        self.state_dir = tmp_path / ".gameday"
        loaded = LoadedScenario(scenario=self.sc, path=Path("api.yaml"), base_dir=tmp_path, project_root=tmp_path)
        ctx = DrillContext(project=Project(root=tmp_path, config=ProjectConfig()), loaded=loaded,
                           options=DrillOptions(mode="gameday"), drill_id="api-drill", state_dir=self.state_dir,
                           target=TargetInfo(None, {}, {}, {}, {}), webhook_url=f"{self.intake.url}/webhooks/alertmanager",
                           intake=self.intake, probes=ProbeSet([], 1.0), conductor=self.conductor, journal=self.journal, echo=self.lines.append)
        self.service = service_for(ctx)
        self.service.start()
        self.url = self.service.url
        self.facilitator = self.lines[0].split("#", 1)[1]
        self.result = None
        self._stop = threading.Event()
        self._probing = threading.Thread(target=self._probe_loop, daemon=True)
        self._probing.start()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _probe_loop(self) -> None:
        while not self._stop.wait(0.05):
            self.conductor.observe(self.probe.check())

    def _run(self) -> None:  # what runner._run_with_signals does
        while not self.service.start_gate.wait(0.05):
            if self._stop.is_set():
                return
        self.clock.resume()
        self.result = self.conductor.run()

    # --- HTTP
    def client(self, token: str | None = None, **headers) -> httpx.Client:
        h = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers={**h, **headers}, timeout=10)

    def fac(self) -> httpx.Client:
        return self.client(self.facilitator)

    def invite(self, person: str, role: str | None = None) -> str:
        with self.fac() as c:
            r = c.post("/api/responders", json={"person": person, **({"role": role} if role else {})})
        assert r.status_code == 201, r.text
        return r.json()["token"]

    def start(self) -> None:
        with self.fac() as c:
            assert c.post("/api/drill/start", json={}).status_code == 202
        self.wait_for(DrillStarted)

    def detect(self) -> None:
        self.wait_for(FaultInjected)
        r = httpx.post(f"{self.url}/webhooks/alertmanager", json=alert_body(), timeout=10)
        assert r.status_code == 200 and r.json()["matched"], r.text
        self.wait_for(DetectionRecorded)

    # --- journal
    def events(self, kind: type[P] | None = None, **data: object) -> list[Event[P]]:
        """The events of ``kind`` (a payload class; None: every kind) whose payload has these field values."""
        return [e for e in list(self.journal.events)
                if (kind is None or isinstance(e.data, kind)) and all(getattr(e.data, k) == v for k, v in data.items())]

    def wait_for(self, kind: type[P], timeout: float = 10.0, **data: object) -> Event[P]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.events(kind, **data)
            if found:
                return found[0]
            time.sleep(0.02)
        raise AssertionError(f"no {kind.KIND} {data} within {timeout}s: {[e.kind for e in self.journal.events]}")

    def close(self) -> None:
        self.conductor.abort("test over")
        self._stop.set()
        self.service.start_gate.set()
        self._thread.join(15)
        self.service.stop()
        self.intake.stop()
        self.journal.close()


@pytest.fixture
def drill(tmp_path):
    d = Drill(tmp_path)
    try:
        yield d
    finally:
        d.close()


def go_live(drill: Drill) -> Drill:
    """Start the drill, with alice (IC), bob (tech-lead) and carol (comms-lead); wait for the fault's detection."""
    tokens = {p: drill.invite(p, r) for p, r in (("alice", "incident-commander"), ("bob", "tech-lead"),
                                                 ("carol", "comms-lead"))}
    drill.start()
    drill.detect()
    drill.tokens = tokens
    return drill


@pytest.fixture
def live(drill):
    return go_live(drill)


@pytest.fixture(scope="module")
def shared_live(tmp_path_factory):
    """One live drill for the tests that change nothing (refusals)."""
    d = Drill(tmp_path_factory.mktemp("shared"))
    try:
        yield go_live(d)
    finally:
        d.close()


# ---------------------------------------------------------------------------------- auth

ROUTES = [("GET", "/api/me"), ("GET", "/api/state"), ("GET", "/api/stream"), ("GET", "/api/drafts/external"),
          ("GET", "/api/openapi.json"), ("POST", "/api/session"), ("DELETE", "/api/session"),
          *[("POST", f"/api/actions/{a}") for a in ("acknowledge", "declare_incident", "set_severity", "mark_detected",
                                                     "post_update", "notify_executives", "note", "resolved", "runbook",
                                                     "assign_role")],
          *[("POST", f"/api/drill/{c}") for c in ("start", "pause", "resume", "abort", "end")],
          ("POST", "/api/faults/later/inject"), ("POST", "/api/faults/later/skip"), ("POST", "/api/responders"),
          ("DELETE", "/api/responders/alice"), ("GET", "/room"), ("GET", "/")]  # fmt: skip
FACILITATOR_ONLY = [r for r in ROUTES if r[1].startswith(("/api/drill/", "/api/faults/", "/api/responders"))]


def test_every_route_needs_a_token(drill):
    with drill.client() as c, drill.client("not-a-token") as bad:
        for method, path in ROUTES:
            for client in (c, bad):
                r = client.request(method, path, json={} if method == "POST" else None)
                assert r.status_code == 401, (method, path, r.status_code, r.text)
                if path.startswith("/api/"):
                    assert r.json()["error"], path
        # the join page and the static assets carry no drill data
        assert c.get("/join").status_code == 200
        assert c.get("/static/room.js").status_code == 200
    assert drill.events() == []  # nothing journaled, the drill has not started


def test_responders_cannot_start_abort_inject_or_see_expectations(live):
    with live.client(live.tokens["alice"]) as c:
        for method, path in FACILITATOR_ONLY:
            r = c.request(method, path, json={"person": "x"} if method == "POST" else None)
            assert r.status_code == 403, (method, path, r.text)
            assert "facilitator" in r.json()["error"]
        state = c.get("/api/state").json()
    assert "expectations" not in state and "faults" not in state
    assert not any(r["kind"] == "FaultInjected" for r in state["timeline"])
    assert not live.events(DrillAborted) and live.conductor.phase not in ("rollback",)
    with live.fac() as c:
        state = c.get("/api/state").json()
    assert state["expectations"]["severity"] == "SEV1"
    assert any(r["kind"] == "FaultInjected" for r in state["timeline"])


def test_host_header_must_be_loopback(drill):
    with drill.client(drill.facilitator, Host="evil.example:80") as c:
        r = c.get("/api/state")
    assert r.status_code == 421


# ---------------------------------------------------------------------------------- lobby and start


def test_lobby_stages_roles_and_joins_then_journals_them_right_after_start(drill):
    lobby_opened = time.monotonic()
    alice = drill.invite("alice", "incident-commander")
    drill.invite("bob")
    with drill.client(alice) as c:
        assert c.get("/api/me").json() == {"name": "alice", "facilitator": False}
        r = c.post("/api/actions/acknowledge", json={})
        assert r.status_code == 409 and "not started" in r.json()["error"]
        lobby = c.get("/api/state").json()
    assert lobby["status"] == "lobby" and lobby["viewer"]["roles"] == ["incident-commander"]
    assert drill.events() == []  # no journal entry before DrillStarted
    with drill.fac() as c:
        r = c.post("/api/actions/assign_role", json={"person": "bob", "role": "tech-lead"})
        assert r.status_code == 200 and r.json()["seq"] is None  # staged
        assert c.post("/api/drill/pause", json={}).status_code == 409
    time.sleep(max(0.0, 2.0 - (time.monotonic() - lobby_opened)))  # a lobby of at least 2 s
    lobby = time.monotonic() - lobby_opened
    drill.start()
    with drill.fac() as c:
        assert c.post("/api/drill/start", json={}).status_code == 409
    drill.wait_for(RoleAssigned, person="bob")
    kinds = [e.kind for e in drill.journal.events[:6]]
    assert kinds[:2] == ["DrillStarted", "PhaseChanged"]
    joined = drill.events(ResponderJoined)
    assert [(e.data.person, e.data.role) for e in joined] == [("alice", "incident-commander")]
    roles = [(e.data.person, e.data.role, e.data.by) for e in drill.events(RoleAssigned)]
    assert roles == [("alice", "incident-commander", "facilitator"), ("bob", "tech-lead", "facilitator")]
    # the lobby's wait is not drill time (DrillStarted comes at once after the start; a loaded machine may take a while)
    assert 0.0 <= drill.journal.events[0].t < lobby / 2


def test_ending_in_the_lobby_aborts_with_nothing_injected(drill):
    with drill.fac() as c:
        assert c.post("/api/drill/end", json={"reason": "not today"}).status_code == 202
    drill.wait_for(DrillEnded)
    assert not drill.events(FaultInjected)
    assert "not today" in drill.events(DrillAborted)[0].data.reason


# ---------------------------------------------------------------------------------- actions


def by_number(live) -> dict[int, int]:
    """A player's numbers of the journal's events → their seqs (see gameday.web.state.player_numbers)."""
    from gameday.web.state import player_numbers

    return {n: seq for seq, n in player_numbers(live.journal.events).items()}


def test_every_responder_action_is_journaled_with_author_role_and_data(live):
    a, b, c_ = (live.client(live.tokens[p]) for p in ("alice", "bob", "carol"))
    with a, b, c_:
        calls = [
            (a, "acknowledge", {}, {"action": "acknowledge", "author": "alice", "role": "incident-commander"}),
            (a, "declare_incident", {"severity": "SEV2"}, {"action": "declare_incident", "severity": "SEV2"}),
            (a, "set_severity", {"severity": "SEV1"}, {"action": "set_severity", "severity": "SEV1"}),
            (b, "mark_detected", {}, {"action": "mark_detected", "author": "bob", "role": "tech-lead"}),
            (c_, "post_update", {"audience": "external", "text": "Checkout is failing; we are on it."},
             {"action": "post_update", "audience": "external", "author": "carol", "role": "comms-lead"}),
            (c_, "notify_executives", {"text": "SEV1: checkout down"},
             {"action": "notify_executives", "text": "SEV1: checkout down"}),
            (b, "note", {"text": "replica lag 0"}, {"action": "note", "text": "replica lag 0", "author": "bob"}),
        ]
        for client, action, body, expected in calls:
            r = client.post(f"/api/actions/{action}", json=body)
            assert r.status_code == 200, (action, r.text)
            seq = by_number(live)[r.json()["seq"]]  # a player is answered with their number of the event
            ev = live.journal.events[seq]
            assert isinstance(ev.data, ActionRecorded) and ev.source == expected.get("author", ev.source)
            assert {k: getattr(ev.data, k) for k in expected} == expected, (action, ev.data)
        r = b.post("/api/actions/runbook", json={"runbook": "failover"})
        assert r.status_code == 202
        started = live.journal.events[by_number(live)[r.json()["seq"]]]
        assert started.data == ActionRecorded(action="runbook_started", runbook="failover", author="bob", role="tech-lead")
        finished = live.wait_for(ActionRecorded, action="runbook_finished")
        assert finished.data.ok is True and finished.data.author == "bob"
        assert live.runner.runs == 1
        live.wait_for(RecoveryObserved)
        state = b.get("/api/state").json()
        (rb,) = state["runbooks"]
        assert rb["runs"][0]["ok"] is True and rb["runs"][0]["by"] == "bob"
        r = a.post("/api/actions/assign_role", json={"person": "dana", "role": "comms-lead"})  # the IC assigns
        assert r.status_code == 200
        ev = live.journal.events[by_number(live)[r.json()["seq"]]]
        assert ev.data == RoleAssigned(person="dana", role="comms-lead", by="alice")
        r = a.post("/api/actions/resolved", json={})
        resolved = live.journal.events[by_number(live)[r.json()["seq"]]].data
        assert r.status_code == 200 and isinstance(resolved, ActionRecorded) and resolved.action == "resolved"
    with live.fac() as f:  # the facilitator acts for someone without a browser
        r = f.post("/api/actions/note", json={"as": "erin", "text": "called in by phone"})
        note = live.journal.events[r.json()["seq"]].data
        assert isinstance(note, ActionRecorded) and note.author == "erin" and note.text == "called in by phone"
        assert f.post("/api/faults/later/skip", json={}).status_code == 200
        assert f.post("/api/faults/spare/skip", json={}).status_code == 200
    live.wait_for(DrillEnded)
    card = score_journal(read_journal(live.journal.path))
    steps = {s.id: s for s in card.steps}
    assert {k: s.verdict for k, s in steps.items()} == dict.fromkeys(steps, "on_time")
    assert steps["ack"].author == "alice" and steps["failover"].author == "bob" and steps["status"].author == "carol"
    times = {m.name: m for m in card.times}
    ack = live.events(ActionRecorded, action="acknowledge")[0]
    assert times["MTTA"].to_seq == ack.seq and times["MTTA"].seconds is not None
    assert card.severity.first_declared == "SEV2" and card.severity.final == "SEV1"
    assert card.executives.verdict == "on_time" and card.comms.updates == 1
    assert card.roles.holders == {"incident-commander": ["alice"], "tech-lead": ["bob"], "comms-lead": ["carol", "dana"]}
    assert card.roles.ic_did_technical_work is False


def test_ic_running_the_runbook_is_flagged_kindly(live):
    with live.client(live.tokens["alice"]) as a:
        assert a.post("/api/actions/runbook", json={"runbook": "failover"}).status_code == 202
    live.wait_for(ActionRecorded, action="runbook_finished")
    with live.fac() as f:
        f.post("/api/drill/end", json={})
    live.wait_for(DrillEnded)
    card = score_journal(read_journal(live.journal.path))
    assert card.roles.ic_did_technical_work is True
    assert any("hands-off" in n for n in card.roles.notes)


REFUSALS = [
    # (who, method, path, body, status, words in the error)
    ("alice", "POST", "/api/actions/acknowledge", {"as": "bob"}, 403, "belongs to alice"),
    ("alice", "POST", "/api/actions/acknowledge", {"role": "tech-lead"}, 403, "does not hold"),
    ("bob", "POST", "/api/actions/assign_role", {"person": "carol", "role": "incident-commander"}, 403, "cannot assign"),
    ("alice", "POST", "/api/actions/runbook", {"runbook": "nope"}, 404, "no runbook"),
    ("alice", "POST", "/api/actions/set_severity", {"severity": "SEV9"}, 422, "severity"),
    ("alice", "POST", "/api/actions/set_severity", {}, 422, "severity"),
    ("alice", "POST", "/api/actions/post_update", {"audience": "press", "text": "x"}, 422, "audience"),
    ("alice", "POST", "/api/actions/post_update", {"audience": "external", "text": ""}, 422, "text"),
    ("alice", "POST", "/api/actions/note", {"text": "x" * 4001}, 422, "text"),
    ("alice", "POST", "/api/actions/note", {"text": "x", "extra": 1}, 422, "extra"),
    ("alice", "POST", "/api/actions/assign_role", {"person": "dana", "role": "Big Boss!"}, 400, "role"),
    ("alice", "POST", "/api/actions/assign_role", {"person": "automation", "role": "tech-lead"}, 400, "reserved"),
    ("alice", "POST", "/api/actions/assign_role", {"person": "a\x1bb", "role": "tech-lead"}, 400, "control"),
    ("alice", "POST", "/api/actions/acknowledge", {"role": "x" * 41}, 422, "role"),
    ("facilitator", "POST", "/api/faults/nope/inject", {}, 404, "no fault"),
    ("facilitator", "POST", "/api/faults/kill-db/inject", {}, 409, "injected"),
    ("facilitator", "POST", "/api/faults/kill-db/skip", {}, 409, "injected"),
    ("facilitator", "POST", "/api/drill/resume", {}, 409, "not paused"),
    ("facilitator", "DELETE", "/api/responders/nobody", None, 404, "no join link"),
    ("facilitator", "POST", "/api/responders", {"person": "conductor"}, 400, "reserved"),
    ("facilitator", "POST", "/api/responders", {"person": " "}, 400, "empty"),
    ("facilitator", "GET", "/api/drafts/press", None, 422, "audience"),
]  # fmt: skip


@pytest.mark.parametrize("who,method,path,body,status,words", REFUSALS, ids=[f"{r[2]}-{r[4]}-{r[5]}" for r in REFUSALS])
def test_refusals_are_clear_4xx_and_journal_nothing(shared_live, who, method, path, body, status, words):
    live = shared_live
    token = live.facilitator if who == "facilitator" else live.tokens[who]
    before = len(live.journal.events)
    with live.client(token) as c:
        r = c.request(method, path, json=body)
    assert r.status_code == status, r.text
    assert words in r.json()["error"].lower() or words in r.text.lower(), r.text
    assert not [e for e in live.journal.events[before:] if isinstance(e.data, (ActionRecorded, RoleAssigned))]


def test_malformed_oversized_and_non_json_bodies(live):
    with live.client(live.tokens["alice"]) as c:
        r = c.post("/api/actions/note", content=b"{not json", headers={"Content-Type": "application/json"})
        assert r.status_code == 400 and r.json()["error"] == "malformed JSON body"
        r = c.post("/api/actions/note", content=b"text=hello", headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert r.status_code == 415
        big = json.dumps({"text": "x" * (70 * 1024)}).encode()
        r = c.post("/api/actions/note", content=big, headers={"Content-Type": "application/json"})
        assert r.status_code == 413 and "KiB" in r.json()["error"]

        def chunks():
            for _ in range(80):
                yield b"x" * 1024

        r = c.post("/api/actions/note", content=chunks(), headers={"Content-Type": "application/json"})
        assert r.status_code == 413  # no Content-Length (chunked): counted as it arrives
        assert c.get("/api/state").status_code == 200  # the room still answers
    assert live.conductor.phase not in (None, "rollback")  # and the drill goes on


def test_cookie_session_needs_the_csrf_header_and_same_origin(live):
    with live.client() as c:
        r = c.post("/api/session", headers={"X-Gameday-Token": live.tokens["alice"]})
        assert r.status_code == 200
        cookie = r.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
        assert c.get("/api/me").json()["name"] == "alice"  # the cookie alone reads
        r = c.post("/api/actions/note", json={"text": "forged"})
        assert r.status_code == 403 and "X-Requested-With" in r.json()["error"]
        r = c.post("/api/actions/note", json={"text": "forged"}, headers={"X-Requested-With": "gameday",
                                                                          "Origin": "http://evil.example"})
        assert r.status_code == 403 and "cross-origin" in r.json()["error"]
        r = c.post("/api/actions/note", json={"text": "ok"}, headers={"X-Requested-With": "gameday", "Origin": live.url})
        assert r.status_code == 200
        assert c.get("/room").status_code == 200
        assert c.delete("/api/session", headers={"X-Requested-With": "gameday"}).status_code == 200
    assert [e.data.text for e in live.events(ActionRecorded, action="note")] == ["ok"]


def test_join_link_query_form_sets_the_cookie_and_redirects(live):
    with live.client() as c:
        r = c.get(f"/join?token={live.tokens['bob']}")
        assert r.status_code == 303 and r.headers["location"] == "/room"
        assert c.get("/room").status_code == 200
        assert c.get("/join?token=wrong").status_code == 401


def test_revoking_a_link_locks_the_person_out_and_ends_their_stream(live):
    with live.client(live.tokens["carol"]) as c:
        assert c.get("/api/me").status_code == 200
        with c.stream("GET", "/api/stream") as stream:
            lines = stream.iter_lines()
            assert next(lines).startswith("retry:")
            with live.fac() as f:
                assert f.delete("/api/responders/carol").status_code == 200
            got = [next(lines) for _ in range(4)]
            assert "event: bye" in "\n".join(got + [next(lines) for _ in range(3)])
        assert c.get("/api/state").status_code == 401
    revoked = live.wait_for(ResponderRevoked)
    assert revoked.data == ResponderRevoked(person="carol", by="facilitator")


@pytest.mark.parametrize("name", ["ops/bob", "50%00", "[/]", "a b?c#d"])
def test_any_name_the_room_invites_it_can_revoke_over_a_real_socket(drill, name):
    """Over uvicorn (percent-escapes decoded once), every invitable name has a revoke URL: '/' as %2F."""
    from urllib.parse import quote

    drill.invite(name)
    with drill.fac() as f:
        gone = f.delete(f"/api/responders/{quote(name, safe='')}")
        assert gone.status_code == 200, gone.text
        assert f.delete("/api/no/such/route").json() == {"error": "no such API route"}


def test_live_stream_sends_what_the_viewer_may_see(live):
    def collect(token, out, ready):
        with live.client(token) as c, c.stream("GET", "/api/stream") as s:
            for line in s.iter_lines():
                if line.startswith("event: hello"):
                    ready.set()
                if line.startswith("data: ") and '"kind"' in line:
                    out.append(json.loads(line[6:])["kind"])
                if len(out) >= 50 or "ActionRecorded" in out:
                    return

    seen_r, seen_f, r_ready, f_ready = [], [], threading.Event(), threading.Event()
    threads = [threading.Thread(target=collect, args=(live.tokens["bob"], seen_r, r_ready), daemon=True),
               threading.Thread(target=collect, args=(live.facilitator, seen_f, f_ready), daemon=True)]
    for t in threads:
        t.start()
    assert r_ready.wait(5) and f_ready.wait(5)
    with live.fac() as f:
        assert f.post("/api/faults/later/inject", json={}).status_code == 202
        live.wait_for(FaultInjected, fault="later")
        assert f.post("/api/faults/later/inject", json={}).status_code == 409
        f.post("/api/actions/note", json={"as": "bob", "text": "seen"})
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not ("ActionRecorded" in seen_r and "FaultInjected" in seen_f):
        time.sleep(0.05)
    assert "FaultInjected" in seen_f and "ActionRecorded" in seen_f
    assert "ActionRecorded" in seen_r and "FaultInjected" not in seen_r and "StepMatched" not in seen_r
    live.service.room.hub.close()
    for t in threads:
        t.join(5)


@pytest.fixture
def short_fault_live(tmp_path):
    """A live drill whose first fault rolls back by itself 3 s after it went in."""
    d = Drill(tmp_path, kill_db_max="3s")
    try:
        yield go_live(d)
    finally:
        d.close()


def test_pause_and_resume_move_every_deadline(short_fault_live):
    live = short_fault_live
    with live.fac() as f:
        refused = f.post("/api/drill/pause", json={})  # kill-db is in: its dead-man limit runs in real time
        assert refused.status_code == 409 and "live fault" in refused.json()["error"]
        live.wait_for(FaultRolledBack, fault="kill-db")
        before = f.get("/api/state").json()
        assert f.post("/api/drill/pause", json={}).status_code == 200
        assert f.post("/api/drill/pause", json={}).status_code == 409
        paused = f.get("/api/state").json()
        time.sleep(0.4)
        assert f.get("/api/state").json()["now_t"] == paused["now_t"]  # drill time stands still
        assert paused["status"] == "paused"
        assert f.post("/api/drill/resume", json={}).status_code == 200
    assert live.events(ClockPaused)[0].data == ClockPaused(by="facilitator") and live.events(ClockResumed)
    assert before["countdowns"] and before["countdowns"][0]["due_t"] == paused["countdowns"][0]["due_t"]


def test_abort_rolls_back(live):
    with live.fac() as f:
        assert f.post("/api/drill/abort", json={"reason": "customer traffic spike"}).status_code == 202
    live.wait_for(DrillEnded)
    assert "customer traffic spike" in live.events(DrillAborted)[0].data.reason
    assert live.events(FaultRolledBack, fault="kill-db")[0].data.reason == "abort"
    with live.client(live.tokens["alice"]) as c:
        r = c.post("/api/actions/acknowledge", json={})
        assert r.status_code == 409 and "over" in r.json()["error"]
        assert c.get("/api/state").json()["status"] == "ended"


def test_untrusted_text_is_escaped_in_the_page_and_tokens_never_journaled(live):
    token = live.invite(NAME_XSS)
    with live.client(token) as c:
        assert c.post("/api/actions/note", json={"text": XSS}).status_code == 200
    with live.client(live.tokens["carol"]) as c:
        assert c.post("/api/actions/post_update", json={"audience": "internal", "text": XSS}).status_code == 200
        page = c.get("/room")
    assert page.status_code == 200
    assert "<script>window.__pwned" not in page.text and "<img src=x" not in page.text
    assert "&lt;img src=x onerror=window.__pwned=3&gt;" in page.text
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff" and page.headers["referrer-policy"] == "no-referrer"
    with live.fac() as f:
        f.post("/api/drill/end", json={})
    live.wait_for(DrillEnded)
    text = live.journal.path.read_text()
    for secret in [live.facilitator, token, *live.tokens.values()]:
        assert secret not in text
    assert json.dumps(XSS)[1:-1] in text  # kept verbatim in the journal; escaped where it is shown


def test_intake_shares_the_port_and_openapi_documents_the_api(live):
    with live.fac() as f:
        spec = f.get("/api/openapi.json").json()
    paths = set(spec["paths"])
    for _, path in ROUTES:
        if path.startswith("/api/") and path != "/api/openapi.json":
            templated = path.replace("/later/", "/{fault}/").replace("/alice", "/{person}")
            assert templated.replace("/external", "/{audience}") in paths
    assert "/room" not in paths and "/webhooks/{fmt}" not in paths
    assert spec["paths"]["/api/actions/runbook"]["post"]["responses"].keys() >= {"202", "401", "403", "409"}
    r = httpx.post(f"{live.url}/webhooks/alertmanager", json=alert_body("resolved"), timeout=5)
    assert r.status_code == 200 and r.json()["status"] == "journaled"


def test_drill_file_and_token_file_are_private_and_removed_at_the_end(drill):
    info = json.loads(drill.service.drill_file.read_text())
    assert info["url"] == drill.url and info["drill_id"] == "api-drill"
    assert drill.facilitator not in drill.service.drill_file.read_text()
    assert drill.service.token_file.read_text().strip() == drill.facilitator
    for path in (drill.service.drill_file, drill.service.token_file):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(drill.service.drill_file.parent.stat().st_mode) == 0o700
    drill.close()
    assert not drill.service.drill_file.exists() and not drill.service.token_file.exists()


def test_drafts_come_from_the_comms_templates(live):
    with live.client(live.tokens["carol"]) as c:
        r = c.get("/api/drafts/external")
    assert r.status_code == 200
    body = r.json()
    assert body["audience"] == "external"
    assert body["note"] is None or "not available" not in body["note"]
    assert body["text"] and "Checkout" in body["text"]
