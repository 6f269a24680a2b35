"""Real drills of the shipped scenarios against the embedded demo (``gameday run ... --mode ci``).

Each slow drill runs once (module-scoped) and several tests read its outputs. The run
starts the demo itself (no demo is running in its fresh working folder), so it must
also stop it: every drill here ends with no demo process left.
"""

from __future__ import annotations

import json
import re
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "run"))
from drillkit import (  # noqa: E402
    OUTPUT_FILES,
    RUN_FIXTURES,
    SCENARIOS,
    Done,
    Workspace,
    assert_no_demo_left,
    first,
    kinds,
    read_events,
)

pytestmark = pytest.mark.integration


@dataclass
class Drill:
    ws: Workspace
    done: Done
    out: Path

    @property
    def events(self) -> list[dict]:
        return read_events(self.out / "journal.jsonl")

    @property
    def scorecard(self) -> dict:
        return json.loads((self.out / "scorecard.json").read_text())


def drill(ws: Workspace, scenario: Path, timeout: float = 90) -> Drill:
    done = ws.run("run", str(scenario), "--mode", "ci", "--out", "out", timeout=timeout)
    return Drill(ws, done, ws.cwd / "out")


@pytest.fixture(scope="module")
def db_drill(module_workspace_factory) -> Drill:
    return drill(module_workspace_factory("db"), SCENARIOS / "checkout-db-primary-failure.yaml")


@pytest.fixture(scope="module")
def silent_drill(module_workspace_factory) -> Drill:
    return drill(module_workspace_factory("silent"), SCENARIOS / "catalog-silent-failure.yaml")


@pytest.fixture(scope="module")
def hang_drill(module_workspace_factory) -> Drill:
    return drill(module_workspace_factory("hang"), SCENARIOS / "checkout-api-hang.yaml")


# ------------------------------------------------------------------ database primary failure


def test_db_failure_drill_meets_its_expectations(db_drill):
    d = db_drill
    assert d.done.returncode == 0, d.done
    assert "Traceback" not in d.done.stderr, d.done
    assert {p.name for p in d.out.iterdir()} == OUTPUT_FILES
    assert "expectations met" in d.done.stdout
    card = d.scorecard
    assert card["passed"] is True and card["outcome"] == "completed", card["failures"]
    assert card["detection"]["verdict"] == "on_time" and card["detection"]["via"] == "alert", card["detection"]
    assert d.ws.ledger_entries() == []


def test_db_failure_junit_has_every_testcase_passing(db_drill):
    root = ET.parse(db_drill.out / "junit.xml").getroot()
    cases = root.findall(".//testcase")
    assert len(cases) >= 3
    names = {c.get("name") for c in cases}
    assert {"detection", "recovery", "step.failover"} <= names
    bad = [(c.get("name"), child.tag) for c in cases for child in c if child.tag in ("failure", "error", "skipped")]
    assert bad == []
    for suite in [root, *root.iter("testsuite")]:
        assert (suite.get("failures"), suite.get("errors")) == ("0", "0")


def test_db_failure_journal_tells_the_story_in_order(db_drill):
    events = db_drill.events
    injected = first(events, "FaultInjected", fault="kill-primary")
    detected = first(events, "DetectionRecorded", via="alert")
    runbook = first(events, "ActionRecorded", action="runbook_started", runbook="failover")
    recovered = first(events, "RecoveryObserved")
    rolled_back = first(events, "FaultRolledBack", fault="kill-primary")
    ended = events[-1]
    assert runbook["source"] == "automation" and runbook["data"]["author"] == "automation"
    assert detected["data"]["alertname"] in ("CheckoutErrorsHigh", "CheckoutDown")
    assert rolled_back["data"]["reason"] == "end"
    assert ended["kind"] == "DrillEnded" and ended["data"]["outcome"] == "completed"
    seqs = [e["seq"] for e in (injected, detected, runbook, recovered, rolled_back, ended)]
    assert seqs == sorted(seqs), kinds(events)
    assert [e["seq"] for e in events] == list(range(len(events)))


def test_db_failure_drill_stops_the_demo_it_started(db_drill):
    assert db_drill.ws.demo_pids, "the drill's demo was never seen running"
    assert_no_demo_left(db_drill.ws)
    assert not db_drill.ws.state_file.exists()


def test_rescoring_the_journal_is_deterministic_and_matches_the_run(db_drill):
    ws = db_drill.ws
    one = ws.run("score", "out/journal.jsonl", "--format", "json", timeout=30)
    two = ws.run("score", "out/journal.jsonl", "--format", "json", timeout=30)
    assert one.returncode == 0 and two.returncode == 0, one
    assert one.stdout_bytes == two.stdout_bytes
    assert one.stdout_bytes == (db_drill.out / "scorecard.json").read_bytes()
    assert json.loads(one.stdout)["passed"] is True


