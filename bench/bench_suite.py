"""Measure 6 — a CI suite's overhead per drill after the first, against separate ``gameday run`` processes.

A suite of ``DRILLS`` (10) short scenarios is generated in a scratch folder: copies of the overhead
benchmark's scenario (``bench_overhead.py``: the catalog breaks at 0 s through the Chaos Toolkit
experiment ``experiments/break-catalog.yaml``; steady state checkout ``/health``, which that does not
affect; ``detection.within`` 500 ms; cooldown 0; no responders), each with its own id. All runs go
against one demo started beforehand (``gameday demo up``), so none pays the demo's start-up: every
drill attaches to it and resets it, in the suite as in a single run.

* **suite**: ``gameday run SUITE/ --mode ci --out …`` — one process, the 10 drills one after another.
* **baseline** (same run, interleaved): the same 10 scenarios as 10 separate ``gameday run SCENARIO
  --mode ci`` processes, one after another.

::

    own(d)              = the scenario's own timeline: its timers, fault.at + detection.within + cooldown
                          (0 + 500 ms + 0): the time the drill must last whatever the tool
    suite overhead(d_i) = wall(DrillEnded of d_i) − wall(DrillEnded of d_i−1) − own(d_i),  i = 2..10
                          (d_i−1's teardown, d_i's set-up, its work and lateness: all of it; d_i−1's
                          reports are written by the suite's report process while d_i observes)
    single overhead(d)  = wall(gameday run process of d) − own(d)

The journal's ``wall`` is UTC with microseconds. **Value: median suite overhead per drill after the
first, over every repeat (9 × repeats values); target ≤ 50 ms.** Baseline: the median single-process
overhead; the ratio says what one process saves. Also printed: the spread (p10, p90, max), each
repeat's median, the first drill's overhead (process start → its DrillEnded − own) and the suite's
tail (last DrillEnded → process exit: the last drill's reports, the suite's JUnit file); and where a
drill's overhead goes, from the journals: d_i−1's DrillEnded → d_i's DrillStarted (teardown, the
suite's loop, demo reset, intake, target, journal, services) and d_i's work while it plays
(DrillStarted → DrillEnded − own: preflight probe, ledger and journal writes, the rollback activity,
final probe, lateness), and of that the rollback activity's own time (``ActivityRan``, phase
rollback: the demo's work, which ``chaos run`` does too; the inject's activity runs inside the
detection window, so it is not overhead). The single drill's overhead against ``chaos run`` stays
``bench_overhead.py``'s measure.

    .venv/bin/python bench/bench_suite.py [--repeats N] [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import yaml
from common import GAMEDAY, ROOT, Result, demo, failed, iso_to_epoch, pct, read_events, report, tmpdir

MEASURE = "ci suite overhead per drill after the first (median)"
TARGET_MS = 50.0
DRILLS = 10
EXPERIMENT = ROOT / "experiments" / "break-catalog.yaml"
WITHIN = 0.5


def write_suite(folder: Path) -> list[Path]:
    """The suite's scenarios, ``suite/bench-suite-01.yaml`` ... (the overhead benchmark's, with their own ids)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(1, DRILLS + 1):
        data = {
            "apiVersion": "gameday/v1", "id": f"bench-suite-{i:02d}", "title": f"Break the catalog ({i} of {DRILLS})",
            "severity": "SEV2", "target": "demo",
            "steady_state": [{"name": "checkout health", "http": {"url": "{target.url}/health", "expect_status": 200}}],
            "faults": [{"id": "break-catalog", "at": "0s", "max_duration": "30s", "experiment": str(EXPERIMENT)}],
            "detection": {"within": f"{round(WITHIN * 1000)}ms",
                          "signals": [{"name": "catalog alert", "alert": {"alertname": "CatalogErrors"}}]},
            "recovery": {"within": "10s"}, "abort": {"max_duration": "60s"},
            "timing": {"baseline": "0s", "cooldown": "0s"},
        }  # fmt: skip
        path = folder / f"bench-suite-{i:02d}.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        paths.append(path)
    return paths


