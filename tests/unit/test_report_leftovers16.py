"""Leftovers of issue 16's reports: a recurring step judged late for a gap in its cadence is reported by its cadence
(never "done -2.0s after its deadline"), and the training rubric and the tabletop's after-action report show the
incident clock in a time-scaled drill (an unscaled drill's words are unchanged). Journals go through the real scoring
path (golden journals, or ``write_journal`` → ``score_journal`` → the renderers)."""

from __future__ import annotations

from pathlib import Path

from test_rubric import CL, OUTAGE, act, drill, judge
from test_tabletop_analysis import IC, exercise_script, live_script, merged, scenario, started

from gameday.analysis.aar import aar_context, render_aar
from gameday.analysis.findings import action_items, cadence_misses
from gameday.analysis.lessons import contributing_gaps
from gameday.analysis.postmortem import postmortem_context, render_postmortem
from gameday.analysis.scorecard import score_journal
from gameday.fakes import ScriptedEvent, write_journal
from gameday.journal import Journal, read_journal
from gameday.model.events import DrillEnded, DrillStarted
from gameday.model.policy import DEFAULT_POLICY

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "journals"
STATUS = "Step status (post a stakeholder update)"
SCALED_CADENCE = ("due every 30.0s (29m56s on the incident clock) while the incident is open; the longest gap was 33.0s "
                  "(32m56s on the incident clock)")
CADENCE = "due every 30.0s while the incident is open; the longest gap was 33.0s"


def copy(golden: Path, folder: Path) -> Journal:
    """A golden journal read from a copy in ``folder`` (journals derived from it are written beside it)."""
    (folder / golden.name).write_bytes(golden.read_bytes())
    return read_journal(folder / golden.name)


def rescaled(journal: Journal, scale: float = 1.0, moved: dict[float, float] | None = None) -> Journal:
    """``journal`` again (beside it, ``-rescaled``) with the scenario's ``policy.scale`` (and the policy) at ``scale``;
    ``moved``: events at one offset moved to another."""
    start = journal.started.data
    assert isinstance(start, DrillStarted)
    sc = start.scenario.model_copy(update={"policy": start.scenario.policy.model_copy(update={"scale": scale})})
    again = start.model_copy(update={"scenario": sc, "policy": DEFAULT_POLICY.scaled(scale)})
    script = sorted((((moved or {}).get(e.t, e.t), e.data, e.source) for e in journal.events[1:]), key=lambda e: e[0])
    return write_journal(Path(journal.path).with_name(f"{Path(journal.path).stem}-rescaled.jsonl"), again, script)


# ---------------------------------------------------------------------------- a cadence is not a deadline


def test_a_step_late_for_its_cadence_is_reported_by_its_cadence_on_both_clocks() -> None:
    """The late golden's ``status`` (every 30s) was first posted at +25.0s, before its +27.0s deadline, and then not
    for 33.0s: every report says so in the failure line's words, never that it was done -2.0s after its deadline."""
    journal = read_journal(GOLDEN / "late.jsonl")
    card = score_journal(journal)
    assert f"Step 'status' (post_update external) is {SCALED_CADENCE}" in card.failures
    gaps = contributing_gaps(card, journal)
    assert f"{STATUS} is {SCALED_CADENCE}." in gaps
    assert "Step acknowledge (acknowledge the page) was done 3.0s (3m00s on the incident clock) after its deadline." in gaps
    items = {i.gap: i for i in action_items(card, journal)}
    assert items["step:status"].title == "Keep step status (post a stakeholder update) at its cadence while the incident is open"
    assert items["step:status"].why == f"It was first done at +25.0s, by its deadline (+27.0s), and is {SCALED_CADENCE}."
    assert items["step:acknowledge"].title == "Bring step acknowledge (acknowledge the page) within its deadline"
    rows = {r["what"]: r for r in postmortem_context(journal, card)["expected_vs_actual"]}
    status = rows["Step status (post a stakeholder update, comms-lead)"]
    assert (status["verdict"], status["class"]) == (SCALED_CADENCE, "late")
    assert rows["Step acknowledge (acknowledge the page, incident-commander)"]["verdict"] == (
        "3.0s (3m00s on the incident clock) after its deadline")
    for fmt in ("md", "html"):
        text = render_postmortem(journal, card, fmt)  # type: ignore[arg-type]
        assert "-2.0s" not in text and "It was done at +25.0s" not in text


