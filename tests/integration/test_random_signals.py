"""Drills stopped at random points of every phase by SIGINT, SIGTERM or SIGKILL, then ``gameday recover``.

Real ``gameday run --mode ci`` drills of ``scenarios/checkout-db-primary-failure.yaml`` against the
embedded demo (started once with ``gameday demo up``; each drill attaches to it), each in its own
process group, stopped by PID (never by name). The kill points are drawn from a seed:
``GAMEDAY_SIGNAL_SEED`` (default below), printed with every kill and in every failure, so a failing
plan replays exactly. Under ``make test`` each phase gets one kill (each signal twice in all); under
``make fuzz`` (``GAMEDAY_FUZZ=long``) each phase gets every signal ``GAMEDAY_SIGNAL_ROUNDS`` times (2).

The phases: setup (before the journal's first event), baseline, after injection, during response
(after detection, while people and the runbook act), during rollback, while writing reports.

After each kill:

* SIGINT/SIGTERM: exit 3 (aborted) — or 0/1 if the drill had already ended (its reports are then
  being written and a signal no longer cuts them short), or the signal's own death in the first
  fraction of a second, before gameday's handlers are in and anything is started — within a few
  seconds, no traceback; if the drill had started, every report is written whole;
* SIGKILL: whatever files exist are whole (reports are written atomically);
* ``gameday recover`` exits 0, after which the ledger is clear (a second recover says so);
* the demo is healthy: every process alive, a primary, the catalog up, checkout's ``/health`` 200;
* every journal still reads and scores, and its postmortem renders.

``test_run_abort.py`` holds the fixed-point signal tests (SIGINT and SIGTERM mid-fault, ``kill -9``
then recover, a signal while the demo starts); this module adds the random points across the phases.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "run"))
from drillkit import SCENARIOS, Workspace, http_get, http_json, kinds, read_events, wait_for

pytestmark = pytest.mark.integration

SCENARIO = SCENARIOS / "checkout-db-primary-failure.yaml"
SEED = int(os.environ.get("GAMEDAY_SIGNAL_SEED", "20261206"))
LONG = os.environ.get("GAMEDAY_FUZZ", "").strip().lower() == "long"
ROUNDS = int(os.environ.get("GAMEDAY_SIGNAL_ROUNDS", "2"))
PHASES = ("setup", "baseline", "after injection", "during response", "during rollback", "while writing reports")
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGKILL)
EXIT_WITHIN = 15.0  # generous: the abort itself is measured elsewhere; this is a shared 2-CPU machine


@dataclass(frozen=True)
class Kill:
    n: int
    phase: str
    sig: signal.Signals
    fraction: float  # where in the phase's window the signal goes (0..1), drawn from the seed

    @property
    def id(self) -> str:
        return f"{self.n:02d}-{self.phase.replace(' ', '-')}-{self.sig.name}"


def plan(seed: int) -> list[Kill]:
    """The kills, drawn from ``seed``: one per phase (signals dealt so each comes twice), or under
    ``make fuzz`` every signal in every phase ``ROUNDS`` times, in a shuffled order."""
    rng = random.Random(seed)
    if LONG:
        pairs = [(p, s) for p in PHASES for s in SIGNALS for _ in range(ROUNDS)]
        rng.shuffle(pairs)
    else:
        dealt = list(SIGNALS) * 2
        rng.shuffle(dealt)
        pairs = list(zip(PHASES, dealt, strict=True))
    return [Kill(i + 1, p, s, rng.random()) for i, (p, s) in enumerate(pairs)]


PLAN = plan(SEED)


def where(kill: Kill) -> str:
    return f"[GAMEDAY_SIGNAL_SEED={SEED} kill {kill.id} at {kill.fraction:.3f} of its window]"


@pytest.fixture(scope="module")
def demo(module_workspace_factory):
    """One workspace with the demo up (``gameday demo up``); every drill of the plan attaches to it."""
    ws: Workspace = module_workspace_factory("signals")
    done = ws.run("demo", "up", timeout=60)
    assert done.returncode == 0, done
    state = ws.demo_state()
    assert state is not None, done
    print(f"\nsignals plan (GAMEDAY_SIGNAL_SEED={SEED}): " + ", ".join(k.id for k in PLAN))
    yield ws
    down = ws.run("demo", "down", timeout=60)
    assert down.returncode == 0, down


def journal_phase(events: list[dict]) -> str:
    """Where a drill is by its journal: setup (no event yet), a conductor phase, or report (after DrillEnded)."""
    if not events:
        return "setup"
    if events[-1]["kind"] == "DrillEnded" or "DrillEnded" in kinds(events):
        return "report"
    phases = [e["data"]["phase"] for e in events if e["kind"] == "PhaseChanged"]
    return phases[-1] if phases else "preflight"


def wait_until(journal: Path, proc, predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate(read_events(journal)):
            return
        if proc.poll() is not None:
            raise AssertionError(f"the drill exited ({proc.returncode}) before {what}; journal: {kinds(read_events(journal))}")
        time.sleep(0.002)
    raise AssertionError(f"no {what} within {timeout:g}s; journal: {kinds(read_events(journal))}")


def has(kind: str, **data):
    return lambda events: any(e["kind"] == kind and all(e["data"].get(k) == v for k, v in data.items()) for e in events)


#: phase -> (what marks its start in the journal, seconds of the window after it in which the signal goes)
ENTRY = {
    "setup": (None, 0.8),  # from gameday's signal policy (see catches_sigterm) to ~the first event; at once if the journal starts first
    "baseline": (has("PhaseChanged", phase="baseline"), 3.0),
    "after injection": (has("FaultInjected"), 1.0),
    "during response": (has("DetectionRecorded"), 4.0),
    "during rollback": (has("PhaseChanged", phase="rollback"), 0.02),
    "while writing reports": (has("DrillEnded"), 0.03),  # the reports take ~50 ms
}


def catches_sigterm(pid: int) -> bool:
    """Whether process ``pid`` has a handler for SIGTERM (``SigCgt`` in /proc/PID/status): ``gameday run``
    installs its signal policy first thing (:class:`gameday.drill.play.ProcessSignals`). A signal before
    that lands in the Python interpreter's own start-up (importing ``site``), which no program can
    handle, so the setup window starts here."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    caught = next((line.split()[1] for line in status.splitlines() if line.startswith("SigCgt:")), "0")
    return bool(int(caught, 16) & (1 << (signal.SIGTERM - 1)))


