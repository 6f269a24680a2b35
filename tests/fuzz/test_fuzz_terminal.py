"""Fuzzing text printed to the terminal: the live view (plain lines and the rich panel), ``gameday status``,
and what ``gameday run`` prints, with hostile text in every field a person or the network fills.

Invariants (``gameday/drill/liveview.py``; the brief's "text from people and the network is data"):

* nothing a terminal acts on reaches it from that text: no ESC (colours, OSC 8 links, titles, screen
  clears), no other C0/C1 control character, no bidi override or isolate, no carriage return;
* rich markup in it is shown as written (``[/]``, ``[link=...]``, ``[bold]``), never interpreted;
* a plain line stays one line;
* the panel never gives up on such text (and a drill is never stopped by its view).
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from livedrill import SCENARIO
from strategies import BIDI, assert_reports_written, assert_terminal_safe, budget, hostile_text

from gameday.model import events as ev

H = hostile_text(max_size=40)
#: names are never empty (every door a name comes through refuses an empty one; the scorecard refuses it too)
NAME = hostile_text(min_size=1, max_size=20, long=False).filter(lambda s: s.strip())


def payloads() -> st.SearchStrategy[tuple[ev.Payload, str]]:
    """(payload, source) for a kind whose fields carry text from people, vendors' webhooks or tools' output."""
    row = st.builds(ev.AlertRow, status=NAME, alertname=H, labels=st.dictionaries(NAME, H, max_size=3), signal=st.none())
    return st.one_of(
        st.tuples(st.builds(ev.NoteAdded, text=H), NAME),
        st.tuples(st.builds(ev.ActionRecorded, action=st.sampled_from(["note", "post_update", "notify_executives"]),
                            author=NAME, role=st.one_of(st.none(), NAME), text=H, audience=st.just("external")), NAME),
        st.tuples(st.builds(ev.ActionRecorded, action=st.sampled_from(["runbook_finished", "acknowledge"]), author=NAME,
                            runbook=NAME, ok=st.booleans(), error=st.one_of(st.none(), H)), NAME),
        st.tuples(st.builds(ev.AlertReceived, format=NAME, matched=st.booleans(), error=st.one_of(st.none(), H),
                            alerts=st.lists(row, max_size=3), payload=st.dictionaries(NAME, H, max_size=2)), st.just("webhook")),
        st.tuples(st.builds(ev.DetectionRecorded, via=st.sampled_from(["alert", "person"]), signal=NAME, alertname=H, by=NAME),
                  NAME),
        st.tuples(st.builds(ev.RoleAssigned, person=NAME, role=NAME, by=NAME), NAME),
        st.tuples(st.builds(ev.ResponderJoined, person=NAME, role=st.one_of(st.none(), NAME)), NAME),
        st.tuples(st.builds(ev.FaultInjectionFailed, fault=NAME, error=H), st.just("injector")),
        st.tuples(st.builds(ev.FaultSkipped, fault=NAME, by=NAME), NAME),
        st.tuples(st.builds(ev.ActivityRan, owner=NAME, name=NAME, phase=st.just("runbook"), provider=NAME,
                            status=st.just("failed"), started_t=st.just(1.0), duration_s=st.just(0.5), output=H,
                            error=st.one_of(st.none(), H)), st.just("automation")),
        st.tuples(st.builds(ev.NotificationFailed, channel=NAME, name=NAME, error=H), st.just("notifier")),
        st.tuples(st.builds(ev.LoadFailed, error=H, stage=st.just("run")), st.just("load")),
        st.tuples(st.builds(ev.SilenceCreated, id=NAME, text=H,
                            matchers=st.lists(st.builds(ev.SilenceMatcher, name=NAME, value=H), max_size=2)),
                  st.just("monitoring")),
        st.tuples(st.builds(ev.DrillAborted, reason=H), st.just("conductor")),
    )  # fmt: skip


def write(folder: Path, script: list[tuple[ev.Payload, str]], view_kwargs: dict) -> tuple[list[str], object]:
    """Journal DrillStarted and then ``script`` (a second apart, on a fake clock) under a live view; its lines."""
    from gameday.clock import FakeClock
    from gameday.drill.liveview import LiveView
    from gameday.journal import JournalWriter
    from gameday.model.policy import DEFAULT_POLICY
    from gameday.model.scenario import Scenario

    scenario = Scenario.model_validate(SCENARIO)
    clock = FakeClock()
    path = folder / "journal.jsonl"
    path.unlink(missing_ok=True)
    journal = JournalWriter(path, clock, fsync=False)
    lines: list[str] = []
    view = LiveView(scenario, journal, echo=lines.append, **view_kwargs)
    with view:
        journal.append(ev.DrillStarted(drill_id="fuzz-view", mode="gameday", scenario=scenario, policy=DEFAULT_POLICY),
                       "conductor")
        journal.append(ev.FaultInjected(fault="kill-db", kind="activities"), "injector")
        for payload, source in script:
            clock.advance(1.0)
            journal.append(payload, source)
    journal.close()
    return lines, view


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("view")


@budget(30)
@given(script=st.lists(payloads(), min_size=1, max_size=6))
def test_plain_lines_are_one_terminal_safe_line_each(folder, script):
    lines, _ = write(folder, script, {"tty": False})
    shown = 2 + sum(1 for payload, _ in script if not (payload.QUIET or isinstance(payload, ev.ActivityRan)))
    assert len(lines) == shown, f"one line per event shown (DrillStarted, FaultInjected and the script's): {lines}"
    for line in lines:
        assert "\n" not in line, f"a plain line spans lines: {line!r}"
        assert_terminal_safe(line, "a plain line of the live view")


SGR = re.compile(r"\x1b\[[0-9;]*m")


@budget(25)
@given(script=st.lists(payloads(), min_size=1, max_size=6))
def test_the_panel_never_gives_up_and_shows_no_escape_from_the_text(folder, script):
    from rich.console import Console

    out = io.StringIO()
    console = Console(file=out, force_terminal=True, color_system="truecolor", width=160, height=60, legacy_windows=False)
    lines, view = write(folder, script, {"tty": True, "console": console})
    assert view.failure is None, f"the panel gave up: {view.failure}; lines: {lines}"
    drawn = SGR.sub("", out.getvalue())  # rich's own colours are fine; anything else came from the text
    drawn = drawn.replace("\x1b[?25l", "").replace("\x1b[?25h", "")  # rich hides and shows the cursor
    drawn = re.sub(r"\x1b\[\d*[AK]|\x1b\[2K|\r", "", drawn)  # and moves up and clears lines to redraw
    assert "\x1b]8;" not in drawn, "a hyperlink (OSC 8) was drawn from the text"
    assert_terminal_safe(drawn, "the live panel")


MARKUP = ["[/]", "[bold red]LOUD[/bold red]", "[link=https://evil.example/]click me[/link]", "\\[escaped]", ":warning:",
          "[on red]x", "[/link]"]


@pytest.mark.parametrize("markup", MARKUP)
@pytest.mark.parametrize("tty", [False, True], ids=["lines", "panel"])
def test_markup_in_a_note_is_shown_as_written(folder, markup, tty):
    from rich.console import Console

    out = io.StringIO()
    console = Console(file=out, force_terminal=False, color_system=None, width=400, height=60, legacy_windows=False)
    text = f"note {markup} end"
    lines, view = write(folder, [(ev.NoteAdded(text=text), "alice")], {"tty": tty, "console": console})
    assert view.failure is None, view.failure
    shown = "\n".join(lines) + out.getvalue()
    assert text in shown, f"{text!r} is not shown as written:\n{shown[-1500:]}"


# ------------------------------------------------------------------------------ `gameday status`


@budget(25)
@given(script=st.lists(payloads(), min_size=1, max_size=6), invited=st.lists(NAME, max_size=3))
def test_gameday_status_text_is_terminal_safe(folder, script, invited):
    from gameday.journal import read_journal
    from gameday.model.policy import DEFAULT_POLICY
    from gameday.model.scenario import Scenario
    from gameday.web.client import format_status
    from gameday.web.state import room_state

    write(folder, script, {"tty": False})
    events = read_journal(folder / "journal.jsonl").events
    scenario = Scenario.model_validate(SCENARIO)
    for facilitator in (True, False):
        state = room_state(scenario, DEFAULT_POLICY, events, 30.0, viewer=invited[0] if invited else "alice",
                           facilitator=facilitator, drill_id="fuzz-view", mode="gameday", invited=invited, staged_roles=[])
        assert_terminal_safe(format_status(state, 1000), "gameday status")


# ------------------------------------------------------------------------------ `gameday run`, a real process

TITLES = {
    "ESC and OSC 8": "Checkout \x1b[31mdown\x1b[0m \x1b]8;;https://evil.example/\x07click\x1b]8;;\x07",
    "bidi override": "Checkout \u202egnp.exe\u202c \u2066isolate\u2069",
    "rich markup": "Checkout [/] [link=https://evil.example/]x[/link] [bold]",
    "CR and BEL": "Checkout\rOVERWRITTEN\x07",
}


@pytest.mark.parametrize("what", list(TITLES))
def test_gameday_run_prints_a_hostile_title_safely_and_writes_every_report(tmp_path, what):
    """A real ``gameday run`` whose steady state cannot hold (nothing listens on its target): it aborts
    before injecting, exit 3; what it prints is terminal-safe, and every report is written."""
    import json

    scenario = {**SCENARIO, "title": TITLES[what], "description": TITLES[what], "symptom": TITLES[what],
                "target": {"url": "http://127.0.0.1:9"}, "timing": {"baseline": "100ms"}}
    path = tmp_path / "hostile.yaml"
    path.write_text(json.dumps(scenario))  # JSON is YAML: the escapes above stay escapes in the file
    gameday = Path(sys.executable).parent / "gameday"
    argv = [str(gameday)] if gameday.exists() else [sys.executable, "-m", "gameday"]
    done = subprocess.run([*argv, "run", str(path), "--mode", "ci", "--out", str(tmp_path / "out"), "--no-web"],
                          cwd=tmp_path, capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
    out, err = done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace")
    assert done.returncode in (2, 3), f"exit {done.returncode}\n{out}\n{err}"
    assert "Traceback" not in err, err
    assert_terminal_safe(out, "gameday run (stdout)")
    assert_terminal_safe(err, "gameday run (stderr)")
    if done.returncode == 3:
        assert_reports_written(tmp_path / "out" / "journal.jsonl", tmp_path / "rescored", mode="ci")
        for name in ("scorecard.json", "scorecard.md", "postmortem.md", "postmortem.html", "junit.xml"):
            assert (tmp_path / "out" / name).is_file(), f"{name} was not written"
        html = (tmp_path / "out" / "postmortem.html").read_text()
        assert "\x1b" not in html and not any(ch in html for ch in BIDI), "control text in the HTML postmortem"
