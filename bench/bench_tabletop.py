"""Tabletop benchmarks (issue 12): when injects go out against the MSEL, and how fast 50 participants see one.

Every drill here is a tabletop assembled as ``gameday run SCENARIO --mode tabletop --pace P`` assembles one
(:func:`gameday.drill.assemble.assemble` with the default :class:`~gameday.drill.assemble.Factories`: the
simulator, the MSEL player, the conductor on the scenario clock, a fsynced journal, the control room on
the intake's uvicorn server on loopback), started by the facilitator over HTTP, in this process; every
HTTP client that is timed runs in another process (this file, ``--child ...``), so it never shares the
drill's GIL. The scenario is built in memory (:func:`scenario`): plain injects to everyone, one fault.

**1. Inject publish time against its schedule** (one row per pace; target p99 ≤ 10 ms). 40 injects (20 with
``--quick``) ``GAP`` = 200 ms apart on the *wall* clock (so ``GAP × factor`` apart on the scenario clock):

* ``real``, ``4h:45m`` (5.33), ``10h:1m`` (600): published by the MSEL on its schedule; for each InjectPublished

      lateness = (event.t − scheduled_t) / factor          (scenario seconds → wall seconds)

  (``t`` is the scenario clock read as the event is journaled: how much wall time the publication came after
  its due moment). Cross-check from the wall clock alone (printed): ``event.wall − (DrillStarted.wall +
  (scheduled_t − DrillStarted.t) / factor)``. Baseline: a plain timer, ``threading.Event.wait`` to 40
  deadlines ``GAP`` apart, lateness = ``time.monotonic()`` on waking − deadline (the floor of any timed
  publisher on this machine; a run of its own among the drills). Also printed: the drill's own simulated
  fault, ``(FaultInjected.t − fault.at) / factor``: the conductor's own timing, one a drill.
* ``manual``: the facilitator (a child process, one keep-alive HTTP connection, as a page has) posts
  ``/api/exercise/next`` 40 times, ``GAP`` apart; lateness = ``InjectPublished.wall − send``, ``send`` being
  the client's ``time.time()`` just before the request. Baseline, interleaved in the same drill (half a gap
  after each ``next``): ``POST /api/actions/note`` from the same client, ``ActionRecorded.wall − send`` — a
  control-room POST that journals at once — so the ratio is what ``next`` adds (its hand-over to the
  conductor's thread, the clock's jump, the publication). The fault is at 0 s in this drill, so that no
  ``next`` carries it on its way (that one would publish after the fault's own four fsynced events).

3 repeats (1 with ``--quick``); in each, the four paces and the timer in turn, the order rotating; pooled
p50/p99, and each repeat's p99 (the spread).

**2. An inject on 50 participants' streams** (target p99 ≤ 250 ms). A tabletop at pace ``real``; the
facilitator invites 50 participants (``POST /api/responders``); a child process (asyncio, one
``httpx.AsyncClient`` and connection per participant, each with its own token) holds their 50
``/api/stream`` connections open from the lobby on. 20 injects (10) to everyone, ``FANOUT_GAP`` = 300 ms
apart; for each of the 50 clients × injects:

      latency = receipt of the stream message (the client's time.time()) − InjectPublished.wall

Baseline, the no-op broadcast, interleaved in the same drill (half a gap after each inject): an
``ActionRecorded`` note journaled straight into the conductor (``Conductor.record``: no HTTP, no
matching), which the room fans out to the same 50 streams by the same path (journal listener → live hub →
each stream); same latency. Printed with each: per event, its first client and its last (all 50 have it).

An inject's stream message carries what its players see of it (``gameday/web/live.py``), and the page
(``room.js``) shows it on receipt, before refreshing the rest of its state: the stream's latency is when
the inject is visible on the page (a message without the inject's content counts as an error).

Supplementary figure (printed, not a table row), a second phase of the same drill: 6 more injects
(3) ``PAGE_GAP`` = 1.2 s apart, notes between them; now each client, on each message, fetches
``GET /api/state`` as the control room's page does (room.js; without the page's 100 ms debounce):
latency = that response read − the event's wall — when all 50 pages have their whole state again
(about 7 ms of the server a page, one after another). 3 drills (1 with ``--quick``), pooled.

    .venv/bin/python bench/bench_tabletop.py [--quick] [--repeats N] [--injects N] [--fanout-drills N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from common import BENCH, PY, Result, failed, fmt_summary, iso_to_epoch, report, summary, tmpdir

TARGET_PUBLISH_MS = 10.0
TARGET_FANOUT_MS = 250.0
PACES: dict[str, float | None] = {"real": 1.0, "4h:45m": 4 * 60 / 45, "10h:1m": 600.0, "manual": None}
FIRST, GAP = 0.4, 0.2  # wall seconds: the first inject, the gap between injects
PARTICIPANTS = 50
FANOUT_FIRST, FANOUT_GAP = 1.0, 0.3
PAGE_GAP = 1.2  # the page phase: 50 state fetches per message need more room
ACTIVITY = [{"type": "action", "name": "noop", "provider": {"type": "process", "path": "true"}}]
CHILD = str(BENCH / "bench_tabletop.py")


# ------------------------------------------------------------------ the drill
def scenario(factor: float, times: Sequence[float], fault_at: float | None = None):
    """A tabletop scenario with one inject to everyone at each of ``times`` (wall seconds from the start) at
    ``factor`` scenario seconds per wall second, and one simulated fault at ``fault_at`` (wall seconds;
    default: halfway to the first inject)."""
    from gameday.model.scenario import Scenario

    end = (max(times) + 120) * factor
    fault_at = times[0] / 2 if fault_at is None else fault_at
    return Scenario.model_validate({
        "apiVersion": "gameday/v1", "id": "bench-tabletop", "title": "tabletop benchmark", "severity": "SEV2",
        "target": {"url": "http://127.0.0.1:9"},
        "steady_state": [{"name": "health", "http": {"url": "{target.url}/health"}}],
        "faults": [{"id": "f", "at": f"{fault_at * factor * 1000:.3f}ms", "activities": ACTIVITY,
                    "rollbacks": ACTIVITY}],
        "detection": {"within": f"{end / 3:.3f}s", "signals": [{"name": "bench", "alert": {"alertname": "BenchAlert"}}]},
        "recovery": {"within": f"{end / 3:.3f}s"},
        "abort": {"max_duration": f"{end:.3f}s"},
        "injects": [{"id": f"i{i:03d}", "at": f"{at * factor * 1000:.3f}ms", "channel": "chat", "from": "Bench",
                     "to": "everyone", "subject": f"inject {i}", "message": "a benchmark inject"}
                    for i, at in enumerate(times)],
    })


def _times(first: float, gap: float, n: int) -> list[float]:
    return [first + i * gap for i in range(n)]


class Tabletop:
    """One tabletop drill with its control room, assembled as ``gameday run --mode tabletop`` assembles it;
    played on a thread once the facilitator starts it. Use as a context manager (always torn down)."""

    def __init__(self, work: Path, sc, pace: str):
        from contextlib import ExitStack

        from gameday.drill.assemble import assemble
        from gameday.drill.context import DrillOptions
        from gameday.loader import LoadedScenario
        from gameday.model.policy import ProjectConfig
        from gameday.project import Project

        self.lines: list[str] = []
        project = Project(root=work, config=ProjectConfig())
        loaded = LoadedScenario(scenario=sc, path=work / "bench.yaml", base_dir=work, project_root=work)
        self._stack = ExitStack()
        try:
            self.drill = self._stack.enter_context(assemble(
                project, loaded, DrillOptions(mode="tabletop", pace=pace, out=work / "out"), echo=self.lines.append))
            link = next(line for line in self.lines if line.startswith("control room: ")).split(": ", 1)[1]
        except BaseException:
            self._stack.close()
            raise
        self.url, self.token = link.split("/join#")
        self._box: dict[str, Any] = {}
        self._thread = threading.Thread(target=self._play, name="conductor", daemon=True)
        self._thread.start()

    def _play(self) -> None:
        gate = self.drill.gate
        try:
            while gate is not None and not gate.wait(0.05):
                if self._box.get("closing"):
                    return
            self._box["result"] = self.drill.play()
        except BaseException as exc:  # noqa: BLE001 - reported by close()
            self._box["error"] = exc

    def __enter__(self) -> Tabletop:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def client(self, token: str | None = None):
        import httpx

        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {token or self.token}"}, timeout=30)

    def start(self) -> None:
        """The facilitator presses start; returns once DrillStarted is journaled."""
        with self.client() as c:
            r = c.post("/api/drill/start", json={})
            if r.status_code != 202:
                raise RuntimeError(f"start: {r.status_code} {r.text[:200]}")
        self.wait(lambda evs: evs and evs[0].kind == "DrillStarted", 30, "DrillStarted")

    def wait(self, test: Callable[[list], Any], timeout: float, what: str) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            got = test(list(self.drill.journal.events))
            if got:
                return got
            if "error" in self._box:
                raise self._box["error"]
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out after {timeout:g}s waiting for {what}")
            time.sleep(0.02)

    def published(self, n: int, timeout: float) -> None:
        self.wait(lambda evs: sum(e.kind == "InjectPublished" for e in evs) >= n, timeout, f"{n} injects published")

    def close(self) -> None:
        self._box["closing"] = True
        if self._thread.is_alive() and self.drill.gate is not None and self.drill.gate.is_set():
            self.drill.conductor.end("bench: done")
        self._thread.join(30)
        self._stack.close()
        if "error" in self._box:
            raise self._box["error"]
        if self._thread.is_alive():
            raise TimeoutError("the tabletop did not end within 30 s")

    @property
    def journal_path(self) -> Path:
        return self.drill.journal.path


class Child:
    """``bench_tabletop.py --child KIND`` in its own process: its config as one JSON line on stdin; it says
    ``READY`` on stdout when set, takes ``PAGE``/``STOP`` lines, and ends with its results as one JSON line.
    Always stopped (killed after a timeout)."""

    def __init__(self, kind: str, config: dict[str, Any]):
        self.proc = subprocess.Popen([PY, CHILD, "--child", kind], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(config) + "\n")
        self.proc.stdin.flush()

    def line(self, timeout: float) -> str:
        box: list[str] = []
        reader = threading.Thread(target=lambda: box.append(self.proc.stdout.readline() if self.proc.stdout else ""),
                                  daemon=True)
        reader.start()
        reader.join(timeout)
        if not box or not box[0]:
            raise RuntimeError(f"child process said nothing within {timeout:g}s (exit status {self.proc.poll()})")
        return box[0].strip()

    def say(self, text: str) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.write(text + "\n")
            self.proc.stdin.flush()

    def result(self, timeout: float) -> dict[str, Any]:
        return json.loads(self.line(timeout))

    def __enter__(self) -> Child:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


def _drill_origin_wall(events: Sequence[Any], factor: float) -> float:
    """The wall time (POSIX s) of drill offset 0, from DrillStarted's wall and t."""
    started = events[0]
    return iso_to_epoch(started.wall) - started.t / factor