def test_the_findings_identity_of_a_cadence_gap_is_unchanged() -> None:
    """Only the words shown changed: the gap keys (a finding's identity) are those of every late golden drill."""
    journal = read_journal(GOLDEN / "late.jsonl")
    assert [i.gap for i in action_items(score_journal(journal), journal)] == [
        "step:executives", "step:acknowledge", "step:severity", "step:failover", "step:status", "severity",
        "comms-cadence", "ic-hands-on"]


def test_an_unscaled_drill_reports_the_cadence_on_one_clock(tmp_path: Path) -> None:
    journal = rescaled(copy(GOLDEN / "late.jsonl", tmp_path))
    card = score_journal(journal)
    assert card.scale is None and f"Step 'status' (post_update external) is {CADENCE}" in card.failures
    assert f"{STATUS} is {CADENCE}." in contributing_gaps(card, journal)
    items = {i.gap: i for i in action_items(card, journal)}
    assert items["step:status"].why == f"It was first done at +25.0s, by its deadline (+27.0s), and is {CADENCE}."
    text = render_postmortem(journal, card, "md")
    assert f"| +25.0s by carol (comms-lead) | {CADENCE} |" in text
    assert "incident clock" not in text and "-2.0s" not in text


def test_a_recurring_step_done_after_its_deadline_says_how_late(tmp_path: Path) -> None:
    """First posted at +27.5s (0.5s after its deadline) and then not for 30.5s: late by its deadline first, as the
    failure line says; it is no cadence miss."""
    journal = rescaled(copy(GOLDEN / "late.jsonl", tmp_path), 1 / 60, moved={25.0: 27.5})
    card = score_journal(journal)
    assert cadence_misses(journal) == {}
    assert f"{STATUS} was done 0.5s (30.0s on the incident clock) after its deadline." in contributing_gaps(card, journal)
    assert {i.gap: i for i in action_items(card, journal)}["step:status"].title == (
        "Bring step status (post a stakeholder update) within its deadline")


def test_cadence_misses_are_only_recurring_steps_done_by_their_deadline() -> None:
    misses = cadence_misses(read_journal(GOLDEN / "late.jsonl"))
    assert list(misses) == ["status"] and (misses["status"].every, misses["status"].longest_gap) == (30.0, 33.0)
    assert misses["status"].text() == CADENCE
    assert cadence_misses(read_journal(GOLDEN / "clean.jsonl")) == {}


# ---------------------------------------------------------------------------- the rubric and the AAR, time-scaled


def training(tmp_path: Path, scale: float, execs: ScriptedEvent | None) -> Journal:
    """The rubric's base training drill with the executives told at ``execs`` (None: never), its scenario's
    ``policy.scale`` (and the policy) at ``scale``."""
    return rescaled(drill(tmp_path, {"execs": execs}, policy_scale=scale), scale)


def test_the_rubrics_executives_item_states_the_policy_on_the_incident_clock(tmp_path: Path) -> None:
    late = judge(training(tmp_path, 0.1, act(500.0, "Sam", CL, "notify_executives")), "executives")
    rule = "SEV2: within 3m00s (30m00s on the incident clock) of the declaration (+3m20s)"
    assert late.verdict == "partly"
    assert late.why == (f"Sam notified the executives at +8m20s, 2m00s (20m00s on the incident clock) after the deadline "
                        f"+6m20s ({rule}).")
    assert late.coaching.startswith("Executives heard at +8m20s, 2m00s (20m00s on the incident clock) late: ")
    missed = judge(training(tmp_path, 0.1, None), "executives")
    assert missed.verdict == "missed" and missed.why == (
        f"Executives were never told; the policy wanted them told by +6m20s ({rule}).")
    outage = rescaled(drill(tmp_path, OUTAGE, policy_scale=0.5), 0.5)  # told of the SEV2, not of the SEV1 at +11m00s
    escalation = judge(outage, "executives")
    assert escalation.verdict == "missed" and "SEV1: within 2m30s (5m00s on the incident clock) of the escalation to SEV1" \
        in escalation.why
    assert "tell them within 2m30s (5m00s on the incident clock) of an escalation" in escalation.coaching


