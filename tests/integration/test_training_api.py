"""A training drill's control room over real HTTP: the drill assembled as ``gameday run --mode training
--trainee dana`` assembles it (:func:`gameday.drill.assemble.assemble`: the simulator, the state machine, the
simulated responders, the trainee's desk, the conductor, the control room on the intake's uvicorn server on
loopback), played on a thread of its own at ``--pace 30m:1m``, on the shipped
``scenarios/training-2-checkout-db-failover.yaml``.

The trainee's routes (``/api/training/...``) and the events each journals; who may give instructions (the
incident commander; the facilitator for them; a responder's token: 403); every refusal (404, 409, 422, 400,
415) as the room's JSON error; the simulated responders' answers in the timeline the trainee sees; the
simulation's state shown to the facilitator and never to the trainee (not by any route, not on the live
stream); and ``gameday act`` for the trainee (the real CLI in a subprocess).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from gameday.drill.context import DrillOptions
from gameday.model.events import (
    CommandHandedOver,
    CommandTaken,
    DecisionRecorded,
    DrillEnded,
    DrillStarted,
    Event,
    HintGiven,
    ObjectionsCalled,
    ObjectionVoiced,
    Payload,
    RoleAssigned,
    StateChanged,
    TaskAssigned,
    TaskReported,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "run"))
from drillkit import gameday_argv
from roomdrill import RoomDrill, Stream

pytestmark = pytest.mark.integration
SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "training-2-checkout-db-failover.yaml"
#: The simulation's state names: none may reach the trainee (a report may say "recovered" in plain words).
HIDDEN_STATES = ("degraded", "failing-over", "failing-over-after-outage")
INSTRUCTIONS = {  # route -> a body that is good for the incident commander
    "/api/training/command": {"text": "I am the incident commander"},
    "/api/training/task": {"to": "Priya", "kind": "investigate", "text": "look at the database", "within": "2m"},
    "/api/training/objections": {"proposal": "fail over now", "within": "2m"},
    "/api/training/decision": {"decision": "we fail over"},
    "/api/training/handover": {"to": "Priya", "briefing": "the database is failing over"},
}


class Training(RoomDrill):
    """One training drill of the shipped scenario with its control room, trainee dana, at ``pace``."""

    def __init__(self, tmp_path: Path, pace: str = "30m:1m", scenario: Path = SCENARIO):
        super().__init__(tmp_path, scenario, DrillOptions(mode="training", trainee="dana", pace=pace, seed=7,
                                                          out=tmp_path / "out"))
        self.trainee_link = self.link("trainee (dana)")
        self.trainee = self.trainee_link.split("/join#")[1]

    def dana(self) -> httpx.Client:
        return self.client(self.trainee)

    def start(self) -> None:
        with self.dana() as c:
            r = c.post("/api/training/start")
        assert r.status_code == 202, r.text
        self.wait_for(lambda e: isinstance(e.data, RoleAssigned) and e.data.person == "dana")


@pytest.fixture
def training(tmp_path):
    t = Training(tmp_path)
    try:
        yield t
    finally:
        t.close()


@pytest.fixture
def sooner_training(tmp_path):
    """A training of the shipped scenario with the fault at 20s, not 2m (its baseline 20s, not 1m): a test that
    only waits for the fault to start does not wait out the rest (4 s of wall time at this pace)."""
    text = SCENARIO.read_text(encoding="utf-8")
    for old, new in (("    at: 2m\n", "    at: 20s\n"), ("  baseline: 1m\n", "  baseline: 20s\n"),
                     ("experiment: experiments/", f"experiment: {SCENARIO.parents[1]}/experiments/")):
        assert old in text, old
        text = text.replace(old, new)
    scenario = tmp_path / SCENARIO.name
    scenario.write_text(text, encoding="utf-8")
    t = Training(tmp_path, scenario=scenario)
    try:
        yield t
    finally:
        t.close()


def of(events: list[Event[Payload]], kind: type) -> list[Event[Payload]]:
    return [e for e in events if isinstance(e.data, kind)]


def test_the_trainees_routes_journal_their_events_and_the_responders_answer(training):
    assert any(line.startswith("trainee (dana): http://127.0.0.1:") for line in training.lines)
    with training.dana() as dana, training.fac() as fac:
        lobby = dana.get("/api/training").json()
        assert (lobby["trainee"], lobby["you_are_trainee"], lobby["can_instruct"]) == ("dana", True, False)
        assert lobby["pace"] == {"label": "30m:1m", "factor": 30.0}
        training.start()  # solo practice: the trainee starts the drill
        assert dana.post("/api/training/start").status_code == 409
        assert isinstance(training.journal[0].data, DrillStarted)

        r = dana.post("/api/training/command", json={"text": "This is Dana: I am the incident commander."})
        assert r.status_code == 201, r.text
        taken = training.wait_for(lambda e: isinstance(e.data, CommandTaken))
        said = "This is Dana: I am the incident commander."
        assert (taken.data.person, taken.data.text, taken.source) == ("dana", said, "dana")
        for person, role in (("Priya", "tech-lead"), ("Sam", "comms-lead")):  # the room's own route
            assert dana.post("/api/actions/assign_role", json={"person": person, "role": role}).status_code == 200

        r = dana.post("/api/training/task", json={"to": "priya", "kind": "investigate", "within": "2m",
                                                  "text": "Why does checkout fail? Report in 2 minutes."})
        assert r.status_code == 201 and r.json()["kind"] == "TaskAssigned", r.text
        task = training.wait_for(lambda e: isinstance(e.data, TaskAssigned)).data
        assert (task.task, task.to, task.role, task.kind, task.within, task.by) == ("t1", "Priya", "tech-lead", "investigate",
                                                                                      120.0, "dana")
        r = dana.post("/api/training/task", json={"to": "Sam", "kind": "update", "audience": "external", "within": 300,
                                                  "text": "Post on the status page: some orders fail."})
        assert r.status_code == 201, r.text
        update = training.wait_for(lambda e: isinstance(e.data, TaskAssigned) and e.data.task == "t2").data
        assert (update.kind, update.audience, update.within) == ("update", "external", 300.0)

        # the simulated responders answer: on it, then what they find / what they did
        training.wait_for(lambda e: isinstance(e.data, TaskReported) and e.data.task == "t1" and e.data.status == "finding")
        training.wait_for(lambda e: isinstance(e.data, TaskReported) and e.data.task == "t2" and e.data.status == "done")
        rows = dana.get("/api/state").json()["timeline"]
        texts = [r["text"] for r in rows]
        assert any(t.startswith("Priya on task t1 (finding): ") for t in texts), texts
        assert any(t.startswith("Sam on task t2 (done): ") for t in texts), texts
        view = dana.get("/api/training").json()
        t1 = next(t for t in view["tasks"] if t["id"] == "t1")
        assert t1["to"] == "Priya" and t1["due_t"] == pytest.approx(t1["t"] + 120) and t1["status"] in ("finding", "done")
        assert [r["status"] for r in t1["reports"]][:1] == ["acknowledged"]
        t2 = next(t for t in view["tasks"] if t["id"] == "t2")
        assert (t2["status"], t2["open"]) == ("done", False)

        r = dana.post("/api/training/objections", json={"proposal": "Fail over to the replica now.", "within": "2m"})
        assert r.status_code == 201, r.text
        call = training.wait_for(lambda e: isinstance(e.data, ObjectionsCalled)).data
        assert (call.call, call.proposal, call.within, call.by) == ("o1", "Fail over to the replica now.", 120.0, "dana")
        training.wait_for(lambda e: isinstance(e.data, ObjectionVoiced) and e.data.by == "Priya")
        training.wait_for(lambda e: isinstance(e.data, ObjectionVoiced) and e.data.by == "Sam")
        answers = next(c for c in dana.get("/api/training").json()["calls"] if c["id"] == "o1")["answers"]
        assert sorted(a["by"] for a in answers) == ["Priya", "Sam"]

        r = dana.post("/api/training/decision", json={"decision": "We fail over now.", "rationale": "waiting loses more",
                                                      "options": ["wait", "fail over"]})
        assert r.status_code == 201, r.text
        decision = training.wait_for(lambda e: isinstance(e.data, DecisionRecorded))
        assert decision.data.model_dump() == {"decision": "We fail over now.", "options": ["wait", "fail over"],
                                              "decided_by": "dana", "rationale": "waiting loses more", "author": "dana",
                                              "inject": None}

        r = dana.post("/api/training/hint")
        assert r.status_code == 201, r.text
        hint = training.wait_for(lambda e: isinstance(e.data, HintGiven)).data
        assert (hint.to, hint.cost) == ("dana", 5.0) and hint.text
        assert dana.get("/api/training").json()["hints_cost"] == 5.0

        # the facilitator (the coach) records an instruction for the incident commander: it is dana's
        r = fac.post("/api/training/task", json={"to": "Priya", "kind": "runbook", "runbook": "failover", "within": "2m"})
        assert r.status_code == 201, r.text
        runbook = training.wait_for(lambda e: isinstance(e.data, TaskAssigned) and e.data.kind == "runbook")
        assert (runbook.data.by, runbook.data.runbook, runbook.source) == ("dana", "failover", "dana")
        training.wait_for(lambda e: isinstance(e.data, StateChanged) and e.data.to_state == "failing-over")

        # the handover: Priya holds command; dana's instructions are refused, the facilitator's are Priya's
        r = dana.post("/api/training/handover", json={"to": "Priya", "briefing": "Failover running; Sam has comms."})
        assert r.status_code == 201, r.text
        handed = training.wait_for(lambda e: isinstance(e.data, CommandHandedOver)).data
        assert (handed.outgoing, handed.incoming, handed.briefing) == ("dana", "Priya", "Failover running; Sam has comms.")
        training.wait_for(lambda e: isinstance(e.data, RoleAssigned) and e.data.person == "Priya"
                          and e.data.role == "incident-commander")
        after = dana.get("/api/training").json()
        assert (after["commander"], after["can_instruct"]) == ("Priya", False)
        r = dana.post("/api/training/decision", json={"decision": "one more"})
        assert r.status_code == 403 and "Priya does" in r.json()["error"], r.text
        assert dana.post("/api/training/hint").status_code == 201  # a hint is still the trainee's to ask for
        r = fac.post("/api/training/decision", json={"decision": "we monitor"})
        assert r.status_code == 201, r.text
        last = of(training.journal, DecisionRecorded)[-1].data
        assert (last.decided_by, last.author) == ("Priya", "Priya")


def test_every_refusal_is_the_rooms_json_error(training):
    with training.fac() as fac:
        r = fac.post("/api/responders", json={"person": "eve", "role": "comms-lead"})
        assert r.status_code == 201, r.text
        eve = r.json()["token"]
    with training.dana() as dana, training.client(eve) as responder, training.fac() as fac:
        for path, body in INSTRUCTIONS.items():  # in the lobby: not now
            r = dana.post(path, json=body)
            assert r.status_code == 409 and "not started" in r.json()["error"], (path, r.text)
        assert responder.post("/api/training/start").status_code == 403
        training.start()

        for path, body in INSTRUCTIONS.items():  # a responder's token gives no instructions
            r = responder.post(path, json=body)
            assert r.status_code == 403 and "only the incident commander" in r.json()["error"], (path, r.text)
        assert responder.post("/api/training/hint").status_code == 403
        r = responder.post("/api/training/command", json={"as": "dana", "text": "x"})
        assert r.status_code == 403 and "belongs to eve" in r.json()["error"]
        r = dana.post("/api/training/command", json={"as": "Priya", "text": "x"})
        assert r.status_code == 403
        r = fac.post("/api/training/command", json={"as": "Sam", "text": "x"})
        assert r.status_code == 403 and "only the incident commander (dana)" in r.json()["error"]

        def task(**fields) -> httpx.Response:
            return dana.post("/api/training/task", json={"to": "Priya", "kind": "investigate", **fields})

        r = task(kind="runbook", runbook="restart-everything", within="2m")
        assert r.status_code == 404 and "no runbook named 'restart-everything'" in r.json()["error"], r.text
        r = task(to="Bob")
        assert r.status_code == 404 and "no one named 'Bob'" in r.json()["error"], r.text
        for box in ("soon", "0s", 0, -5, "25h", 90_000, True, "5"):
            r = task(within=box)
            assert r.status_code == 422 and "error" in r.json(), (box, r.text)
        assert "within" in task(within="soon").json()["error"]
        assert task(kind="runbook", within="2m").status_code == 422  # a runbook task names its runbook
        assert task(kind="update", within="2m").status_code == 422  # an update names its audience
        assert task(kind="fix-it").status_code == 422
        assert task(to="").status_code == 422
        assert task(surprise=1).status_code == 422  # no unknown fields
        assert dana.post("/api/training/objections", json={"proposal": ""}).status_code == 422
        assert dana.post("/api/training/handover", json={"to": "Sam", "briefing": "  "}).status_code == 422
        assert dana.post("/api/training/handover", json={"to": "dana", "briefing": "me"}).status_code == 422
        assert dana.post("/api/training/decision", json={"decision": "x" * 4001}).status_code == 422
        r = dana.post("/api/training/task", content=b'{"to": "Priya", ', headers={"Content-Type": "application/json"})
        assert r.status_code == 400 and r.json() == {"error": "malformed JSON body"}
        r = dana.post("/api/training/task", content=b"to=Priya", headers={"Content-Type": "text/plain"})
        assert r.status_code == 415
        r = dana.post("/api/training/task", json={"to": "Priya\u202e", "kind": "investigate"})
        assert r.status_code == 400 and "control or formatting" in r.json()["error"]
        assert dana.get("/api/exercise").status_code == 404  # a training has no tabletop console
        assert training.client("not-a-token").get("/api/training").status_code == 401
        assert not of(training.journal, TaskAssigned)  # nothing refused was journaled

        fac.post("/api/drill/end", json={"reason": "refusals checked"})
        training.wait_for(lambda e: isinstance(e.data, DrillEnded))
        r = dana.post("/api/training/command", json={"text": "too late"})
        assert r.status_code == 409 and "over" in r.json()["error"]


def test_the_facilitator_sees_the_simulation_and_the_trainee_never_does(sooner_training):
    training = sooner_training
    dana_stream = Stream(training, training.trainee)
    with training.dana() as dana, training.fac() as fac:
        training.start()
        training.wait_for(lambda e: isinstance(e.data, StateChanged) and e.data.to_state == "degraded")
        assert dana.post("/api/training/hint").status_code == 201  # the degraded state's hint: its source names it
        hint = training.wait_for(lambda e: isinstance(e.data, HintGiven))
        assert hint.data.source == "state degraded"

        coach = fac.get("/api/training").json()
        assert coach["simulation"]["state"] == "degraded" and coach["simulation"]["severity"] == "SEV2"
        assert [c["to"] for c in coach["simulation"]["changes"]] == ["healthy", "degraded"]
        assert coach["hints"][0]["source"] == "state degraded"
        assert any(r["kind"] == "StateChanged" for r in fac.get("/api/state").json()["timeline"])
        assert "degraded" in fac.get("/room").text

        # the alert that fired reaches the trainee (they learn the state from it), the state does not
        state = dana.get("/api/state").json()
        assert "simulation" not in state["training"]
        assert any(r["kind"] == "AlertReceived" and "CheckoutErrorsHigh" in r["text"] for r in state["timeline"])
        assert not any(r["kind"] == "StateChanged" for r in state["timeline"])  # no 'say' on this transition
        assert [c["label"] for c in state["countdowns"] if c["kind"] == "step"] == []  # no hidden expectation either
        page = dana.get("/room").text
        for answer in (json.dumps(state), dana.get("/api/training").text, page):
            for name in HIDDEN_STATES:
                assert name not in answer, name
        assert 'id="sim-state"' not in page

        # the fix: a 'say' on the way to recovery reaches the trainee as what they were told, without the state
        dana.post("/api/actions/assign_role", json={"person": "Priya", "role": "tech-lead"})
        r = dana.post("/api/training/task", json={"to": "Priya", "kind": "runbook", "runbook": "failover", "within": "2m"})
        assert r.status_code == 201, r.text
        said = training.wait_for(lambda e: isinstance(e.data, StateChanged) and e.data.to_state == "failing-over")
        assert said.data.message
        rows = dana.get("/api/state").json()["timeline"]
        told = [r for r in rows if r["kind"] == "StateChanged"]
        assert [r["text"] for r in told] == [said.data.message]
        for name in HIDDEN_STATES:
            assert name not in json.dumps(rows), name
        fac.post("/api/drill/end", json={"reason": "seen"})
        training.wait_for(lambda e: isinstance(e.data, DrillEnded))
    training.close()  # the room stops: every stream ends with its 'bye', after every event it was sent
    dana_stream.join()
    assert any(line.startswith("event: bye") for line in dana_stream.lines)  # read to its end
    assert dana_stream.kinds().count("StateChanged") == 1  # only the one with a message
    assert "HintGiven" in dana_stream.kinds() and "AlertReceived" in dana_stream.kinds()
    assert not any("degraded" in line for line in dana_stream.lines)


def act(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(gameday_argv("act", *args), cwd=cwd, capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)


def test_gameday_act_gives_the_trainees_instructions(training):
    link, cwd = training.trainee_link, training.cwd
    training.start()
    r = act(cwd, link, "command", "This", "is", "Dana:", "I", "have", "command.")
    assert r.returncode == 0 and r.stdout.startswith("journaled #") and "CommandTaken" in r.stdout, r
    assert act(cwd, link, "assign_role", "Priya", "tech-lead").returncode == 0
    r = act(cwd, link, "task", "Priya", "investigate", "Check", "the", "database", "--within", "2m")
    assert r.returncode == 0 and "TaskAssigned" in r.stdout, r
    r = act(cwd, link, "task", "Sam", "update", "Orders", "fail", "--within", "5m", "--audience", "external")
    assert r.returncode == 0, r
    r = act(cwd, link, "objections", "Fail", "over", "now", "--within", "2m")
    assert r.returncode == 0 and "ObjectionsCalled" in r.stdout, r
    r = act(cwd, link, "decide", "We", "fail", "over", "now")
    assert r.returncode == 0 and "DecisionRecorded" in r.stdout, r
    r = act(cwd, link, "hint")
    assert r.returncode == 0 and "HintGiven" in r.stdout, r
    r = act(cwd, link, "task", "Priya", "runbook", "Fail", "over", "--runbook", "failover", "--within", "2m")
    assert r.returncode == 0, r
    r = act(cwd, link, "handover", "Priya", "The", "failover", "runs;", "Sam", "has", "comms.")
    assert r.returncode == 0 and "CommandHandedOver" in r.stdout, r

    events = training.journal
    tasks = [e.data for e in of(events, TaskAssigned)]
    assert [(t.to, t.kind, t.within, t.text, t.by) for t in tasks] == [
        ("Priya", "investigate", 120.0, "Check the database", "dana"), ("Sam", "update", 300.0, "Orders fail", "dana"),
        ("Priya", "runbook", 120.0, "Fail over", "dana")]
    assert tasks[1].audience == "external" and tasks[2].runbook == "failover"
    assert of(events, ObjectionsCalled)[0].data.proposal == "Fail over now"
    assert of(events, DecisionRecorded)[0].data.decision == "We fail over now"
    assert of(events, CommandHandedOver)[0].data.briefing == "The failover runs; Sam has comms."

    # bad input: one line, exit 2, nothing sent
    count = len(training.journal)
    for args, says in ((("task", "Priya", "investigate", "--within", "soon"), "--within: expected a duration"),
                       (("task", "Priya", "fix-it"), "unknown KIND 'fix-it'"),
                       (("decide",), "decide needs DECISION"),
                       (("hint", "--within", "2m"), "--within goes with task and objections"),
                       (("objections", "x", "--runbook", "failover"), "--runbook goes with task"),
                       (("command", "--role", "tech-lead"), "--role does not apply")):
        r = act(cwd, link, *args)
        assert r.returncode == 2 and says in r.stderr and len(r.stderr.strip().splitlines()) == 1, (args, r)
    r = act(cwd, link, "decide", "again")  # refused by the room: dana no longer holds command
    assert r.returncode == 2 and "refused (403)" in r.stderr and len(r.stderr.strip().splitlines()) == 1, r
    r = act(cwd, link, "task", "Nobody", "investigate", "--as", "Priya")
    assert r.returncode == 2 and "refused (403)" in r.stderr, r
    assert len(training.journal) >= count and not any(
        isinstance(e.data, (TaskAssigned, DecisionRecorded)) for e in training.journal[count:])


def test_the_trainee_starts_the_drill_with_gameday_act_and_hears_not_yet_in_the_lobby(training):
    """``gameday act DRILL start`` with the trainee's link starts a training (the rule of /api/training/start);
    whatever the trainee asks for in the lobby is 409 'not started yet', not a 403 about who may do it."""
    with training.fac() as fac:
        r = fac.post("/api/responders", json={"person": "eve", "role": "comms-lead"})
        assert r.status_code == 201, r.text
        eve = r.json()["token"]
    with training.dana() as dana, training.client(eve) as responder:
        for path, body in (("/api/actions/assign_role", {"person": "Priya", "role": "tech-lead"}),
                           ("/api/actions/acknowledge", {}), ("/api/actions/runbook", {"runbook": "failover"}),
                           ("/api/training/hint", None)):
            r = dana.post(path, json=body)
            assert r.status_code == 409, (path, r.text)
            assert r.json()["error"] == "the drill has not started yet (the trainee, dana, or the facilitator starts it)"
        r = responder.post("/api/drill/start", json={})
        assert r.status_code == 403 and "only the facilitator or the trainee (dana)" in r.json()["error"], r.text
    assert training.journal == [] and not training.drill.gate.is_set()

    r = act(training.cwd, training.trainee_link, "start")
    assert r.returncode == 0 and r.stdout.strip() == "starting", r
    training.wait_for(lambda e: isinstance(e.data, RoleAssigned) and e.data.person == "dana")
    r = act(training.cwd, training.trainee_link, "start")
    assert r.returncode == 2 and "refused (409)" in r.stderr and "already been started" in r.stderr, r
    with training.dana() as dana:
        r = dana.post("/api/actions/assign_role", json={"person": "Priya", "role": "tech-lead"})
        assert r.status_code == 200, r.text