# ------------------------------------------------------- figure 1: publish time
def _paced_drill(pace: str, factor: float, injects: int) -> dict[str, list[float]]:
    from gameday.journal import read_journal
    from gameday.model.events import FaultInjected, InjectPublished, PaceSet

    with tmpdir("tabletop") as work:
        sc = scenario(factor, _times(FIRST, GAP, injects))
        with Tabletop(work, sc, pace) as table:
            table.start()
            table.published(injects, FIRST + injects * GAP + 30)
            path = table.journal_path
        journal = read_journal(path)
    paced = journal.first(PaceSet)
    if paced is None or paced.data.factor is None or abs(paced.data.factor - factor) > 1e-9 * factor:
        raise RuntimeError(f"pace {pace}: the journal says {paced.data if paced else 'no pace'}")
    factor = paced.data.factor  # the clock's own
    origin = _drill_origin_wall(journal.events, factor)
    pubs = journal.of(InjectPublished)
    if len(pubs) != injects or any(p.data.by != "schedule" for p in pubs):
        raise RuntimeError(f"pace {pace}: {len(pubs)} of {injects} injects published by the schedule")
    late = [(p.t - (p.data.scheduled_t or 0.0)) / factor for p in pubs]
    wall = [iso_to_epoch(p.wall) - (origin + (p.data.scheduled_t or 0.0) / factor) for p in pubs]
    at = {f.id: f.at for f in sc.faults}
    fault = [(e.t - at[e.data.fault]) / factor for e in journal.of(FaultInjected)]
    return {"late": late, "wall": wall, "fault": fault}


