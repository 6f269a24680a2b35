"""Fuzzing scenario YAML (through ``gameday validate``) and responder scripts (loaded and played).

Invariants (the README's scenario format and exit codes, ``gameday/loader.py``):

* ``gameday validate`` exits 0 or 2, never with a traceback, whatever the file holds (hostile text,
  control characters, huge integers, ``.nan``, 10,000-deep nesting, invalid UTF-8, NUL, JSON);
  each problem is one terminal-safe line ``FILE:LINE:COL: path: message``;
* a responder script loads or raises ``ScenarioError`` with located problems; one that loads plays
  a whole drill (fake system, fake clock) whose journal is strict JSON Lines and whose every
  report is written.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from strategies import (
    HUGE_INT,
    assert_cli,
    assert_jsonl_lines,
    assert_reports_written,
    budget,
    invalid_utf8,
    json_values,
    mutated,
    raw_yaml,
    run_cli,
    to_json,
    to_yaml,
    typed_mutation,
)

from gameday.errors import ScenarioError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
BASE = yaml.safe_load((FIXTURES / "scenarios" / "valid" / "full.yaml").read_text(encoding="utf-8"))
PROBLEM_LINE = re.compile(r"^.+?:\d+:\d+: .+$")
#: chaoslib imports the module a python provider names: those two values stay the fixture's
KEEP = ("module", "func")


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the fixture tree (so a mutant's references still resolve); mutants go in scenarios/valid/."""
    root = tmp_path_factory.mktemp("scenarios")
    shutil.copytree(FIXTURES / "experiments", root / "experiments")
    shutil.copytree(FIXTURES / "scenarios" / "responders", root / "scenarios" / "responders")
    (root / "gameday.yaml").write_text("state_dir: .state\n")
    (root / "scenarios" / "valid").mkdir(parents=True)
    return root / "scenarios" / "valid"


def keeps_modules(data: Any) -> bool:
    """Whether every python provider still names the fixture's module and function."""
    text = to_json(data)
    return '"module": "shutil"' in text and '"func": "copyfile"' in text


@st.composite
def scenario_texts(draw: st.DrawFn) -> tuple[str, bytes]:
    """(file suffix, bytes): the full fixture with hostile changes, as YAML (or JSON), or raw bytes."""
    how = draw(st.sampled_from(["typed", "typed", "values", "values", "json", "bytes"]))
    if how == "bytes":
        return ".yaml", draw(st.one_of(
            st.binary(max_size=200),
            st.tuples(invalid_utf8, st.sampled_from([b"id: %s\n", b"title: '%s'\n", b"# %s\napiVersion: gameday/v1\n"]))
            .map(lambda p: p[1] % p[0]),
            st.sampled_from([b"\x00", b"id: a\x00b\n", b"\xef\xbb\xbfid: x\n", b"\xff\xfeid: x\n", b"[" * 10_000,
                             b"a: " + HUGE_INT.encode() + b"\n", b"- " * 5_000 + b"x\n", b"&a [*a]", b"!!python/name:os.system",
                             b"%YAML 9.9\n---\nx: 1\n", b"---\n---\n", b"key: \"\\x1b[31m\\u202e\"\n", b"? [a]\n: b\n"]),
        ))  # fmt: skip
    if how == "typed":
        data = draw(typed_mutation(BASE, most=4))
    else:
        data = draw(mutated(BASE, st.one_of(json_values(raw=False, max_leaves=4), raw_yaml), most=3))
    if not keeps_modules(data):
        data = BASE  # never let chaoslib import a name a fuzzer made up
    if how == "json":
        return ".json", to_json(data).encode("utf-8")
    return ".yaml", to_yaml(data).encode("utf-8", "surrogatepass")


def check_validate(path: Path) -> None:
    result = run_cli(["validate", str(path)])
    assert_cli(result, {0, 2}, f"gameday validate {path.name}")
    if result.exit_code == 2:
        for line in result.stderr.splitlines():
            assert PROBLEM_LINE.match(line) or line.startswith("gameday: "), f"not a located one-line problem: {line!r}"


