"""The drill's garbage-collector policy: the heap is frozen at the start and every N journal events."""

from __future__ import annotations

import gc
from pathlib import Path

from gameday.clock import FakeClock
from gameday.drill.heap import frozen_heap
from gameday.journal import JournalWriter
from gameday.model.events import NoteAdded


def test_the_heap_is_frozen_at_start_and_every_n_events_and_unfrozen_at_the_end(tmp_path: Path) -> None:
    journal = JournalWriter(tmp_path / "journal.jsonl", FakeClock(), fsync=False)
    gc.unfreeze()
    with frozen_heap(journal, every=3):
        assert gc.get_freeze_count() > 0
        journal.append(NoteAdded(text="one"), "t")
        journal.append(NoteAdded(text="two"), "t")
        before = gc.get_freeze_count()
        kept = [NoteAdded(text=str(i)) for i in range(50)]  # new objects, not yet frozen
        journal.append(NoteAdded(text="three"), "t")  # the third event freezes them
        assert gc.get_freeze_count() >= before + len(kept)
    assert gc.get_freeze_count() == 0 and journal.listeners == []
    journal.close()
