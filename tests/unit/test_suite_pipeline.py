"""A CI suite's pipeline: ordered output, the report queue, and the report process (a real child process
writing real reports from a golden journal: the same bytes as writing them in-process)."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest

from gameday.drill.assemble import PlayedDrill
from gameday.drill.reports import Outputs
from gameday.suite.pipeline import OrderedOutput, ReportQueue
from gameday.suite.report_worker import ReportFailed, ReportWriter

JOURNALS = Path(__file__).resolve().parents[1] / "fixtures" / "journals"


# ------------------------------------------------------------------ ordered output


def test_a_later_slot_is_held_until_every_earlier_one_closes() -> None:
    printed: list[str] = []
    out = OrderedOutput(printed.append)
    (a, close_a), (b, close_b), (c, close_c) = out.slot(), out.slot(), out.slot()
    a("a1")
    b("b1")
    c("c1")
    assert printed == ["a1"]
    close_b()  # closed out of turn: nothing moves until a closes
    c("c2")
    assert printed == ["a1"]
    a("a2")
    close_a()
    assert printed == ["a1", "a2", "b1", "c1", "c2"]  # b's lines, then c's (now the head: printed as they come)
    c("c3")
    close_c()
    d, _ = out.slot()
    d("d1")
    assert printed == ["a1", "a2", "b1", "c1", "c2", "c3", "d1"]


def test_lines_from_many_threads_come_out_slot_by_slot() -> None:
    printed: list[str] = []
    out = OrderedOutput(printed.append)
    slots = [out.slot() for _ in range(8)]

    def talk(k: int) -> None:
        echo, close = slots[k]
        for n in range(50):
            echo(f"{k}:{n}")
            if n % 7 == 0:
                time.sleep(0.0005)
        close()

    threads = [threading.Thread(target=talk, args=(k,)) for k in reversed(range(8))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert printed == [f"{k}:{n}" for k in range(8) for n in range(50)]


# ------------------------------------------------------------------ the report queue


def test_jobs_run_in_order_each_once_its_gate_opens() -> None:
    done: list[int] = []
    queue = ReportQueue()
    gates = [threading.Event() for _ in range(3)]
    for k, gate in enumerate(gates):
        queue.put(lambda k=k: done.append(k), gate, 60)
    time.sleep(0.05)
    assert done == []  # the first job waits for its gate, and the others for it
    gates[1].set()
    gates[2].set()
    time.sleep(0.05)
    assert done == []
    gates[0].set()
    queue.join()
    assert done == [0, 1, 2]


def test_a_gate_that_never_opens_holds_a_job_no_longer_than_its_grace() -> None:
    done: list[float] = []
    queue = ReportQueue()
    start = time.monotonic()
    queue.put(lambda: done.append(time.monotonic() - start), threading.Event(), 0.2)  # never set
    queue.join()
    assert len(done) == 1 and done[0] >= 0.2  # ran, once the grace had passed


def test_a_late_line_for_a_closed_slot_is_printed_not_dropped() -> None:
    printed: list[str] = []
    out = OrderedOutput(printed.append)
    (a, close_a), (b, _) = out.slot(), out.slot()
    close_a()
    a("late")
    b("b1")
    assert printed == ["late", "b1"]


def test_an_escaping_error_does_not_stop_the_later_jobs_and_join_raises_it() -> None:
    done: list[str] = []
    queue = ReportQueue()
    opened = threading.Event()
    opened.set()

    def boom() -> None:
        raise RuntimeError("a bug")

    queue.put(boom, opened, 60)
    queue.put(lambda: done.append("after"), opened, 60)
    with pytest.raises(RuntimeError, match="a bug"):
        queue.join()
    assert done == ["after"]
    queue.join()  # raised once; the queue can be used again
    queue.put(lambda: done.append("again"), opened, 60)
    queue.join()
    assert done == ["after", "again"]


# ------------------------------------------------------------------ the report process


def _played(folder: Path, name: str, outcome: str = "completed") -> PlayedDrill:
    folder.mkdir(parents=True)
    shutil.copy(JOURNALS / f"{name}.jsonl", folder / "journal.jsonl")
    outputs = Outputs.for_drill(folder.parent, "x", folder)  # everything in `folder` (not a default place: no findings)
    return PlayedDrill(outputs, "ci", outcome, None, None)


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("name", ["clean", "late", "silent", "aborted"])
def test_the_report_process_writes_the_same_bytes_and_lines_as_this_one(tmp_path: Path, name: str) -> None:
    there, here = _played(tmp_path / "there", name), _played(tmp_path / "here", name)
    writer = ReportWriter(None)
    lines_there: list[str] = []
    try:
        code_there = writer.write(there, lines_there.append)
        assert writer.fallback is None
    finally:
        writer.close()
    lines_here: list[str] = []
    code_here = here.report(lines_here.append)
    assert code_there == code_here
    assert [line.replace(str(tmp_path / "there"), "") for line in lines_there] == \
        [line.replace(str(tmp_path / "here"), "") for line in lines_here]
    assert _files(tmp_path / "there") == _files(tmp_path / "here")


def test_a_bad_journal_is_the_drills_error_with_its_exit_code(tmp_path: Path) -> None:
    played = _played(tmp_path / "bad", "clean")
    played.outputs.journal.write_text('{"not": "a journal line"}\n')
    writer = ReportWriter(None)
    try:
        with pytest.raises(ReportFailed) as caught:
            writer.write(played, lambda line: None)
        assert caught.value.type_name == "JournalError" and caught.value.exit_code == 2
        assert "journal" in str(caught.value)
        assert writer.fallback is None  # the process still serves the next drill
        good = _played(tmp_path / "good", "clean")
        assert writer.write(good, lambda line: None) == 0
    finally:
        writer.close()


def test_a_report_process_that_died_loses_no_report(tmp_path: Path) -> None:
    writer = ReportWriter(None)
    writer.start()
    proc = writer._proc
    assert proc is not None
    proc.kill()
    proc.wait(10)
    played = _played(tmp_path / "d", "clean")
    lines: list[str] = []
    try:
        assert writer.write(played, lines.append) == 0
    finally:
        writer.close()
    assert writer.fallback is not None and writer.fallback.startswith("the report process ended")
    assert played.outputs.junit.is_file() and played.outputs.postmortem_html.is_file()
    assert any(line.startswith("scorecard:") for line in lines)
    assert lines[0].startswith("suite: the report process ended") and lines[0].endswith("written in the suite's process")


def test_closing_ends_the_report_process(tmp_path: Path) -> None:
    writer = ReportWriter(None)
    writer.start()
    proc = writer._proc
    assert proc is not None
    writer.write(_played(tmp_path / "c", "clean"), lambda line: None)
    writer.close()
    assert proc.poll() is not None
