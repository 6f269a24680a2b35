"""``gameday trends`` end to end: scan, read, analyse, write — and nothing when nothing changed.

The trends are a pure function of their inputs: every journal's and scorecard's bytes (stood for by
their paths, sizes and modification times: :meth:`~gameday.program.trends_read.Inputs.fingerprint`),
the ``as_of`` day, the program's scenarios, the findings' repeat summary, the templates and the
gameday version. :func:`build_trends` keeps a digest of those inputs with a digest of each file it
wrote (``.gameday/trends-last.json``); when a later run finds the same inputs and the same three
files, they are current and it stops there — no reading, no pandas, no writing — like ``make``.
Anything else (a new drill, another day, an output edited or deleted) runs everything.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from gameday.version import __version__

if TYPE_CHECKING:
    from gameday.model.trends import RepeatSummary

__all__ = ["LAST_NAME", "TrendsRun", "build_trends"]

LAST_NAME = "trends-last.json"
OUTPUTS = ("trends.json", "trends.csv", "trends.html")


@dataclass(frozen=True)
class _Last:
    """What the last run wrote, and from what (``.gameday/trends-last.json``: gameday's own cache, read with the
    standard json module and checked field by field — pydantic's import alone would be a quarter of the
    unchanged run's budget; anything unexpected is no record, and everything is done again)."""

    inputs: str
    outputs: dict[str, str]
    drills: int
    journals: int
    modes: dict[str, int]
    skipped: list[str]

    @classmethod
    def parse(cls, raw: bytes) -> _Last | None:
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):  # json nests without a limit: ['*200000 is no record either
            return None
        if not isinstance(data, dict) or set(data) != {f.name for f in fields(cls)}:
            return None
        ok = (isinstance(data["inputs"], str) and _str_map(data["outputs"], str) and _str_map(data["modes"], int)
              and all(type(data[k]) is int for k in ("drills", "journals"))
              and isinstance(data["skipped"], list) and all(isinstance(x, str) for x in data["skipped"]))
        return cls(**data) if ok else None

    def dump(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


def _str_map(value: object, kind: type) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) and type(v) is kind for k, v in value.items())


@dataclass
class TrendsRun:
    """What :func:`build_trends` did: the figures to print, the files, and whether they were already current."""

    drills: int
    journals: int
    modes: dict[str, int]
    skipped: list[str]
    paths: list[Path]
    unchanged: bool = False
    scored: int = 0
    from_cache: int = 0
    notes: list[str] = field(default_factory=list)


def _sha(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _templates_stamp(templates_dir: Path | None) -> list[str]:
    if templates_dir is None:
        return []
    try:
        return sorted(f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in templates_dir.iterdir() if p.is_file())
    except OSError:
        return ["unreadable"]


def build_trends(folders: Sequence[Path], out_dir: Path, *, as_of: date, state: Path | None = None,
                 rescore: bool = False, scenarios: Iterable[str] = (), repeats: RepeatSummary | None = None,
                 templates_dir: Path | None = None, before_work: Callable[[], object] | None = None) -> TrendsRun:
    """Read the folders' drills (:func:`gameday.program.trends_read.read_rows`), analyse them
    (:func:`gameday.program.trends.analyse`) and write ``trends.json``, ``trends.csv`` and ``trends.html`` into
    ``out_dir`` — unless the last run had the same inputs and its files are unchanged (see the module docstring).
    ``state``: the folder for the caches (the project's ``.gameday/``; None: no cache, always everything).
    ``before_work``: called when the run has work to do, before anything is read or written (the CLI
    validates the whole project file there; an error it raises stops the run)."""
    from gameday.program.trends_scan import scan_inputs

    scenarios = sorted(scenarios)
    inputs = scan_inputs(folders)
    key = hashlib.sha256(json.dumps([
        __version__, as_of.isoformat(), inputs.fingerprint(), scenarios,
        repeats.model_dump(mode="json") if repeats else None, str(out_dir.resolve()), _templates_stamp(templates_dir),
        [str(f) for f in folders], rescore]).encode()).hexdigest()
    paths = [out_dir / name for name in OUTPUTS]
    last_file = state / LAST_NAME if state is not None else None
    if last_file is not None and not rescore:
        last = _read_last(last_file)
        if last is not None and last.inputs == key and all(last.outputs.get(p.name) == _sha(p) for p in paths):
            return TrendsRun(last.drills, last.journals, last.modes, last.skipped, paths, unchanged=True)
    if before_work is not None:
        before_work()
    from gameday.program.trends_read import CACHE_NAME, read_rows

    scan = read_rows(folders, cache=state / CACHE_NAME if state is not None else None, rescore=rescore, inputs=inputs)
    from gameday.program.trends import analyse
    from gameday.program.trends_charts import chart_svgs
    from gameday.program.trends_write import write_trends

    report = analyse(scan.rows, as_of=as_of, journals=scan.journals, skipped=scan.skipped, scenarios=scenarios,
                     repeats=repeats)
    written = write_trends(report, out_dir, chart_svgs(report), templates_dir)
    modes: dict[str, int] = {}
    for row in report.drills:
        modes[row.mode] = modes.get(row.mode, 0) + 1
    run = TrendsRun(len(report.drills), report.journals, modes, list(report.skipped), written, scored=scan.scored,
                    from_cache=scan.from_cache)
    if last_file is not None:
        _write_last(last_file, _Last(inputs=key, outputs={p.name: _sha(p) or "" for p in written}, drills=run.drills,
                                     journals=run.journals, modes=modes, skipped=run.skipped))
    return run


def _read_last(path: Path) -> _Last | None:
    try:
        return _Last.parse(path.read_bytes())
    except OSError:
        return None


def _write_last(path: Path, last: _Last) -> None:
    from gameday.fsutil import atomic_write

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, last.dump() + "\n")
    except OSError:
        pass  # the next run does everything again, nothing worse