def _manual_drill(injects: int) -> dict[str, list[float]]:
    from gameday.journal import read_journal
    from gameday.model.events import ActionRecorded, InjectPublished

    with tmpdir("tabletop") as work:
        # the fault goes in at the start: a 'next' with a fault on its way publishes only after the fault's
        # own events (each fsynced), which is not the inject's publication
        sc = scenario(1.0, _times(FIRST, GAP, injects), fault_at=0.0)
        with Tabletop(work, sc, "manual") as table:
            table.start()
            with Child("facilitator", {"url": table.url, "token": table.token, "count": injects, "gap": GAP}) as child:
                rows = child.result(injects * GAP + 60)["rows"]
            table.published(injects, 30)
            path = table.journal_path
        journal = read_journal(path)
    pub = {e.data.inject: e for e in journal.of(InjectPublished)}
    note = {e.seq: e for e in journal.of(ActionRecorded)}
    out: dict[str, list[float]] = {"late": [], "note": [], "rtt_next": [], "rtt_note": []}
    for r in rows:
        if r["status"] not in (200, 201, 202):
            raise RuntimeError(f"facilitator's {r['what']} refused: {r['status']} {r['body'][:200]}")
        if r["what"] == "next":
            ev = pub[json.loads(r["body"])["inject"]]
            if ev.data.by != "facilitator":
                raise RuntimeError(f"inject {ev.data.inject} published by {ev.data.by}, not by the facilitator's next")
            out["late"].append(iso_to_epoch(ev.wall) - r["send"])
            out["rtt_next"].append(r["done"] - r["send"])
        else:
            out["note"].append(iso_to_epoch(note[json.loads(r["body"])["seq"]].wall) - r["send"])
            out["rtt_note"].append(r["done"] - r["send"])
    return out


