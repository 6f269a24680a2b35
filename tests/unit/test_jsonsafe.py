"""Strict JSON (``gameday.model.jsonsafe``) and the journal held to it both ways: the writer never writes
a line the reader refuses, and the reader names file and line for NaN, deep nesting, huge integers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gameday.clock import FakeClock
from gameday.errors import JournalError
from gameday.journal import JournalWriter, read_journal
from gameday.model.eventio import EventError, decode_line, encode_event, make_event
from gameday.model.events import ActivityRan, AlertReceived, DrillStarted, NoteAdded, PhaseChanged
from gameday.model.jsonsafe import (
    LINE_DEPTH,
    MAX_DEPTH,
    MAX_INT_DIGITS,
    JSONLimitError,
    dumps_strict,
    loads_strict,
    non_finite,
)
from gameday.model.policy import DEFAULT_POLICY
from gameday.model.scenario import Scenario

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "journals"
GAMEDAY = Path(sys.executable).parent / "gameday"


def nest(depth: int, leaf: str = "1") -> str:
    return "[" * depth + leaf + "]" * depth


# ------------------------------------------------------------------------------------ loads_strict
def test_ordinary_json_reads_as_json_does() -> None:
    text = '{"a": [1, -2, 2.5e3, true, null, "NaN", "Infinity", "1e999"], "b": {"c": "\\ud83d\\ude00"}}'
    assert loads_strict(text) == json.loads(text)


@pytest.mark.parametrize("text, words, column", [
    ("[NaN]", "non-finite number NaN", 2),
    ('{"x": Infinity}', "non-finite number Infinity", 7),
    ('{"x": [1, -Infinity]}', "non-finite number -Infinity", 11),
    ("[1e999]", "number 1e999 is out of range", 2),
    ("[-1e400]", "number -1e400 is out of range", 2),
    ("[" + "9" * 400 + ".5]", "is out of range", 2),
    ('{"n": ' + "7" * 5000 + "}", "integer with 5000 digits (at most 640)", 7),
    ('{"n": -' + "7" * (MAX_INT_DIGITS + 1) + "}", f"integer with {MAX_INT_DIGITS + 1} digits", 7),
    (nest(MAX_DEPTH + 1), f"nesting deeper than {MAX_DEPTH} levels", MAX_DEPTH + 1),
    ('{"a":' * 5000 + "1" + "}" * 5000, f"nesting deeper than {MAX_DEPTH} levels", 5 * MAX_DEPTH + 1),
    (nest(100_000), "nesting deeper than", MAX_DEPTH + 1),
    ('["\\ud800"]', "unpaired surrogate \\ud800", 3),
    ('{"\\\\ud800 is text": "\\udfff"}', "unpaired surrogate \\udfff", 22),
])  # fmt: skip
def test_json_beyond_the_limits_is_a_located_refusal(text: str, words: str, column: int) -> None:
    with pytest.raises(JSONLimitError) as caught:
        loads_strict(text)
    err = caught.value
    assert isinstance(err, json.JSONDecodeError) and isinstance(err, ValueError)
    assert words in err.msg and (err.lineno, err.colno) == (1, column), str(err)


def test_the_line_of_a_refusal_is_counted_too() -> None:
    with pytest.raises(JSONLimitError) as caught:
        loads_strict('{\n  "ok": 1,\n  "bad": NaN\n}')
    assert (caught.value.lineno, caught.value.colno) == (3, 10)


def test_the_limits_themselves_are_allowed() -> None:
    assert loads_strict(nest(MAX_DEPTH)) is not None
    assert loads_strict("[" + "9" * MAX_INT_DIGITS + "]") == [int("9" * MAX_INT_DIGITS)]
    assert loads_strict("[-" + "9" * MAX_INT_DIGITS + "]")[0] < 0
    assert loads_strict("[1.7976931348623157e308]") == [1.7976931348623157e308]
    assert loads_strict(nest(LINE_DEPTH), max_depth=LINE_DEPTH) is not None
    with pytest.raises(JSONLimitError):
        loads_strict(nest(LINE_DEPTH + 1), max_depth=LINE_DEPTH)


def test_brackets_and_escapes_inside_strings_are_text() -> None:
    text = json.dumps(["[" * 500, "{" * 500, 'a\\"[[[', "\\ud800 (escaped backslash: text)"])
    assert loads_strict(text) == json.loads(text)


@pytest.mark.parametrize("text", ["{not json", '["unterminated', "[" * 300_000, '["' + '\\"' * 100_000, "", "[1,]"])
def test_what_is_not_json_is_a_json_decode_error_never_a_recursion_error(text: str) -> None:
    with pytest.raises(json.JSONDecodeError):
        loads_strict(text)


# ------------------------------------------------------------------------------------ dumps_strict
def test_dumps_strict_writes_compact_json_that_reads_back() -> None:
    value = {"a": [1, 2.5, "é", None], "b": {"c": "NaN"}}
    text = dumps_strict(value)
    assert text == '{"a":[1,2.5,"é",null],"b":{"c":"NaN"}}' and loads_strict(text) == value


@pytest.mark.parametrize("value, words", [
    ([float("nan")], "Out of range float"),
    ({"x": float("-inf")}, "Out of range float"),
    ([10 ** (MAX_INT_DIGITS + 5)], "integer with"),
    (json.loads(nest(MAX_DEPTH + 1)), "nesting deeper"),
    (["a\ud800b"], "unpaired surrogate"),
])  # fmt: skip
def test_dumps_strict_refuses_what_a_reader_would_refuse(value: object, words: str) -> None:
    with pytest.raises(JSONLimitError, match=words) as caught:
        dumps_strict(value)
    assert "\n" not in str(caught.value)


def test_non_finite_finds_the_path_of_a_coerced_nan() -> None:
    ran = ActivityRan.model_validate({"owner": "f", "name": "n", "phase": "method", "provider": "process",
                                      "status": "failed", "started_t": 1.0, "duration_s": "NaN"})
    assert non_finite(ran, "ActivityRan") == "ActivityRan.duration_s"
    assert non_finite({"a": [1.0, {"b": float("inf")}]}) == "a[1].b"
    assert non_finite({"a": ["NaN", 1e308], "b": (1, 2)}) is None


# ------------------------------------------------------------------------------------ the journal: reading
def golden_lines() -> list[bytes]:
    return (GOLDEN / "clean.jsonl").read_bytes().splitlines(keepends=True)


def with_line(tmp_path: Path, number: int, line: bytes, *, newline: bool = True) -> Path:
    """The golden clean journal's first lines, then ``line`` as line ``number`` (and last)."""
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b"".join(golden_lines()[: number - 1]) + line + (b"\n" if newline else b""))
    return path


