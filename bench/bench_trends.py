"""Trends benchmark (issue 14): ``gameday trends`` over 10,000 drills (about a million journal events).

**The corpus** (``bench/gen_journals.py``): 10,000 drills over 18 months — 13 scenarios, all four modes,
15 people rotating through the roles, outcomes from clean to aborted, ~100 events a journal (live and ci
drills with load carry one ``LoadStats`` a second) — in a project-like folder: ``reports/ID/journal.jsonl``
and ``scorecards/ID.json``, each scorecard byte for byte what ``gameday score`` gives for its journal
(the generator re-scores a sample; this benchmark checks more, below). It is generated once and cached in
the system tmp, keyed by generator version, drill count and seed (``gameday-bench-trends-UID-gV-nN-sS``);
a later run reuses it after re-scoring 10 random drills with the current gameday (a changed analysis
rebuilds it: ~1 minute). Before the timed runs every journal is read once (the OS page cache is warm for
every run alike: "cold" is about gameday's caches, not the disk's).

**Runs.** Every run is a fresh process, in the corpus folder (its project root: no ``gameday.yaml``,
no ``program.yaml``, no ``findings.yaml``; its ``.gameday/`` holds the trends' caches), with
``--as-of 2026-06-30``; the three runs of a sequence write to the same ``--out`` folder, as a user re-running
``gameday trends`` does:

* *process* runs — the real CLI, ``gameday trends --out DIR --as-of 2026-06-30`` (folders by default:
  ``reports/`` and ``scorecards/``): wall time from just before the process starts to its exit
  (``perf_counter``; interpreter start-up, imports, the work, exit), and its peak memory: GNU time's ``%M``
  (``/usr/bin/time`` starts it: a process started straight from this one would report this one's RSS at
  its exec as its ``ru_maxrss``, Linux keeping the high-water mark across exec);
* *in-process* runs — ``bench_trends.py --child`` imports jinja2 and gameday's trends modules first, then
  times ``build_trends(["reports", "scorecards"], DIR, as_of=..., state=".gameday")`` alone; pandas (and
  matplotlib, if the charts use it) is imported when reading is over — just before ``analyse`` — as in the
  CLI (the readers fork their workers only while no numpy is loaded), and that import is timed apart too
  ("imports"). Its phases are timed by thin wrappers around the functions that do them (:data:`PHASES`:
  scanning the folders, the inputs' fingerprint, the last run's record, loading/saving the cache, reading
  the journals' first lines and the scorecards (in workers), scoring, pandas and the rest of ``analyse``,
  the charts, HTML, CSV, the JSON dump and writes); each parent's "rest" is its time minus its children's.

Measures (each a median of ``--runs`` runs, 5 by default; min and max printed; run interleaved: each round
plays the process sequence, the in-process sequence, the rescore run and the baseline run, in an order
that rotates round by round; one untimed process sequence first warms the ``.pyc``):

1. **cold** (target ≤ 3 s): no trends cache — ``.gameday/`` removed (row cache, last-run record) — and the
   scorecards present as the drills left them.
2. **warm** (target ≤ 0.5 s): right after the cold run, same ``--out``, nothing changed.
3. **warm, one new drill** (the warm target): right after the warm run, one more drill (a live game day on
   the as-of day, journal then scorecard, written like the others) is added; removed after the run.
4. **cold --rescore** (no target): ``--rescore``, every journal scored now by the real analysis in 2 worker
   processes (``os.cpu_count()``), no cache read; its peak memory is also sampled as the sum of the RSS of
   the process and all its descendants (every 100 ms; ``%M`` is per process).
5. **peak memory** (target ≤ 1 GiB): the largest ``%M`` of all cold, warm and one-new-drill process runs.

**Baseline** (same run, interleaved): ``pandas.read_json(path, lines=True)`` over every journal of the
corpus (``reports/*/journal.jsonl``, the files ``gameday trends`` finds), in a fresh process: its wall time
(with its ``import pandas``) for the process rows, the reading loop alone for the in-process rows. Printed
ratio: value / baseline.

**Correctness** (target 0 problems): after the first cold run, ``trends.csv`` has one row per drill,
``trends.json`` names every journal and skipped none, and 5 sampled drills' MTTD in the CSV equals their
scorecards' (``times[MTTD].seconds``); after the first rescore run, its CSV equals the cold run's
line for line but for the ``source`` column (every generated scorecard is the true one, for what the trends use).

    .venv/bin/python bench/bench_trends.py [--quick] [--drills N] [--runs N] [--slow-runs N] [--seed N]

``--quick``: 1,000 drills, 3 runs (2 of rescore and baseline) — a smoke test, not figures to quote.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import math
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import gen_journals
from common import GAMEDAY, PY, Result, failed, report, tmpdir

AS_OF = gen_journals.AS_OF.isoformat()
COLD_TARGET, WARM_TARGET, MEMORY_TARGET = 3.0, 0.5, 1024.0  # s, s, MiB
RUN_TIMEOUT = 900.0
HERE = Path(__file__).resolve()
#: Imported before build_trends is timed (it imports them inside its functions), when they exist.
LAZY_IMPORTS = ("jinja2", "base64", "hashlib", "multiprocessing", "concurrent.futures", "gameday.analysis.templating",
                "gameday.analysis.scorecard", "gameday.journal", "gameday.fsutil", "gameday.program.training",
                "gameday.model.findings", "gameday.model.names", "gameday.model.trends")


# ------------------------------------------------------------------------------------------------- one run
@dataclass
class Run:
    kind: str  # cold | warm | add | rescore | baseline
    how: str  # process | inproc
    wall: float
    maxrss_mib: float
    returncode: int
    stdout: str
    stderr: str
    tree_peak_mib: float | None = None
    child: dict[str, Any] = field(default_factory=dict)

    def brief(self) -> dict[str, Any]:
        return {"kind": self.kind, "how": self.how, "wall": round(self.wall, 4), "maxrss_mib": round(self.maxrss_mib, 1),
                "tree_peak_mib": self.tree_peak_mib, "child": self.child}


def _descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo += [int(c) for c in fh.read().split()]
        except OSError:
            continue
    return out


def _tree_rss(pid: int) -> float:
    total = 0
    page = os.sysconf("SC_PAGE_SIZE")
    for p in _descendants(pid):
        try:
            with open(f"/proc/{p}/statm") as fh:
                total += int(fh.read().split()[1]) * page
        except (OSError, ValueError, IndexError):
            continue
    return total / 2**20


TIME = "/usr/bin/time"  # GNU time: the command's own max RSS (see timed)


def timed(argv: Sequence[str], cwd: Path, kind: str, how: str, sample_tree: bool = False) -> Run:
    """Run ``argv`` to its end: wall time (perf_counter around start → reaped) and its max RSS.

    The max RSS is GNU time's ``%M`` for the command, when /usr/bin/time is there: a process started from
    this one (vfork + exec) would report *this* process's RSS at the exec as its own ``ru_maxrss`` when it is
    larger (Linux keeps the old memory's high-water mark across exec); /usr/bin/time is small, so what it
    starts is measured alone. Otherwise ``os.wait4``'s ``ru_maxrss`` (an upper bound, said so)."""
    use_time = os.access(TIME, os.X_OK)
    with tmpdir("trends-io") as io_dir:
        rss_file = io_dir / "rss"
        full = [TIME, "-f", "%M", "-o", str(rss_file), *argv] if use_time else list(argv)
        out_f, err_f = (io_dir / "out").open("w+b"), (io_dir / "err").open("w+b")
        peak = [0.0]
        started = time.perf_counter()
        proc = subprocess.Popen(full, cwd=cwd, stdout=out_f, stderr=err_f, stdin=subprocess.DEVNULL,
                                start_new_session=True)
        killer = threading.Timer(RUN_TIMEOUT, lambda: os.killpg(proc.pid, 9))
        killer.start()
        stop = threading.Event()
        sampler = None
        if sample_tree:
            def sample() -> None:
                while not stop.wait(0.1):
                    peak[0] = max(peak[0], _tree_rss(proc.pid))
            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            killer.cancel()
            stop.set()
        wall = time.perf_counter() - started
        if sampler is not None:
            sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out_f.seek(0)
        err_f.seek(0)
        stdout, stderr = out_f.read().decode(errors="replace"), err_f.read().decode(errors="replace")
        out_f.close()
        err_f.close()
        maxrss_kib = float(usage.ru_maxrss)
        if use_time:
            with contextlib.suppress(OSError, ValueError, IndexError):
                maxrss_kib = float(rss_file.read_text().split()[-1])
    run = Run(kind, how, wall, maxrss_kib / 1024, proc.returncode, stdout, stderr,
              round(peak[0], 1) if sample_tree else None)
    if run.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, argv))} exited {run.returncode}: {stderr.strip()[-600:]}")
    if how == "inproc" or kind == "baseline":
        run.child = json.loads(stdout.strip().splitlines()[-1])
    else:
        run.child = {"unchanged": "nothing changed" in stdout}
    return run


