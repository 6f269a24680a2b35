"""One rule for people's names (gameday.model.names), used everywhere a name comes in: the control
room, responder files, ``gameday act --as``/PERSON, and the webhook intake's actors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from gameday.adapters.alerts import PayloadError
from gameday.adapters.formats import ACTOR_REFUSED, parse_generic, parse_opsgenie, parse_pagerduty
from gameday.analysis.timeline import MACHINE_SOURCES
from gameday.drill.responders import check_script
from gameday.errors import InputError
from gameday.model.names import MAX_NAME, RESERVED_NAMES, NameRefused, check_name, is_reserved, name_problem
from gameday.model.scenario import Scenario
from gameday.web.client import build_request

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
BAD_NAMES = [
    ("", "empty"), ("   ", "empty"), ("a\x1b[2Jb", "<U+001B>"), ("a\x00b", "<U+0000>"), ("\u202eecila", "<U+202E>"),
    ("al\u2066ice", "<U+2066>"), ("al\u200bice", "<U+200B>"), ("a\udcffb", "<U+DCFF>"), ("x" * (MAX_NAME + 1), "at most"),
    ("automation", "reserved"), ("Webhook", "reserved"), ("ＣＯＮＤＵＣＴＯＲ", "reserved"), (" facilitator ", "reserved"),
    ("pagerduty", "reserved"), ("script", "reserved"), ("recover", "reserved"),
]  # fmt: skip


@pytest.mark.parametrize("name, why", BAD_NAMES)
def test_bad_names_are_refused_saying_why(name, why):
    with pytest.raises(NameRefused) as refused:
        check_name(name)
    message = str(refused.value)
    assert why in message and message.isprintable(), message
    assert name_problem(name) == message


@pytest.mark.parametrize("name, kept", [
    ("alice", "alice"), ("  Bob   Smith ", "Bob Smith"), ("[/]", "[/]"), ("[link=http://x]y[/link]", "[link=http://x]y[/link]"),
    ("<b>eve</b>", "<b>eve</b>"), ("Zoë Ñúñez", "Zoë Ñúñez"), ("李雷", "李雷"), ("x" * MAX_NAME, "x" * MAX_NAME),
    ("\U0001f468\u200d\U0001f469", "\U0001f468\u200d\U0001f469"), ("automation-team", "automation-team"),
])  # fmt: skip
def test_good_names_are_kept_trimmed(name, kept):
    assert check_name(name) == kept and name_problem(name) is None


def test_every_machine_source_of_the_journal_is_reserved():
    assert MACHINE_SOURCES <= RESERVED_NAMES
    assert {"facilitator", "script", "generic", "opsgenie", "alertmanager", "grafana"} <= RESERVED_NAMES
    assert is_reserved("Automation") and not is_reserved("alice")


def test_non_text_is_refused():
    with pytest.raises(NameRefused, match="text"):
        check_name(42)


# ------------------------------------------------------------------ responder files
def _scenario() -> Scenario:
    return Scenario.model_validate(yaml.safe_load((FIXTURES / "conductor" / "basic.yaml").read_text()))


@pytest.mark.parametrize("yaml_text, where, why", [
    ('people: {"a\\u202eb": incident-commander}\n', "people", "<U+202E>"),
    ("people: {Conductor: incident-commander}\n", "people", "reserved"),
    ('actions:\n  - {as: "x\\e[2J", action: acknowledge}\n', "actions[0].as", "<U+001B>"),
    ("actions:\n  - {as: alice, action: assign_role, role: tech-lead, to: NOTIFIER}\n", "actions[0].to", "reserved"),
])  # fmt: skip
def test_responder_files_follow_the_rule(tmp_path, yaml_text, where, why):
    path = tmp_path / "r.yaml"
    path.write_text(yaml_text)
    problems = [str(p) for p in check_script(path, _scenario())]
    assert len(problems) == 1 and where in problems[0] and why in problems[0], problems
    message = problems[0].rsplit(": ", 1)[1]  # (the located path quotes the key as written: yamlio's part)
    assert message.isprintable(), message


# ------------------------------------------------------------------ gameday act
@pytest.mark.parametrize("action, args, as_", [
    ("ack", [], "automation"), ("note", ["hi"], "a\u202eb"), ("invite", ["conductor"], None),
    ("assign_role", ["x\x1by", "tech-lead"], None), ("revoke", ["webhook"], None),
])  # fmt: skip
def test_act_refuses_bad_names_before_sending(action, args, as_):
    with pytest.raises(InputError, match=r"^(--as|PERSON): "):
        build_request(action, args, as_=as_, role=None)


def test_act_sends_the_trimmed_name():
    assert build_request("ack", [], as_="  alice  ", role=None)[2] == {"as": "alice"}
    assert build_request("invite", [" Bob  Smith "], as_=None, role=None)[2] == {"person": "Bob Smith"}


def test_act_refuses_arguments_that_are_not_utf8():
    bad = b"caf\xe9".decode("utf-8", "surrogateescape")  # what Python makes of a Latin-1 argv
    with pytest.raises(InputError, match=r"argument 1 of note is not valid UTF-8 \(byte 0xe9 at position 4\)"):
        build_request("note", [bad], as_=None, role=None)
    with pytest.raises(InputError, match=r"--role is not valid UTF-8"):
        build_request("ack", [], as_=None, role=bad)


# ------------------------------------------------------------------ the webhook intake's actors
def _sample(name: str):
    return json.loads((FIXTURES / "webhooks" / name).read_text())


@pytest.mark.parametrize("actor, why", [("automation", "reserved"), ("a\u202eb", "<U+202E>"), ("x" * 61, "at most")])
def test_a_generic_delivery_with_a_bad_actor_is_refused_naming_the_field(actor, why):
    with pytest.raises(PayloadError, match=r"^body\.actor: ") as refused:
        parse_generic({"name": "X", "action": "acknowledge", "actor": actor})
    assert why in str(refused.value)
    with pytest.raises(PayloadError, match=r"alerts\[1\]\.actor"):
        parse_generic({"alerts": [{"name": "X"}, {"name": "Y", "action": "resolved", "actor": "webhook"}]})


def test_a_generic_actor_is_trimmed():
    [alert] = parse_generic({"name": "X", "action": "acknowledge", "actor": " alice  smith "})
    assert alert.actor == "alice smith"


@pytest.mark.parametrize("bad", ["automation", "a\u202eb", "al\x1b[2Jice"])
def test_a_vendor_action_by_a_bad_name_keeps_the_alert_and_names_no_person(bad):
    body = _sample("pagerduty-incident-acknowledged.json")
    body["event"]["agent"]["summary"] = bad
    [alert] = parse_pagerduty(body)
    assert (alert.status, alert.action, alert.actor) == ("firing", "acknowledge", None)  # recorded as 'pagerduty'
    assert alert.alertname == "Checkout requests are failing" and alert.labels[ACTOR_REFUSED]
    assert alert.labels[ACTOR_REFUSED].isprintable()
    og = _sample("opsgenie-acknowledge.json")
    og["alert"]["username"] = bad
    [alert] = parse_opsgenie(og)
    assert (alert.action, alert.actor) == ("acknowledge", None) and ACTOR_REFUSED in alert.labels


def test_a_vendor_action_by_a_good_name_keeps_it():
    [alert] = parse_pagerduty(_sample("pagerduty-incident-acknowledged.json"))
    assert alert.actor == "alice" and ACTOR_REFUSED not in alert.labels