@budget(45)
@given(mutant=scenario_texts())
def test_validate_exits_0_or_2_with_located_terminal_safe_problems(tree, mutant):
    suffix, data = mutant
    path = tree / f"mutant{suffix}"
    path.write_bytes(data)
    check_validate(path)


EDGES = {
    "an integer of 5,001 digits": b"apiVersion: gameday/v1\nid: x\ntimeout: " + HUGE_INT.encode() + b"\n",
    "an integer of 5,001 digits (JSON)": b'{"apiVersion": "gameday/v1", "id": ' + HUGE_INT.encode() + b"}",
    "NaN and Infinity (JSON)": b'{"apiVersion": "gameday/v1", "id": NaN, "title": Infinity}',
    "nested 10,000 deep (YAML flow)": b"x: " + b"[" * 10_000 + b"]" * 10_000 + b"\n",
    "nested 10,000 deep (JSON)": b'{"x": ' + b"[" * 10_000 + b"]" * 10_000 + b"}",
    "nested 10,000 deep (YAML block)": b"".join(b"  " * i + b"a:\n" for i in range(2_000)),
    "a NUL byte": b"apiVersion: gameday/v1\nid: a\x00b\n",
    "invalid UTF-8": b"apiVersion: gameday/v1\ntitle: caf\xe9\n",
    "a lone surrogate escape": b'apiVersion: gameday/v1\ntitle: "\\ud800"\n',
    "ESC and bidi escapes in a key": b'"\\e[31mred\\u202e": 1\n',
    "a hex integer of 4,000 digits": b"apiVersion: gameday/v1\nid: 0x" + b"f" * 4_000 + b"\n",
    ".nan and .inf durations": b"apiVersion: gameday/v1\nid: x\ntiming: {baseline: .nan, cooldown: .inf}\n",
    "a 900 KiB line": b"title: " + b"A" * 900_000 + b"\n",
}


def _changed(path: tuple[Any, ...], value: Any = None, *, rename: str | None = None) -> bytes:
    """The full fixture with one value replaced (or, with ``rename``, the key at ``path`` renamed), as YAML."""
    import copy

    data = copy.deepcopy(BASE)
    node = data
    for part in path[:-1]:
        node = node[part]
    if rename is not None:
        node[rename] = node.pop(path[-1])
    else:
        node[path[-1]] = value
    return to_yaml(data).encode("utf-8")


# what the fuzzer found once, kept as fixed cases (the short profile's examples change with the strategies)
EDGES.update({
    "an unknown key of ESC, OSC 8 and BEL": _changed(("steady_state", 0, "name"),
                                                     rename="\x1b]8;;https://evil.example/\x07link\x1b]8;;\x07"),
    "an unknown key of bidi controls": _changed(("faults", 0, "id"), rename="\u202eid\u2066"),
    "an activity type with a newline": _changed(("faults", 1, "activities", 0, "type"), "act\nion\r\x1b[2J"),
    "a title with ESC and NUL": _changed(("title",), "\x1b[31mred\x00"),
    "a step id with a newline": _changed(("response", 0, "id"), "ack\nforged: line"),
})


@pytest.mark.parametrize("what", list(EDGES))
def test_validate_refuses_pathological_files_with_exit_2(tree, what):
    path = tree / ("edge.json" if "(JSON)" in what else "edge.yaml")
    path.write_bytes(EDGES[what])
    check_validate(path)


# ------------------------------------------------------------------------------ responder scripts

