"""Every webhook adapter on payloads the vendors really sent (tests/fixtures/webhooks/*-real.json, *-captured.json).

Each file is a byte-for-byte copy of a public delivery; ``tests/fixtures/webhooks/README.md`` ("Real deliveries")
names its repository, path and commit. The checks are what a user of a drill needs from each: status, the alert's
name and labels, who acted (a person's name, or no one), the priority as Opsgenie's UI names it, and the alert's
own times normalised to UTC with every fraction digit the sender wrote (``starts_at``/``ends_at``), its source URL.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from pathlib import Path
from typing import Any

import pytest

from gameday.adapters.alerts import PayloadError
from gameday.adapters.webhooks import PARSERS
from gameday.model.alerts import Alert
from gameday.model.instants import epoch_ns

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "webhooks"
REAL = sorted([*FIXTURES.glob("*-real.json"), *FIXTURES.glob("*-captured.json")])

#: The webhook signing secret Aldaviva/PagerDuty's tests publish with their captured deliveries
#: (Tests.Webhooks/WebhookResourceTests.cs): the captured X-PagerDuty-Signature of each body checks with it.
PD_TEST_SECRET = "HvPtlQNKMPpHSSqJpCdndXfo7HnGXa1pnH6w5axpxLFn9aRBNBGh4e8/HlonK5mz"
PD_SIGNATURES = {
    "pagerduty-triggered-signed-captured.json": "v1=3e3032b45bbe1801c13f182b0e0a7f4f3f530225cef07e3e90cbc57874d01c49",
    "pagerduty-acknowledged-signed-captured.json": "v1=91f533c0411d09f3e68622e2b57fdb561e7113ce7635318a2bbf5cde45d3d876",
    "pagerduty-resolved-signed-captured.json": "v1=60a745384fb05b03acfc592b157b05e105e498da2f72f53c437c9d7c8d9aa879",
    "pagerduty-annotated-signed-captured.json": "v1=7b1cc279d644e35511cfca431696498477e97d46f2403ed46d426435e0efef2b",
}


def sample(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def parse(name: str) -> list[Alert]:
    return PARSERS[name.split("-")[0]](sample(name))


def same_instant(sent: str, journaled: str | None) -> bool:
    """``journaled`` is ``sent`` in UTC: the same nanosecond, and the same fraction digits."""
    digits = re.search(r"\.(\d+)", sent)
    return journaled is not None and journaled.endswith("Z") and epoch_ns(sent) == epoch_ns(journaled) \
        and (digits is None or f".{digits.group(1)}Z" in journaled)


# ------------------------------------------------------------------------------------ all of them
def test_there_are_real_samples_of_every_vendor_format():
    assert {p.name.split("-")[0] for p in REAL} >= {"alertmanager", "grafana", "pagerduty", "opsgenie"}


@pytest.mark.parametrize("path", REAL, ids=lambda p: p.name)
def test_every_real_sample_parses_and_cites_its_source(path):
    alerts = PARSERS[path.name.split("-")[0]](json.loads(path.read_text(encoding="utf-8")))
    assert all(isinstance(a, Alert) and a.status in ("firing", "resolved") and a.alertname for a in alerts)
    readme = (FIXTURES / "README.md").read_text(encoding="utf-8")
    real_table = readme.split("## Real deliveries", 1)[1]
    row = next((line for line in real_table.splitlines() if line.startswith(f"| `{path.name}` |")), None)
    assert row is not None, f"{path.name}: no row in README.md's 'Real deliveries' table"
    assert re.search(r"\b[0-9a-f]{40}\b", row) or "same" in row, f"{path.name}: its row names no commit"


@pytest.mark.parametrize("name, signature", sorted(PD_SIGNATURES.items()))
def test_the_pagerduty_samples_are_the_signed_bytes(name, signature):
    raw = (FIXTURES / name).read_bytes()
    assert "v1=" + hmac.new(PD_TEST_SECRET.encode(), raw, hashlib.sha256).hexdigest() == signature


# ------------------------------------------------------------------------------------ Alertmanager
def test_alertmanager_nanoseconds_and_zero_end_time():
    first, second = parse("alertmanager-nanoseconds-real.json")
    for alert in (first, second):
        assert (alert.status, alert.alertname) == ("firing", "High CPU Temperature")
        assert alert.labels == {"alertname": "High CPU Temperature", "host": "andromeda", "severity": "critical"}
        assert alert.annotations["summary"] == "High CPU core temperature"
        assert alert.starts_at == "2020-02-06T00:17:58.432911368Z"  # all nine digits
        assert alert.ends_at is None  # 0001-01-01T00:00:00Z: still firing
        assert alert.source_url == ("http://cobalt:9090/graph?g0.expr=avg+by%28host%29+%28sensors_temp_input%7B"
                                    "feature%3D~%22core_%5B0-9%5D%2B%22%7D%29+%3E+15&g0.tab=1")
        assert (alert.action, alert.actor) == (None, None)
    assert (first.fingerprint, second.fingerprint) == ("a1bc48475b20e73d", "c2ea85182f28cbd9")


def test_alertmanager_offset_is_normalised_to_utc_keeping_the_digits():
    body = sample("alertmanager-offset-firing-captured.json")
    alerts = parse("alertmanager-offset-firing-captured.json")
    assert [a.starts_at for a in alerts] == [
        "2023-03-25T06:39:51.68943305Z", "2023-03-25T06:41:21.68943305Z", "2023-03-25T06:41:06.68943305Z"]
    for raw, alert in zip(body["alerts"], alerts, strict=True):
        assert raw["startsAt"].endswith("+08:00") and same_instant(raw["startsAt"], alert.starts_at)
        assert (alert.status, alert.alertname) == ("firing", "主机CPU使用率")
        assert alert.labels["severity"] == "exception" and alert.labels["instance"] == raw["labels"]["instance"]
        assert alert.ends_at is None
        assert alert.fingerprint == raw["fingerprint"]
        assert alert.source_url is not None and alert.source_url.endswith("+%3E+95&g0.tab=1")  # Go's \u0026 read


def test_alertmanager_resolved_with_offset_end_time():
    [alert] = parse("alertmanager-offset-resolved-captured.json")
    assert (alert.status, alert.alertname) == ("resolved", "Grafana进程存活")
    assert alert.labels["job"] == "grafana"
    assert alert.starts_at == "2023-03-25T07:24:36.039625135Z"
    assert alert.ends_at == "2023-03-25T07:27:51.039625135Z"
    assert alert.source_url == "http://k8s-node1:9090/graph?g0.expr=up%7Bjob%3D%22grafana%22%7D+%21%3D+1&g0.tab=1"
    assert alert.fingerprint == "20453f227ff62f33"


# ----------------------------------------------------------------------------------------- Grafana
def test_grafana_firing_and_resolved():
    [firing] = parse("grafana-firing-real.json")
    [resolved] = parse("grafana-resolved-real.json")
    for alert in (firing, resolved):
        assert alert.alertname == "Test alert" and alert.labels == {"alertname": "Test alert", "test": "true"}
        assert alert.starts_at == "2022-06-17T00:41:00.782137894Z"
        assert alert.source_url == "https://grafana.example.com/alerting/grafana/zTjxv_C7k/view"
        assert alert.fingerprint == "d8a21484c9c25a60"
        assert alert.annotations["description"] == "This is a description"
    assert (firing.status, firing.ends_at) == ("firing", None)
    assert (resolved.status, resolved.ends_at) == ("resolved", "2022-06-17T00:51:24.067337833Z")


def test_grafana_cloud_test_notification():
    [alert] = parse("grafana-cloud-resolved-real.json")
    assert (alert.status, alert.alertname) == ("resolved", "TestAlert")
    assert alert.labels == {"alertname": "TestAlert", "instance": "Grafana"}
    assert alert.starts_at == "2022-08-31T05:54:04.52289368Z"  # eight digits, as sent
    assert alert.ends_at == "2022-08-31T10:30:00.52288431Z"
    assert alert.source_url is None  # "generatorURL": "" is no URL
    assert alert.fingerprint == "57c6d9296de2ad39"


# --------------------------------------------------------------------------------------- PagerDuty
PD_URL = "https://aldaviva.pagerduty.com/incidents/Q2CKYRLH85UNN4"


def test_pagerduty_triggered():
    [alert] = parse("pagerduty-triggered-signed-captured.json")
    assert (alert.status, alert.alertname, alert.action, alert.actor) == ("firing", "Test", None, None)
    assert alert.labels["service"] == "Webhook Tester" and alert.labels["urgency"] == "low"
    assert alert.labels["incident_key"] == "dfead9d88e0649e8b7dee514b1875756"
    assert alert.labels["escalation_policy"] == "Notify Ben and Dad"
    assert alert.fingerprint == "Q2CKYRLH85UNN4"
    assert (alert.starts_at, alert.ends_at, alert.source_url) == ("2025-04-07T03:47:13Z", None, PD_URL)


def test_pagerduty_acknowledged_by_a_user_names_them():
    [alert] = parse("pagerduty-acknowledged-signed-captured.json")
    assert (alert.status, alert.action, alert.actor) == ("firing", "acknowledge", "Ben")
    assert (alert.starts_at, alert.source_url) == ("2025-04-07T03:47:13Z", PD_URL)


def test_pagerduty_resolved_by_a_user_names_them():
    [alert] = parse("pagerduty-resolved-signed-captured.json")
    assert (alert.status, alert.alertname, alert.action, alert.actor) == ("resolved", "Test", "resolved", "Ben")
    assert alert.starts_at == "2025-04-07T03:47:13Z"  # the incident's created_at
    assert alert.ends_at == "2025-04-07T03:49:36.358Z"  # when it was resolved (occurred_at)
    assert alert.source_url == PD_URL


def test_pagerduty_note_is_no_alert():
    assert parse("pagerduty-annotated-signed-captured.json") == []


def test_pagerduty_2021_resolved_without_created_at():
    [alert] = parse("pagerduty-resolved-real.json")
    assert (alert.status, alert.alertname, alert.action, alert.actor) == ("resolved", "Test Incident", "resolved",
                                                                          "PIG 208")
    assert alert.labels["service"] == "pig208" and "incident_key" not in alert.labels
    assert alert.ends_at == "2021-06-04T13:16:53.816Z"
    assert alert.starts_at is None  # no created_at, and a resolve's occurred_at is not the incident's start
    assert alert.source_url == "https://pig208.pagerduty.com/incidents/PCPZE64"


# ---------------------------------------------------------------------------------------- Opsgenie
def test_opsgenie_numeric_priority_becomes_p3():
    [alert] = parse("opsgenie-create-numeric-priority-real.json")
    assert sample("opsgenie-create-numeric-priority-real.json")["alert"]["priority"] == 3
    assert (alert.status, alert.alertname, alert.action, alert.actor) == ("firing", "another alert", None, None)
    assert alert.labels["priority"] == "P3"
    assert alert.labels["tag_vip"] == "true" and alert.labels["entity"] == "Server"
    assert alert.labels["alias"] == "alert-alias" and alert.labels["tiny_id"] == "2"
    assert alert.labels["opsgenie_action"] == "Create"
    assert alert.starts_at == "2017-08-14T11:25:56.288Z"  # createdAt 1502709956288 (ms)
    assert (alert.ends_at, alert.source_url) == (None, None)


def test_an_opsgenie_action_without_a_message_is_journaled_with_no_alert():
    """A real Opsgenie Escalate delivery (zulip/zulip zerver/webhooks/opsgenie/fixtures/escalate.json, commit
    038a928aee25e40794e5ef92418f3aaebd7c5750, all its fields) has an ``alert`` of only ``alertId``: accepted (it
    used to be refused as malformed), no alert; a Create without a message is still refused."""
    body = {"escalationId": "51859f57-7fad-467b-ad79-59acbc69cb6a", "headers": {"foo": "bar"},
            "integrationName": "Webhook_Test",
            "escalationNotify": {"name": "test@ifountain.com", "id": "64818849-71d6-40ce-87c6-ed5e588702fd",
                                 "type": "default", "entity": "user"},
            "integrationId": "868be72a-8015-432e-8b23-c1f7f4374baa", "escalationName": "test_esc",
            "alert": {"alertId": "7ba97e3a-d328-4b5e-8f9a-39e945a3869a"}, "escalationTime": 0,
            "action": "Escalate", "repeatCount": 0}
    assert PARSERS["opsgenie"](body) == []
    with pytest.raises(PayloadError, match=r"^alert\.message: "):
        PARSERS["opsgenie"]({**body, "action": "Create"})


def test_an_opsgenie_integrations_action_is_no_persons():
    """Integration actions come named after the integration (``"username": "Zabbix"``) with an empty ``userId``:
    the close is kept, nobody's."""
    body = sample("opsgenie-create-numeric-priority-real.json")
    body["action"] = "Close"
    body["alert"].update(username="Zabbix", userId="")
    [alert] = PARSERS["opsgenie"](body)
    assert (alert.status, alert.action, alert.actor) == ("resolved", "resolved", None)


