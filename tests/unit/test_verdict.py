"""Score and verdict tell one story (docs/scoring.md, "Score and verdict").

Hypothesis writes drill journals (real journal writer, fake clock) over every combination
that matters — completed, aborted or crashed; the fault injected, failed, skipped or never
reached; impact, detection, recovery, actions and role assignments present or not; roles
declared or not; weights including 0 — scores them, renders every report, and checks that
nothing contradicts: the verdict follows the outcome and the pass gates, an aborted drill has
no score, a drill that did not pass never shows 100, one that passed never shows 0, "nothing
to score" is never a number, and the one-line summary, the scorecard (JSON, Markdown, HTML),
JUnit and the postmortem all carry the same headline.
"""

from __future__ import annotations

import json
import re
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gameday.analysis.junit import junit_xml
from gameday.analysis.postmortem import render_postmortem
from gameday.analysis.render import render_scorecard
from gameday.analysis.scorecard import score_journal
from gameday.drill.reports import summary_line
from gameday.fakes import ScriptedEvent, write_journal
from gameday.journal import Journal, read_journal
from gameday.model.events import (
    ActionRecorded,
    AlertReceived,
    AlertRow,
    CheckResult,
    DetectionRecorded,
    DrillAborted,
    DrillEnded,
    DrillStarted,
    FaultInjected,
    FaultInjectionFailed,
    FaultRolledBack,
    FaultSkipped,
    ImpactEnded,
    ImpactStarted,
    PhaseChanged,
    RecoveryObserved,
    RoleAssigned,
    SteadyStateChecked,
)
from gameday.model.policy import DEFAULT_POLICY
from gameday.model.scenario import Scenario
from gameday.model.scorecard import GATES, VERDICT_LABEL, Score, Scorecard, headline, score_text, verdict_of

IC, TL, CL = "incident-commander", "tech-lead", "comms-lead"
GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "journals"
LABELS = re.compile(r"(NOT PASSED|PASSED|ABORTED|INCOMPLETE) — ")
A_SCORE = re.compile(r"\d+(?:\.\d+)?/100\b")

STEPS = {
    "ack": {"id": "ack", "action": "acknowledge", "role": IC, "within": "10s"},
    "update": {"id": "update", "action": "post_update", "within": "20s"},
    "early": {"id": "early", "action": "note", "role": TL, "within": "3s", "after": "injection"},
}


def scenario(roles_declared: bool, steps: list[str], weights: dict[str, float]) -> Scenario:
    data: dict[str, Any] = {
        "apiVersion": "gameday/v1", "id": "verdict", "title": "Verdict drill", "severity": "SEV2",
        "target": {"url": "http://127.0.0.1:9", "processes": {"db": {"command": "postgres"}}},
        "steady_state": [{"name": "checkout", "http": {"url": "{target.url}/health"}}],
        "faults": [{"id": "kill-db", "at": "5s", "process": {"target": "db", "action": "kill"}}],
        "detection": {"within": "10s", "signals": [{"name": "db-down", "alert": {"alertname": "DatabaseDown"}}]},
        "response": [STEPS[s] for s in steps], "recovery": {"within": "30s"}, "abort": {"max_duration": "5m"},
        "scoring": weights,
    }  # fmt: skip
    if roles_declared:
        data["roles"] = [IC, TL, CL]
    return Scenario.model_validate(data)


@dataclass(frozen=True)
class Drill:
    """One drill's story, in parameters hypothesis varies."""

    roles_declared: bool
    steps: list[str]
    weights: dict[str, float]
    preflight_ok: bool
    fault: str  # injected | failed | skipped | unreached
    impact: bool
    detected_at: float | None
    recovered_at: float | None
    acked_at: float | None
    updated_at: float | None
    noted_at: float | None
    severity: str | None
    roles: list[str]
    ending: str  # completed | aborted | crash
    end_at: float