def own(ev: list[dict]) -> float:
    """The scenario's own timeline: its timers (fault.at + detection.within + cooldown), from its journal."""
    sc = ev[0]["data"]["scenario"]
    if sc["faults"][0]["at"] not in ("0s", "0ms") or sc["timing"]["cooldown"] not in ("0s", "0ms"):
        raise RuntimeError("the suite's scenarios must inject at 0s with no cooldown")
    return WITHIN


def activities(ev: list[dict]) -> float:
    """The Chaos Toolkit rollback activities' own time in a drill (``ActivityRan.duration_s`` of phase
    ``rollback``: the system's work, which ``chaos run`` does as well). The inject's activity is left out: it
    runs inside the scenario's own timeline (the detection window counts from the injection's start), so it
    adds nothing to the overhead."""
    return sum(float(e["data"].get("duration_s") or 0.0) for e in ev
               if e["kind"] == "ActivityRan" and e["data"].get("phase") == "rollback")


def wall_of(event: dict) -> float:
    return iso_to_epoch(event["wall"])


def ended_wall(ev: list[dict]) -> float:
    end = ev[-1]
    if end["kind"] != "DrillEnded":
        raise RuntimeError(f"a journal does not end with DrillEnded: {end['kind']}")
    return wall_of(end)


def journals(cwd: Path, since: set[Path]) -> dict[str, tuple[list[dict], Path]]:
    """The journals under reports/ written since ``since`` was listed (with their folder), by scenario id."""
    out = {}
    for path in sorted((cwd / "reports").glob("bench-suite-*/journal.jsonl")):
        if path not in since:
            since.add(path)
            ev = read_events(path)
            out[ev[0]["data"]["scenario"]["id"]] = (ev, path.parent)
    return out


def suite_once(d, folder: Path, seen: set[Path], i: int) -> dict:
    out = d.cwd / f"suite-out-{i}"
    started = time.time()
    t = time.perf_counter()
    proc = subprocess.run([GAMEDAY, "run", str(folder), "--mode", "ci", "--out", str(out)], cwd=d.cwd,
                          capture_output=True, text=True, timeout=300)
    wall = time.perf_counter() - t
    exited = started + wall
    if proc.returncode not in (0, 1):  # 1: expectations not met (nothing detects the broken catalog): expected
        raise RuntimeError(f"the suite exited {proc.returncode}: {(proc.stderr or proc.stdout)[-800:]}")
    root = ET.parse(out / "junit.xml").getroot()
    if len(root.findall("testsuite")) != DRILLS:
        raise RuntimeError(f"the suite's JUnit file has {len(root.findall('testsuite'))} suites, not {DRILLS}")
    found = journals(d.cwd, seen)
    evs = [found[f"bench-suite-{n:02d}"][0] for n in range(1, DRILLS + 1)]
    ends = [ended_wall(ev) for ev in evs]
    starts = [wall_of(ev[0]) - ev[0]["t"] for ev in evs]  # the journal's t0
    after_first = [ends[k] - ends[k - 1] - own(evs[k]) for k in range(1, DRILLS)]
    parts = {"between": [starts[k] - ends[k - 1] for k in range(1, DRILLS)],
             "playing": [ends[k] - starts[k] - own(evs[k]) for k in range(1, DRILLS)],
             "activities": [activities(evs[k]) for k in range(1, DRILLS)]}
    return {"wall": wall, "first": ends[0] - started - own(evs[0]), "after_first": after_first, "parts": parts,
            "tail": exited - ends[-1]}


