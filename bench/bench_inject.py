"""Measure 2 — inject precision: when a fault is journaled as injected vs. when it was scheduled.

A harness drill (see harness.py: real Conductor, SystemClock, JournalWriter with fsync,
real fault ledger, intake, probe loop, live view) with ``FAULTS`` faults scheduled every
50 ms from 0.3 s, each with a ``FakeInjector``. From the journal, for each fault:

    error = FaultInjected.t − fault.at

(both offsets from the journal's t0; the ledger entry is written before FaultInjected,
as in every real drill, so its cost is inside the error: its share is printed too, timed
by a thin subclass of the real ledger). 3 drills are pooled.

Baseline (same run, between the drills): a plain loop sleeping with ``time.sleep`` until
each of the same offsets, error = ``time.monotonic()`` after waking − scheduled time.

    .venv/bin/python bench/bench_inject.py [--runs N] [--faults N]
"""

from __future__ import annotations

import argparse
import time

from common import Result, failed, fmt_summary, report, summary, tmpdir
from harness import Drill, fault, probe_target, scenario

MEASURE = "inject precision p99"
TARGET_MS = 10.0
FIRST, EVERY = 0.3, 0.05


def _drill(target_url: str, faults: int) -> tuple[list[float], list[float]]:
    from gameday.fakes import FakeInjector
    from gameday.journal import read_journal
    from gameday.model.events import FaultInjected

    with tmpdir("inject") as work:
        specs = [fault(f"f{i:03d}", f"{round((FIRST + i * EVERY) * 1000)}ms") for i in range(faults)]
        sc = scenario(target_url, specs, detection_within="200ms", abort_after="2m")  # ends 0.2 s after the last
        drill = Drill(work, sc, {s["id"]: FakeInjector(name=s["id"]) for s in specs}).start()
        result = drill.wait(timeout=FIRST + faults * EVERY + 30)
        if result is None or result.outcome != "completed":
            raise RuntimeError(f"harness drill did not complete: {result}")
        journal = read_journal(work / "journal.jsonl")
        at = {f.id: f.at for f in sc.faults}
        injected = journal.of(FaultInjected)
        if len(injected) != faults:
            raise RuntimeError(f"{len(injected)} of {faults} faults injected")
        errors = [ev.t - at[ev.data.fault] for ev in injected]
        ledger = [drill.ledger.record_s[ev.data.fault] for ev in injected]
        return errors, ledger


def _sleep_loop(faults: int) -> list[float]:
    t0 = time.monotonic()
    errors = []
    for i in range(faults):
        due = t0 + FIRST + i * EVERY
        time.sleep(max(0.0, due - time.monotonic()))
        errors.append(time.monotonic() - due)
    return errors


def run(quick: bool = False, runs: int | None = None, faults: int | None = None) -> list[Result]:
    runs = runs or (1 if quick else 3)
    faults = faults or 40
    try:
        drill_err: list[float] = []
        ledger_s: list[float] = []
        sleep_err: list[float] = []
        with probe_target() as target_url:
            for _ in range(runs):
                sleep_err += _sleep_loop(faults)
                errors, ledger = _drill(target_url, faults)
                drill_err += errors
                ledger_s += ledger
        s, b = summary(drill_err, 1e3), summary(sleep_err, 1e3)
        led = summary(ledger_s, 1e3)
        rest = summary([e - x for e, x in zip(drill_err, ledger_s)], 1e3)
        print(f"inject precision ({runs} drills x {faults} faults every {EVERY * 1000:g} ms):")
        print(fmt_summary("FaultInjected.t - fault.at", s))
        print(fmt_summary("  of which: ledger.record before FaultInjected", led))
        print(fmt_summary("  the rest: wake-up + journaling", rest))
        print(fmt_summary("baseline: time.sleep loop lateness", b))
        return [Result(MEASURE, s["p99"], "ms", TARGET_MS, baseline=b["p99"], baseline_label="time.sleep loop p99",
                       details={"drill_ms": s, "ledger_record_ms": led, "error_minus_ledger_ms": rest, "sleep_ms": b,
                                "runs": runs, "faults": faults})]
    except Exception as exc:  # noqa: BLE001
        return [failed(MEASURE, "ms", TARGET_MS, exc)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int)
    ap.add_argument("--faults", type=int)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    report(run(args.quick, args.runs, args.faults), name="inject")


if __name__ == "__main__":
    main()