def drills() -> st.SearchStrategy[Drill]:
    when = st.none() | st.floats(min_value=5.5, max_value=60.0, allow_nan=False).map(lambda x: round(x, 1))
    weight = st.sampled_from([0.0, 1.0, 5.0, 25.0, 0.001])
    return st.builds(
        Drill,
        roles_declared=st.booleans(),
        steps=st.lists(st.sampled_from(sorted(STEPS)), unique=True, max_size=3),
        weights=st.fixed_dictionaries({}, optional=dict.fromkeys(("detection", "steps", "recovery", "severity", "comms",
                                                                  "roles"), weight)),
        preflight_ok=st.sampled_from([True] * 5 + [False]),
        fault=st.sampled_from(["injected"] * 5 + ["failed", "skipped", "unreached"]),
        impact=st.booleans(), detected_at=when, recovered_at=when, acked_at=when, updated_at=when, noted_at=when,
        severity=st.none() | st.sampled_from(["SEV1", "SEV2"]),
        roles=st.lists(st.sampled_from([IC, TL, CL]), unique=True),
        ending=st.sampled_from(["completed"] * 4 + ["aborted", "crash"]),
        end_at=st.floats(min_value=6.0, max_value=90.0, allow_nan=False).map(lambda x: round(x, 1)),
    )  # fmt: skip


def script(d: Drill) -> list[ScriptedEvent]:
    """The journal lines of ``d``, as the conductor would write them (injection failure aborts, and so on)."""
    healthy = [CheckResult(check="checkout", ok=d.preflight_ok, detail="HTTP 200" if d.preflight_ok else "HTTP 503")]
    out: list[ScriptedEvent] = [(0.0, PhaseChanged(phase="preflight"), "conductor"),
                                (0.1, SteadyStateChecked(ok=d.preflight_ok, stage="preflight", checks=healthy), "conductor")]
    aborted = None if d.preflight_ok else "steady state not met before injection: checkout: HTTP 503"
    end = d.end_at if d.preflight_ok else 0.3
    if d.preflight_ok:
        out += [(0.5, RoleAssigned(person=f"p-{r}", role=r, by="dana"), "dana") for r in d.roles]
        if d.fault == "skipped":
            out.append((1.0, FaultSkipped(fault="kill-db", by="dana"), "dana"))
        elif d.fault in ("injected", "failed"):
            out.append((5.0, FaultInjected(fault="kill-db", kind="process"), "injector"))
            if d.fault == "failed":
                out.append((5.1, FaultInjectionFailed(fault="kill-db", error="no such process"), "injector"))
                aborted, end = "injector failed: fault kill-db: no such process", 5.2
        elif d.fault == "unreached":
            aborted, end = aborted or "SIGINT", min(end, 4.0)
    live = [(t, e) for t, e in (
        (5.3, ImpactStarted(check="checkout", detail="HTTP 503") if d.impact else None),
        (d.detected_at, "detect"),
        (d.acked_at, ActionRecorded(action="acknowledge", author="p-ic", role=IC)),
        (d.updated_at, ActionRecorded(action="post_update", author="p-cl", role=CL, audience="internal", text="update")),
        (d.noted_at, ActionRecorded(action="note", author="p-tl", role=TL, text="looking")),
        (d.acked_at, ActionRecorded(action="set_severity", author="p-ic", role=IC, severity=d.severity) if d.severity else None),
        (d.recovered_at, "recover" if d.impact else None),
    ) if t is not None and e is not None and t < end]  # fmt: skip
    if d.preflight_ok and d.fault != "failed":
        for t, e in live:
            if e == "detect":
                row = AlertRow(status="firing", alertname="DatabaseDown", matched=True, signal="db-down")
                out += [(t, AlertReceived(format="alertmanager", matched=True, signal="db-down", alerts=[row]), "webhook"),
                        (t, DetectionRecorded(via="alert", signal="db-down", alertname="DatabaseDown"), "webhook")]
            elif e == "recover":
                out += [(t, ImpactEnded(check="checkout"), "observer"), (t, RecoveryObserved(checks=["checkout"]), "observer")]
            elif not isinstance(e, str):
                out.append((t, e, getattr(e, "author", "observer")))
    if d.ending == "crash" and aborted is None:
        return sorted(out, key=lambda r: r[0])
    if d.ending == "aborted" and aborted is None:
        aborted = "SIGINT"
    if aborted is not None:
        out.append((end, DrillAborted(reason=aborted), "conductor"))
    if d.fault in ("injected", "failed") and d.preflight_ok:
        out.append((end + 0.1, FaultRolledBack(fault="kill-db", reason="abort" if aborted else "end"), "injector"))
    out.append((end + 0.2, DrillEnded(outcome="aborted" if aborted else "completed", reason=aborted), "conductor"))
    return sorted(out, key=lambda r: r[0])


