"""Hostile JSON and hostile senders at the webhook intake and the control room's API, over real HTTP.

The intake runs under uvicorn (a :class:`~gameday.web.server.BackgroundServer`) journaling into a
live conductor, as ``gameday run`` wires it; the bodies go out on raw keep-alive connections
(:mod:`http.client`, :mod:`socket`). For each: a clean 4xx (never 500, never 503), the same
connection still serving the next delivery, the refusal journaled, the journal strict JSON that
reads back and scores, and nothing like a traceback on stdout or stderr. The last test does the
same against a real ``gameday run`` drill (an external target) and checks the drill's own output.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import string
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from gameday.analysis.scorecard import score_journal
from gameday.clock import SystemClock
from gameday.drill.conductor import Conductor
from gameday.fakes import FakeInjector, FakeProbe
from gameday.journal import JournalWriter, events_of, read_journal
from gameday.model.eventio import EventError
from gameday.model.events import ActionRecorded, AlertReceived, DetectionRecorded, FaultInjected
from gameday.model.jsonsafe import MAX_DEPTH
from gameday.model.scenario import Scenario
from gameday.web.server import BackgroundServer

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "run"))
from drillkit import RUN_FIXTURES, TARGETS, alertmanager_body, read_events, wait_for

pytestmark = pytest.mark.integration

TRUE = [{"type": "action", "name": "noop", "provider": {"type": "process", "path": "true"}}]
NOISE = ("Traceback", "Exception in ASGI", "ClientDisconnect", "Error in ASGI", "RecursionError")


def scenario() -> Scenario:
    return Scenario.model_validate({
        "apiVersion": "gameday/v1", "id": "hostile", "title": "hostile JSON", "severity": "SEV2",
        "target": {"url": "http://127.0.0.1:1"},
        "steady_state": [{"name": "health", "http": {"url": "{target.url}/health"}}],
        "faults": [{"id": "f", "at": "0s", "activities": TRUE, "rollbacks": TRUE}],
        "detection": {"within": "60s", "signals": [{"name": "checkout errors", "alert": {"alertname": "CheckoutErrorsHigh"}}]},
        "recovery": {"within": "60s"},
        "abort": {"max_duration": "2m"},
    })  # fmt: skip


class Live:
    """A live drill with its intake on loopback; ``finish()`` ends it and replays its journal."""

    def __init__(self, server: BackgroundServer, journal: JournalWriter, conductor: Conductor, thread: threading.Thread):
        self.server, self.journal, self.conductor, self.thread = server, journal, conductor, thread
        self.sink_filter: Any = None  # a test may refuse some deliveries in the sink (as a journal would)

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.server.host, self.server.port, timeout=10)

    def received(self) -> list[Any]:
        return events_of(list(self.journal.events), AlertReceived)

    def finish(self):
        self.conductor.abort("test over")
        self.thread.join(10)
        self.journal.close()
        return read_journal(self.journal.path)


@contextmanager
def live_intake(tmp_path: Path) -> Iterator[Live]:
    from gameday.adapters.webhooks import make_intake_app

    clock = SystemClock()
    journal = JournalWriter(tmp_path / "journal.jsonl", clock, fsync=False)
    conductor = Conductor(scenario(), journal, clock, mode="ci", drill_id="hostile", injectors={"f": FakeInjector("f")},
                          probe=FakeProbe(clock))
    holder: dict[str, Live] = {}

    def sink(fmt, payload, alerts, *, received_at=None, error=None):  # as gameday.drill.assemble.IntakeSink
        refuse = holder["live"].sink_filter
        if refuse is not None:
            refuse(payload)
        return conductor.receive_alerts(fmt, payload, alerts, received_at=received_at, error=error)

    server = BackgroundServer(make_intake_app(sink)).start()
    thread = threading.Thread(target=conductor.run, daemon=True)
    thread.start()
    assert wait_for(lambda: bool(events_of(list(journal.events), FaultInjected)), 10), "the drill did not inject"
    live = holder["live"] = Live(server, journal, conductor, thread)
    try:
        yield live
    finally:
        if thread.is_alive():
            conductor.abort("test teardown")
            thread.join(10)
        server.stop()
        journal.close()


def post(conn: http.client.HTTPConnection, path: str, body: bytes,
         content_type: str = "application/json", headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """One request on ``conn`` (kept alive); (status, decoded JSON answer or None)."""
    conn.request("POST", path, body=body, headers={"Content-Type": content_type, **(headers or {})})
    resp = conn.getresponse()
    data = resp.read()
    try:
        return resp.status, json.loads(data) if data else None
    except ValueError:
        return resp.status, data.decode("utf-8", "replace")


def same_connection(conn: http.client.HTTPConnection, local: tuple[str, int]) -> bool:
    """Whether ``conn`` is still the socket it was (http.client drops it when the server closes)."""
    return conn.sock is not None and conn.sock.getsockname() == local


def good_alert() -> bytes:
    return json.dumps(alertmanager_body("CheckoutErrorsHigh", service="checkout")).encode()


def nested(depth: int) -> Any:
    """An alertmanager body whose deepest value sits ``depth`` arrays/objects deep (the body itself is level 1)."""
    value: Any = "deep"
    for _ in range(depth - 1):
        value = [value]
    return {**alertmanager_body("Noise"), "extra": value}


def assert_quiet(capfd: pytest.CaptureFixture[str]) -> None:
    out, err = capfd.readouterr()
    for word in NOISE:
        assert word not in out and word not in err, f"{word!r} printed:\n--- stdout\n{out}\n--- stderr\n{err}"


AM = "/webhooks/alertmanager"
HOSTILE = [
    ("int-5000-digits", b'{"alerts": [], "n": ' + b"7" * 5000 + b"}", "integer with 5000 digits"),
    ("int-past-the-limit", b'{"alerts": [], "n": -' + b"7" * 641 + b"}", "integer with 641 digits"),
    ("deep-arrays", b"[" * 100_000 + b"]" * 100_000, f"nesting deeper than {MAX_DEPTH} levels"),
    ("deep-objects", b'{"a":' * 5_000 + b"1" + b"}" * 5_000, f"nesting deeper than {MAX_DEPTH} levels"),
    ("deep-unclosed", b"[" * 300_000, "nesting deeper"),
    ("one-level-too-deep", json.dumps(nested(MAX_DEPTH + 1)).encode(), f"nesting deeper than {MAX_DEPTH} levels"),
    ("nan", b'{"alerts": [], "x": NaN}', "non-finite number NaN"),
    ("infinity", b'{"alerts": [], "x": [Infinity]}', "non-finite number Infinity"),
    ("minus-infinity", b'{"alerts": [], "x": -Infinity}', "non-finite number -Infinity"),
    ("overflow", b'{"alerts": [], "x": 1e999}', "out of range"),
    ("lone-surrogate", b'{"alerts": [], "x": "\\ud800"}', "unpaired surrogate"),
]  # fmt: skip


# ------------------------------------------------------------------------------------ intake
@pytest.mark.parametrize("name, body, error", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_json_is_a_400_on_a_connection_that_stays_usable(tmp_path, capfd, name, body, error):
    with live_intake(tmp_path) as live:
        conn = live.connect()
        status, answer = post(conn, AM, good_alert())  # opens the connection
        assert status == 200, answer
        local = conn.sock.getsockname()
        status, answer = post(conn, AM, body)
        assert status == 400, answer
        assert error in answer["error"] and "line 1 column" in answer["error"], answer
        assert same_connection(conn, local), "the intake closed the connection after a refusal"
        status, answer = post(conn, AM, good_alert())  # keep-alive: the next delivery on the same connection
        assert status == 200 and answer["matched"] is True, answer
        assert same_connection(conn, local)
        conn.close()
        journal = live.finish()
    first, refused, second = events_of(journal.events, AlertReceived)
    assert refused.data.error is not None and error in refused.data.error
    assert refused.data.alerts == [] and refused.data.matched is False
    assert isinstance(refused.data.payload, str) and len(refused.data.payload) <= 4096  # an excerpt, as text
    assert second.data.matched is True
    assert [d.data.alert_seq for d in events_of(journal.events, DetectionRecorded)] == [first.seq]
    assert score_journal(journal).detection is not None  # and the journal still scores
    assert_quiet(capfd)


def test_the_deepest_nesting_allowed_is_journaled_and_reads_back(tmp_path, capfd):
    body = nested(MAX_DEPTH)
    with live_intake(tmp_path) as live:
        conn = live.connect()
        status, answer = post(conn, AM, json.dumps(body).encode())
        conn.close()
        journal = live.finish()
    assert status == 200, answer
    [ev] = events_of(journal.events, AlertReceived)
    assert ev.data.error is None and ev.data.payload == body
    assert_quiet(capfd)


def test_non_finite_words_in_free_text_are_kept_as_text(tmp_path, capfd):
    body = alertmanager_body("CheckoutErrorsHigh", value="NaN", ratio="Infinity")
    body["alerts"][0]["annotations"] = {"summary": "NaN", "description": "-Infinity"}
    body["commonAnnotations"] = {"value": "1e999"}
    with live_intake(tmp_path) as live:
        conn = live.connect()
        status, answer = post(conn, AM, json.dumps(body).encode())
        conn.close()
        journal = live.finish()
    assert status == 200 and answer["matched"] is True, answer
    [ev] = events_of(journal.events, AlertReceived)
    assert ev.data.payload == body  # the words, as the sender wrote them
    assert ev.data.alerts[0].labels["value"] == "NaN" and ev.data.alerts[0].labels["ratio"] == "Infinity"
    line = (Path(journal.path).read_text(encoding="utf-8").splitlines())[ev.seq]
    assert '"summary":"NaN"' in line and "1e999" in line
    assert_quiet(capfd)


def test_a_body_the_journal_refuses_is_a_400_and_its_refusal_is_journaled(tmp_path, capfd):
    """Should a body pass the intake's checks and still be refused by the journal writer, the sender
    gets 400 (a 503 would make it retry a body that can never be journaled) and the refusal is journaled."""
    with live_intake(tmp_path) as live:
        def refuse(payload: Any) -> None:
            if isinstance(payload, dict) and "poison" in payload:
                raise EventError("AlertReceived: cannot be journaled: nesting too deep to serialise")

        live.sink_filter = refuse
        conn = live.connect()
        status, answer = post(conn, AM, json.dumps({**alertmanager_body("CheckoutErrorsHigh"), "poison": 1}).encode())
        assert status == 400 and "cannot be journaled" in answer["error"], answer
        status, answer = post(conn, AM, good_alert())
        assert status == 200, answer
        conn.close()
        journal = live.finish()
    refused, good = events_of(journal.events, AlertReceived)
    assert "cannot be journaled" in str(refused.data.error) and isinstance(refused.data.payload, str)
    assert good.data.matched is True
    assert_quiet(capfd)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_sender_disconnecting_mid_body_is_journaled_in_one_line_and_prints_nothing(tmp_path, capfd, chunked):
    with live_intake(tmp_path) as live:
        sock = socket.create_connection((live.server.host, live.server.port), timeout=10)
        head = f"POST {AM} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        if chunked:
            sock.sendall(f"{head}Transfer-Encoding: chunked\r\n\r\n".encode() + b"400\r\n" + b'{"alerts": [' + b" " * 100)
        else:
            sock.sendall(f"{head}Content-Length: 5000\r\n\r\n".encode() + b'{"alerts": [' + b" " * 100)
        sock.close()  # mid-body: the headers are complete, the body is not
        assert wait_for(lambda: any("disconnected" in str(e.data.error) for e in live.received()), 10), \
            "the disconnect was not journaled"
        conn = live.connect()  # the intake serves on
        status, answer = post(conn, AM, good_alert())
        assert status == 200 and answer["matched"] is True, answer
        conn.close()
        journal = live.finish()
    gone, good = events_of(journal.events, AlertReceived)
    assert gone.data.error is not None and gone.data.error.startswith("sender disconnected before the end of the body")
    assert gone.data.payload is None and gone.data.alerts == []
    assert good.data.matched is True
    assert_quiet(capfd)


def test_an_exception_an_app_lets_escape_is_logged_in_one_line_not_a_traceback(capfd):
    async def broken(scope, receive, send):
        raise RuntimeError("boom\n\x1b[31mred")

    server = BackgroundServer(broken).start()
    try:
        conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
        conn.request("GET", "/")
        assert conn.getresponse().status == 500
        conn.close()
    finally:
        server.stop()
    _, err = capfd.readouterr()
    lines = [line for line in err.splitlines() if "web server" in line]
    assert len(lines) == 1, err
    assert lines[0].startswith("web server ERROR: Exception in ASGI application: RuntimeError: boom \\x1b[31mred "
                               "(at test_hostile_json.py:"), err
    assert "Traceback" not in err and "\x1b" not in err


# ------------------------------------------------------------------------------------ control room API
@pytest.fixture
def room(tmp_path):
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from test_controlroom_api import Drill, go_live

    d = Drill(tmp_path)
    try:
        yield go_live(d)
    finally:
        d.close()


API_HOSTILE = [
    ("nan", b'{"text": NaN}', "non-finite number NaN"),
    ("overflow", b'{"text": "x", "as": 1e999}', "out of range"),
    ("int-5000-digits", b'{"text": ' + b"1" * 5000 + b"}", "integer with 5000 digits"),
    ("deep", b'{"text": ' + b"[" * 20_000 + b"]" * 20_000 + b"}", "nesting deeper than"),
    ("lone-surrogate", b'{"text": "a\\udc00b"}', "unpaired surrogate"),
    ("not-utf8", b'{"text": "caf\xe9"}', "not UTF-8"),
]  # fmt: skip


def test_the_control_room_api_holds_bodies_to_the_same_limits(room, capfd):
    conn = http.client.HTTPConnection(room.intake.host, room.intake.port, timeout=10)
    auth = {"Authorization": f"Bearer {room.tokens['alice']}"}
    status, answer = post(conn, "/api/actions/note", json.dumps({"text": "NaN"}).encode(), headers=auth)
    assert status == 200, answer  # a word, not a number
    local = conn.sock.getsockname()
    for name, body, error in API_HOSTILE:
        status, answer = post(conn, "/api/actions/note", body, headers=auth)
        assert status == 400, (name, answer)
        assert error in answer["error"], (name, answer)
        assert same_connection(conn, local), name
    status, answer = post(conn, "/api/actions/note", b"{not json", headers=auth)
    assert status == 400 and answer["error"] == "malformed JSON body"
    status, answer = post(conn, "/api/actions/note", json.dumps({"text": "after"}).encode(), headers=auth)
    assert status == 200, answer
    conn.close()
    notes = [e.data.text for e in room.events(ActionRecorded, action="note")]
    assert notes == ["NaN", "after"]
    assert_quiet(capfd)


# ------------------------------------------------------------------------------------ a real drill
def test_a_real_drill_takes_hostile_senders_quietly_and_still_scores(workspace):
    sys.path.insert(0, str(TARGETS))
    from harness import TINY, free_port, listening, tiny_argv

    port, pid_file = free_port(), workspace.cwd / "svc.pid"
    workspace.start_process(tiny_argv(port, pid_file))
    assert wait_for(lambda: pid_file.exists() and listening(port), 10), "tiny service did not start"
    text = string.Template((RUN_FIXTURES / "external-tiny.yaml.in").read_text()).substitute(
        port=port, pid_file=pid_file, python=sys.executable, tiny=TINY)
    path = workspace.cwd / "external-tiny.yaml"
    path.write_text(text)
    drill = workspace.spawn("run", str(path), "--mode", "ci", "--out", "out")
    head = drill.wait_line("alerts to ", timeout=20)
    host, port_text = re.search(r"alerts to http://(127\.0\.0\.1):(\d+)/webhooks/alertmanager", head).groups()
    drill.wait_line("ImpactStarted", timeout=20)

    # a sender that goes away mid-body
    sock = socket.create_connection((host, int(port_text)), timeout=10)
    sock.sendall(f"POST {AM} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                 "Content-Length: 9000\r\n\r\n".encode() + b'{"alerts": [')
    sock.close()
    journal = workspace.cwd / "out" / "journal.jsonl"
    assert wait_for(lambda: any("disconnected" in str(e["data"].get("error")) for e in read_events(journal)
                                if e["kind"] == "AlertReceived"), 10), "the disconnect was not journaled"
    # hostile bodies, then the real alert, all on one keep-alive connection
    conn = http.client.HTTPConnection(host, int(port_text), timeout=10)
    statuses = []
    for _, body, _ in HOSTILE:
        statuses.append(post(conn, AM, body)[0])
    status, answer = post(conn, AM, json.dumps(alertmanager_body("SvcDown", service="tiny")).encode())
    conn.close()
    assert statuses == [400] * len(HOSTILE)
    assert status == 200 and answer["matched"] is True, answer

    code = drill.wait(40)
    assert code == 0, drill.output()
    for word in NOISE:
        assert word not in drill.stderr and word not in drill.output(), drill.output()
    read_journal(journal)  # strict JSON through and through (the reader refuses NaN, depth, huge integers)
    alerts = [e for e in read_events(journal) if e["kind"] == "AlertReceived"]
    assert [a["data"]["error"] is None for a in alerts] == [False] * (len(HOSTILE) + 1) + [True]
    assert "disconnected" in alerts[0]["data"]["error"]
    card = json.loads((workspace.cwd / "out" / "scorecard.json").read_text())
    assert card["passed"] is True, card["failures"]
    assert card["detection"]["verdict"] == "on_time" and card["detection"]["signal"] == "svc down"
    rescored = workspace.run("score", str(journal))
    assert rescored.returncode == 0 and "Traceback" not in rescored.stderr, rescored
