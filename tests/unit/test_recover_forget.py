"""``gameday recover --forget``: strike off a fault restored by hand, journaled; and what recover says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from gameday.cli import main
from gameday.drill.ledger import FaultLedger, acquire_drill_lock
from gameday.drill.recover import RECOVER_LOG, forget_fault, read_recover_log, recover_open_faults
from gameday.errors import ConfigError, InjectionError, LedgerBusyError
from gameday.journal import read_journal
from gameday.model.eventio import make_event
from gameday.model.events import DrillStarted, FaultForgotten, FaultInjected, FaultNotRolledBack
from gameday.model.policy import DEFAULT_POLICY
from gameday.model.scenario import Scenario
from gameday.ports import ChaosToolkitRollback, NoRollback

FAILING = ChaosToolkitRollback(owner="break-config", rollbacks=[
    {"type": "action", "name": "restore", "provider": {"type": "process", "path": "false"}}])


def journal(path: Path, fault: str = "break-config", *, torn: bool = False) -> Path:
    sc = Scenario.model_validate({
        "apiVersion": "gameday/v1", "id": "own", "title": "Our service", "severity": "SEV3",
        "target": {"url": "http://127.0.0.1:9"}, "steady_state": [{"name": "h", "http": {"url": "{target.url}/health"}}],
        "faults": [{"id": fault, "at": "4s", "experiment": "x.yaml", "rollback": {"none": "n/a"}}],
        "detection": {"within": "60s"}, "recovery": {"within": "5m"}, "abort": {"max_duration": "10m"},
    })  # fmt: skip
    events = [
        make_event(DrillStarted(drill_id="d1", mode="ci", scenario=sc, policy=DEFAULT_POLICY), seq=0,
                   wall="2026-11-28T10:00:00.000000Z", t=0.0, source="conductor"),
        make_event(FaultInjected(fault=fault, kind="experiment", scheduled_t=4.0), seq=1,
                   wall="2026-11-28T10:00:04.000000Z", t=4.0, source="injector"),
    ]
    path.write_text("".join(e.model_dump_json() + "\n" for e in events) + ('{"v":1,"se' if torn else ""))
    return path


def failed_entry(state: Path, journal_path: Path | None, drill: str = "d1", fault: str = "break-config") -> FaultLedger:
    ledger = FaultLedger(state)
    ledger.record(drill, fault, FAILING, str(journal_path) if journal_path else None)
    ledger.mark_injected(drill, fault)
    ledger.mark_rollback_failed(drill, fault, "restore: exit status 1")
    return ledger


def test_forget_strikes_the_fault_off_logs_it_and_appends_to_its_journal(tmp_path):
    state, j = tmp_path / ".gameday", journal(tmp_path / "journal.jsonl")
    ledger = failed_entry(state, j)
    with pytest.raises(LedgerBusyError, match=r"--forget FAULT --reason TEXT' \(FAULT: break-config\)$"):
        ledger.ensure_clear()  # the blocking message says what to do

    lines = forget_fault(state, "break-config", "restored config.json by hand", by="sam")
    assert lines[0] == ("forgot break-config of drill d1 (it was rollback failed: restore: exit status 1), not rolled back, "
                        "by sam: restored config.json by hand")
    assert lines[1:] == [f"  logged in {state / RECOVER_LOG}", f"  journal {j}: FaultForgotten appended"]
    assert ledger.open_entries() == []
    ledger.ensure_clear()

    (record,) = read_recover_log(state)
    assert (record.outcome, record.fault_id, record.drill_id, record.by, record.reason) == (
        "forgotten", "break-config", "d1", "sam", "restored config.json by hand")
    assert record.entry.status == "rollback_failed" and record.entry.spec["rollbacks"] == FAILING.model_dump()["rollbacks"]
    assert record.host and record.pid and record.at.endswith("Z")
    assert (state / RECOVER_LOG).stat().st_mode & 0o777 == 0o600

    replay = read_journal(j)
    last = replay.events[-1]
    assert (last.seq, last.t, last.source) == (2, 4.0, "recover")
    assert last.data == FaultForgotten(fault="break-config", by="sam", reason="restored config.json by hand",
                                       status="rollback_failed", error="restore: exit status 1")


def test_forget_refuses_what_it_cannot_do_and_changes_nothing(tmp_path):
    state = tmp_path / ".gameday"
    with pytest.raises(ConfigError, match="no open fault 'x': the fault ledger is clear"):
        forget_fault(state, "x", "why")
    ledger = failed_entry(state, None)
    failed_entry(state, None, drill="d2")
    with pytest.raises(ConfigError, match="say why the fault can be forgotten"):
        forget_fault(state, "break-config", "   ")
    with pytest.raises(ConfigError, match=r"no open fault 'nope' in the fault ledger .*; open: break-config \(drill d1\), "
                                          r"break-config \(drill d2\)"):
        forget_fault(state, "nope", "why")
    with pytest.raises(ConfigError, match=r"'break-config' is open for 2 drills \(d1, d2\): add --drill DRILL"):
        forget_fault(state, "break-config", "why")
    with acquire_drill_lock(state), pytest.raises(LedgerBusyError, match="another drill"):
        forget_fault(state, "break-config", "why", drill="d1")  # never while a drill runs
    assert len(ledger.open_entries()) == 2 and read_recover_log(state) == []

    lines = forget_fault(state, "break-config", "why", drill="d2")
    assert lines[0].startswith("forgot break-config of drill d2 ")
    assert [e.drill_id for e in ledger.open_entries()] == ["d1"]
    assert len(lines) == 2  # no journal recorded for it: nothing appended, nothing said


def test_forget_leaves_a_torn_journal_alone(tmp_path):
    state, j = tmp_path / ".gameday", journal(tmp_path / "journal.jsonl", torn=True)
    failed_entry(state, j)
    lines = forget_fault(state, "break-config", "done by hand")
    assert "torn line: not appended" in lines[-1] and j.read_text().endswith('"se')


def test_recover_clears_a_fault_with_nothing_to_undo_and_says_why(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    state, j = tmp_path / ".gameday", journal(tmp_path / "journal.jsonl")
    ledger = FaultLedger(state)
    ledger.record("d1", "break-config", NoRollback(owner="break-config", reason="the service recreates the file"), str(j))
    ledger.mark_injected("d1", "break-config")
    lines = recover_open_faults(state)
    assert lines == ["cleared break-config of drill d1: nothing to undo (the service recreates the file)",
                     "  journal journal.jsonl: FaultNotRolledBack appended"]
    assert ledger.open_entries() == []
    assert read_journal(j).events[-1].data == FaultNotRolledBack(fault="break-config", reason="recover",
                                                                  why="the service recreates the file")
    assert [r.outcome for r in read_recover_log(state)] == ["nothing_to_undo"]


def test_a_failed_recovery_says_how_to_forget(tmp_path):
    state = tmp_path / ".gameday"
    failed_entry(state, None)
    with pytest.raises(InjectionError, match=r"strike it off with 'gameday recover --forget FAULT --reason TEXT'$"):
        recover_open_faults(state, by="ci")
    (record,) = read_recover_log(state)
    assert (record.outcome, record.by, record.error) == ("rollback_failed", "ci", "restore: exit status 1")


def test_the_recover_command(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    failed_entry(tmp_path / ".gameday", None)
    for args, message in [
        (["--forget", "break-config"], "--forget needs --reason TEXT"),
        (["--reason", "x"], "--reason and --drill go with --forget FAULT"),
        (["--forget", "nope", "--reason", "x"], "gameday: no open fault 'nope' in the fault ledger"),
    ]:
        done = runner.invoke(main, ["recover", *args])
        assert done.exit_code == 2 and message in done.output and "Traceback" not in done.output, done.output
    done = runner.invoke(main, ["recover"])
    assert done.exit_code == 3 and "--forget FAULT --reason TEXT" in done.output
    done = runner.invoke(main, ["recover", "--forget", "break-config", "--reason", "fixed by hand", "--by", "kim"])
    assert done.exit_code == 0, done.output
    assert done.output.startswith("forgot break-config of drill d1 (it was rollback failed: restore: exit status 1)")
    done = runner.invoke(main, ["recover"])
    assert done.exit_code == 0 and done.output.startswith("ledger is clear: nothing to roll back (looked in ")
    log = [json.loads(line) for line in (tmp_path / ".gameday" / RECOVER_LOG).read_text().splitlines()]
    assert [(r["outcome"], r["by"]) for r in log][-1] == ("forgotten", "kim")