def phase_line(seq: int, t: str = "1.0", phase: str = '"baseline"') -> bytes:
    return (f'{{"v":1,"seq":{seq},"kind":"PhaseChanged","wall":"2026-01-01T09:00:01.000000Z","t":{t},'
            f'"source":"conductor","data":{{"phase":{phase}}}}}').encode()


@pytest.mark.parametrize("line, words", [
    (phase_line(3, t="NaN"), "non-finite number NaN (only finite numbers are allowed) at column 79"),
    (phase_line(3, t="Infinity"), "non-finite number Infinity (only finite numbers are allowed) at column 79"),
    (phase_line(3, t="1e999"), "out of range (not a finite double) at column"),
    (phase_line(3, t='"NaN"'), "PhaseChanged.t: a finite number is required, got 'NaN'"),
    (phase_line(3, t='"-inf"'), "PhaseChanged.t: a finite number is required, got '-inf'"),
    (phase_line(3, t="7" * 5000), "integer with 5000 digits (at most 640) at column"),
    (phase_line(3, phase=nest(LINE_DEPTH + 1, '"x"')), f"nesting deeper than {LINE_DEPTH} levels at column"),
    (phase_line(3, phase=nest(200_000, '"x"')), "nesting deeper than"),
    (phase_line(3, phase='"\\ud800"'), "unpaired surrogate \\ud800 in a string"),
    (phase_line(3, phase='"cafe"').replace(b"cafe", b"caf\xe9"), "not UTF-8: byte"),
])  # fmt: skip
def test_a_journal_line_beyond_the_limits_is_a_located_error(tmp_path: Path, line: bytes, words: str) -> None:
    path = with_line(tmp_path, 4, line)
    with pytest.raises(JournalError) as caught:
        read_journal(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:4: ") and words in message, message
    assert "\n" not in message


def test_a_coerced_nan_in_a_payload_field_names_the_field(tmp_path: Path) -> None:
    line = (b'{"v":1,"seq":3,"kind":"ActivityRan","wall":"2026-01-01T09:00:01.000000Z","t":1.0,"source":"injector",'
            b'"data":{"owner":"f","name":"n","phase":"method","provider":"process","status":"failed",'
            b'"started_t":1.0,"duration_s":"Infinity"}}')
    path = with_line(tmp_path, 4, line)
    with pytest.raises(JournalError, match=r"bad\.jsonl:4: ActivityRan\.data\.duration_s: a finite number is required, "
                                           r"got 'Infinity'"):
        read_journal(path)


def test_free_text_nan_is_text(tmp_path: Path) -> None:
    line = (b'{"v":1,"seq":3,"kind":"NoteAdded","wall":"2026-01-01T09:00:01.000000Z","t":1.0,"source":"alice",'
            b'"data":{"text":"NaN"}}')
    journal = read_journal(with_line(tmp_path, 4, line))
    assert journal.events[3].data == NoteAdded(text="NaN")


@pytest.mark.parametrize("line", [phase_line(3, t="NaN"), phase_line(3, phase=nest(200_000, '"x"')),
                                  phase_line(3, t="7" * 5000)], ids=["nan", "deep", "huge-int"])
def test_a_torn_last_line_beyond_the_limits_is_tolerated_as_torn(tmp_path: Path, line: bytes) -> None:
    journal = read_journal(with_line(tmp_path, 4, line, newline=False))  # a crash mid-write leaves no newline
    assert journal.torn and len(journal.events) == 3


def test_gameday_score_names_the_line_of_a_nan_in_one_line_exit_2(tmp_path: Path) -> None:
    bad = with_line(tmp_path, 3, phase_line(2, t="NaN"))
    proc = subprocess.run([str(GAMEDAY), "score", str(bad)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == (f"gameday: {bad}:3: non-finite number NaN (only finite numbers are allowed) "
                           "at column 79\n"), proc.stderr


# ------------------------------------------------------------------------------------ the journal: writing
SCENARIO = Scenario.model_validate({
    "apiVersion": "gameday/v1", "id": "jsonsafe", "title": "Strict journal", "severity": "SEV3",
    "target": {"url": "http://127.0.0.1:9"}, "steady_state": [{"name": "up", "http": {"url": "{target.url}/"}}],
    "faults": [{"id": "f", "at": "1s", "activities": [{"type": "action"}], "rollbacks": [{"type": "action"}]}],
    "detection": {"within": "60s"}, "recovery": {"within": "5m"}, "abort": {"max_duration": "10m"},
})  # fmt: skip


@pytest.mark.parametrize("payload, words", [
    (ActivityRan(owner="f", name="n", phase="method", provider="process", status="failed", started_t=1.0,
                 duration_s=float("nan")), "Out of range float"),
    (AlertReceived(format="generic", matched=False, payload=json.loads(nest(LINE_DEPTH))), "nesting deeper"),
    (AlertReceived(format="generic", matched=False, payload={"n": 10 ** 700}), "integer with 701 digits"),
    (NoteAdded(text="half a pair: \ud83d"), "unpaired surrogate"),
], ids=["nan-field", "too-deep", "huge-int", "lone-surrogate"])  # fmt: skip
def test_the_writer_refuses_an_event_it_could_not_read_back(tmp_path: Path, payload, words: str) -> None:
    writer = JournalWriter(tmp_path / "journal.jsonl", FakeClock(), fsync=False)
    writer.append(DrillStarted(drill_id="d", mode="ci", scenario=SCENARIO, policy=DEFAULT_POLICY), "conductor")
    size = writer.path.stat().st_size
    with pytest.raises(EventError, match=words) as caught:
        writer.append(payload, "conductor")
    assert str(caught.value).startswith(f"{payload.KIND}: cannot be journaled: ")
    assert writer.path.stat().st_size == size  # nothing written
    writer.append(NoteAdded(text="after"), "alice")  # the next event takes the sequence number the refused one did not
    writer.close()
    journal = read_journal(writer.path)
    assert [e.seq for e in journal.events] == [0, 1] and journal.events[1].data == NoteAdded(text="after")


def test_an_envelope_with_a_non_finite_offset_is_refused_too() -> None:
    event = make_event(PhaseChanged(phase="baseline"), seq=1, wall="2026-01-01T00:00:00.000000Z", t=float("inf"),
                       source="conductor")
    with pytest.raises(EventError, match=r"^PhaseChanged: cannot be journaled: Out of range float"):
        encode_event(event)


def test_every_golden_line_encodes_to_its_own_bytes() -> None:
    for line in golden_lines():
        assert encode_event(decode_line(line.decode())) == line
