"""Drills that do not end by themselves: SIGINT, SIGTERM, and ``kill -9`` of the conductor.

A signal must abort the drill, roll the live fault back at once, still write the reports
and exit 3. A ``kill -9`` leaves the fault in the ledger: the next drill is refused and
``gameday recover`` rolls it back.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "run"))
from drillkit import (  # noqa: E402
    OUTPUT_FILES,
    RUN_FIXTURES,
    Workspace,
    assert_no_demo_left,
    first,
    http_get,
    http_json,
    is_demo_process,
    kinds,
    pids_with_token,
    read_events,
    wait_for,
    wait_for_event,
)

pytestmark = pytest.mark.integration

LONG_CATALOG_BREAK = RUN_FIXTURES / "catalog-break-long.yaml"  # fault at 1s, max_duration 60s, abort 120s
DB_FAILURE_MANUAL = RUN_FIXTURES / "db-failure-manual.yaml"  # primary killed at 1s, nothing repairs it
# Hang guards, not speed checks (speed is benchmarked in bench/): far below the fault's 60 s
# max_duration, so a drill that ignored the signal still fails here, and far above what a loaded
# 2-CPU machine needs.
ABORT_TO_ROLLBACK_LIMIT = 30.0
EXIT_WITHIN = 30.0


def demo_up(ws: Workspace) -> dict:
    done = ws.run("demo", "up", timeout=30)
    assert done.returncode == 0, done
    state = ws.demo_state()
    assert state is not None, done
    return state


def interrupt_mid_drill(ws: Workspace, sig: signal.Signals, *, while_live=None) -> tuple[int, float, list[dict]]:
    """Start the long catalog drill, wait for its fault, run ``while_live()``, send ``sig``.

    Returns (exit code, seconds from the signal to exit, journal events).
    """
    drill = ws.spawn("run", str(LONG_CATALOG_BREAK), "--mode", "ci", "--out", "out")
    journal = ws.cwd / "out" / "journal.jsonl"
    wait_for_event(journal, "FaultInjected", drill.proc, timeout=30)
    wait_for(lambda: "ActivityRan" in kinds(read_events(journal)), 5)  # the method ran: the catalog is broken
    if while_live is not None:
        while_live()
    sent = time.monotonic()
    os.kill(drill.pid, sig)
    code = drill.wait(EXIT_WITHIN)
    took = time.monotonic() - sent
    assert "Traceback" not in drill.stderr, drill.output()
    return code, took, read_events(journal)


def assert_aborted_and_rolled_back(events: list[dict], sig: signal.Signals) -> float:
    """The journal ends DrillAborted (the signal) → FaultRolledBack (signal) → ... → DrillEnded; returns abort→rollback s."""
    aborted = first(events, "DrillAborted")
    assert sig.name in aborted["data"]["reason"] and aborted["data"]["reason"].startswith("signal"), aborted
    rolled = first(events, "FaultRolledBack", fault="break-catalog")
    assert rolled["data"]["reason"] == "signal", rolled
    ended = events[-1]
    assert ended["kind"] == "DrillEnded" and ended["data"]["outcome"] == "aborted", kinds(events)
    assert sig.name in ended["data"]["reason"]
    assert aborted["seq"] < rolled["seq"] < ended["seq"]
    assert "FaultRollbackFailed" not in kinds(events)
    after_abort = kinds(events[events.index(aborted):])
    assert after_abort.count("FaultRolledBack") == 1 and "DetectionRecorded" not in kinds(events)
    final = first(events, "SteadyStateChecked", stage="final")
    assert final["data"]["ok"] is True, final  # the conductor's own probe: /products answers again
    latency = rolled["t"] - aborted["t"]
    print(f"\n{sig.name}: abort -> rolled back {latency * 1000:.0f} ms (DrillAborted t={aborted['t']:.3f}s, "
          f"FaultRolledBack t={rolled['t']:.3f}s)")
    assert 0 <= latency < ABORT_TO_ROLLBACK_LIMIT, latency
    return latency


def test_sigint_mid_drill_rolls_back_and_exits_3(workspace):
    """The demo is started first (`gameday demo up`), so the drill attaches and leaves it running: check it after."""
    state = demo_up(workspace)
    url, control = state["url"], state["control_url"]
    assert http_get(f"{url}/products")[0] == 200

    def catalog_is_broken() -> None:
        assert http_get(f"{url}/products")[0] == 500

    code, took, events = interrupt_mid_drill(workspace, signal.SIGINT, while_live=catalog_is_broken)
    assert code == 3, kinds(events)
    print(f"SIGINT: exit {took:.2f}s after the signal")
    assert_aborted_and_rolled_back(events, signal.SIGINT)
    out = workspace.cwd / "out"
    assert {p.name for p in out.iterdir()} == OUTPUT_FILES
    assert "aborted" in (out / "postmortem.md").read_text().lower()
    assert workspace.ledger_entries() == []
    # the demo outlived the drill (it was not the drill's to stop), with its catalog restored and no webhook of ours
    assert http_get(f"{url}/products")[0] == 200
    status, body = http_json("GET", f"{control}/status")
    assert status == 200 and body["catalog"] == "ok" and body["webhook_urls"] == [], body
    assert all(p["alive"] for p in body["processes"].values()), body
    down = workspace.run("demo", "down", timeout=30)
    assert down.returncode == 0, down
    assert_no_demo_left(workspace)


def test_sigterm_mid_drill_rolls_back_exits_3_and_stops_its_own_demo(workspace):
    """Here the drill starts the demo itself: after the abort it must roll back *and* stop the demo."""

    def catalog_is_broken() -> None:
        state = workspace.demo_state()
        assert state is not None
        assert http_get(f"{state['url']}/products")[0] == 500

    code, took, events = interrupt_mid_drill(workspace, signal.SIGTERM, while_live=catalog_is_broken)
    assert code == 3, kinds(events)
    print(f"SIGTERM: exit {took:.2f}s after the signal")
    assert_aborted_and_rolled_back(events, signal.SIGTERM)  # incl. the final probe: /products 200 before the demo stopped
    assert (workspace.cwd / "out" / "postmortem.md").is_file()
    assert {p.name for p in (workspace.cwd / "out").iterdir()} == OUTPUT_FILES
    assert workspace.ledger_entries() == []
    assert_no_demo_left(workspace)


def test_kill_9_of_the_conductor_then_recover(workspace):
    state = demo_up(workspace)
    url, control = state["url"], state["control_url"]
    drill = workspace.spawn("run", str(DB_FAILURE_MANUAL), "--mode", "ci", "--out", "out")
    journal = workspace.cwd / "out" / "journal.jsonl"
    injected = wait_for_event(journal, "FaultInjected", drill.proc, timeout=30)
    # the kill ran (its ActivityRan is journaled after the ledger marks the fault injected)
    assert wait_for(lambda: any(e["kind"] == "ActivityRan" and e["data"].get("owner") == "kill-primary"
                                for e in read_events(journal)), 10), kinds(read_events(journal))
    assert wait_for(lambda: http_get(f"{url}/health")[0] != 200, 5)

    os.kill(drill.pid, signal.SIGKILL)
    assert drill.wait(5) == -signal.SIGKILL

    (entry,) = workspace.ledger_entries()
    assert entry["fault_id"] == "kill-primary" and entry["status"] == "injected", entry
    drill_id = entry["drill_id"]
    assert drill_id == first(read_events(journal), "DrillStarted")["data"]["drill_id"]
    assert injected["data"]["fault"] == "kill-primary"
    _, body = http_json("GET", f"{control}/status")
    assert not body["processes"][body["primary"]]["alive"], body  # the primary is still dead: nobody rolled back

    refused = workspace.run("run", str(DB_FAILURE_MANUAL), "--mode", "ci", "--out", "out2", timeout=30)
    assert refused.returncode == 3, refused
    assert "gameday recover" in refused.stderr + refused.stdout, refused
    assert "kill-primary" in refused.stderr and "Traceback" not in refused.stderr, refused
    assert not (workspace.cwd / "out2").exists()

    recovered = workspace.run("recover", timeout=60)
    assert recovered.returncode == 0, recovered
    assert f"rolled back kill-primary of drill {drill_id}" in recovered.stdout, recovered
    assert "restore-db-primary succeeded" in recovered.stdout, recovered
    assert workspace.ledger_entries() == []

    _, body = http_json("GET", f"{control}/status")
    primary = body["primary"]
    assert primary and body["processes"][primary]["alive"] and body["processes"][primary]["role"] == "primary", body
    assert wait_for(lambda: http_get(f"{url}/health")[0] == 200, 10), "checkout /health is not 200 after recover"
    events = read_events(journal)
    back = first(events, "FaultRolledBack", fault="kill-primary")
    assert back["data"]["reason"] == "recover" and back["source"] == "recover"

    again = workspace.run("recover", timeout=30)
    assert again.returncode == 0 and "ledger is clear" in again.stdout, again
    down = workspace.run("demo", "down", timeout=30)
    assert down.returncode == 0 and "demo stopped" in down.stdout, down
    assert_no_demo_left(workspace)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_while_the_run_starts_its_demo_leaves_no_demo_behind(workspace, sig):
    drill = workspace.spawn("run", str(LONG_CATALOG_BREAK), "--mode", "ci", "--out", "out")

    def supervisor_started() -> bool:
        return any(is_demo_process(p) and b"gameday.demo.supervisor" in Path(f"/proc/{p}/cmdline").read_bytes()
                   for p in pids_with_token(workspace.token))

    assert wait_for(supervisor_started, 15, 0.01), drill.output()
    os.kill(drill.pid, sig)  # the demo is starting: the drill has not begun, nothing is injected
    code = drill.wait(EXIT_WITHIN)
    assert "Traceback" not in drill.stderr, drill.output()
    assert workspace.ledger_entries() == []
    left = workspace.leftovers(settle=3)
    assert left == [], "demo processes survived:\n" + "\n".join(left)
    assert code == 3, drill.output()
