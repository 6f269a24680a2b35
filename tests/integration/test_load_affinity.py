"""Where a drill's locust and the demo really run (``load.cpus``, the demo's ``--cpus``), read from
``/proc/PID/task/*/status`` (``Cpus_allowed_list``) while they run.

* a real drill under load (the shipped scenario, ``load.cpus`` default ``auto``): locust and
  every demo process on the conductor's CPUs but the lowest; ``LoadStarted`` says so;
* an explicit CPU list with locust's distributed mode: the master and the worker both confined;
* a conductor confined to one CPU: nothing is placed, the note is journaled and echoed.

The first two need two CPUs (skipped with the reason on one); the third runs anywhere. Waits
have generous deadlines: a slow machine makes them slower, never failing.
"""

from __future__ import annotations

import http.server
import os
import signal
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "run"))
from drillkit import (
    ROOT,
    SCENARIOS,
    Workspace,
    first,
    kinds,
    read_events,
    skip_without_locust,
    wait_for,
)

from gameday.journal import events_of
from gameday.model.cpus import format_cpu_list, resolve
from gameday.model.events import LoadFailed, LoadStarted, LoadStats

pytestmark = pytest.mark.integration

if not hasattr(os, "sched_getaffinity"):
    pytest.skip("this platform has no CPU affinity (os.sched_getaffinity)", allow_module_level=True)


skip_without_locust()

OURS = frozenset(os.sched_getaffinity(0))  # what a drill started from here may use
two_cpus = pytest.mark.skipif(len(OURS) < 2, reason=f"needs two CPUs to keep one for the conductor; this process may "
                              f"use only CPU {format_cpu_list(OURS)}")
SCENARIO = SCENARIOS / "checkout-db-primary-failure-load.yaml"
NOOP = {"type": "action", "name": "noop", "provider": {"type": "process", "path": "true"}}


def allowed(pid: int, what: str) -> set[str]:
    """The ``Cpus_allowed_list`` of every thread of ``pid`` (a set: one value when they agree); fails the test,
    naming ``what``, if the process is gone."""
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError as exc:
        pytest.fail(f"{what} (pid {pid}) is gone: its CPUs cannot be read ({exc})", pytrace=False)
    out = set()
    for task in tasks:
        try:
            status = (task / "status").read_text()
        except OSError:  # a thread that just ended
            continue
        out.update(line.split(":", 1)[1].strip() for line in status.splitlines() if line.startswith("Cpus_allowed_list:"))
    if not out:
        pytest.fail(f"{what} (pid {pid}) is gone: none of its threads could be read", pytrace=False)
    return out


def no_load_failure(kinds_and_data: list[tuple[str, dict]]) -> None:
    """Fail with locust's own words if the load failed (its processes are then gone: /proc says nothing useful)."""
    failed = [data for kind, data in kinds_and_data if kind == "LoadFailed"]
    if failed:
        pytest.fail(f"the load failed: {failed[0].get('error')} ({failed[0]})", pytrace=False)


# ------------------------------------------------------------------------------ a real drill


@two_cpus
def test_a_drills_locust_and_demo_keep_off_the_conductors_cpu(workspace: Workspace) -> None:
    expected = resolve("auto", OURS).cpus
    assert expected is not None
    label = format_cpu_list(expected)
    drill = workspace.spawn("run", str(SCENARIO), "--mode", "ci", "--out", "out")
    journal = workspace.cwd / "out" / "journal.jsonl"
    wait_for(lambda: drill.proc.poll() is not None or
             any(e["kind"] in ("LoadStats", "LoadFailed") for e in read_events(journal)), 60)
    events = read_events(journal)
    no_load_failure([(e["kind"], e["data"]) for e in events])
    assert "LoadStats" in kinds(events), f"no LoadStats within 60s (drill exit code {drill.proc.poll()}): {kinds(events)}"
    started = first(events, "LoadStarted")["data"]  # locust is running
    assert (started["cpus"], started["cpus_setting"]) == (label, "auto")
    assert started["cpus_note"] == f"locust on {'CPU' if len(expected) == 1 else 'CPUs'} {label}; CPU {min(OURS)} left to " \
                                   "the conductor"
    [locust] = started["pids"].values()
    assert allowed(locust, "locust") == {label}
    state = workspace.demo_state()
    assert state is not None and (state["cpus"], state["cpus_setting"]) == (label, "auto")
    for name, proc in [("supervisor", {"pid": state["pid"]}), *state["processes"].items()]:
        assert allowed(proc["pid"], f"the demo's {name}") == {label}, name
    assert allowed(drill.pid, "the drill") == {format_cpu_list(OURS)}  # the conductor itself is left alone
    drill.proc.send_signal(signal.SIGINT)  # abort: rollback, locust stopped, the demo it started stopped
    drill.wait(90)
    assert wait_for(lambda: not Path(f"/proc/{locust}").exists() or "locust" not in _cmdline(locust), 15)


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


# ------------------------------------------------------------------------------ the load service alone


class _Conductor:
    def __init__(self) -> None:
        self.phase_listeners: list = []


