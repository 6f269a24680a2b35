"""Load during real drills: locust (a subprocess) against the demo shop, impact in the scorecard.

* the database drill under load: failed checkouts in the impact window and none in the
  baseline; the revenue estimate recomputed by hand from the journal; charts beside the
  postmortem; no locust process left;
* locust killed mid-drill: the drill completes, the impact is marked unknown;
* locust's distributed mode: a master and two workers on loopback;
* start-up failures (a host that does not answer, a locustfile that fails on import) are
  journaled load failures, quickly, with nothing left running.

Few users (8) and short drills: the whole module takes about a minute on 2 cores.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "run"))
from drillkit import (
    ROOT,
    SCENARIOS,
    Workspace,
    assert_no_demo_left,
    first,
    kinds,
    pids_with_token,
    proc_alive,
    read_events,
    skip_without_locust,
    wait_for,
    wait_for_event,
)

from gameday.journal import events_of
from gameday.model.cpus import resolve
from gameday.model.events import Event, LoadFailed, LoadStarted, Payload

pytestmark = pytest.mark.integration


skip_without_locust()

LOAD_FIXTURES = ROOT / "tests" / "fixtures" / "load"
SCENARIO = SCENARIOS / "checkout-db-primary-failure-load.yaml"
CHARTS = {"load-requests.png", "load-errors.png", "load-latency.png"}
NOOP = {"type": "action", "name": "noop", "provider": {"type": "process", "path": "true"}}


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def locust_left(ws: Workspace) -> list[str]:
    """Live locust processes started for this workspace's drills (they inherit its token)."""
    wait_for(lambda: not [p for p in pids_with_token(ws.token) if "locust" in _cmdline(p)], 5.0)
    return [f"{p}: {_cmdline(p)}" for p in pids_with_token(ws.token) if "locust" in _cmdline(p)]


@pytest.fixture(scope="module")
def db_drill(module_workspace_factory):
    ws = module_workspace_factory("load-db")
    done = ws.run("run", str(SCENARIO), "--mode", "ci", "--out", "out", timeout=90)
    return SimpleNamespace(ws=ws, done=done, out=ws.cwd / "out")


def quick_copy(ws: Workspace) -> Path:
    """The shipped load scenario with the scripted people of ``db-failure-quick.responders.yaml`` (the same
    actions, shorter delays: every step still on time) written into the workspace, its paths made absolute."""
    text = SCENARIO.read_text(encoding="utf-8")
    for old, new in (("experiment: experiments/", f"experiment: {ROOT}/experiments/"),
                     ("responders: responders/checkout-db-primary-failure-load.ci.yaml",
                      f"responders: {LOAD_FIXTURES}/db-failure-quick.responders.yaml")):
        assert old in text, old
        text = text.replace(old, new)
    path = ws.cwd / SCENARIO.name
    path.write_text(text, encoding="utf-8")
    return path


def stats_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e["kind"] == "LoadStats"]


# ------------------------------------------------------------------------------ the drill


def test_drill_under_load_completes_and_journals_the_load(db_drill) -> None:
    d = db_drill
    assert d.done.returncode == 0, d.done
    assert "Traceback" not in d.done.stderr, d.done
    events = read_events(d.out / "journal.jsonl")
    order = kinds(events)
    started, stopped = first(events, "LoadStarted"), first(events, "LoadStopped")
    assert order.index("LoadStarted") > order.index("PhaseChanged")  # in the baseline phase
    assert first(events, "PhaseChanged", phase="baseline")["seq"] < started["seq"]
    assert started["data"]["users"] == 8 and started["data"]["workers"] == 0
    assert started["data"]["business"]["customer_facing"] == ["checkout"]
    placed = resolve("auto", os.sched_getaffinity(0))  # load.cpus: auto (tests/integration/test_load_affinity.py)
    assert (started["data"]["cpus"], started["data"]["cpus_note"]) == (placed.label, placed.note)
    assert "LoadFailed" not in order
    assert stopped["seq"] > first(events, "PhaseChanged", phase="rollback")["seq"]
    stats = stats_events(events)
    assert len(stats) >= 10
    assert all(e["seq"] < stopped["seq"] for e in stats)
    totals = stopped["data"]["totals"]  # locust's own final figures agree with the per-second stats
    for name in ("browse", "cart", "checkout"):
        assert sum(e["data"]["names"].get(name, {}).get("requests", 0) for e in stats) == pytest.approx(
            totals[name]["requests"], abs=8)  # requests in flight when locust quit
    assert locust_left(d.ws) == []
    assert_no_demo_left(d.ws)