SCRIPT: dict[str, Any] = {
    "people": {"alice": "incident-commander", "bob": "tech-lead", "carol": "comms-lead"},
    "actions": [
        {"as": "alice", "action": "assign_role", "role": "comms-lead", "to": "dana", "after": "start", "delay": "1s"},
        {"as": "bob", "action": "note", "text": "replica lag is 0", "after": "injection", "delay": "1s"},
        {"as": "bob", "action": "mark_detected", "after": "injection", "delay": "2s"},
        {"as": "alice", "action": "acknowledge", "after": "detection", "delay": "1s"},
        {"as": "alice", "action": "declare_incident", "severity": "SEV2", "after": "detection", "delay": "1500ms"},
        {"as": "alice", "action": "set_severity", "severity": "SEV1", "after": "detection", "delay": "2s"},
        {"as": "carol", "action": "post_update", "audience": "external", "text": "Checkout is failing.", "after": "detection",
         "delay": "3s"},
        {"as": "carol", "action": "notify_executives", "text": "SEV1: checkout down", "after": "ack", "delay": "1s"},
        {"as": "bob", "action": "runbook", "runbook": "failover", "after": "detection", "delay": "2s"},
        {"as": "alice", "action": "resolved", "after": "recovery", "delay": "1s"},
    ],
}  # fmt: skip


@pytest.fixture(scope="module")
def conductor_scenario():
    from gameday.model.scenario import Scenario

    return Scenario.model_validate(yaml.safe_load((FIXTURES / "conductor" / "basic.yaml").read_text()))


@st.composite
def scripts(draw: st.DrawFn) -> bytes:
    how = draw(st.sampled_from(["typed", "typed", "typed", "values", "bytes"]))
    if how == "bytes":
        return draw(st.one_of(st.binary(max_size=100), st.just(b"people:\n  " + b"\xff" + b": tech-lead\n"),
                              st.just(b"actions: " + b"[" * 5_000 + b"]" * 5_000)))
    if how == "typed":
        data = draw(typed_mutation(SCRIPT, most=3))
    else:
        data = draw(mutated(SCRIPT, st.one_of(json_values(raw=False, max_leaves=3), raw_yaml), most=2))
    return to_yaml(data).encode("utf-8", "surrogatepass")


def play(scenario, roster, actions, folder: Path) -> Path:
    """Play a whole ci drill of the conductor fixture on a fake clock (a fake system that the fault breaks
    and the runbook heals; the alert comes at +7 s), with the scripted responders; return the journal's path."""
    from gameday.clock import FakeClock
    from gameday.drill.conductor import Conductor
    from gameday.fakes import FakeInjector, FakeLedger, FakeProbe, FakeRunbook
    from gameday.journal import JournalWriter
    from gameday.model.alerts import Alert

    clock = FakeClock()
    probe = FakeProbe(clock)
    injector = FakeInjector(on_inject=lambda: probe.healthy.update(health=False),
                            on_rollback=lambda: probe.healthy.update(health=True))
    runner = FakeRunbook(effect=lambda: probe.healthy.update(health=True))
    path = folder / "journal.jsonl"
    path.unlink(missing_ok=True)
    journal = JournalWriter(path, clock, fsync=False)
    conductor = Conductor(scenario, journal, clock, mode="ci", drill_id="fuzz-script", injectors={"kill-db": injector},
                          runbooks={"failover": runner}, probe=probe, ledger=FakeLedger(), roster=roster, script=actions,
                          spawn=lambda fn: fn())

    def tick(c):
        c.observe(probe.check())
        clock.schedule(clock.now() + 0.25, tick)

    clock.schedule(journal.t0, tick)
    clock.schedule(journal.t0 + 7.0, lambda c: c.receive_alerts(
        "alertmanager", {"alerts": []}, [Alert("firing", {"alertname": "CheckoutErrorsHigh"})]))
    try:
        conductor.run()
    finally:
        journal.close()
    return path


@budget(30)
@given(data=scripts())
def test_a_responder_script_loads_or_is_refused_and_one_that_loads_plays_and_reports(tmp_path_factory, conductor_scenario,
                                                                                    data):
    from gameday.drill.responders import load_script

    folder = tmp_path_factory.mktemp("script")
    path = folder / "responders.ci.yaml"
    path.write_bytes(data)
    try:
        roster, actions = load_script(path, conductor_scenario)
    except ScenarioError as exc:
        assert exc.problems and all(p.line >= 1 and p.column >= 1 and p.message for p in exc.problems), exc.problems
        return
    journal = play(conductor_scenario, roster, actions, folder)
    assert_jsonl_lines(journal.read_bytes(), "the journal")
    assert_reports_written(journal, folder / "reports", mode="ci")