def journal_of(d: Drill, folder: Path) -> Journal:
    sc = scenario(d.roles_declared, d.steps, d.weights)
    started = DrillStarted(drill_id="verdict-drill", mode="ci", scenario=sc, policy=DEFAULT_POLICY.scaled(0.0167))
    return write_journal(folder / "journal.jsonl", started, script(d))


def reports(card: Scorecard, journal: Journal) -> dict[str, str]:
    """Every text a drill's reader sees, by name."""
    return {
        "summary": summary_line(card),
        "scorecard.md": render_scorecard(card, "md"),
        "scorecard.html": render_scorecard(card, "html"),
        "postmortem.md": render_postmortem(journal, card, "md"),
        "postmortem.html": render_postmortem(journal, card, "html"),
        "junit.xml": junit_xml(card),
    }


def assert_one_story(card: Scorecard, texts: dict[str, str]) -> None:
    """The properties of docs/scoring.md, "Score and verdict", for one card and its renderings."""
    s = card.score
    comps = {c.name: c for c in s.components if c.earned is not None and c.weight > 0}
    assert card.verdict == verdict_of(card.outcome, card.passed)
    assert (card.verdict == "passed") == card.passed
    assert (s.total is None) == (s.status != "scored")
    if card.outcome != "completed":
        assert s.status == "not_scored" and not card.passed and card.verdict == card.outcome
    if card.passed:
        assert card.outcome == "completed" and s.status != "not_scored"
        assert all(comps[g].earned == 1 for g in GATES if g in comps)
        assert any(f.status == "injected" for f in card.faults)
    if s.status == "scored":
        assert s.total is not None
        assert 0 < s.total <= 100 if card.passed else 0 <= s.total < 100
        assert any(g in comps for g in GATES)
    if s.status == "nothing_to_score":
        assert not any(g in comps for g in GATES) and card.passed
    label = VERDICT_LABEL[card.verdict]
    if card.failures:  # the postmortem never says "every expectation was met" beside an expectation not met
        assert "every expectation was met" not in texts["postmortem.md"].lower()
    for name, text in texts.items():
        assert headline(card) in text, name
        assert set(LABELS.findall(text)) == {label}, name
        if s.status != "scored":
            assert not A_SCORE.search(text), (name, A_SCORE.search(text))
    props = {p.get("name"): p.get("value") for p in ET.fromstring(texts["junit.xml"].encode()).iter("property")}
    assert (props["verdict"], props["passed"], props["score"]) == (card.verdict, str(card.passed).lower(),
                                                                   score_text(card).removesuffix("/100"))
    drill = next(tc for tc in ET.fromstring(texts["junit.xml"].encode()).iter("testcase") if tc.get("name") == "drill")
    outcome = [child.tag for child in drill if child.tag in ("failure", "error")]
    assert outcome == ([] if card.passed else ["error"] if card.outcome != "completed" else ["failure"])
    data = json.loads(texts.get("scorecard.json") or render_scorecard(card, "json"))
    assert (data["verdict"], data["passed"], data["score"]["status"], data["score"]["total"]) == (
        card.verdict, card.passed, s.status, s.total)


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(drills())
def test_score_and_verdict_never_contradict(d: Drill) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        journal = journal_of(d, Path(tmp))
        card = score_journal(journal)
        assert_one_story(card, reports(card, journal))
        again = read_journal(journal.path)
        assert render_scorecard(score_journal(again), "json") == render_scorecard(card, "json")  # same bytes


