"""Detection anatomy (issue 16): the scorecard's condition, notification and human lags of real
Prometheus -> Alertmanager drills, beside the same parts measured independently by the bench.

Set-up: the embedded demo (``gameday demo up`` in a scratch folder) and a real
:class:`~gameday.monitoring.stack.MonitoringStack` scraping it every second with the shipped rules
(``for: 0s``; the route's ``group_wait`` 1s here, see :data:`GROUP_WAIT`; ``group_interval: 1s``).
Alertmanager posts to a **recording proxy** in its own process (this file with ``--proxy``): it notes
the monotonic time each request's first byte arrives, relays it to the current drill's intake and
prints the row at once (so the bench can play the responder). CLOCK_MONOTONIC is system-wide, so every process's readings compare.

``KILLS`` drills, one after the other (harness.py: real Conductor, SystemClock, JournalWriter with
fsync, the real intake under uvicorn). Each drill's one fault SIGKILLs the demo's checkout API
(through the demo's control API) and its rollback restarts it ``DOWN`` seconds later; the kill lands
at another phase of the 1 s scrape each time. The bench is the responder: ``HUMAN`` seconds after the
proxy saw the first firing ``CheckoutDown`` webhook it records ``acknowledge`` as a person.

The bench's own figures, per drill (``F`` the kill request began — gameday's injection instant is the
same moment, its ``FaultInjected`` is journaled as the injector is called; the process dies within the
request, whose duration is printed —, ``S`` the alert's ``startsAt`` from the body the proxy saw, wall
clock mapped to monotonic, ``A`` the proxy's arrival, ``K`` the bench's acknowledgement call):

* condition ``S − F``; notification ``A − S``; human ``K − A``.

The route's ``group_wait`` is 1s (``--group-wait``; see :data:`GROUP_WAIT` for why not the demo's 0s).

gameday's figures: ``gameday score``'s ``detection.condition_lag`` / ``notification_lag`` /
``human_lag`` of each drill's journal. Rows: each part's p50 and max, gameday's figure over the
bench's, within 1 % either way (the split is where the monitoring put it, not an artefact of
gameday's clocks). The bench reads ``startsAt`` with its own code (``datetime``, to the microsecond),
not gameday's parser. The proxy's relay hop sits between ``A`` and gameday's own arrival: it is in gameday's
notification lag and not in the bench's, so that ratio is a little above 1 by construction.

    .venv/bin/python bench/bench_anatomy.py [--kills N]
"""

from __future__ import annotations

import argparse
import json
import queue
import socket
import subprocess
import sys
import threading
import time
from typing import Any

from common import BENCH, PY, Result, demo, failed, fmt_summary, pct, report, summary, tmpdir, wait_for
from harness import Drill

FIRST = 1.0  # seconds from drill start to the kill (plus a different phase each drill)
PHASE = 0.37  # each drill's kill lands this much later in the 1 s scrape cycle
DOWN = 3.0  # seconds each kill lasts (its rollback restarts checkout)
HUMAN = 0.6  # seconds the bench "person" takes to acknowledge after the page arrived
#: The route's group_wait for the bench. The shipped demo route has 0s (drills are short): Alertmanager then
#: notifies within ~5-20 ms of startsAt, and the proxy's own relay hop (~1 ms, in gameday's figure and not in the
#: bench's) alone is 5-20 % of it. 1s keeps a real grouping wait in the part, as a real route has (Alertmanager's
#: default is 30s); the absolute differences are printed either way (--group-wait 0s). Each drill waits until
#: the previous drill's group is gone (:func:`_no_open_group`), so every page waits the group_wait.
GROUP_WAIT = "1s"
TARGET = 0.01  # gameday's figure within 1 % of the bench's, either way
PARTS = ("condition", "notification", "human")
ROWS = [(f"{part} lag {stat}: gameday / bench", stat) for part in PARTS for stat in ("p50", "max")]


