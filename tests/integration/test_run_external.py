"""Drills against an external (non-demo) target: ``tests/fixtures/targets/tiny_service.py``.

The scenario is a template (``tests/fixtures/run/external-*.yaml.in``) filled in with the
test's free port and pid file and written to the test's working folder. The test plays
the team's monitoring: once the drill's stdout shows FaultInjected, it posts an
Alertmanager webhook to the intake URL the drill printed on its first line.
"""

from __future__ import annotations

import json
import re
import signal
import string
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "run"))
from drillkit import (  # noqa: E402
    OUTPUT_FILES,
    RUN_FIXTURES,
    TARGETS,
    Workspace,
    alertmanager_body,
    first,
    http_get,
    http_json,
    kinds,
    proc_alive,
    read_events,
    wait_for,
)

sys.path.insert(0, str(TARGETS))
from harness import TINY, free_port, listening, read_pid, tiny_argv  # noqa: E402

pytestmark = pytest.mark.integration


def write_scenario(ws: Workspace, template: str, **values: object) -> Path:
    text = string.Template((RUN_FIXTURES / template).read_text()).substitute({k: str(v) for k, v in values.items()})
    path = ws.cwd / template.removesuffix(".in")
    path.write_text(text)
    return path


def proc_state(pid: int) -> str:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.rpartition(")")[2].split()[0]


@pytest.fixture
def tiny(workspace):
    """The tiny service on a free port, started by the test (with the workspace's token, so cleanup finds restarts)."""
    port, pid_file = free_port(), workspace.cwd / "svc.pid"
    proc = workspace.start_process(tiny_argv(port, pid_file))
    assert wait_for(lambda: pid_file.exists() and listening(port), 10), "tiny service did not start"
    return port, pid_file, proc


def test_external_target_drill_detected_by_our_webhook(workspace, tiny):
    port, pid_file, _ = tiny
    first_pid = read_pid(pid_file)
    scenario = write_scenario(workspace, "external-tiny.yaml.in", port=port, pid_file=pid_file, python=sys.executable, tiny=TINY)
    drill = workspace.spawn("run", str(scenario), "--mode", "ci", "--out", "out")

    head = drill.wait_line("alerts to ", timeout=20)
    assert head == drill.lines[0], drill.output()  # the intake URL is on the first line
    intake = re.search(r"alerts to (http://127\.0\.0\.1:\d+/webhooks/alertmanager)\s*$", head).group(1)
    drill.wait_line("FaultInjected", timeout=20)
    assert wait_for(lambda: proc_state(first_pid) in ("T", "t"), 3), "the fault did not stop the service"
    # Like real monitoring, alert only once the outage is visible. (Posting at once lets the automated
    # restart repair the service before the conductor's 4 Hz probes ever see impact; the drill then
    # counts the fault as absorbed and fails it with "Recovery was never observed".)
    drill.wait_line("ImpactStarted", timeout=10)

    # noise first: an alert that matches no detection signal is journaled, not counted
    status, reply = http_json("POST", intake, alertmanager_body("DiskAlmostFull", service="tiny"))
    assert status == 200 and reply["matched"] is False, reply
    status, reply = http_json("POST", intake, alertmanager_body("SvcDown", service="tiny", severity="critical"))
    assert status == 200 and reply["matched"] is True, reply

    code = drill.wait(40)
    assert code == 0, drill.output()
    assert "Traceback" not in drill.stderr, drill.output()
    out = workspace.cwd / "out"
    assert {p.name for p in out.iterdir()} == OUTPUT_FILES
    card = json.loads((out / "scorecard.json").read_text())
    assert card["passed"] is True, card["failures"]
    assert card["detection"]["verdict"] == "on_time" and card["detection"]["via"] == "alert", card["detection"]
    assert card["detection"]["signal"] == "svc down"

    events = read_events(out / "journal.jsonl")
    started = first(events, "DrillStarted")
    assert started["data"]["target"]["kind"] == "external"
    alerts = [e for e in events if e["kind"] == "AlertReceived"]
    assert [a["data"]["matched"] for a in alerts] == [False, True]
    assert first(events, "DetectionRecorded")["data"]["alert_seq"] == alerts[1]["seq"]
    restart = first(events, "ActionRecorded", action="runbook_finished", runbook="restart-svc")
    assert restart["data"]["ok"] is True and restart["source"] == "automation"
    assert first(events, "RecoveryObserved")["seq"] > restart["seq"]
    assert first(events, "FaultRolledBack", fault="freeze-svc")
    assert events[-1]["kind"] == "DrillEnded" and events[-1]["data"]["outcome"] == "completed"

    # the service answers after the drill (a new process: the runbook restarted it), running, not stopped
    new_pid = read_pid(pid_file)
    assert new_pid and new_pid != first_pid and proc_alive(new_pid) and proc_state(new_pid) not in ("T", "t")
    status, body = http_get(f"http://127.0.0.1:{port}/health")
    assert status == 200 and f"pid={new_pid}".encode() in body
    # no demo was started for an external target, and no fault is left open
    assert not workspace.state_file.exists() and not (workspace.state_dir / "demo").exists()
    assert workspace.ledger_entries() == []
    assert workspace.leftovers(settle=0) == []


def test_external_steady_state_not_met_exits_3_naming_the_check(workspace):
    port = free_port()  # nobody listens there
    scenario = write_scenario(workspace, "external-refused.yaml.in", port=port, pid_file=workspace.cwd / "nobody.pid")
    done = workspace.run("run", str(scenario), "--mode", "ci", "--out", "out", timeout=30)
    assert done.returncode == 3, done
    assert "Traceback" not in done.stderr, done
    assert "steady state not met before injection: svc health: connection refused" in done.stdout, done
    events = read_events(workspace.cwd / "out" / "journal.jsonl")
    assert "FaultInjected" not in kinds(events)
    check = first(events, "SteadyStateChecked", stage="preflight")
    assert check["data"]["checks"] == [{"check": "svc health", "ok": False, "detail": "connection refused"}]
    assert events[-1]["kind"] == "DrillEnded" and events[-1]["data"]["outcome"] == "aborted"
    assert (workspace.cwd / "out" / "postmortem.md").is_file()
    assert not (workspace.state_dir / "demo").exists()
    assert workspace.ledger_entries() == []


def test_intake_url_reaches_a_pipe_while_the_drill_runs(workspace, tiny):
    """Without PYTHONUNBUFFERED (a plain CI job), the first line must still arrive while the drill runs."""
    port, pid_file, _ = tiny
    scenario = write_scenario(workspace, "external-tiny.yaml.in", port=port, pid_file=pid_file, python=sys.executable, tiny=TINY)
    drill = workspace.spawn("run", str(scenario), "--mode", "ci", "--out", "out", unbuffered=False)
    try:
        head = drill.wait_line("alerts to ", timeout=3)
        assert drill.proc.poll() is None, "the line came only when the drill ended"
        assert "/webhooks/alertmanager" in head
    finally:
        if drill.proc.poll() is None:
            drill.proc.send_signal(signal.SIGTERM)  # rolls the fault back (if injected) and exits 3
        drill.wait(10)
