"""One pass over the trends' folders: the journals, the scorecards beside them and named by drill, and
every ``stat`` the reading needs — and the fingerprint of it all, so an unchanged history is known
without opening a file. No pydantic, no pandas: ``gameday trends`` with nothing changed needs only this.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CARD", "JOURNAL", "Card", "Inputs", "find_journals", "scan_inputs", "stamp_of"]

JOURNAL, CARD = "journal.jsonl", "scorecard.json"


#: A scorecard found by the scan: its path and (size, mtime_ns).
Card = tuple[str, tuple[int, int]]


@dataclass
class Inputs:
    """What the folders hold, from one pass over each (:func:`scan_inputs`): every ``stat`` the reading needs."""

    journals: dict[str, os.stat_result]
    cards: dict[str, Card]
    """``*.json`` files of the folders by name without the suffix (scorecards are named by drill id)"""
    siblings: dict[str, Card]
    """journal path -> the ``scorecard.json`` beside it, where there is one"""
    warnings: list[str]

    def fingerprint(self) -> str:
        """A digest of every journal's and scorecard's path, size and modification time: equal fingerprints,
        equal rows (no file is opened)."""
        import hashlib

        # In the scan's order (the folders' listing order): an unchanged folder lists the same way, and a
        # listing in another order only costs one full run. Sorting 20,000 paths would cost ~10 ms every time.
        lines = [f"j\0{p}\0{st.st_size}\0{st.st_mtime_ns}" for p, st in self.journals.items()]
        lines += [f"s\0{p}\0{c[0]}\0{c[1][0]}\0{c[1][1]}" for p, c in self.siblings.items()]
        lines += [f"c\0{c[0]}\0{c[1][0]}\0{c[1][1]}" for c in self.cards.values()]
        return hashlib.sha256("\n".join(lines).encode(errors="surrogateescape")).hexdigest()

    def cardstamp_of(self, path: str) -> tuple[int, int] | None:
        """The (size, mtime_ns) the scan saw for a scorecard path, None if it did not see it."""
        if self._by_path is None:
            self._by_path = {c[0]: c[1] for c in (*self.cards.values(), *self.siblings.values())}
        return self._by_path.get(path)

    _by_path: dict[str, tuple[int, int]] | None = None


def scan_inputs(folders: Sequence[Path]) -> Inputs:
    """One pass over each folder: its journals, the scorecards beside them and its ``*.json`` files, with their stats."""
    journals: dict[str, os.stat_result] = {}
    cards: dict[str, Card] = {}
    siblings: dict[str, Card] = {}
    warnings: list[str] = []
    for folder in folders:
        try:
            entries = list(os.scandir(folder))
        except FileNotFoundError:
            warnings.append(f"{folder}: no such folder")
            continue
        except OSError as exc:
            warnings.append(f"{folder}: cannot list this folder: {exc.strerror or exc}")
            continue
        sep = os.sep
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue
            try:
                if entry.is_dir():
                    path = f"{entry.path}{sep}{JOURNAL}"  # os.path.join, without its cost 20,000 times
                    st = os.stat(path)
                    if not stat.S_ISREG(st.st_mode):
                        continue
                    journals[path] = st
                    card = f"{entry.path}{sep}{CARD}"
                    if os.access(card, os.F_OK):  # cheaper than a stat that raises, for the many drills without one
                        siblings[path] = (card, stamp_of(os.stat(card)))
                elif name.endswith(".jsonl") and entry.is_file():
                    journals[entry.path] = entry.stat()
                elif name.endswith(".json") and entry.is_file():
                    cards.setdefault(name[:-5], (entry.path, stamp_of(entry.stat())))
            except OSError:
                continue  # a folder without a journal, or an entry gone meanwhile
    return Inputs(journals, cards, siblings, warnings)


def find_journals(folders: Sequence[Path]) -> tuple[list[Path], list[str]]:
    """The journals of the folders (``*/journal.jsonl`` and ``*.jsonl`` in each, as every program reader
    finds them), sorted and without repeats; folders that do not exist are warned about."""
    inputs = scan_inputs(folders)
    return [Path(p) for p in sorted(inputs.journals)], inputs.warnings


def stamp_of(st: os.stat_result) -> tuple[int, int]:
    """(size, mtime_ns): what says a file changed."""
    return st.st_size, st.st_mtime_ns
