"""Every webhook adapter on its vendor's sample payload (tests/fixtures/webhooks/), and matching."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gameday.adapters.alerts import PayloadError, parse_alertmanager
from gameday.adapters.formats import parse_generic, parse_grafana, parse_opsgenie, parse_pagerduty
from gameday.adapters.webhooks import PARSERS
from gameday.model.alerts import Alert, first_signal, matches
from gameday.model.scenario import AlertMatcher, Signal

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "webhooks"


def sample(name: str):
    return json.loads((FIXTURES / name).read_text())


def test_every_format_is_registered_at_the_intake():
    assert set(PARSERS) == {"alertmanager", "grafana", "pagerduty", "opsgenie", "generic"}


def test_every_fixture_parses_with_its_adapter():
    by_prefix = {"alertmanager": parse_alertmanager, "grafana": parse_grafana, "pagerduty": parse_pagerduty,
                 "opsgenie": parse_opsgenie, "generic": parse_generic}
    files = sorted(FIXTURES.glob("*.json"))
    assert len(files) >= 10
    for path in files:
        parser = by_prefix[path.name.split("-")[0].removesuffix(".json")]
        alerts = parser(json.loads(path.read_text()))
        assert all(isinstance(a, Alert) and a.status in ("firing", "resolved") for a in alerts), path.name


# ------------------------------------------------------------------------------ Alertmanager
def test_alertmanager_v4_sample():
    [alert] = parse_alertmanager(sample("alertmanager-v4.json"))
    assert alert.status == "firing"
    assert alert.alertname == "CheckoutErrorsHigh"
    assert alert.labels["severity"] == "critical"
    assert alert.starts_at == "2026-11-28T10:00:05.123Z"
    assert alert.fingerprint == "4e7a0b8c2f1d9e35"
    assert alert.action is None


# ----------------------------------------------------------------------------------- Grafana
def test_grafana_sample_firing_and_resolved():
    firing, resolved = parse_grafana(sample("grafana.json"))
    assert (firing.status, firing.alertname) == ("firing", "Checkout latency high")
    assert firing.labels == {"alertname": "Checkout latency high", "team": "shop", "zone": "eu-1"}
    assert firing.annotations["runbook_url"].startswith("https://")
    assert firing.starts_at == "2026-11-28T09:00:07.157076Z"  # sent at +01:00: journaled in UTC
    assert (resolved.status, resolved.alertname) == ("resolved", "Catalog cache cold")


def test_grafana_shape_errors_name_the_field():
    body = sample("grafana.json")
    body["alerts"][1]["status"] = "pending"
    with pytest.raises(PayloadError, match=r"alerts\[1\]\.status"):
        parse_grafana(body)


# --------------------------------------------------------------------------------- PagerDuty
def test_pagerduty_triggered_is_a_firing_alert_without_action():
    [alert] = parse_pagerduty(sample("pagerduty-incident-triggered.json"))
    assert alert.status == "firing"
    assert alert.alertname == "Checkout requests are failing"
    assert alert.labels["service"] == "Checkout API"
    assert alert.labels["urgency"] == "high"
    assert alert.labels["priority"] == "P1"
    assert alert.labels["event_type"] == "incident.triggered"
    assert alert.labels["incident_number"] == "4211"
    assert alert.labels["teams"] == "Shop"
    assert alert.labels["source"] == "pagerduty"
    assert alert.starts_at == "2026-11-28T10:00:06Z"
    assert alert.fingerprint == "Q1SHOPX7"
    assert alert.action is None and alert.actor is None


def test_pagerduty_acknowledged_carries_the_acknowledge_action_and_its_agent():
    [alert] = parse_pagerduty(sample("pagerduty-incident-acknowledged.json"))
    assert (alert.status, alert.action, alert.actor) == ("firing", "acknowledge", "alice")


def test_pagerduty_resolved_is_resolved_with_the_resolve_action():
    [alert] = parse_pagerduty(sample("pagerduty-incident-resolved.json"))
    assert (alert.status, alert.action, alert.actor) == ("resolved", "resolved", "alice")


def test_pagerduty_note_carries_no_alert():
    assert parse_pagerduty(sample("pagerduty-incident-annotated.json")) == []


def test_pagerduty_action_by_the_service_has_no_person():
    body = sample("pagerduty-incident-resolved.json")
    body["event"]["agent"] = {"id": "PSHOP01", "summary": "Checkout API", "type": "service_reference"}
    [alert] = parse_pagerduty(body)
    assert alert.action == "resolved" and alert.actor is None  # the conductor then names the format


@pytest.mark.parametrize("body, where", [
    ({}, "event"),
    ({"event": {}}, "event.event_type"),
    ({"event": {"event_type": "incident.triggered"}}, "event.data"),
    ({"event": {"event_type": "incident.triggered", "data": {"type": "incident"}}}, "event.data.title"),
    ([1, 2], "body"),
])
def test_pagerduty_shape_errors_name_the_field(body, where):
    with pytest.raises(PayloadError, match=where.replace(".", r"\.")):
        parse_pagerduty(body)


# ---------------------------------------------------------------------------------- Opsgenie
def test_opsgenie_create():
    [alert] = parse_opsgenie(sample("opsgenie-create.json"))
    assert alert.status == "firing"
    assert alert.alertname == "Checkout requests are failing"
    assert alert.labels["priority"] == "P1"
    assert alert.labels["entity"] == "checkout"
    assert alert.labels["alias"] == "checkout-errors-high"
    assert alert.labels["tags"] == "checkout,sev1"
    assert alert.labels["tag_sev1"] == "true"
    assert alert.labels["service"] == "checkout"  # from alert.details
    assert alert.labels["opsgenie_action"] == "Create"
    assert alert.annotations["description"].startswith("87.5%")
    assert alert.starts_at is not None and alert.starts_at.endswith("Z")
    assert alert.action is None


def test_opsgenie_acknowledge_and_close_are_responder_actions():
    [ack] = parse_opsgenie(sample("opsgenie-acknowledge.json"))
    [close] = parse_opsgenie(sample("opsgenie-close.json"))
    assert (ack.status, ack.action, ack.actor) == ("firing", "acknowledge", "alice@shop.example")
    assert (close.status, close.action, close.actor) == ("resolved", "resolved", "alice@shop.example")


def test_opsgenie_other_actions_are_firing_without_action():
    body = sample("opsgenie-acknowledge.json")
    body["action"] = "AddNote"
    [alert] = parse_opsgenie(body)
    assert (alert.status, alert.action) == ("firing", None)


@pytest.mark.parametrize("mutate, where", [
    (lambda b: b.pop("action"), "action"),
    (lambda b: b.pop("alert"), "alert"),
    (lambda b: b["alert"].pop("message"), "alert.message"),
    (lambda b: b["alert"].update(tags="x"), "alert.tags"),
    (lambda b: b["alert"].update(details={"a": {"nested": 1}}), "alert.details.a"),
])
def test_opsgenie_shape_errors_name_the_field(mutate, where):
    body = sample("opsgenie-create.json")
    mutate(body)
    with pytest.raises(PayloadError, match=where.replace(".", r"\.")):
        parse_opsgenie(body)


# ----------------------------------------------------------------------------------- generic
def test_generic_single():
    [alert] = parse_generic(sample("generic-single.json"))
    assert alert.status == "firing"
    assert alert.labels == {"alertname": "CatalogErrors", "service": "catalog", "severity": "page", "env": "drill"}
    assert alert.annotations == {"summary": "Product pages answer 500"}
    assert (alert.starts_at, alert.fingerprint) == ("2026-11-28T10:00:06Z", "catalog-errors-1")


def test_generic_list_with_an_action():
    resolved, ack = parse_generic(sample("generic-list.json"))
    assert (resolved.status, resolved.alertname, resolved.action) == ("resolved", "CatalogErrors", None)
    assert (ack.status, ack.action, ack.actor) == ("firing", "acknowledge", "alice")


def test_generic_scalars_become_strings():
    [alert] = parse_generic({"labels": {"alertname": "X", "shard": 3, "canary": True, "none": None}})
    assert alert.labels == {"alertname": "X", "shard": "3", "canary": "true", "none": ""}


@pytest.mark.parametrize("body, where", [
    ({}, "needs 'name'"),
    ({"name": ""}, r"body\.name"),
    ({"name": "X", "status": "pending"}, r"body\.status"),
    ({"name": "X", "action": "runbook", "actor": "a"}, r"body\.action"),  # a webhook never starts automation
    ({"name": "X", "action": "acknowledge"}, r"body\.actor"),
    ({"name": "X", "labels": {"a": [1]}}, r"body\.labels\.a"),
    ({"name": "X", "sevrity": "page"}, "unknown field"),
    ({"alerts": {}}, "alerts: expected a list"),
    ({"alerts": [{"name": "X"}, 3]}, r"alerts\[1\]"),
    ("text", "body"),
])
def test_generic_shape_errors_name_the_field(body, where):
    with pytest.raises(PayloadError, match=where):
        parse_generic(body)


# ---------------------------------------------------------------------------------- matching
def signal(**matcher) -> Signal:
    return Signal(alert=AlertMatcher(**matcher))


@pytest.mark.parametrize("matcher, expected", [
    ({"alertname": "Checkout requests are failing"}, True),
    ({"alertname": "~Checkout .*"}, True),
    ({"alertname": "~Checkout"}, False),  # regexes match fully
    ({"labels": {"service": "Checkout API", "urgency": "high"}}, True),
    ({"labels": {"urgency": "~high|critical"}}, True),
    ({"labels": {"urgency": "low"}}, False),
    ({"labels": {"missing": "~.*"}}, False),
    ({"alertname": "~.*", "status": "resolved"}, False),
    ({"alertname": "~.*", "status": "any"}, True),
])
def test_matching_on_a_pagerduty_alert(matcher, expected):
    [alert] = parse_pagerduty(sample("pagerduty-incident-triggered.json"))
    assert matches(AlertMatcher(**matcher), alert) is expected


def test_resolved_alerts_match_resolved_signals_only():
    _, resolved = parse_grafana(sample("grafana.json"))
    assert first_signal([signal(alertname="Catalog cache cold")], resolved) is None
    assert first_signal([signal(alertname="Catalog cache cold", status="resolved")], resolved) is not None


# ------------------------------------------------------------------ what real payloads broke (issue 16)
def test_the_vendors_own_opsgenie_sample_matches_a_plain_name_signal():
    [alert] = parse_opsgenie(sample("opsgenie-create-docs.json"))
    assert alert.alertname == " test alert"  # journaled as sent
    assert matches(AlertMatcher(alertname="test alert"), alert)  # compared as a person reads it
    assert matches(AlertMatcher(alertname="test  alert "), alert)
    assert not matches(AlertMatcher(alertname="test"), alert)
    assert matches(AlertMatcher(alertname="~test.*"), alert)  # a regex sees the name trimmed too
    assert "priority" not in alert.labels and "entity" not in alert.labels  # absent or empty: no label


@pytest.mark.parametrize(("sent", "label"), [
    ("P3", "P3"), (3, "P3"), (1.0, "P1"), ("3", "P3"), (" p2 ", "P2"), ("P5", "P5"),
    (7, "7"), ("urgent", "urgent"), (True, None), ({"p": 1}, None), ("", None),
])
def test_opsgenie_priority_as_text_or_number(sent, label):
    body = sample("opsgenie-create.json")
    body["alert"]["priority"] = sent  # real deliveries send a number (3) as often as the documented "P3"
    [alert] = parse_opsgenie(body)
    assert alert.labels.get("priority") == label
    if label == "P3":
        assert matches(AlertMatcher(alertname="Checkout requests are failing", labels={"priority": "P3"}), alert)


def test_opsgenie_details_named_like_the_alerts_own_fields_are_kept_beside_them():
    body = sample("opsgenie-create.json")
    body["alert"]["details"] = {"source": "from-details", "alertname": "Other", "region": "eu", "tag_checkout": "x"}
    [alert] = parse_opsgenie(body)
    assert alert.labels["source"] == "prometheus" and alert.labels["detail_source"] == "from-details"
    assert alert.alertname == "Checkout requests are failing" and alert.labels["detail_alertname"] == "Other"
    assert alert.labels["tag_checkout"] == "true" and alert.labels["detail_tag_checkout"] == "x"
    assert alert.labels["region"] == "eu"  # no collision: as before


def test_grafana_datasource_alerts_match_their_rules_title():
    body = sample("grafana.json")
    body["alerts"] = [{**body["alerts"][0], "labels": {"alertname": "DatasourceNoData", "rulename": "Checkout errors high",
                                                      "grafana_folder": "shop"}}]
    [alert] = parse_grafana(body)
    assert matches(AlertMatcher(alertname="Checkout errors high"), alert)
    assert matches(AlertMatcher(alertname="DatasourceNoData"), alert)
    other = Alert("firing", {"alertname": "CheckoutDown", "rulename": "Checkout errors high"})
    assert not matches(AlertMatcher(alertname="Checkout errors high"), other)  # only Grafana's two state alerts


def test_an_opsgenie_system_action_has_no_person():
    body = sample("opsgenie-close.json")
    body["alert"]["username"] = "System"  # an integration's or a policy's close
    [alert] = parse_opsgenie(body)
    assert (alert.status, alert.action, alert.actor) == ("resolved", "resolved", None)
    [by_user] = parse_opsgenie(sample("opsgenie-close.json"))
    assert by_user.actor is not None and by_user.actor.casefold() != "system"


def test_name_matching_keeps_what_matched_before():
    spaced = Alert("firing", {"alertname": " test  alert", "job": "x"})
    assert matches(AlertMatcher(alertname="~ test.*"), spaced)  # a regex written for the raw name still fits
    assert matches(AlertMatcher(alertname="~test alert"), spaced)  # and one for the name as read
    assert matches(AlertMatcher(labels={"alertname": "test alert"}), spaced)  # the label form is a name too
    both = AlertMatcher(alertname="test alert", labels={"alertname": "Other"})
    assert matches(both, spaced)  # alertname: wins over a label of that name, as it always did


def test_a_huge_number_as_opsgenie_priority_is_text_not_an_error():
    body = sample("opsgenie-create.json")
    body["alert"]["priority"] = 10**400
    [alert] = parse_opsgenie(body)
    assert alert.labels["priority"] == str(10**400)