@settings(max_examples=80, deadline=None, derandomize=True)
@given(outcome=st.sampled_from(["completed", "aborted", "incomplete"]), passed=st.booleans(),
       status=st.sampled_from(["scored", "nothing_to_score", "not_scored"]),
       total=st.floats(min_value=0, max_value=100, allow_nan=False))
def test_a_hand_built_card_still_reads_one_way(outcome: str, passed: bool, status: str, total: float) -> None:
    """Renderers take the verdict and the score text from the card's one headline, whatever a hand-built card
    (made with ``model_copy``, unvalidated) holds: an aborted card never reads as passed or shows a number."""
    base = score_journal(read_journal(GOLDEN / "clean.jsonl"))
    score = Score.model_construct(status=status, total=round(total, 1) if status == "scored" else None,
                                  components=base.score.components, formula=base.score.formula, note="")
    card = base.model_copy(update={"outcome": outcome, "passed": passed, "score": score})
    label = VERDICT_LABEL[verdict_of(outcome, passed)]
    for name, text in reports(card, read_journal(GOLDEN / "clean.jsonl")).items():
        assert set(LABELS.findall(text)) == {label}, name
        if outcome != "completed" or status != "scored":
            assert not A_SCORE.search(text), name


# ------------------------------------------------------------------ the two contradictions the issue saw


def test_small_scenario_without_roles_is_not_held_to_the_default_roles(tmp_path: Path) -> None:
    """Was 'score 0/100 — PASSED': a fault the system absorbed, only the roles component applied, and the
    three default roles the scenario never asked for were unfilled."""
    d = Drill(roles_declared=False, steps=[], weights={}, preflight_ok=True, fault="injected", impact=False,
              detected_at=None, recovered_at=None, acked_at=None, updated_at=None, noted_at=None, severity=None,
              roles=[], ending="completed", end_at=20.0)  # fmt: skip
    journal = journal_of(d, tmp_path)
    assert journal.events[0].data.roles_declared is False  # type: ignore[union-attr]
    card = score_journal(journal)
    assert (card.roles.asked_by, card.roles.required, card.roles.missing) == ("none", [], [])
    assert (card.verdict, card.score.status, card.score.total) == ("passed", "nothing_to_score", None)
    assert headline(card) == "PASSED — nothing to score"
    assert "No one held" not in " ".join(card.failures)
    assert_one_story(card, reports(card, journal))


def test_roles_named_by_steps_are_the_ones_asked_for(tmp_path: Path) -> None:
    d = Drill(roles_declared=False, steps=["ack", "update"], weights={}, preflight_ok=True, fault="injected", impact=True,
              detected_at=8.0, recovered_at=20.0, acked_at=9.0, updated_at=12.0, noted_at=None, severity="SEV2",
              roles=[], ending="completed", end_at=40.0)  # fmt: skip
    card = score_journal(journal_of(d, tmp_path))
    assert (card.roles.asked_by, card.roles.required, card.roles.missing) == ("steps", [IC], [IC])
    assert [f for f in card.failures if "role" in f] == ["No one held the incident-commander role"]
    assert card.passed and card.score.total is not None and 0 < card.score.total < 100
    assert headline(card).startswith("PASSED — score ")


