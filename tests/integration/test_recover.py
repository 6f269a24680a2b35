"""`gameday recover` end to end: a crashed conductor left a SIGSTOPped service in the ledger."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gameday.adapters.probes import HttpProbe
from gameday.adapters.process import ProcessInjector, proc_info
from gameday.drill.ledger import FaultLedger
from gameday.journal import read_journal
from gameday.model.eventio import make_event
from gameday.model.events import ActivityRan, DrillStarted, FaultInjected, FaultRolledBack
from gameday.model.policy import DEFAULT_POLICY
from gameday.model.scenario import Check, ProcessSelector, Scenario
from gameday.ports import ChaosToolkitRollback, ProcessRollback

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "targets"))
from harness import free_port, kill_quietly, read_pid, start_tiny, tiny_argv

pytestmark = pytest.mark.integration
GAMEDAY = Path(sys.executable).parent / "gameday"


def gameday(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    argv = [str(GAMEDAY), *args] if GAMEDAY.exists() else [sys.executable, "-m", "gameday", *args]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=60, env=env)


def journal_with(path: Path, *, torn: bool = False, fault: str = "freeze-web") -> Path:
    sc = Scenario.model_validate({
        "apiVersion": "gameday/v1", "id": "freeze", "title": "The web process freezes", "severity": "SEV2",
        "target": {"url": "http://127.0.0.1:9"}, "steady_state": [{"name": "h", "http": {"url": "{target.url}/health"}}],
        "faults": [{"id": fault, "at": "4s", "activities": [{"type": "action"}], "rollbacks": [{"type": "action"}]}],
        "detection": {"within": "60s"}, "recovery": {"within": "5m"}, "abort": {"max_duration": "10m"},
    })  # fmt: skip
    events = [
        make_event(DrillStarted(drill_id="d1", mode="ci", scenario=sc, policy=DEFAULT_POLICY), seq=0,
                   wall="2026-11-28T10:00:00.000000Z", t=0.0, source="conductor"),
        make_event(FaultInjected(fault=fault, kind="process", scheduled_t=4.0), seq=1, wall="2026-11-28T10:00:04.000000Z",
                   t=4.0, source="injector"),
    ]
    text = "".join(e.model_dump_json() + "\n" for e in events)
    path.write_text(text + ('{"v":1,"seq":2,"ki' if torn else ""))
    return path


@pytest.fixture
def stopped_service(tmp_path):
    port, pid_file = free_port(), tmp_path / "web.pid"
    proc = start_tiny(port, pid_file)
    selector = ProcessSelector(pid_file=str(pid_file), restart=tiny_argv(port, pid_file))
    injector = ProcessInjector("web", selector, "stop", owner="freeze-web")
    yield port, injector
    kill_quietly(read_pid(pid_file))
    kill_quietly(proc.pid)


def test_recover_rolls_back_what_a_crashed_drill_left(tmp_path, stopped_service):
    port, injector = stopped_service
    state = tmp_path / ".gameday"
    ledger = FaultLedger(state)
    journal = journal_with(tmp_path / "journal.jsonl")
    ledger.record("d1", "freeze-web", injector.ledger_spec(), str(journal))  # as the conductor does, before injecting
    result = injector.inject()
    assert result.ok
    ledger.mark_injected("d1", "freeze-web", result.rollback)
    torn = journal_with(tmp_path / "other.jsonl", torn=True, fault="noop-fault")
    noop = ChaosToolkitRollback(rollbacks=[{"type": "action", "name": "noop", "provider": {"type": "process", "path": "true"}}])
    ledger.record("d2", "noop-fault", noop, str(torn))
    probe = HttpProbe(Check(name="h", http={"url": "{target.url}/health", "timeout": "300ms"}), f"http://127.0.0.1:{port}")
    assert probe.probe().detail == "timeout after 0.3s"  # the conductor "crashed" here

    done = gameday("recover", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert isinstance(result.rollback, ProcessRollback)
    pid = result.rollback.pid
    lines = done.stdout.splitlines()
    assert lines[0] == f"rolled back freeze-web of drill d1: SIGCONT web succeeded (pid {pid} continued)"
    assert lines[1] == "  journal journal.jsonl: FaultRolledBack appended"
    assert lines[2] == "rolled back noop-fault of drill d2: noop succeeded (status 0)"
    assert "torn line: not appended" in lines[3]
    assert proc_info(pid).state != "T" and probe.probe().ok
    assert ledger.open_entries() == []

    replay = read_journal(journal)
    assert [e.kind for e in replay.events] == ["DrillStarted", "FaultInjected", "ActivityRan", "FaultRolledBack"]
    ran, back = replay.events[2:]
    assert isinstance(ran.data, ActivityRan) and ran.data.status == "succeeded" and ran.data.started_t == 4.0
    assert (ran.seq, ran.t, ran.source, ran.data.owner, ran.data.phase) == (2, 4.0, "recover", "freeze-web", "rollback")
    assert back.data == FaultRolledBack(fault="freeze-web", reason="recover") and back.source == "recover"
    assert torn.read_text().endswith('"ki')  # a torn journal is left as it was

    again = gameday("recover", cwd=tmp_path)
    assert again.returncode == 0 and again.stdout.startswith("ledger is clear: nothing to roll back (looked in ")


def test_recover_with_no_state_says_the_ledger_is_clear(tmp_path):
    done = gameday("recover", cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.startswith("ledger is clear: nothing to roll back (looked in ")
    assert not (tmp_path / ".gameday").exists()


def test_failed_recovery_exits_3_and_keeps_the_entry(tmp_path):
    ledger = FaultLedger(tmp_path / ".gameday")
    failing = ChaosToolkitRollback(rollbacks=[
        {"type": "action", "name": "repair", "provider": {"type": "process", "path": "false"}}])
    ledger.record("d3", "broken", failing, None)
    done = gameday("recover", cwd=tmp_path)
    assert done.returncode == 3
    assert "could not roll back 1 fault; still open in the ledger (.gameday/ledger.json): broken of drill d3 (repair: exit status 1)" in done.stderr
    assert "Traceback" not in done.stderr
    (entry,) = ledger.open_entries()
    assert entry.status == "rollback_failed" and entry.error == "repair: exit status 1"


def test_corrupt_ledger_is_reported_without_traceback(tmp_path):
    (tmp_path / ".gameday").mkdir()
    (tmp_path / ".gameday" / "ledger.json").write_text("{not json")
    done = gameday("recover", cwd=tmp_path)
    assert done.returncode == 2 and "ledger.json is corrupt" in done.stderr and "Traceback" not in done.stderr


def test_recover_clears_without_rollback_a_fault_its_journal_shows_never_went_in(tmp_path):
    state = tmp_path / ".gameday"
    ledger = FaultLedger(state)
    journal = journal_with(tmp_path / "journal.jsonl")  # FaultInjected for freeze-web only
    marker = tmp_path / "rolled-back"
    spec = ChaosToolkitRollback(rollbacks=[
        {"type": "action", "name": "touch", "provider": {"type": "process", "path": "touch", "arguments": str(marker)}}])
    ledger.record("d1", "later-fault", spec, str(journal))  # written ahead after preflight; the drill died first
    done = gameday("recover", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "cleared later-fault of drill d1: its journal shows it was never injected" in done.stdout
    assert not marker.exists() and FaultLedger(state).open_entries() == []