def singles_once(d, paths: list[Path], seen: set[Path]) -> list[float]:
    overheads = []
    for path in paths:
        t = time.perf_counter()
        proc = subprocess.run([GAMEDAY, "run", str(path), "--mode", "ci"], cwd=d.cwd, capture_output=True, text=True,
                              timeout=120)
        wall = time.perf_counter() - t
        if proc.returncode not in (0, 1):
            raise RuntimeError(f"gameday run exited {proc.returncode}: {(proc.stderr or proc.stdout)[-800:]}")
        ((ev, _),) = journals(d.cwd, seen).values()
        overheads.append(wall - own(ev))
    return overheads


def run(quick: bool = False, repeats: int | None = None) -> list[Result]:
    repeats = repeats or (1 if quick else 3)
    try:
        suites, singles = [], []
        with tmpdir("suite") as cwd, demo(cwd) as d:
            folder = cwd / "suite"
            paths = write_suite(folder)
            seen: set[Path] = set()
            warm = cwd / "warm-up" / "bench-suite-warm-up.yaml"  # its own id: no drill id of the suite's can repeat it
            warm.parent.mkdir()
            warm.write_text(paths[0].read_text().replace("bench-suite-01", "bench-suite-warm-up"))
            singles_once(d, [warm], seen)  # warm-up (page cache, .pyc), not counted
            for i in range(repeats):
                suites.append(suite_once(d, folder, seen, i))
                singles.append(singles_once(d, paths, seen))
        per_drill = [x for s in suites for x in s["after_first"]]
        single = [x for s in singles for x in s]
        lean = [x - a for s in suites for x, a in zip(s["after_first"], s["parts"]["activities"], strict=True)]
        med, base = statistics.median(per_drill), statistics.median(single)
        print(f"ci suite of {DRILLS} drills vs {DRILLS} separate `gameday run` processes ({repeats} interleaved "
              "repeats against one demo; ms):")
        rows = [
            ("suite: overhead per drill, 2..10", per_drill),
            ("  each repeat's median", [statistics.median(s["after_first"]) for s in suites]),
            ("  previous DrillEnded -> its DrillStarted", [x for s in suites for x in s["parts"]["between"]]),
            ("  its work while it plays", [x for s in suites for x in s["parts"]["playing"]]),
            ("    of which its rollback activity", [x for s in suites for x in s["parts"]["activities"]]),
            ("suite: overhead less the rollback activity", lean),
            ("suite: first drill (process start ->)", [s["first"] for s in suites]),
            ("suite: tail (last DrillEnded -> exit)", [s["tail"] for s in suites]),
            ("suite: whole wall", [s["wall"] for s in suites]),
            ("separate processes: overhead per drill", single),
        ]
        for label, values in rows:
            print(f"  {label:<40} median {statistics.median(values) * 1e3:8.1f}   p10 {pct(values, 10) * 1e3:8.1f}"
                  f"   p90 {pct(values, 90) * 1e3:8.1f}   max {max(values) * 1e3:8.1f}   (n={len(values)})")
        print(f"  ratio suite / separate (medians): {med / base:.3f}")
        return [Result(MEASURE, med * 1e3, "ms", TARGET_MS, "value", baseline=base * 1e3,
                       baseline_label="separate gameday run, overhead per drill, median",
                       details={"suite_runs": suites, "single_runs_s": singles, "drills": DRILLS, "repeats": repeats,
                                "p10_ms": pct(per_drill, 10) * 1e3, "p90_ms": pct(per_drill, 90) * 1e3,
                                "max_ms": max(per_drill) * 1e3}),
                Result("ci suite overhead per drill after the first, less its Chaos Toolkit rollback's own time (median)",
                       statistics.median(lean) * 1e3, "ms", TARGET_MS, "value", baseline=base * 1e3,
                       baseline_label="separate gameday run, overhead per drill, median")]
    except Exception as exc:  # noqa: BLE001
        return [failed(MEASURE, "ms", TARGET_MS, exc)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    report(run(args.quick, args.repeats), name="suite")


if __name__ == "__main__":
    main()