def _timer(injects: int) -> list[float]:
    """The baseline: a plain ``threading.Event.wait`` to deadlines ``GAP`` apart; lateness of each wake-up."""
    stop = threading.Event()
    t0 = time.monotonic()
    out = []
    for i in range(injects):
        due = t0 + FIRST + i * GAP
        stop.wait(max(0.0, due - time.monotonic()))
        out.append(time.monotonic() - due)
    return out


def publish_figure(repeats: int, injects: int) -> list[Result]:
    names = [*PACES, "timer"]
    pooled: dict[str, dict[str, list[float]]] = {n: {} for n in names}
    per_repeat: dict[str, list[float]] = {n: [] for n in names}  # each repeat's p99 (ms)
    for rep in range(repeats):
        order = names[rep % len(names):] + names[:rep % len(names)]
        for name in order:
            factor = PACES.get(name)
            if name == "timer":
                got = {"late": _timer(injects)}
            elif factor is None:
                got = _manual_drill(injects)
            else:
                got = _paced_drill(name, factor, injects)
            for k, v in got.items():
                pooled[name].setdefault(k, []).extend(v)
            per_repeat[name].append(summary(got["late"], 1e3)["p99"])
    s = {n: {k: summary(v, 1e3) for k, v in d.items()} for n, d in pooled.items()}
    print(f"inject publish time against its schedule ({repeats} repeat(s) x {injects} injects, {GAP * 1000:g} ms apart "
          "on the wall clock; paces interleaved):")
    for name in PACES:
        spread = _spread(per_repeat[name])
        if PACES[name] is None:
            print(fmt_summary("manual: InjectPublished.wall - 'next' sent", s[name]["late"]))
            print(fmt_summary("  baseline: ActionRecorded(note).wall - note sent", s[name]["note"]))
            print(fmt_summary("  'next' round trip (202 read)", s[name]["rtt_next"]))
            print(fmt_summary("  note round trip", s[name]["rtt_note"]))
        else:
            print(fmt_summary(f"{name}: (t - scheduled_t) / factor", s[name]["late"]))
            print(fmt_summary(f"  {name}: wall - wall the schedule implies", s[name]["wall"]))
            diff = max((abs(a - b) for a, b in zip(pooled[name]["late"], pooled[name]["wall"], strict=True)), default=0.0)
            print(f"    the two definitions differ by at most {diff * 1e3:.3f} ms on any inject")
            print(fmt_summary(f"  {name}: the simulated fault, (t - at) / factor", s[name]["fault"]))
        print(f"    p99 of each repeat: {spread}")
    print(fmt_summary("baseline: threading.Event.wait lateness", s["timer"]["late"]))
    print(f"    p99 of each repeat: {_spread(per_repeat['timer'])}")
    rows = []
    for name, factor in PACES.items():
        details = {"summaries_ms": s[name], "p99_per_repeat_ms": per_repeat[name], "repeats": repeats,
                   "injects": injects, "gap_s": GAP, "factor": factor}
        if factor is None:
            rows.append(Result("tabletop inject publish, pace manual: 'next' -> InjectPublished p99",
                               s[name]["late"]["p99"], "ms", TARGET_PUBLISH_MS, baseline=s[name]["note"]["p99"],
                               baseline_label="note POST -> ActionRecorded p99", details=details))
        else:
            details["timer_ms"] = s["timer"]["late"]
            rows.append(Result(f"tabletop inject publish lateness p99, pace {name}", s[name]["late"]["p99"], "ms",
                               TARGET_PUBLISH_MS, baseline=s["timer"]["late"]["p99"],
                               baseline_label="Event.wait timer p99", details=details))
    return rows


