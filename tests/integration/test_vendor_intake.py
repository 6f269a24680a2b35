"""Real vendor deliveries posted to a live intake over loopback HTTP (see tests/fixtures/webhooks/README.md,
"Real deliveries"): PagerDuty's captured bodies with the signatures they were delivered with, an Alertmanager
delivery from a server on +08:00. Uses :func:`test_intake.live_intake` (a live conductor journaling the intake)."""

from __future__ import annotations

import json

import pytest
from test_intake import FIXTURES, live_intake, received

from gameday.adapters.intake_auth import IntakeVerifier
from gameday.journal import events_of
from gameday.model.events import ActionRecorded

pytestmark = pytest.mark.integration

#: Aldaviva/PagerDuty's published test secret for these captured deliveries (see tests/unit/test_vendor_samples.py).
PD_TEST_SECRET = "HvPtlQNKMPpHSSqJpCdndXfo7HnGXa1pnH6w5axpxLFn9aRBNBGh4e8/HlonK5mz"
SIGNED = [  # in the order PagerDuty sent them
    ("pagerduty-triggered-signed-captured.json", "v1=3e3032b45bbe1801c13f182b0e0a7f4f3f530225cef07e3e90cbc57874d01c49"),
    ("pagerduty-acknowledged-signed-captured.json",
     "v1=91f533c0411d09f3e68622e2b57fdb561e7113ce7635318a2bbf5cde45d3d876"),
    ("pagerduty-resolved-signed-captured.json", "v1=60a745384fb05b03acfc592b157b05e105e498da2f72f53c437c9d7c8d9aa879"),
    ("pagerduty-annotated-signed-captured.json", "v1=7b1cc279d644e35511cfca431696498477e97d46f2403ed46d426435e0efef2b"),
]


def test_pagerduty_deliveries_with_their_own_signatures_are_journaled_with_who_acted(tmp_path):
    verifier = IntakeVerifier(hmac_secret=PD_TEST_SECRET, scheme="pagerduty")
    with live_intake(tmp_path, verifier) as intake:
        answers = [intake.post("pagerduty", raw=(FIXTURES / name).read_bytes(),
                               headers={"X-PagerDuty-Signature": signature})
                   for name, signature in SIGNED]
        events = intake.finish()
    assert [r.status_code for r in answers] == [200, 200, 200, 200], [r.text for r in answers]
    deliveries = received(events)
    assert [d.data.error for d in deliveries] == [None] * 4
    trig, ack, res, note = deliveries
    [row] = trig.data.alerts
    assert (row.status, row.alertname, row.labels["service"]) == ("firing", "Test", "Webhook Tester")
    assert (row.starts_at, row.ends_at, row.fingerprint) == ("2025-04-07T03:47:13Z", None, "Q2CKYRLH85UNN4")
    assert row.source_url == "https://aldaviva.pagerduty.com/incidents/Q2CKYRLH85UNN4"
    assert res.data.alerts[0].ends_at == "2025-04-07T03:49:36.358Z"
    assert note.data.alerts == []  # a note: journaled, no alert
    actions = [(a.data.action, a.data.author, a.data.via, a.data.alert_seq) for a in events_of(events, ActionRecorded)
               if a.data.via == "pagerduty"]
    assert actions == [("acknowledge", "Ben", "pagerduty", ack.seq), ("resolved", "Ben", "pagerduty", res.seq)]


def test_an_alertmanager_delivery_on_another_offset_is_journaled_in_utc(tmp_path):
    name = "alertmanager-offset-firing-captured.json"
    with live_intake(tmp_path) as intake:
        r = intake.post("alertmanager", raw=(FIXTURES / name).read_bytes())
        events = intake.finish()
    assert r.status_code == 200, r.text
    [delivery] = received(events)
    assert delivery.data.payload == json.loads((FIXTURES / name).read_text(encoding="utf-8"))  # kept as sent
    assert [(a.alertname, a.starts_at, a.ends_at, a.fingerprint) for a in delivery.data.alerts] == [
        ("主机CPU使用率", "2023-03-25T06:39:51.68943305Z", None, "72a2002704e27a2e"),
        ("主机CPU使用率", "2023-03-25T06:41:21.68943305Z", None, "ba18df1a61fe8e0b"),
        ("主机CPU使用率", "2023-03-25T06:41:06.68943305Z", None, "5a6e9db40eb24b04"),
    ]
