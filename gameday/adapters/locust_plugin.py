"""gameday's reporter inside locust: exact per-second stats, a load profile, a parent watch.

Loaded **by locust only**, as an extra locustfile (``locust -f USER_FILE,THIS_FILE``); never
import it from gameday: importing locust monkey-patches the whole process with gevent.
It defines no User class. Configured by environment variables (set by
:mod:`gameday.adapters.locust`):

``GAMEDAY_LOAD_STATS``   JSON Lines file to append to, one line per interval (master or
                         stand-alone process only; workers do not report).
``GAMEDAY_LOAD_INTERVAL`` seconds between lines (default 1).
``GAMEDAY_LOAD_STAGES``  JSON ``[[after_s, users, spawn_rate], ...]``: change the user count
                         at those offsets from the start of the test.
``GAMEDAY_LOAD_PARENT``  pid of gameday: quit when it is no longer our parent (the conductor
                         died), so a load never outlives its drill.

Why not locust's own ``--csv-full-history``: that file is flushed every 5 s, its per-name
percentiles are over a sliding 10-s window, and counts are cumulative. Here each line holds
the *deltas* of one interval: per request name ``requests``, ``failures``, the
response-time histogram of the interval (``hist``: locust's rounded milliseconds → count) and
its exact nearest-rank p50/p95/p99 and max; and the same for the total. In distributed mode
the master's stats only move when a worker reports; workers report every 3 s by default, so
this plugin makes them report every interval (``locust.runners.WORKER_REPORT_INTERVAL``).

A line::

    {"type": "interval", "mono_from": ..., "mono_to": ..., "wall_to": ..., "users_from": 10, "users": 10,
     "names": {"checkout": {"requests": 4, "failures": 1, "p50": 3, "p95": 9, "p99": 9, "max": 9,
                            "hist": {"3": 3, "9": 1}}}, "total": {...}}

``users_from``/``users`` are the running users at the start and end of the interval (ramp-up
seconds differ). ``mono_*`` are ``time.monotonic()`` readings (CLOCK_MONOTONIC is system-wide on Linux, so
gameday maps them onto its drill clock). The last line, when locust quits (before its own
``--json`` output, which resets the stats entries), has ``"type": "final"``
and the whole run's totals per name plus the most frequent errors.
"""

from __future__ import annotations

import json
import math
import os
import time

import gevent
from locust import events
from locust.runners import MasterRunner, WorkerRunner

INTERVAL = float(os.environ.get("GAMEDAY_LOAD_INTERVAL", "1") or 1)
_state: dict = {}


def _percentile(hist: dict[int, int], count: int, p: float) -> int | None:
    """Nearest-rank percentile of a {value: count} histogram."""
    if count <= 0:
        return None
    rank = max(1, math.ceil(round(p * count, 9)))
    seen = 0
    for value in sorted(hist):
        seen += hist[value]
        if seen >= rank:
            return value
    return max(hist)


def _figures(requests: int, failures: int, hist: dict[int, int]) -> dict:
    count = sum(hist.values())
    return {"requests": requests, "failures": failures, "p50": _percentile(hist, count, 0.50),
            "p95": _percentile(hist, count, 0.95), "p99": _percentile(hist, count, 0.99),
            "max": max(hist) if hist else None, "hist": {str(k): v for k, v in sorted(hist.items())}}


def _snapshot(stats) -> dict[str, tuple[int, int, dict[int, int]]]:
    """Cumulative (requests, failures, histogram) per request name (methods merged)."""
    out: dict[str, tuple[int, int, dict[int, int]]] = {}
    for entry in list(stats.entries.values()):
        req, fail, hist = out.get(entry.name, (0, 0, {}))
        hist = dict(hist)
        for k, v in entry.response_times.items():
            hist[k] = hist.get(k, 0) + v
        out[entry.name] = (req + entry.num_requests, fail + entry.num_failures, hist)
    return out