def _spread(values: Sequence[float]) -> str:
    if not values:
        return "-"
    med = statistics.median(values)
    return f"median {med:.3f} ms, min {min(values):.3f}, max {max(values):.3f} ({', '.join(f'{v:.3f}' for v in values)})"


# ------------------------------------------------------ figure 2: 50 participants
def _fanout_drill(stream_injects: int, page_injects: int) -> tuple[dict[str, list[float]], list[str], int]:
    """One tabletop at pace real with 50 participants connected: ``stream_injects`` injects FANOUT_GAP apart
    (clients only read their streams), then ``page_injects`` PAGE_GAP apart (each client also fetches
    /api/state on each message); a no-op note half a gap after each inject."""
    from gameday.journal import read_journal
    from gameday.model.events import ActionRecorded, InjectPublished

    times_a = _times(FANOUT_FIRST, FANOUT_GAP, stream_injects)
    times_b = _times(times_a[-1] + PAGE_GAP, PAGE_GAP, page_injects)
    gaps = [FANOUT_GAP] * stream_injects + [PAGE_GAP] * page_injects
    with tmpdir("tabletop-fanout") as work:
        with Tabletop(work, scenario(1.0, times_a + times_b), "real") as table:
            tokens = []
            with table.client() as c:
                for i in range(PARTICIPANTS):
                    r = c.post("/api/responders", json={"person": f"participant-{i:02d}"})
                    if r.status_code != 201:
                        raise RuntimeError(f"invite: {r.status_code} {r.text[:200]}")
                    tokens.append(r.json()["token"])
            with Child("streams", {"url": table.url, "tokens": tokens}) as child:
                ready = child.line(60)
                if ready != f"READY {PARTICIPANTS}":
                    raise RuntimeError(f"the participants' streams did not open (said {ready!r})")
                table.start()
                conductor = table.drill.conductor
                origin = _drill_origin_wall(table.drill.journal.events, 1.0)
                notes: list[int] = []
                size = 0
                for i, (at, gap) in enumerate(zip(times_a + times_b, gaps, strict=True)):
                    if i == stream_injects:  # the page phase: after the last note of the first, before its inject
                        _sleep_until(origin + times_a[-1] + 0.75 * FANOUT_GAP)
                        child.say("PAGE")
                        size = len(table.drill.journal.events)
                    _sleep_until(origin + at + gap / 2)
                    ev = conductor.record(ActionRecorded(action="note", author="bench", text=f"no-op {i}"), "bench")
                    notes.append(ev.seq)
                table.published(stream_injects + page_injects, 30)
                time.sleep(0.2)
                child.say("STOP")  # it waits for the fetches still in flight (up to 20 s), then reports
                got = child.result(60)
            path = table.journal_path
        journal = read_journal(path)
    wall = {e.seq: iso_to_epoch(e.wall) for e in journal.events}
    from gameday.web.state import player_numbers

    # a player's stream numbers the events players may see (no gaps where hidden ones were): back to seqs
    seq_of = {n: seq for seq, n in player_numbers(journal.events).items()}
    got["messages"] = [(c, seq_of.get(n, -1), kind, at) for c, n, kind, at in got["messages"]]
    got["pages"] = [(c, seq_of.get(n, -1), kind, at) for c, n, kind, at in got["pages"]]
    pubs = [e.seq for e in journal.of(InjectPublished)]
    phase_a = set(pubs[:stream_injects]) | set(notes[:stream_injects])
    phase_b = set(pubs[stream_injects:]) | set(notes[stream_injects:])
    out: dict[str, list[float]] = {"inject": [], "noop": [], "inject_page": [], "noop_page": []}
    per_event: dict[int, list[float]] = {}
    for _client, seq, kind, received in got["messages"]:
        if seq in phase_a:
            out["inject" if kind == "InjectPublished" else "noop"].append(received - wall[seq])
            per_event.setdefault(seq, []).append(received - wall[seq])
    for seq, lags in per_event.items():  # per event: its first client, and its last (all 50 have it)
        which = "inject" if seq in pubs else "noop"
        out.setdefault(f"{which}_first", []).append(min(lags))
        out.setdefault(f"{which}_all", []).append(max(lags))
    for _client, seq, kind, shown in got["pages"]:
        if seq in phase_b:
            out["inject_page" if kind == "InjectPublished" else "noop_page"].append(shown - wall[seq])
    for key, n in (("inject", stream_injects), ("noop", stream_injects)):
        if len(out[key]) != PARTICIPANTS * n:
            raise RuntimeError(f"{len(out[key])} of {PARTICIPANTS * n} {key} stream messages received")
    errors = list(got.get("page_errors", []))
    for key, n in (("inject_page", page_injects), ("noop_page", page_injects)):
        if len(out[key]) != PARTICIPANTS * n:
            errors.append(f"{PARTICIPANTS * n - len(out[key])} of {PARTICIPANTS * n} {key} fetches missing")
    return out, errors, size


