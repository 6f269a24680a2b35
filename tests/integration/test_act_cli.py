"""Responders without a browser: ``gameday act`` and ``gameday status`` against real drills of the
demo (``gameday run --mode gameday`` in a subprocess, its control room on loopback), the
start gate (SIGINT while waiting: exit 3, nothing injected), and the refused bind.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "run"))
from drillkit import SCENARIOS, assert_no_demo_left, gameday_argv, kinds, read_events, wait_for_event
from test_controlroom_browser import db_drill_copy  # the shipped drill, its fault sooner

from gameday.errors import ConfigError, InputError
from gameday.web.client import build_request, find_drill, format_status

pytestmark = pytest.mark.integration
DB = SCENARIOS / "checkout-db-primary-failure.yaml"


def act(ws, *args: str, env: dict | None = None, timeout: float = 20) -> subprocess.CompletedProcess:
    return subprocess.run(gameday_argv(*args), cwd=ws.cwd, env={**ws.env, **(env or {})}, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def start_drill(ws, *extra: str):
    proc = ws.spawn("run", str(db_drill_copy(ws.cwd)), "--out", "out", *extra)
    link = proc.wait_line("control room: ", timeout=40).split("control room: ", 1)[1].strip()
    proc.wait_line("waiting for the facilitator", timeout=10)
    return proc, link


def test_a_whole_drill_from_the_terminal(workspace):
    ws = workspace
    proc, link = start_drill(ws)
    journal = ws.cwd / "out" / "journal.jsonl"
    lobby = act(ws, "status", ".")
    assert lobby.returncode == 0 and "— lobby" in lobby.stdout, lobby
    invited = {}
    for person, role in (("alice", "incident-commander"), ("bob", "tech-lead")):
        r = act(ws, "act", ".", "invite", person, role)
        assert r.returncode == 0 and r.stdout.startswith(f"join link for {person}: http://127.0.0.1:"), r
        invited[person] = r.stdout.strip().split(": ", 1)[1]
    r = act(ws, "act", ".", "assign_role", "carol", "comms-lead")
    assert r.returncode == 0 and "staged" in r.stdout, r
    r = act(ws, "act", ".", "acknowledge", "--as", "alice")  # before the start
    assert r.returncode == 2 and "409" in r.stderr and "not started" in r.stderr, r
    assert read_events(journal) == []
    assert act(ws, "act", ".", "start").returncode == 0
    wait_for_event(journal, "DetectionRecorded", proc.proc, timeout=30)

    alice = invited["alice"]  # her join link is DRILL: its token is used
    assert act(ws, "act", alice, "acknowledge").returncode == 0
    r = act(ws, "act", alice, "declare", "SEV1")
    assert r.returncode == 0 and r.stdout.startswith("journaled #"), r
    bob_token = invited["bob"].split("#", 1)[1]
    url = link.split("/join", 1)[0]
    r = act(ws, "act", url, "runbook", "failover", env={"GAMEDAY_TOKEN": bob_token})
    assert r.returncode == 0, r
    r = act(ws, "act", ".", "post_update", "external", "Checkout", "is", "failing;", "we", "are", "failing", "over.",
            "--as", "carol")
    assert r.returncode == 0, r
    r = act(ws, "act", ".", "notify", "--draft", "--as", "carol")  # the executive template's draft, as is
    assert r.returncode == 0, r

    r = act(ws, "act", alice, "abort")  # a responder's token cannot abort
    assert r.returncode == 2 and "refused (403)" in r.stderr, r
    r = act(ws, "act", alice, "acknowledge", "--as", "bob")
    assert r.returncode == 2 and "belongs to alice" in r.stderr, r
    r = act(ws, "act", alice, "set_severity", "SEV9")
    assert r.returncode == 2 and "422" in r.stderr, r

    wait_for_event(journal, "RecoveryObserved", proc.proc, timeout=30)
    status = act(ws, "status", alice, "--lines", "40")
    assert status.returncode == 0, status
    assert "you: alice (incident-commander)" in status.stdout and "runbook failover: ok (by bob" in status.stdout
    assert "FaultInjected" not in status.stdout and "kill-primary" not in status.stdout  # hidden from responders
    facilitator = json.loads(act(ws, "status", ".", "--json").stdout)
    assert facilitator["expectations"]["severity"] == "SEV1"
    assert act(ws, "act", alice, "resolved").returncode == 0

    assert proc.wait(60) == 0, proc.output()
    events = read_events(journal)
    actions = [(e["data"]["action"], e["data"]["author"], e["data"]["role"]) for e in events if e["kind"] == "ActionRecorded"]
    assert {("acknowledge", "alice", "incident-commander"), ("declare_incident", "alice", "incident-commander"),
            ("runbook_started", "bob", "tech-lead"), ("runbook_finished", "bob", "tech-lead"),
            ("post_update", "carol", "comms-lead"), ("notify_executives", "carol", "comms-lead"),
            ("resolved", "alice", "incident-commander")} <= set(actions)
    card = json.loads((ws.cwd / "out" / "scorecard.json").read_text())
    assert card["passed"] is True, card["failures"]
    by_step = {s["id"]: (s["verdict"], s["author"]) for s in card["steps"]}
    assert by_step == {"acknowledge": ("on_time", "alice"), "declare": ("on_time", "alice"),
                       "severity": ("on_time", "alice"), "failover": ("on_time", "bob"),
                       "executives": ("on_time", "carol"), "status": ("on_time", "carol"),
                       "resolve": ("on_time", "alice")}
    notice = next(e for e in events if e["kind"] == "ActionRecorded" and e["data"]["action"] == "notify_executives")
    assert "Checkout" in notice["data"]["text"]
    joined = [e["data"]["person"] for e in events if e["kind"] == "ResponderJoined"]
    assert sorted(joined) == ["alice", "bob"]
    reports = [p for p in (ws.cwd / "out").iterdir() if p.suffix != ".png"]  # the timeline chart is an image
    text = journal.read_text() + "".join(p.read_text() for p in reports)
    for token in [link.split("#", 1)[1], bob_token, alice.split("#", 1)[1]]:
        assert token not in text  # never in the journal or the reports
    assert not list((ws.state_dir / "drills").glob("*"))  # the drill file is gone with the drill
    r = act(ws, "status", ".")
    assert r.returncode == 2 and "no running drill" in r.stderr
    r = act(ws, "act", url, "acknowledge", env={"GAMEDAY_TOKEN": bob_token})
    assert r.returncode == 3 and "cannot reach the control room" in r.stderr, r
    assert_no_demo_left(ws)


def test_sigint_while_waiting_for_the_start_exits_3_with_nothing_injected(workspace):
    ws = workspace
    proc, _ = start_drill(ws)
    drill_files = list((ws.state_dir / "drills").glob("*.json"))
    assert len(drill_files) == 1
    os.kill(proc.pid, signal.SIGINT)
    assert proc.wait(30) == 3, proc.output()
    events = read_events(ws.cwd / "out" / "journal.jsonl")
    assert "FaultInjected" not in kinds(events)
    assert kinds(events)[0] == "DrillStarted" and kinds(events)[-1] == "DrillEnded"
    assert events[-1]["data"]["outcome"] == "aborted" and "SIGINT" in events[-1]["data"]["reason"]
    assert ws.ledger_entries() == []
    assert not drill_files[0].exists()
    assert_no_demo_left(ws)


def test_a_non_loopback_bind_without_intake_auth_is_refused(workspace):
    done = workspace.run("run", str(DB), "--host", "0.0.0.0", timeout=30)
    assert done.returncode == 2, done
    assert "refusing to listen on 0.0.0.0" in done.stderr and "Traceback" not in done.stderr


# ------------------------------------------------------------------ the client's parts


def test_build_request_maps_actions_and_arguments():
    assert build_request("ack", [], as_="alice", role=None) == ("POST", "/api/actions/acknowledge", {"as": "alice"})
    assert build_request("declare", ["SEV2"], as_=None, role="incident-commander") == (
        "POST", "/api/actions/declare_incident", {"severity": "SEV2", "role": "incident-commander"})
    assert build_request("update", ["external", "all", "good"], as_=None, role=None) == (
        "POST", "/api/actions/post_update", {"audience": "external", "text": "all good"})
    assert build_request("assign_role", ["dana", "tech-lead"], as_="alice", role=None)[2] == {
        "person": "dana", "role": "tech-lead", "as": "alice"}
    assert build_request("inject", ["kill primary/x"], as_=None, role=None)[1] == "/api/faults/kill%20primary%2Fx/inject"
    assert build_request("revoke", ["bob"], as_=None, role=None) == ("DELETE", "/api/responders/bob", None)
    assert build_request("end", [], as_=None, role=None) == ("POST", "/api/drill/end", {})
    drafted = build_request("post_update", ["executive"], as_=None, role=None, text_source=lambda k, v: f"draft {v['audience']}")
    assert drafted[2]["text"] == "draft executive"
    for bad in (("nope", []), ("set_severity", []), ("runbook", ["a", "b"]), ("post_update", ["external"])):
        with pytest.raises(InputError):
            build_request(*bad, as_=None, role=None)
    with pytest.raises(InputError, match="facilitator control"):
        build_request("abort", [], as_="alice", role=None)


def test_find_drill(tmp_path, monkeypatch):
    monkeypatch.delenv("GAMEDAY_TOKEN", raising=False)
    drills = tmp_path / "drills"
    drills.mkdir()
    (drills / "d1.token").write_text("fac-token\n")
    (drills / "d1.json").write_text(json.dumps({"drill_id": "d1", "url": "http://127.0.0.1:8123", "pid": os.getpid(),
                                                "token_file": str(drills / "d1.token")}))
    assert find_drill("d1", tmp_path) == find_drill(".", tmp_path)
    assert find_drill("d1", tmp_path).token == "fac-token"
    assert find_drill("d1", tmp_path, "mine").token == "mine"
    monkeypatch.setenv("GAMEDAY_TOKEN", "env")
    assert find_drill("d1", tmp_path).token == "env"
    monkeypatch.delenv("GAMEDAY_TOKEN")
    link = find_drill("http://127.0.0.1:8123/join#abc", tmp_path)
    assert (link.url, link.token) == ("http://127.0.0.1:8123", "abc")
    assert find_drill("http://127.0.0.1:8123", tmp_path).token == "fac-token"  # same machine: the facilitator's
    assert find_drill("http://127.0.0.1:9/join?token=q", tmp_path).token == "q"
    with pytest.raises(ConfigError, match="no running drill 'd2'"):
        find_drill("d2", tmp_path)
    (drills / "d1.json").write_text(json.dumps({"drill_id": "d1", "url": "http://x", "pid": 2**22 + 12345}))
    with pytest.raises(ConfigError, match="not running"):
        find_drill("d1", tmp_path)


def test_status_text_strips_terminal_escapes():
    state = {"drill_id": "d", "title": "t", "status": "running", "phase": "observe", "now_t": 10.0,
             "viewer": {"name": "a\x1b[31mlice", "facilitator": False, "roles": []}, "roles": [],
             "incident": {"detected_t": 5.0}, "countdowns": [{"id": "step", "label": "next expected step", "due_t": 12.5}],
             "runbooks": [], "timeline": [{"offset": "+5s", "who": "webhook", "role": None, "text": "x\x07y"}]}
    text = format_status(state)
    assert "\x1b" not in text and "\x07" not in text
    assert "in 0:02  next expected step" in text