class _Answer(http.server.BaseHTTPRequestHandler):
    """Any request: 200 and an empty JSON object (locust's requests succeed)."""

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        body = b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def host():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _service(tmp_path: Path, host: str, cpus: str, made: dict[str, list], workers: int = 0):
    """A load service for a one-fault scenario against ``host``; it and its journal go in ``made`` as soon as they
    exist, for the fixture to stop and close whatever happens."""
    from gameday.clock import SystemClock
    from gameday.journal import JournalWriter
    from gameday.load.service import service_for
    from gameday.model.events import DrillStarted
    from gameday.model.policy import DEFAULT_POLICY
    from gameday.model.scenario import Scenario

    sc = Scenario.model_validate({
        "apiVersion": "gameday/v1", "id": "load-cpus", "title": "t", "severity": "SEV3", "target": {"url": host},
        "steady_state": [{"name": "h", "http": {"url": "{target.url}/"}}],
        "faults": [{"id": "f", "at": "5s", "activities": [NOOP], "rollbacks": [NOOP]}],
        "detection": {"within": "10s"}, "recovery": {"within": "10s"}, "abort": {"max_duration": "1m"},
        "load": {"locustfile": "demo", "users": 2, "spawn_rate": 2, "workers": workers, "cpus": cpus},
    })  # fmt: skip
    journal = JournalWriter(tmp_path / "journal.jsonl", SystemClock(), fsync=False)
    made["journals"].append(journal)
    journal.append(DrillStarted(drill_id="d", mode="ci", scenario=sc, policy=DEFAULT_POLICY), "conductor")
    echoed: list[str] = []
    ctx = SimpleNamespace(scenario=sc, loaded=SimpleNamespace(base_dir=tmp_path, project_root=ROOT, locustfile=None),
                          project=SimpleNamespace(config=SimpleNamespace(business=None)), mode="ci", drill_id="d",
                          state_dir=tmp_path / "state", target_url=host, conductor=_Conductor(), journal=journal,
                          options={}, echo=echoed.append)
    service = service_for(ctx)
    made["services"].append(service)
    service.start()
    return service, journal, echoed


@pytest.fixture
def load_service(tmp_path: Path, host: str):
    """``load_service(cpus, workers=0)`` → (service, journal, echoed). Every service made is stopped (locust with
    it) and every journal closed at the end, whatever the test did."""
    made: dict[str, list] = {"services": [], "journals": []}
    yield lambda cpus, workers=0: _service(tmp_path, host, cpus, made, workers)
    try:
        for service in made["services"]:
            service.stop()  # idempotent: a test may have stopped it already
    finally:
        for journal in made["journals"]:
            journal.close()


def _play_baseline(service, cpus: frozenset[int] | None = None) -> None:
    """Play the baseline phase: the load thread starts, from this thread — confined to ``cpus`` meanwhile, if given
    (the load thread, and so locust, inherits the affinity of the thread that starts it)."""
    if cpus is not None:
        os.sched_setaffinity(0, cpus)
    try:
        for listener in service.ctx.conductor.phase_listeners:
            listener("baseline")
    finally:
        if cpus is not None:
            os.sched_setaffinity(0, OURS)


def _started(journal, timeout: float = 60.0) -> LoadStarted:
    """The LoadStarted payload once locust reports its first stats; fails with the reason if the load failed."""
    assert wait_for(lambda: any(isinstance(e.data, (LoadStats, LoadFailed)) for e in journal.events), timeout), \
        f"no LoadStats within {timeout:g}s: {[e.kind for e in journal.events]}"
    failed = events_of(journal.events, LoadFailed)
    if failed:
        pytest.fail(f"the load failed: {failed[0].data.error} ({failed[0].data})", pytrace=False)
    return next(e.data for e in events_of(journal.events, LoadStarted))


@two_cpus
def test_an_explicit_cpu_list_confines_the_master_and_its_workers(load_service) -> None:
    cpu = max(OURS)
    service, journal, echoed = load_service(str(cpu), workers=1)
    _play_baseline(service)
    data = _started(journal)
    assert (data.cpus, data.cpus_setting, data.cpus_note) == (str(cpu), str(cpu), f"locust on CPU {cpu}")
    assert set(data.pids) == {"master", "worker-1"}
    for role, pid in data.pids.items():
        assert allowed(pid, f"locust's {role}") == {str(cpu)}, role
    service.stop()
    assert echoed == []  # nothing to warn about, from start to stop


def test_a_conductor_on_one_cpu_places_nothing_and_says_so(load_service) -> None:
    """The load thread inherits this thread's affinity: confine it to one CPU while the service starts."""
    from gameday.adapters import locust as adapter

    cpu = min(OURS)
    service, journal, echoed = load_service("auto")
    _play_baseline(service, frozenset({cpu}))
    data = _started(journal)
    assert data.cpus == "all" and data.cpus_setting == "auto"
    assert data.cpus_note.startswith(f"only one CPU ({cpu}): locust shares it with the conductor")
    assert echoed == [f"load: {data.cpus_note}"]
    [proc] = service._plan.procs  # as planned: no CPU prefix, straight to the priority prefix and locust
    head = [*adapter.priority_prefix(service.load.priority), adapter.locust_executable()]
    assert proc.argv[:len(head)] == head
    [pid] = data.pids.values()
    assert allowed(pid, "locust") == {str(cpu)}  # inherited from its parent thread, not set by us