def stop_at(ws: Workspace, kill: Kill, out: Path):
    """Start a drill, wait for the kill's phase and a drawn part of its window, send the signal by PID.
    Returns (process, the phase the journal showed when the signal went, or None if the drill had
    already exited: its last ~50 ms, writing the reports, can be over before the signal goes)."""
    journal = out / "journal.jsonl"
    drill = ws.spawn("run", str(SCENARIO), "--mode", "ci", "--out", str(out))
    marker, window = ENTRY[kill.phase]
    delay = kill.fraction * window
    if marker is None:  # the window opens once gameday's own code runs, not during the interpreter's start-up
        handled = time.monotonic() + 30
        while not catches_sigterm(drill.pid) and drill.proc.poll() is None and time.monotonic() < handled:
            time.sleep(0.002)
        deadline = time.monotonic() + delay
        while time.monotonic() < deadline and not read_events(journal) and drill.proc.poll() is None:
            time.sleep(0.005)
    else:
        wait_until(journal, drill.proc, marker, 60, f"the {kill.phase} phase")
        time.sleep(delay)
    shown = journal_phase(read_events(journal))
    if drill.proc.poll() is not None:
        return drill, None
    os.kill(drill.pid, kill.sig)
    return drill, shown


def assert_whole_reports(out: Path, kill: Kill, *, all_of_them: bool) -> None:
    """Each report that exists is whole (atomic writes); with ``all_of_them``, every report exists."""
    from xml.etree import ElementTree

    names = ["scorecard.json", "scorecard.md", "postmortem.md", "postmortem.html", "junit.xml"]
    for name in names:
        path = out / name
        if not path.exists():
            assert not all_of_them, f"{where(kill)} {name} was not written"
            continue
        text = path.read_text(encoding="utf-8")
        assert text.strip(), f"{where(kill)} {name} is empty"
        if name == "scorecard.json":
            json.loads(text)
        elif name == "junit.xml":
            ElementTree.fromstring(text)
        elif name == "postmortem.html":
            assert text.rstrip().endswith("</html>"), f"{where(kill)} postmortem.html is cut short"
    left = sorted(p.name for p in out.glob(".*") if p.is_file())
    if left:
        print(f"{where(kill)} temporary files left beside the reports: {left}")


