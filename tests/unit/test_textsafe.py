"""Outside text, neutralised wherever it lands: terminal (plain lines, the rich live panel, ``gameday
status``/``act``), reports (Markdown, HTML), chat payloads and drafts. And a failing live panel never
stops the drill: it gives up with one line and the view goes on as plain lines."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import yaml

from gameday.clock import FakeClock
from gameday.journal import JournalWriter
from gameday.model.events import ActionRecorded, NoteAdded, PhaseChanged
from gameday.model.scenario import Scenario
from gameday.model.textsafe import BIDI_CONTROLS, for_report, for_rich, for_terminal, neutralise, one_line

SCENARIO = Path(__file__).resolve().parents[1] / "fixtures" / "conductor" / "basic.yaml"
#: What people typed: a stray closing tag, a rich link, clear-screen, NUL, a right-to-left override.
HOSTILE = "[/] [link=http://x]y[/link] \x1b[2J \x00 \u202eevil"
RAW = ("\x1b", "\x00", "\u202e")  # must never reach any output
SHOWN = ("<U+001B>[2J", "<U+0000>", "<U+202E>evil")  # what is shown instead


def assert_neutralised(text: str, *, terminal: bool = False) -> None:
    """No raw hostile character in ``text``, each stand-in in it (``terminal``: the output of a real
    terminal console, which writes escape sequences of its own, but never the clear-screen typed)."""
    for ch in ("\x1b[2J", "\x00", "\u202e") if terminal else RAW:
        assert ch not in text, (ch, text)
    for stand_in in SHOWN:
        assert stand_in in text, (stand_in, text)


# ------------------------------------------------------------------ the rule
@pytest.mark.parametrize("ch", ["\x00", "\x07", "\x08", "\x0b", "\x0c", "\r", "\x1b", "\x7f", "\x85", "\x9b",
                                "\u00ad", "\u061c", "\u200b", "\u200e", "\u200f", "\u2028", "\u2029", "\u2060",
                                "\ufeff", "\udcff", "\U000e0041", *sorted(BIDI_CONTROLS)])  # fmt: skip
def test_every_control_format_and_bidi_character_is_shown_as_its_code_point(ch):
    assert neutralise(f"a{ch}b") == f"a<U+{ord(ch):04X}>b"


def test_newline_and_tab_stay_joiners_stay_and_crlf_becomes_newline():
    assert neutralise("a\nb\tc") == "a\nb\tc"
    assert neutralise("a\r\nb") == "a\nb"
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # an emoji joined with ZWJ
    assert neutralise(family) == family and neutralise("\u0645\u200c\u06cc") == "\u0645\u200c\u06cc"
    assert neutralise("naïve café — 東京 [b]") == "naïve café — 東京 [b]"  # everything printable untouched


def test_neutralising_is_idempotent_and_takes_anything():
    once = neutralise(HOSTILE)
    assert neutralise(once) == once and neutralise(None) == "" and neutralise(42) == "42"


def test_one_line_flattens_then_neutralises_and_never_cuts_a_stand_in():
    assert one_line("a\n b\t\tc\x1b") == "a b c<U+001B>"
    assert one_line("abc\x1bdef", 5) == "abc<U+001B>…"


def test_for_terminal_keeps_lines_unless_single_line():
    assert for_terminal("a\nb\x1b") == "a\nb<U+001B>" and for_terminal("a\nb", single_line=True) == "a b"
    assert for_report(HOSTILE) == neutralise(HOSTILE)


def test_for_rich_is_shown_literally_by_a_real_terminal_console():
    from rich.console import Console

    console = Console(file=io.StringIO(), force_terminal=True, width=200, color_system="truecolor")
    console.print(f"note: {for_rich(HOSTILE)}")  # inside markup: the tags must not be parsed
    out = console.file.getvalue()
    assert "\x1b]8;" not in out  # no OSC 8 hyperlink
    plain = Console(file=io.StringIO(), width=200)
    plain.print(f"note: {for_rich(HOSTILE)}", highlight=False)
    assert "[/] [link=http://x]y[/link] <U+001B>[2J <U+0000> <U+202E>evil" in plain.file.getvalue()


# ------------------------------------------------------------------ the live view
def _scenario() -> Scenario:
    return Scenario.model_validate(yaml.safe_load(SCENARIO.read_text()))


def _journal(tmp_path: Path) -> JournalWriter:
    return JournalWriter(tmp_path / "journal.jsonl", FakeClock(), fsync=False)


def _hostile_events(writer: JournalWriter) -> None:
    writer.append(PhaseChanged(phase="observe"), "conductor")
    writer.append(NoteAdded(text=HOSTILE), "[/]")
    writer.append(ActionRecorded(action="post_update", author="[link=http://x]y[/link]", audience="internal",
                                 text=HOSTILE), "[link=http://x]y[/link]")


def test_the_panel_on_a_real_terminal_console_shows_hostile_text_literally(tmp_path):
    from rich.console import Console

    from gameday.drill.liveview import LiveView

    console = Console(file=io.StringIO(), force_terminal=True, width=250, color_system="truecolor")
    writer, said = _journal(tmp_path), []
    with LiveView(_scenario(), writer, echo=said.append, console=console) as view:
        assert view.tty and view._live is not None
        _hostile_events(writer)
    out = console.file.getvalue()
    assert view.failure is None and said == []
    assert_neutralised(out, terminal=True)
    assert "phase \x1b[1mobserve" in out  # the last state was drawn
    assert "\x1b]8;" not in out and "[/] [link=http://x]y[/link]" in out  # no hyperlink, the tags as typed


def test_a_panel_that_fails_to_draw_gives_up_with_one_line_and_the_drill_goes_on(tmp_path, monkeypatch):
    from rich.console import Console

    import gameday.drill.liveview as liveview

    console = Console(file=io.StringIO(), force_terminal=True, width=120)
    writer, said = _journal(tmp_path), []
    view = liveview.LiveView(_scenario(), writer, echo=said.append, console=console)
    with view:
        def broken(event):
            raise RuntimeError("render broke on [/]\x1b[2J")

        monkeypatch.setattr(liveview, "describe", broken)
        writer.append(NoteAdded(text="first"), "alice")
        assert _wait(lambda: view.failure is not None)  # the panel's own thread met the failure
        monkeypatch.setattr(liveview, "describe", lambda event: "described")
        writer.append(NoteAdded(text="after"), "alice")  # the view goes on as plain lines
    assert view.failure is not None and "RuntimeError" in view.failure
    note, *rest = said
    assert note.startswith("gameday: the live view failed (RuntimeError: render broke on [/]<U+001B>[2J)")
    assert "\n" not in note and "\x1b" not in note
    assert rest == [f"[{0.0:8.3f}s] {'NoteAdded':<20} described"]


def test_a_panel_failing_at_the_end_still_lets_the_drill_write_its_reports(tmp_path, monkeypatch):
    from rich.console import Console

    import gameday.drill.liveview as liveview

    console = Console(file=io.StringIO(), force_terminal=True, width=120)
    writer, said = _journal(tmp_path), []
    view = liveview.LiveView(_scenario(), writer, echo=said.append, console=console)
    view.__enter__()
    view._stop.set()  # the panel thread stops: only the final draw is left
    view._thread.join(5)
    monkeypatch.setattr(liveview.LiveView, "_render", lambda self: (_ for _ in ()).throw(ValueError("boom")))
    view.__exit__(None, None, None)  # never raises
    assert view.failure == "ValueError: boom" and len(said) == 1 and "live view failed" in said[0]


def test_a_panel_that_cannot_start_falls_back_to_plain_lines(tmp_path, monkeypatch):
    import gameday.drill.liveview as liveview

    writer, said = _journal(tmp_path), []
    monkeypatch.setattr(liveview.LiveView, "_start_panel", lambda self: (_ for _ in ()).throw(OSError("no tty")))
    with liveview.LiveView(_scenario(), writer, echo=said.append, tty=True) as view:
        writer.append(NoteAdded(text=HOSTILE), "alice")
    assert view.failure == "OSError: no tty" and len(said) == 2
    assert_neutralised(said[1])


def test_plain_lines_are_neutralised(tmp_path):
    from gameday.drill.liveview import LiveView

    writer, said = _journal(tmp_path), []
    with LiveView(_scenario(), writer, echo=said.append, tty=False):
        _hostile_events(writer)
    assert len(said) == 3 and all("\n" not in line for line in said)
    for line in said[1:]:
        assert_neutralised(line)


def test_the_drill_echo_neutralises(capsys):
    from gameday.drill.context import say

    say(f"drill d1: aborted ({HOSTILE})")
    assert_neutralised(capsys.readouterr().out)


def _wait(predicate, timeout: float = 10.0) -> bool:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return bool(predicate())


# ------------------------------------------------------------------ gameday status / act
def test_status_and_act_answers_are_neutralised():
    from gameday.web.client import format_answer, format_status

    state = {"drill_id": "d", "title": HOSTILE, "status": "running\x1b[2J", "phase": "observe\u202e", "now_t": 10.0,
             "viewer": {"name": "[/]", "facilitator": False, "roles": ["ic\x00"]},
             "roles": [{"role": "ic\u202e", "holder": "x\x1by"}],
             "incident": {"detected_t": 5.0, "severity": "SEV1\x1b[2J"},
             "countdowns": [], "runbooks": [{"name": "r", "runs": [{"by": "a\u202eb", "error": HOSTILE, "ok": False,
                                                                   "finished_t": 2.0, "started_t": 1.0}]}],
             "timeline": [{"offset": "+5s", "who": "[link=http://x]y[/link]", "role": None, "text": HOSTILE}],
             "outcome": None}  # fmt: skip
    text = format_status(state)
    assert_neutralised(text)
    assert "[link=http://x]y[/link]" in text
    assert format_answer({"person": "a\x1b[2J", "join_url": "http://x/join#t"}) == "join link for a<U+001B>[2J: http://x/join#t"
    assert format_answer({"seq": 4, "kind": "Note\u202e", "t": 1.5}) == "journaled #4 Note<U+202E> at +1.500s"
    assert format_answer({"status": "ok\x00"}) == "ok<U+0000>"


# ------------------------------------------------------------------ reports
def test_markdown_and_html_report_filters_neutralise():
    import jinja2

    from gameday.analysis.templating import environment, md_escape

    md = md_escape(HOSTILE)
    assert "\x1b" not in md and "\x00" not in md and "\u202e" not in md
    assert "&lt;U+202E&gt;evil" in md and "\\[link=http://x\\]y\\[/link\\]" in md
    html = environment(jinja2, "html", None).from_string("<p>{{ text }}</p>{{ safe }}").render(
        text=HOSTILE, safe=jinja2.utils.markupsafe.Markup("<hr>"))
    assert html == ("<p>[/] [link=http://x]y[/link] &lt;U+001B&gt;[2J &lt;U+0000&gt; &lt;U+202E&gt;evil</p><hr>")


# ------------------------------------------------------------------ chat
def test_chat_payloads_are_neutralised_and_escaped():
    import json

    from gameday.notify.service import Update, generic_payload, slack_payload, teams_payload

    update = Update(text=f"{HOSTILE} [click](https://evil.example) <!channel>", audience="internal",
                    author="a\u202eb", role="comms-lead", drill_id="d1")
    for payload in (slack_payload(update, blocks=True), teams_payload(update), generic_payload(update)):
        dumped = json.dumps(payload, ensure_ascii=False)
        assert "\x1b" not in dumped and "\x00" not in dumped and "\u202e" not in dumped, dumped
        assert "U+202E" in dumped
    card_text = teams_payload(update)["attachments"][0]["content"]["body"][0]["text"]
    assert card_text.startswith("[DRILL] \\[/\\]") and "\\[click\\]\\(https://evil.example)" in card_text
    assert "](" not in card_text  # no Markdown link can form
    assert "&lt;!channel&gt;" in slack_payload(update)["text"]


def test_drafts_show_network_and_people_text_neutralised():
    from gameday.comms.facts import _text

    assert _text("Svc\u202eDown\x1b[2J") == "Svc<U+202E>Down<U+001B>[2J"