def _delta(now: dict, before: dict) -> dict[str, tuple[int, int, dict[int, int]]]:
    out = {}
    for name, (req, fail, hist) in now.items():
        breq, bfail, bhist = before.get(name, (0, 0, {}))
        if req < breq:  # stats were reset: the snapshot is the delta
            breq, bfail, bhist = 0, 0, {}
        d = {k: v - bhist.get(k, 0) for k, v in hist.items() if v - bhist.get(k, 0) > 0}
        if req - breq or fail - bfail:
            out[name] = (req - breq, fail - bfail, d)
    return out


def _write(line: dict) -> None:
    fh = _state.get("fh")
    if fh is not None:
        fh.write(json.dumps(line, separators=(",", ":")) + "\n")
        fh.flush()


def _emit(environment, final: bool = False) -> None:
    now_mono, now_wall = time.monotonic(), time.time()
    snap = _snapshot(environment.runner.stats)
    delta = _delta(snap, _state.get("snap", {}))
    total_req = sum(r for r, _, _ in delta.values())
    total_fail = sum(f for _, f, _ in delta.values())
    total_hist: dict[int, int] = {}
    for _, _, h in delta.values():
        for k, v in h.items():
            total_hist[k] = total_hist.get(k, 0) + v
    users_from = _state.get("users", 0)
    users = environment.runner.user_count
    if final and users == 0:  # already stopped (run-time limit): the interval ran with the users before
        users = users_from
    _write({"type": "interval", "mono_from": _state.get("mono", now_mono), "mono_to": now_mono, "wall_to": now_wall,
            "users_from": users_from, "users": users,
            "names": {name: _figures(*d) for name, d in sorted(delta.items())},
            "total": _figures(total_req, total_fail, total_hist)})
    _state.update(snap=snap, mono=now_mono, users=users)
    if final:
        errors = sorted(environment.runner.stats.errors.values(), key=lambda e: -e.occurrences)[:10]
        _write({"type": "final", "mono_to": now_mono, "wall_to": now_wall,
                "names": {n: {"requests": r, "failures": f} for n, (r, f, _) in sorted(snap.items())},
                "errors": [{"name": e.name, "method": e.method, "error": str(e.error)[:300], "occurrences": e.occurrences}
                           for e in errors]})


def _reporter(environment) -> None:
    next_at = time.monotonic() + INTERVAL
    while True:
        gevent.sleep(max(0.0, next_at - time.monotonic()))
        next_at += INTERVAL
        try:
            _emit(environment)
        except Exception as exc:  # noqa: BLE001 - a reporting hiccup must not stop the load
            _write({"type": "error", "error": f"{type(exc).__name__}: {exc}"})


def _profile(environment, stages: list) -> None:
    start = time.monotonic()
    for after, users, rate in stages:
        gevent.sleep(max(0.0, start + float(after) - time.monotonic()))
        runner = environment.runner
        runner.start(int(users), float(rate) if rate else environment.parsed_options.spawn_rate)


def _watch_parent(environment, parent: int) -> None:
    while os.getppid() == parent:
        gevent.sleep(0.5)
    environment.runner.quit()
    os._exit(3)


@events.init.add_listener
def _on_init(environment, **_kw) -> None:
    parent = int(os.environ.get("GAMEDAY_LOAD_PARENT") or 0)
    if parent:
        gevent.spawn(_watch_parent, environment, parent)
    if isinstance(environment.runner, WorkerRunner):
        import locust.runners

        locust.runners.WORKER_REPORT_INTERVAL = INTERVAL
        return
    path = os.environ.get("GAMEDAY_LOAD_STATS")
    if not path:
        return
    _state["fh"] = open(path, "a", encoding="utf-8")  # noqa: SIM115 - open for the run, closed in _on_quitting
    _state["mono"] = time.monotonic()
    gevent.spawn(_reporter, environment)
    stages = json.loads(os.environ.get("GAMEDAY_LOAD_STAGES") or "[]")
    if stages:
        gevent.spawn(_profile, environment, stages)
    _state["master"] = isinstance(environment.runner, MasterRunner)


@events.quitting.add_listener
def _on_quitting(environment, **_kw) -> None:
    """Before locust's own shutdown: its ``--json`` output strips (resets) the stats entries."""
    if _state.get("fh") is not None:
        _emit(environment, final=True)
        _state["fh"].close()
        _state["fh"] = None