def _sleep_until(epoch: float) -> None:
    time.sleep(max(0.0, epoch - time.time()))


def fanout_figure(drills: int, injects: int, page_injects: int) -> list[Result]:
    pooled: dict[str, list[float]] = {}
    per_drill: dict[str, list[float]] = {"inject": [], "noop": []}
    page_errors: list[str] = []
    journal_sizes: list[int] = []
    for _ in range(drills):
        got, errors, size = _fanout_drill(injects, page_injects)
        page_errors += errors
        journal_sizes.append(size)
        for k, v in got.items():
            pooled.setdefault(k, []).extend(v)
        for k in per_drill:
            per_drill[k].append(summary(got[k], 1e3)["p99"])
    s = {k: summary(v, 1e3) for k, v in pooled.items()}
    print(f"an inject on {PARTICIPANTS} participants' streams ({drills} drill(s) x {injects} injects "
          f"{FANOUT_GAP * 1000:g} ms apart, a no-op note between each two; latency from the event's wall):")
    print(fmt_summary("InjectPublished -> stream message, all clients", s["inject"]))
    print(f"    p99 of each drill: {_spread(per_drill['inject'])}")
    print(fmt_summary("  per inject: its first client", s["inject_first"]))
    print(fmt_summary("  per inject: its last client (all 50 have it)", s["inject_all"]))
    print(fmt_summary("baseline: no-op note -> stream message", s["noop"]))
    print(f"    p99 of each drill: {_spread(per_drill['noop'])}")
    print(fmt_summary("  per note: its first client", s["noop_first"]))
    print(fmt_summary("  per note: its last client", s["noop_all"]))
    print(fmt_summary("page: InjectPublished -> GET /api/state read", s["inject_page"]))
    print(fmt_summary("  baseline: no-op note -> GET /api/state read", s["noop_page"]))
    if page_errors:
        print(f"  page fetches that failed: {len(page_errors)}, e.g. {page_errors[0]}")
    print(f"  (journal events when the page phase began, per drill: {journal_sizes})")
    details = {"summaries_ms": s, "p99_per_drill_ms": per_drill, "drills": drills, "injects": injects,
               "page_injects": page_injects, "participants": PARTICIPANTS, "gap_s": FANOUT_GAP, "page_gap_s": PAGE_GAP,
               "journal_events_at_page_phase": journal_sizes, "page_error_count": len(page_errors),
               "page_errors": page_errors[:20]}
    return [
        Result(f"inject visible to {PARTICIPANTS} participants (its stream message, shown at once) p99",
               s["inject"]["p99"], "ms", TARGET_FANOUT_MS,
               baseline=s["noop"]["p99"], baseline_label="no-op broadcast p99", details=details),
    ]  # the full state refresh of all 50 pages (supplementary, printed above) has no target of its own


