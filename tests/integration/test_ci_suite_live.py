"""Real CI suites: ``gameday run DIR --mode ci`` against the embedded demo on loopback.

The suite under test is written to a fresh folder: three short live drills — a database failover
(the demo is left failed over: the next drill's reset must undo it), a checkout hang (restarted by
its automated runbook), a silent catalog failure (expectations not met) — beside a tabletop
exercise (skipped) and an invalid scenario. No demo runs in the working folder, so the suite starts
one, once, and must stop it. A second test interrupts a suite (SIGINT) while its first drill's fault
is live.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "run"))
from drillkit import (
    RUN_FIXTURES,
    Done,
    Workspace,
    assert_no_demo_left,
    first,
    kinds,
    read_events,
    wait_for,
    wait_for_event,
)

pytestmark = pytest.mark.integration

EXPERIMENTS = Path(__file__).resolve().parents[2] / "experiments"
SUITE_TIMEOUT = 120.0  # a hang guard: the suite's drills last ~15 s of their own


def _responders(folder: Path, name: str, actions: str) -> Path:
    path = folder / "people" / f"{name}.ci.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text("people: {alice: incident-commander, bob: tech-lead, carol: comms-lead}\nactions:\n" + actions)
    return path


def _steps_and_people(folder: Path, name: str, runbook: str, experiment: str) -> str:
    people = _responders(folder, name, """\
  - {as: alice, action: acknowledge, after: detection, delay: 200ms}
  - {as: alice, action: declare_incident, after: detection, delay: 300ms}
  - {as: alice, action: set_severity, severity: SEV1, after: detection, delay: 400ms}
  - {as: carol, action: notify_executives, after: detection, delay: 500ms, text: "Checkout is down; we are on it."}
  - {as: carol, action: post_update, audience: external, after: detection, delay: 600ms, text: "Checkout is down."}
  - {as: alice, action: resolved, after: recovery, delay: 300ms}
""")
    return f"""\
roles: [incident-commander, tech-lead, comms-lead]
response:
  - {{id: acknowledge, action: acknowledge, role: incident-commander, within: 5s, after: detection}}
  - {{id: severity, action: set_severity, expect: SEV1, within: 10s, after: detection}}
  - {{id: {runbook}, action: runbook, runbook: {runbook}, role: tech-lead, within: 15s, after: detection}}
  - {{id: status, action: post_update, audience: external, role: comms-lead, within: 15s, after: detection}}
  - {{id: resolve, action: resolved, role: incident-commander, within: 15s, after: recovery}}
runbooks:
  {runbook}:
    experiment: {EXPERIMENTS / experiment}
    automated_in: [ci]
policy:
  scale: 0.0167
responders: {people}
"""


def _head(scenario_id: str, title: str, severity: str = "SEV1") -> str:
    return f"apiVersion: gameday/v1\nid: {scenario_id}\ntitle: {title}\nseverity: {severity}\ntarget: demo\n"


def write_suite(folder: Path) -> Path:
    """The suite's folder (scenarios named so that they sort in the order described above)."""
    folder.mkdir(parents=True)
    (folder / "a-db-failover.yaml").write_text(_head("suite-db-failover", "The primary database dies") + f"""\
steady_state:
  - {{name: checkout health, http: {{url: "{{target.url}}/health", expect_status: 200}}}}
faults:
  - {{id: kill-primary, at: 1s, experiment: {EXPERIMENTS / "kill-db-primary.yaml"}, max_duration: 40s}}
detection:
  within: 15s
  signals:
    - {{name: checkout errors, alert: {{alertname: CheckoutErrorsHigh}}}}
    - {{name: checkout down, alert: {{alertname: CheckoutDown}}}}
recovery: {{within: 30s}}
abort: {{max_duration: 90s}}
timing: {{baseline: 500ms, cooldown: 500ms}}
""" + _steps_and_people(folder, "db", "failover", "promote-replica.yaml"))
    (folder / "b-hang.yaml").write_text(_head("suite-checkout-hang", "The checkout API hangs") + f"""\
steady_state:
  - {{name: checkout health, http: {{url: "{{target.url}}/health", expect_status: 200, timeout: 500ms}}}}
faults:
  - {{id: freeze-checkout, at: 1s, experiment: {EXPERIMENTS / "hang-checkout.yaml"}, max_duration: 40s}}
detection:
  within: 10s
  signals:
    - {{name: checkout down, alert: {{alertname: CheckoutDown}}}}
recovery: {{within: 30s}}
abort: {{max_duration: 90s}}
timing: {{baseline: 500ms, cooldown: 500ms}}
""" + _steps_and_people(folder, "hang", "restart-checkout", "restart-checkout.yaml"))
    (folder / "c-silent.yaml").write_text(_head("suite-catalog-silent", "The catalog breaks silently", "SEV2") + f"""\
steady_state:
  - {{name: product catalog, http: {{url: "{{target.url}}/products", expect_status: 200}}}}
faults:
  - {{id: break-catalog, at: 1s, experiment: {EXPERIMENTS / "break-catalog.yaml"}, max_duration: 3s}}
detection:
  within: 2s
  signals:
    - {{name: catalog alert, alert: {{alertname: CatalogErrors}}}}
recovery: {{within: 20s}}
abort: {{max_duration: 60s}}
timing: {{baseline: 500ms, cooldown: 500ms}}
""")
    tabletop = (folder / "b-hang.yaml").read_text().replace("id: suite-checkout-hang", "id: suite-tabletop")
    objectives = "objectives:\n  - {id: fast, title: Restart fast, steps: [restart-checkout]}\n"
    (folder / "d-tabletop.yaml").write_text(tabletop + objectives)
    (folder / "e-invalid.yaml").write_text(_head("suite-invalid", "Broken") + "faults: soon\n")
    return folder