def test_failed_checkouts_in_the_impact_window_not_in_the_baseline(db_drill) -> None:
    events = read_events(db_drill.out / "journal.jsonl")
    injected = first(events, "FaultInjected")["t"]
    recovered = first(events, "RecoveryObserved")["t"]
    stats = stats_events(events)
    before = [e["data"] for e in stats if e["data"]["t_to"] <= injected]
    during = [e["data"] for e in stats if e["data"]["t_to"] > injected and e["data"]["t_from"] < recovered]
    assert len(before) >= 4 and during

    def failed(rows, name):
        return sum(r["names"].get(name, {}).get("failures", 0) for r in rows)

    assert sum(r["names"].get("checkout", {}).get("requests", 0) for r in before) > 0
    assert failed(before, "checkout") == 0 and failed(before, "browse") == 0
    assert failed(during, "checkout") > 0
    card = json.loads((db_drill.out / "scorecard.json").read_text())
    impact = card["impact"]
    assert impact["status"] == "measured" and impact["unknown"] == []
    assert impact["baseline"]["customer_facing"]["failures"] == 0
    assert impact["during"]["customer_facing"]["failures"] == failed(during, "checkout")
    assert impact["peak_customer_facing_error_rate"] > 0 and impact["degraded_seconds"] > 0


def test_revenue_estimate_matches_a_hand_computation_from_the_journal(db_drill) -> None:
    """Recompute the estimate from the raw journal lines, independently of gameday.analysis.impact."""
    events = read_events(db_drill.out / "journal.jsonl")
    injected = first(events, "FaultInjected")["t"]
    recovered = first(events, "RecoveryObserved")["t"]
    rows = [e["data"] for e in stats_events(events)]
    before = [r for r in rows if r["t_to"] <= injected]
    top = max(r["users"] for r in before)
    base = [r for r in before if r["users_from"] == top == r["users"]]
    during = [r for r in rows if r["t_to"] > injected and r["t_from"] < recovered]

    def ok(r):
        c = r["names"].get("checkout", {"requests": 0, "failures": 0})
        return c["requests"] - c["failures"]

    def user_s(r):
        return (r["users_from"] + r["users"]) / 2 * (r["t_to"] - r["t_from"])

    base_ok, base_s = sum(map(ok, base)), sum(r["t_to"] - r["t_from"] for r in base)
    value = 10000 / 60 / (base_ok / base_s)
    expected = base_ok / sum(map(user_s, base)) * sum(map(user_s, during))
    lost = value * max(0.0, expected - sum(map(ok, during)))
    revenue = json.loads((db_drill.out / "scorecard.json").read_text())["impact"]["revenue"]
    assert revenue["lost_drill_clock"] == pytest.approx(lost, abs=0.01)
    # the scenario is time-scaled (policy.scale 0.016667): the loss is priced on its incident clock
    assert revenue["scale"] == 0.016667 and revenue["lost"] == pytest.approx(lost / 0.016667, abs=0.01)
    assert revenue["actual_successes"] == sum(map(ok, during))
    failed = sum(r["names"].get("checkout", {"failures": 0})["failures"] for r in during)
    # money is lost when checkouts failed in the window (a failover within a second may fail none: nothing lost)
    assert (revenue["lost"] > 0) == (failed > 0 and lost > 0) and "revenue_per_minute ÷ 60" in revenue["formula"]


def test_postmortem_has_the_impact_and_the_charts(db_drill) -> None:
    out = db_drill.out
    assert {p.name for p in out.iterdir()} >= CHARTS
    assert all((out / name).read_bytes().startswith(b"\x89PNG") for name in CHARTS)
    md = (out / "postmortem.md").read_text()
    assert "Estimated revenue lost: $" in md and "not measured in this drill" not in md
    assert all(f"]({name})" in md for name in CHARTS)
    html = (out / "postmortem.html").read_text()
    assert html.count('src="data:image/png;base64,') == 3
    scorecard = json.loads((out / "scorecard.json").read_text())
    assert scorecard["impact"]["revenue"]["currency"] == "USD"


# ---------------------------------------------------------------------- locust killed


def test_locust_killed_mid_drill_the_drill_completes_with_impact_unknown(workspace: Workspace) -> None:
    drill = workspace.spawn("run", str(quick_copy(workspace)), "--mode", "ci", "--out", "out")
    journal = workspace.cwd / "out" / "journal.jsonl"
    wait_for_event(journal, "LoadStats", drill.proc, timeout=30)
    pid = first(read_events(journal), "LoadStarted")["data"]["pids"]["standalone"]
    os.kill(pid, signal.SIGKILL)
    code = drill.wait(90)
    assert code == 0, drill.output()
    events = read_events(journal)
    failed = first(events, "LoadFailed")
    assert failed["data"]["exit_code"] == -9 and "SIGKILL" in failed["data"]["error"]
    assert "LoadStopped" not in kinds(events) and kinds(events)[-1] == "DrillEnded"
    assert failed["seq"] < first(events, "FaultInjected")["seq"]
    impact = json.loads((workspace.cwd / "out" / "scorecard.json").read_text())["impact"]
    assert impact["status"] == "unknown" and impact["revenue"] is None
    assert impact["unknown"][0]["to_t"] is None and "SIGKILL" in impact["unknown"][0]["reason"]
    md = (workspace.cwd / "out" / "postmortem.md").read_text()
    assert "Customers affected and revenue impact: unknown" in md
    assert locust_left(workspace) == []


