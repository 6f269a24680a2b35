"""Chat notifications against a local HTTP receiver on 127.0.0.1 acting as Slack, Teams and a generic endpoint.

Deliveries arrive with the right shapes; a failing endpoint (500, connection refused,
hanging) is journaled as NotificationFailed and never blocks the drill.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from gameday.drill.observing import ProbeSet
from gameday.clock import FakeClock
from gameday.drill.conductor import Conductor, ScriptedAction
from gameday.drill.context import DrillContext, DrillOptions
from gameday.drill.targets import TargetInfo
from gameday.fakes import FakeInjector
from gameday.journal import JournalWriter, read_journal
from gameday.loader import LoadedScenario
from gameday.model.events import ActionDetails, DrillStarted, NotificationFailed, NotificationSent
from gameday.model.policy import ProjectConfig
from gameday.model.scenario import Scenario
from gameday.model.terms import Mode
from gameday.notify.service import service_for
from gameday.project import Project

pytestmark = pytest.mark.integration

FIXTURE = Path(__file__).parent.parent / "fixtures" / "conductor" / "basic.yaml"
XSS = "<script>alert(1)</script>"
SECRET = "T0SECRET/B0SECRET/xoxSecretToken123"


class Receiver:
    """A tiny webhook receiver: records bodies by path; /fail answers 500, /hang never answers in time."""

    def __init__(self):
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                if self.path == "/hang":
                    receiver.release.wait(10)
                    return
                if self.path == "/fail":
                    self.send_response(500)
                    self.end_headers()
                    self.wfile.write(f"internal error at {self.path}".encode())
                    return
                receiver.received.append((self.path, json.loads(body)))
                self.send_response(202 if self.path == "/teams" else 200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def by_path(self, path: str) -> list[dict[str, Any]]:
        return [body for p, body in self.received if p == path]


def refused_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/nobody"


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


def scenario() -> Scenario:
    return Scenario.model_validate(yaml.safe_load(FIXTURE.read_text()))


def project(tmp_path: Path, r: Receiver) -> Project:
    fast = {"timeout": "300ms", "retries": 1}
    config = ProjectConfig.model_validate({"notify": [
        {"name": "incident-room", "kind": "slack", "url_env": "GAMEDAY_TEST_SLACK_URL", "audiences": ["internal", "executive"], "blocks": True},
        {"name": "exec-teams", "kind": "teams", "url": f"{r.url}/teams", "audiences": ["executive"]},
        {"name": "status-relay", "kind": "generic", "url": f"{r.url}/generic", "audiences": ["internal", "external", "executive"]},
        {"name": "broken", "kind": "generic", "url": f"{r.url}/fail", **fast},
        {"name": "nobody-home", "kind": "generic", "url": refused_url(), **fast},
        {"name": "hangs", "kind": "slack", "url": f"{r.url}/hang", **fast},
        {"name": "ci-only", "kind": "generic", "url": f"{r.url}/ci", "modes": ["ci"]},
    ]})  # fmt: skip
    return Project(root=tmp_path, config=config)


def context(tmp_path: Path, r: Receiver, journal: JournalWriter, conductor: Conductor | None, mode: Mode = "gameday",
            notify: bool = True) -> DrillContext:
    sc = conductor.scenario if conductor else scenario()
    conductor = conductor or Conductor(sc, journal, journal.clock, mode=mode, drill_id="d1", injectors={})
    loaded = LoadedScenario(scenario=sc, path=tmp_path / "notify.yaml", base_dir=tmp_path, project_root=tmp_path)
    return DrillContext(project=project(tmp_path, r), loaded=loaded, options=DrillOptions(mode=mode, notify=notify),
                        drill_id="d1", state_dir=tmp_path, target=TargetInfo(None, {}, {}, {}, {}),
                        webhook_url="http://127.0.0.1:9/webhooks/alertmanager", intake=NoIntake(), probes=ProbeSet([], 1.0), conductor=conductor,
                        journal=journal)  # fmt: skip


class NoIntake:
    """This test's drills take in no webhooks (the notifier never uses the intake)."""

    url = "http://127.0.0.1:9"

    def stop(self, *, wait: bool = True) -> None:
        return None


def notifications(path: Path) -> dict[str, list[NotificationSent | NotificationFailed]]:
    """Each channel's delivery outcomes, in journal order."""
    out: dict[str, list[NotificationSent | NotificationFailed]] = {}
    for e in read_journal(path).of(NotificationSent, NotificationFailed):
        assert e.source == "notifier"
        assert isinstance(e.data, (NotificationSent, NotificationFailed))
        out.setdefault(e.data.name, []).append(e.data)
    return out