# -------------------------------------------------------------------- run
def run(quick: bool = False, repeats: int | None = None, injects: int | None = None,
        fanout_drills: int | None = None) -> list[Result]:
    repeats = repeats or (1 if quick else 3)
    injects = injects or (20 if quick else 40)
    fanout_drills = fanout_drills or (1 if quick else 3)
    fanout_injects = 10 if quick else 20
    page_injects = 3 if quick else 6
    rows: list[Result] = []
    try:
        rows += publish_figure(repeats, injects)
    except Exception as exc:  # noqa: BLE001 - a broken benchmark is a FAIL row, not a crash
        rows.append(failed("tabletop inject publish lateness p99", "ms", TARGET_PUBLISH_MS, exc))
    print()
    try:
        rows += fanout_figure(fanout_drills, fanout_injects, page_injects)
    except Exception as exc:  # noqa: BLE001
        rows.append(failed(f"inject on {PARTICIPANTS} participants' streams p99", "ms", TARGET_FANOUT_MS, exc))
    return rows


# ----------------------------------------------------------- child processes
def _child_facilitator(cfg: dict[str, Any]) -> None:
    """The facilitator's page at the manual pace: ``next``, then half a gap later a note, ``count`` times."""
    import httpx

    rows = []
    with httpx.Client(base_url=cfg["url"], headers={"Authorization": f"Bearer {cfg['token']}"}, timeout=30) as c:
        c.get("/api/me")  # the connection is open (a page's is)
        for i in range(cfg["count"]):
            for what, path, body in (("next", "/api/exercise/next", {}), ("note", "/api/actions/note", {"text": f"n{i}"})):
                time.sleep(cfg["gap"] / 2)
                send = time.time()
                r = c.post(path, json=body)
                rows.append({"what": what, "send": send, "done": time.time(), "status": r.status_code, "body": r.text})
    print(json.dumps({"rows": rows}), flush=True)


