"""Read the drills of many journals into :class:`~gameday.model.trends.DrillRow` rows, fast.

Each journal's measures come from its **scorecard**, the drill's own analysis of that journal
(:func:`gameday.analysis.scorecard.score_journal`, a pure function: rescoring gives the same
bytes). A drill writes its scorecard when it ends (``reports/DRILL_ID/scorecard.json``,
``scorecards/DRILL_ID.json``, or ``--out DIR/scorecard.json``); that file is read when it is
*current*: it names the journal's drill and was written after the journal's last change.
Otherwise — no scorecard, an older one, or ``rescore=True`` — the journal is scored now, in
worker processes when there are many. Of the journal itself only the first line is read (the
``DrillStarted``: the scenario's tags and detection signals). Both files are parsed with narrow
pydantic models that skip what the trends do not use.

The **cache** (``.gameday/trends-cache.json``) keeps every row with the size and modification
time of its journal and scorecard; a later run re-reads only what changed. A cache that cannot
be read is ignored (and rebuilt), never trusted.

Nothing unreadable stops the trends: a journal that cannot be read is skipped with a one-line
warning naming it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from gameday.errors import GamedayError
from gameday.limits import MAX_LINE
from gameday.model.names import RESERVED_NAMES
from gameday.model.trends import DrillRow
from gameday.program.trends_scan import Card, Inputs, find_journals, scan_inputs, stamp_of
from gameday.program.trends_views import CardView, StartedView
from gameday.version import __version__

if TYPE_CHECKING:
    from multiprocessing.context import BaseContext

__all__ = ["CACHE_NAME", "Inputs", "Scan", "find_journals", "read_rows", "scan_inputs"]  # the scan re-exported

CACHE_NAME = "trends-cache.json"
#: Score journals in worker processes when at least this many need it; read them so from this many.
PARALLEL_FROM, PARALLEL_READ_FROM = 16, 1000


@dataclass
class Scan:
    """What :func:`read_rows` found: the rows (sorted by start, then drill id) and what it skipped."""

    rows: list[DrillRow] = field(default_factory=list)
    journals: int = 0
    skipped: list[str] = field(default_factory=list)
    scored: int = 0
    from_cache: int = 0


def _started(path: str) -> StartedView:
    with open(path, "rb") as fh:
        line = fh.readline(MAX_LINE + 1)
    try:
        view = StartedView.model_validate_json(line)
    except ValidationError:
        raise GamedayError(f"{path}: not a gameday journal (its first line is not a DrillStarted event)") from None
    if view.kind != "DrillStarted":
        raise GamedayError(f"{path}: not a gameday journal (its first event is {view.kind}, not DrillStarted)")
    return view


def _card_for(journal: str, drill_id: str, inputs: Inputs, journal_mtime: int) -> Card | None:
    """The drill's scorecard when one is current: it names the drill and is not older than the journal."""
    for card in (inputs.siblings.get(journal), inputs.cards.get(drill_id)):
        if card is not None and card[1][1] >= journal_mtime:
            return card
    return None


def _row(journal: str, started: StartedView, card: CardView, source: Literal["scorecard", "scored"]) -> DrillRow:
    """The row (pydantic validates it in ~8 µs: faster than ``model_construct``, which loops in Python; its turns
    are given as dicts, validated with it in one call rather than one Python ``__init__`` each)."""
    times = {m.name: m.seconds for m in card.times}
    due = [s for s in card.steps if s.verdict != "not_applicable"]
    pairs = sorted({(role, p) for role, people in card.roles.holders.items() for p in people})
    people = sorted(p for p in {p for _, p in pairs} | {s.author for s in card.steps if s.author}
                    if p.casefold() not in RESERVED_NAMES)  # a machine (automation, script) is nobody's turn
    scenario = started.data.scenario
    signals = [s.name or s.alert.alertname or "?" for s in (scenario.detection.signals if scenario.detection else [])]
    return DrillRow(
        journal=journal, source=source, drill_id=card.drill_id, scenario_id=card.scenario_id, title=card.title,
        mode=card.mode, started_at=card.started_at, outcome=card.outcome, verdict=card.verdict,
        score=card.score.total if card.score.status == "scored" else None,
        fault_injected=any(f.status == "injected" for f in card.faults),
        mttd=times.get("MTTD"), mtta=times.get("MTTA"), mttr=times.get("MTTR"), recovery=times.get("time_to_recovery"),
        steps_due=len(due), steps_on_time=sum(s.verdict == "on_time" for s in due),
        severity_judged=not card.severity.note.startswith("not applicable"), severity_correct=card.severity.correct,
        detection=card.detection.verdict, detected_by=card.detection.signal or card.detection.via,
        signals=signals, tags=list(scenario.tags), turns=[{"person": p, "role": r} for r, p in pairs],  # type: ignore[misc]  # validated in Rust
        people=people)


