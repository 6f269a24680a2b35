"""The webhook intake over real HTTP, journaling into a real conductor's journal.

Each test starts the intake (``make_intake_app`` under uvicorn in a ``BackgroundServer``)
wired to a live :class:`~gameday.drill.conductor.Conductor` on the system clock, as
``gameday run`` wires them: 200/400/401/413/415 answers, every delivery journaled,
refusals journaled as refused and never as detection, vendor samples accepted.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from gameday.adapters import webhooks
from gameday.adapters.intake_auth import IntakeVerifier
from gameday.adapters.webhooks import make_intake_app
from gameday.clock import SystemClock
from gameday.drill.conductor import Conductor
from gameday.fakes import FakeInjector, FakeProbe
from gameday.journal import JournalWriter, events_of, read_journal
from gameday.model.events import ActionRecorded, AlertReceived, DetectionRecorded, Event, FaultInjected, Payload
from gameday.model.scenario import Scenario
from gameday.web.server import BackgroundServer

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "webhooks"
TRUE = [{"type": "action", "name": "noop", "provider": {"type": "process", "path": "true"}}]
MAX_BODY = 64 * 1024


def scenario() -> Scenario:
    return Scenario.model_validate({
        "apiVersion": "gameday/v1", "id": "intake", "title": "intake test", "severity": "SEV2",
        "target": {"url": "http://127.0.0.1:1"},
        "steady_state": [{"name": "health", "http": {"url": "{target.url}/health"}}],
        "faults": [{"id": "f", "at": "0s", "activities": TRUE, "rollbacks": TRUE}],
        "detection": {"within": "60s", "signals": [
            {"name": "checkout errors", "alert": {"alertname": "CheckoutErrorsHigh"}},
            {"name": "pagerduty checkout", "alert": {"alertname": "~Checkout .*", "labels": {"source": "pagerduty"}}},
            {"name": "opsgenie sample", "alert": {"alertname": "test alert"}},  # the vendor's own: " test alert"
        ]},
        "recovery": {"within": "60s"},
        "abort": {"max_duration": "2m"},
    })


class Intake:
    """A live drill with its intake; ``post()`` deliveries, then ``events()`` after ``finish()``."""

    def __init__(self, url: str, journal: JournalWriter, conductor: Conductor, thread: threading.Thread):
        self.url, self.journal, self.conductor, self.thread = url, journal, conductor, thread
        self.client = httpx.Client(timeout=5.0, trust_env=False)

    def post(self, fmt: str, body: Any = None, *, raw: bytes | None = None, headers: dict[str, str] | None = None,
             content_type: str = "application/json") -> httpx.Response:
        data = raw if raw is not None else json.dumps(body).encode()
        return self.client.post(f"{self.url}/webhooks/{fmt}", content=data,
                                headers={"Content-Type": content_type, **(headers or {})})

    def finish(self) -> list[Event[Payload]]:
        self.conductor.abort("test over")
        self.thread.join(10)
        self.journal.close()
        return read_journal(self.journal.path).events


@contextmanager
def live_intake(tmp_path: Path, verifier: IntakeVerifier | None = None) -> Iterator[Intake]:
    clock = SystemClock()
    sc = scenario()
    journal = JournalWriter(tmp_path / "journal.jsonl", clock)
    conductor = Conductor(sc, journal, clock, mode="ci", drill_id="intake", injectors={"f": FakeInjector("f")},
                          probe=FakeProbe(clock))
    holder = {"conductor": conductor}

    def sink(fmt, payload, alerts, *, received_at=None, error=None):  # as gameday.drill.assemble.IntakeSink
        return holder["conductor"].receive_alerts(fmt, payload, alerts, received_at=received_at, error=error)

    server = BackgroundServer(make_intake_app(sink, max_body=MAX_BODY, verifier=verifier)).start()
    thread = threading.Thread(target=conductor.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not events_of(list(journal.events), FaultInjected):
        assert time.monotonic() < deadline, "the drill did not inject"
        time.sleep(0.01)
    intake = Intake(server.url, journal, conductor, thread)
    try:
        yield intake
    finally:
        intake.client.close()
        if thread.is_alive():
            conductor.abort("test teardown")
            thread.join(10)
        server.stop()
        journal.close()


def sample(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def received(events: list[Event[Payload]]) -> list[Event[AlertReceived]]:
    return events_of(events, AlertReceived)


def detections(events: list[Event[Payload]]) -> list[Event[DetectionRecorded]]:
    return events_of(events, DetectionRecorded)


# ------------------------------------------------------------------------------------ answers
def test_a_matching_alert_is_journaled_and_detected(tmp_path):
    with live_intake(tmp_path) as intake:
        r = intake.post("alertmanager", sample("alertmanager-v4.json"))
        events = intake.finish()
    assert r.status_code == 200
    assert r.json()["matched"] is True and r.json()["alerts"] == 1
    [ev] = received(events)
    assert ev.seq == r.json()["seq"] and ev.data.error is None and ev.data.signal == "checkout errors"
    [det] = detections(events)
    assert det.data.alert_seq == ev.seq and det.t == ev.t


@pytest.mark.parametrize("kwargs, status, error", [
    ({"raw": b'{"alerts": [', "content_type": "application/json"}, 400, "malformed JSON"),
    ({"body": {"alerts": "nope"}}, 400, "alerts: expected a list"),
    ({"raw": b"alertname=CheckoutErrorsHigh", "content_type": "application/x-www-form-urlencoded"}, 415,
     "unsupported content type"),
    ({"raw": b"{}", "content_type": "text/plain"}, 415, "unsupported content type"),
    ({"raw": b"[" + b" " * (MAX_BODY + 10) + b"]"}, 413, "body too large"),
])
def test_refused_deliveries_are_journaled_with_their_error(tmp_path, kwargs, status, error):
    with live_intake(tmp_path) as intake:
        r = intake.post("alertmanager", **kwargs)
        events = intake.finish()
    assert r.status_code == status, r.text
    [ev] = received(events)
    assert ev.data.error is not None and error in ev.data.error
    assert ev.data.alerts == [] and ev.data.matched is False
    assert not detections(events)


def test_a_chunked_body_over_the_limit_is_413(tmp_path):
    def chunks():
        for _ in range(MAX_BODY // 1024 + 2):
            yield b" " * 1024

    with live_intake(tmp_path) as intake:
        r = intake.client.post(f"{intake.url}/webhooks/alertmanager", content=chunks(),
                               headers={"Content-Type": "application/json"})
        events = intake.finish()
    assert r.status_code == 413
    assert "body too large" in str(received(events)[0].data.error)


def test_an_unknown_format_is_404(tmp_path):
    with live_intake(tmp_path) as intake:
        r = intake.post("nagios", {"x": 1})
        intake.finish()
    assert r.status_code == 404 and "alertmanager" in r.json()["error"]


def test_an_adapter_bug_answers_400_and_the_intake_lives_on(tmp_path, monkeypatch):
    def broken(body):
        raise RuntimeError("adapter bug")

    monkeypatch.setitem(webhooks.PARSERS, "generic", broken)
    with live_intake(tmp_path) as intake:
        bad = intake.post("generic", {"name": "X"})
        good = intake.post("alertmanager", sample("alertmanager-v4.json"))
        events = intake.finish()
    assert bad.status_code == 400 and "adapter bug" in bad.json()["error"]
    assert good.status_code == 200
    assert "generic adapter failed: RuntimeError: adapter bug" in str(received(events)[0].data.error)


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.json")))
def test_every_vendor_sample_is_accepted(tmp_path, name):
    fmt = name.split("-")[0].removesuffix(".json")
    with live_intake(tmp_path) as intake:
        r = intake.post(fmt, sample(name))
        events = intake.finish()
    assert r.status_code == 200, r.text
    [ev] = received(events)
    assert ev.data.format == fmt and ev.data.error is None and ev.data.payload == sample(name)


# ------------------------------------------------------------------------------ authentication
def test_unauthenticated_deliveries_get_401_are_journaled_as_refused_and_never_detect(tmp_path):
    verifier = IntakeVerifier(bearer_token="drill-token")
    body = sample("alertmanager-v4.json")
    body["commonAnnotations"]["padding"] = "x" * 5000  # the refused body is not kept beyond an excerpt
    with live_intake(tmp_path, verifier) as intake:
        none = intake.post("alertmanager", body)
        wrong = intake.post("alertmanager", body, headers={"Authorization": "Bearer guess"})
        ok = intake.post("alertmanager", body, headers={"Authorization": "Bearer drill-token"})
        events = intake.finish()
    assert (none.status_code, wrong.status_code, ok.status_code) == (401, 401, 200)
    assert none.headers["www-authenticate"].startswith("Bearer")
    refused, refused2, accepted = received(events)
    assert refused.data.error == "unauthenticated: no Authorization header"
    assert refused2.data.error == "unauthenticated: wrong bearer token"
    for ev in (refused, refused2):
        assert ev.data.matched is False and ev.data.alerts == []
        assert isinstance(ev.data.payload, str) and len(ev.data.payload) <= webhooks.REFUSED_EXCERPT
    [det] = detections(events)
    assert det.data.alert_seq == accepted.seq  # only the authenticated delivery detected


def pd_signature(secret: str, raw: bytes) -> str:
    return "v1=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def test_pagerduty_signed_deliveries_detect_and_acknowledge_a_bad_signature_is_refused(tmp_path):
    verifier = IntakeVerifier(hmac_secret="pd-secret", scheme="pagerduty")
    raws = {n: (FIXTURES / f"pagerduty-incident-{n}.json").read_bytes() for n in ("triggered", "acknowledged")}
    with live_intake(tmp_path, verifier) as intake:
        forged = intake.post("pagerduty", raw=raws["triggered"],
                             headers={"X-PagerDuty-Signature": pd_signature("not-the-secret", raws["triggered"])})
        trig = intake.post("pagerduty", raw=raws["triggered"],
                           headers={"X-PagerDuty-Signature": pd_signature("old", raws["triggered"]) + ","
                                    + pd_signature("pd-secret", raws["triggered"])})
        ack = intake.post("pagerduty", raw=raws["acknowledged"],
                          headers={"X-PagerDuty-Signature": pd_signature("pd-secret", raws["acknowledged"])})
        events = intake.finish()
    assert (forged.status_code, trig.status_code, ack.status_code) == (401, 200, 200)
    refused = received(events)[0]
    assert refused.data.error == "unauthenticated: bad signature in X-PagerDuty-Signature"
    assert refused.data.matched is False
    [det] = detections(events)
    assert det.data.alert_seq == trig.json()["seq"] and det.data.signal == "pagerduty checkout"
    acks = [e for e in events_of(events, ActionRecorded) if e.data.action == "acknowledge"]
    assert [(a.source, a.data.via, a.data.alert_seq) for a in acks] == [("alice", "pagerduty", ack.json()["seq"])]


# ------------------------------------------------------------------ what real payloads broke (issue 16)
def test_a_vendors_automation_is_nobodys_action_and_the_vendors_own_sample_matches(tmp_path):
    from gameday.analysis.scorecard import score_journal

    auto = sample("pagerduty-incident-resolved.json")
    auto["event"]["agent"] = {"id": "PSHOP01", "summary": "Checkout API", "type": "service_reference"}  # auto-resolve
    with live_intake(tmp_path) as intake:
        answers = [intake.post("pagerduty", sample("pagerduty-incident-triggered.json")).status_code,
                   intake.post("pagerduty", auto).status_code,
                   intake.post("opsgenie", sample("opsgenie-create-docs.json")).status_code]
        events = intake.finish()
    assert answers == [200, 200, 200]
    resolved = [e for e in events_of(events, ActionRecorded) if e.data.action == "resolved"]
    assert [(a.source, a.data.author, a.data.via) for a in resolved] == [("pagerduty", "pagerduty", "pagerduty")]
    card = score_journal(read_journal(tmp_path / "journal.jsonl"))
    times = {t.name: t.seconds for t in card.times}
    assert times["MTTD"] is not None and times["MTTR"] is None  # the service's resolve is no one's resolution
    opsgenie = received(events)[-1].data
    assert opsgenie.matched and opsgenie.signal == "opsgenie sample"
    assert opsgenie.alerts[0].alertname == " test alert"  # journaled as sent


def test_the_alerts_own_times_reach_the_journal_and_split_mttd(tmp_path):
    """startsAt sent at +01:00 in nanoseconds: journaled in UTC with every digit; the scorecard's condition and
    notification lags add up to MTTD; a person's generic acknowledgement is the human lag's end."""
    from datetime import UTC, datetime, timedelta, timezone

    from gameday.analysis.scorecard import score_journal

    with live_intake(tmp_path) as intake:
        time.sleep(0.3)  # the monitoring notices the condition...
        start = datetime.now(UTC).astimezone(timezone(timedelta(hours=1)))
        sent = start.strftime("%Y-%m-%dT%H:%M:%S.%f") + "789+01:00"
        time.sleep(0.2)  # ...and notifies a little later
        body = sample("alertmanager-v4.json")
        body["alerts"][0].update(startsAt=sent, endsAt="0001-01-01T00:00:00Z")
        assert intake.post("alertmanager", body).status_code == 200
        time.sleep(0.1)
        ack = {"name": "CheckoutErrorsHigh", "action": "acknowledge", "actor": "alice"}
        assert intake.post("generic", ack).status_code == 200
        events = intake.finish()
    row = received(events)[0].data.alerts[0]
    assert row.starts_at == start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "789Z" and row.ends_at is None
    d = score_journal(read_journal(tmp_path / "journal.jsonl")).detection
    mttd = d.detected_t - next(e.t for e in events_of(events, FaultInjected))
    assert d.condition_lag.seconds >= 0.25 and d.notification_lag.seconds >= 0.15
    assert abs(d.condition_lag.seconds + d.notification_lag.seconds - mttd) <= 0.002
    assert d.human_lag.seconds >= 0.05 and d.human_lag.to_seq is not None
