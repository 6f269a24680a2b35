"""Fuzzing the control room's HTTP API (``gameday/web/api.py``) against a live drill, in-process.

Invariants (the module docstring of ``gameday/web/api.py``):

* every answer is one of the documented statuses (200/201/202, 400, 401, 403, 404, 409, 413, 415,
  421, 422): never a 500, whatever the body, its type, its encoding or its size;
* an error answer is JSON with an ``error`` message; a recorded action's ``seq`` is a journal event;
* the journal stays strict JSON Lines of typed events;
* the page state stays JSON, and ``gameday status``'s text of it is terminal-safe (for the
  facilitator and for a responder);
* staged lobby input never breaks the drill's start; the drill still ends and writes every report.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import (
    assert_jsonl_lines,
    assert_reports_written,
    assert_terminal_safe,
    budget,
    hostile_text,
    json_values,
    raw_bodies,
    strict_json,
    to_json,
)

from gameday.web.client import format_status

DOCUMENTED = {200, 201, 202, 400, 401, 403, 404, 409, 413, 415, 421, 422}
RESPONDER = "fuzz-ic"

#: route -> the fields of its body (None: no body)
ROUTES: dict[tuple[str, str], tuple[str, ...] | None] = {
    ("POST", "/api/actions/acknowledge"): ("as", "role"),
    ("POST", "/api/actions/declare_incident"): ("as", "role", "severity"),
    ("POST", "/api/actions/set_severity"): ("as", "role", "severity"),
    ("POST", "/api/actions/mark_detected"): ("as", "role"),
    ("POST", "/api/actions/post_update"): ("as", "role", "audience", "text"),
    ("POST", "/api/actions/notify_executives"): ("as", "role", "text"),
    ("POST", "/api/actions/note"): ("as", "role", "text"),
    ("POST", "/api/actions/resolved"): ("as", "role"),
    ("POST", "/api/actions/runbook"): ("as", "role", "runbook"),
    ("POST", "/api/actions/assign_role"): ("as", "person", "role"),
    ("POST", "/api/responders"): ("person", "role"),
    ("POST", "/api/drill/pause"): None,
    ("POST", "/api/drill/resume"): None,
    ("POST", "/api/session"): None,
    ("DELETE", "/api/session"): None,
    ("GET", "/api/state"): None,
    ("GET", "/api/me"): None,
}
#: routes with a part of the path from the caller
TEMPLATED = [("POST", "/api/faults/{}/inject"), ("POST", "/api/faults/{}/skip"), ("DELETE", "/api/responders/{}"),
             ("GET", "/api/drafts/{}")]
GOOD = {"as": [RESPONDER, "alice", "erin"], "role": ["incident-commander", "tech-lead", "comms-lead"],
        "severity": ["SEV1", "SEV2", "SEV4"], "audience": ["external", "internal", "executive"],
        "text": ["Checkout is failing; we are on it."], "runbook": ["failover"], "person": ["bob", "dana"]}


def field_values(name: str) -> st.SearchStrategy[Any]:
    """A value for one body field: a good one, hostile text, or any JSON value (wrong types, raw tokens)."""
    return st.one_of(st.sampled_from(GOOD[name]), hostile_text(max_size=30), json_values(max_leaves=3))


@st.composite
def bodies(draw: st.DrawFn, fields: tuple[str, ...] | None) -> bytes | None:
    if fields is None:
        return draw(st.one_of(st.none(), st.just(b"{}"), raw_bodies()))
    shaped = st.fixed_dictionaries({}, optional={f: field_values(f) for f in fields}).flatmap(
        lambda body: st.one_of(st.just(body), st.dictionaries(hostile_text(max_size=8, long=False), json_values(max_leaves=2),
                                                              max_size=2).map(lambda extra: {**extra, **body})))
    return draw(st.one_of(shaped.map(lambda b: to_json(b).encode()), shaped.map(lambda b: to_json(b).encode()), raw_bodies()))


TOKEN_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=300)


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, str, bytes | None, str, str]:
    """(method, path, body, content type, who): who is facilitator | responder | none | a bad token."""
    if draw(st.integers(0, 4)) == 0:
        method, template = draw(st.sampled_from(TEMPLATED))
        part = draw(st.one_of(st.sampled_from(["later", "kill-db", "nope", RESPONDER, "external"]),
                              hostile_text(max_size=40, long=False)))  # a URL stays under the client's 64 KiB
        path, body = template.format(quote(part, safe="", errors="surrogateescape")), draw(bodies(None))
    else:
        (method, path), fields = draw(st.sampled_from(sorted(ROUTES.items())))
        body = draw(bodies(fields))
    ctype = draw(st.sampled_from(["application/json"] * 4 + ["text/plain", "", "application/json; charset=utf-8"]))
    who = draw(st.sampled_from(["facilitator", "facilitator", "responder", "responder", "none", "bad"]))
    if who == "bad":
        who = "bad:" + draw(TOKEN_TEXT)
    return method, path, body, ctype, who


class Room:
    """The live drill's control room through Starlette's TestClient (in-process, the real app)."""

    def __init__(self, drill):
        from starlette.testclient import TestClient

        self.drill = drill
        self.client = TestClient(drill.app, base_url="http://127.0.0.1", raise_server_exceptions=True)
        self.tokens = {"facilitator": drill.facilitator}

    def call(self, method: str, path: str, body: bytes | None = None, ctype: str = "application/json",
             who: str = "facilitator"):
        headers = {"Content-Type": ctype} if ctype and body is not None else {}
        if who.startswith("bad:"):
            headers["Authorization"] = f"Bearer {who[4:]}"
        elif who != "none":
            headers["Authorization"] = f"Bearer {self.tokens[who]}"
        try:
            return self.client.request(method, path, content=body, headers=headers)
        except Exception as exc:
            raise AssertionError(f"500: {method} {path} raised {type(exc).__name__}: {str(exc)[:300]}") from exc

    def invite(self, person: str, role: str) -> str:
        resp = self.call("POST", "/api/responders", to_json({"person": person, "role": role}).encode())
        assert resp.status_code == 201, resp.text
        return resp.json()["token"]


def check_answer(room: Room, method: str, path: str, resp) -> None:
    assert resp.status_code in DOCUMENTED, f"{method} {path} answered {resp.status_code}: {resp.text[:300]}"
    if path == "/api/stream":
        return
    try:
        answer = strict_json(resp.content)
    except ValueError as exc:
        raise AssertionError(f"{method} {path} answered {resp.status_code} with a body that is not JSON ({exc}): "
                             f"{resp.content[:300]!r}") from None
    if resp.status_code >= 400:
        assert isinstance(answer, dict) and isinstance(answer.get("error"), str) and answer["error"], answer
    elif isinstance(answer, dict) and isinstance(answer.get("seq"), int):
        assert 0 <= answer["seq"] < len(room.drill.journal.events), answer


def check_state(room: Room, who: str) -> None:
    resp = room.call("GET", "/api/state", who=who)
    assert resp.status_code == 200, resp.text[:300]
    state = strict_json(resp.content)
    assert_terminal_safe(format_status(state, 1000), f"'gameday status' for the {who}")


@pytest.fixture(scope="module")
def room(live_drill):
    r = Room(live_drill)
    r.tokens["responder"] = r.invite(RESPONDER, "incident-commander")
    with r.client:
        yield r


@budget(45)
@given(request=requests())
def test_every_answer_is_documented_and_the_journal_stays_json_lines(room, request):
    method, path, body, ctype, who = request
    before = room.drill.journal_bytes()
    resp = room.call(method, path, body, ctype, who)
    check_answer(room, method, path, resp)
    if method == "DELETE" and resp.status_code == 200:  # the responder signed out or was revoked: a fresh link
        room.tokens["responder"] = room.invite(RESPONDER, "incident-commander")
    after = room.drill.journal_bytes()
    assert after.startswith(before), "the journal was rewritten, not appended to"
    assert_jsonl_lines(after[len(before):], "journal lines written for this request")
    check_state(room, "facilitator")
    check_state(room, "responder")


@budget(25)
@given(name=st.one_of(hostile_text(min_size=1, max_size=30, long=False), st.sampled_from(["ops/bob", "a/b/c", "..", "%2F",
                                                                                         "?x=1", "#frag", "a b", "ü/ß"])))
def test_a_person_the_room_invites_it_can_revoke(room, name):
    resp = room.call("POST", "/api/responders", to_json({"person": name}).encode())
    check_answer(room, "POST", "/api/responders", resp)
    if resp.status_code != 201:
        return
    person = resp.json()["person"]  # the name as the room keeps it (trimmed)
    # Quoted twice for Starlette's TestClient only: it decodes percent-escapes twice (httpx's URL.path is
    # already decoded, and the transport unquotes it again); a real server (uvicorn) decodes once, as
    # `gameday act revoke` and the page expect (checked over a real socket in test_hostile_json's style).
    gone = room.call("DELETE", f"/api/responders/{quote(quote(person, safe=''), safe='')}")
    assert gone.status_code == 200, f"{person!r} was invited but cannot be revoked: {gone.status_code} {gone.text[:200]}"


@pytest.mark.parametrize("route", ["/api/actions/note", "/api/actions/post_update", "/api/responders"])
@pytest.mark.parametrize("what", ["nested 10,000 deep", "an integer of 5,001 digits", "NaN", "a lone surrogate",
                                  "invalid UTF-8", "a NUL and ESC"])
def test_pathological_json_bodies_are_refused_or_taken_never_500(room, route, what):
    from strategies import HUGE_INT, deep

    body = {
        "nested 10,000 deep": ('{"text": ' + deep(10_000) + "}").encode(),
        "an integer of 5,001 digits": ('{"text": "x", "person": "p", "audience": "external", "as": ' + HUGE_INT + "}").encode(),
        "NaN": b'{"text": NaN, "person": Infinity, "audience": "external"}',
        "a lone surrogate": b'{"text": "x\\ud800y", "person": "p\\udfff", "audience": "external"}',
        "invalid UTF-8": b'{"text": "x\xff\xfey", "person": "p\xc3\x28", "audience": "external"}',
        "a NUL and ESC": b'{"text": "x\\u0000\\u001b[2Jy", "person": "p\\u202e", "audience": "external"}',
    }[what]
    before = room.drill.journal_bytes()
    resp = room.call("POST", route, body)
    check_answer(room, "POST", route, resp)
    assert resp.status_code != 500
    assert_jsonl_lines(room.drill.journal_bytes()[len(before):], "journal lines written for this request")
    check_state(room, "facilitator")


def test_aborting_with_a_hostile_reason_ends_the_drill_and_every_report_is_written(room, tmp_path):
    from gameday.model.events import DrillEnded

    reason = "[/]\x1b[31m\u202eabort\x00 <script>x</script> [link=https://evil.example/]x"
    resp = room.call("POST", "/api/drill/abort", to_json({"reason": reason}).encode())
    check_answer(room, "POST", "/api/drill/abort", resp)
    assert resp.status_code in (202, 422), resp.text  # 422: a reason with control characters may be refused
    if resp.status_code == 422:
        room.call("POST", "/api/drill/abort", to_json({"reason": "fuzzing over"}).encode())
    room.drill.wait_for(DrillEnded)
    check_state(room, "facilitator")
    room.drill.close()
    assert_jsonl_lines(room.drill.journal_bytes(), "the journal")
    assert_reports_written(room.drill.journal.path, tmp_path / "reports", mode="gameday")


# ------------------------------------------------------------------------------ the lobby


@pytest.fixture(scope="module")
def lobby(tmp_path_factory):
    from livedrill import LiveDrill

    drill = LiveDrill(tmp_path_factory.mktemp("lobby"))
    r = Room(drill)
    try:
        with r.client:
            yield r
    finally:
        drill.close()


LOBBY_ROUTES = [("POST", "/api/actions/assign_role", ("as", "person", "role")), ("POST", "/api/responders", ("person", "role")),
                ("POST", "/api/actions/note", ("as", "text"))]


@budget(25)
@given(route=st.sampled_from(LOBBY_ROUTES), data=st.data())
def test_lobby_input_is_answered_as_documented(lobby, route, data):
    method, path, fields = route
    body = data.draw(bodies(fields), label="body")
    resp = lobby.call(method, path, body)
    check_answer(lobby, method, path, resp)
    assert lobby.drill.journal_bytes() == b"", "nothing is journaled before the drill starts"


def test_what_the_lobby_staged_never_breaks_the_start(lobby):
    from gameday.model.events import FaultInjected

    lobby.call("POST", "/api/actions/assign_role", to_json({"person": "dana", "role": "comms-lead"}).encode())
    resp = lobby.call("POST", "/api/drill/start", b"{}")
    assert resp.status_code == 202, resp.text
    lobby.drill.wait_for(FaultInjected)  # the conductor got past the lobby's staged roles and joins
    assert_jsonl_lines(lobby.drill.journal_bytes(), "the journal")
    check_state(lobby, "facilitator")
