"""Measure 3 — abort to rolled back: SIGINT during a real drill → the fault's rollback journaled.

Starts the demo once (``gameday demo up`` in a scratch folder, so no run pays its start-up),
then 5 times: ``gameday run VARIANT --mode ci --out …`` as a subprocess, where
VARIANT is ``scenarios/catalog-silent-failure.yaml`` written into the scratch folder with
the experiment by absolute path, a 0.5 s baseline and fault ``at``, a 30 s ``max_duration``
and no responder script (so nothing but the signal ends the fault early). When the journal
shows ``FaultInjected`` the benchmark waits a per-repeat delay (0, 0.3, 0.7, 0.15, 1.2 s:
mid-injection and while observing), reads ``time.time()`` and sends SIGINT. Then:

    abort_to_rolled_back = wall(FaultRolledBack) − time of the SIGINT

(the journal's ``wall`` is UTC with microseconds, the same clock as ``time.time()``). The
figure is the max over the repeats. Components printed: signal → DrillAborted, and the
rollback activity's own duration (ActivityRan, phase rollback), which is the baseline.

    .venv/bin/python bench/bench_abort.py [--repeats N]
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import time
from pathlib import Path

import yaml

from common import GAMEDAY, ROOT, Result, demo, failed, iso_to_epoch, read_events, report, tmpdir, wait_for

MEASURE = "abort (SIGINT) to rolled back, max"
TARGET_MS = 500.0
DELAYS = (0.0, 0.3, 0.7, 0.15, 1.2)


def write_variant(folder: Path) -> Path:
    data = yaml.safe_load((ROOT / "scenarios" / "catalog-silent-failure.yaml").read_text())
    data["id"] = "bench-abort"
    data.pop("responders", None)
    data["timing"] = {"baseline": "500ms", "cooldown": "1s"}
    data["faults"][0].update({"at": "500ms", "max_duration": "30s",
                              "experiment": str(ROOT / "experiments" / "break-catalog.yaml")})
    data["abort"] = {"max_duration": "60s"}
    path = folder / "bench-abort.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def one(cwd: Path, scenario: Path, i: int, delay: float) -> dict[str, float]:
    out = cwd / f"out-{i}"
    journal = out / "journal.jsonl"
    log = open(cwd / f"run-{i}.log", "wb")
    proc = subprocess.Popen([GAMEDAY, "run", str(scenario), "--mode", "ci", "--out", str(out)], cwd=cwd,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for(lambda: any(e["kind"] == "FaultInjected" for e in read_events(journal)) or proc.poll() is not None,
                 timeout=30, interval=0.002, what="FaultInjected in the journal")
        if proc.poll() is not None:
            raise RuntimeError(f"gameday run exited early ({proc.returncode}); see {log.name}")
        time.sleep(delay)
        sent = time.time()
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        exited = time.time()
    finally:
        if proc.poll() is None:  # bounded: never leave a drill (and its fault) behind
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()
    events = read_events(journal)
    first = lambda kind, **kv: next((e for e in events if e["kind"] == kind  # noqa: E731
                                     and all(e["data"].get(k) == v for k, v in kv.items())), None)
    rolled, aborted = first("FaultRolledBack"), first("DrillAborted")
    activity = first("ActivityRan", phase="rollback")
    if rolled is None or aborted is None or activity is None:
        raise RuntimeError(f"repeat {i}: journal has no DrillAborted/FaultRolledBack/rollback ActivityRan; see {log.name}")
    if not str(aborted["data"].get("reason", "")).startswith("signal"):
        raise RuntimeError(f"repeat {i}: drill aborted for another reason: {aborted['data'].get('reason')}")
    return {"delay": delay, "to_rolled_back": iso_to_epoch(rolled["wall"]) - sent,
            "to_aborted": iso_to_epoch(aborted["wall"]) - sent, "rollback_activity": activity["data"]["duration_s"],
            "to_exit": exited - sent, "exit_code": proc.returncode}


def run(quick: bool = False, repeats: int | None = None) -> list[Result]:
    repeats = repeats or (2 if quick else 5)
    try:
        rows = []
        with tmpdir("abort") as cwd, demo(cwd):
            scenario = write_variant(cwd)
            for i in range(repeats):
                rows.append(one(cwd, scenario, i, DELAYS[i % len(DELAYS)]))
        print(f"abort to rolled back ({repeats} drills of {scenario.name} against the demo):")
        for r in rows:
            print(f"  SIGINT {r['delay']:.1f}s after FaultInjected: -> DrillAborted {r['to_aborted'] * 1e3:7.1f} ms"
                  f"  -> FaultRolledBack {r['to_rolled_back'] * 1e3:7.1f} ms  (rollback activity "
                  f"{r['rollback_activity'] * 1e3:.1f} ms; process exit {r['to_exit'] * 1e3:.0f} ms, code {r['exit_code']})")
        worst = max(rows, key=lambda r: r["to_rolled_back"])
        return [Result(MEASURE, worst["to_rolled_back"] * 1e3, "ms", TARGET_MS, baseline=worst["rollback_activity"] * 1e3,
                       baseline_label="its rollback activity's own duration", details={"repeats": rows})]
    except Exception as exc:  # noqa: BLE001
        return [failed(MEASURE, "ms", TARGET_MS, exc)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    report(run(args.quick, args.repeats), name="abort")


if __name__ == "__main__":
    main()