def _score_row(journal: str, started: StartedView) -> DrillRow:
    from gameday.analysis.scorecard import score_journal
    from gameday.journal import read_journal

    card = score_journal(read_journal(Path(journal)))
    return _row(journal, started, CardView.model_validate_json(card.model_dump_json()), "scored")


def _score_task(path: str) -> tuple[str, str | None, str | None]:
    """In a worker: (path, the row's JSON or None, the warning or None)."""
    try:
        return path, _score_row(path, _started(path)).model_dump_json(), None
    except (GamedayError, OSError, ValidationError) as exc:
        return path, None, _why(path, exc)


def _why(journal: str, exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return f"{journal}: cannot read: {exc.strerror or exc}"
    text = str(exc)
    return text if text.startswith(journal) else f"{journal}: {text}"


# ------------------------------------------------------------------------------------------ the cache
class _CacheEntry(BaseModel):
    """A journal, its (size, mtime_ns), the scorecard read (None: scored) and its (size, mtime_ns), the row."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    journal: str
    stamp: tuple[int, int]
    card: str | None
    card_stamp: tuple[int, int] | None
    row: DrillRow


_ENTRIES = TypeAdapter(list[_CacheEntry])


def _load_cache(path: Path | None) -> dict[str, _CacheEntry]:
    """The cache's entries by journal; {} when there is none, it is of another gameday version, or it does
    not validate (a torn or edited file: ignored, then rewritten). One ``validate_json`` for the lot."""
    if path is None:
        return {}
    import json

    try:
        head, _, body = path.read_bytes().partition(b"\n")
        if json.loads(head) != {"gameday_version": __version__}:
            return {}
        return {e.journal: e for e in _ENTRIES.validate_json(body)}
    except (OSError, ValueError, RecursionError):  # ValidationError is a ValueError; json nests without a limit
        return {}


def _save_cache(path: Path | None, entries: Iterable[_CacheEntry]) -> None:
    if path is None:
        return
    import json

    from gameday.fsutil import atomic_write

    body = _ENTRIES.dump_json(sorted(entries, key=lambda e: e.journal))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, json.dumps({"gameday_version": __version__}).encode() + b"\n" + body)
    except OSError:
        pass  # a cache that cannot be written costs the next run time, nothing else


def _card_current(entry: _CacheEntry, inputs: Inputs) -> bool:
    """A cached row read from a scorecard stays good while that file is unchanged (as the scan saw it)."""
    if entry.card is None or entry.card_stamp is None:
        return True
    return inputs.cardstamp_of(entry.card) == entry.card_stamp


#: What reading one journal came to: its entry, or "score" (no current scorecard: score the journal), or a warning.
Read = tuple[str, _CacheEntry | None, bool, str | None]


def _read_one(journal: str, stamp: tuple[int, int], inputs: Inputs) -> Read:
    """(journal, entry, whether it must be scored, warning) for a journal the cache did not hold."""
    try:
        started = _started(journal)
        found = _card_for(journal, started.data.drill_id, inputs, stamp[1])
        if found is None:
            return journal, None, True, None
        with open(found[0], "rb") as fh:
            view = CardView.model_validate_json(fh.read())
    except ValidationError:  # a scorecard that does not read as one: score the journal instead
        return journal, None, True, None
    except (GamedayError, OSError) as exc:
        return journal, None, False, _why(journal, exc)
    if view.drill_id != started.data.drill_id:
        return journal, None, True, None
    return journal, _CacheEntry(journal=journal, stamp=stamp, card=found[0], card_stamp=found[1],
                                row=_row(journal, started, view, "scorecard")), False, None


def _read_chunk(chunk: list[tuple[str, tuple[int, int]]], inputs: Inputs) -> tuple[bytes, list[Read]]:
    """In a worker: the entries read as one JSON document (cheaper to send back than pickled models), and the rest."""
    entries, rest = [], []
    for journal, stamp in chunk:
        read = _read_one(journal, stamp, inputs)
        if read[1] is not None:
            entries.append(read[1])
        else:
            rest.append(read)
    return _ENTRIES.dump_json(entries), rest


def _read_all(todo: list[tuple[str, tuple[int, int]]], inputs: Inputs, workers: int | None) -> Iterable[Read]:
    """Read the journals, in worker processes when there are many (each costs ~0.25 ms, mostly pydantic parsing
    the journal's first line and the scorecard: parallel work).

    Forked workers find ``inputs`` in their copy of this process (:data:`_FORKED`): pickling it (20,000 stats,
    ~3 MB) would cost ~60 ms a chunk. So they take small chunks, and this process turns each chunk's entries
    into rows while the workers read the next ones. A ``forkserver`` worker gets it pickled, in one chunk each."""
    global _FORKED
    n = workers or os.cpu_count() or 1
    if len(todo) < PARALLEL_READ_FROM or n <= 1:
        for journal, stamp in todo:
            yield _read_one(journal, stamp, inputs)
        return
    from concurrent.futures import Future, ProcessPoolExecutor

    context = _context()
    forked = context.get_start_method() == "fork"
    size = max(CHUNK, -(-len(todo) // (n * 4))) if forked else -(-len(todo) // n)
    _FORKED = inputs if forked else None
    try:
        with ProcessPoolExecutor(max_workers=n, mp_context=context) as pool:
            futures: list[Future[tuple[bytes, list[Read]]]] = [
                pool.submit(_read_forked, todo[i:i + size]) if forked else pool.submit(_read_chunk, todo[i:i + size], inputs)
                for i in range(0, len(todo), size)]
            _warm_up()  # the analysis's imports, while the workers read
            for future in futures:
                body, rest = future.result()
                for entry in _ENTRIES.validate_json(body):
                    yield entry.journal, entry, False, None
                yield from rest
    finally:
        _FORKED = None


#: The scan, for forked workers (set only while :func:`_read_all` runs them). Chunks of this many drills at least.
_FORKED: Inputs | None = None
CHUNK = 500


def _read_forked(chunk: list[tuple[str, tuple[int, int]]]) -> tuple[bytes, list[Read]]:
    """In a forked worker: :func:`_read_chunk` with the scan inherited from the parent."""
    assert _FORKED is not None
    return _read_chunk(chunk, _FORKED)


def _warm_up() -> None:
    """Import pandas (what :func:`gameday.program.trends.analyse` needs next, ~0.25 s) while the workers read."""
    import pandas  # noqa: F401


def _context() -> BaseContext:
    """``fork`` while this process runs no other thread (as the CLI does, before pandas): a worker starts in
    ~10 ms; otherwise ``forkserver`` (forking a process with threads could copy a held lock)."""
    import multiprocessing
    import threading

    single = threading.active_count() == 1 and "numpy" not in sys.modules  # numpy starts OpenBLAS threads
    return multiprocessing.get_context("fork" if single else "forkserver")


def read_rows(folders: Sequence[Path], *, cache: Path | None = None, rescore: bool = False,
              workers: int | None = None, inputs: Inputs | None = None) -> Scan:
    """Every drill of the folders' journals, one :class:`DrillRow` each (see the module docstring).

    ``cache``: the cache file (None: no cache). ``rescore``: score every journal now, never reading a
    scorecard or the cache. ``workers``: processes for reading and scoring (default: the CPUs). ``inputs``: the
    folders already scanned (:func:`scan_inputs`)."""
    inputs = inputs if inputs is not None else scan_inputs(folders)
    journals, warnings = inputs.journals, list(inputs.warnings)
    cached = {} if rescore else _load_cache(cache)
    scan = Scan(journals=len(journals), skipped=warnings)
    entries: dict[str, _CacheEntry] = {}
    to_read: list[tuple[str, tuple[int, int]]] = []
    to_score: list[tuple[str, tuple[int, int]]] = []
    for journal in sorted(journals):
        stamp = stamp_of(journals[journal])
        hit = cached.get(journal)
        if hit is not None and hit.stamp == stamp and _card_current(hit, inputs):
            entries[journal] = hit
            scan.from_cache += 1
        else:
            (to_score if rescore else to_read).append((journal, stamp))
    stamps = dict(to_read)
    for journal, entry, must_score, warning in _read_all(to_read, inputs, workers):
        if entry is not None:
            entries[journal] = entry
        elif must_score:
            to_score.append((journal, stamps[journal]))
        elif warning is not None:
            scan.skipped.append(warning)
    for key, stamp, row_json, warning in _score_all(to_score, workers):
        if row_json is None:
            scan.skipped.append(warning or f"{key}: cannot be scored")
            continue
        entries[key] = _CacheEntry(journal=key, stamp=stamp, card=None, card_stamp=None,
                                   row=DrillRow.model_validate_json(row_json))
        scan.scored += 1
    if not rescore:
        _save_cache(cache, entries.values())
    copies: dict[str, list[_CacheEntry]] = {}
    for journal in sorted(entries):  # one row per drill: a journal copied elsewhere is the same drill
        copies.setdefault(entries[journal].row.drill_id, []).append(entries[journal])
    for drill_id, same in copies.items():
        kept = max(same, key=lambda e: e.stamp[0])  # the most complete copy (the longest; the first of equals)
        scan.rows.append(kept.row)
        scan.skipped += [f"{e.journal}: the same drill as {kept.journal} (drill {drill_id}), which is read"
                         for e in same if e is not kept]
    scan.rows.sort(key=lambda r: (r.started_at, r.drill_id))
    scan.skipped.sort()
    return scan


def _score_all(todo: list[tuple[str, tuple[int, int]]], workers: int | None
               ) -> Iterable[tuple[str, tuple[int, int], str | None, str | None]]:
    stamps = dict(todo)
    if len(todo) < PARALLEL_FROM or (workers or os.cpu_count() or 1) <= 1:
        for path, stamp in todo:
            key, row, warning = _score_task(path)
            yield key, stamp, row, warning
        return
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=workers or os.cpu_count(), mp_context=_context()) as pool:
        for key, row, warning in pool.map(_score_task, list(stamps), chunksize=32):
            yield key, stamps[key], row, warning
