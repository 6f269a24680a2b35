"""Docker faults (issue 15): a container fault falling due → in place and on record, against the same operation
by the ``docker`` CLI in the same run.

Set-up: our own dockerd (tests/fixtures/run/dockerd.py: own data root and socket, no bridge, no iptables) and
``2 × ROUNDS`` busybox containers. A harness drill (harness.py: real Conductor, SystemClock, JournalWriter
with fsync, the real fault ledger) with ``ROUNDS`` faults, each a real
:class:`~gameday.adapters.docker.DockerInjector` pausing its own container, ``GAP`` apart, each rolled back
(unpaused) ``HOLD`` after. For each fault:

    gameday = (the ActivityRan of its pause is durable in the journal) − (the fault's scheduled instant)

which holds the conductor's wake-up, the FaultInjected line (fsynced), choosing the container (one listing
call) and rewriting the ledger entry naming it (fsynced), the pause itself, and its ActivityRan line
(fsynced). Interleaved with the faults, ``HALF`` a gap after each, the bench pauses another container with the
CLI, as a Chaos Toolkit ``process`` activity would (``docker -H HOST pause NAME``):

    cli = the process's exit − its spawn

Row: gameday's p99 over the CLI's p99 (target ratio ≤ 1.0). Printed beside it: medians, spreads, and
where gameday's time goes.

    .venv/bin/python bench/bench_docker.py [--rounds N]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from common import ROOT, Result, failed, fmt_summary, pct, report, summary, tmpdir, wait_for
from harness import Drill, fault, probe_target, scenario

MEASURE = "docker fault due -> paused and journaled, p99 / docker CLI pause p99"
TARGET = 1.0
ROUNDS = 30
FIRST = 1.0
GAP = 0.4
HOLD = 0.15


def run(quick: bool = False, rounds: int = ROUNDS) -> list[Result]:
    try:
        return [_run(8 if quick else rounds)]
    except BaseException as exc:  # noqa: BLE001 - reported as a failed row (pytest's skip is a BaseException)
        return [failed(MEASURE, "ms", TARGET, exc if isinstance(exc, Exception) else RuntimeError(str(exc)),
                       target_on="ratio")]


def _run(rounds: int) -> Result:
    sys.path.insert(0, str(ROOT / "tests" / "fixtures" / "run"))
    from dockerd import start_engine

    from gameday.adapters.docker import DockerInjector
    from gameday.journal import events_of
    from gameday.model.containers import ContainerSelector
    from gameday.model.events import ActivityRan

    cli = shutil.which("docker")
    if cli is None:
        raise RuntimeError("the docker CLI is not installed")
    engine = start_engine()
    try:
        for i in range(rounds):
            engine.run(f"gd-{i:02d}", labels={"bench": "gameday"})
            engine.run(f"cli-{i:02d}", labels={"bench": "cli"})
        injectors = {f"pause-{i:02d}": DockerInjector(f"c{i}", ContainerSelector(name=f"gd-{i:02d}", count=1), "pause",
                                                     host=engine.host, owner=f"pause-{i:02d}")
                     for i in range(rounds)}
        faults = [fault(f"pause-{i:02d}", f"{int((FIRST + i * GAP) * 1000)}ms", max_duration=f"{int(HOLD * 1000)}ms")
                  for i in range(rounds)]
        cli_s: list[float] = []
        durable: dict[int, float] = {}
        with tmpdir("docker") as work, probe_target() as url:
            drill = Drill(work, scenario(url, faults), injectors, drill_id="bench-docker")
            drill.journal.listeners.append(lambda ev: durable.setdefault(ev.seq, time.monotonic()))

            def by_cli() -> None:
                for i in range(rounds):
                    due = drill.t0 + FIRST + i * GAP + GAP / 2
                    time.sleep(max(0.0, due - time.monotonic()))
                    t = time.monotonic()
                    subprocess.run([cli, "-H", engine.host, "pause", f"cli-{i:02d}"], check=True,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                    cli_s.append(time.monotonic() - t)
                    subprocess.run([cli, "-H", engine.host, "unpause", f"cli-{i:02d}"], check=True,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

            drill.start()
            thread = threading.Thread(target=by_cli, daemon=True)
            thread.start()
            last = FIRST + (rounds - 1) * GAP + HOLD + 1.0
            wait_for(lambda: drill.journal.offset() > last, last + 60, interval=0.1, what="the last rollback")
            thread.join(30)
            drill.stop("bench: done")
            t0 = drill.t0
            ran = [e for e in events_of(list(drill.journal.events), ActivityRan) if e.data.phase == "method"]
        ours = []
        for e in ran:
            i = int(e.data.owner.split("-")[1])
            ours.append(durable[e.seq] - (t0 + FIRST + i * GAP))
        paused_ms = [e.data.duration_s * 1e3 for e in ran]
        left = [c["Names"][0] for c in engine.api.containers(all=True) if c["State"] == "paused"]
        if left:
            raise RuntimeError(f"containers left paused: {left}")
    finally:
        engine.remove_all()
        engine.stop()
    if len(ours) != rounds or len(cli_s) != rounds:
        raise RuntimeError(f"measured {len(ours)} faults and {len(cli_s)} CLI calls of {rounds}")
    version = subprocess.run([cli, "--version"], capture_output=True, text=True).stdout.strip()
    print(fmt_summary("gameday: due -> paused, journaled", summary(ours, 1e3)))
    print(fmt_summary("  of which the pause call itself", summary(paused_ms)))
    print(fmt_summary(f"docker CLI pause ({Path(cli)}: {version})", summary(cli_s, 1e3)))
    print(f"  medians: gameday {statistics.median(ours) * 1e3:.1f} ms, CLI {statistics.median(cli_s) * 1e3:.1f} ms")
    return Result(MEASURE, pct(ours, 99) * 1e3, "ms", TARGET, target_on="ratio", baseline=pct(cli_s, 99) * 1e3,
                  baseline_label="docker CLI pause, p99",
                  details={"gameday_ms": summary(ours, 1e3), "pause_call_ms": summary(paused_ms),
                           "cli_ms": summary(cli_s, 1e3), "cli": f"{cli} ({version})", "rounds": rounds})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=ROUNDS)
    args = ap.parse_args()
    report(run(rounds=args.rounds), name="docker")


if __name__ == "__main__":
    main()
