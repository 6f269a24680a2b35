"""Measure 4 — ``gameday --help`` wall time vs. ``chaos --help``, and what ``--help`` imports.

Both console scripts of the venv are run ``REPS`` times each, interleaved (gameday, chaos,
gameday, …) after one warm-up each, stdout to a pipe; the wall time of each process
(``time.perf_counter`` around ``subprocess.run``) is taken and the medians compared:

    ratio = median(gameday --help) / median(chaos --help)      target ≤ 0.6

Then ``python -X importtime …/gameday --help`` lists every module the command imports: the
second row counts the heavy libraries among them (pandas, numpy, chaoslib, jinja2, fastapi;
target 0) and the details name every third-party package imported.

    .venv/bin/python bench/bench_help.py [--reps N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

from common import CHAOS, GAMEDAY, PY, ROOT, Result, failed, report

MEASURE = "gameday --help wall time (median)"
TARGET_RATIO = 0.6
HEAVY = ("pandas", "numpy", "chaoslib", "jinja2", "fastapi")
STDLIB = set(getattr(sys, "stdlib_module_names", ())) | {"_frozen_importlib", "_frozen_importlib_external"}


def _time(argv: list[str]) -> float:
    t = time.perf_counter()
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60, cwd=ROOT)
    elapsed = time.perf_counter() - t
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}: {proc.stderr.decode()[-300:]}")
    return elapsed


def imports_of_help() -> tuple[list[str], float]:
    """Top-level packages ``gameday --help`` imports (non-stdlib), and gameday.cli's cumulative import ms."""
    proc = subprocess.run([PY, "-X", "importtime", GAMEDAY, "--help"], capture_output=True, text=True, timeout=60,
                          cwd=ROOT)
    roots: set[str] = set()
    cli_ms = 0.0
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        parts = line.split("|")
        name = parts[-1].strip()
        if not name or name == "imported package":
            continue
        if name == "gameday.cli":
            cli_ms = int(parts[1].strip()) / 1000.0
        root = name.split(".")[0]
        if root not in STDLIB and not root.startswith("_"):
            roots.add(root)
    return sorted(roots), cli_ms


def run(quick: bool = False, reps: int | None = None) -> list[Result]:
    reps = reps or (7 if quick else 15)
    try:
        gd, ch = [GAMEDAY, "--help"], [CHAOS, "--help"]
        _time(gd), _time(ch)  # warm-up (page cache, .pyc)
        g, c = [], []
        for _ in range(reps):
            g.append(_time(gd))
            c.append(_time(ch))
        gm, cm = statistics.median(g) * 1e3, statistics.median(c) * 1e3
        roots, cli_ms = imports_of_help()
        heavy = [m for m in HEAVY if m in roots]
        print(f"--help wall time ({reps} runs each, interleaved):")
        print(f"  gameday --help  median {gm:7.1f} ms  (min {min(g) * 1e3:.1f}, max {max(g) * 1e3:.1f})")
        print(f"  chaos --help    median {cm:7.1f} ms  (min {min(c) * 1e3:.1f}, max {max(c) * 1e3:.1f})")
        print(f"  gameday --help imports (non-stdlib): {', '.join(roots) or 'none'}; gameday.cli import {cli_ms:.1f} ms")
        print(f"  heavy libraries imported by gameday --help: {', '.join(heavy) or 'none'}")
        details = {"gameday_ms": [x * 1e3 for x in g], "chaos_ms": [x * 1e3 for x in c], "imports": roots,
                   "heavy_imported": heavy, "gameday_cli_import_ms": cli_ms}
        return [
            Result(MEASURE, gm, "ms", TARGET_RATIO, "ratio", baseline=cm, baseline_label="chaos --help median",
                   details=details),
            Result(f"gameday --help heavy imports ({'/'.join(HEAVY)})", float(len(heavy)), "", 0.0,
                   details={"heavy_imported": heavy}),
        ]
    except Exception as exc:  # noqa: BLE001
        return [failed(MEASURE, "ms", TARGET_RATIO, exc, "ratio")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    report(run(args.quick, args.reps), name="help")


if __name__ == "__main__":
    main()