@dataclass
class Suite:
    ws: Workspace
    done: Done

    def junit(self) -> ET.Element:
        (path,) = sorted((self.ws.cwd / "reports").glob("suites/*/junit.xml"))
        return ET.parse(path).getroot()

    def drill_ids(self) -> dict[str, str]:
        """Scenario id -> drill id, from the scorecards written."""
        out = {}
        for path in sorted((self.ws.cwd / "scorecards").glob("*.json")):
            card = json.loads(path.read_text())
            out[card["scenario_id"]] = card["drill_id"]
        return out


@pytest.fixture(scope="module")
def suite(module_workspace_factory) -> Suite:
    ws = module_workspace_factory("suite")
    write_suite(ws.cwd / "ci")
    return Suite(ws, ws.run("run", "ci", "--mode", "ci", timeout=SUITE_TIMEOUT))


def test_the_suite_exits_with_the_worst_code_and_says_why(suite: Suite) -> None:
    done = suite.done
    assert done.returncode == 2, done  # the invalid scenario (2) outranks the silent failure (1)
    assert "Traceback" not in done.stderr, done
    assert "e-invalid.yaml:6:9: faults:" in done.stderr, done  # located, on stderr
    assert "skipped ci/d-tabletop.yaml: a tabletop exercise" in done.stdout, done
    assert done.stdout.count("demo started for the suite") == 1, done
    assert "suite: 5 scenario(s): 2 passed, 1 not met, 1 skipped, 1 invalid; exit 2" in done.stdout, done
    # a drill's reports are written while the next one plays, yet the output reads as if one after another:
    # each drill's lines, its summary and report paths included, before the next drill's first line
    lines = done.stdout.splitlines()
    starts = [n for n, line in enumerate(lines) if line.startswith("suite [")] + [len(lines)]
    assert len(starts) == 4, done
    for a, b in itertools.pairwise(starts):
        block = lines[a:b]
        drill = next(line.split(":")[0] for line in block if line.startswith("drill ") and "mode); alerts to" in line)
        assert [line for line in block if line.startswith(f"{drill}: ")], block  # its summary (the scorecard's headline)
        assert sum(line.startswith("journal:") for line in block) == 1, block


def test_the_junit_file_has_one_suite_per_scenario(suite: Suite) -> None:
    root = suite.junit()
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert list(suites) == ["gameday.suite-db-failover", "gameday.suite-checkout-hang", "gameday.suite-catalog-silent",
                            "gameday.suite-tabletop", "gameday.e-invalid"]

    def bad(name: str) -> list[tuple[str | None, str]]:
        return [(c.get("name"), child.tag) for c in suites[name].iter("testcase") for child in c
                if child.tag in ("failure", "error", "skipped")]

    for name in ("gameday.suite-db-failover", "gameday.suite-checkout-hang"):
        cases = {c.get("name") for c in suites[name].iter("testcase")}
        assert {"detection", "recovery", "drill"} <= cases and bad(name) == [], (name, bad(name))
    assert ("detection", "failure") in bad("gameday.suite-catalog-silent")
    assert ("drill", "failure") in bad("gameday.suite-catalog-silent")
    assert bad("gameday.suite-tabletop") == [("drill", "skipped")]
    (error,) = suites["gameday.e-invalid"].iter("error")
    assert error.get("type") == "invalid" and "e-invalid.yaml:" in (error.text or "")
    for key in ("tests", "failures", "errors", "skipped"):
        assert int(root.get(key, "-1")) == sum(int(s.get(key, "0")) for s in suites.values()), key
    assert (root.get("errors"), root.get("skipped")) == ("1", "1")


