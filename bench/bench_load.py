"""Load benchmark — what the demo sustains under locust, and the conductor's timing under that load.

    .venv/bin/python bench/bench_load.py [--quick] [--seconds S] [--users N] [--priority idle|low|normal]
                                         [--cpus auto|all|LIST]

The demo is started as a drill starts it (``gameday.demo.control.start_demo``), and so is
locust (``gameday.adapters.locust.plan``), both with the CPU placement a drill gives them
(``--cpus``, default ``auto``: the demo's ``--cpus`` and ``load.cpus``; on a machine with two
or more CPUs both keep off the lowest CPU, which is left to the conductor — here this
process; ``all`` measures them unplaced).

Part 1, capacity: locust (a subprocess, FastHttpUser, no think time: ``GAMEDAY_DEMO_THINK=0``;
with the stats plugin; at normal CPU priority, so that it is not starved by the target it
shares CPUs with) drives the demo's realistic mix (browse 5 : cart 2 : checkout 1) for S seconds.
Value: the median requests/s over the steady seconds (the ramp second left out). Printed
with it: p50/p99 latency from the exact per-second histograms, failures, and the CPU each
process used (``/proc/PID/stat`` utime+stime over the steady part, in % of one core) —
locust, the demo's checkout API, its database nodes.

Same run, for comparison (is the demo the bottleneck?): the same locust against a trivial
server in its own process (on the demo's CPUs), built on the demo's own ``httpkit.Server``
(TCP_NODELAY, listen backlog 1024) answering the same three routes from memory; and (not in
``--quick``) that trivial server with Nagle on and a listen backlog of 5, the configuration
the machine notes warn about, and the demo unplaced (a second demo, ``cpus all``, locust
``load.cpus: all``): what placement costs in requests/s.

Part 2, timing fidelity under load: the harness drills of ``bench_detection`` (webhooks one
by one and in bursts of 4) and ``bench_inject`` (40 faults every 50 ms), their raw samples, in
blocks that alternate quiet / while locust drives the demo at full rate (at the CPU priority
a drill gives locust, ``load.priority``, default ``idle``: SCHED_IDLE, and the placement
above), with the load service's work in this process too (following the stats file every
100 ms, journaling each second as a fsynced ``LoadStats`` event) — so the machine's other load
falls on both sides alike. Value: p99 under load ÷ p99 quiet, for each; target ≤ 2.0. Not in
``--quick``, a third condition in the same blocks: the same load against the unplaced demo,
locust unplaced (``all``) — what the placement buys, printed and kept in the details. (On
2 cores: unplaced, p99 under load is 2.5-8x quiet even with locust at SCHED_IDLE — the demo's
processes serve the load at normal priority on both CPUs, and locust's own loopback work
still delays the conductor; placed, 0.5-1.5x. Confining only one of the two left 2.7-3.5x.)

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
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from common import BENCH, PY, ROOT, Result, failed, fmt_summary, port_process, report, summary, tmpdir

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
def trivial_server(nagle: bool = False, cpus: frozenset[int] | None = None):
    """The trivial server in its own process, on ``cpus`` (None: every CPU); yields (url, pid)."""
    from gameday.adapters.locust import cpu_prefix

    argv = [*cpu_prefix(cpus), PY, str(BENCH / "bench_load.py"), "--serve"] + (["--nagle"] if nagle else [])
    with port_process(argv, "trivial server") as served:
        yield served


# ------------------------------------------------------------------------------ locust


def other_cpu() -> tuple[float, float] | None:
    """(CPU seconds the whole machine spent in processes, of which this process and its live or reaped
    descendants: the demos, locust, the webhook client...); None without /proc. Their difference over
    a block is the work of *other* processes (another engineer's tests on a shared machine), which
    lands on the conductor's CPU when the placed load fills the others — printed with the figures."""
    try:
        with open("/proc/stat") as fh:
            head = fh.readline().split()
        entries = [e for e in os.listdir("/proc") if e.isdigit()]
    except OSError:
        return None
    busy = sum(int(x) for x in head[1:4]) / CLK_TCK  # user, nice, system (not irq/softirq: no process owns them)
    tree: dict[int, list[int]] = {}
    own: dict[int, int] = {}
    for entry in entries:
        try:
            stat = Path(f"/proc/{entry}/stat").read_bytes()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2:].split()
        tree.setdefault(int(fields[1]), []).append(int(entry))
        own[int(entry)] = sum(int(x) for x in fields[11:15])  # utime stime cutime cstime (reaped children)
    ours, stack = 0, [os.getpid()]
    while stack:
        pid = stack.pop()
        ours += own.get(pid, 0)
        stack += tree.get(pid, [])
    return busy, ours / CLK_TCK


