"""A training drill with ``--live`` against the real demo: the fault is really injected, the simulated
tech lead runs the real failover runbook on the trainee's word, every fault is rolled back, and an
interrupted live training rolls back and still writes its reports."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "run"))
from drillkit import first, kinds, read_events, wait_for, wait_for_event  # noqa: E402

pytestmark = pytest.mark.integration

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "training_live"
SCENARIO, TRAINEE = FIX / "scenario.yaml", FIX / "trainee.yaml"
ARGS = ("run", str(SCENARIO), "--mode", "training", "--live", "--trainee", "dana", "--seed", "5", "--out", "out")


def test_a_live_training_injects_for_real_and_the_simulated_tech_lead_fails_over(workspace) -> None:
    done = workspace.run(*ARGS, "--responders", str(TRAINEE), timeout=150)
    assert done.returncode == 0, done
    assert "Traceback" not in done.stderr, done
    events = read_events(workspace.cwd / "out" / "journal.jsonl")
    started = first(events, "TrainingStarted")
    assert started["data"]["live"] is True and started["data"]["trainee"] == "dana"
    # the fault ran for real (a Chaos Toolkit activity, from the injector), not as a simulated shadow
    injected = first(events, "FaultInjected", fault="kill-primary")
    assert injected["source"] == "injector"
    method = first(events, "ActivityRan", owner="kill-primary", phase="method")
    assert method["data"]["status"] == "succeeded"
    # the trainee gave the runbook to Priya; Priya ran the real runbook, which moved the simulation's story
    task = next(e for e in events if e["kind"] == "TaskAssigned" and e["data"]["runbook"] == "failover")
    started_rb = first(events, "ActionRecorded", action="runbook_started", runbook="failover")
    assert started_rb["data"]["author"] == "Priya" and started_rb["seq"] > task["seq"]
    assert first(events, "ActivityRan", owner="failover", phase="runbook")["data"]["status"] == "succeeded"
    assert first(events, "TaskReported", task=task["data"]["task"], status="done")["data"]["by"] == "Priya"
    assert first(events, "StateChanged", to_state="failing-over")["data"]["cause_seq"] == started_rb["seq"]
    assert "RecoveryObserved" in kinds(events)
    assert first(events, "FaultRolledBack", fault="kill-primary")["data"]["reason"] == "end"
    assert workspace.ledger_entries() == []
    report = (workspace.cwd / "out" / "training.md").read_text()
    assert "injected for real (--live)" in report and "| No hands-on work by the incident commander | met |" in report


def test_an_interrupted_live_training_rolls_back_and_keeps_its_reports(workspace) -> None:
    drill = workspace.spawn(*ARGS, "--no-web")  # no scripted trainee: nobody fails over, the fault stays in
    journal = workspace.cwd / "out" / "journal.jsonl"
    wait_for_event(journal, "FaultInjected", drill.proc, timeout=60)
    assert wait_for(lambda: "ActivityRan" in kinds(read_events(journal)), 10)  # the primary is really down
    os.kill(drill.pid, signal.SIGINT)
    code = drill.wait(60)
    assert code == 3, drill.output()
    assert "Traceback" not in drill.stderr, drill.output()
    events = read_events(journal)
    assert first(events, "DrillAborted")["data"]["reason"].startswith("signal")
    assert first(events, "FaultRolledBack", fault="kill-primary")["data"]["reason"] == "signal"
    assert events[-1]["kind"] == "DrillEnded" and events[-1]["data"]["outcome"] == "aborted"
    assert first(events, "SteadyStateChecked", stage="final")["data"]["ok"] is True
    assert workspace.ledger_entries() == []
    # nobody was asked anything, so the simulated responders said nothing
    assert not [e for e in events if e["source"] in ("Priya", "Sam") and e["kind"] != "ResponderJoined"]
    assert (workspace.cwd / "out" / "training.md").is_file() and (workspace.cwd / "out" / "training.html").is_file()
