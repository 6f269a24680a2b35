"""People's and the network's text against a real ``gameday run``: into a pipe (a CI log) and into a
real pseudo-terminal (the rich live panel), and ``gameday act`` fed bytes that are not UTF-8.

The drill is the external-target drill of ``test_run_external.py`` (the tiny service, SIGSTOPped,
restarted by the automated runbook) with scripted responders whose names carry rich markup
(``[/]``, ``[link=...]``) and whose notes and updates carry markup, clear-screen, NUL and a
right-to-left override; the test, playing the monitoring, posts an alert whose name carries them
too, a PagerDuty acknowledgement by a reserved name and a generic one by a name with a control
character. The drill must end normally, write every report, and show all of it neutralised.
"""

from __future__ import annotations

import json
import os
import pty
import string
import struct
import subprocess
import sys
import threading
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "run"))
from drillkit import (
    OUTPUT_FILES,
    RUN_FIXTURES,
    TARGETS,
    Workspace,
    alertmanager_body,
    first,
    gameday_argv,
    http_json,
    read_events,
    wait_for,
    wait_for_event,
)

sys.path.insert(0, str(TARGETS))
from harness import TINY, free_port, listening, tiny_argv

pytestmark = pytest.mark.integration

HOSTILE_YAML = r'"[/] [link=http://x]y[/link] \e[2J \0 \u202eevil"'  # as typed in YAML (escapes decoded by the loader)
HOSTILE = "[/] [link=http://x]y[/link] \x1b[2J \x00 \u202eevil"
IC, LEAD = "[/]", "[link=http://x]y[/link]"
RESPONDERS = f"""\
people:
  "{IC}": incident-commander
  "{LEAD}": tech-lead
actions:
  - {{as: "{IC}", action: note, after: start, text: {HOSTILE_YAML}}}
  - {{as: "{LEAD}", action: post_update, audience: internal, after: start, delay: 200ms, text: {HOSTILE_YAML}}}
  - {{as: "{IC}", action: acknowledge, after: detection}}
  - {{as: "{IC}", action: note, after: detection, delay: 100ms, text: {HOSTILE_YAML}}}
"""
NEVER = ("\x1b[2J", "\x00", "\u202e", "\x1b]8;")  # clear-screen, NUL, RLO, an OSC 8 hyperlink
SHOWN = ("<U+001B>[2J", "<U+0000>", "<U+202E>evil", "[/] [link=http://x]y[/link]")


@pytest.fixture
def tiny(workspace):
    port, pid_file = free_port(), workspace.cwd / "svc.pid"
    workspace.start_process(tiny_argv(port, pid_file))
    assert wait_for(lambda: pid_file.exists() and listening(port), 10), "tiny service did not start"
    return port, pid_file


def _files(ws: Workspace, port: int, pid_file: Path) -> tuple[Path, Path]:
    template = string.Template((RUN_FIXTURES / "external-tiny.yaml.in").read_text())
    scenario = ws.cwd / "external-tiny.yaml"
    scenario.write_text(template.substitute(port=port, pid_file=pid_file, python=sys.executable, tiny=TINY))
    responders = ws.cwd / "hostile.ci.yaml"
    responders.write_text(RESPONDERS)
    return scenario, responders


class PtyRun:
    """``gameday ARGS`` with a pseudo-terminal as stdout and stderr (a person's terminal, 250 columns)."""

    def __init__(self, ws: Workspace, args: list[str]):
        import fcntl
        import termios

        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 60, 250, 0, 0))
        env = {**ws.env, "TERM": "xterm-256color", "COLUMNS": "250", "LINES": "60"}
        env.pop("NO_COLOR", None)
        self.proc = subprocess.Popen(gameday_argv(*args), cwd=ws.cwd, env=env, stdin=subprocess.DEVNULL, stdout=slave,
                                     stderr=slave, start_new_session=True)
        ws.popens.append(self.proc)
        os.close(slave)
        self._master, self._chunks = master, []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self._master, 65536)
            except OSError:  # EIO: the other side closed
                break
            if not chunk:
                break
            self._chunks.append(chunk)
        os.close(self._master)

    def wait(self, timeout: float) -> int:
        code = self.proc.wait(timeout)
        self._reader.join(10)
        return code

    @property
    def output(self) -> str:
        return b"".join(self._chunks).decode("utf-8", "replace")


