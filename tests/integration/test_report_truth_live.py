"""Real drills that go wrong, and their reports read against their journals.

Each test runs ``gameday run`` in ci mode against a real external target (the tiny service of
``tests/fixtures/targets``, or a port nobody serves) with a scenario written to its working
folder, then reads the files the drill wrote — the one-line summary on stdout, scorecard
(JSON, Markdown), postmortem (Markdown, HTML) and JUnit — with the claims audit of
``tests/unit/test_report_truth.py``: nothing a report says may go beyond the journal's events.
Both scenarios have a response step and no responder script, so each drill also warns when
it starts and every report says why nothing responded.
"""

from __future__ import annotations

import html
import importlib.util
import json
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "run"))
from drillkit import TARGETS, Workspace, kinds, read_events, wait_for

sys.path.insert(0, str(TARGETS))
from harness import free_port, listening, tiny_argv

from gameday.analysis.junit import junit_xml
from gameday.analysis.postmortem import render_postmortem
from gameday.analysis.render import render_scorecard
from gameday.analysis.scorecard import score_journal
from gameday.journal import read_journal

pytestmark = pytest.mark.integration

SCENARIO = """\
apiVersion: gameday/v1
id: {id}
title: {title}
severity: SEV3
target:
  url: "http://127.0.0.1:{port}"
  processes:
    ghost: {{pid_file: "{ghost}"}}
steady_state:
  - name: svc health
    http: {{url: "{{target.url}}/health", expect_status: 200, timeout: 500ms}}
faults:
  - id: stop-ghost
    description: SIGSTOP a process that is not there
    at: 500ms
    process: {{target: ghost, action: stop}}
    max_duration: 5s
detection:
  within: 5s
response:
  - {{id: ack, action: acknowledge, within: 5s}}
recovery:
  within: 10s
abort:
  max_duration: 20s
timing:
  baseline: 500ms
"""
WARNING = "warning: ci drill without a responder script: no one will do step(s) ack"


def audit_module() -> ModuleType:
    path = Path(__file__).resolve().parents[1] / "unit" / "test_report_truth.py"
    spec = importlib.util.spec_from_file_location("report_truth_audit", path)
    assert spec and spec.loader
    module = sys.modules.get(spec.name)
    if module is None:
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # its dataclasses look their module up there
        spec.loader.exec_module(module)
    return module


def run_drill(ws: Workspace, scenario_id: str, title: str, port: int) -> tuple[int, list[str], Path]:
    path = ws.cwd / f"{scenario_id}.yaml"
    path.write_text(SCENARIO.format(id=scenario_id, title=title, port=port, ghost=ws.cwd / "nobody.pid"))
    done = ws.run("run", str(path), "--mode", "ci", "--out", "out", timeout=60)
    assert "Traceback" not in done.stderr, done
    return done.returncode, done.stdout.splitlines(), ws.cwd / "out"


def read_reports(out: Path, stdout: list[str]) -> dict[str, str]:
    """The files the drill wrote, and the summary it printed (from its 'drill ID: VERDICT' line on)."""
    start = next(i for i, line in enumerate(stdout) if re.match(r"drill \S+: (ABORTED|PASSED|NOT PASSED|INCOMPLETE) — ", line))
    return {
        "summary": "\n".join(line for line in stdout[start:] if not line.startswith(("scorecard:", "postmortem:", "journal:"))),
        "scorecard.json": (out / "scorecard.json").read_text(),
        "scorecard.md": (out / "scorecard.md").read_text(),
        "postmortem.md": (out / "postmortem.md").read_text(),
        "postmortem.html": html.unescape((out / "postmortem.html").read_text()),
        "junit.xml": html.unescape((out / "junit.xml").read_text()),
    }