# ----------------------------------------------------------------------------- the proxy
def proxy_main() -> int:
    """Relay HTTP/1.1 requests to the upstream ``host:port`` of stdin's latest line, printing one JSON row per
    request (``arrived``: monotonic first byte, ``body``) as soon as it is relayed. ``PORT <n>`` first."""
    from bench_monitoring import _read_request, _read_response, serve_loopback

    lock = threading.Lock()
    upstream: dict[str, Any] = {}
    known = threading.Event()

    def serve(conn: socket.socket) -> None:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        known.wait()
        buf = bytearray()
        try:
            while True:
                got = _read_request(conn, buf)
                if got is None:
                    return
                arrived, raw = got
                with lock:
                    host, port = upstream["host"], upstream["port"]
                with socket.create_connection((host, port), timeout=10) as up:  # the drill of the moment
                    up.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    up.sendall(raw)
                    relayed = time.monotonic()
                    conn.sendall(_read_response(up))
                body = raw.split(b"\r\n\r\n", 1)[1]
                with lock:
                    print(json.dumps({"arrived": arrived, "relayed": relayed, "body": json.loads(body) if body else None}),
                          flush=True)
        except (OSError, ValueError, ConnectionError):
            return
        finally:
            conn.close()

    listener = serve_loopback(serve)
    for line in sys.stdin:  # each line: the next drill's intake
        host, port = line.strip().rsplit(":", 1)
        with lock:
            upstream.update(host=host, port=int(port))
        known.set()
    listener.close()
    return 0


# ----------------------------------------------------------------------------- the drills
def _scenario(url: str, i: int):
    from gameday.model.scenario import Scenario

    noop = [{"type": "action", "name": "noop", "provider": {"type": "process", "path": "true"}}]
    return Scenario.model_validate({
        "apiVersion": "gameday/v1", "id": "bench-anatomy", "title": "detection anatomy", "severity": "SEV1",
        "target": {"url": url},
        "steady_state": [{"name": "health", "http": {"url": "{target.url}/health", "timeout": "500ms"}}],
        "faults": [{"id": "kill", "at": f"{int((FIRST + i * PHASE) * 1000)}ms", "max_duration": f"{int(DOWN * 1000)}ms",
                    "activities": noop, "rollbacks": noop},
                   {"id": "hold", "at": "10m", "activities": noop, "rollbacks": noop}],  # keeps the drill open
        "detection": {"within": "60s", "signals": [{"name": "checkout down", "alert": {"alertname": "CheckoutDown"}}]},
        "recovery": {"within": "5m"},
        "abort": {"max_duration": "15m"},
        "timing": {"baseline": "0s", "cooldown": "0s", "probe_interval": "250ms"},
    })


def _mono(rfc3339: str, offset: float) -> float:
    """An RFC 3339 wall-clock time on the monotonic clock, read by the bench's own code (not gameday's
    parser): the fraction cut to microseconds, which ``datetime`` takes."""
    import re
    from datetime import datetime

    m = re.fullmatch(r"(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)", rfc3339)
    if m is None:
        raise ValueError(f"not a time: {rfc3339!r}")
    text = m.group(1) + "." + (m.group(2) or "0")[:6].ljust(6, "0") + ("+00:00" if m.group(3) == "Z" else m.group(3))
    return datetime.fromisoformat(text).timestamp() - offset


def _firing(row: dict[str, Any]) -> dict[str, Any] | None:
    for a in (row.get("body") or {}).get("alerts", []):
        if a.get("labels", {}).get("alertname") == "CheckoutDown" and a.get("status") == "firing":
            return a
    return None


def _resolved(row: dict[str, Any]) -> bool:
    return any(a.get("labels", {}).get("alertname") == "CheckoutDown" and a.get("status") == "resolved"
               for a in (row.get("body") or {}).get("alerts", []))


