"""Fuzzing journal lines: what ``read_journal`` takes, and what the scorecard and postmortem make of it.

Invariants (``gameday/journal.py``, the README's exit codes):

* ``read_journal`` returns the typed events or raises ``JournalError`` naming the line (a torn last
  line is tolerated): never another exception, whatever the bytes;
* a journal it reads scores, and every report is written from it: the scorecard strict JSON and
  byte-identical when rescored, the JUnit well-formed XML (non-finite numbers, huge integers and
  hostile text included);
* ``gameday score`` exits 0 for a journal that reads and 2 for one that does not, with a one-line,
  terminal-safe message and never a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import (
    assert_cli,
    assert_reports_written,
    budget,
    json_values,
    raw_bodies,
    run_cli,
    to_json,
    typed_mutation,
)

from gameday.errors import JournalError
from gameday.journal import read_journal
from gameday.model.events import PAYLOADS

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "journals"
JOURNALS = {p.name: p.read_bytes().splitlines(keepends=True) for p in sorted(GOLDEN.glob("*.jsonl"))}


@st.composite
def journals(draw: st.DrawFn) -> bytes:
    """A golden journal with 1..3 changes: a line's values replaced by hostile ones of the same type (the
    event may still be valid), a line's JSON mutated freely, a line of raw bytes, lines dropped, doubled
    or swapped, an event of any kind with hostile data added, or the file cut anywhere."""
    lines = list(JOURNALS[draw(st.sampled_from(sorted(JOURNALS)), label="golden")])
    for _ in range(draw(st.integers(1, 3))):
        how = draw(st.sampled_from(["typed", "typed", "typed", "json", "raw", "drop", "double", "swap", "add", "cut"]))
        i = draw(st.integers(0, len(lines) - 1))
        if how in ("typed", "json"):
            try:
                obj = json.loads(lines[i])
            except ValueError:
                continue
            if how == "typed":
                changed = draw(typed_mutation(obj))
            else:
                from strategies import mutated

                changed = draw(mutated(obj, json_values(max_leaves=4)))
            lines[i] = (to_json(changed) + "\n").encode()
        elif how == "raw":
            lines[i] = draw(raw_bodies()) + b"\n"
        elif how == "drop" and len(lines) > 1:
            del lines[i]
        elif how == "double":
            lines.insert(i, lines[i])
        elif how == "swap" and len(lines) > 1:
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif how == "add":
            kind = draw(st.sampled_from(sorted(PAYLOADS)))
            data = draw(st.dictionaries(st.sampled_from(sorted(PAYLOADS[kind].model_fields) or ["x"]), json_values(max_leaves=3),
                                        max_size=4))
            event = {"v": 1, "seq": i, "kind": kind, "wall": "2026-01-01T09:00:30.000000Z", "t": 30.0, "source": "fuzz",
                     "data": data}
            lines.insert(i, (to_json(event) + "\n").encode())
        elif how == "cut":
            whole = b"".join(lines)
            cut = draw(st.integers(0, len(whole)))
            lines = [whole[:cut]]
    return b"".join(lines)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("journals")


@budget(50)
@given(data=journals())
def test_a_journal_reads_or_names_its_bad_line_and_what_reads_scores_and_reports(folder, data):
    path = folder / "journal.jsonl"
    path.write_bytes(data)
    try:
        journal = read_journal(path)
    except JournalError as exc:
        message = str(exc)
        assert message.startswith(f"{path}:") and "\n" not in message.strip(), message
        return
    assert journal.events, "a journal that reads has events"
    assert_reports_written(path, folder / "reports", mode="ci")


@budget(25)
@given(data=journals(), fmt=st.sampled_from(["json", "md", "html"]))
def test_gameday_score_exits_0_or_2_with_one_line(folder, data, fmt):
    path = folder / "cli.jsonl"
    path.write_bytes(data)
    try:
        read_journal(path)
        expected = {0}
    except JournalError:
        expected = {2}
    result = run_cli(["score", str(path), "--format", fmt])
    assert_cli(result, expected, f"gameday score --format {fmt}", stdout_is_terminal_text=False)
    if result.exit_code == 2:
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


NON_FINITE = {  # (field, raw JSON written in its place on a line in the middle of a golden journal)
    "t NaN": ("t", "NaN"),
    "t Infinity": ("t", "Infinity"),
    "t -1e999": ("t", "-1e999"),
    "t 1e308": ("t", "1e308"),
    "seq 10**5000": ("seq", "1" + "0" * 5000),
    "v 10**5000": ("v", "1" + "0" * 5000),
}


@pytest.mark.parametrize("what", list(NON_FINITE))
def test_non_finite_and_huge_numbers_in_a_line_are_refused_or_scored_as_strict_json(folder, what):
    import re

    field, raw = NON_FINITE[what]
    lines = (GOLDEN / "clean.jsonl").read_text().splitlines(keepends=True)
    target = len(lines) // 2
    lines[target] = re.sub(rf'"{field}":[-0-9.eE]+', lambda _: f'"{field}":{raw}', lines[target], count=1)
    path = folder / "non-finite.jsonl"
    path.write_text("".join(lines))
    try:
        read_journal(path)
    except JournalError as exc:  # the line itself, or the next one (a time offset that goes backwards after it)
        assert f":{target + 1}:" in str(exc) or f":{target + 2}:" in str(exc), str(exc)
        return
    assert_reports_written(path, folder / "non-finite", mode="ci")


@pytest.mark.parametrize("depth", [100, 990, 10_000])
def test_a_deeply_nested_payload_line_is_refused_or_read(folder, depth):
    line = ('{"v":1,"seq":1,"kind":"AlertReceived","wall":"2026-01-01T09:00:05.000000Z","t":5.0,"source":"webhook",'
            '"data":{"format":"generic","matched":false,"payload":' + "[" * depth + "]" * depth + "}}\n")
    first = (GOLDEN / "clean.jsonl").read_text().splitlines(keepends=True)[0]
    path = folder / "deep.jsonl"
    path.write_text(first + line)
    try:
        read_journal(path)
    except JournalError as exc:
        assert ":2:" in str(exc), str(exc)
        return
    assert_reports_written(path, folder / "deep", mode="ci")
