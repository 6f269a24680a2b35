"""Tabletop mode against the real demo: a tabletop touches nothing on a running target, and the same
scenario run live (ci) and as a tabletop with equivalent scripted participants gives the same
scorecard fields and comparable measures."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "run"))
from drillkit import SCENARIOS, Workspace, http_json, kinds, read_events  # noqa: E402
from test_controlroom_browser import db_drill_copy  # the shipped drill, its fault sooner

pytestmark = pytest.mark.integration

LIVE = SCENARIOS / "checkout-db-primary-failure.yaml"
TABLETOP_RESPONDERS = SCENARIOS / "responders" / "checkout-db-primary-failure.tabletop.yaml"
TABLETOP_ONLY = {"clocks", "objectives", "exercise"}


def run_tabletop(ws: Workspace, out: str = "tabletop", scenario: Path = LIVE,
                 responders: Path = TABLETOP_RESPONDERS) -> dict:
    done = ws.run("run", str(scenario), "--mode", "tabletop", "--pace", "instant", "--responders", str(responders),
                  "--out", out, timeout=60)
    assert done.returncode == 0, done
    assert "Traceback" not in done.stderr, done
    return json.loads((ws.cwd / out / "scorecard.json").read_text())


def demo_status(ws: Workspace) -> dict:
    state = ws.demo_state()
    assert state is not None
    code, status = http_json("GET", f"{state['control_url']}/status")
    assert code == 200, status
    return status


def test_a_tabletop_changes_nothing_on_the_running_demo(workspace: Workspace) -> None:
    done = workspace.run("demo", "up", timeout=60)
    assert done.returncode == 0, done
    state_before = workspace.state_file.read_bytes()
    status_before = demo_status(workspace)
    card = run_tabletop(workspace)
    assert card["mode"] == "tabletop" and card["verdict"] == "passed", card
    assert demo_status(workspace) == status_before  # same processes, same pids, same primary: nothing was killed
    assert workspace.state_file.read_bytes() == state_before  # not even reset
    assert workspace.ledger_entries() == []
    events = read_events(workspace.cwd / "tabletop" / "journal.jsonl")
    assert "ActivityRan" not in kinds(events)  # no Chaos Toolkit activity, no process signal, no HTTP call
    assert {e["source"] for e in events if e["kind"] in ("FaultInjected", "FaultRolledBack")} == {"simulator"}
    assert workspace.run("demo", "down", timeout=60).returncode == 0


def sooner_resolution(ws: Workspace, responders: Path) -> Path:
    """A copy of ``responders`` in which alice resolves 2 s after the recovery, not 6 s (inside the 20 s deadline)."""
    old = "{as: alice, action: resolved, after: recovery, delay: 6s}"
    text = responders.read_text(encoding="utf-8")
    assert text.count(old) == 1, responders
    path = ws.cwd / responders.name
    path.write_text(text.replace(old, old.replace("delay: 6s", "delay: 2s")), encoding="utf-8")
    return path


def test_the_same_scenario_live_and_as_a_tabletop_gives_comparable_scorecards(workspace: Workspace) -> None:
    # both runs: the same copy of the scenario (the fault at 1s), the same people resolving sooner after recovery
    scenario = db_drill_copy(workspace.cwd, sooner_resolution(workspace, SCENARIOS / "responders" /
                                                              "checkout-db-primary-failure.ci.yaml"))
    live = workspace.run("run", str(scenario), "--mode", "ci", "--out", "live", timeout=120)
    assert live.returncode == 0, live
    ci = json.loads((workspace.cwd / "live" / "scorecard.json").read_text())
    tt = run_tabletop(workspace, scenario=scenario, responders=sooner_resolution(workspace, TABLETOP_RESPONDERS))
    assert set(tt) == set(ci) | TABLETOP_ONLY  # the same scorecard, plus the exercise's own fields
    assert (ci["mode"], tt["mode"]) == ("ci", "tabletop")
    assert [m["name"] for m in tt["times"]] == [m["name"] for m in ci["times"]]
    assert all("wall_seconds" in m for m in tt["times"]) and not any("wall_seconds" in m for m in ci["times"])
    for key in ("verdict",):
        assert tt[key] == ci[key], key
    assert tt["detection"]["verdict"] == ci["detection"]["verdict"] == "on_time"
    assert tt["detection"]["signal"] == ci["detection"]["signal"] or tt["detection"]["via"] == ci["detection"]["via"]
    assert {s["id"]: s["verdict"] for s in tt["steps"]} == {s["id"]: s["verdict"] for s in ci["steps"]}
    assert tt["severity"]["correct"] and ci["severity"]["correct"]
    assert tt["recovery"]["verdict"] == ci["recovery"]["verdict"]
    measure = {card["mode"]: {m["name"]: m["seconds"] for m in card["times"]} for card in (ci, tt)}
    # detection: both inside the scenario's 15 s deadline (the live one waits for the real alerting pipeline)
    assert all(0 <= measure[mode]["MTTD"] <= 15.0 for mode in measure), measure
    # acknowledgement: the same scripted delay after detection in both (a live drill's thread may lag a little)
    assert abs(measure["ci"]["MTTA"] - measure["tabletop"]["MTTA"]) <= 2.0, measure
    # recovery: inside the 40 s deadline in both; counted from detection (where the failover starts in both),
    # a tabletop's fix works at once and a live failover takes what it takes
    assert all(0 < measure[mode]["time_to_recovery"] <= 40.0 for mode in measure), measure
    after = {mode: measure[mode]["time_to_recovery"] - measure[mode]["MTTD"] for mode in measure}
    assert 0 <= after["tabletop"] <= after["ci"] + 1.0, measure
