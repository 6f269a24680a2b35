"""The blameless postmortem: sections, drill marker, action items, escaping, overrides."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gameday.analysis.postmortem import ActionItem, action_items, md_escape, postmortem_context, render_postmortem
from gameday.errors import ConfigError
from gameday.fakes import ScriptedEvent
from gameday.fakes import write_journal as scripted_journal
from gameday.journal import Journal
from gameday.model.events import (
    ActionRecorded,
    AlertReceived,
    AlertRow,
    DetectionRecorded,
    DrillAborted,
    DrillEnded,
    DrillStarted,
    FaultInjected,
    FaultRolledBack,
    ImpactEnded,
    ImpactStarted,
    PhaseChanged,
    RecordedAction,
    RecoveryObserved,
    RoleAssigned,
)
from gameday.model.policy import SeverityPolicy
from gameday.model.scenario import Scenario
from gameday.model.scorecard import (
    CommsResult,
    DetectionResult,
    ExecutiveResult,
    Measure,
    RecoveryResult,
    RoleResult,
    Score,
    Scorecard,
    ScoreComponent,
    SeverityResult,
    StepResult,
)

XSS = "<script>alert(1)</script>"
ATTR = '"><img src=x onerror=alert(1)>'
IC, TL, CL = "incident-commander", "tech-lead", "comms-lead"

SCENARIO = Scenario.model_validate({
    "apiVersion": "gameday/v1", "id": "db-failover", "title": "Primary database fails", "severity": "SEV1",
    "description": "The primary database dies; checkout stops.", "service": "checkout",
    "target": {"url": "http://127.0.0.1:9", "processes": {"db": {"command": "postgres"}}},
    "steady_state": [{"name": "checkout", "http": {"url": "{target.url}/health"}}],
    "faults": [{"id": "kill-db", "description": "Kill the primary database", "at": "10s", "process": {"target": "db", "action": "kill"}}],
    "detection": {"within": "60s", "signals": [{"name": "db-down", "alert": {"alertname": "DatabaseDown"}}]},
    "response": [
        {"id": "ack", "action": "acknowledge", "role": IC, "within": "30s"},
        {"id": "failover", "action": "runbook", "runbook": "failover", "role": TL, "within": "2m"},
        {"id": "update", "action": "post_update", "role": CL, "within": "90s"},
    ],
    "runbooks": {"failover": {"restart": "db"}},
    "recovery": {"within": "5m"}, "abort": {"max_duration": "10m"},
})  # fmt: skip
POLICY = SeverityPolicy.model_validate({"name": "default", "levels": {"SEV1": {"description": "Complete outage."}}})

Row = ScriptedEvent


def write_journal(folder: Path, script: list[Row]) -> Journal:
    started = DrillStarted(drill_id="db-failover-20260101T090000Z", mode="gameday", scenario=SCENARIO, policy=POLICY)
    return scripted_journal(folder / "journal.jsonl", started, script)


def alert(t: float, name: str, matched: bool, summary: str = "") -> Row:
    payload = {"status": "firing", "alerts": [{"labels": {"alertname": name}, "annotations": {"summary": summary}}]}
    signal = "db-down" if matched else None
    row = AlertRow(status="firing", alertname=name, labels={"alertname": name, "service": "checkout"}, matched=matched, signal=signal)
    return (t, AlertReceived(format="alertmanager", matched=matched, signal=signal, error=None, alerts=[row], payload=payload), "webhook")


def act(t: float, author: str, role: str | None, action: RecordedAction, **data: Any) -> Row:
    return (t, ActionRecorded(action=action, author=author, role=role, **data), author)


def role(t: float, person: str, name: str) -> Row:
    return (t, RoleAssigned(person=person, role=name, by="facilitator"), "facilitator")


def recovered(t: float) -> Row:
    return (t, RecoveryObserved(checks=[]), "observer")


START: list[Row] = [(0.0, PhaseChanged(phase="inject"), "conductor"), (10.0, FaultInjected(fault="kill-db", kind="process"), "injector"),
                    (11.0, ImpactStarted(check="checkout", detail="HTTP 503"), "observer")]  # fmt: skip
END: list[Row] = [(400.0, FaultRolledBack(fault="kill-db", reason="end"), "injector"),
                  (401.0, DrillEnded(outcome="completed", reason=None), "conductor")]  # fmt: skip


def card(**update: Any) -> Scorecard:
    """A clean, passing scorecard; ``update`` replaces fields."""
    base = Scorecard(
        drill_id="db-failover-20260101T090000Z", scenario_id="db-failover", title="Primary database fails", mode="gameday",
        outcome="completed", started_at="2026-01-01T09:00:00.000000Z", ended_at="2026-01-01T09:06:41.000000Z",
        policy="default", expected_severity="SEV1",
        times=[Measure(name="MTTD", seconds=20.0, from_seq=2, to_seq=5, definition="first fault injected → first detection"),
               Measure(name="time_to_recovery", seconds=75.0, from_seq=2, to_seq=12, definition="injection → steady state again")],
        detection=DetectionResult(verdict="on_time", deadline_t=70.0, detected_t=30.0, via="alert", signal="db-down", seq=5),
        steps=[StepResult(id="ack", action="acknowledge", role=IC, anchor="detection", anchor_t=30.0, deadline_t=60.0, done_t=40.0,
                          verdict="on_time", author="alice", author_role=IC),
               StepResult(id="failover", action="runbook", role=TL, anchor="detection", anchor_t=30.0, deadline_t=150.0, done_t=60.0,
                          verdict="on_time", author="bob", author_role=TL),
               StepResult(id="update", action="post_update", role=CL, anchor="detection", anchor_t=30.0, deadline_t=120.0, done_t=70.0,
                          verdict="on_time", author="carol", author_role=CL)],
        severity=SeverityResult(expected="SEV1", first_declared="SEV1", final="SEV1", correct=True),
        executives=ExecutiveResult(required=True, within=0.0, notified_t=72.0, verdict="on_time"),
        comms=CommsResult(updates=2, required_every=1800.0, longest_gap=300.0, verdict="met"),
        roles=RoleResult(required=[IC, TL, CL], holders={IC: ["alice"], TL: ["bob"], CL: ["carol"]}, missing=[],
                         distinct_people=True, ic_did_technical_work=False),
        recovery=RecoveryResult(verdict="on_time", deadline_t=310.0, recovered_t=85.0),
        impact_seconds=74.0,
        score=Score(total=100.0, formula="100 × Σ(weight × earned) / Σ(weight)",
                    components=[ScoreComponent(name="detection", weight=25, earned=1.0), ScoreComponent(name="steps", weight=30, earned=1.0)]),
        passed=True, failures=[],
    )  # fmt: skip
    return base.model_copy(update=update)


@pytest.fixture
def clean(tmp_path: Path) -> tuple[Journal, Scorecard]:
    j = write_journal(tmp_path, START + [
        alert(30.0, "DatabaseDown", True, "primary down"),
        (30.0, DetectionRecorded(via="alert", signal="db-down", alertname="DatabaseDown", alert_seq=4), "webhook"),
        role(31, "alice", IC), role(31, "bob", TL), role(31, "carol", CL),
        act(40, "alice", IC, "acknowledge"), act(60, "bob", TL, "runbook_started", runbook="failover"),
        act(70, "carol", CL, "post_update", audience="internal", text="Checkout is down; we are failing over."),
        act(80, "bob", TL, "runbook_finished", runbook="failover", ok=True),
        recovered(85.0), (85.0, ImpactEnded(check="checkout"), "observer"),
    ] + END)  # fmt: skip
    return j, card()


@pytest.fixture
def silent(tmp_path: Path) -> tuple[Journal, Scorecard]:
    j = write_journal(tmp_path, [*START, alert(20.0, "HighLatency", False), recovered(300.0), *END])
    na = [s.model_copy(update={"verdict": "not_applicable", "anchor_t": None, "deadline_t": None, "done_t": None, "author": None,
                               "author_role": None}) for s in card().steps]  # fmt: skip
    return j, card(detection=DetectionResult(verdict="silent", deadline_t=70.0, detected_t=None), steps=na, passed=False,
                   recovery=RecoveryResult(verdict="on_time", deadline_t=310.0, recovered_t=300.0),
                   failures=["Detection was silent: impact started at +11.0s and no alert or person detected it"])  # fmt: skip


@pytest.fixture
def messy(tmp_path: Path) -> tuple[Journal, Scorecard]:
    """Late and missed steps, the IC running the runbook, severity misclassified; hostile text everywhere."""
    j = write_journal(tmp_path, START + [
        (50.0, DetectionRecorded(via="person", by=XSS, signal=None, alertname=None), XSS),
        role(51, XSS, IC),
        act(52, XSS, IC, "set_severity", severity="SEV3"),
        act(200, XSS, IC, "runbook_started", runbook="failover"),
        act(210, XSS, IC, "note", text=ATTR + " | `rm -rf` *bold* [x](javascript:alert(1))"),
        act(220, XSS, IC, "runbook_finished", runbook="failover", ok=False, error=ATTR),
        recovered(230.0),
    ] + END)  # fmt: skip
    c = card()
    steps = [c.steps[0].model_copy(update={"anchor_t": 50.0, "deadline_t": 80.0, "done_t": 120.0, "verdict": "late", "author": XSS,
                                           "note": ATTR}),
             c.steps[1].model_copy(update={"anchor_t": 50.0, "deadline_t": 170.0, "done_t": 200.0, "verdict": "late", "author": XSS,
                                           "author_role": IC, "note": f"done by {IC}, not {TL}"}),
             c.steps[2].model_copy(update={"anchor_t": 50.0, "deadline_t": 140.0, "done_t": None, "verdict": "missed", "author": None,
                                           "author_role": None})]  # fmt: skip
    return j, card(
        detection=DetectionResult(verdict="on_time", deadline_t=70.0, detected_t=50.0, via="person"), steps=steps,
        severity=SeverityResult(expected="SEV1", first_declared="SEV3", final="SEV3", correct=False),
        executives=ExecutiveResult(required=True, within=0.0, notified_t=None, verdict="missed"),
        comms=CommsResult(updates=0, required_every=1800.0, longest_gap=None, verdict="not_met"),
        roles=RoleResult(required=[IC, TL, CL], holders={IC: [XSS]}, missing=[TL, CL], distinct_people=True,
                         ic_did_technical_work=True, notes=["the incident commander also ran the failover runbook"]),
        recovery=RecoveryResult(verdict="on_time", deadline_t=310.0, recovered_t=230.0), passed=False,
        failures=[f"Step 'update' (post an update) was not done by its +2m20s deadline {XSS}"],
    )  # fmt: skip


@pytest.fixture
def aborted(tmp_path: Path) -> tuple[Journal, Scorecard]:
    j = write_journal(tmp_path, START + [
        (100.0, DrillAborted(reason="guardrail: max duration"), "conductor"),
        (101.0, FaultRolledBack(fault="kill-db", reason="abort"), "injector"),
        (102.0, DrillEnded(outcome="aborted", reason="guardrail: max duration"), "conductor"),
    ])  # fmt: skip
    na = [s.model_copy(update={"verdict": "not_applicable", "done_t": None, "author": None, "author_role": None}) for s in card().steps]
    return j, card(outcome="aborted", abort_reason="guardrail: max duration", steps=na, passed=False,
                   detection=DetectionResult(verdict="silent", deadline_t=70.0, detected_t=None),
                   recovery=RecoveryResult(verdict="never", deadline_t=310.0, recovered_t=None),
                   roles=RoleResult(required=[IC, TL, CL], holders={}, missing=[IC, TL, CL], distinct_people=True, ic_did_technical_work=False),
                   severity=SeverityResult(expected="SEV1", first_declared=None, final=None, correct=False),
                   executives=ExecutiveResult(required=True, within=0.0, notified_t=None, verdict="missed"),
                   comms=CommsResult(updates=0, required_every=1800.0, longest_gap=None, verdict="not_met"),
                   failures=["The drill was aborted (guardrail: max duration)"])  # fmt: skip


CASES = ["clean", "silent", "messy", "aborted"]
SECTIONS = ["Summary", "What happened", "Why it happened", "Impact", "What went well", "What could improve", "Expected vs actual", "Scorecard"]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("fmt", ["md", "html"])
def test_sections_drill_marker_and_blameless_tone(case: str, fmt: str, request: pytest.FixtureRequest) -> None:
    journal, c = request.getfixturevalue(case)
    out = render_postmortem(journal, c, fmt)
    assert "This postmortem describes a game-day drill (scenario db-failover), not a real incident." in out
    positions = [out.index(f"## {s}\n" if fmt == "md" else f"<h2>{s}</h2>") for s in SECTIONS]
    assert positions == sorted(positions)
    assert out.index("DRILL") < positions[0]
    assert "not measured in this drill (no load configured)" in out
    assert not re.search(r"failed to|fault of|blame(?!less)|should have", out, re.I)
    assert "Kill the primary database" in out and "db-failover-20260101T090000Z" in out


def test_html_is_self_contained(clean: tuple[Journal, Scorecard]) -> None:
    out = render_postmortem(*clean, "html")
    assert out.startswith("<!DOCTYPE html>") and out.rstrip().endswith("</html>")
    assert '<div class="banner"' in out and "<style>" in out
    for external in ("<script", "<link", "src=", "http://", "https://", "@import"):
        assert external not in out


def test_clean_drill_has_no_action_items_and_says_what_went_well(clean: tuple[Journal, Scorecard]) -> None:
    journal, c = clean
    assert action_items(c, journal) == []
    ctx = postmortem_context(journal, c)
    assert any("within its deadline" in w for w in ctx["went_well"]) and any("rolled back cleanly" in w for w in ctx["went_well"])
    md = render_postmortem(journal, c, "md")
    assert "No action items" in md
    assert "| +10.0s | 09:00:10 | injector |  | Fault kill-db injected (process) |" in md
    assert "carol | comms-lead | Posted an internal update: Checkout is down; we are failing over." in md
    assert "PhaseChanged" not in md and "PASS" in md
    # read from the typed DrillStarted: the scenario's faults, the policy's level, the probes' impact
    assert ("- **kill-db**: Kill the primary database — process fault: kill db (SIGKILL); scheduled at 10s, injected +10.0s, "
            "rolled back +6m40s (end).") in md
    assert "| Severity expected | SEV1 (Complete outage.) |" in md and "| checkout | +11.0s | +1m25s | 1m14s | HTTP 503 |" in md
    assert ctx["scenario"]["faults"][0]["at"] == "10s" and ctx["scenario"]["apiVersion"] == "gameday/v1"  # as journaled, for own templates


def test_silent_detection_action_item_comes_first(silent: tuple[Journal, Scorecard]) -> None:
    items = action_items(silent[1], silent[0])
    assert items[0] == ActionItem(title="Add an alert that fires when checkout fails", owner_role=TL, why=items[0].why)
    assert "Nothing detected the fault" in items[0].why
    assert "HighLatency" in items[1].why and items[1].owner_role == TL
    md = render_postmortem(*silent, "md")
    assert "1. **Add an alert that fires when checkout fails** — owner: tech-lead." in md
    assert "not detected" in md


def test_late_and_missed_steps_become_owned_action_items(messy: tuple[Journal, Scorecard]) -> None:
    titles = [(i.title, i.owner_role) for i in action_items(messy[1], messy[0])]
    assert titles == [
        ("Add an alert that fires when checkout fails", TL),  # detected by a person, not monitoring
        ("Make sure someone is prompted to post a stakeholder update (step update)", CL),
        ("Bring step ack (acknowledge the page) within its deadline", IC),
        ("Bring step failover (run the runbook) within its deadline", TL),
        ("Clarify the severity criteria for this failure (expected SEV1)", IC),
        ("Notify executives immediately for a SEV1 incident", CL),
        ("Post stakeholder updates at least every 30m00s", CL),
        ("Make sure someone takes the tech-lead role early in every incident", IC),
        ("Make sure someone takes the comms-lead role early in every incident", IC),
        ("Keep the incident commander on coordination; hand hands-on work to the tech-lead", IC),
        ("Fix runbook failover so it completes", TL),
    ]
    items = action_items(messy[1], messy[0])
    assert "40.0s after its deadline" in items[2].why
    gaps = postmortem_context(*messy)["gaps"]
    assert "Step ack (acknowledge the page) was done 40.0s after its deadline." in gaps
    assert "The incident commander also did hands-on technical work." in gaps


def test_aborted_drill(aborted: tuple[Journal, Scorecard]) -> None:
    journal, c = aborted
    items = action_items(c, journal)
    assert items[0].title == "Add an alert that fires when checkout fails"
    assert items[-1].title == "Run the drill again to completion" and "guardrail" in items[-1].why
    md = render_postmortem(journal, c, "md")
    assert "aborted (guardrail: max duration)" in md and "Drill aborted: guardrail: max duration" in md
    went = postmortem_context(journal, c)["went_well"]
    assert went[0].startswith("The drill itself surfaced the gaps")


def test_went_well_is_never_empty(aborted: tuple[Journal, Scorecard], tmp_path: Path) -> None:
    journal = write_journal(tmp_path / "bare", [])
    assert postmortem_context(journal, aborted[1])["went_well"]


def test_html_escapes_untrusted_text(messy: tuple[Journal, Scorecard]) -> None:
    out = render_postmortem(*messy, "html")
    assert "<script" not in out and "<img" not in out and "onerror=alert(1)>" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in out


def test_markdown_escapes_untrusted_text(messy: tuple[Journal, Scorecard]) -> None:
    out = render_postmortem(*messy, "md")
    assert "<script" not in out and "<img" not in out and not re.search(r"(?<!\\)\]\(javascript", out)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert "\\| \\`rm -rf\\` \\*bold\\* \\[x\\](javascript:alert(1))" in out
    for line in out.splitlines():
        if line.startswith("| +"):  # a timeline row: exactly its 6 column bars are unescaped
            assert len(re.findall(r"(?<!\\)\|", line)) == 6, line


def test_md_escape() -> None:
    assert md_escape("a<b>&c") == "a&lt;b&gt;&amp;c"
    assert md_escape("x|y`z*_[]~#\\") == "x\\|y\\`z\\*\\_\\[\\]\\~\\#\\\\"
    assert md_escape("two\nlines") == "two lines"
    assert md_escape(md_escape("<a|b>")) == md_escape("<a|b>")
    assert md_escape(None) == ""


def test_template_override_and_extension(clean: tuple[Journal, Scorecard], tmp_path: Path) -> None:
    own = tmp_path / "templates"
    own.mkdir()
    (own / "postmortem.md.j2").write_text("CUSTOM {{ summary.drill_id }} {{ action_items|length }} {{ '<b>' }}\n")
    assert render_postmortem(*clean, "md", templates_dir=own) == "CUSTOM db-failover-20260101T090000Z 0 &lt;b&gt;\n"
    (own / "postmortem.html.j2").write_text(
        '{% extends "gameday/postmortem.html.j2" %}{% block went_well %}<p>OURS {{ summary.title }}</p>{% endblock %}'
    )
    html = render_postmortem(*clean, "html", templates_dir=own)
    assert "<p>OURS Primary database fails</p>" in html and "<h2>What went well</h2>" not in html and "<h2>Impact</h2>" in html


def test_bad_inputs_are_config_errors(clean: tuple[Journal, Scorecard], tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="format"):
        render_postmortem(*clean, "pdf")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="does not exist"):
        render_postmortem(*clean, "md", templates_dir=tmp_path / "nope")
    (tmp_path / "postmortem.md.j2").write_text("{% if %}\n")
    with pytest.raises(ConfigError, match="postmortem.md.j2:1"):
        render_postmortem(*clean, "md", templates_dir=tmp_path)




def test_jinja2_is_imported_lazily() -> None:
    code = "import sys, gameday.analysis.postmortem, gameday.analysis.junit; assert 'jinja2' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_override_extending_its_own_name_is_a_config_error(clean: tuple[Journal, Scorecard], tmp_path: Path) -> None:
    (tmp_path / "postmortem.md.j2").write_text('{% extends "postmortem.md.j2" %}')
    with pytest.raises(ConfigError, match="extends itself"):
        render_postmortem(*clean, "md", templates_dir=tmp_path)