def run(quick: bool = False, kills: int = 5, group_wait: str = GROUP_WAIT) -> list[Result]:
    try:
        from gameday.monitoring.stack import alertmanager_binary, prometheus_binary

        if not prometheus_binary() or not alertmanager_binary():
            raise RuntimeError("prometheus / prometheus-alertmanager not installed (apt-get install them)")
        return _run(2 if quick else kills, group_wait)
    except Exception as exc:  # noqa: BLE001 - reported as failed rows
        return [failed(m, "s", TARGET, exc, target_on="ratio_near_1") for m, _ in ROWS]


def _run(kills: int, group_wait: str) -> list[Result]:
    from gameday.monitoring import config

    config.GROUP_WAIT = group_wait  # the route's group_wait: this process writes alertmanager.yml
    from gameday.analysis.scorecard import score_journal
    from gameday.demo.control import attach_demo, read_state
    from gameday.journal import read_journal
    from gameday.monitoring.config import DEMO_RULES, SHIPPED_RULES, demo_targets
    from gameday.monitoring.stack import MonitoringStack

    offset = time.time() - time.monotonic()
    ours: dict[str, list[float]] = {p: [] for p in PARTS}
    theirs: dict[str, list[float]] = {p: [] for p in PARTS}
    rows: queue.Queue[dict[str, Any]] = queue.Queue()
    kill_requests: list[float] = []
    with tmpdir("anatomy") as work, demo(work) as dm:
        handle = attach_demo(work / ".gameday")
        state = read_state(work / ".gameday")
        proxy = subprocess.Popen([PY, str(BENCH / "bench_anatomy.py"), "--proxy"], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, text=True, cwd=str(BENCH))
        stack = None
        try:
            line = proxy.stdout.readline() if proxy.stdout else ""
            if not line.startswith("PORT "):
                raise RuntimeError(f"the proxy did not start ({line!r})")
            threading.Thread(target=lambda: [rows.put(json.loads(x)) for x in proxy.stdout or []], daemon=True).start()
            hook = f"http://127.0.0.1:{int(line.split()[1])}/webhooks/alertmanager"
            for i in range(kills):
                # a fresh Prometheus and Alertmanager for each drill: its page opens a new alert group and waits the
                # route's group_wait, as a new incident's first page does (into a group still open, as the previous
                # drill's resolved one stays for up to 30 s, a new alert would go out at the group's next tick)
                stack = MonitoringStack(demo_targets(state), [SHIPPED_RULES / DEMO_RULES], hook).start()
                try:
                    one = _one_drill(work / f"drill-{i}", _scenario(dm.url, i), handle, proxy, rows, offset)
                finally:
                    stack.stop()
                    stack = None
                if one is None:
                    print(f"  drill {i}: no CheckoutDown firing webhook")
                    continue
                bench_parts, journal_path = one
                kill_requests.append(bench_parts["kill_request"])
                d = score_journal(read_journal(journal_path)).detection
                lags = {"condition": d.condition_lag, "notification": d.notification_lag, "human": d.human_lag}
                line = []
                for part in PARTS:
                    got = lags[part].seconds if lags[part] is not None else None
                    if got is None:
                        raise RuntimeError(f"drill {i}: the scorecard's {part} lag is unknown: {lags[part]}")
                    ours[part].append(got)
                    theirs[part].append(bench_parts[part])
                    line.append(f"{part} {got:.3f}s/{bench_parts[part]:.3f}s")
                print(f"  drill {i}: " + ", ".join(line) + " (gameday/bench)")
        finally:
            if stack is not None:
                stack.stop()
            if proxy.stdin:
                proxy.stdin.close()
            proxy.wait(10)
    if not ours["condition"]:
        raise RuntimeError("no drill produced a measurable CheckoutDown webhook")
    for part in PARTS:
        print(fmt_summary(f"{part} lag, gameday's scorecard", summary(ours[part]), "s"))
        print(fmt_summary(f"{part} lag, the bench's own", summary(theirs[part]), "s"))
        diff = [a - b for a, b in zip(ours[part], theirs[part], strict=True)]
        print(fmt_summary(f"{part} lag, gameday - bench", summary(diff, 1e3)))
    print(fmt_summary("kill request (the process dies within it)", summary(kill_requests, 1e3)))
    details = {"kills": kills, "measured": len(ours["condition"]), "group_wait": group_wait,
               "kill_request_ms": summary(kill_requests, 1e3),
               **{f"{p}_gameday_minus_bench_ms": summary([a - b for a, b in zip(ours[p], theirs[p], strict=True)], 1e3)
                  for p in PARTS},
               **{f"{p}_gameday_s": summary(ours[p]) for p in PARTS}, **{f"{p}_bench_s": summary(theirs[p]) for p in PARTS}}
    out = []
    for (measure, stat), part in zip(ROWS, [p for p in PARTS for _ in (0, 1)], strict=True):
        pick = (lambda v: pct(v, 50)) if stat == "p50" else max
        out.append(Result(measure, pick(ours[part]), "s", TARGET, target_on="ratio_near_1", baseline=pick(theirs[part]),
                          baseline_label=f"bench's own {part} lag, {stat}", details=details))
    return out


