"""Stop conditions (issue 15): a stop condition's threshold crossed → every fault rolled back, max ≤ 0.5 s.

Set-up: our own dockerd (tests/fixtures/run/dockerd.py) and busybox containers: ``guard`` and ``web-0`` …
``web-2``. ``REPEATS`` harness drills (harness.py: real Conductor, SystemClock, JournalWriter with fsync, the
real fault ledger, the real probe loop at the scenario's default 250 ms), each with three docker faults (real
``DockerInjector``\\ s) pausing the web containers at 0.5 s, a ``container`` steady-state check on ``guard``
and ``abort.when: [{check: guard up}]``. Once the three are in, after a different delay each repeat, the
bench pauses ``guard`` itself through the engine (the world crossing the threshold: the instant its pause
call returns). Then:

    crossed → rolled back = the last FaultRolledBack durable in the journal − the guard's pause returned

which holds the probe loop's wait for its next round (up to 250 ms), the StopConditionMet and DrillAborted
lines, and the three unpauses with their journal lines. Printed beside it: crossed → StopConditionMet.

    .venv/bin/python bench/bench_stops.py [--repeats N]
"""

from __future__ import annotations

import argparse
import sys
import time

from common import ROOT, Result, failed, fmt_summary, report, summary, tmpdir, wait_for
from harness import Drill

MEASURE = "stop condition crossed -> every fault rolled back, max"
TARGET_MS = 500.0
REPEATS = 5
DELAYS = (0.05, 0.31, 0.17, 0.42, 0.23)


def run(quick: bool = False, repeats: int = REPEATS) -> list[Result]:
    try:
        return [_run(2 if quick else repeats)]
    except BaseException as exc:  # noqa: BLE001 - reported as a failed row (pytest's skip is a BaseException)
        return [failed(MEASURE, "ms", TARGET_MS, exc if isinstance(exc, Exception) else RuntimeError(str(exc)))]


def _scenario(host: str):
    from gameday.model.scenario import Scenario

    return Scenario.model_validate({
        "apiVersion": "gameday/v1", "id": "bench-stops", "title": "stop condition", "severity": "SEV2",
        "target": {"docker_host": host, "containers": {"guard": {"name": "guard", "count": 1},
                                                       **{f"web{i}": {"name": f"web-{i}", "count": 1} for i in range(3)}}},
        "steady_state": [{"name": "guard up", "container": {"container": "guard"}}],
        "faults": [{"id": f"pause-{i}", "at": "500ms", "max_duration": "1m", "docker": {"target": f"web{i}",
                                                                                      "action": "pause"}}
                   for i in range(3)],
        "detection": {"within": "60s", "signals": [{"alert": {"alertname": "Never"}}]},
        "recovery": {"within": "2m"},
        "abort": {"max_duration": "5m", "when": [{"check": "guard up"}]},
        "timing": {"baseline": "0s", "cooldown": "0s"},
    })


def _run(repeats: int) -> Result:
    sys.path.insert(0, str(ROOT / "tests" / "fixtures" / "run"))
    from dockerd import start_engine

    from gameday.drill.injectors import injector_for_fault
    from gameday.journal import events_of
    from gameday.model.events import ActivityRan, FaultRolledBack, StopConditionMet

    engine = start_engine()
    crossed_to_back: list[float] = []
    crossed_to_met: list[float] = []
    try:
        for r in range(repeats):
            for name in ("guard", "web-0", "web-1", "web-2"):
                engine.run(name)
            sc = _scenario(engine.host)
            injectors = {f.id: injector_for_fault(f, target=sc.target) for f in sc.faults}
            durable: dict[int, float] = {}
            with tmpdir("stops") as work:
                drill = Drill(work, sc, injectors, drill_id=f"bench-stops-{r}")
                drill.journal.listeners.append(lambda ev, d=durable: d.setdefault(ev.seq, time.monotonic()))
                drill.start()
                wait_for(lambda d=drill: len([e for e in events_of(list(d.journal.events), ActivityRan)
                                               if e.data.phase == "method"]) == 3, 30, interval=0.01, what="3 faults in")
                time.sleep(DELAYS[r % len(DELAYS)])
                engine.api.pause("guard")
                crossed = time.monotonic()
                drill.wait(30)
                evs = list(drill.journal.events)
            backs = events_of(evs, FaultRolledBack)
            met = events_of(evs, StopConditionMet)
            if len(backs) != 3 or not met:
                raise RuntimeError(f"repeat {r}: {len(backs)} faults rolled back, stop condition met: {bool(met)}")
            crossed_to_back.append(max(durable[e.seq] for e in backs) - crossed)
            crossed_to_met.append(durable[met[0].seq] - crossed)
            left = [c["Names"][0] for c in engine.api.containers(all=True) if c["State"] == "paused"
                    and c["Names"][0] != "/guard"]
            if left:
                raise RuntimeError(f"containers left paused: {left}")
            engine.remove_all()
    finally:
        engine.remove_all()
        engine.stop()
    print(fmt_summary("crossed -> StopConditionMet journaled", summary(crossed_to_met, 1e3)))
    print(fmt_summary("crossed -> every fault rolled back", summary(crossed_to_back, 1e3)))
    return Result(MEASURE, max(crossed_to_back) * 1e3, "ms", TARGET_MS,
                  details={"crossed_to_rolled_back_ms": summary(crossed_to_back, 1e3),
                           "crossed_to_met_ms": summary(crossed_to_met, 1e3), "repeats": repeats,
                           "probe_interval_ms": 250})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=REPEATS)
    args = ap.parse_args()
    report(run(repeats=args.repeats), name="stops")


if __name__ == "__main__":
    main()