def test_the_rubric_of_an_unscaled_drill_keeps_its_words(tmp_path: Path) -> None:
    """The policy scaled but the scenario's clock not declared (``policy.scale`` 1): one clock, words as they were."""
    late = judge(drill(tmp_path, {"execs": act(500.0, "Sam", CL, "notify_executives")}, policy_scale=0.1), "executives")
    assert late.why == ("Sam notified the executives at +8m20s, 2m00s after the deadline +6m20s (SEV2: within 3m00s of "
                        "the declaration (+3m20s)).")
    assert late.coaching.startswith("Executives heard at +8m20s, 2m00s late: ")
    met = judge(drill(tmp_path), "executives")
    assert met.why == ("Sam notified the executives at +5m00s, by the deadline +33m20s (SEV2: within 30m00s of the "
                       "declaration (+3m20s)).")


def tabletop(tmp_path: Path, scale: float) -> Journal:
    """The tabletop scenario at ``policy.scale``: detection at +16m40s (deadline +15m00s), one status update then
    (due every 30m; the incident resolved at +58m20s: a 41m40s gap), resolved 15m after its deadline."""
    script = [e for e in live_script("simulator") if e[0] < 1100.0]
    script = sorted(((1000.0 if t == 420.0 else t, p, s) for t, p, s in script), key=lambda e: e[0])
    script += [act(3500.0, "alice", IC, "resolved"), (3600.0, DrillEnded(outcome="completed"), "conductor")]
    return write_journal(tmp_path / f"tabletop-{scale:g}.jsonl", started(sc=scenario(policy={"scale": scale})),
                         merged(script, exercise_script()))


def test_the_aar_states_how_late_on_the_incident_clock_and_a_cadence_as_a_cadence(tmp_path: Path) -> None:
    journal = tabletop(tmp_path, 0.5)
    card = score_journal(journal)
    issues = [a.issue for a in aar_context(journal, card).areas]
    assert ("Detection came at +16m40s via alert checkout errors, 1m40s (3m20s on the incident clock) after its deadline "
            "(+15m00s).") in issues
    assert ("Step resolve (mark the incident resolved, incident-commander) was done at +58m20s, 15m00s (30m00s on the "
            "incident clock) after its deadline (+43m20s).") in issues
    assert ("Step status (post a stakeholder update, comms-lead) was first done at +16m40s, by its deadline (+36m40s), "
            "and is due every 30m00s (1h00m on the incident clock) while the incident is open; the longest gap was "
            "41m40s (1h23m on the incident clock).") in issues
    actions = {a.issue.split(" (")[0]: a.corrective_action for a in aar_context(journal, card).areas}
    assert actions["Step status"] == (
        "Rehearse step status so that it is repeated at least every 30m00s while the incident is open.")


def test_the_aar_of_an_unscaled_tabletop_has_one_clock(tmp_path: Path) -> None:
    journal = tabletop(tmp_path, 1.0)
    card = score_journal(journal)
    issues = [a.issue for a in aar_context(journal, card).areas]
    assert "Detection came at +16m40s via alert checkout errors, 1m40s after its deadline (+15m00s)." in issues
    assert ("Step status (post a stakeholder update, comms-lead) was first done at +16m40s, by its deadline (+36m40s), "
            "and is due every 30m00s while the incident is open; the longest gap was 41m40s.") in issues
    golden = read_journal(GOLDEN / "tabletop.jsonl")
    for j in (journal, golden):
        for fmt in ("md", "html"):
            assert "incident clock" not in render_aar(j, score_journal(j), fmt)  # type: ignore[arg-type]
