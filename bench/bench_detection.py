"""Measure 1 — detection timestamp error: journal time of a webhook vs. the moment it was sent.

For each of ``ROUNDS`` rounds: a harness drill (see harness.py: real Conductor, SystemClock,
JournalWriter with fsync, real intake under uvicorn, probe loop, ledger, live view; fake
injector) injects a fault at 0.2 s; once the injection is journaled (phase ``observe``),
``webhook_client.py`` — another process — posts ``POSTS`` Alertmanager webhooks one by
one, each on a fresh connection, 5–15 ms apart. For each post:

    error = (journal.t0 + AlertReceived.t) − send

where ``send`` is the client's ``time.monotonic()`` read just before the request bytes
are written (CLOCK_MONOTONIC is system-wide, so both processes' readings compare). The
first post of each round is also the round's ``DetectionRecorded`` (same ``at``, journaled
right after it under the same lock); those are reported separately.

Baseline (same run, interleaved round by round): the same client against a no-op
Starlette app on the same ``BackgroundServer``/uvicorn setup: the bare round trip
(send → whole response read), and the no-op handler's own arrival lag (send → handler
start), which is the floor under the measured error.

    .venv/bin/python bench/bench_detection.py [--rounds N] [--posts N]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import time

from common import BENCH, PY, Result, failed, fmt_summary, report, summary, tmpdir, wait_for
from harness import Drill, fault, probe_target, scenario

MEASURE = "detection timestamp error p99"
TARGET_MS = 5.0
BURST = 4  # webhooks sent at once in the burst part


def _post(url: str, count: int, seed: int, start: int, burst: int = 1) -> list[dict]:
    proc = subprocess.run([PY, str(BENCH / "webhook_client.py"), url, str(count), "--seed", str(seed),
                           "--start", str(start), "--burst", str(burst)],
                          capture_output=True, text=True, timeout=60 + count * 0.5)
    if proc.returncode != 0:
        raise RuntimeError(f"webhook_client.py failed: {proc.stderr.strip()[-500:]}")
    rows = json.loads(proc.stdout)
    bad = [r for r in rows if r["status"] != 200]
    if bad:
        raise RuntimeError(f"{len(bad)} webhooks refused, e.g. {bad[0]}")
    return rows


def _noop_server():
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from gameday.web.server import BackgroundServer

    async def noop(request):
        arrived = time.monotonic()
        await request.body()
        return JSONResponse({"status": "ok", "arrived": arrived})

    return BackgroundServer(Starlette(routes=[Route("/webhooks/{fmt}", noop, methods=["POST"])])).start()


def _drill_round(target_url: str, posts: int, bursts: int, seed: int, start: int) -> dict[str, list[float]]:
    from gameday.fakes import FakeInjector
    from gameday.journal import read_journal
    from gameday.model.events import DetectionRecorded

    with tmpdir("detect") as work:
        sc = scenario(target_url, [fault("f", "200ms")], detection_within="60s")
        drill = Drill(work, sc, {"f": FakeInjector(name="f")}).start()
        try:
            wait_for(lambda: drill.phase_seen("PhaseChanged", phase="observe"), 10, what="the injection")
            single = _post(drill.webhook, posts, seed, start)
            burst = _post(drill.webhook, bursts * BURST, seed, start + posts, burst=BURST) if bursts else []
        finally:
            drill.stop()
        journal = read_journal(work / "journal.jsonl")  # the file, validated, not the in-memory list
        t0 = drill.t0
        by_seq = {e.seq: e for e in journal.events}
        detection = journal.first(DetectionRecorded)
        out: dict[str, list[float]] = {"alert": [], "detection": [], "rtt": [], "burst": []}
        for rows, key in ((single, "alert"), (burst, "burst")):
            for row in rows:
                ev = by_seq[row["body"]["seq"]]
                assert ev.kind == "AlertReceived", ev.kind
                out[key].append(t0 + ev.t - row["send"])
                if key == "alert":
                    out["rtt"].append(row["done"] - row["send"])
                if detection is not None and detection.data.alert_seq == ev.seq:
                    out["detection"].append(t0 + detection.t - row["send"])
        return out


def _noop_round(posts: int, bursts: int, seed: int, start: int) -> dict[str, list[float]]:
    server = _noop_server()
    try:
        url = f"{server.url}/webhooks/alertmanager"
        rows = _post(url, posts, seed, start)
        burst = _post(url, bursts * BURST, seed, start + posts, burst=BURST) if bursts else []
    finally:
        server.stop()
    return {"rtt": [r["done"] - r["send"] for r in rows], "arrive": [r["body"]["arrived"] - r["send"] for r in rows],
            "burst_arrive": [r["body"]["arrived"] - r["send"] for r in burst]}


def run(quick: bool = False, rounds: int | None = None, posts: int | None = None) -> list[Result]:
    rounds = rounds or (4 if quick else 10)
    posts = posts or (20 if quick else 30)
    bursts = 3 if quick else 6  # bursts of BURST webhooks per round
    try:
        acc: dict[str, list[float]] = {k: [] for k in ("alert", "detection", "rtt", "burst", "noop_rtt", "noop_arrive",
                                                        "noop_burst_arrive")}
        with probe_target() as target_url:
            for r in range(rounds):
                noop = _noop_round(posts, bursts, seed=1000 + r, start=r * posts)
                acc["noop_rtt"] += noop["rtt"]
                acc["noop_arrive"] += noop["arrive"]
                acc["noop_burst_arrive"] += noop["burst_arrive"]
                got = _drill_round(target_url, posts, bursts, seed=r, start=r * (posts + bursts * BURST))
                for k in ("alert", "detection", "rtt", "burst"):
                    acc[k] += got[k]
        s = {k: summary(v, 1e3) for k, v in acc.items()}
        print(f"detection timestamp error ({rounds} drills x {posts} webhooks one by one + {bursts} bursts of {BURST}; "
              "each webhook on a fresh connection):")
        print(fmt_summary("AlertReceived: journal t - client send", s["alert"]))
        print(fmt_summary("DetectionRecorded: journal t - client send", s["detection"]))
        print(fmt_summary("intake round trip (send -> response read)", s["rtt"]))
        print(fmt_summary("baseline: no-op app round trip", s["noop_rtt"]))
        print(fmt_summary("baseline: no-op app handler start - send", s["noop_arrive"]))
        print(fmt_summary(f"bursts of {BURST}: journal t - client send", s["burst"]))
        print(fmt_summary(f"bursts of {BURST}: no-op handler start - send", s["noop_burst_arrive"]))
        details = {"summaries_ms": s, "rounds": rounds, "posts_per_round": posts, "bursts_per_round": bursts,
                   "burst_size": BURST}
        rows = [Result(MEASURE, s["alert"]["p99"], "ms", TARGET_MS, baseline=s["noop_rtt"]["p99"],
                       baseline_label="no-op POST round trip p99", details=details)]
        if bursts:
            rows.append(Result(f"{MEASURE}, bursts of {BURST}", s["burst"]["p99"], "ms", TARGET_MS,
                               baseline=s["noop_burst_arrive"]["p99"],
                               baseline_label=f"no-op handler start, bursts of {BURST}, p99"))
        return rows
    except Exception as exc:  # noqa: BLE001 - a broken benchmark is a FAIL row, not a crash
        return [failed(MEASURE, "ms", TARGET_MS, exc)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int)
    ap.add_argument("--posts", type=int)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    report(run(args.quick, args.rounds, args.posts), name="detection")


if __name__ == "__main__":
    main()
