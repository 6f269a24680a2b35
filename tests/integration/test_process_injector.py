"""The process injector and restart runbook against a real tiny HTTP service on loopback."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from gameday.adapters.probes import HttpProbe
from gameday.adapters.process import ProcessInjector, ProcessRestarter, find_pids, locate, proc_info, resolve_selector
from gameday.drill.injectors import injector_for_fault, injector_from_spec
from gameday.errors import ConfigError, InjectionError
from gameday.model.scenario import Check, Fault, ProcessSelector
from gameday.ports import ProcessRollback

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "targets"))
from harness import free_port, kill_quietly, read_pid, start_tiny, tiny_argv, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def service(tmp_path):
    """A running tiny service: (port, pid_file, selector); every copy of it is killed afterwards."""
    port, pid_file = free_port(), tmp_path / "tiny.pid"
    proc = start_tiny(port, pid_file)
    selector = ProcessSelector(pid_file=str(pid_file), restart=tiny_argv(port, pid_file), cwd=str(tmp_path))
    yield port, pid_file, selector
    kill_quietly(read_pid(pid_file))
    kill_quietly(proc.pid)


def health_probe(port: int, timeout: str = "300ms") -> HttpProbe:
    return HttpProbe(Check(name="health", http={"url": "{target.url}/health", "timeout": timeout}), f"http://127.0.0.1:{port}")


def test_stop_makes_probe_time_out_and_rollback_continues(service):
    port, pid_file, selector = service
    probe = health_probe(port)
    assert probe.probe().ok
    inj = ProcessInjector("web", selector, "stop", owner="freeze", log_dir=pid_file.parent)
    result = inj.inject()
    assert result.ok, result.error
    (run,) = result.runs
    assert (run.name, run.provider, run.phase, run.status) == ("SIGSTOP web", "signal", "method", "succeeded")
    pid = read_pid(pid_file)
    assert proc_info(pid).state == "T"
    assert isinstance(result.rollback, ProcessRollback)
    assert result.rollback == inj.ledger_spec() and result.rollback.pid == pid and result.rollback.start_time
    seen = probe.probe()
    assert not seen.ok and seen.detail == "timeout after 0.3s"

    back = inj.rollback()
    assert back.ok and back.runs[0].name == "SIGCONT web" and back.runs[0].output == f"pid {pid} continued"
    assert wait_for(lambda: probe.probe().ok, 3)
    assert inj.rollback().ok  # idempotent
    probe.close()


def test_kill_then_rollback_restarts_the_service(service):
    port, pid_file, selector = service
    old = read_pid(pid_file)
    inj = ProcessInjector("web", selector, "kill", "SIGKILL", owner="kill-web", log_dir=pid_file.parent)
    result = inj.inject()
    assert result.ok and result.runs[0].name == "SIGKILL web" and "exited" in result.runs[0].output
    probe = health_probe(port)
    # the kernel may still reset a connection while it tears the dead process's listener down
    assert wait_for(lambda: probe.probe().detail == "connection refused", 3)
    assert find_pids(inj.sel) == []

    back = inj.rollback()
    assert back.ok, back.error
    (run,) = back.runs
    assert (run.name, run.provider, run.phase) == ("restart web", "restart", "rollback") and "started" in run.output
    new = read_pid(pid_file)
    assert new and new != old
    assert wait_for(lambda: probe.probe().ok, 5)
    again = inj.rollback()  # the process runs: nothing to start
    assert again.ok and "already running" in again.runs[0].output
    probe.close()


def test_kill_by_command_regex_and_recover_from_spec(service):
    port, pid_file, _ = service
    selector = {"command": rf"tiny_service\.py --port {port}\b", "restart": tiny_argv(port, pid_file)}
    fault = Fault(id="kill-web", at="1s", process={"target": "web", "action": "kill", "signal": "SIGTERM"})
    inj = injector_for_fault(fault, target={"web": ProcessSelector(**selector)}, log_dir=pid_file.parent)  # as the composition root passes it
    assert locate("web", inj.sel).pid == read_pid(pid_file)
    assert inj.inject().ok
    assert find_pids(inj.sel) == []
    back = injector_from_spec(inj.ledger_spec()).rollback()  # as `gameday recover` would
    assert back.ok, back.error
    assert wait_for(lambda: health_probe(port).probe().ok, 5)


def test_restart_runbook_replaces_a_stopped_process(service):
    port, pid_file, selector = service
    old = read_pid(pid_file)
    assert ProcessInjector("web", selector, "stop").inject().ok
    result = ProcessRestarter("web", selector, owner="restart-web", grace=2, log_dir=pid_file.parent).run()
    assert result.ok, result.error
    assert [(r.name, r.provider, r.phase) for r in result.runs] == [("stop web", "signal", "runbook"), ("start web", "restart", "runbook")]
    assert result.runs[0].output == f"pid {old} exited on SIGTERM"
    assert read_pid(pid_file) != old
    assert wait_for(lambda: health_probe(port).probe().ok, 5)


def test_selector_errors(service, tmp_path):
    port, pid_file, selector = service
    with pytest.raises(ConfigError, match="needs 'restart'"):
        ProcessInjector("web", ProcessSelector(pid_file=str(pid_file)), "kill")
    with pytest.raises(InjectionError, match="no running process matches"):
        locate("ghost", ProcessSelector(command=r"no-such-process-[0-9]{12}"))
    missing = ProcessInjector("ghost", ProcessSelector(pid_file=str(tmp_path / "absent.pid")), "stop").inject()
    assert not missing.ok and "no running process matches pid file" in missing.error
    assert missing.runs[0].status == "failed"

    second = start_tiny(free_port(), tmp_path / "second.pid")
    try:
        ambiguous = ProcessSelector(command=rf"tiny_service\.py --port \d+ --pid-file {tmp_path}")
        with pytest.raises(InjectionError, match="matches 2 processes") as err:
            locate("web", ambiguous)
        assert str(read_pid(pid_file)) in str(err.value) and str(second.pid) in str(err.value)
        result = ProcessInjector("web", ambiguous, "stop").inject()
        assert not result.ok and "refusing to guess" in result.error
    finally:
        kill_quietly(second.pid)


def test_rollback_of_a_vanished_stopped_process_is_a_noop(service):
    port, pid_file, selector = service
    inj = ProcessInjector("web", selector, "stop")
    assert inj.inject().ok
    kill_quietly(read_pid(pid_file))
    back = inj.rollback()
    assert back.ok and "no longer exists" in back.runs[0].output


def test_a_stale_pid_file_is_not_trusted(service):
    port, pid_file, selector = service
    assert find_pids(resolve_selector(selector)) == [read_pid(pid_file)]
    old = time.time() - 120
    os.utime(pid_file, (old, old))  # the pid file predates its process: the pid was reused
    assert find_pids(resolve_selector(selector)) == []