def _play_the_monitoring(ws: Workspace) -> None:
    """Once the outage shows: hostile noise, refused actors, then the alert the scenario expects."""
    journal = ws.cwd / "out" / "journal.jsonl"
    base = wait_for_event(journal, "DrillStarted", timeout=30)["data"]["webhook_url"].rsplit("/", 1)[0]
    wait_for_event(journal, "ImpactStarted", timeout=30)
    status, reply = http_json("POST", f"{base}/alertmanager", alertmanager_body(f"Noise {HOSTILE}", service="tiny"))
    assert status == 200 and reply["matched"] is False, reply
    pd = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "webhooks" /
                     "pagerduty-incident-acknowledged.json").read_text())
    pd["event"]["agent"]["summary"] = "automation"  # a reserved name: the action is the format's
    status, reply = http_json("POST", f"{base}/pagerduty", pd)
    assert status == 200, reply
    status, reply = http_json("POST", f"{base}/generic", {"name": "X", "action": "acknowledge", "actor": "al\x1b[2Jice"})
    assert status == 400 and reply["error"].startswith("body.actor: a name cannot contain control"), reply
    status, reply = http_json("POST", f"{base}/alertmanager", alertmanager_body("SvcDown", service="tiny"))
    assert status == 200 and reply["matched"] is True, reply


def _check_reports_and_journal(ws: Workspace) -> None:
    out = ws.cwd / "out"
    assert {p.name for p in out.iterdir()} >= OUTPUT_FILES
    for name in ("scorecard.md", "postmortem.md", "postmortem.html", "junit.xml"):
        text = (out / name).read_text(encoding="utf-8")
        for raw in ("\x1b", "\x00", "\u202e"):
            assert raw not in text, (name, raw)
    assert "&lt;U+202E&gt;evil" in (out / "postmortem.html").read_text()
    import xml.etree.ElementTree as ET

    ET.parse(out / "junit.xml")  # still well-formed XML
    events = read_events(out / "journal.jsonl")
    assert first(events, "ActionRecorded", action="note", author=IC)["data"]["text"] == HOSTILE  # data kept as given
    pd_ack = first(events, "ActionRecorded", action="acknowledge", via="pagerduty")
    assert pd_ack["data"]["author"] == "pagerduty"
    refused = [a for e in events if e["kind"] == "AlertReceived" and e["data"]["format"] == "pagerduty"
               for a in e["data"]["alerts"]]
    assert "reserved" in refused[0]["labels"]["actor_refused"]
    generic = first(events, "AlertReceived", format="generic")
    assert generic["data"]["error"].startswith("body.actor:") and generic["data"]["alerts"] == []
    assert events[-1]["kind"] == "DrillEnded"


def test_hostile_text_into_a_pipe(workspace, tiny):
    scenario, responders = _files(workspace, *tiny)
    drill = workspace.spawn("run", str(scenario), "--mode", "ci", "--out", "out", "--responders", str(responders))
    _play_the_monitoring(workspace)
    code = drill.wait(60)
    output = "\n".join(drill.lines) + drill.stderr
    assert code in (0, 1), drill.output()
    assert "Traceback" not in output and "scorecard:  " in output, drill.output()
    for raw in NEVER:
        assert raw not in output, (raw, drill.output())
    for shown in SHOWN:
        assert shown in output, (shown, drill.output())
    assert "\x1b" not in output  # a pipe gets no escape sequence at all
    _check_reports_and_journal(workspace)