# ---------------------------------------------------------------------- distributed mode


def test_distributed_mode_master_and_two_workers(workspace: Workspace) -> None:
    done = workspace.run("run", str(LOAD_FIXTURES / "db-failure-workers.yaml"), "--mode", "ci", "--out", "out", timeout=90)
    assert done.returncode == 0, done
    events = read_events(workspace.cwd / "out" / "journal.jsonl")
    started = first(events, "LoadStarted")
    assert set(started["data"]["pids"]) == {"master", "worker-1", "worker-2"} and started["data"]["workers"] == 2
    stats = stats_events(events)
    assert max(e["data"]["users"] for e in stats) == 8  # the master's count: all workers' users
    assert sum(e["data"]["names"].get("checkout", {}).get("requests", 0) for e in stats) > 0
    stopped = first(events, "LoadStopped")
    assert set(stopped["data"]["exit_codes"]) == {"master", "worker-1", "worker-2"}
    assert json.loads((workspace.cwd / "out" / "scorecard.json").read_text())["impact"]["status"] == "measured"
    assert locust_left(workspace) == []
    for pid in started["data"]["pids"].values():
        assert not proc_alive(pid)


# ---------------------------------------------------------------------- start-up failures


class _Conductor:
    def __init__(self) -> None:
        self.phase_listeners: list = []


def _service(tmp_path: Path, locustfile: str, host: str):
    from gameday.clock import SystemClock
    from gameday.journal import JournalWriter
    from gameday.load.service import service_for
    from gameday.model.events import DrillStarted
    from gameday.model.policy import DEFAULT_POLICY
    from gameday.model.scenario import Scenario

    sc = Scenario.model_validate({
        "apiVersion": "gameday/v1", "id": "load-start", "title": "t", "severity": "SEV3", "target": {"url": host},
        "steady_state": [{"name": "h", "http": {"url": "{target.url}/"}}],
        "faults": [{"id": "f", "at": "5s", "activities": [NOOP], "rollbacks": [NOOP]}],
        "detection": {"within": "10s"}, "recovery": {"within": "10s"}, "abort": {"max_duration": "30s"},
        "load": {"locustfile": locustfile, "users": 1, "spawn_rate": 1},
    })  # fmt: skip
    journal = JournalWriter(tmp_path / "journal.jsonl", SystemClock(), fsync=False)
    journal.append(DrillStarted(drill_id="d", mode="ci", scenario=sc, policy=DEFAULT_POLICY), "conductor")
    ctx = SimpleNamespace(scenario=sc, loaded=SimpleNamespace(base_dir=LOAD_FIXTURES, project_root=ROOT, locustfile=None),
                          project=SimpleNamespace(config=SimpleNamespace(business=None)), mode="ci", drill_id="d",
                          state_dir=tmp_path / "state", target_url=host, conductor=_Conductor(), journal=journal,
                          options={}, echo=lambda line: None)
    service = service_for(ctx)
    service.start()
    return service, journal


def _play(service, journal, until: type[Payload], timeout: float = 20.0) -> list[Event[Payload]]:
    started = time.monotonic()
    try:
        for listener in service.ctx.conductor.phase_listeners:
            listener("baseline")
        assert wait_for(lambda: any(isinstance(e.data, until) for e in journal.events), timeout), [e.kind for e in journal.events]
    finally:
        service.stop()  # always: every locust process group it started is killed
        journal.close()
    assert time.monotonic() - started < timeout
    return journal.events


def test_host_that_does_not_answer_is_a_journaled_load_failure(tmp_path: Path) -> None:
    with socket.socket() as s:  # a free port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    service, journal = _service(tmp_path, "demo", f"http://127.0.0.1:{port}")
    events = _play(service, journal, LoadFailed)
    (failed,) = events_of(events, LoadFailed)
    assert failed.data.stage == "start" and "does not answer" in failed.data.error
    assert [e.kind for e in events] == ["DrillStarted", "LoadFailed"]  # nothing was started


def test_locustfile_failing_on_import_is_a_journaled_load_failure(tmp_path: Path) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    stop = threading.Event()

    listener.settimeout(0.2)

    def accept() -> None:  # answer TCP connects (the host check); locust never gets to send a request
        while not stop.is_set():
            try:
                listener.accept()[0].close()
            except OSError:
                pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        service, journal = _service(tmp_path, "import-error.py", f"http://127.0.0.1:{listener.getsockname()[1]}")
        events = _play(service, journal, LoadFailed)
    finally:
        stop.set()
        thread.join(2)
        listener.close()
    (failed,) = events_of(events, LoadFailed)
    assert failed.data.stage == "run" and failed.data.exit_code not in (0, None) and failed.data.role == "standalone"
    assert "gameday_no_such_module" in failed.data.error
    (started,) = events_of(events, LoadStarted)
    assert not proc_alive(started.data.pids["standalone"])
