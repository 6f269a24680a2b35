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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from gameday.errors import ConfigError, GamedayError
from gameday.model.names import RESERVED_NAMES
from gameday.model.trends import DrillRow, Turn
from gameday.version import __version__

__all__ = ["CACHE_NAME", "Scan", "find_journals", "read_rows"]

CACHE_NAME = "trends-cache.json"
#: Score journals in worker processes when at least this many need it.
PARALLEL_FROM = 16


class _View(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _AlertView(_View):
    alertname: str | None = None


class _SignalView(_View):
    name: str | None = None
    alert: _AlertView


class _DetectionView(_View):
    signals: list[_SignalView] = []


class _ScenarioView(_View):
    id: str
    tags: list[str] = []
    detection: _DetectionView | None = None


class _StartedData(_View):
    drill_id: str
    mode: str
    scenario: _ScenarioView


class _StartedView(_View):
    kind: str
    wall: str
    data: _StartedData


class _MeasureView(_View):
    name: str
    seconds: float | None


class _DetectionResultView(_View):
    verdict: str
    via: str | None = None
    signal: str | None = None


class _StepView(_View):
    verdict: str
    author: str | None = None


class _SeverityView(_View):
    correct: bool
    note: str = ""


class _RolesView(_View):
    holders: dict[str, list[str]]


class _FaultView(_View):
    status: str


class _ScoreView(_View):
    status: str
    total: float | None


class _CardView(_View):
    drill_id: str
    scenario_id: str
    title: str
    mode: str
    outcome: str
    verdict: str
    passed: bool
    started_at: str
    times: list[_MeasureView]
    detection: _DetectionResultView
    steps: list[_StepView]
    severity: _SeverityView
    roles: _RolesView
    faults: list[_FaultView] = []
    score: _ScoreView


class _CacheEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    journal: str
    stamp: tuple[int, int]
    card: str | None
    card_stamp: tuple[int, int] | None
    row: DrillRow


class _Cache(BaseModel):
    model_config = ConfigDict(extra="forbid")
    gameday_version: str
    entries: list[_CacheEntry]


@dataclass
class Scan:
    """What :func:`read_rows` found: the rows (sorted by start, then drill id) and what it skipped."""

    rows: list[DrillRow] = field(default_factory=list)
    journals: int = 0
    skipped: list[str] = field(default_factory=list)
    scored: int = 0
    from_cache: int = 0


def find_journals(folders: Sequence[Path]) -> tuple[list[Path], list[str]]:
    """The journals of the folders (``*/journal.jsonl`` and ``*.jsonl`` in each, as every program reader
    finds them), sorted and without repeats; folders that do not exist are warned about."""
    from gameday.program.training import journal_files

    found: set[Path] = set()
    warnings: list[str] = []
    for folder in folders:
        if not folder.is_dir():
            warnings.append(f"{folder}: no such folder")
            continue
        try:
            found.update(journal_files(folder))
        except ConfigError as exc:
            warnings.append(str(exc))
    return sorted(found), warnings


def _stamp(st: os.stat_result) -> tuple[int, int]:
    return st.st_size, st.st_mtime_ns


def _started(path: Path) -> _StartedView:
    from gameday.journal import MAX_LINE

    with path.open("rb") as fh:
        line = fh.readline(MAX_LINE + 1)
    try:
        view = _StartedView.model_validate_json(line)
    except ValidationError:
        raise GamedayError(f"{path}: not a gameday journal (its first line is not a DrillStarted event)") from None
    if view.kind != "DrillStarted":
        raise GamedayError(f"{path}: not a gameday journal (its first event is {view.kind}, not DrillStarted)")
    return view


def _card_for(journal: Path, drill_id: str, card_dirs: Sequence[Path], journal_mtime: int) -> Path | None:
    """The drill's scorecard when one is current: it names the drill and is not older than the journal."""
    candidates = [journal.parent / "scorecard.json"] if journal.name == "journal.jsonl" else []
    candidates += [folder / f"{drill_id}.json" for folder in card_dirs]
    for candidate in candidates:
        try:
            st = candidate.stat()
        except OSError:
            continue
        if st.st_mtime_ns >= journal_mtime:
            return candidate
    return None


def _row(journal: Path, started: _StartedView, card: _CardView, source: Literal["scorecard", "scored"]) -> DrillRow:
    times = {m.name: m.seconds for m in card.times}
    due = [s for s in card.steps if s.verdict != "not_applicable"]
    turns = sorted({Turn(person=p, role=role) for role, people in card.roles.holders.items() for p in people},
                   key=lambda t: (t.role, t.person))
    people = sorted(p for p in {t.person for t in turns} | {s.author for s in card.steps if s.author}
                    if p.casefold() not in RESERVED_NAMES)  # a machine (automation, script) is nobody's turn
    scenario = started.data.scenario
    signals = [s.name or s.alert.alertname or "?" for s in (scenario.detection.signals if scenario.detection else [])]
    return DrillRow(
        journal=str(journal), source=source, drill_id=card.drill_id, scenario_id=card.scenario_id, title=card.title,
        mode=card.mode, started_at=card.started_at, outcome=card.outcome, verdict=card.verdict,
        score=card.score.total if card.score.status == "scored" else None,
        fault_injected=any(f.status == "injected" for f in card.faults),
        mttd=times.get("MTTD"), mtta=times.get("MTTA"), mttr=times.get("MTTR"), recovery=times.get("time_to_recovery"),
        steps_due=len(due), steps_on_time=sum(s.verdict == "on_time" for s in due),
        severity_judged=not card.severity.note.startswith("not applicable"), severity_correct=card.severity.correct,
        detection=card.detection.verdict, detected_by=card.detection.signal or card.detection.via,
        signals=signals, tags=list(scenario.tags), turns=turns, people=people)


def _score_row(journal: Path, started: _StartedView) -> DrillRow:
    from gameday.analysis.scorecard import score_journal
    from gameday.journal import read_journal

    card = score_journal(read_journal(journal))
    return _row(journal, started, _CardView.model_validate_json(card.model_dump_json()), "scored")


def _score_task(path: str) -> tuple[str, str | None, str | None]:
    """In a worker: (path, the row's JSON or None, the warning or None)."""
    journal = Path(path)
    try:
        return path, _score_row(journal, _started(journal)).model_dump_json(), None
    except (GamedayError, OSError, ValidationError) as exc:
        return path, None, _why(journal, exc)


def _why(journal: Path, exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return f"{journal}: cannot read: {exc.strerror or exc}"
    if isinstance(exc, ValidationError):
        return f"{journal}: its scorecard does not read as one ({exc.error_count()} problem(s))"
    text = str(exc)
    return text if text.startswith(str(journal)) else f"{journal}: {text}"


def _load_cache(path: Path | None) -> dict[str, _CacheEntry]:
    if path is None:
        return {}
    try:
        cache = _Cache.model_validate_json(path.read_bytes())
    except (OSError, ValidationError, ValueError):
        return {}
    if cache.gameday_version != __version__:
        return {}
    return {e.journal: e for e in cache.entries}


def _save_cache(path: Path | None, entries: Iterable[_CacheEntry]) -> None:
    if path is None:
        return
    from gameday.fsutil import atomic_write

    data = _Cache(gameday_version=__version__, entries=sorted(entries, key=lambda e: e.journal))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, TypeAdapter(_Cache).dump_json(data))
    except OSError:
        pass  # a cache that cannot be written costs the next run time, nothing else


def read_rows(folders: Sequence[Path], *, cache: Path | None = None, rescore: bool = False,
              workers: int | None = None) -> Scan:
    """Every drill of the folders' journals, one :class:`DrillRow` each (see the module docstring).

    ``cache``: the cache file (None: no cache). ``rescore``: score every journal now, never reading a
    scorecard or the cache. ``workers``: processes for scoring (default: the CPUs)."""
    journals, warnings = find_journals(folders)
    card_dirs = [f for f in folders if f.is_dir()]
    cached = {} if rescore else _load_cache(cache)
    scan = Scan(journals=len(journals), skipped=warnings)
    entries: dict[str, _CacheEntry] = {}
    to_score: list[tuple[Path, tuple[int, int]]] = []
    for journal in journals:
        key = str(journal)
        try:
            stamp = _stamp(journal.stat())
            hit = cached.get(key)
            if hit is not None and hit.stamp == stamp and _card_current(hit):
                entries[key] = hit
                scan.from_cache += 1
                continue
            if rescore:
                to_score.append((journal, stamp))
                continue
            started = _started(journal)
            card = _card_for(journal, started.data.drill_id, card_dirs, stamp[1])
            view = _CardView.model_validate_json(card.read_bytes()) if card is not None else None
            if card is None or view is None or view.drill_id != started.data.drill_id:
                to_score.append((journal, stamp))
                continue
            entries[key] = _CacheEntry(journal=key, stamp=stamp, card=str(card), card_stamp=_stamp(card.stat()),
                                       row=_row(journal, started, view, "scorecard"))
        except (GamedayError, OSError, ValidationError) as exc:
            if isinstance(exc, ValidationError):  # a scorecard that does not read: score the journal instead
                to_score.append((journal, _stamp(journal.stat())))
            else:
                scan.skipped.append(_why(journal, exc))
    for key, stamp, row_json, warning in _score_all(to_score, workers):
        if row_json is None:
            scan.skipped.append(warning or f"{key}: cannot be scored")
            continue
        entries[key] = _CacheEntry(journal=key, stamp=stamp, card=None, card_stamp=None,
                                   row=DrillRow.model_validate_json(row_json))
        scan.scored += 1
    if not rescore:
        _save_cache(cache, entries.values())
    scan.rows = sorted((e.row for e in entries.values()), key=lambda r: (r.started_at, r.drill_id))
    return scan


def _card_current(entry: _CacheEntry) -> bool:
    """A cached row read from a scorecard stays good while that file is unchanged; a scored one while no
    scorecard has appeared beside its journal (checked by the caller's stamp of the journal only)."""
    if entry.card is None or entry.card_stamp is None:
        return True
    try:
        return _stamp(Path(entry.card).stat()) == entry.card_stamp
    except OSError:
        return False


def _score_all(todo: list[tuple[Path, tuple[int, int]]], workers: int | None
               ) -> Iterable[tuple[str, tuple[int, int], str | None, str | None]]:
    stamps = {str(p): s for p, s in todo}
    if len(todo) < PARALLEL_FROM or (workers or os.cpu_count() or 1) <= 1:
        for path, stamp in todo:
            key, row, warning = _score_task(str(path))
            yield key, stamp, row, warning
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=workers or os.cpu_count(), mp_context=multiprocessing.get_context("forkserver")) as pool:
        for key, row, warning in pool.map(_score_task, list(stamps), chunksize=32):
            yield key, stamps[key], row, warning
