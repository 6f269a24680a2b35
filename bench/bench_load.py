"""Load benchmark — what the demo sustains under locust, and the conductor's timing under that load.

    .venv/bin/python bench/bench_load.py [--quick] [--seconds S] [--users N] [--priority idle|low|normal]

Part 1, capacity: locust (a subprocess, FastHttpUser, no think time: ``GAMEDAY_DEMO_THINK=0``;
started exactly as a drill starts it, through ``gameday.adapters.locust.plan`` with the
stats plugin) drives the demo's realistic mix (browse 5 : cart 2 : checkout 1) for S seconds.
Value: the median requests/s over the steady seconds (the ramp second left out). Printed
with it: p50/p99 latency from the exact per-second histograms, failures, and the CPU each
process used (``/proc/PID/stat`` utime+stime over the steady part, in % of one core) —
locust, the demo's checkout API, its database nodes.

Same run, for comparison (is the demo the bottleneck?): the same locust against a trivial
server in its own process, built on the demo's own ``httpkit.Server`` (TCP_NODELAY, listen
backlog 1024) answering the same three routes from memory; and (not in ``--quick``) that
trivial server with Nagle on and a listen backlog of 5, the configuration the machine
notes warn about.

Part 2, timing fidelity under load: the harness drills of ``bench_detection`` (webhooks one
by one and in bursts of 4) and ``bench_inject`` (40 faults every 50 ms), their raw samples, in
blocks that alternate quiet / while locust drives the demo at full rate (as in part 1, at the
CPU priority a drill gives locust, ``load.priority``, default ``idle``: SCHED_IDLE), with the
load service's work in this process too (following the stats file every 100 ms, journaling
each second as a fsynced ``LoadStats`` event) — so the machine's other load falls on both
sides alike. Value: p99 under load ÷ p99 quiet, for each;
target ≤ 2.0.

Rows (for ``run_all.py``): "locust -> demo: wall time per 1,000 requests" (1e6 / median req/s,
target ≤ 1,000 ms, i.e. at least 1,000 req/s; baseline the trivial server, so the ratio says
how much slower the demo is than a server doing nothing), and the three "... p99 under load /
quiet" rows (ratio ≤ 2). Everything on 127.0.0.1, bounded in time, demo and locust always stopped.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from common import BENCH, PY, ROOT, Result, demo, failed, fmt_summary, report, summary, tmpdir

sys.path.insert(0, str(ROOT))

CAPACITY = "locust -> demo: wall time per 1,000 requests (1e6 / median req/s)"
CAPACITY_FLOOR = 1000.0  # req/s: "thousands of requests per second" -> at most 1,000 ms per 1,000 requests
CLK_TCK = os.sysconf("SC_CLK_TCK")


# ------------------------------------------------------------------------------ the trivial target


def serve(nagle: bool) -> None:
    """``--serve``: the three demo routes answered from memory, on the demo's httpkit server."""
    import socket

    from gameday.demo.httpkit import Handler, Server

    catalog = (ROOT / "gameday" / "demo" / "catalog.json").read_bytes()

    class Trivial(Handler):
        def route(self, method: str, path: str, query: dict[str, str]) -> None:
            if path == "/products":
                self.send_bytes(200, catalog, "application/json")
            elif path == "/cart":
                self.send_json(200, {"cart_id": "c", "items": []})
            elif path == "/checkout":
                self.send_json(201, {"order_id": "o"})
            else:
                self.send_json(404, {})

    class Slow(Server):  # what the machine notes warn about: Nagle on, a backlog of 5
        request_queue_size = 5

        def get_request(self):
            return socket.socket.accept(self.socket)

    server = (Slow if nagle else Server)(("127.0.0.1", 0), Trivial)
    import threading

    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"PORT {server.server_address[1]}", flush=True)
    sys.stdin.read()  # until the parent closes our stdin
    server.shutdown()