# ------------------------------------------------------------------ silent catalog failure


def test_silent_failure_exits_1_with_detection_silent(silent_drill):
    d = silent_drill
    assert d.done.returncode == 1, d.done
    assert "Traceback" not in d.done.stderr, d.done
    assert {p.name for p in d.out.iterdir()} == OUTPUT_FILES
    card = d.scorecard
    assert card["passed"] is False and card["outcome"] == "completed"
    assert card["detection"]["verdict"] == "silent", card["detection"]
    assert "DetectionRecorded" not in kinds(d.events)
    assert first(d.events, "FaultRolledBack", fault="break-catalog")["data"]["reason"] == "max_duration"
    assert_no_demo_left(d.ws)


def test_silent_failure_postmortem_first_action_item_is_the_missing_alert(silent_drill):
    text = (silent_drill.out / "postmortem.md").read_text()
    items = re.findall(r"^\s*1\.\s+(.*)$", text.split("## What could improve", 1)[-1], flags=re.M)
    assert items, text
    assert re.sub(r"[*_]", "", items[0]).startswith("Add an alert"), items[0]
    assert "product catalog" in items[0]


def test_silent_failure_junit_reports_the_detection_failure(silent_drill):
    cases = {c.get("name"): c for c in ET.parse(silent_drill.out / "junit.xml").getroot().iter("testcase")}
    failure = cases["detection"].find("failure")
    assert failure is not None and failure.get("type") == "silent"


# ------------------------------------------------------------------ checkout hang


def test_checkout_hang_is_detected_by_checkout_down_and_restarted(hang_drill):
    d = hang_drill
    assert d.done.returncode == 0, d.done
    card = d.scorecard
    assert card["passed"] is True
    assert card["detection"]["verdict"] == "on_time" and card["detection"]["via"] == "alert", card["detection"]
    detected = first(d.events, "DetectionRecorded")
    assert detected["data"]["alertname"] == "CheckoutDown"
    finished = first(d.events, "ActionRecorded", action="runbook_finished", runbook="restart-checkout")
    assert finished["data"]["ok"] is True and finished["source"] == "automation"
    assert first(d.events, "FaultRolledBack", fault="freeze-checkout")
    assert d.events[-1]["kind"] == "DrillEnded"
    assert d.ws.ledger_entries() == []
    assert_no_demo_left(d.ws)


# ------------------------------------------------------------------ steady state not met (demo)


def test_steady_state_not_met_on_the_demo_exits_3_injects_nothing_and_stops_the_demo(workspace):
    done = workspace.run("run", str(RUN_FIXTURES / "demo-missing-page.yaml"), "--mode", "ci", "--out", "out", timeout=60)
    assert done.returncode == 3, done
    assert "Traceback" not in done.stderr, done
    assert "steady state not met" in done.stdout and "missing page: status 404" in done.stdout, done
    events = read_events(workspace.cwd / "out" / "journal.jsonl")
    check = first(events, "SteadyStateChecked", stage="preflight")
    assert check["data"]["ok"] is False
    assert [c["check"] for c in check["data"]["checks"] if not c["ok"]] == ["missing page"]
    assert "FaultInjected" not in kinds(events)
    aborted = first(events, "DrillAborted")
    assert "steady state not met" in aborted["data"]["reason"] and "missing page" in aborted["data"]["reason"]
    assert events[-1]["kind"] == "DrillEnded" and events[-1]["data"]["outcome"] == "aborted"
    card = json.loads((workspace.cwd / "out" / "scorecard.json").read_text())
    assert any("no fault had been injected" in f for f in card["failures"]), card["failures"]
    assert workspace.demo_pids, "the drill's demo was never seen running"
    assert_no_demo_left(workspace)
    assert workspace.ledger_entries() == []


# ------------------------------------------------------------------ invalid input


def test_invalid_scenario_exits_2_with_one_located_line_and_writes_nothing(workspace):
    scenario = RUN_FIXTURES / "invalid-duration.yaml"
    done = workspace.run("run", str(scenario), "--mode", "ci", "--out", "out", timeout=30)
    assert done.returncode == 2, done
    assert "Traceback" not in done.stderr and done.stdout == "", done
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done
    located = r".*invalid-duration\.yaml:15:11: detection\.within: expected a duration like .*got 'soon'"
    assert re.fullmatch(located, lines[0]), lines
    assert not (workspace.cwd / "out").exists()
    assert workspace.ledger_entries() == [] and not workspace.state_file.exists()
    assert workspace.leftovers(settle=0) == []
