"""Chat payloads: escaping, the [DRILL] marker, channel configuration, retries, and no secrets in the journal."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from gameday.model.eventio import make_event
from gameday.model.events import (
    ActionRecorded,
    Event,
    NoteAdded,
    NotificationFailed,
    NotificationSent,
    Payload,
)
from gameday.model.notify import NotifyChannel, is_loopback_url
from gameday.model.policy import ProjectConfig
from gameday.notify.service import (
    DRILL_PREFIX,
    Notifier,
    NotifyService,
    Update,
    build_payload,
    drill_text,
    generic_payload,
    scrub,
    slack_escape,
    slack_payload,
    teams_escape,
    teams_payload,
)

XSS = "<script>alert(1)</script>"
SLACK_URL = "https://hooks.slack.com/services/T0SECRET1/B0SECRET2/xoxSecretToken123"
INJECTIONS = [XSS, "<!channel> wake up", "<!here|here>", "<https://evil.example|click me>", "<@U123>", "a & b", "&lt;already&gt;"]


def update(text: str = "Checkout is failing; failover under way", **kw: Any) -> Update:
    base = {"audience": "internal", "author": "carol", "role": "comms-lead", "drill_id": "d1",
            "sent_at": "2026-01-01T09:00:00.000000Z", "action_seq": 7}  # fmt: skip
    return Update(text=text, **{**base, **kw})


def channel(**kw: Any) -> NotifyChannel:
    base = {"name": "room", "kind": "generic", "url": "http://127.0.0.1:9/hook"}
    return NotifyChannel.model_validate({**base, **kw})


class Recorder:
    """The journal callback: every (payload, source) appended."""

    def __init__(self):
        self.events: list[tuple[Payload, str]] = []

    def __call__(self, payload: Payload, source: str) -> None:
        self.events.append((payload, source))

    def kinds(self) -> list[str]:
        return [p.KIND for p, _ in self.events]

    def only(self) -> NotificationSent | NotificationFailed:
        """The one payload appended (a notification outcome)."""
        ((payload, source),) = self.events
        assert source == "notifier" and isinstance(payload, (NotificationSent, NotificationFailed))
        return payload


# ------------------------------------------------------------------ escaping and marking
@pytest.mark.parametrize("text", INJECTIONS)
def test_slack_escaping_neutralises_control_sequences(text):
    out = slack_escape(text)
    assert "<" not in out and ">" not in out
    assert out.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&") == text  # reversible: nothing else touched


def test_slack_escapes_ampersand_first():
    assert slack_escape("&lt;") == "&amp;lt;" and slack_escape("<&>") == "&lt;&amp;&gt;"
    assert slack_escape("it's \"fine\"") == "it's \"fine\""  # only & < > (Slack's documented escaping)


def test_teams_html_escapes():
    assert teams_escape(XSS) == "&lt;script&gt;alert(1)&lt;/script&gt;" and teams_escape("a & b") == "a &amp; b"


def test_drill_prefix_is_added_once():
    assert drill_text("All good") == "[DRILL] All good"
    assert drill_text("  [DRILL] already marked") == "[DRILL] already marked"
    assert DRILL_PREFIX == "[DRILL] "


@pytest.mark.parametrize("kind", ["slack", "teams", "generic"])
def test_every_payload_is_marked_as_a_drill(kind):
    payload = build_payload(channel(kind=kind), update("Database failover in progress"))
    if kind == "slack":
        text = payload["text"]
    elif kind == "teams":
        text = payload["attachments"][0]["content"]["body"][0]["text"]
    else:
        text = payload["text"]
        assert payload["drill"] is True
    assert text.startswith("[DRILL] Database failover in progress")


def test_slack_payload_shape_and_optional_blocks():
    p = slack_payload(update(f"{XSS} <!channel>", author=f"eve{XSS}"))
    assert set(p) == {"text"}
    assert p["text"].startswith("[DRILL] &lt;script&gt;alert(1)&lt;/script&gt; &lt;!channel&gt;")
    assert "internal update by eve&lt;script&gt;" in p["text"] and "<" not in p["text"]
    b = slack_payload(update(XSS), blocks=True)
    assert [blk["type"] for blk in b["blocks"]] == ["section", "context"]
    assert b["blocks"][0]["text"] == {"type": "mrkdwn", "text": "[DRILL] &lt;script&gt;alert(1)&lt;/script&gt;"}
    assert "<" not in json.dumps(b)


def test_teams_payload_is_a_workflows_adaptive_card():
    p = teams_payload(update(XSS, author="<b>bob</b>"))
    assert p["type"] == "message" and len(p["attachments"]) == 1
    att = p["attachments"][0]
    assert att["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = att["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4" and card["$schema"].startswith("http://adaptivecards.io/")
    assert card["body"][0] == {"type": "TextBlock", "text": "[DRILL] &lt;script&gt;alert(1)&lt;/script&gt;", "wrap": True}
    assert "<" not in json.dumps(card)


def test_generic_payload_has_exactly_the_documented_keys():
    p = generic_payload(update(XSS))
    assert set(p) == {"drill", "drill_id", "audience", "author", "role", "text", "sent_at", "action_seq"}
    assert p == {"drill": True, "drill_id": "d1", "audience": "internal", "author": "carol", "role": "comms-lead",
                 "text": f"[DRILL] {XSS}", "sent_at": "2026-01-01T09:00:00.000000Z", "action_seq": 7}  # fmt: skip
    assert json.loads(json.dumps(p))["text"] == f"[DRILL] {XSS}"  # JSON carries the text as data; the receiver escapes


def test_long_text_is_clipped_for_slack_blocks():
    p = slack_payload(update("x" * 10_000), blocks=True)
    assert len(p["blocks"][0]["text"]["text"]) <= 3000 and p["text"].startswith("[DRILL] xxx")


# ------------------------------------------------------------------ which updates are delivered
def _event(action: str, seq: int = 3, **data: Any) -> Event[Payload]:
    return make_event(ActionRecorded(action=action, author="carol", role="comms-lead", **data), seq=seq,
                      wall="2026-01-01T09:00:05.000000Z", t=5.0, source="carol")


def test_updates_come_from_post_update_and_notify_executives_only():
    u = Update.from_event(_event("post_update", audience="external", text="We're on it"), "d1")
    assert (u.audience, u.text, u.author, u.role, u.action_seq, u.sent_at, u.drill_id) == (
        "external", "We're on it", "carol", "comms-lead", 3, "2026-01-01T09:00:05.000000Z", "d1")
    ex = Update.from_event(_event("notify_executives", text="SEV1: checkout down"))
    assert ex.audience == "executive" and ex.byline().startswith("executive notification by carol")
    assert Update.from_event(_event("post_update", audience="internal", text="  ")) is None
    assert Update.from_event(_event("acknowledge")) is None
    assert Update.from_event(make_event(NoteAdded(text="hi"), seq=1, wall="x", t=0, source="a")) is None


def test_audience_and_mode_filters():
    ch = channel(audiences=["external", "executive"], modes=["gameday"])
    assert ch.wants("external", "gameday") and not ch.wants("internal", "gameday") and not ch.wants("external", "ci")
    assert channel().audiences == ["internal"] and channel().wants("internal", "ci")


# ------------------------------------------------------------------ configuration
def test_channel_config_is_validated():
    with pytest.raises(ValidationError, match="loopback"):
        channel(url="https://hooks.slack.com/services/T/B/X")
    with pytest.raises(ValidationError, match="exactly one"):
        NotifyChannel.model_validate({"name": "x", "kind": "slack"})
    with pytest.raises(ValidationError, match="exactly one"):
        NotifyChannel.model_validate({"name": "x", "kind": "slack", "url_env": "A", "url": "http://127.0.0.1/"})
    with pytest.raises(ValidationError, match="environment variable"):
        NotifyChannel.model_validate({"name": "x", "kind": "slack", "url_env": "not a name"})
    with pytest.raises(ValidationError, match="blocks"):
        channel(kind="teams", blocks=True)
    with pytest.raises(ValidationError):
        channel(kind="discord")
    with pytest.raises(ValidationError):
        channel(audiences=["board"])
    assert channel(timeout="500ms").timeout == 0.5


@pytest.mark.parametrize("url,ok", [("http://127.0.0.1:8080/x", True), ("http://[::1]/x", True), ("https://localhost/x", True),
                                    ("http://127.9.9.9/", True), ("https://example.com/", False), ("ftp://127.0.0.1/", False),
                                    ("http://10.0.0.1/", False), ("not a url", False)])  # fmt: skip
def test_loopback_urls(url, ok):
    assert is_loopback_url(url) is ok


def test_project_config_takes_a_notify_list():
    cfg = ProjectConfig.model_validate({"notify": [
        {"name": "incident-room", "kind": "slack", "url_env": "GAMEDAY_SLACK_URL", "audiences": ["internal", "executive"], "blocks": True},
        {"name": "status", "kind": "generic", "url": "http://127.0.0.1:9/status", "audiences": ["external"], "timeout": "2s"},
    ]})  # fmt: skip
    assert [c.name for c in cfg.notify] == ["incident-room", "status"] and ProjectConfig().notify == []


# ------------------------------------------------------------------ delivery with a mock transport
def _run(notifier: Notifier, *updates: Update) -> None:
    for u in updates:
        notifier.notify(u)
    notifier.close(timeout=10)


def test_a_delivery_is_journaled_without_the_url(tmp_path):
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, text="ok")

    journal = Recorder()
    ch = NotifyChannel.model_validate({"name": "incident-room", "kind": "slack", "url_env": "SLACK_HOOK"})
    n = Notifier([ch], journal, env={"SLACK_HOOK": SLACK_URL}, transport=httpx.MockTransport(handler))
    _run(n, update(XSS))
    assert journal.kinds() == ["NotificationSent"]
    data = journal.only()
    assert data.channel == "slack" and data.name == "incident-room" and data.action_seq == 7 and data.attempts == 1
    assert data.audience == "internal" and data.status == 200
    assert "SECRET" not in data.model_dump_json() and "hooks.slack.com" not in data.model_dump_json()
    assert str(seen[0].url) == SLACK_URL and json.loads(seen[0].content)["text"].startswith("[DRILL] &lt;script&gt;")


def test_failures_never_carry_the_secret_even_when_the_server_echoes_it():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, text=f"no such hook: {request.url} ({request.url.path})")

    journal = Recorder()
    ch = NotifyChannel.model_validate({"name": "room", "kind": "slack", "url_env": "SLACK_HOOK"})
    _run(Notifier([ch], journal, env={"SLACK_HOOK": SLACK_URL}, transport=httpx.MockTransport(handler), backoff=(0,)), update())
    data = journal.only()
    assert isinstance(data, NotificationFailed) and data.status == 404 and data.attempts == 1  # a 4xx is not retried
    assert data.error.startswith("HTTP 404") and "[redacted]" in data.error
    for secret in ("T0SECRET1", "B0SECRET2", "xoxSecretToken123", SLACK_URL):
        assert secret not in data.model_dump_json()


def test_transport_errors_are_scrubbed_too():
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot reach {request.url}", request=request)

    journal = Recorder()
    ch = NotifyChannel.model_validate({"name": "room", "kind": "slack", "url_env": "SLACK_HOOK", "retries": 1})
    _run(Notifier([ch], journal, env={"SLACK_HOOK": SLACK_URL}, transport=httpx.MockTransport(handler), backoff=(0,)), update())
    data = journal.only()
    assert isinstance(data, NotificationFailed) and data.attempts == 2 and data.error.startswith("ConnectError")
    assert "xoxSecretToken123" not in data.error and "hooks.slack.com" not in data.error


def test_a_missing_environment_variable_is_a_journaled_failure():
    journal = Recorder()
    ch = NotifyChannel.model_validate({"name": "room", "kind": "teams", "url_env": "NOT_SET_ANYWHERE"})
    n = Notifier([ch], journal, env={})
    assert n.problems() == ["teams channel room: environment variable NOT_SET_ANYWHERE is not set"]
    _run(n, update())
    data = journal.only()
    assert isinstance(data, NotificationFailed) and data.error == "environment variable NOT_SET_ANYWHERE is not set"
    assert data.attempts == 0 and data.status is None


def test_5xx_and_429_are_retried_then_succeed():
    replies = iter([httpx.Response(500), httpx.Response(429, headers={"Retry-After": "0"}), httpx.Response(202)])
    journal = Recorder()
    n = Notifier([channel(retries=2)], journal, transport=httpx.MockTransport(lambda r: next(replies)), backoff=(0, 0))
    _run(n, update())
    data = journal.only()
    assert isinstance(data, NotificationSent) and data.attempts == 3 and data.status == 202


def test_only_matching_audiences_are_delivered_in_order():
    got: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        got.append(json.loads(request.content)["text"])
        return httpx.Response(200)

    journal = Recorder()
    n = Notifier([channel(audiences=["external"])], journal, transport=httpx.MockTransport(handler))
    _run(n, *(update(f"u{i}", audience="external" if i % 2 else "internal") for i in range(10)))
    assert got == [f"[DRILL] u{i}" for i in (1, 3, 5, 7, 9)] and journal.kinds() == ["NotificationSent"] * 5


def test_a_full_queue_is_journaled_not_blocked():
    import threading

    gate = threading.Event()

    def handler(request: httpx.Request) -> httpx.Response:
        gate.wait(5)
        return httpx.Response(200)

    journal = Recorder()
    n = Notifier([channel()], journal, transport=httpx.MockTransport(handler), max_pending=2)
    for i in range(4):
        n.notify(update(f"u{i}"))
    assert journal.kinds() == ["NotificationFailed", "NotificationFailed"]
    first = journal.events[0][0]
    assert isinstance(first, NotificationFailed) and "already queued" in first.error
    gate.set()
    n.close(10)
    assert journal.kinds().count("NotificationSent") == 2


def test_service_subscribes_to_the_journal_listeners_and_unsubscribes():
    class Journal:
        listeners: list = []

    journal, sent = Journal(), []
    n = Notifier([channel()], lambda *a: sent.append(a), transport=httpx.MockTransport(lambda r: httpx.Response(200)))
    svc = NotifyService(n, journal, "d1")
    svc.start()
    assert journal.listeners == [svc.on_event]
    svc.on_event(_event("post_update", audience="internal", text="hello"))
    svc.on_event(_event("note", text="not an update"))
    svc.stop()
    assert journal.listeners == [] and [(p.KIND, source) for p, source in sent] == [("NotificationSent", "notifier")]


def test_scrub_removes_url_parts():
    assert scrub(f"x {SLACK_URL} y", SLACK_URL) == "x [redacted] y"
    assert "tok123456" not in scrub("GET /hook?token=tok123456", "http://127.0.0.1/hook?token=tok123456")
    assert scrub("Connection refused", None) == "Connection refused"


def test_notify_model_literals_match_the_scenarios():
    from typing import get_args

    from gameday.model import notify, scenario

    assert get_args(notify.Audience) == get_args(scenario.Audience) and get_args(notify.Mode) == get_args(scenario.Mode)
    # importable by the scenario module (a scenario-level ``notify:``): it does not import the scenario
    code = "import sys, gameday.model.notify; print('gameday.model.scenario' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"
