"""JournalWriter: whole lines only, even when the disk fails mid-line."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

import gameday.journal as journal_mod
from gameday.clock import FakeClock
from gameday.journal import JournalWriter, read_journal
from gameday.model.events import (
    AlertReceived,
    DetectionRecorded,
    DrillAborted,
    DrillEnded,
    DrillStarted,
    LoadStats,
    NoteAdded,
    PhaseChanged,
    SilenceCreated,
)
from gameday.model.policy import DEFAULT_POLICY
from gameday.model.scenario import Scenario

SCENARIO = Scenario.model_validate({
    "apiVersion": "gameday/v1", "id": "journal-writer", "title": "Journal writer", "severity": "SEV3",
    "target": {"url": "http://127.0.0.1:9"}, "steady_state": [{"name": "up", "http": {"url": "{target.url}/"}}],
    "faults": [{"id": "f", "at": "1s", "activities": [{"type": "action"}], "rollbacks": [{"type": "action"}]}],
    "detection": {"within": "60s"}, "recovery": {"within": "5m"}, "abort": {"max_duration": "10m"},
})  # fmt: skip


def started(drill_id: str = "d") -> DrillStarted:
    return DrillStarted(drill_id=drill_id, mode="ci", scenario=SCENARIO, policy=DEFAULT_POLICY)


def test_a_failed_append_leaves_no_half_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    writer = JournalWriter(tmp_path / "journal.jsonl", FakeClock(), fsync=False)
    writer.append(started(), "conductor")
    real_write = os.write

    def half_then_full(fd: int, data) -> int:  # the disk fills up half-way through the line
        real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(journal_mod.os, "write", half_then_full)
    with pytest.raises(OSError, match="No space left"):
        writer.append(PhaseChanged(phase="preflight"), "conductor")
    monkeypatch.setattr(journal_mod.os, "write", real_write)
    writer.append(PhaseChanged(phase="baseline"), "conductor")
    writer.close()

    replay = read_journal(tmp_path / "journal.jsonl")
    assert not replay.torn
    assert [e.kind for e in replay.events] == ["DrillStarted", "PhaseChanged"]
    assert replay.events[1].data == PhaseChanged(phase="baseline")


def test_append_after_close_is_refused(tmp_path: Path) -> None:
    writer = JournalWriter(tmp_path / "journal.jsonl", FakeClock(), fsync=True)
    writer.append(started(), "conductor")
    writer.close()
    writer.close()  # idempotent
    with pytest.raises(ValueError, match="journal is closed"):
        writer.append(DrillEnded(outcome="completed"), "conductor")
    assert len(read_journal(tmp_path / "journal.jsonl").events) == 1


def test_listeners_see_events_in_journal_order_across_threads(tmp_path: Path) -> None:
    import threading

    writer = JournalWriter(tmp_path / "journal.jsonl", FakeClock(), fsync=False)
    seen: list[int] = []
    writer.listeners.append(lambda event: seen.append(event.seq))

    def burst(name: str) -> None:
        for i in range(200):
            writer.append(NoteAdded(text=f"{name} {i}"), name)

    threads = [threading.Thread(target=burst, args=(f"t{n}",)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == list(range(800))
    for n in range(4):  # each thread's events in the order it appended them
        mine = [e.data.text for e in writer.events if e.source == f"t{n}" and isinstance(e.data, NoteAdded)]
        assert mine == [f"t{n} {i}" for i in range(200)]


def test_a_listener_may_append_and_every_listener_still_sees_journal_order(tmp_path: Path) -> None:
    writer = JournalWriter(tmp_path / "journal.jsonl", FakeClock(), fsync=False)
    first_seen: list[int] = []
    later_seen: list[int] = []

    def echo(event) -> None:
        first_seen.append(event.seq)
        if isinstance(event.data, AlertReceived):
            writer.append(DetectionRecorded(via="alert", alert_seq=event.seq), "conductor")

    writer.listeners += [echo, lambda event: later_seen.append(event.seq)]
    writer.append(AlertReceived(format="alertmanager", matched=True), "intake")
    assert [e.kind for e in writer.events] == ["AlertReceived", "DetectionRecorded"]
    assert isinstance(writer.events[1].data, DetectionRecorded) and writer.events[1].data.alert_seq == 0
    assert first_seen == later_seen == [0, 1]


def test_an_interrupt_mid_line_leaves_no_half_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    writer = JournalWriter(tmp_path / "journal.jsonl", FakeClock(), fsync=True)
    writer.append(started(), "conductor")

    def interrupted(fd: int) -> None:  # SIGINT's KeyboardInterrupt while the line is being synced
        raise KeyboardInterrupt("SIGINT")

    monkeypatch.setattr(journal_mod.os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        writer.append(SilenceCreated(id="s1"), "monitoring")
    monkeypatch.undo()
    writer.append(DrillAborted(reason="SIGINT"), "conductor")
    writer.close()
    replay = read_journal(tmp_path / "journal.jsonl")
    assert [(e.seq, e.kind) for e in replay.events] == [(0, "DrillStarted"), (1, "DrillAborted")]


def test_the_plain_live_view_prints_every_line_in_order_off_the_journal_lock(tmp_path: Path) -> None:
    import threading

    from gameday.drill.liveview import LiveView

    writer = JournalWriter(tmp_path / "journal.jsonl", FakeClock(), fsync=False)
    release, lines = threading.Event(), []

    def slow_stdout(line: str) -> None:  # a CI log pipe that is full for a while
        release.wait(10)
        lines.append(line)

    with LiveView(scenario=None, journal=writer, echo=slow_stdout, tty=False):  # type: ignore[arg-type]
        writer.append(PhaseChanged(phase="preflight"), "conductor")
        writer.append(LoadStats(t_from=0.0, t_to=1.0), "load")  # quiet kind: not printed
        writer.append(PhaseChanged(phase="baseline"), "conductor")  # appends do not wait for the pipe
        assert lines == []
        release.set()
    assert len(lines) == 2 and all("PhaseChanged" in line for line in lines)
    assert "preflight" in lines[0] and "baseline" in lines[1]