def cpu_seconds(pid: int) -> float | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    fields = stat[stat.rfind(b")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


@contextmanager
def locust_running(url: str, users: int, seconds: float, work: Path, priority: str = "normal", cpus: str = "auto"):
    """locust against ``url`` as a drill starts it (the stats plugin included; ``priority`` and ``cpus``
    as ``load.priority`` and ``load.cpus``); yields (popen, stats path)."""
    from gameday.adapters import locust as adapter

    plan = adapter.plan(locustfile=adapter.DEMO_LOCUSTFILE, host=url, users=users, spawn_rate=users, out_dir=work,
                        run_time=seconds, parent_pid=os.getpid(), priority=priority, cpus=cpus)
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


def capacity(url: str, users: int, seconds: float, work: Path, pids: dict[str, int], priority: str = "normal",
             cpus: str = "auto") -> dict[str, Any]:
    """Run locust at full rate for ``seconds``; steady req/s, latency, failures and CPU per process."""
    with locust_running(url, users, seconds + 1.5, work, priority, cpus) as (popen, stats):
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


def run(quick: bool = False, seconds: float | None = None, users: int | None = None, priority: str = "idle",
        cpus: str = "auto") -> list[Result]:
    seconds = seconds or (5 if quick else 10)
    users = users or 20
    results: list[Result] = []
    details: dict[str, Any] = {"users": users, "seconds": seconds, "priority_in_part_2": priority, "cpus": cpus}
    try:
        with tmpdir("load") as work:
            results += _measure(work, users, seconds, quick, priority, cpus, details)
    except Exception as exc:  # noqa: BLE001 - a broken benchmark is a FAIL row, not a crash
        results.append(failed(CAPACITY, "ms", 1e6 / CAPACITY_FLOOR, exc))
    return results


@contextmanager
def placed_demo(state_dir: Path, cpus: str):
    """The demo as a drill starts it (``start_demo``), with the CPU placement ``cpus``; always stopped."""
    from gameday.demo.control import start_demo

    handle = start_demo(state_dir, cpus=cpus)
    try:
        yield handle
    finally:
        handle.stop()


def _demo_pids(handle) -> dict[str, int]:
    return {name: p["pid"] for name, p in handle.state["processes"].items() if name in ("checkout", "db-a", "db-b")}


def _measure(work: Path, users: int, seconds: float, quick: bool, priority: str, cpus: str,
             details: dict[str, Any]) -> list[Result]:
    from gameday.adapters.locust import placement

    results: list[Result] = []
    compare = not quick and cpus != "all"
    with placed_demo(work / "demo", cpus) as shop, \
            (placed_demo(work / "demo-unplaced", "all") if compare else nullcontext()) as unplaced:
        load_at = placement(cpus)
        print(f"placement ({cpus}): {shop.state.get('cpus_note')}; {load_at.note}")
        details["placement"] = {"demo": shop.state.get("cpus"), "locust": load_at.label}
        print(f"capacity ({users} FastHttpUsers, no think time, {seconds:g} s steady; demo mix browse 5 : cart 2 : checkout 1):")
        shop_cap = capacity(shop.url, users, seconds, work / "l-demo", _demo_pids(shop), cpus=cpus)
        _show(f"the demo shop (demo on CPUs {shop.state.get('cpus')}, locust {load_at.label})", shop_cap)
        server_cpus = _server_cpus(shop.state.get("cpus"))
        with trivial_server(cpus=server_cpus) as (url, pid):
            trivial = capacity(url, users, seconds, work / "l-trivial", {"server": pid}, cpus=cpus)
            _show("trivial server (httpkit, TCP_NODELAY, backlog 1024)", trivial)
        details.update(demo=shop_cap, trivial=trivial)
        if not quick:
            with trivial_server(nagle=True, cpus=server_cpus) as (url, pid):
                slow = capacity(url, users, seconds, work / "l-nagle", {"server": pid}, cpus=cpus)
                _show("trivial server, Nagle on, backlog 5", slow)
            details["trivial_nagle_backlog5"] = slow
        if unplaced is not None:
            free = capacity(unplaced.url, users, seconds, work / "l-unplaced", _demo_pids(unplaced), cpus="all")
            _show("the demo shop unplaced (demo and locust: all)", free)
            details["demo_unplaced"] = free
        bottleneck = ("the demo (its checkout API near one core: a Python server is GIL-bound)"
                      if shop_cap["cpu_pct_of_core"].get("checkout", 0) > 85 else
                      "locust and the machine (the CPUs shared by load generator and target), not the demo")
        print(f"  -> limit: {bottleneck}; demo / trivial = {shop_cap['rps_median'] / trivial['rps_median']:.2f}")
        details["bottleneck"] = bottleneck
        results.append(Result(CAPACITY, 1e6 / shop_cap["rps_median"], "ms", 1e6 / CAPACITY_FLOOR,
                              baseline=1e6 / trivial["rps_median"],
                              baseline_label="same locust vs a trivial httpkit server", details=details))
        results += fidelity(shop.url, users, quick, priority, cpus, work, details,
                            unplaced_url=unplaced.url if unplaced is not None else None)
    return results


def _server_cpus(label: str | None) -> frozenset[int] | None:
    """The demo's CPUs (its ``state.json`` ``cpus``) for the trivial server: the same placement, a fair comparison."""
    from gameday.model.cpus import parse_cpu_list

    return None if not label or label == "all" else parse_cpu_list(label)


def fidelity(url: str, users: int, quick: bool, priority: str, cpus: str, work: Path, details: dict[str, Any],
             unplaced_url: str | None = None) -> list[Result]:
    """Detection and inject errors, quiet and with locust at full rate against the demo, in alternating blocks.

    Each block runs detection rounds and an inject drill (the raw samples of ``bench_detection``
    and ``bench_inject``) in each condition — quiet; under load as a drill places it (``cpus``);
    and, given ``unplaced_url`` (a demo started with ``cpus all``), under the same load with
    demo and locust unplaced. The order of the conditions alternates from block to block, so
    a change in the machine's other load (a shared machine) falls on all of them alike.
    """
    import bench_detection
    import bench_inject
    from harness import probe_target

    # full: 64 single posts and 16 bursts of 4 per round, 768 samples of each per condition (posts are cheap; the
    # drills are not). With 192 bursts (or 360 posts), p99 was the 2nd- (4th-) largest sample: one that met a rare
    # 2-4 ms kernel-thread run on the conductor's CPU (this VM's kdamond) decided it, and the quiet p99 alone swung
    # 1.3-3.6 ms from run to run.
    blocks, rounds, posts, bursts, faults = (2, 2, 20, 2, 40) if quick else (4, 3, 64, 16, 40)
    conditions = {"quiet": None, "load": (url, cpus)}
    if unplaced_url:
        conditions["unplaced"] = (unplaced_url, "all")
    samples: dict[str, dict[str, list[float]]] = {c: {"detection": [], "bursts": [], "inject": []} for c in conditions}
    rps: dict[str, list[float]] = {c: [] for c in conditions}
    others: dict[str, list[float]] = {c: [] for c in conditions}  # % of one core used by other processes, per block
    with probe_target() as target_url:
        for b in range(blocks):
            order = list(conditions) if b % 2 == 0 else list(conditions)[::-1]
            for cond in order:
                seed = 100 * b + 25 * list(conditions).index(cond)
                if conditions[cond] is None:
                    with _others(others[cond]):
                        _block(bench_detection, bench_inject, target_url, rounds, posts, bursts, faults, seed, samples[cond])
                    continue
                load_url, load_cpus = conditions[cond]
                with locust_running(load_url, users, 600, work / f"l-fidelity-{cond}-{b}", priority, load_cpus) \
                        as (popen, stats), follower(stats, work / f"journal-{cond}-{b}.jsonl"):
                    deadline = time.monotonic() + 20
                    while len(read_intervals(stats)) < 2 and time.monotonic() < deadline:  # ramped up
                        time.sleep(0.05)
                    seen = len(read_intervals(stats))
                    with _others(others[cond]):
                        _block(bench_detection, bench_inject, target_url, rounds, posts, bursts, faults, seed, samples[cond])
                    if popen.poll() is not None:
                        raise RuntimeError("locust ended before the timing benchmarks did")
                    rps[cond] += [r["total"]["requests"] / max(1e-9, r["mono_to"] - r["mono_from"])
                                  for r in read_intervals(stats)[seen:]]
    rate = {c: statistics.median(v) if v else 0.0 for c, v in rps.items()}
    print(f"timing fidelity: quiet vs under load, {blocks} alternating blocks each (locust {users} users at full rate, "
          f"priority {priority}, cpus {cpus}: median {rate['load']:.0f} req/s while measuring"
          + (f"; unplaced: {rate['unplaced']:.0f} req/s" if "unplaced" in rate else "") + "):")
    if any(others.values()):
        print("  other processes on the machine (not this benchmark's), % of one core per block: "
              + "; ".join(f"{c} {', '.join(f'{v:.0f}' for v in vs)}" for c, vs in others.items())
              + " (above ~10 %: someone else's work shares the CPUs, and the figures say less)")
    details["other_processes_cpu_pct"] = others
    rows = []
    for name, key, unit_name in (("detection timestamp error", "detection", "detection"),
                                 ("detection timestamp error, bursts of 4", "bursts", "detection bursts"),
                                 ("inject precision", "inject", "inject")):
        q, lo = summary(samples["quiet"][key], 1e3), summary(samples["load"][key], 1e3)
        print(fmt_summary(f"{unit_name}: quiet", q))
        print(fmt_summary(f"{unit_name}: under load (cpus {cpus})", lo))
        print(f"  {'':<48} ratios under load / quiet: p50 {lo['p50'] / q['p50']:.2f}, p90 {lo['p90'] / q['p90']:.2f}, "
              f"p99 {lo['p99'] / q['p99']:.2f}")
        extra: dict[str, Any] = {}
        if "unplaced" in samples:
            un = summary(samples["unplaced"][key], 1e3)
            print(fmt_summary(f"{unit_name}: under load, unplaced (all)", un))
            print(f"  {'':<48} ratios unplaced / quiet: p50 {un['p50'] / q['p50']:.2f}, p90 {un['p90'] / q['p90']:.2f}, "
                  f"p99 {un['p99'] / q['p99']:.2f}")
            extra = {"unplaced_ms": un, "unplaced_p99_ratio": un["p99"] / q["p99"],
                     "unplaced_locust_rps_median": rate["unplaced"]}
        rows.append(Result(f"{name} p99 under load / quiet", lo["p99"], "ms", 2.0, target_on="ratio", baseline=q["p99"],
                           baseline_label="same measure, no load, same run (interleaved)",
                           details={"locust_rps_median": rate["load"], "priority": priority, "cpus": cpus,
                                    "quiet_ms": q, "under_load_ms": lo, "p90_ratio": lo["p90"] / q["p90"], **extra}))
    details["fidelity_locust_rps"] = rate["load"]
    return rows


@contextmanager
def follower(stats: Path, journal_path: Path):
    """What a drill's load service does in the conductor's process: follow the stats file every
    100 ms and journal each interval as a fsynced ``LoadStats`` event (here into a journal of its own)."""
    import threading

    from harness import fault, scenario

    from gameday.adapters import locust as adapter
    from gameday.clock import SystemClock
    from gameday.journal import JournalWriter
    from gameday.model.events import DrillStarted
    from gameday.model.policy import DEFAULT_POLICY

    journal = JournalWriter(journal_path, SystemClock())
    sc = scenario("http://127.0.0.1:9", [fault("none", "1m")])  # the journal's first line names a scenario
    journal.append(DrillStarted(drill_id="bench-load", mode="ci", scenario=sc, policy=DEFAULT_POLICY), "conductor")
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
                    journal.append(adapter.journal_stats(rec, journal.t0), "load")

    thread = threading.Thread(target=follow, name="load-follower", daemon=True)
    thread.start()
    try:
        yield journal
    finally:
        stop.set()
        thread.join(5)
        journal.close()


@contextmanager
def _others(into: list[float]):
    """Append the CPU other processes used while the block ran (% of one core; see :func:`other_cpu`)."""
    start, t0 = other_cpu(), time.monotonic()
    yield
    end, t1 = other_cpu(), time.monotonic()
    if start is not None and end is not None and t1 > t0:
        into.append(max(0.0, 100 * ((end[0] - start[0]) - (end[1] - start[1])) / (t1 - t0)))


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
    ap.add_argument("--cpus", default="auto",
                    help="CPU placement of the demo and locust (the demo's --cpus and load.cpus): auto (default), all, "
                    "or a CPU list like 1-3")
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--nagle", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(args.nagle)
        return
    report(run(args.quick, args.seconds, args.users, args.priority, args.cpus), name="load")


if __name__ == "__main__":
    main()