# ------------------------------------------------------------------------------------------- the children
#: The phases timed apart in an in-process run: (label, parent label, "module:attr"). A function that is not
#: there (renamed since) is left out; each parent's "rest" is its time minus its children's.
PHASES = (
    ("scan folders (scandir + stat)", None, "gameday.program.trends_read:_scan"),
    ("fingerprint the inputs", None, "gameday.program.trends_read:Inputs.fingerprint"),
    ("read the last run's record", None, "gameday.program.trends_run:_read_last"),
    ("hash outputs", None, "gameday.program.trends_run:_sha"),
    ("read_rows", None, "gameday.program.trends_read:read_rows"),
    ("find journals (glob)", "read_rows", "gameday.program.trends_read:find_journals"),
    ("load cache", "read_rows", "gameday.program.trends_read:_load_cache"),
    ("read journals' first lines + scorecards (workers)", "read_rows", "gameday.program.trends_read:_read_all"),
    ("first lines (read + parse DrillStarted)", "read_rows", "gameday.program.trends_read:_started"),
    ("find scorecards", "read_rows", "gameday.program.trends_read:_card_for"),
    ("parse scorecards (pydantic)", "read_rows", "gameday.program.trends_read:_CardView.model_validate_json"),
    ("build rows", "read_rows", "gameday.program.trends_read:_row"),
    ("score journals", "read_rows", "gameday.program.trends_read:_score_all"),
    ("save cache", "read_rows", "gameday.program.trends_read:_save_cache"),
    ("analyse", None, "gameday.program.trends:analyse"),
    ("pandas series", "analyse", "gameday.program.trends:_series"),
    ("charts", None, "gameday.program.trends_charts:chart_svgs"),
    ("charts (matplotlib)", None, "gameday.program.trends_charts:chart_images"),
    ("write", None, "gameday.program.trends_write:write_trends"),
    ("render HTML", "write", "gameday.program.trends_write:html_text"),
    ("CSV", "write", "gameday.program.trends_write:csv_text"),
    ("write the last-run record", None, "gameday.program.trends_run:_write_last"),
)
GENERATORS = ("_read_all", "_score_all")