def assert_demo_healthy(ws: Workspace, kill: Kill) -> None:
    state = ws.demo_state()
    assert state is not None, f"{where(kill)} the demo's state file is gone"
    url, control = state["url"], state["control_url"]
    last: dict = {}

    def healthy() -> bool:
        nonlocal last
        status, body = http_json("GET", f"{control}/status")
        last = body if isinstance(body, dict) else {"status": status}
        if status != 200 or not isinstance(body, dict):
            return False
        procs = body.get("processes", {})
        primary = body.get("primary")
        return (all(p.get("alive") for p in procs.values()) and primary in procs
                and procs[primary].get("role") == "primary" and body.get("catalog") == "ok"
                and http_get(f"{url}/health")[0] == 200)

    assert wait_for(healthy, 20, 0.1), f"{where(kill)} the demo is not healthy after recover: {last}"


def assert_journal_scores(journal: Path, kill: Kill) -> None:
    import gameday

    if not journal.exists() or journal.stat().st_size == 0:
        return  # stopped before the drill's first event: there is no journal to score
    j = gameday.read_journal(journal)
    card = gameday.score(j)
    gameday.render_scorecard(card, "json")
    gameday.render_postmortem(j, card, "md")


@pytest.mark.parametrize("kill", PLAN, ids=[k.id for k in PLAN])
def test_a_drill_stopped_at_a_random_point_recovers(demo, kill):
    ws = demo
    print(where(kill))  # shown with any failure of this test, whatever raised it
    out = ws.cwd / f"out-{kill.id}"
    started = time.monotonic()
    drill, shown = stop_at(ws, kill, out)
    try:
        code = drill.wait(EXIT_WITHIN if kill.sig != signal.SIGKILL else 5)
    finally:
        drill.close()
    events = read_events(out / "journal.jsonl")
    print(f"{where(kill)} signal in journal phase {shown!r}; exit {code}; {len(events)} events; "
          f"{time.monotonic() - started:.1f}s")
    context = f"{where(kill)} (journal phase {shown!r}, exit {code})\n{drill.output()[-3000:]}"
    assert "Traceback" not in drill.stderr, context

    if shown is None:  # the drill finished before the signal went: it must simply have ended well
        assert code in (0, 1), context
        assert_whole_reports(out, kill, all_of_them=True)
    elif kill.sig == signal.SIGKILL:
        assert code == -signal.SIGKILL, context
        assert_whole_reports(out, kill, all_of_them=False)
    else:
        ended = [e for e in events if e["kind"] == "DrillEnded"]
        if not events:  # stopped in set-up: exit 3; or, before gameday's handlers are in (the interpreter and
            # the CLI still starting: nothing is started yet), the signal's own death
            assert code in (3, -kill.sig), context
            assert ws.ledger_entries() == [], context
        elif "DrillAborted" in kinds(events):
            assert code == 3, context
        else:
            assert code in (0, 1, 3), context
            assert ended and ended[-1]["data"]["outcome"] == ("aborted" if code == 3 else "completed"), context
        if events:
            assert ended, f"{context}\nno DrillEnded: {kinds(events)}"
            assert_whole_reports(out, kill, all_of_them=True)

    recovered = ws.run("recover", timeout=90)
    assert recovered.returncode == 0, f"{where(kill)}\n{recovered}"
    assert "Traceback" not in recovered.stderr, f"{where(kill)}\n{recovered}"
    assert ws.ledger_entries() == [], f"{where(kill)} the ledger is not clear after recover: {ws.ledger_entries()}"
    again = ws.run("recover", timeout=60)
    assert again.returncode == 0 and "ledger is clear" in again.stdout, f"{where(kill)}\n{again}"
    assert_demo_healthy(ws, kill)
    for journal in sorted(ws.cwd.glob("out-*/journal.jsonl")):
        assert_journal_scores(journal, kill)