def test_hostile_text_into_a_terminal_panel(workspace, tiny):
    scenario, responders = _files(workspace, *tiny)
    run = PtyRun(workspace, ["run", str(scenario), "--mode", "ci", "--out", "out", "--responders", str(responders)])
    _play_the_monitoring(workspace)
    code = run.wait(60)
    output = run.output
    assert code in (0, 1), output
    assert "Traceback" not in output and "scorecard:  " in output and "live view failed" not in output, output
    assert "╭" in output  # the panel was drawn
    for raw in NEVER:
        assert raw not in output, (raw, output)
    for shown in SHOWN:
        assert shown in output, (shown, output)
    _check_reports_and_journal(workspace)


# ------------------------------------------------------------------ gameday act: bytes that are not UTF-8
def _act(ws: Workspace, *args: bytes, stdin: bytes = b"", env: dict | None = None) -> subprocess.CompletedProcess:
    """The real CLI with bytes argv (as a shell passes them) and bytes on stdin."""
    argv = [os.fsencode(a) for a in gameday_argv()] + list(args)
    return subprocess.run(argv, cwd=ws.cwd, env={**ws.env, **(env or {})}, input=stdin, capture_output=True, timeout=30)


@pytest.mark.parametrize("args, stdin, says", [
    ([b"act", b"http://127.0.0.1:9", b"note", b"caf\xe9", b"--token", b"t"], b"",
     b"gameday: argument 1 of note is not valid UTF-8 (byte 0xe9 at position 4)"),
    ([b"act", b"http://127.0.0.1:9", b"note", b"-", b"--token", b"t"], b"ok \xff\xfe then",
     b"gameday: standard input is not valid UTF-8 (byte 0xff at offset 3)"),
    ([b"act", b"http://127.0.0.1:9", b"post_update", b"internal", b"-", b"--token", b"t"], b"\x80",
     b"gameday: standard input is not valid UTF-8 (byte 0x80 at offset 0)"),
    ([b"act", b"http://127.0.0.1:9", b"ack", b"--as", b"al\xffice", b"--token", b"t"], b"",
     b"gameday: --as is not valid UTF-8 (byte 0xff at position 3)"),
    ([b"act", b"http://127.0.0.1:9", b"ack", b"--as", "a\u202eb".encode(), b"--token", b"t"], b"",
     b"gameday: --as: a name cannot contain control or formatting characters (<U+202E> at position 2)"),
    ([b"act", b"http://127.0.0.1:9", b"invite", b"Automation", b"--token", b"t"], b"",
     b"gameday: PERSON: 'Automation' is reserved for the tool itself; choose a person's name"),
    ([b"act", b"http://127.0.0.1:9/\xc3", b"ack", b"--token", b"t"], b"",
     b"gameday: DRILL is not valid UTF-8 (byte 0xc3 at position 20)"),
    ([b"status", b"http://127.0.0.1:9", b"--token", b"\xff"], b"",
     b"gameday: --token is not valid UTF-8 (byte 0xff at position 1)"),
])  # fmt: skip
def test_act_with_bytes_that_are_not_utf8_exits_2_in_one_line(workspace, args, stdin, says):
    done = _act(workspace, *args, stdin=stdin)
    assert done.returncode == 2, done
    assert done.stderr == says + b"\n" and done.stdout == b"", done


def test_a_token_from_the_environment_that_is_not_utf8(workspace):
    done = _act(workspace, b"status", b"http://127.0.0.1:9", env={"GAMEDAY_TOKEN": b"t\xc3"})
    assert done.returncode == 2 and done.stderr == b"gameday: GAMEDAY_TOKEN is not valid UTF-8 (byte 0xc3 at position 2)\n", done


def test_valid_utf8_text_from_stdin_goes_through_to_the_network(workspace):
    """Good bytes pass every check: the command then fails only because nobody listens (exit 3)."""
    done = _act(workspace, b"act", b"http://127.0.0.1:9", b"note", b"-", b"--token", b"t",
                stdin="\ufeffcafé [/] \u202e ok\n".encode())
    assert done.returncode == 3 and b"cannot reach the control room" in done.stderr, done
