"""Measure 5 — conductor overhead of a ci drill vs. ``chaos run`` of the same experiment.

Both run against one demo started beforehand (``gameday demo up`` in a scratch folder:
neither pays the demo's start-up; ``gameday run`` attaches to it, resets it and points its
monitoring at its own webhook intake; ``chaos run`` finds it through the
``GAMEDAY_DEMO_CONTROL_URL``/``GAMEDAY_CHECKOUT_URL`` variables of the experiment's
configuration block). ``REPEATS`` pairs, interleaved; medians are compared.

* ``chaos --no-version-check run --rollback-strategy always experiments/break-catalog.yaml``:
  its whole wall time (start Python, load chaoslib, validate, run the method, run the
  rollbacks, write its journal) is the baseline.
* ``gameday run bench-overhead.yaml --mode ci --out …``: the scenario (written to the scratch
  folder) has the same experiment as its only fault, at 0 s after a 0 s baseline; its
  steady state is checkout ``/health`` (which breaking the catalog does not affect, so
  no impact and no recovery to wait for); ``detection.within`` 500 ms, cooldown 0, no
  responders, no steps. Its timeline is therefore fixed by timers alone: inject at 0,
  watch for detection until injection + 500 ms, end, roll back, final check, report.

::

    overhead  = wall(gameday run) − own_waits
    own_waits = Σ over the scenario's timers (fault.at; FaultInjected.t + detection.within
                + cooldown) of the time the conductor sat idle waiting for that timer:
                max(0, timer − t of the last journal event before the event it triggered)

Lateness after a timer, and everything else (start-up, loading, demo attach/reset,
intake, preflight, inject and rollback activities, final check, reports) is overhead.
``ratio = median(overhead) / median(chaos run wall)``, target ≤ 1.0.

Also measured, interleaved in the same run (printed, and in the JSON details): the **floor**,
a bare interpreter that only imports the libraries a ci drill is built on (click, PyYAML,
pydantic with ``BaseModel``, chaoslib, uvicorn, Starlette; no gameday code), and chaos's own
floor (``import chaostoolkit.cli``). When the first is above ``chaos run``'s whole wall, no
implementation on those libraries, in one process, can reach the target.

    .venv/bin/python bench/bench_overhead.py [--repeats N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import time
from pathlib import Path

import yaml

from common import BENCH, CHAOS, GAMEDAY, PY, ROOT, Result, demo, failed, iso_to_epoch, read_events, report, tmpdir

MEASURE = "ci drill overhead vs chaos run (median)"
TARGET_RATIO = 1.0
EXPERIMENT = ROOT / "experiments" / "break-catalog.yaml"
WITHIN = 0.5


def write_scenario(folder: Path) -> Path:
    data = {
        "apiVersion": "gameday/v1", "id": "bench-overhead", "title": "Break the catalog (overhead benchmark)",
        "severity": "SEV2", "target": "demo",
        "steady_state": [{"name": "checkout health", "http": {"url": "{target.url}/health", "expect_status": 200}}],
        "faults": [{"id": "break-catalog", "at": "0s", "max_duration": "30s", "experiment": str(EXPERIMENT)}],
        "detection": {"within": f"{round(WITHIN * 1000)}ms",
                      "signals": [{"name": "catalog alert", "alert": {"alertname": "CatalogErrors"}}]},
        "recovery": {"within": "10s"}, "abort": {"max_duration": "60s"},
        "timing": {"baseline": "0s", "cooldown": "0s"},
    }
    path = folder / "bench-overhead.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def gameday_once(d, scenario: Path, i: int) -> dict[str, float]:
    out = d.cwd / f"gd-{i}"
    started = time.time()
    t = time.perf_counter()
    proc = subprocess.run([GAMEDAY, "run", str(scenario), "--mode", "ci", "--out", str(out)], cwd=d.cwd,
                          capture_output=True, text=True, timeout=120)
    wall = time.perf_counter() - t
    exited = started + wall
    if proc.returncode not in (0, 1):  # 1: expectations not met (nothing detects a silent failure): expected
        raise RuntimeError(f"gameday run exited {proc.returncode}: {(proc.stderr or proc.stdout)[-500:]}")
    ev = read_events(out / "journal.jsonl")
    if not ev or ev[-1]["kind"] != "DrillEnded":
        raise RuntimeError(f"gameday run exited {proc.returncode} without a complete journal: "
                           f"{(proc.stderr or proc.stdout)[-800:]}")
    idx = lambda kind, **kv: next(i for i, e in enumerate(ev) if e["kind"] == kind  # noqa: E731
                                  and all(e["data"].get(k) == v for k, v in kv.items()))
    sc = ev[0]["data"]["scenario"]
    at = 0.0 if sc["faults"][0]["at"] in ("0s", "0ms") else None
    if at is None:
        raise RuntimeError("the overhead scenario's fault must be at 0s")
    i_start, i_inj = idx("DrillStarted"), idx("FaultInjected")
    i_inject_phase, i_rb_phase = idx("PhaseChanged", phase="inject"), idx("PhaseChanged", phase="rollback")
    i_end = idx("DrillEnded")
    inj_t = ev[i_inj]["t"]
    # timer 1: fault.at triggers the inject phase; timer 2: injection + within + cooldown ends the drill
    timers = [(at, i_inject_phase), (inj_t + WITHIN, i_rb_phase)]
    waits = [max(0.0, min(deadline, ev[k]["t"]) - ev[k - 1]["t"]) for deadline, k in timers]
    method = next(e for e in ev if e["kind"] == "ActivityRan" and e["data"]["phase"] == "method")["data"]["duration_s"]
    rollback = next(e for e in ev if e["kind"] == "ActivityRan" and e["data"]["phase"] == "rollback")["data"]["duration_s"]
    drill_started = iso_to_epoch(ev[i_start]["wall"]) - ev[i_start]["t"]  # wall time of the journal's t0
    return {
        "wall": wall, "own_waits": sum(waits), "overhead": wall - sum(waits),
        "startup": drill_started - started,  # process start -> journal t0 (imports, load, ledger, intake, demo attach)
        "preflight_to_inject": ev[i_inj]["t"] - waits[0],
        "inject_activity": method,
        "late_after_timer": max(0.0, ev[i_rb_phase]["t"] - (inj_t + WITHIN)),
        "observe_work": (ev[i_rb_phase]["t"] - inj_t) - waits[1] - max(0.0, ev[i_rb_phase]["t"] - (inj_t + WITHIN)),
        "rollback_and_final_check": ev[i_end]["t"] - ev[i_rb_phase]["t"],
        "rollback_activity": rollback,
        "reports_and_exit": exited - (drill_started + ev[i_end]["t"]),
    }


def chaos_once(d, i: int) -> dict[str, float]:
    journal, log = d.cwd / f"chaos-{i}.json", d.cwd / f"chaos-{i}.log"
    argv = [CHAOS, "--no-version-check", "--log-file", str(log), "--settings", str(d.cwd / "chaos-settings.yaml"),
            "run", "--journal-path", str(journal), "--rollback-strategy", "always", str(EXPERIMENT)]
    t = time.perf_counter()
    proc = subprocess.run(argv, cwd=d.cwd, env=d.env(), capture_output=True, text=True, timeout=120)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise RuntimeError(f"chaos run exited {proc.returncode}: {(proc.stderr or proc.stdout)[-500:]}")
    doc = json.loads(journal.read_text())
    if doc.get("status") != "completed":
        raise RuntimeError(f"chaos run status {doc.get('status')!r}")
    return {"wall": wall, "experiment": float(doc.get("duration") or 0.0)}


FLOOR_GAMEDAY = ("import click, yaml; from pydantic import BaseModel, Field; import chaoslib.experiment, "
                 "chaoslib.activity, uvicorn, starlette.applications")
FLOOR_CHAOS = "import chaostoolkit.cli"


def floor_once(d, code: str) -> float:
    """Wall time of a bare interpreter importing what ``code`` imports."""
    t = time.perf_counter()
    subprocess.run([PY, "-c", code], cwd=d.cwd, env=d.env(), check=True, capture_output=True, timeout=60)
    return time.perf_counter() - t


def trace_once(d, scenario: Path) -> dict:
    """One more drill, in-process under trace_run.py: the stages' own times (where the overhead goes)."""
    proc = subprocess.run([PY, str(BENCH / "trace_run.py"), str(scenario), str(d.cwd / "gd-trace"), "--json"],
                          cwd=d.cwd, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"trace_run.py failed: {proc.stderr[-500:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def print_trace(trace: dict) -> None:
    print(f"  where a drill's time goes (one more drill, in-process under bench/trace_run.py; "
          f"{trace['total_ms']:.0f} ms after interpreter start-up):")
    for sp in trace["spans"]:
        if sp["ms"] >= 2.0 and sp["depth"] >= 0 and "[thread]" not in sp["label"] or (
                "[thread]" in sp["label"] and sp["ms"] >= 5.0):
            print(f"    {sp['start_ms']:7.1f}  {'  ' * sp['depth']}{sp['label']}: {sp['ms']:.1f} ms")


def run(quick: bool = False, repeats: int | None = None) -> list[Result]:
    repeats = repeats or (2 if quick else 5)
    try:
        gd, ch = [], []
        with tmpdir("overhead") as cwd, demo(cwd) as d:
            scenario = write_scenario(cwd)
            chaos_once(d, -1)  # warm-up of both (page cache, .pyc), not counted
            gameday_once(d, scenario, -1)
            floors: dict[str, list[float]] = {"gameday": [], "chaos": []}
            for i in range(repeats):
                gd.append(gameday_once(d, scenario, i))
                ch.append(chaos_once(d, i))
                floors["gameday"].append(floor_once(d, FLOOR_GAMEDAY))
                floors["chaos"].append(floor_once(d, FLOOR_CHAOS))
            try:
                trace = trace_once(d, scenario)
            except Exception as exc:  # noqa: BLE001 - the figure stands without its breakdown
                trace = {"error": str(exc), "spans": [], "total_ms": 0.0}
        med = lambda rows, k: statistics.median(r[k] for r in rows)  # noqa: E731
        comp = {k: med(gd, k) for k in gd[0]}
        chaos = {k: med(ch, k) for k in ch[0]}
        print(f"ci drill overhead ({repeats} interleaved pairs against one demo; medians, ms):")
        rows = [
            ("gameday run wall", comp["wall"], ""),
            ("  own waits (timers, idle)", comp["own_waits"], f"scenario: at 0s + detection.within {WITHIN * 1e3:g} ms"),
            ("  = overhead", comp["overhead"], ""),
            ("    start-up -> journal t0", comp["startup"], "python, imports, load, ledger, intake, demo attach/reset"),
            ("    t0 -> FaultInjected", comp["preflight_to_inject"], "DrillStarted, preflight probe, phases"),
            ("    inject activity", comp["inject_activity"], ""),
            ("    other work while observing", comp["observe_work"], ""),
            ("    late after the timer", comp["late_after_timer"], ""),
            ("    rollback + final check", comp["rollback_and_final_check"],
             f"rollback activity {comp['rollback_activity'] * 1e3:.1f}"),
            ("    DrillEnded -> exit", comp["reports_and_exit"], "scoring, postmortem md/html, junit, teardown"),
            ("chaos run wall", chaos["wall"], f"experiment itself {chaos['experiment'] * 1e3:.1f}"),
        ]
        floor = {k: statistics.median(v) for k, v in floors.items()}
        rows += [
            ("floor: libraries' imports only", floor["gameday"],
             f"{floor['gameday'] / chaos['wall']:.2f} x chaos run wall: click, yaml, pydantic, chaoslib, uvicorn, "
             "starlette in a bare interpreter"),
            ("chaos's own floor", floor["chaos"], "import chaostoolkit.cli"),
        ]
        for label, value, note in rows:
            print(f"  {label:<32}{value * 1e3:8.1f}" + (f"   ({note})" if note else ""))
        if trace.get("spans"):
            print_trace(trace)
        return [Result(MEASURE, comp["overhead"] * 1e3, "ms", TARGET_RATIO, "ratio", baseline=chaos["wall"] * 1e3,
                       baseline_label="chaos run wall median",
                       details={"gameday_median_s": comp, "chaos_median_s": chaos, "gameday_runs": gd, "chaos_runs": ch,
                                "floor_median_s": floor, "floor_runs": floors, "trace": trace})]
    except Exception as exc:  # noqa: BLE001
        return [failed(MEASURE, "ms", TARGET_RATIO, exc, "ratio")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    report(run(args.quick, args.repeats), name="overhead")


if __name__ == "__main__":
    main()
