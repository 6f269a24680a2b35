"""Timing fidelity end to end with real Prometheus and Alertmanager: the monitoring's own delay
(fault → alert firing → webhook) reported apart from gameday's intake delay (webhook → journal).

Set-up: the embedded demo (``gameday demo up`` in a scratch folder), a real
:class:`~gameday.monitoring.stack.MonitoringStack` scraping it every second with the shipped
rules (``gameday/monitoring/rules/demo.rules.yml``), and a harness drill (harness.py: real Conductor,
SystemClock, JournalWriter with fsync, the real intake under uvicorn, probe loop, ledger,
live view). Alertmanager posts to a **recording proxy** in its own process (this file with
``--proxy``) that notes the monotonic time each request's first byte arrives, then relays
it to the drill's intake. CLOCK_MONOTONIC is system-wide, so every process's readings compare.

The drill's faults really kill the demo's checkout API (SIGKILL through the demo's control
API) every ``GAP`` seconds and restart it ``DOWN`` seconds later (their rollback). For each
kill ``F`` (the kill request returned: the process is gone) and the first firing
``CheckoutDown`` alert after it:

* **Prometheus** ``S − F``: fault → the alert's ``startsAt`` (the rule evaluation that found
  ``up == 0``: next failed scrape + next evaluation; wall clock mapped to monotonic);
* **Alertmanager** ``A − S``: ``startsAt`` → webhook arrival ``A`` at the proxy (Prometheus's
  notifier, Alertmanager's dispatch with ``group_wait: 0s``, the HTTP POST);
* **monitoring delay** ``A − F`` (the headline: what the drill's MTTD owes to the monitoring);
* **gameday intake delay** ``D − A``: arrival → the ``AlertReceived`` line fsynced (``D`` read by
  a journal listener; includes the proxy's relay hop);
* **journal timestamp error** ``J − A``: the journal's ``AlertReceived`` time (which is also the
  ``DetectionRecorded`` time of the first) minus the arrival at the proxy.

And per restart: restart → ``resolved`` webhook arrival.

Rows: the monitoring delay (max, ≤ 3 s; baseline column: Prometheus's share, p50), the
journal's timestamp vs. the arrival (max, ≤ 5 ms: the live-drill issue's bound on the
detection timestamp), and the intake delay to a durable journal line (max, ≤ 20 ms: a sanity
bound, fsync latency on a shared disk varies).

    .venv/bin/python bench/bench_monitoring.py [--quick] [--kills N]
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime
from typing import Any

from common import BENCH, PY, Result, demo, failed, fmt_summary, pct, report, summary, tmpdir, wait_for
from harness import Drill

GAP = 7.37  # seconds between kills (not a whole number: each kill lands at another phase of the 1 s scrape)
DOWN = 3.0  # seconds each kill lasts (the fault's rollback restarts checkout)
FIRST = 2.0
TARGET_MONITORING_S = 3.0
TARGET_STAMP_MS = 5.0  # the live-drill issue's bound on the journal's detection timestamp
TARGET_INTAKE_MS = 20.0  # arrival -> durable: a sanity bound (fsync latency on a shared disk varies)
ROWS = [("monitoring delay: fault -> webhook arrival (max)", "s", TARGET_MONITORING_S),
        ("journal time - webhook arrival (max)", "ms", TARGET_STAMP_MS),
        ("gameday intake delay: arrival -> journaled (max)", "ms", TARGET_INTAKE_MS)]


# ----------------------------------------------------------------------------- the proxy
def _read_request(conn: socket.socket, buf: bytearray) -> tuple[float, bytes] | None:
    """One HTTP/1.1 request (Content-Length framed): (monotonic time of its first byte, raw bytes)."""
    first = None
    while b"\r\n\r\n" not in buf:
        if buf and first is None:
            first = time.monotonic()
        chunk = conn.recv(65536)
        if not chunk:
            return None
        if first is None:
            first = time.monotonic()
        buf += chunk
    head, _, rest = bytes(buf).partition(b"\r\n\r\n")
    length = 0
    for line in head.decode("latin-1").split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        rest += chunk
    buf[:] = rest[length:]
    return first, head + b"\r\n\r\n" + rest[:length]


def _read_response(sock: socket.socket) -> bytes:
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("upstream closed")
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    length = next((int(v) for k, _, v in (ln.partition(":") for ln in head.decode("latin-1").split("\r\n")[1:])
                   if k.strip().lower() == "content-length"), 0)
    while len(rest) < length:
        rest += sock.recv(65536)
    return head + b"\r\n\r\n" + rest[:length]


def serve_loopback(serve) -> socket.socket:
    """Listen on a free loopback port, each connection to ``serve(conn)`` in its own thread; print ``PORT <n>``."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    print(f"PORT {listener.getsockname()[1]}", flush=True)
    return listener