def child_trends(corpus: Path, out: Path, rescore: bool) -> dict[str, Any]:
    """In a fresh process: the imports (timed apart), then build_trends alone, its phases timed.

    numpy-based modules (pandas, matplotlib) are imported only once reading is over — just before
    ``analyse`` and the charts, timed apart — as in the CLI: trends_read forks its workers only while no
    numpy (and its threads) is loaded."""
    import importlib

    imports: dict[str, float] = {}
    t = time.perf_counter()
    for name in LAZY_IMPORTS:  # what build_trends imports inside its functions: imports, not its work
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    modules = {}
    for name in ("gameday.program.trends", "gameday.program.trends_read", "gameday.program.trends_run",
                 "gameday.program.trends_charts", "gameday.program.trends_write"):
        with contextlib.suppress(ImportError):
            modules[name] = importlib.import_module(name)
    imports["jinja2+gameday"] = time.perf_counter() - t
    phases: dict[str, float] = {}
    deferred = {"s": 0.0}

    def deferred_import(label: str, names: Sequence[str]) -> None:
        if all(n in sys.modules for n in names):
            return
        t0 = time.perf_counter()
        for n in names:
            importlib.import_module(n)
        took = time.perf_counter() - t0
        imports[label] = imports.get(label, 0.0) + took
        deferred["s"] += took

    def wrap(label: str, where: str) -> None:
        module_name, _, attr = where.partition(":")
        module = modules.get(module_name)
        owner: Any = module
        *path, name = attr.split(".")
        for part in path:
            owner = getattr(owner, part, None)
        orig = getattr(owner, name, None) if owner is not None else None
        if orig is None:  # renamed since this benchmark was written: that phase is not timed apart
            return
        before: tuple[str, Sequence[str]] | None = None
        if name == "analyse":
            before = ("pandas", ("pandas",))
        elif name == "chart_images":
            before = ("matplotlib", ("matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg"))

        def timed_call(*a: Any, **k: Any) -> Any:
            if before is not None:
                deferred_import(*before)
            t0 = time.perf_counter()
            try:
                result = orig(*a, **k)
                return iter(list(result)) if name in GENERATORS else result
            finally:
                phases[label] = phases.get(label, 0.0) + time.perf_counter() - t0
        setattr(owner, name, timed_call)

    for label, _parent, where in PHASES:
        wrap(label, where)
    build_trends = getattr(modules.get("gameday.program.trends_run"), "build_trends", None) or modules[
        "gameday.program.trends"].build_trends
    os.chdir(corpus)
    t = time.perf_counter()
    result = build_trends([Path("reports"), Path("scorecards")], out, as_of=date.fromisoformat(AS_OF),
                          state=(corpus / ".gameday").resolve(), rescore=rescore)
    build = time.perf_counter() - t - deferred["s"]
    drills = result.drills if hasattr(result, "drills") else len(result[0].drills)
    return {"imports": imports, "build": build, "phases": _nest(phases, build), "drills": drills,
            "unchanged": bool(getattr(result, "unchanged", False)),
            "maxrss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _nest(phases: dict[str, float], build: float) -> dict[str, float]:
    """The phases in order, children indented under their parent, each parent's rest added."""
    out: dict[str, float] = {}
    for label, parent, _ in PHASES:
        if parent is None and label in phases:
            out[label] = phases[label]
            children = [c for c, p, _ in PHASES if p == label and c in phases]
            for child in children:
                out[f"  {child}"] = phases[child]
            if children:
                out[f"  {label}: the rest"] = phases[label] - sum(phases[c] for c in children)
    tops = [label for label, parent, _ in PHASES if parent is None and label in phases]
    out["the rest of build_trends"] = build - sum(phases[label] for label in tops)
    return out


def child_baseline(corpus: Path) -> dict[str, Any]:
    """In a fresh process: ``pandas.read_json(path, lines=True)`` over every journal of the corpus."""
    t = time.perf_counter()
    import pandas as pd

    imported = time.perf_counter() - t
    t = time.perf_counter()
    files = sorted(corpus.glob("reports/*/journal.jsonl"))
    rows = 0
    for f in files:
        rows += len(pd.read_json(f, lines=True))
    return {"import": imported, "read": time.perf_counter() - t, "files": len(files), "rows": rows}


# ----------------------------------------------------------------------------------------------- the rounds
class Bench:
    def __init__(self, corpus: Path, out: Path, drills: int):
        self.corpus, self.out, self.drills = corpus, out, drills
        self.runs: list[Run] = []
        self.added = 0
        self.checks: list[str] = []
        self.checked_cold = self.checked_rescore = False

    def _fresh_state(self) -> None:
        shutil.rmtree(self.corpus / ".gameday", ignore_errors=True)

    def _cli(self, kind: str, out: Path, *extra: str, sample_tree: bool = False) -> Run:
        argv = [GAMEDAY, "trends", "--out", str(out), "--as-of", AS_OF, *extra]
        return timed(argv, self.corpus, kind, "process", sample_tree)

    def _inproc(self, kind: str, out: Path, rescore: bool = False) -> Run:
        argv = [PY, str(HERE), "--child", "rescore" if rescore else "trends", "--corpus", str(self.corpus),
                "--child-out", str(out)]
        return timed(argv, self.corpus, kind, "inproc")

    def sequence(self, how: str) -> None:
        """cold → warm → one new drill, as processes or in-process."""
        play: Callable[[str, Path], Run] = self._cli if how == "process" else self._inproc  # type: ignore[assignment]
        self._fresh_state()
        out = self.out / how  # one --out for the three: a user re-running `gameday trends`
        shutil.rmtree(out, ignore_errors=True)
        self.runs.append(play("cold", out))
        if how == "process" and not self.checked_cold:
            self.check_cold(out)
        self.runs.append(play("warm", out))
        self.added += 1
        journal, card = gen_journals.add_drill(self.corpus, self.added)
        try:
            self.runs.append(play("add", out))
        finally:
            gen_journals.remove_drill(self.corpus, journal, card)

    def rescore(self) -> None:
        self._fresh_state()
        run = self._cli("rescore", self.out / "process-rescore", "--rescore", sample_tree=True)
        self.runs.append(run)
        if not self.checked_rescore:
            self.check_rescore(self.out / "process-rescore")

    def baseline(self) -> None:
        argv = [PY, str(HERE), "--child", "baseline", "--corpus", str(self.corpus)]
        self.runs.append(timed(argv, self.corpus, "baseline", "process"))

    # ------------------------------------------------------------------------------------ correctness
    def check_cold(self, out: Path) -> None:
        self.checked_cold = True
        shutil.copy(out / "trends.csv", self.out / "cold.csv")  # for the rescore run's check
        rows = list(csv.DictReader(io.StringIO((out / "trends.csv").read_text("utf-8"))))
        if len(rows) != self.drills:
            self.checks.append(f"trends.csv has {len(rows)} rows, not {self.drills}")
        doc = json.loads((out / "trends.json").read_text("utf-8"))
        if doc.get("journals") != self.drills or doc.get("skipped"):
            self.checks.append(f"trends.json: journals {doc.get('journals')}, skipped {len(doc.get('skipped') or [])}")
        if any(r["source"] != "scorecard" for r in rows):
            self.checks.append(f"{sum(r['source'] != 'scorecard' for r in rows)} row(s) not read from a scorecard")
        by_id = {r["drill_id"]: r for r in rows}
        manifest = json.loads((self.corpus / "corpus.json").read_text())
        sample = random.Random(7).sample(manifest["drill_ids"], 5)
        self.mttd_sample = []
        for drill_id in sample:
            card = json.loads((self.corpus / "scorecards" / f"{drill_id}.json").read_text())
            want = next((m["seconds"] for m in card["times"] if m["name"] == "MTTD"), None)
            got = by_id.get(drill_id, {}).get("mttd")
            self.mttd_sample.append((drill_id, got, want))
            if got != ("" if want is None else repr(float(want))):
                self.checks.append(f"{drill_id}: MTTD in trends.csv {got!r}, in its scorecard {want!r}")

    def check_rescore(self, out: Path) -> None:
        self.checked_rescore = True

        def lines(path: Path) -> list[tuple[str, ...]]:
            rows = list(csv.DictReader(io.StringIO(path.read_text("utf-8"))))
            return [tuple(v for k, v in r.items() if k != "source") for r in rows]
        cold, scored = lines(self.out / "cold.csv"), lines(out / "trends.csv")
        differing = sum(a != b for a, b in zip(cold, scored, strict=False)) + abs(len(cold) - len(scored))
        self.rescore_differing = differing
        if differing:
            self.checks.append(f"{differing} row(s) of the rescored trends.csv differ from the scorecards' (cold)")

    # --------------------------------------------------------------------------------------- figures
    def of(self, kind: str, how: str) -> list[Run]:
        return [r for r in self.runs if r.kind == kind and r.how == how]


def _spread(values: Sequence[float], unit: str = "s") -> str:
    if not values:
        return "(no runs)"
    return (f"median {statistics.median(values):.3f} {unit}, min {min(values):.3f}, max {max(values):.3f} "
            f"(n={len(values)}): " + ", ".join(f"{v:.3f}" for v in values))


def _med(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def figures(drills: int, seed: int, runs: int, slow_runs: int, quick: bool) -> list[Result]:
    print(f"corpus: {drills} drills (seed {seed}) ...", flush=True)
    began = time.perf_counter()
    corpus, manifest, reused = gen_journals.ensure_corpus(drills, seed, log=lambda s: print(s, flush=True))
    print(f"  {corpus} ({'reused' if reused else 'generated'} in {time.perf_counter() - began:.1f} s): "
          f"{gen_journals.describe(manifest)}", flush=True)
    total_bytes = 0
    t = time.perf_counter()
    for path in corpus.glob("reports/*/journal.jsonl"):  # the OS page cache: warm for every run alike
        total_bytes += len(path.read_bytes())
    for path in corpus.glob("scorecards/*.json"):
        total_bytes += len(path.read_bytes())
    print(f"  read every file once ({total_bytes / 2**20:.0f} MiB, {time.perf_counter() - t:.1f} s)", flush=True)
    with tmpdir("trends-out") as out:
        bench = Bench(corpus, out, drills)
        bench.sequence("process")  # warm-up: the .pyc, the first matplotlib font cache; not counted
        bench.runs.clear()
        units: list[tuple[str, Callable[[], None]]] = [
            ("process", lambda: bench.sequence("process")), ("inproc", lambda: bench.sequence("inproc")),
            ("rescore", bench.rescore), ("baseline", bench.baseline)]
        for i in range(runs):
            order = units[i % len(units):] + units[:i % len(units)]
            for name, unit in order:
                if name in ("rescore", "baseline") and i >= slow_runs:
                    continue
                print(f"  round {i + 1}/{runs}: {name} ...", flush=True)
                unit()
    return results(bench, manifest, runs, slow_runs, quick)


def results(bench: Bench, manifest: dict[str, Any], runs: int, slow_runs: int, quick: bool) -> list[Result]:
    n = manifest["drills"]
    label = f"{n:,} journals"
    base_runs = bench.of("baseline", "process")
    base_proc = _med([r.wall for r in base_runs])
    base_read = _med([r.child["read"] for r in base_runs])
    base_rss = max((r.maxrss_mib for r in base_runs), default=None)
    print()
    print(f"corpus: {gen_journals.describe(manifest)}")
    print(f"baseline, pandas.read_json(lines=True) over the {base_runs[0].child['files'] if base_runs else '?'} "
          f"journals ({base_runs[0].child['rows'] if base_runs else '?'} rows):")
    print(f"  process        {_spread([r.wall for r in base_runs])}")
    print(f"  reading alone  {_spread([r.child['read'] for r in base_runs])}")
    print(f"  import pandas  {_spread([r.child['import'] for r in base_runs])}")
    print(f"  max RSS        {_spread([r.maxrss_mib for r in base_runs], 'MiB')}")
    rows: dict[str, dict[str, Any]] = {}
    for kind, what in (("cold", "cold (no trends cache; scorecards present)"), ("warm", "warm (cache, nothing changed)"),
                       ("add", "warm, one new drill added"), ("rescore", "cold --rescore (2 workers)")):
        proc = [r.wall for r in bench.of(kind, "process")]
        inproc = [r.child["build"] for r in bench.of(kind, "inproc")]
        rss = [r.maxrss_mib for r in bench.of(kind, "process")]
        print(f"{what}:")
        print(f"  process               {_spread(proc)}")
        if inproc:
            print(f"  build_trends in-proc  {_spread(inproc)}")
            imports = [sum(r.child["imports"].values()) for r in bench.of(kind, "inproc")]
            names = list(dict.fromkeys(k for r in bench.of(kind, "inproc") for k in r.child["imports"]))
            print(f"  (its imports, apart   {_spread(imports)}: "
                  + ", ".join(f"{k} {statistics.median([r.child['imports'].get(k, 0.0) for r in bench.of(kind, 'inproc')]):.3f}"
                              for k in names) + ")")
            print(f"  process − in-process: {statistics.median(proc) - statistics.median(inproc):.3f} s "
                  "(interpreter, imports, CLI, exit)")
        print(f"  max RSS               {_spread(rss, 'MiB')}")
        runs_of = bench.of(kind, "process") + bench.of(kind, "inproc")
        if any(r.child.get("unchanged") for r in runs_of):
            print(f"  'nothing changed' fast path taken in {sum(bool(r.child.get('unchanged')) for r in runs_of)} "
                  f"of {len(runs_of)} runs")
        if kind == "rescore":
            print(f"  process tree peak     {_spread([r.tree_peak_mib or 0.0 for r in bench.of(kind, 'process')], 'MiB')}"
                  " (sum of RSS of the process and its workers, sampled every 100 ms)")
        phases = _phase_medians(bench.of(kind, "inproc"))
        if phases:
            print("  where the in-process time goes (medians, s):")
            for name, value in phases:
                print(f"    {name:<58} {value:8.3f}")
        rows[kind] = {"process": proc, "inproc": inproc, "maxrss_mib": rss, "phases": dict(phases)}
    print(f"correctness: {len(bench.checks)} problem(s)" + "".join(f"\n  ! {c}" for c in bench.checks))
    for drill_id, got, want in getattr(bench, "mttd_sample", []):
        print(f"  MTTD {drill_id}: trends.csv {got!r}, scorecard {want!r}")
    print(f"  rescored trends.csv rows differing from the scorecards' (cold): {getattr(bench, 'rescore_differing', '?')}")
    details = {"corpus": {k: v for k, v in manifest.items() if k != "drill_ids"}, "runs": [r.brief() for r in bench.runs],
               "rows": rows, "quick": quick, "checks": bench.checks}
    peak = max((r.maxrss_mib for r in bench.runs if r.how == "process" and r.kind in ("cold", "warm", "add")),
               default=None)
    out = [
        Result(f"trends: cold, {label} (s, process, median of {len(rows['cold']['process'])})",
               _med(rows["cold"]["process"]), "s", COLD_TARGET, baseline=base_proc,
               baseline_label="pandas.read_json lines, process", details=details),
        Result(f"trends: cold, build_trends in-process, imports apart (s, median of {len(rows['cold']['inproc'])})",
               _med(rows["cold"]["inproc"]), "s", COLD_TARGET, baseline=base_read, baseline_label="read_json loop alone"),
        Result(f"trends: warm, {label} (s, process, median of {len(rows['warm']['process'])})",
               _med(rows["warm"]["process"]), "s", WARM_TARGET, baseline=base_proc,
               baseline_label="pandas.read_json lines, process"),
        Result(f"trends: warm, build_trends in-process, imports apart (s, median of {len(rows['warm']['inproc'])})",
               _med(rows["warm"]["inproc"]), "s", WARM_TARGET, baseline=base_read, baseline_label="read_json loop alone"),
        Result(f"trends: warm + one new drill (s, process, median of {len(rows['add']['process'])})",
               _med(rows["add"]["process"]), "s", WARM_TARGET, baseline=base_proc,
               baseline_label="pandas.read_json lines, process"),
        Result(f"trends: warm + one new drill, build_trends in-process (s, median of {len(rows['add']['inproc'])})",
               _med(rows["add"]["inproc"]), "s", WARM_TARGET, baseline=base_read, baseline_label="read_json loop alone"),
        Result(f"trends: cold --rescore, 2 workers, no target (s, process, median of {len(rows['rescore']['process'])})",
               _med(rows["rescore"]["process"]), "s", math.inf, baseline=base_proc,
               baseline_label="pandas.read_json lines, process"),
        Result("trends: peak memory, max RSS of the cold/warm/new-drill processes (MiB)", peak, "MiB", MEMORY_TARGET,
               baseline=base_rss, baseline_label="read_json process max RSS"),
        Result(f"trends: correctness problems ({label}: rows, MTTD of 5 drills, rescored = scorecards)",
               float(len(bench.checks)), "", 0.0),
    ]
    return out


def _phase_medians(runs: Sequence[Run]) -> list[tuple[str, float]]:
    if not runs:
        return []
    names = list(dict.fromkeys(k for r in runs for k in r.child["phases"]))
    return [(k, statistics.median([r.child["phases"].get(k, 0.0) for r in runs])) for k in names]


def run(quick: bool = False, drills: int | None = None, runs: int | None = None, slow_runs: int | None = None,
        seed: int = 1) -> list[Result]:
    drills = drills or (1000 if quick else 10_000)
    runs = runs or (3 if quick else 5)
    slow_runs = min(runs, slow_runs or (2 if quick else runs))
    try:
        return figures(drills, seed, runs, slow_runs, quick)
    except Exception as exc:  # noqa: BLE001 - a broken benchmark is a FAIL row, not a crash
        return [failed(f"trends: cold, {drills:,} journals (s, process)", "s", COLD_TARGET, exc)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="1,000 drills, 3 runs (2 of rescore and baseline)")
    ap.add_argument("--drills", type=int, help="drills in the corpus (default 10,000; 1,000 with --quick)")
    ap.add_argument("--runs", type=int, help="rounds (default 5; 3 with --quick)")
    ap.add_argument("--slow-runs", type=int, help="rounds with the rescore and baseline runs (default: all)")
    ap.add_argument("--seed", type=int, default=1, help="the corpus's seed")
    ap.add_argument("--child", choices=("trends", "rescore", "baseline"), help=argparse.SUPPRESS)
    ap.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--child-out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child == "baseline":
        print(json.dumps(child_baseline(args.corpus)))
        return
    if args.child:
        print(json.dumps(child_trends(args.corpus, args.child_out, args.child == "rescore")))
        return
    report(run(args.quick, args.drills, args.runs, args.slow_runs, args.seed), name="trends")


if __name__ == "__main__":
    sys.exit(main())