@contextmanager
def trivial_server(nagle: bool = False):
    proc = subprocess.Popen([PY, str(BENCH / "bench_load.py"), "--serve"] + (["--nagle"] if nagle else []),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        if not line.startswith("PORT "):
            raise RuntimeError(f"trivial server did not start ({line!r})")
        yield f"http://127.0.0.1:{int(line.split()[1])}", proc.pid
    finally:
        if proc.stdin:
            proc.stdin.close()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


# ------------------------------------------------------------------------------ locust


def cpu_seconds(pid: int) -> float | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    fields = stat[stat.rfind(b")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


@contextmanager
def locust_running(url: str, users: int, seconds: float, work: Path, priority: str = "normal"):
    """locust against ``url`` as a drill starts it (the stats plugin included); yields (popen, stats path)."""
    from gameday.adapters import locust as adapter

    plan = adapter.plan(locustfile=adapter.DEMO_LOCUSTFILE, host=url, users=users, spawn_rate=users, out_dir=work,
                        run_time=seconds, parent_pid=os.getpid(), priority=priority)
    env = {**plan.env, "GAMEDAY_DEMO_THINK": "0"}
    [proc] = plan.procs
    with open(proc.log, "wb") as log:
        popen = subprocess.Popen(proc.argv, env=env, cwd=work, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                 start_new_session=True)
    try:
        yield popen, plan.stats_path
    finally:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(popen.pid, sig)
            except ProcessLookupError:
                break
            try:
                popen.wait(8)
                break
            except subprocess.TimeoutExpired:
                continue
        try:  # sweep the group (its leader is reaped: nothing else may hold this pgid yet)
            os.killpg(popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def read_intervals(path: Path) -> list[dict[str, Any]]:
    out = []
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return out
    for line in lines:
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if rec.get("type") == "interval":
            out.append(rec)
    return out


def capacity(url: str, users: int, seconds: float, work: Path, pids: dict[str, int], priority: str = "normal") -> dict[str, Any]:
    """Run locust at full rate for ``seconds``; steady req/s, latency, failures and CPU per process."""
    with locust_running(url, users, seconds + 1.5, work, priority) as (popen, stats):
        deadline = time.monotonic() + seconds + 15
        while len(read_intervals(stats)) < 2 and time.monotonic() < deadline:  # past the ramp second
            time.sleep(0.05)
        procs = {"locust": popen.pid, **pids}
        cpu0, t0 = {k: cpu_seconds(p) for k, p in procs.items()}, time.monotonic()
        while popen.poll() is None and time.monotonic() < deadline and len(read_intervals(stats)) < seconds + 1:
            time.sleep(0.1)
        cpu1, t1 = {k: cpu_seconds(p) for k, p in procs.items()}, time.monotonic()
    rows = read_intervals(stats)[1:]  # the ramp second left out
    rows = [r for r in rows if r["users"] == users and r.get("users_from", users) == users]
    if not rows:
        raise RuntimeError(f"locust produced no steady stats against {url} (see {work})")
    hist: Counter[float] = Counter()
    for r in rows:
        for k, v in r["total"].get("hist", {}).items():
            hist[float(k)] += v

    def pct(p: float) -> float:
        from gameday.analysis.impact import percentile

        return percentile(hist, p) or 0.0

    rps = [r["total"]["requests"] / max(1e-9, r["mono_to"] - r["mono_from"]) for r in rows]
    cpu = {k: round(100 * (cpu1[k] - cpu0[k]) / (t1 - t0), 1) for k in procs if cpu0[k] is not None and cpu1[k] is not None}
    return {"rps_median": statistics.median(rps), "rps_max": max(rps), "seconds": len(rows),
            "requests": sum(r["total"]["requests"] for r in rows), "failures": sum(r["total"]["failures"] for r in rows),
            "p50_ms": pct(0.5), "p99_ms": pct(0.99), "max_ms": max(hist) if hist else None, "cpu_pct_of_core": cpu}


def _show(label: str, c: dict[str, Any]) -> None:
    cpu = ", ".join(f"{k} {v:g}%" for k, v in c["cpu_pct_of_core"].items())
    print(f"  {label:<44} {c['rps_median']:8.0f} req/s (max {c['rps_max']:.0f}) p50 {c['p50_ms']:g} ms "
          f"p99 {c['p99_ms']:g} ms max {c['max_ms']:g} ms failures {c['failures']}/{c['requests']}; CPU: {cpu}")


# ------------------------------------------------------------------------------ the benchmark


def run(quick: bool = False, seconds: float | None = None, users: int | None = None, priority: str = "idle") -> list[Result]:
    seconds = seconds or (5 if quick else 10)
    users = users or 20
    results: list[Result] = []
    details: dict[str, Any] = {"users": users, "seconds": seconds, "priority_in_part_2": priority}
    try:
        with tmpdir("load") as work:
            (work / "demo").mkdir()
            results += _measure(work, users, seconds, quick, priority, details)
    except Exception as exc:  # noqa: BLE001 - a broken benchmark is a FAIL row, not a crash
        results.append(failed(CAPACITY, "ms", 1e6 / CAPACITY_FLOOR, exc))
    return results


def _measure(work: Path, users: int, seconds: float, quick: bool, priority: str, details: dict[str, Any]) -> list[Result]:
    results: list[Result] = []
    with demo(work / "demo") as shop:
        state = json.loads((work / "demo" / ".gameday" / "demo" / "state.json").read_text())
        pids = {name: p["pid"] for name, p in state["processes"].items() if name in ("checkout", "db-a", "db-b")}
        print(f"capacity ({users} FastHttpUsers, no think time, {seconds:g} s steady; demo mix browse 5 : cart 2 : checkout 1):")
        shop_cap = capacity(shop.url, users, seconds, work / "l-demo", pids)
        _show("the demo shop", shop_cap)
        with trivial_server() as (url, pid):
            trivial = capacity(url, users, seconds, work / "l-trivial", {"server": pid})
            _show("trivial server (httpkit, TCP_NODELAY, backlog 1024)", trivial)
        details.update(demo=shop_cap, trivial=trivial)
        if not quick:
            with trivial_server(nagle=True) as (url, pid):
                slow = capacity(url, users, seconds, work / "l-nagle", {"server": pid})
                _show("trivial server, Nagle on, backlog 5", slow)
            details["trivial_nagle_backlog5"] = slow
        bottleneck = ("the demo (its checkout API near one core: a Python server is GIL-bound)"
                      if shop_cap["cpu_pct_of_core"].get("checkout", 0) > 85 else
                      "locust and the machine (2 cores shared by load generator and target), not the demo")
        print(f"  -> limit: {bottleneck}; demo / trivial = {shop_cap['rps_median'] / trivial['rps_median']:.2f}")
        details["bottleneck"] = bottleneck
        results.append(Result(CAPACITY, 1e6 / shop_cap["rps_median"], "ms", 1e6 / CAPACITY_FLOOR,
                              baseline=1e6 / trivial["rps_median"],
                              baseline_label="same locust vs a trivial httpkit server", details=details))
        results += fidelity(shop.url, users, quick, priority, work, details)
    return results


def fidelity(url: str, users: int, quick: bool, priority: str, work: Path, details: dict[str, Any]) -> list[Result]:
    """Detection and inject errors, quiet and with locust at full rate against the demo, in alternating blocks.

    Each block runs detection rounds and an inject drill (the raw samples of ``bench_detection``
    and ``bench_inject``); blocks alternate quiet / under load, so a change in the machine's
    other load (a shared machine) falls on both sides alike.
    """
    import bench_detection
    import bench_inject
    from harness import probe_target

    blocks, rounds, posts, bursts, faults = (2, 2, 20, 2, 40) if quick else (4, 3, 30, 4, 40)
    samples: dict[str, dict[str, list[float]]] = {c: {"detection": [], "bursts": [], "inject": []} for c in ("quiet", "load")}
    rps: list[float] = []
    with probe_target() as target_url:
        for b in range(blocks):
            for cond in ("quiet", "load") if b % 2 == 0 else ("load", "quiet"):
                seed = 100 * b + (0 if cond == "quiet" else 50)
                if cond == "quiet":
                    _block(bench_detection, bench_inject, target_url, rounds, posts, bursts, faults, seed, samples[cond])
                    continue
                with locust_running(url, users, 600, work / f"l-fidelity-{b}", priority) as (popen, stats), \
                        follower(stats, work / f"journal-{b}.jsonl"):
                    deadline = time.monotonic() + 20
                    while len(read_intervals(stats)) < 2 and time.monotonic() < deadline:  # ramped up
                        time.sleep(0.05)
                    seen = len(read_intervals(stats))
                    _block(bench_detection, bench_inject, target_url, rounds, posts, bursts, faults, seed, samples[cond])
                    if popen.poll() is not None:
                        raise RuntimeError("locust ended before the timing benchmarks did")
                    rps += [r["total"]["requests"] / max(1e-9, r["mono_to"] - r["mono_from"])
                            for r in read_intervals(stats)[seen:]]
    rate = statistics.median(rps) if rps else 0.0
    print(f"timing fidelity: quiet vs under load, {blocks} alternating blocks each (locust {users} users at full rate, "
          f"priority {priority}: median {rate:.0f} req/s while measuring):")
    rows = []
    for name, key, unit_name in (("detection timestamp error", "detection", "detection"),
                                 ("detection timestamp error, bursts of 4", "bursts", "detection bursts"),
                                 ("inject precision", "inject", "inject")):
        q, lo = summary(samples["quiet"][key], 1e3), summary(samples["load"][key], 1e3)
        print(fmt_summary(f"{unit_name}: quiet", q))
        print(fmt_summary(f"{unit_name}: under load", lo))
        print(f"  {'':<48} ratios under load / quiet: p50 {lo['p50'] / q['p50']:.2f}, p90 {lo['p90'] / q['p90']:.2f}, "
              f"p99 {lo['p99'] / q['p99']:.2f}")
        rows.append(Result(f"{name} p99 under load / quiet", lo["p99"], "ms", 2.0, target_on="ratio", baseline=q["p99"],
                           baseline_label="same measure, no load, same run (interleaved)",
                           details={"locust_rps_median": rate, "priority": priority, "quiet_ms": q, "under_load_ms": lo,
                                    "p90_ratio": lo["p90"] / q["p90"]}))
    details["fidelity_locust_rps"] = rate
    return rows


@contextmanager
def follower(stats: Path, journal_path: Path):
    """What a drill's load service does in the conductor's process: follow the stats file every
    100 ms and journal each interval as a fsynced ``LoadStats`` event (here into a journal of its own)."""
    import threading

    from gameday.adapters import locust as adapter
    from gameday.clock import SystemClock
    from gameday.journal import JournalWriter

    journal = JournalWriter(journal_path, SystemClock())
    journal.append("DrillStarted", "conductor", {"drill_id": "bench-load", "mode": "ci"})
    stop = threading.Event()

    def follow() -> None:
        pos, buf = 0, b""
        while not stop.wait(0.1):
            try:
                with open(stats, "rb") as fh:
                    fh.seek(pos)
                    chunk = fh.read()
            except FileNotFoundError:
                continue
            pos += len(chunk)
            *lines, buf = (buf + chunk).split(b"\n")
            for raw in lines:
                rec = adapter.parse_stats_line(raw.decode())
                if rec is not None and rec["type"] == "interval":
                    journal.append("LoadStats", "load", adapter.journal_stats(rec, journal.t0))

    thread = threading.Thread(target=follow, name="load-follower", daemon=True)
    thread.start()
    try:
        yield journal
    finally:
        stop.set()
        thread.join(5)
        journal.close()


def _block(bench_detection, bench_inject, target_url: str, rounds: int, posts: int, bursts: int, faults: int, seed: int,
           into: dict[str, list[float]]) -> None:
    for r in range(rounds):
        got = bench_detection._drill_round(target_url, posts, bursts, seed=seed + r, start=(seed + r) * (posts + 4 * bursts))
        into["detection"] += got["alert"]
        into["bursts"] += got["burst"]
    errors, _ledger = bench_inject._drill(target_url, faults)
    into["inject"] += errors


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seconds", type=float)
    ap.add_argument("--users", type=int)
    ap.add_argument("--priority", choices=("idle", "low", "normal"), default="idle",
                    help="CPU priority of locust in part 2 (a drill's load.priority, default idle)")
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--nagle", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(args.nagle)
        return
    report(run(args.quick, args.seconds, args.users, args.priority), name="load")


if __name__ == "__main__":
    main()
