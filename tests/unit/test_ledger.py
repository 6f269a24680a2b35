"""The fault ledger: a small JSON file, locked, atomic, refusing a second drill."""

from __future__ import annotations

import json
import multiprocessing
import os
import stat

import pytest

from gameday.drill.ledger import FaultLedger, acquire_drill_lock, recover_open_faults
from gameday.errors import ConfigError, InjectionError, LedgerBusyError
from gameday.model.scenario import ProcessSelector
from gameday.ports import ChaosToolkitRollback, FakeRollback, ProcessRollback

SPEC = ChaosToolkitRollback(owner="kill-primary")
PROCESS = ProcessRollback(name="web", owner="freeze-web", action="stop", signal="SIGSTOP",
                          selector=ProcessSelector(pid_file="/run/web.pid"))


def test_record_mark_and_clear(tmp_path):
    ledger = FaultLedger(tmp_path / ".gameday")
    assert ledger.open_entries() == []
    ledger.record("drill-1", "kill-primary", SPEC, str(tmp_path / "journal.jsonl"))
    (entry,) = ledger.open_entries()
    assert entry.status == "injecting" and entry.injected_at is None
    assert entry.spec == {"kind": "chaostoolkit", "owner": "kill-primary", "rollbacks": [], "configuration": {},
                             "secrets": {}}  # fmt: skip
    assert entry.journal == str(tmp_path / "journal.jsonl") and entry.pid == os.getpid()

    ledger.mark_injected("drill-1", "kill-primary", PROCESS.model_copy(update={"pid": 42}))
    (entry,) = ledger.open_entries()
    assert entry.status == "injected" and entry.injected_at.endswith("Z")
    assert entry.spec["kind"] == "process" and entry.spec["pid"] == 42
    assert entry.spec["selector"]["pid_file"] == "/run/web.pid"

    ledger.record("drill-1", "second", SPEC, None)
    assert [e.fault_id for e in ledger.open_entries()] == ["kill-primary", "second"]
    ledger.clear("drill-1", "kill-primary")
    ledger.clear("drill-1", "kill-primary")  # harmless twice
    assert [e.fault_id for e in ledger.open_entries()] == ["second"]
    ledger.clear("drill-1", "second")
    assert ledger.open_entries() == []
    ledger.ensure_clear()


def test_file_is_private_json_and_written_atomically(tmp_path):
    ledger = FaultLedger(tmp_path)
    ledger.record("d", "f", SPEC)
    assert stat.S_IMODE(ledger.path.stat().st_mode) == 0o600
    data = json.loads(ledger.path.read_text())
    assert data["version"] == 1 and data["entries"][0]["fault_id"] == "f"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ledger.json", "ledger.lock"]  # no temp file left behind


def test_anything_but_a_spec_is_refused_before_anything_is_written(tmp_path):
    ledger = FaultLedger(tmp_path)
    with pytest.raises(TypeError, match="LedgerSpec"):
        ledger.record("d", "f", {"kind": "process", "bad": object()})  # type: ignore[arg-type]
    assert not ledger.path.exists()


def test_open_faults_refuse_a_new_drill(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ledger = FaultLedger(tmp_path / ".gameday")
    ledger.record("drill-X", "kill-primary", SPEC)
    ledger.mark_injected("drill-X", "kill-primary")
    with pytest.raises(LedgerBusyError) as err:
        ledger.ensure_clear()
    message = str(err.value)
    assert message.startswith("the fault ledger (.gameday/ledger.json) holds 1 open fault from drill drill-X: kill-primary (injected 20")
    assert message.endswith("; run 'gameday recover' first")
    assert err.value.exit_code == 3


def test_corrupt_ledger_is_a_clear_config_error(tmp_path):
    ledger = FaultLedger(tmp_path)
    ledger.path.write_text('{"version": 1, "entries": [')
    with pytest.raises(ConfigError, match=r"ledger.json is corrupt \(not JSON"):
        ledger.open_entries()
    ledger.path.write_text('{"version": 1, "entries": [{"drill_id": "d"}]}')
    with pytest.raises(ConfigError, match="is corrupt .*not a ledger"):
        ledger.ensure_clear()


def _hold_lock(state_dir, ready, release):
    with acquire_drill_lock(state_dir):
        ready.set()
        release.wait(10)


def test_drill_lock_refuses_a_second_drill_across_processes(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(tmp_path, ready, release))
    holder.start()
    try:
        assert ready.wait(10)
        with pytest.raises(LedgerBusyError, match=rf"another drill .* is running .*\(pid {holder.pid}\)"):
            with acquire_drill_lock(tmp_path):
                pass
        FaultLedger(tmp_path).record("live", "f", SPEC)
        with pytest.raises(LedgerBusyError):
            recover_open_faults(tmp_path)  # recover never rolls back a live drill's faults
        assert len(FaultLedger(tmp_path).open_entries()) == 1
    finally:
        release.set()
        holder.join(10)
    with acquire_drill_lock(tmp_path), pytest.raises(LedgerBusyError):  # also within one process
        with acquire_drill_lock(tmp_path):
            pass


def _record_many(state_dir, worker):
    ledger = FaultLedger(state_dir)
    for i in range(20):
        ledger.record(f"drill-{worker}", f"fault-{i}", SPEC)


def test_concurrent_writers_never_lose_an_entry(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_record_many, args=(tmp_path, w)) for w in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(20)
    assert len(FaultLedger(tmp_path).open_entries()) == 60


def test_recover_with_an_empty_ledger_does_nothing(tmp_path):
    assert recover_open_faults(tmp_path) == []


def test_recover_keeps_a_fault_whose_spec_cannot_be_rebuilt(tmp_path):
    ledger = FaultLedger(tmp_path)
    ledger.record("d", "weird", FakeRollback(name="x"))
    with pytest.raises(InjectionError, match="could not roll back 1 fault; still open .*weird of drill d .*'fake' fault cannot"):
        recover_open_faults(tmp_path)
    (entry,) = ledger.open_entries()
    assert entry.status == "rollback_failed" and "fake" in entry.error


def test_recover_keeps_a_fault_whose_spec_is_damaged(tmp_path):
    ledger = FaultLedger(tmp_path)
    ledger.record("d", "weird", SPEC)
    data = json.loads(ledger.path.read_text())
    data["entries"][0]["spec"] = {"kind": "teleport"}  # written by hand, or by another tool
    ledger.path.write_text(json.dumps(data))
    with pytest.raises(InjectionError, match="could not roll back 1 fault; still open .*weird of drill d .*spec is invalid"):
        recover_open_faults(tmp_path)
    (entry,) = ledger.open_entries()
    assert entry.status == "rollback_failed" and "teleport" in entry.error
