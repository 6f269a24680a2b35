"""Fuzzing the webhook intake: every format of ``PARSERS``, as a pure parser and over HTTP into a live drill.

Invariants (``gameday/adapters/webhooks.py`` and ``formats.py`` docstrings):

* a parser returns alerts or raises ``PayloadError`` naming the field, whatever the body;
* ``POST /webhooks/<format>`` answers 200 or 400 for a JSON content type, 415 for another, 413
  past the size limit: never 500, and never 503 once the drill runs (503 means "retry", and a body
  that cannot be journaled now never will be);
* every delivery is journaled (one ``AlertReceived`` each), and the journal stays strict JSON Lines
  that read back as typed events;
* afterwards the journal still scores and every report is written.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import (
    HUGE_INT,
    assert_jsonl_lines,
    assert_reports_written,
    budget,
    deep,
    json_values,
    mutated,
    raw_bodies,
    to_json,
)

from gameday.adapters.alerts import PayloadError
from gameday.adapters.webhooks import MAX_BODY, PARSERS

SAMPLES_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "webhooks"
PREFIX = {"alertmanager": "alertmanager", "grafana": "grafana", "pagerduty": "pagerduty", "opsgenie": "opsgenie",
          "generic": "generic"}


def samples(fmt: str) -> list[Any]:
    """The vendor samples of a format (tests/fixtures/webhooks/<format>*.json); ``[{}]`` for a format without any."""
    found = [json.loads(p.read_text()) for p in sorted(SAMPLES_DIR.glob(f"{PREFIX.get(fmt, fmt)}*.json"))]
    return found or [{}]


FORMATS = sorted(PARSERS)
JSON_TYPES = ["application/json", "application/json; charset=utf-8", "Application/JSON", "application/vnd.alert+json"]
OTHER_TYPES = ["text/plain", "", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "json",
               "application/jsonp", "text/json"]


def is_json_type(ctype: str) -> bool:
    main = ctype.split(";")[0].strip().lower()
    return main == "application/json" or main.endswith("+json")


@st.composite
def deliveries(draw: st.DrawFn, fmt: str) -> tuple[bytes, str]:
    """(body, content type) for one delivery to ``fmt``: a vendor sample with hostile changes, or raw bytes."""
    body = draw(st.one_of(
        st.builds(lambda v: to_json(v).encode(), mutated(draw(st.sampled_from(samples(fmt))), json_values(max_leaves=5))),
        raw_bodies(),
    ))  # fmt: skip
    ctype = draw(st.one_of(st.sampled_from(JSON_TYPES), st.sampled_from(JSON_TYPES), st.sampled_from(OTHER_TYPES)))
    return body, ctype


# ------------------------------------------------------------------------------ the parsers


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_has_vendor_samples_to_start_from(fmt):
    assert samples(fmt) != [{}], f"no tests/fixtures/webhooks/{fmt}*.json: the fuzzer would start from an empty body"


@pytest.mark.parametrize("fmt", FORMATS)
@budget(30)
@given(data=st.data())
def test_a_parser_returns_alerts_or_names_the_field(fmt, data):
    parser = PARSERS[fmt]
    text = to_json(data.draw(mutated(data.draw(st.sampled_from(samples(fmt))), json_values(max_leaves=6)), label="body"))
    try:
        payload = json.loads(text)
    except (ValueError, RecursionError):
        return  # not JSON Python reads: the intake answers 400 before any parser (the HTTP property covers it)
    try:
        alerts = parser(payload)
    except PayloadError as exc:
        assert str(exc), "a PayloadError must say which field"
        return
    for alert in alerts:
        assert alert.status in ("firing", "resolved"), alert
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in alert.labels.items()), alert.labels
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in alert.annotations.items()), alert.annotations


WRONG_TYPES = {  # what the fuzzer found once, kept as fixed cases: a field of the wrong type names the field
    "generic": [{"name": "x", "status": []}, {"name": "x", "status": {}}, {"name": "x", "action": ["acknowledge"]},
                {"name": "x", "fingerprint": {"a": 1}}, {"name": "x", "annotations": []}, {"alerts": [[]]},
                {"name": "x", "labels": {"a": {"b": 1}}}, {"name": ["x"]}],
    "alertmanager": [{"alerts": [{"status": [], "labels": {"alertname": "x"}}]}, {"alerts": {}},
                     {"alerts": [{"labels": []}]}, {"alerts": [{"labels": {"alertname": ["x"]}}]}],
    "pagerduty": [{"event": {"event_type": "incident.triggered", "data": {"title": "x", "service": [], "teams": "t"}}},
                  {"event": {"event_type": "incident.triggered", "data": {"title": ["x"]}}}, {"event": []}],
    "opsgenie": [{"action": "Create", "alert": {"message": "x", "tags": "a"}},
                 {"action": "Create", "alert": {"message": "x", "details": {"a": []}}},
                 {"action": ["Create"], "alert": {"message": "x"}}, {"action": "Create", "alert": {"message": "x", "teams": {}}}],
}


@pytest.mark.parametrize(("fmt", "body"), [(f, b) for f, bodies in WRONG_TYPES.items() for b in bodies if f in PARSERS])
def test_a_field_of_the_wrong_type_is_a_payload_error(fmt, body):
    try:
        alerts = PARSERS[fmt](body)
    except PayloadError as exc:
        assert str(exc)
        return
    assert all(isinstance(v, str) for a in alerts for v in a.labels.values())


# ------------------------------------------------------------------------------ over HTTP, in-process


@pytest.fixture(scope="module")
def intake(live_drill):
    from starlette.testclient import TestClient

    with TestClient(live_drill.intake_app, base_url="http://127.0.0.1", raise_server_exceptions=True) as client:
        yield live_drill, client


def deliver(client, fmt: str, body: bytes, ctype: str) -> httpx.Response:
    headers = {"Content-Type": ctype} if ctype else {}
    try:
        return client.post(f"/webhooks/{fmt}", content=body, headers=headers)
    except Exception as exc:
        raise AssertionError(f"500: the intake raised {type(exc).__name__}: {str(exc)[:300]}") from exc


def alert_lines(data: bytes) -> int:
    return data.count(b'"kind":"AlertReceived"')


def check_delivery(drill, client, fmt: str, body: bytes, ctype: str) -> None:
    before = drill.journal_bytes()
    resp = deliver(client, fmt, body, ctype)
    allowed = ({413} if len(body) > MAX_BODY else {200, 400}) if is_json_type(ctype) else {415}
    assert resp.status_code in allowed, (f"{resp.status_code} (expected {sorted(allowed)}) for {len(body)} bytes "
                                         f"as {ctype!r}: {resp.text[:300]}")
    answer = resp.json()
    assert isinstance(answer, dict) and (answer.get("status") == "journaled" if resp.status_code == 200 else answer.get("error"))
    after = drill.journal_bytes()
    assert after.startswith(before), "the journal was rewritten, not appended to"
    assert_jsonl_lines(after[len(before):], "journal lines written for this delivery")
    assert alert_lines(after) - alert_lines(before) == 1, "each delivery is journaled once (AlertReceived)"


@pytest.mark.parametrize("fmt", FORMATS)
@budget(20)
@given(data=st.data())
def test_a_delivery_is_answered_as_documented_and_journaled_as_json_lines(intake, fmt, data):
    drill, client = intake
    body, ctype = data.draw(deliveries(fmt), label="delivery")
    check_delivery(drill, client, fmt, body, ctype)


PATHOLOGICAL = {
    "nested 10,000 deep (lists)": deep(10_000).encode(),
    "nested 10,000 deep (objects)": deep(10_000, "object").encode(),
    "nested 990 deep (under the recursion limit)": b'{"alerts": [' + deep(990).encode() + b"]}",
    "an integer of 5,001 digits": b'{"alerts": [], "n": ' + HUGE_INT.encode() + b"}",
    "NaN and Infinity literals": b'{"version": "4", "status": "firing", "alerts": [], "x": NaN, "y": -Infinity}',
    "1e999 (overflows to infinity)": b'{"name": "CheckoutErrorsHigh", "labels": {"v": 1e999}}',
    "a lone surrogate escape": b'{"name": "CheckoutErrorsHigh \\ud800", "labels": {"k\\udfff": "v"}}',
    "invalid UTF-8 in a string": b'{"name": "Checkout\xff\xfeErrors"}',
    "a NUL escape and ESC in labels": b'{"name": "x\\u0000y", "labels": {"\\u001b[31m": "\\u202e"}}',
    "a duplicate key": b'{"name": "a", "name": "b"}',
    "a UTF-8 BOM": b"\xef\xbb\xbf{}",
}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("what", list(PATHOLOGICAL))
def test_pathological_json_is_answered_400_or_200_never_500_or_503(intake, fmt, what):
    drill, client = intake
    check_delivery(drill, client, fmt, PATHOLOGICAL[what], "application/json")


# ------------------------------------------------------------------------------ over a real socket


@pytest.fixture(scope="module")
def served(intake):
    from gameday.web.server import BackgroundServer

    drill, _ = intake
    server = BackgroundServer(drill.intake_app).start()
    try:
        yield drill, server.url
    finally:
        server.stop()


@pytest.mark.parametrize("what", ["nested 10,000 deep (lists)", "an integer of 5,001 digits", "NaN and Infinity literals",
                                  "a lone surrogate escape", "invalid UTF-8 in a string"])
def test_a_live_uvicorn_intake_answers_pathological_json_and_keeps_serving(served, what):
    drill, url = served
    before = alert_lines(drill.journal_bytes())
    with httpx.Client(timeout=10, trust_env=False) as http:
        resp = http.post(f"{url}/webhooks/generic", content=PATHOLOGICAL[what], headers={"Content-Type": "application/json"})
        assert resp.status_code in (200, 400), (what, resp.status_code, resp.text[:300])
        ok = http.post(f"{url}/webhooks/generic", json={"name": "StillServing"})
        assert ok.status_code == 200, ok.text
    assert alert_lines(drill.journal_bytes()) - before == 2
    assert_jsonl_lines(drill.journal_bytes(), "the journal")


def test_a_live_uvicorn_intake_refuses_a_streamed_body_past_the_limit_413(served):
    drill, url = served

    def chunks():
        for _ in range(MAX_BODY // 65536 + 2):
            yield b"[" * 65536

    with httpx.Client(timeout=30, trust_env=False) as http:
        resp = http.post(f"{url}/webhooks/alertmanager", content=chunks(), headers={"Content-Type": "application/json"})
    assert resp.status_code == 413, resp.text[:300]
    assert_jsonl_lines(drill.journal_bytes(), "the journal")


# ------------------------------------------------------------------------------ afterwards


def test_after_the_fuzzing_the_drill_ends_and_every_report_is_written(intake, tmp_path):
    drill, _ = intake
    drill.close()
    assert_jsonl_lines(drill.journal_bytes(), "the journal")
    assert_reports_written(drill.journal.path, tmp_path / "reports", mode="gameday")