def _child_streams(cfg: dict[str, Any]) -> None:
    """The participants: one httpx.AsyncClient each, holding ``/api/stream`` open; every message's receipt time."""
    import asyncio

    import httpx

    messages: list[tuple[int, int, str, float]] = []
    pages: list[tuple[int, int, str, float]] = []
    page_errors: list[str] = []
    mode = {"page": False}
    fetches: set = set()

    async def fetch(c: httpx.AsyncClient, i: int, seq: int, kind: str) -> None:
        try:
            r = await c.get("/api/state")
            r.raise_for_status()
            pages.append((i, seq, kind, time.time()))
        except Exception as exc:  # noqa: BLE001 - counted
            page_errors.append(f"{type(exc).__name__}: {exc}")

    async def one(i: int, token: str, hello: asyncio.Queue) -> None:
        async with httpx.AsyncClient(base_url=cfg["url"], headers={"Authorization": f"Bearer {token}"},
                                     timeout=httpx.Timeout(30, read=None)) as c, c.stream("GET", "/api/stream") as r:
            async for line in r.aiter_lines():
                if line.startswith("data: {") and '"kind"' in line:
                    now = time.time()
                    d = json.loads(line[6:])
                    # an inject's message carries what the page shows of it (rendered at once by room.js)
                    if d["kind"] == "InjectPublished" and not (d.get("inject") or {}).get("subject"):
                        page_errors.append(f"inject message {d['seq']} without its content")
                    messages.append((i, d["seq"], d["kind"], now))
                    if mode["page"]:
                        t = asyncio.create_task(fetch(c, i, d["seq"], d["kind"]))
                        fetches.add(t)
                        t.add_done_callback(fetches.discard)
                elif line.startswith("event: hello"):
                    hello.put_nowait(i)
                elif line.startswith("event: bye"):
                    return

    async def main() -> None:
        loop = asyncio.get_running_loop()
        hello: asyncio.Queue = asyncio.Queue()
        streams = [asyncio.create_task(one(i, tok, hello)) for i, tok in enumerate(cfg["tokens"])]
        for _ in streams:
            await asyncio.wait_for(hello.get(), 60)
        print(f"READY {len(streams)}", flush=True)
        while True:
            line = (await loop.run_in_executor(None, sys.stdin.readline)).strip()
            if line == "PAGE":
                mode["page"] = True
            elif line in ("STOP", ""):
                break
        if fetches:
            await asyncio.wait(set(fetches), timeout=20)
        for t in [*streams, *fetches]:
            t.cancel()
        await asyncio.gather(*streams, return_exceptions=True)

    asyncio.run(main())
    print(json.dumps({"messages": messages, "pages": pages, "page_errors": page_errors}), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeats", type=int, help="figure 1: repeats of every pace")
    ap.add_argument("--injects", type=int, help="figure 1: injects per drill")
    ap.add_argument("--fanout-drills", type=int, help="figure 2: drills with 50 participants")
    ap.add_argument("--child", choices=["facilitator", "streams"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        cfg = json.loads(sys.stdin.readline())
        (_child_facilitator if args.child == "facilitator" else _child_streams)(cfg)
        return
    report(run(args.quick, args.repeats, args.injects, args.fanout_drills), name="tabletop")


if __name__ == "__main__":
    main()