def assert_follows_the_journal(out: Path, texts: dict[str, str]) -> None:
    """No report claims what the journal does not back; each report is what the journal alone renders."""
    audit = audit_module()
    journal = read_journal(out / "journal.jsonl")
    claims = audit.audit(journal)
    for name, text in texts.items():
        for pattern in claims.forbidden:
            found = re.search(pattern, text)
            assert found is None, f"{name} claims {found.group(0)!r}, which the journal does not back"
    for pattern in claims.required:
        assert re.search(pattern, texts["postmortem.md"]), pattern
    card = score_journal(journal)  # rescoring gives the same bytes: the reports speak from the journal only
    assert render_scorecard(card, "json") == texts["scorecard.json"]
    assert render_scorecard(card, "md") == texts["scorecard.md"]
    assert render_postmortem(journal, card, "md") == texts["postmortem.md"]
    assert html.unescape(junit_xml(card)) == texts["junit.xml"]
    for name in ("summary", "scorecard.md", "postmortem.md", "postmortem.html", "junit.xml"):
        assert "without a responder script" in texts[name], name
        assert "ABORTED — not scored" in texts[name], name


def test_an_injection_that_fails_is_reported_as_not_injected(workspace: Workspace) -> None:
    port, pid_file = free_port(), workspace.cwd / "svc.pid"
    workspace.start_process(tiny_argv(port, pid_file))
    assert wait_for(lambda: pid_file.exists() and listening(port), 10), "tiny service did not start"

    code, stdout, out = run_drill(workspace, "ghost-fault", "A fault whose target is not there", port)
    assert code == 3, stdout
    assert "alerts to http://127.0.0.1:" in stdout[0] and stdout[1].startswith(WARNING), stdout  # URL first, then the warning
    events = read_events(out / "journal.jsonl")
    assert kinds(events)[:3] == ["DrillStarted", "PhaseChanged", "RespondersNotLoaded"]
    assert events[2]["data"]["steps"] == ["ack"]
    assert [k for k in kinds(events) if k.startswith("FaultInj")] == ["FaultInjected", "FaultInjectionFailed"]

    texts = read_reports(out, stdout)
    assert_follows_the_journal(out, texts)
    card = json.loads(texts["scorecard.json"])
    assert (card["verdict"], card["score"]["status"], card["score"]["total"]) == ("aborted", "not_scored", None)
    assert card["passed"] is False
    fault = card["faults"][0]
    assert (fault["id"], fault["status"], fault["rollback"]) == ("stop-ghost", "injection_failed", "rolled_back")
    assert "stop-ghost: not injected: its injection started at +0.5s and did not succeed; rolled back" in texts["scorecard.md"]
    md = texts["postmortem.md"]
    assert re.search(r"scheduled at 500ms, not injected: the injection started at \+0\.5s and did not succeed "
                     r"\(process 'ghost'", md)
    assert "Fault stop-ghost injection started (process); it did not succeed" in md
    assert "injected +" not in md
    props = {p.get("name"): p.get("value") for p in ET.fromstring((out / "junit.xml").read_bytes()).iter("property")}
    assert (props["verdict"], props["score"], props["passed"]) == ("aborted", "not scored", "false")


def test_a_drill_stopped_before_injection_reports_nothing_injected(workspace: Workspace) -> None:
    port = free_port()  # nobody listens: the steady state never holds
    code, stdout, out = run_drill(workspace, "nobody-home", "Steady state not met", port)
    assert code == 3, stdout
    assert stdout[1].startswith(WARNING), stdout
    events = read_events(out / "journal.jsonl")
    assert "FaultInjected" not in kinds(events) and "RespondersNotLoaded" in kinds(events)

    texts = read_reports(out, stdout)
    assert_follows_the_journal(out, texts)
    md = texts["postmortem.md"]
    assert "The steady state did not hold before injection (failing: svc health), so no fault was injected" in md
    assert "not injected: the journal records no injection of it" in md
    assert "No fault was injected, so the response was not tested." in md
    assert "no fault had been injected" in texts["summary"]