def _one_drill(work, sc, handle, proxy, rows: queue.Queue, offset: float) -> tuple[dict[str, float], Any] | None:
    """One drill, one kill; the bench acknowledges as a person. (its parts, the journal's path), None if no page."""
    from bench_monitoring import KillCheckout

    work.mkdir()
    log: list[tuple[str, float, float]] = []
    injector = KillCheckout(handle, log)
    drill = Drill(work, sc, {f.id: injector for f in sc.faults if f.id == "kill"} | {"hold": _Nothing()},
                  drill_id=f"bench-anatomy-{work.name}")
    assert proxy.stdin is not None
    proxy.stdin.write(drill.server.url.split("//", 1)[1] + "\n")
    proxy.stdin.flush()
    while not rows.empty():  # a late resolved row of the previous drill
        rows.get_nowait()
    drill.start()
    try:
        wait_for(lambda: any(w == "kill" for w, _, _ in log), 30, interval=0.01, what="the kill")
        kill_start, kill_done = next((t, done) for w, t, done in log if w == "kill")
        page = None
        deadline = time.monotonic() + 20
        while page is None and time.monotonic() < deadline:
            try:
                row = rows.get(timeout=0.5)
            except queue.Empty:
                continue
            alert = _firing(row)
            if alert is not None and _mono(alert["startsAt"], offset) > kill_start - 1.0:
                page = (row, alert)
        if page is None:
            return None
        row, alert = page
        time.sleep(max(0.0, row["arrived"] + HUMAN - time.monotonic()))
        acked = time.monotonic()
        drill.conductor.record_action("alice", "acknowledge")
        starts = _mono(alert["startsAt"], offset)
        parts = {"condition": starts - kill_start, "notification": row["arrived"] - starts, "human": acked - row["arrived"],
                 "kill_request": kill_done - kill_start}
        # the restart (the fault's max_duration), then its resolved webhook: the next drill starts clean
        wait_for(lambda: any(w == "restart" for w, _, _ in log), 30, interval=0.05, what="the restart")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                if _resolved(rows.get(timeout=0.5)):
                    break
            except queue.Empty:
                continue
        return parts, drill.journal.path
    finally:
        drill.stop("bench: done")


class _Nothing:
    """The 'hold' fault: never due within the bench (at 10m); nothing to inject or roll back."""

    def ledger_spec(self):
        from gameday.ports import FakeRollback

        return FakeRollback(name="hold")

    def inject(self):
        from gameday.ports import InjectionResult

        return InjectionResult(ok=True, runs=[], error=None)

    def rollback(self):
        from gameday.ports import InjectionResult

        return InjectionResult(ok=True, runs=[], error=None)


def main() -> None:
    if "--proxy" in sys.argv:
        sys.exit(proxy_main())
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kills", type=int, default=5)
    ap.add_argument("--group-wait", default=GROUP_WAIT, help="the Alertmanager route's group_wait (default %(default)s)")
    args = ap.parse_args()
    report(run(kills=args.kills, group_wait=args.group_wait), name="anatomy")


if __name__ == "__main__":
    main()