def test_record_action_returns_at_once_and_every_delivery_is_journaled(tmp_path, receiver, monkeypatch):
    monkeypatch.setenv("GAMEDAY_TEST_SLACK_URL", f"{receiver.url}/slack/{SECRET}")
    clock = FakeClock()
    journal = JournalWriter(tmp_path / "journal.jsonl", clock, fsync=False)
    sc = scenario()
    conductor = Conductor(sc, journal, clock, mode="gameday", drill_id="d1", injectors={"kill-db": FakeInjector()})
    journal.append(DrillStarted(drill_id="d1", mode="gameday", scenario=sc, policy=conductor.policy), "conductor")
    service = service_for(context(tmp_path, receiver, journal, conductor))
    assert service is not None
    service.start()
    try:
        started = time.perf_counter()
        internal = conductor.record_action(f"carol{XSS}", "post_update",
                                           ActionDetails(audience="internal", text=f"Checkout failing {XSS} <!channel> & co"),
                                           role="comms-lead")  # fmt: skip
        executive = conductor.record_action("carol", "notify_executives",
                                            ActionDetails(text="SEV1: checkout outage, $9,000 per minute"))
        external = conductor.record_action("carol", "post_update",
                                           ActionDetails(audience="external", text="We're experiencing issues"))
        conductor.record_action("carol", "note", ActionDetails(text="not an update"))
        elapsed = time.perf_counter() - started
        assert elapsed < 0.5, f"record_action blocked for {elapsed:.3f}s"  # a blocking delivery would take >= 0.85s (hangs)
    finally:
        service.stop()
    journal.close()

    got = notifications(journal.path)
    sent = lambda name: [(n.action_seq, n.audience) for n in got.get(name, []) if isinstance(n, NotificationSent)]  # noqa: E731
    assert sent("incident-room") == [(internal.seq, "internal"), (executive.seq, "executive")]
    assert sent("exec-teams") == [(executive.seq, "executive")]
    assert sent("status-relay") == [(internal.seq, "internal"), (executive.seq, "executive"), (external.seq, "external")]
    assert "ci-only" not in got  # another mode's channel

    for name, why in (("broken", "HTTP 500"), ("nobody-home", "ConnectError"), ("hangs", "timed out after 0.3s")):
        (row,) = got[name]
        assert isinstance(row, NotificationFailed), name
        assert row.error.startswith(why) and row.attempts == 2, row
        assert row.channel in ("generic", "slack") and row.action_seq == internal.seq

    # Slack: escaped text, [DRILL], optional blocks; the URL's secret never reaches the journal
    (slack,) = [b for b in receiver.by_path(f"/slack/{SECRET}") if "Checkout" in b["text"]]
    assert slack["text"].startswith("[DRILL] Checkout failing &lt;script&gt;alert(1)&lt;/script&gt; &lt;!channel&gt; &amp; co")
    assert "<" not in json.dumps(slack) and [b["type"] for b in slack["blocks"]] == ["section", "context"]
    assert "xoxSecretToken123" not in journal.path.read_text() and "/slack/" not in journal.path.read_text()
    # Teams: an Adaptive Card in a message, HTML-escaped, marked
    (teams,) = receiver.by_path("/teams")
    card = teams["attachments"][0]["content"]
    assert teams["type"] == "message" and teams["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert card["type"] == "AdaptiveCard" and card["body"][0]["text"] == "[DRILL] SEV1: checkout outage, $9,000 per minute"
    # generic: the documented keys, text as data
    generic = receiver.by_path("/generic")
    assert [g["audience"] for g in generic] == ["internal", "executive", "external"]
    first = generic[0]
    assert set(first) == {"drill", "drill_id", "audience", "author", "role", "text", "sent_at", "action_seq"}
    assert first["drill"] is True and first["drill_id"] == "d1" and first["role"] == "comms-lead"
    assert first["author"] == f"carol{XSS}" and first["text"] == f"[DRILL] Checkout failing {XSS} <!channel> & co"
    assert first["sent_at"] == internal.wall and first["action_seq"] == internal.seq


def test_a_drill_with_hanging_and_failing_channels_is_not_slowed_down(tmp_path, receiver, monkeypatch):
    """A whole ci drill on a fake clock: scripted updates go out while the drill runs at full speed."""
    monkeypatch.setenv("GAMEDAY_TEST_SLACK_URL", f"{receiver.url}/slack/{SECRET}")
    clock = FakeClock()
    journal = JournalWriter(tmp_path / "journal.jsonl", clock, fsync=False)
    sc = scenario()
    script = [ScriptedAction("carol", "post_update", "injection", 1.0,
                             ActionDetails(audience="internal", text=f"Investigating {XSS}")),
              ScriptedAction("carol", "post_update", "injection", 2.0, ActionDetails(audience="external", text="We're on it"))]
    conductor = Conductor(sc, journal, clock, mode="gameday", drill_id="d1", injectors={"kill-db": FakeInjector()},
                          script=script)  # fmt: skip
    service = service_for(context(tmp_path, receiver, journal, conductor))
    service.start()
    started = time.perf_counter()
    try:
        result = conductor.run()
    finally:
        elapsed = time.perf_counter() - started
        service.stop()
    journal.close()
    assert result.outcome == "completed"
    assert elapsed < 1.5, f"the drill took {elapsed:.2f}s of real time: a delivery blocked it"
    got = notifications(journal.path)
    assert [n.KIND for n in got["hangs"]] == ["NotificationFailed"]
    assert [n.KIND for n in got["status-relay"]] == ["NotificationSent", "NotificationSent"]
    assert [b["text"] for b in receiver.by_path("/generic")] == [f"[DRILL] Investigating {XSS}", "[DRILL] We're on it"]


def test_no_channels_or_notify_off_means_no_service(tmp_path, receiver):
    journal = JournalWriter(tmp_path / "journal.jsonl", FakeClock(), fsync=False)
    ctx = context(tmp_path, receiver, journal, None)
    assert service_for(ctx) is not None
    assert service_for(context(tmp_path, receiver, journal, None, notify=False)) is None
    ctx.project = Project(root=tmp_path, config=ProjectConfig())
    assert service_for(ctx) is None