def test_each_drill_wrote_its_history_as_a_single_run_does(suite: Suite) -> None:
    ids = suite.drill_ids()
    assert set(ids) == {"suite-db-failover", "suite-checkout-hang", "suite-catalog-silent"}
    cwd = suite.ws.cwd
    for scenario, drill_id in ids.items():
        assert (cwd / "scorecards" / f"{drill_id}.md").is_file()
        folder = cwd / "reports" / drill_id
        assert {"journal.jsonl", "postmortem.md", "postmortem.html", "junit.xml"} <= {p.name for p in folder.iterdir()}
        card = json.loads((cwd / "scorecards" / f"{drill_id}.json").read_text())
        assert card["mode"] == "ci" and card["outcome"] == "completed", (scenario, card["failures"])
        assert card["passed"] is (scenario != "suite-catalog-silent"), (scenario, card["failures"])
        rescored = suite.ws.run("score", str(folder / "journal.jsonl"), timeout=30)
        assert rescored.stdout_bytes == (cwd / "scorecards" / f"{drill_id}.json").read_bytes()


def test_one_demo_served_every_drill_and_was_reset_between_them(suite: Suite) -> None:
    ids = suite.drill_ids()
    cwd = suite.ws.cwd
    journals = {s: read_events(cwd / "reports" / d / "journal.jsonl") for s, d in ids.items()}
    urls = {first(ev, "DrillStarted")["data"]["target"]["url"] for ev in journals.values()}
    assert len(urls) == 1, urls  # one start-up of the target
    db, hang = journals["suite-db-failover"], journals["suite-checkout-hang"]
    assert first(db, "ActionRecorded", action="runbook_started", runbook="failover")  # the demo was failed over ...
    assert first(hang, "SteadyStateChecked", stage="preflight")["data"]["ok"] is True  # ... and reset before the next
    assert first(db, "DrillEnded")["wall"] < first(hang, "DrillStarted")["wall"]  # one after another
    assert suite.ws.ledger_entries() == []
    assert_no_demo_left(suite.ws)


# ------------------------------------------------------------------ SIGINT during a suite


def test_sigint_aborts_the_drill_playing_rolls_back_and_starts_no_other(workspace: Workspace, tmp_path: Path) -> None:
    later = write_suite(tmp_path / "later")
    first_drill = RUN_FIXTURES / "catalog-break-long.yaml"  # catalog broken at 1 s for 60 s, no alert can fire
    spawned = workspace.spawn("run", str(first_drill), str(later / "b-hang.yaml"), str(later / "c-silent.yaml"),
                              "--mode", "ci", "--out", "out")
    reports = workspace.cwd / "reports"
    assert wait_for(lambda: any(reports.glob("catalog-break-long-*/journal.jsonl")), 60), spawned.output()
    (journal,) = reports.glob("catalog-break-long-*/journal.jsonl")
    wait_for_event(journal, "FaultInjected", spawned.proc, timeout=30)
    wait_for(lambda: "ActivityRan" in kinds(read_events(journal)), 5)  # the method ran: the catalog is broken
    os.kill(spawned.pid, signal.SIGINT)
    sent = time.monotonic()
    code = spawned.wait(60)
    assert code == 3, spawned.output()
    assert "Traceback" not in spawned.stderr, spawned.output()
    print(f"\nSIGINT -> suite exit {time.monotonic() - sent:.2f}s")

    events = read_events(journal)  # the drill playing: aborted, its fault rolled back, its reports written
    assert first(events, "DrillAborted")["data"]["reason"] == "signal: SIGINT"
    assert first(events, "FaultRolledBack", fault="break-catalog")["data"]["reason"] == "signal"
    assert events[-1]["kind"] == "DrillEnded" and events[-1]["data"]["outcome"] == "aborted"
    assert (journal.parent / "junit.xml").is_file() and len(list((workspace.cwd / "scorecards").glob("*.json"))) == 1
    assert sorted(p.name for p in reports.iterdir()) == [journal.parent.name]  # no other drill was started

    root = ET.parse(workspace.cwd / "out" / "junit.xml").getroot()  # the suite's JUnit file, still written
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["gameday.catalog-break-long", "gameday.suite-checkout-hang",
                                               "gameday.suite-catalog-silent"]
    aborted = next(c for c in suites[0].iter("testcase") if c.get("name") == "drill").find("error")
    assert aborted is not None and aborted.get("type") == "aborted"
    for rest in suites[1:]:
        (skipped,) = rest.iter("skipped")
        assert skipped.get("message") == "not started: the suite was interrupted (SIGINT)"
    assert "the suite was interrupted (SIGINT); exit 3" in spawned.output()
    assert workspace.ledger_entries() == []
    assert_no_demo_left(workspace)  # the demo the suite started is stopped