def proxy_main() -> int:
    """Relay HTTP/1.1 requests to the upstream host:port read from stdin's first line, noting each one's arrival.

    Prints ``PORT <n>`` at once; relays once the upstream is known; prints the rows (JSON) when stdin closes.
    """
    rows: list[dict[str, Any]] = []
    lock = threading.Lock()
    upstream: dict[str, Any] = {}
    known = threading.Event()

    def serve(conn: socket.socket) -> None:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        known.wait()
        up = socket.create_connection((upstream["host"], upstream["port"]), timeout=10)
        up.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buf = bytearray()
        try:
            while True:
                got = _read_request(conn, buf)
                if got is None:
                    return
                arrived, raw = got
                up.sendall(raw.replace(b"Connection: close\r\n", b""))
                relayed = time.monotonic()
                response = _read_response(up)
                conn.sendall(response)
                body = raw.split(b"\r\n\r\n", 1)[1]
                with lock:
                    rows.append({"arrived": arrived, "relayed": relayed, "answered": time.monotonic(),
                                 "body": json.loads(body) if body else None})
        except (OSError, ValueError):
            return
        finally:
            conn.close()
            up.close()

    listener = serve_loopback(serve)
    host, port = sys.stdin.readline().strip().rsplit(":", 1)
    upstream.update(host=host, port=int(port))
    known.set()
    sys.stdin.read()  # until the bench closes our stdin
    listener.close()
    with lock:
        json.dump(rows, sys.stdout)
    return 0


# ---------------------------------------------------------------------------- the faults
class KillCheckout:
    """SIGKILL the demo's checkout API (inject); start it again (rollback). Notes when each returned."""

    def __init__(self, handle, log: list[tuple[str, float, float]]):
        self.handle, self.log = handle, log

    def ledger_spec(self):
        from gameday.ports import FakeRollback

        return FakeRollback(name="kill demo checkout")  # the bench restarts it itself: nothing for 'gameday recover'


    def _act(self, what: str, fn) -> Any:
        from gameday.ports import ActivityRun, InjectionResult

        t = time.monotonic()
        try:
            fn()
            ok, error = True, None
        except Exception as exc:  # noqa: BLE001 - reported as a failed activity
            ok, error = False, str(exc)
        done = time.monotonic()
        self.log.append((what, t, done))
        run = ActivityRun(what, "method" if what == "kill" else "rollback", "bench", "succeeded" if ok else "failed", 0.0,
                          done - t)
        return InjectionResult(ok=ok, runs=[run], error=error)

    def inject(self):
        return self._act("kill", lambda: self.handle.kill("checkout"))

    def rollback(self):
        return self._act("restart", lambda: self.handle.restart("checkout"))


def _scenario(url: str, kills: int):
    from gameday.model.scenario import Scenario

    faults = [{"id": f"kill-{i}", "at": f"{int((FIRST + i * GAP) * 1000)}ms", "max_duration": f"{int(DOWN * 1000)}ms",
               "activities": [{"type": "action", "name": "noop", "provider": {"type": "process", "path": "true"}}],
               "rollbacks": [{"type": "action", "name": "noop", "provider": {"type": "process", "path": "true"}}]}
              for i in range(kills)]
    # a fault far in the future keeps the drill open until the bench stops it (after the last restart)
    faults.append({"id": "hold", "at": f"{int((FIRST + kills * GAP + 120) * 1000)}ms",
                   "activities": faults[0]["activities"], "rollbacks": faults[0]["rollbacks"]})
    return Scenario.model_validate({
        "apiVersion": "gameday/v1", "id": "bench-monitoring", "title": "monitoring delay", "severity": "SEV1",
        "target": {"url": url},
        "steady_state": [{"name": "health", "http": {"url": "{target.url}/health", "timeout": "500ms"}}],
        "faults": faults,
        "detection": {"within": "60s", "signals": [{"name": "checkout down", "alert": {"alertname": "CheckoutDown"}}]},
        "recovery": {"within": "5m"},
        "abort": {"max_duration": "10m"},
        "timing": {"baseline": "1s", "cooldown": "0s", "probe_interval": "250ms"},
    })