def test_an_aborted_drill_is_not_scored() -> None:
    """Was '100/100 — NOT PASSED': an aborted drill whose every measured component earned full marks."""
    journal = read_journal(GOLDEN / "aborted.jsonl")
    card = score_journal(journal)
    assert all(c.earned in (1.0, None) for c in card.score.components)  # what it measured was perfect
    assert (card.verdict, card.score.status, card.score.total) == ("aborted", "not_scored", None)
    assert headline(card) == "ABORTED — not scored"
    assert summary_line(card).startswith("drill checkout-db-primary-failure-aborted: ABORTED — not scored. The drill was "
                                         "aborted (SIGINT)")
    assert_one_story(card, reports(card, journal))


def test_skipping_every_fault_tests_nothing(tmp_path: Path) -> None:
    d = Drill(roles_declared=True, steps=[], weights={}, preflight_ok=True, fault="skipped", impact=False,
              detected_at=None, recovered_at=None, acked_at=None, updated_at=None, noted_at=None, severity=None,
              roles=[IC, TL, CL], ending="completed", end_at=20.0)  # fmt: skip
    card = score_journal(journal_of(d, tmp_path))
    assert (card.verdict, card.score.status) == ("not_passed", "not_scored")
    assert card.failures[0].startswith("No fault was injected (kill-db skipped by dana): the drill tested nothing")
    assert headline(card) == "NOT PASSED — not scored"


@pytest.mark.parametrize(("weights", "passed", "total", "note"), [
    ({"detection": 0.001, "steps": 0, "recovery": 0, "severity": 1000, "comms": 0, "roles": 0}, True, 0.1, "held at 0.1"),
    ({"detection": 1000, "recovery": 0.001, "steps": 0, "severity": 0, "comms": 0, "roles": 0}, False, 99.9, "held at 99.9"),
])  # fmt: skip
def test_rounding_never_shows_0_for_a_pass_or_100_for_a_fail(tmp_path: Path, weights: dict[str, float], passed: bool,
                                                              total: float, note: str) -> None:
    # detection on time; severity never classified (0); recovery late (½)
    d = Drill(roles_declared=True, steps=[], weights=weights, preflight_ok=True, fault="injected", impact=True,
              detected_at=8.0, recovered_at=50.0 if not passed else 20.0, acked_at=None, updated_at=None, noted_at=None,
              severity=None, roles=[], ending="completed", end_at=60.0)  # fmt: skip
    card = score_journal(journal_of(d, tmp_path))
    assert (card.passed, card.score.total) == (passed, total)
    assert card.score.note.startswith(note)


def test_a_weight_of_zero_switches_a_gate_off(tmp_path: Path) -> None:
    d = Drill(roles_declared=True, steps=[], weights={"recovery": 0}, preflight_ok=True, fault="injected", impact=True,
              detected_at=8.0, recovered_at=None, acked_at=None, updated_at=None, noted_at=None, severity="SEV2",
              roles=[IC, TL, CL], ending="completed", end_at=60.0)  # fmt: skip
    card = score_journal(journal_of(d, tmp_path))
    recovery = next(c for c in card.score.components if c.name == "recovery")
    assert recovery.earned == 0.0 and "weight 0: not counted" in recovery.note
    assert card.passed and any(f.startswith("Recovery was never observed") for f in card.failures)


def test_drill_started_keeps_whether_roles_were_declared(tmp_path: Path) -> None:
    for declared in (True, False):
        sc = scenario(declared, [], {})
        started = DrillStarted(drill_id="d", mode="ci", scenario=sc, policy=DEFAULT_POLICY)
        assert started.roles_declared is declared
        journal = write_journal(tmp_path / f"{declared}.jsonl", started, [])
        assert journal.events[0].data.roles_declared is declared  # type: ignore[union-attr]
    # a journal written before the field (the scenario with every default filled in): declared
    line = json.loads((GOLDEN / "release-0.1" / "clean.jsonl").read_text().splitlines()[0])
    assert "roles_declared" not in line["data"]
    assert read_journal(GOLDEN / "release-0.1" / "clean.jsonl").started.data.roles_declared  # type: ignore[union-attr]
