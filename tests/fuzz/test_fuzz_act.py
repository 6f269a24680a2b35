"""Fuzzing ``gameday act`` (and ``gameday status``): hostile arguments against a live control room on loopback.

Invariants (``gameday/cli/``: exit 0 done, 2 bad input or refused, 3 infrastructure):

* building the request from a command line either refuses it (``InputError``) or gives a request
  whose path is plain, quoted ASCII;
* the command exits 0 or 2, never with a traceback; what it prints (stdout and stderr) is
  terminal-safe, and a refusal is one line on stderr;
* the drill's journal stays strict JSON Lines, and ``gameday status`` stays terminal-safe;
* argv bytes that are not UTF-8 (only a real process gets those) end the same way.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import SNIPPETS, assert_cli, assert_jsonl_lines, assert_terminal_safe, budget, hostile_text, run_cli

from gameday.errors import InputError
from gameday.web.client import ACTIONS, ALIASES, build_request

#: actions a fuzzer may run without ending the drill (abort, end and start are run once, by name)
SAFE_ACTIONS = sorted(a for a in [*ACTIONS, *ALIASES] if a not in ("abort", "end", "start"))
GAMEDAY = Path(sys.executable).parent / "gameday"


def words(surrogates: bool) -> st.SearchStrategy[str]:
    good = st.sampled_from(["SEV1", "external", "failover", "later", "alice", "incident-commander", "-", "x", "tech-lead"])
    bad = st.one_of(hostile_text(max_size=20, surrogates=surrogates, long=False), st.sampled_from(SNIPPETS))
    return st.integers(0, 2).flatmap(lambda n: bad if n == 0 else good)  # two good words to one hostile


@st.composite
def command_lines(draw: st.DrawFn, *, surrogates: bool = False,
                  safe: bool = True) -> tuple[str, list[str], str | None, str | None]:
    """(ACTION, ARGS, --as, --role): mostly a known action with the arguments it takes (each hostile), sometimes
    an unknown action, missing or extra arguments."""
    known = SAFE_ACTIONS if safe else [*ACTIONS, *ALIASES]
    action = draw(hostile_text(max_size=12, surrogates=surrogates, long=False) if draw(st.integers(0, 4)) == 0
                  else st.sampled_from(known))
    params = ACTIONS.get(ALIASES.get(action, action), ("", "", ()))[2]
    args: list[str] = []
    for param in params:
        if "?" in param and draw(st.booleans()):
            continue
        args += draw(st.lists(words(surrogates), min_size=1, max_size=3 if "*" in param else 1))
    if draw(st.integers(0, 5)) == 0:
        args = draw(st.lists(words(surrogates), max_size=4))  # the wrong number of arguments
    as_ = draw(words(surrogates)) if draw(st.integers(0, 2)) == 0 else None
    role = draw(words(surrogates)) if draw(st.integers(0, 3)) == 0 else None
    return action, args, as_, role


@budget(150)
@given(line=command_lines(surrogates=True, safe=False), stdin=hostile_text(max_size=30))
def test_a_command_line_is_refused_or_becomes_a_plain_request(line, stdin, monkeypatch):
    import io

    action, args, as_, role = line
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))  # TEXT '-' reads stdin
    try:
        method, path, body = build_request(action, args, as_=as_, role=role)
    except InputError as exc:
        assert str(exc)
        return
    assert method in ("POST", "DELETE"), method
    assert path.startswith("/api/") and path.isascii() and path.isprintable() and " " not in path, path
    assert body is None or isinstance(body, dict)


# ------------------------------------------------------------------------------ against a live control room


@pytest.fixture(scope="module")
def served(live_drill):
    from gameday.web.server import BackgroundServer

    server = BackgroundServer(live_drill.app).start()
    try:
        yield live_drill, server.url
    finally:
        server.stop()


@budget(40)
@given(line=command_lines(surrogates=False), flags=st.sets(st.sampled_from(["--json", "--draft"])),
       stdin=hostile_text(max_size=30))
def test_act_exits_0_or_2_and_prints_terminal_safe_text(served, line, flags, stdin):
    drill, url = served
    action, args, as_, role = line
    argv = ["act", f"{url}/join#{drill.facilitator}", action, *args, *sorted(flags)]
    argv += ["--as", as_] if as_ is not None else []
    argv += ["--role", role] if role is not None else []
    before = drill.journal_bytes()
    result = run_cli(argv, stdin=stdin, env={"GAMEDAY_TOKEN": ""})
    assert_cli(result, {0, 2}, f"gameday {' '.join(map(repr, argv[2:]))}")
    if result.exit_code == 2 and not result.stderr.startswith("Usage:"):  # click's usage errors have their own form
        assert len(result.stderr.strip().splitlines()) == 1, f"a refusal is one line:\n{result.stderr}"
    after = drill.journal_bytes()
    assert after.startswith(before)
    assert_jsonl_lines(after[len(before):], "journal lines written for this command")


def test_status_after_the_fuzzing_is_terminal_safe(served):
    drill, url = served
    result = run_cli(["status", f"{url}/join#{drill.facilitator}", "-n", "1000"], env={"GAMEDAY_TOKEN": ""})
    assert_cli(result, {0}, "gameday status")
    assert_jsonl_lines(drill.journal_bytes(), "the journal")


# ------------------------------------------------------------------------------ argv bytes, in a real process

BAD_ARGV = {
    "a note in Latin-1": [b"note", b"caf\xe9 au lait"],
    "a note of invalid UTF-8": [b"note", b"\xff\xfe\xfd", b"\xc3\x28"],
    "an encoded surrogate": [b"note", b"\xed\xa0\x80"],
    "a name in Latin-1": [b"note", b"called", b"--as", b"Jos\xe9"],
    "a role of invalid UTF-8": [b"acknowledge", b"--role", b"\xff"],
    "an action of invalid UTF-8": [b"\xff\xfeack"],
    "a severity of invalid UTF-8": [b"set_severity", b"SEV\xff"],
    "an invite of invalid UTF-8": [b"invite", b"\xc0\xafbob"],
    "a fault of invalid UTF-8": [b"skip", b"lat\xffer"],
}


@pytest.mark.parametrize("what", list(BAD_ARGV))
def test_act_with_argv_bytes_that_are_not_utf8_exits_0_or_2_without_a_traceback(served, what):
    drill, url = served
    argv = [os.fsencode(GAMEDAY) if GAMEDAY.exists() else os.fsencode(sys.executable), *([] if GAMEDAY.exists() else
            [b"-m", b"gameday"]), b"act", f"{url}/join#{drill.facilitator}".encode(), *BAD_ARGV[what]]
    env = {**os.environ, "GAMEDAY_TOKEN": "", "PYTHONIOENCODING": "", "LC_ALL": "C.UTF-8"}
    done = subprocess.run(argv, capture_output=True, timeout=60, env=env, stdin=subprocess.DEVNULL)
    out, err = done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace")
    assert done.returncode in (0, 2), f"exit {done.returncode}\n--- stdout\n{out}\n--- stderr\n{err}"
    assert "Traceback" not in err, err
    if done.returncode == 2:
        assert err.strip() and len(err.strip().splitlines()) == 1, err
    assert_terminal_safe(out, "stdout")
    assert_terminal_safe(err, "stderr")
    assert_jsonl_lines(drill.journal_bytes(), "the journal")