def test_an_opsgenie_close_ends_the_alert_at_its_updated_at_in_nanoseconds():
    """Opsgenie's ``updatedAt`` is nanoseconds since the epoch (the documentation's sample: 1420452193166002000, its
    ``createdAt`` 1420452191104 ms; a real delivery: 1502709956288000110): a Close or Delete ends the alert then, every
    digit kept in UTC; a firing action has no end, and an end that is not an integer is left unset."""
    [closed] = parse("opsgenie-close.json")
    assert sample("opsgenie-close.json")["alert"]["updatedAt"] == 1795860031702000000
    assert (closed.status, closed.action) == ("resolved", "resolved")
    assert (closed.starts_at, closed.ends_at) == ("2026-11-28T10:00:06.081Z", "2026-11-28T10:00:31.702000000Z")
    assert epoch_ns(closed.ends_at) == 1795860031702000000
    real = sample("opsgenie-create-numeric-priority-real.json")
    for action in ("Close", "Delete"):
        [alert] = PARSERS["opsgenie"]({**real, "action": action})
        assert (alert.status, alert.ends_at) == ("resolved", "2017-08-14T11:25:56.288000110Z")  # ...000110: kept
        assert epoch_ns(alert.ends_at) == real["alert"]["updatedAt"]
    docs = sample("opsgenie-create-docs.json")
    [alert] = PARSERS["opsgenie"]({**docs, "action": "Close"})
    assert (alert.starts_at, alert.ends_at) == ("2015-01-05T10:03:11.104Z", "2015-01-05T10:03:13.166002000Z")
    assert [a.ends_at for a in parse("opsgenie-acknowledge.json") + parse("opsgenie-create.json")] == [None, None]
    for bad in (None, "1795860031702000000", 1.795860031702e18, True, 0, -5, 10**30):
        [alert] = PARSERS["opsgenie"]({**real, "action": "Close", "alert": {**real["alert"], "updatedAt": bad}})
        assert (alert.status, alert.ends_at) == ("resolved", None), bad