def _payload_alerts(data: Any) -> list[dict[str, Any]]:
    """The alerts of an Alertmanager webhook body, as the journal keeps it (``AlertReceived.payload``)."""
    body = data.payload
    alerts = body.get("alerts") if isinstance(body, dict) else None
    return [a for a in alerts if isinstance(a, dict)] if isinstance(alerts, list) else []


def _mono(rfc3339: str, offset: float) -> float:
    """A wall-clock RFC 3339 time on the monotonic clock (``offset`` = time.time() − time.monotonic())."""
    return datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp() - offset


# ----------------------------------------------------------------------------- the bench
def run(quick: bool = False, kills: int = 5) -> list[Result]:
    try:
        from gameday.monitoring.stack import alertmanager_binary, prometheus_binary

        if not prometheus_binary() or not alertmanager_binary():
            raise RuntimeError("prometheus / prometheus-alertmanager not installed (apt-get install them)")
        return _run(2 if quick else kills)
    except Exception as exc:  # noqa: BLE001 - reported as failed rows
        return [failed(m, u, t, exc) for m, u, t in ROWS]


def _run(kills: int) -> list[Result]:
    from gameday.demo.control import attach_demo, read_state
    from gameday.journal import events_of
    from gameday.model.events import AlertReceived, DetectionRecorded
    from gameday.monitoring.config import DEMO_RULES, SHIPPED_RULES, demo_targets
    from gameday.monitoring.stack import MonitoringStack

    offset = time.time() - time.monotonic()
    log: list[tuple[str, float, float]] = []
    durable: dict[int, float] = {}
    with tmpdir("monitoring") as work, demo(work) as dm:
        handle = attach_demo(work / ".gameday")
        state = read_state(work / ".gameday")
        sc = _scenario(dm.url, kills)
        injector = KillCheckout(handle, log)
        proxy = subprocess.Popen([PY, str(BENCH / "bench_monitoring.py"), "--proxy"], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, text=True)
        stack, drill, started = None, None, False
        try:
            line = proxy.stdout.readline() if proxy.stdout else ""
            if not line.startswith("PORT "):
                raise RuntimeError(f"the proxy did not start ({line!r})")
            hook = f"http://127.0.0.1:{int(line.split()[1])}/webhooks/alertmanager"
            t = time.monotonic()
            stack = MonitoringStack(demo_targets(state), [SHIPPED_RULES / DEMO_RULES], hook).start()
            print(f"  Prometheus + Alertmanager monitoring after {time.monotonic() - t:.2f}s "
                  f"({stack.prometheus_url}, {stack.alertmanager_url})")
            # the drill (and its journal's t0) only now: the faults' offsets count from here
            drill = Drill(work, sc, {f.id: injector for f in sc.faults}, drill_id="bench-monitoring")
            drill.journal.listeners.append(lambda ev: durable.setdefault(ev.seq, time.monotonic()))
            assert proxy.stdin is not None
            proxy.stdin.write(drill.server.url.split("//", 1)[1] + "\n")
            proxy.stdin.flush()
            drill.start()
            started = True
            last = FIRST + (kills - 1) * GAP + DOWN
            wait_for(lambda: drill.journal.offset() > last + 4.0, last + 60, interval=0.1, what="the last restart + 4s")
        finally:
            if started:
                drill.stop("bench: done")
            elif drill is not None:
                drill.close()
            if stack is not None:
                stack.stop()
            if proxy.stdin:
                proxy.stdin.close()
            out = proxy.stdout.read() if proxy.stdout else "[]"
            proxy.wait(10)
    rows = json.loads(out or "[]")
    t0 = drill.t0
    events = list(drill.journal.events)
    received = events_of(events, AlertReceived)
    kills_at = [done for what, _, done in log if what == "kill"]
    restarts_at = [done for what, _, done in log if what == "restart"]

    def arrival_of(status: str, starts: str) -> dict | None:
        for r in rows:
            for a in (r["body"] or {}).get("alerts", []):
                if a["labels"].get("alertname") == "CheckoutDown" and a["status"] == status and a["startsAt"] == starts:
                    return r
        return None

    prom, am, total, intake, stamp, resolved = [], [], [], [], [], []
    for i, f in enumerate(kills_at):
        nxt = kills_at[i + 1] if i + 1 < len(kills_at) else float("inf")
        firing = [(e, a) for e in received for a in _payload_alerts(e.data)
                  if a["labels"].get("alertname") == "CheckoutDown" and a["status"] == "firing"
                  and f - 1.0 < _mono(a["startsAt"], offset) < nxt]
        if not firing:
            print(f"  kill {i}: no CheckoutDown firing webhook")
            continue
        ev, alert = firing[0]
        s = _mono(alert["startsAt"], offset)
        row = arrival_of("firing", alert["startsAt"])
        if row is None:
            continue
        a = row["arrived"]
        prom.append(s - f)
        am.append(a - s)
        total.append(a - f)
        intake.append(durable[ev.seq] - a)
        stamp.append(t0 + ev.t - a)
        if i < len(restarts_at):
            res = [r for r in rows if r["arrived"] > restarts_at[i] and any(
                x["labels"].get("alertname") == "CheckoutDown" and x["status"] == "resolved"
                for x in (r["body"] or {}).get("alerts", []))]
            if res:
                resolved.append(res[0]["arrived"] - restarts_at[i])
    det = next(iter(events_of(events, DetectionRecorded)), None)
    print(f"  {len(total)} of {kills} kills measured; {len(rows)} webhooks through the proxy")
    print(fmt_summary("Prometheus: fault -> startsAt", summary(prom), "s"))
    print(fmt_summary("Alertmanager: startsAt -> webhook arrival", summary(am), "s"))
    print(fmt_summary("monitoring delay: fault -> webhook arrival", summary(total), "s"))
    print(fmt_summary("restart -> resolved webhook arrival", summary(resolved), "s"))
    print(fmt_summary("gameday intake: arrival -> journaled (fsync)", summary(intake, 1e3)))
    print(fmt_summary("journal time - arrival at the proxy", summary(stamp, 1e3)))
    if det is not None:
        print(f"  first detection journaled at +{det.t:.3f}s (AlertReceived seq {det.data.alert_seq})")
    if not total:
        raise RuntimeError("no kill produced a measurable CheckoutDown webhook")
    details = {"kills": kills, "measured": len(total), "prometheus_s": summary(prom), "alertmanager_s": summary(am),
               "monitoring_delay_s": summary(total), "resolved_s": summary(resolved),
               "intake_ms": summary(intake, 1e3), "journal_minus_arrival_ms": summary(stamp, 1e3),
               "kill_request_s": summary([d - t for w, t, d in log if w == "kill"])}
    return [
        Result(ROWS[0][0], max(total), "s", TARGET_MONITORING_S, baseline=pct(prom, 50),
               baseline_label="Prometheus share, p50", details=details),
        Result(ROWS[1][0], max(stamp) * 1e3, "ms", TARGET_STAMP_MS, details={"journal_minus_arrival_ms": summary(stamp, 1e3)}),
        Result(ROWS[2][0], max(intake) * 1e3, "ms", TARGET_INTAKE_MS, details={"intake_ms": summary(intake, 1e3)}),
    ]


def main() -> None:
    if "--proxy" in sys.argv:
        sys.exit(proxy_main())
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--kills", type=int, default=5)
    args = ap.parse_args()
    report(run(args.quick, args.kills), name="monitoring")


if __name__ == "__main__":
    main()
