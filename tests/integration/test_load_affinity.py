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
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "run"))
from drillkit import (  # noqa: E402
    ROOT,
    SCENARIOS,
    Workspace,
    first,
    read_events,
    skip_without_locust,
    wait_for,
    wait_for_event,
)

from gameday.model.cpus import format_cpu_list, resolve  # noqa: E402

pytestmark = pytest.mark.integration

if not hasattr(os, "sched_getaffinity"):
    pytest.skip("this platform has no CPU affinity (os.sched_getaffinity)", allow_module_level=True)


skip_without_locust()

OURS = frozenset(os.sched_getaffinity(0))  # what a drill started from here may use
two_cpus = pytest.mark.skipif(len(OURS) < 2, reason=f"needs two CPUs to keep one for the conductor; this process may "
                              f"use only CPU {format_cpu_list(OURS)}")
SCENARIO = SCENARIOS / "checkout-db-primary-failure-load.yaml"
NOOP = {"type": "action", "name": "noop", "provider": {"type": "process", "path": "true"}}


def allowed(pid: int) -> set[str]:
    """The ``Cpus_allowed_list`` of every thread of ``pid`` (a set: one value when they agree)."""
    out = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            status = (task / "status").read_text()
        except OSError:  # a thread that just ended
            continue
        out.update(line.split(":", 1)[1].strip() for line in status.splitlines() if line.startswith("Cpus_allowed_list:"))
    return out


# ------------------------------------------------------------------------------ a real drill


@two_cpus
def test_a_drills_locust_and_demo_keep_off_the_conductors_cpu(workspace: Workspace) -> None:
    expected = resolve("auto", OURS).cpus
    assert expected is not None
    label = format_cpu_list(expected)
    drill = workspace.spawn("run", str(SCENARIO), "--mode", "ci", "--out", "out")
    journal = workspace.cwd / "out" / "journal.jsonl"
    wait_for_event(journal, "LoadStats", drill.proc, timeout=60)  # locust is running
    started = first(read_events(journal), "LoadStarted")["data"]
    assert (started["cpus"], started["cpus_setting"]) == (label, "auto")
    assert started["cpus_note"] == f"locust on {'CPU' if len(expected) == 1 else 'CPUs'} {label}; CPU {min(OURS)} left to " \
                                   "the conductor"
    [locust] = started["pids"].values()
    assert allowed(locust) == {label}
    state = workspace.demo_state()
    assert state is not None and (state["cpus"], state["cpus_setting"]) == (label, "auto")
    for name, proc in [("supervisor", {"pid": state["pid"]}), *state["processes"].items()]:
        assert allowed(proc["pid"]) == {label}, name
    assert allowed(drill.pid) == {format_cpu_list(OURS)}  # the conductor itself is left alone
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


def _service(tmp_path: Path, host: str, cpus: str, workers: int = 0):
    from gameday.clock import SystemClock
    from gameday.journal import JournalWriter
    from gameday.load import service_for
    from gameday.model.scenario import Scenario

    sc = Scenario.model_validate({
        "apiVersion": "gameday/v1", "id": "load-cpus", "title": "t", "severity": "SEV3", "target": {"url": host},
        "steady_state": [{"name": "h", "http": {"url": "{target.url}/"}}],
        "faults": [{"id": "f", "at": "5s", "activities": [NOOP], "rollbacks": [NOOP]}],
        "detection": {"within": "10s"}, "recovery": {"within": "10s"}, "abort": {"max_duration": "1m"},
        "load": {"locustfile": "demo", "users": 2, "spawn_rate": 2, "workers": workers, "cpus": cpus},
    })  # fmt: skip
    journal = JournalWriter(tmp_path / "journal.jsonl", SystemClock(), fsync=False)
    journal.append("DrillStarted", "conductor", {"drill_id": "d", "mode": "ci"})
    echoed: list[str] = []
    ctx = SimpleNamespace(scenario=sc, loaded=SimpleNamespace(base_dir=tmp_path, project_root=ROOT, locustfile=None),
                          project=SimpleNamespace(config=SimpleNamespace(business=None)), mode="ci", drill_id="d",
                          state_dir=tmp_path / "state", target_url=host, conductor=_Conductor(), journal=journal,
                          options={}, echo=echoed.append)
    service = service_for(ctx)
    service.start()
    return service, journal, echoed


def _started(service, journal, timeout: float = 60.0) -> dict:
    """Play the baseline phase; the LoadStarted data once locust reports its first stats."""
    for listener in service.ctx.conductor.phase_listeners:
        listener("baseline")
    assert wait_for(lambda: any(e.kind in ("LoadStats", "LoadFailed") for e in journal.events), timeout), \
        [e.kind for e in journal.events]
    assert not [e.data for e in journal.events if e.kind == "LoadFailed"]
    return next(e for e in journal.events if e.kind == "LoadStarted").data


@two_cpus
def test_an_explicit_cpu_list_confines_the_master_and_its_workers(tmp_path: Path, host: str) -> None:
    cpu = max(OURS)
    service, journal, echoed = _service(tmp_path, host, str(cpu), workers=1)
    try:
        data = _started(service, journal)
        assert (data["cpus"], data["cpus_setting"], data["cpus_note"]) == (str(cpu), str(cpu), f"locust on CPU {cpu}")
        assert set(data["pids"]) == {"master", "worker-1"}
        for role, pid in data["pids"].items():
            assert allowed(pid) == {str(cpu)}, role
    finally:
        service.stop()
        journal.close()
    assert echoed == []  # nothing to warn about


def test_a_conductor_on_one_cpu_places_nothing_and_says_so(tmp_path: Path, host: str) -> None:
    """The load thread inherits this thread's affinity: confine it to one CPU while the service starts."""
    cpu = min(OURS)
    service, journal, echoed = _service(tmp_path, host, "auto")
    os.sched_setaffinity(0, {cpu})
    try:
        for listener in service.ctx.conductor.phase_listeners:
            listener("baseline")  # starts the load thread: it inherits {cpu}
    finally:
        os.sched_setaffinity(0, OURS)
    try:
        deadline = time.monotonic() + 60
        while not any(e.kind in ("LoadStats", "LoadFailed") for e in journal.events) and time.monotonic() < deadline:
            time.sleep(0.05)
        data = next(e for e in journal.events if e.kind == "LoadStarted").data
        assert data["cpus"] == "all" and data["cpus_setting"] == "auto"
        assert data["cpus_note"].startswith(f"only one CPU ({cpu}): locust shares it with the conductor")
        assert echoed == [f"load: {data['cpus_note']}"]
        [pid] = data["pids"].values()
        assert allowed(pid) == {str(cpu)}  # inherited from its parent thread, not set by us
        assert "taskset" not in _cmdline(pid)
    finally:
        service.stop()
        journal.close()
