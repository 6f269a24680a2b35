"""Run every live-drill benchmark and print one table (``make bench``).

    .venv/bin/python bench/run_all.py [--quick] [--only NAME[,NAME]] [--strict]

Columns: measure, value, target, baseline (measured in the same run), ratio (value /
baseline) and PASS/FAIL. The results, with every component figure, go to
``bench/results/latest.json`` (git-ignored). Exit status 0 even when a target is missed
(the table says FAIL); ``--strict`` exits 1 then. See bench/README.md for each definition.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import bench_abort
import bench_anatomy
import bench_detection
import bench_docker
import bench_help
import bench_inject
import bench_intake
import bench_load
import bench_monitoring
import bench_overhead
import bench_stops
import bench_suite
import bench_tabletop
import bench_training
import bench_trends
from common import PYC_CACHE, ROOT, table, write_json

BENCHES = {
    "detection": bench_detection,
    "inject": bench_inject,
    "abort": bench_abort,
    "help": bench_help,
    "overhead": bench_overhead,
    "intake": bench_intake,
    "monitoring": bench_monitoring,
    "anatomy": bench_anatomy,
    "docker": bench_docker,
    "stops": bench_stops,
    "load": bench_load,
    "tabletop": bench_tabletop,
    "training": bench_training,
    "trends": bench_trends,
    "suite": bench_suite,
}


def main() -> int:
    ap = argparse.ArgumentParser(description="Run every live-drill benchmark and print one table.")
    ap.add_argument("--quick", action="store_true", help="fewer samples (a smoke test, not figures to quote)")
    ap.add_argument("--only", help=f"comma-separated subset of: {', '.join(BENCHES)}")
    ap.add_argument("--strict", action="store_true", help="exit 1 if any target is missed")
    args = ap.parse_args()
    names = args.only.split(",") if args.only else list(BENCHES)
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        ap.error(f"unknown benchmark(s): {', '.join(unknown)}")
    load_before = os.getloadavg()
    results, timings = [], {}
    started = time.monotonic()
    for name in names:
        print(f"== {name} ==", flush=True)
        t = time.monotonic()
        results += BENCHES[name].run(quick=args.quick)
        timings[name] = round(time.monotonic() - t, 1)
        print(f"({name}: {timings[name]:.1f} s)\n", flush=True)
    total = time.monotonic() - started
    print(table(results))
    path = write_json(results, extra={"quick": args.quick, "seconds": timings, "total_seconds": round(total, 1),
                                      "loadavg_before": load_before})
    print(f"\n{sum(r.passed for r in results)}/{len(results)} pass; {total:.0f} s; "
          f"load average before {load_before[0]:.2f}, after {os.getloadavg()[0]:.2f}; "
          f"results in {path.relative_to(ROOT)}")
    if PYC_CACHE:
        print(f"(PYTHONDONTWRITEBYTECODE was set: the processes started kept their .pyc in {PYC_CACHE}; "
              "GAMEDAY_BENCH_NO_PYC_CACHE=1 turns that off)")
    return 1 if args.strict and not all(r.passed for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
