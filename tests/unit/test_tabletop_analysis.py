"""The analysis side of tabletop mode: objectives rated P/S/M/U, the scorecard's two clocks and exercise
summary, the postmortem's tabletop sections, and the after-action report (HSEEP AAR/IP)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from gameday.analysis.aar import TO_BE_ASSIGNED, aar_context, render_aar
from gameday.analysis.exercise import exercise_context, inject_log
from gameday.analysis.objectives import derive_rating, rate_objectives
from gameday.analysis.postmortem import postmortem_context, render_postmortem
from gameday.analysis.render import render_scorecard
from gameday.analysis.scorecard import score_journal
from gameday.cli import main
from gameday.drill.reports import Outputs, write_reports
from gameday.errors import JournalError
from gameday.fakes import ScriptedEvent, write_journal
from gameday.journal import Journal, read_journal
from gameday.model.events import (
    ActionRecorded,
    AlertReceived,
    AlertRow,
    DecisionRecorded,
    DetectionRecorded,
    DrillEnded,
    DrillStarted,
    EvaluatorNoted,
    FaultInjected,
    FaultRolledBack,
    HotWashNoted,
    ImpactEnded,
    ImpactStarted,
    InjectHeld,
    InjectPublished,
    InjectSkipped,
    ObjectiveRated,
    PaceSet,
    RecoveryObserved,
    RoleAssigned,
)
from gameday.model.policy import DEFAULT_POLICY
from gameday.model.scenario import Scenario

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "journals"
XSS = "<script>alert(1)</script>"
MD_HOSTILE = "**bold** | [link](http://x) `code` # head"
IC, TL, CL = "incident-commander", "tech-lead", "comms-lead"
CHECK = "checkout health"
TABLETOP_KEYS = {"clocks", "objectives", "exercise"}


def scenario(**changes: Any) -> Scenario:
    data = yaml.safe_load((GOLDEN / "tabletop.scenario.yaml").read_text(encoding="utf-8"))
    data.update(changes)
    return Scenario.model_validate(data)


def started(mode: str = "tabletop", sc: Scenario | None = None) -> DrillStarted:
    sc = sc or scenario()
    return DrillStarted(drill_id=f"{sc.id}-{mode}", mode=mode, scenario=sc,  # type: ignore[arg-type]
                        policy=DEFAULT_POLICY.scaled(sc.policy.scale))  # fmt: skip


def act(t: float, author: str, role: str, action: str, **extra: Any) -> ScriptedEvent:
    return (t, ActionRecorded(action=action, author=author, role=role, **extra), author)  # type: ignore[arg-type]


def live_script(source: str) -> list[ScriptedEvent]:
    """A drill of the tabletop scenario's faults and steps (no exercise events): ``source`` of the fault and alert."""
    labels = {"alertname": "CheckoutErrorsHigh"}
    row = AlertRow(status="firing", alertname="CheckoutErrorsHigh", labels=labels, matched=True, signal="checkout errors")
    return [
        (0.0, RoleAssigned(person="alice", role=IC, by="dana"), "dana"),
        (0.0, RoleAssigned(person="bob", role=TL, by="dana"), "dana"),
        (0.0, RoleAssigned(person="carol", role=CL, by="dana"), "dana"),
        (300.0, FaultInjected(fault="kill-primary", kind="experiment", scheduled_t=300.0), source),
        (300.0, ImpactStarted(check=CHECK, detail="HTTP 503"), source),
        (420.0, AlertReceived(format="alertmanager", matched=True, signal="checkout errors", alerts=[row],
                              payload={"alerts": [{"labels": labels}]}), source),  # fmt: skip
        (420.0, DetectionRecorded(via="alert", signal="checkout errors", alertname="CheckoutErrorsHigh", alert_seq=7),
         "conductor"),
        act(500.0, "alice", IC, "acknowledge"),
        act(600.0, "alice", IC, "declare_incident", severity="SEV1"),
        act(700.0, "bob", TL, "runbook_started", runbook="failover"),
        act(800.0, "bob", TL, "runbook_finished", runbook="failover", ok=True),
        (800.0, ImpactEnded(check=CHECK), source),
        (800.0, RecoveryObserved(checks=[CHECK]), source),
        act(900.0, "carol", CL, "notify_executives", text="SEV1: checkout down"),
        act(1000.0, "carol", CL, "post_update", audience="external", text="Checkout is failing."),
        act(1100.0, "alice", IC, "resolved"),
        (1200.0, FaultRolledBack(fault="kill-primary", reason="end"), source),
        (1300.0, DrillEnded(outcome="completed"), "conductor"),
    ]


def exercise_script(text: str = "fine") -> list[ScriptedEvent]:
    """The exercise events of a tabletop: injects, a decision, notes, ratings, hot wash (``text`` in people's words)."""
    def pub(t: float, inject: str, by: str = "schedule", **extra: Any) -> ScriptedEvent:
        return (t, InjectPublished(inject=inject, channel="chat", sender="Someone", to="everyone", subject=f"{inject} {text}",
                                   by=by, **extra), "simulator")  # fmt: skip

    return [
        (0.0, PaceSet(pace="real", factor=1.0), "conductor"),
        pub(420.0, "i01-alert"),
        pub(540.0, "i02-dashboard"),
        (650.0, DecisionRecorded(decision=f"Fail over {text}", options=["wait", f"fail over {text}"], decided_by="alice",
                                 rationale=f"because {text}", author="dana", inject="i02-dashboard"), "dana"),  # fmt: skip
        (660.0, DecisionRecorded(decision="Page the DBA", decided_by="alice", author="dana"), "dana"),
        (700.0, EvaluatorNoted(text=f"lag asked {text}", author="erin", objective="restore-checkout"), "erin"),
        (710.0, EvaluatorNoted(text=f"overall {text}", author="erin"), "erin"),
        (800.0, InjectHeld(inject="i04-vendor", by="dana"), "dana"),
        (850.0, InjectSkipped(inject="i04-vendor", by="dana"), "dana"),
        pub(1100.0, "i03b-press", by="contingency", contingency_of="i03-customers"),
        (1150.0, ObjectiveRated(objective="detect-and-declare", rating="U", note="first", by="dana"), "dana"),
        (1160.0, ObjectiveRated(objective="detect-and-declare", rating="S", note=f"second {text}", by="dana"), "dana"),
        (1170.0, ObjectiveRated(objective="no-such-objective", rating="U", note="ignored", by="dana"), "dana"),
        (1180.0, HotWashNoted(person="alice", went_well=f"calm {text}", to_improve=f"sev earlier {text}", author="dana"), "dana"),
        (1190.0, HotWashNoted(person="bob", went_well="runbook", author="dana"), "dana"),
        (1195.0, HotWashNoted(person="alice", to_improve="second entry", author="dana"), "dana"),
    ]


def merged(*scripts: list[ScriptedEvent]) -> list[ScriptedEvent]:
    return sorted((e for s in scripts for e in s), key=lambda e: e[0])  # stable: same t keeps script order


def tabletop(tmp_path: Path, text: str = "fine", name: str = "journal.jsonl") -> Journal:
    return write_journal(tmp_path / name, started(), merged(live_script("simulator"), exercise_script(text)))


@pytest.fixture
def golden() -> Journal:
    return read_journal(GOLDEN / "tabletop.jsonl")


# ---------------------------------------------------------------- the rating rule


@pytest.mark.parametrize(("verdicts", "rating"), [
    (["on_time", "on_time"], "P"),
    (["on_time", "late"], "S"),
    (["late", "late"], "S"),
    (["on_time", "missed"], "M"),
    (["late", "missed"], "M"),
    (["missed", "missed"], "U"),
    (["on_time", "not_applicable"], "P"),
    (["missed", "not_applicable"], "U"),
    (["not_applicable"], None),
    ([], None),
])  # fmt: skip
def test_rating_rule(verdicts: list[str], rating: str | None) -> None:
    derived, rule = derive_rating(verdicts)
    assert derived == rating
    assert rule.startswith(rating or "not rated")
    if "not_applicable" in verdicts and rating is not None:
        assert "not counted" in rule


def test_override_latest_wins_and_keeps_derived_and_note(tmp_path: Path) -> None:
    card = score_journal(tabletop(tmp_path))
    assert card.objectives is not None
    obj = {o.id: o for o in card.objectives}
    detect = obj["detect-and-declare"]
    assert detect.derived == "P" and detect.rating == "S"  # derived from on-time steps, overridden by the latest rating
    assert detect.override is not None and detect.override.note == "second fine" and detect.override.by == "dana"
    assert obj["restore-checkout"].override is None and obj["restore-checkout"].rating == obj["restore-checkout"].derived
    assert "no-such-objective" not in obj


def test_objective_evidence(tmp_path: Path) -> None:
    journal = tabletop(tmp_path)
    card = score_journal(journal)
    assert card.objectives is not None
    obj = {o.id: o for o in card.objectives}
    restore = obj["restore-checkout"]
    assert [s.id for s in restore.steps] == ["failover", "resolve"]
    assert {i.id: i.status for i in restore.injects} == {"i02-dashboard": "published", "i04-vendor": "skipped"}
    by_seq = {e.seq: e.data for e in journal.events}
    assert [by_seq[s].decision for s in restore.decisions] == ["Fail over fine"]  # type: ignore[attr-defined]
    assert [by_seq[s].text for s in restore.notes] == ["lag asked fine"]  # type: ignore[attr-defined]
    informed = {i.id: (i.status, i.t) for i in obj["keep-stakeholders-informed"].injects}
    assert informed["i03-customers"] == ("unpublished", None)
    assert informed["i03b-press"] == ("published", 1100.0)


# ---------------------------------------------------------------- the scorecard


def test_golden_tabletop_scores_to_its_scorecard(golden: Journal) -> None:
    expected = (GOLDEN / "tabletop.scorecard.json").read_text(encoding="utf-8")
    assert render_scorecard(score_journal(golden), "json") == expected


def test_golden_tabletop_states_every_measure_on_both_clocks(golden: Journal) -> None:
    card = score_journal(golden)
    assert card.mode == "tabletop" and card.clocks and "scenario clock" in card.clocks
    times = {m.name: m for m in card.times}
    assert (times["MTTD"].seconds, times["MTTD"].wall_seconds) == (120.0, 30.0)  # pace 4h:1h: a quarter of the time
    # the 5-minute pause ran on the wall clock only: (2080 s / 4) + 300 s
    assert (times["MTTR"].seconds, times["MTTR"].wall_seconds) == (2080.0, 820.0)
    assert times["impact_duration"].wall_seconds == 675.0
    ex = card.exercise
    assert ex is not None
    assert (ex.injects, ex.injects_published, ex.injects_held, ex.injects_skipped, ex.injects_unpublished) == (7, 5, 0, 1, 1)
    assert (ex.contingencies_fired, ex.decisions, ex.hot_wash_entries, ex.pauses) == (1, 1, 3, 1)
    assert (ex.scenario_seconds, ex.wall_seconds) == (3000.0, 1050.0)
    assert [(p.pace, p.factor) for p in ex.paces] == [("4h:1h", 4.0)]
    ratings = {o.id: (o.derived, o.rating) for o in card.objectives or []}
    assert ratings == {"detect-and-declare": ("P", "P"), "restore-checkout": ("P", "S"), "keep-stakeholders-informed": ("M", "M")}


@pytest.mark.parametrize("name", ["clean", "silent", "late", "aborted", "torn"])
def test_other_drills_scorecards_have_no_tabletop_fields(name: str) -> None:
    card = json.loads((GOLDEN / f"{name}.scorecard.json").read_text(encoding="utf-8"))
    assert not (TABLETOP_KEYS - {"clocks"}) & set(card)
    assert card["clocks"].startswith("this drill is time-scaled")  # their scenario is: drill and incident clocks
    assert all("wall_seconds" not in m for m in card["times"])
    rendered = json.loads(render_scorecard(score_journal(read_journal(GOLDEN / f"{name}.jsonl")), "json"))
    assert rendered == card


def test_tabletop_has_the_fields_of_a_ci_drill_of_the_same_scenario_plus_its_own(tmp_path: Path) -> None:
    ci = score_journal(write_journal(tmp_path / "ci.jsonl", started("ci"), live_script("injector")))
    tt = score_journal(write_journal(tmp_path / "tt.jsonl", started("tabletop"), live_script("simulator")))
    ci_json, tt_json = (json.loads(render_scorecard(c, "json")) for c in (ci, tt))
    assert set(tt_json) == set(ci_json) | TABLETOP_KEYS
    for key in set(ci_json) - {"drill_id", "mode", "times"}:
        assert tt_json[key] == ci_json[key], key
    for a, b in zip(ci_json["times"], tt_json["times"], strict=True):
        assert b.pop("wall_seconds") == a["seconds"]  # write_journal's fake clock: wall time runs with t
        assert b.pop("definition") == a.pop("definition").replace("first fault injected", "first (simulated) fault began")
        assert a == b


def test_rescoring_and_rendering_give_the_same_bytes(tmp_path: Path) -> None:
    a, b = tabletop(tmp_path, name="a.jsonl"), tabletop(tmp_path, name="b.jsonl")
    for fmt in ("json", "md", "html"):
        assert render_scorecard(score_journal(a), fmt) == render_scorecard(score_journal(b), fmt)  # type: ignore[arg-type]
    for fmt in ("md", "html"):
        assert render_aar(a, score_journal(a), fmt) == render_aar(b, score_journal(b), fmt)  # type: ignore[arg-type]
        assert render_postmortem(a, score_journal(a), fmt) == render_postmortem(b, score_journal(b), fmt)  # type: ignore[arg-type]


# ---------------------------------------------------------------- the inject log and the postmortem


def test_inject_log_covers_the_msel_and_the_journal(tmp_path: Path) -> None:
    journal = tabletop(tmp_path)
    sc = journal.events[0].data.scenario  # type: ignore[attr-defined]
    log = {r.id: r for r in inject_log(sc, journal.events)}
    assert list(log)[: len(sc.injects)] == [i.id for i in sc.injects]
    assert log["i01-alert"].status == "published" and log["i01-alert"].how == "on schedule"
    assert log["i03b-press"].how == "as the contingency of inject i03-customers"
    assert log["i04-vendor"].status == "skipped" and [h.by for h in log["i04-vendor"].held] == ["dana"]
    assert log["i05-exec"].status == "unpublished"


def test_inject_log_of_a_derived_msel_comes_from_the_journal(tmp_path: Path) -> None:
    sc = scenario(injects=[], objectives=[])
    pub = InjectPublished(inject="kill-primary-alert", channel="alert", sender="Monitoring", to="everyone",
                          subject="FIRING", by="schedule", scheduled_t=310.0)  # fmt: skip
    journal = write_journal(tmp_path / "j.jsonl", started(sc=sc), merged(live_script("simulator"), [(310.0, pub, "simulator")]))
    log = inject_log(sc, journal.events)
    assert [(r.id, r.status, r.scheduled_t) for r in log] == [("kill-primary-alert", "published", 310.0)]
    card = score_journal(journal)
    assert card.objectives == [] and card.exercise is not None and card.exercise.injects == 1
    text = render_aar(journal, card, "md")
    assert "The scenario names no objectives" in text


def test_tabletop_postmortem_has_the_exercise_sections(tmp_path: Path) -> None:
    journal = tabletop(tmp_path)
    card = score_journal(journal)
    ctx = exercise_context(journal, card)
    assert ctx is not None
    assert [d["decided_by"] for d in ctx.decisions] == ["alice", "alice"]
    assert [h["person"] for h in ctx.hot_wash] == ["alice", "alice", "bob"]  # grouped per participant
    md = render_postmortem(journal, card, "md")
    for heading in ("## The exercise (tabletop)", "### Inject by inject", "### Decision log", "### Hot wash",
                    "### Measures on both clocks"):  # fmt: skip
        assert heading in md
    assert "simulated shadow" in md and "Every fault was a simulated shadow" in md
    html = render_postmortem(journal, card, "html")
    assert '<section id="exercise">' in html


@pytest.mark.parametrize("name", ["clean", "late", "aborted"])
def test_other_drills_postmortems_have_no_exercise_sections(name: str) -> None:
    journal = read_journal(GOLDEN / f"{name}.jsonl")
    card = score_journal(journal)
    assert postmortem_context(journal, card)["exercise"] is None
    assert "The exercise (tabletop)" not in render_postmortem(journal, card, "md")
    assert 'id="exercise"' not in render_postmortem(journal, card, "html")


def test_postmortem_escapes_peoples_text(tmp_path: Path) -> None:
    journal = tabletop(tmp_path, text=XSS)
    card = score_journal(journal)
    html = render_postmortem(journal, card, "html")
    assert XSS not in html and "&lt;script&gt;" in html
    assert XSS not in render_postmortem(journal, card, "md")


# ---------------------------------------------------------------- the after-action report


def test_aar_sections_and_improvement_plan_follow_from_the_journal(golden: Journal) -> None:
    card = score_journal(golden)
    ctx = aar_context(golden, card)
    md = render_aar(golden, card, "md")
    for heading in ("## Exercise overview", "### Participants and roles", "## Analysis of objectives", "## Strengths",
                    "## Areas for improvement", "## Improvement Plan"):  # fmt: skip
        assert heading in md
    assert [p["person"] for p in ctx.participants] == ["alice", "bob", "carol", "erin"]
    assert ctx.overview["controllers"] == "dana" and ctx.overview["evaluators"] == "erin"
    # one area (and one plan row) per late or missed step, objective rated M/U, contingency fired, hot-wash 'to improve'
    late_missed = [s for s in card.steps if s.verdict in ("late", "missed")]
    weak = [o for o in card.objectives or [] if o.rating in ("M", "U")]
    improve = [e for e in golden.events if isinstance(e.data, HotWashNoted) and e.data.to_improve]
    assert len(ctx.areas) == len(late_missed) + len(weak) + card.exercise.contingencies_fired + len(improve)  # type: ignore[union-attr]
    assert all(a.owner == a.start == a.completion == a.element == TO_BE_ASSIGNED for a in ctx.areas)
    rows = re.findall(r"^\| \d+ \| .*\|$", md.split("## Improvement Plan")[1], flags=re.M)
    assert len(rows) == len(ctx.areas)
    # strengths: steps on time, objectives rated P or S, hot-wash 'went well'
    on_time = [s for s in card.steps if s.verdict == "on_time"]
    good = [o for o in card.objectives or [] if o.rating in ("P", "S")]
    well = [e for e in golden.events if isinstance(e.data, HotWashNoted) and e.data.went_well]
    assert len(ctx.strengths) == 1 + len(on_time) + len(good) + len(well)  # 1: detection on time
    # both ratings, and the note, for the overridden objective
    restore = next(o for o in ctx.objectives if o.id == "restore-checkout")
    assert (restore.rating, restore.derived) == ("S", "P")
    assert "The failover waited for a decision" in restore.override
    assert "Derived from its steps: P: all 2 step(s)" in md and "Facilitator's rating: S" in md


def test_aar_escapes_peoples_text(tmp_path: Path) -> None:
    journal = tabletop(tmp_path, text=XSS + MD_HOSTILE)
    card = score_journal(journal)
    html = render_aar(journal, card, "html")
    assert XSS not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html.lower()
    md = render_aar(journal, card, "md")
    assert XSS not in md and "**bold**" not in md and "\\*\\*bold\\*\\*" in md and "\\| \\[link\\]" in md


def test_aar_is_for_tabletop_journals_only() -> None:
    journal = read_journal(GOLDEN / "clean.jsonl")
    with pytest.raises(JournalError, match=r"clean\.jsonl:1: .*tabletop.*mode is gameday"):
        render_aar(journal, score_journal(journal), "md")


def test_not_rated_objective(tmp_path: Path) -> None:
    """Steps that never fell due (no detection, so nothing anchored on it): no derived rating, never a guess."""
    script = [(0.0, PaceSet(pace="manual", factor=None), "conductor"), (10.0, DrillEnded(outcome="completed"), "conductor")]
    journal = write_journal(tmp_path / "j.jsonl", started(), script)
    card = score_journal(journal)
    sc = journal.events[0].data.scenario  # type: ignore[attr-defined]
    assert [(o.derived, o.rating) for o in rate_objectives(sc, card.steps, journal.events)] == [(None, None)] * 3
    md = render_aar(journal, card, "md")
    assert "Rating: **not rated**" in md and "none of its steps fell due" in md


# ---------------------------------------------------------------- where the reports are written


def test_write_reports_writes_the_aar_for_a_tabletop_only(tmp_path: Path) -> None:
    for mode in ("tabletop", "ci"):
        out = tmp_path / mode
        script = merged(live_script("simulator" if mode == "tabletop" else "injector"),
                        exercise_script() if mode == "tabletop" else [])  # fmt: skip
        write_journal((out / "journal.jsonl"), started(mode), script)
        lines: list[str] = []
        write_reports(Outputs.for_drill(tmp_path, "x", out), mode, lines.append, "completed", None, None)
        assert (out / "aar.md").exists() == (out / "aar.html").exists() == (mode == "tabletop")
        assert any(line.startswith("aar:") for line in lines) == (mode == "tabletop")
        assert (out / "postmortem.md").exists()


def test_cli_aar(tmp_path: Path) -> None:
    runner = CliRunner()
    journal = str(GOLDEN / "tabletop.jsonl")
    result = runner.invoke(main, ["aar", journal, "--format", "html", "-o", str(tmp_path / "aar.html")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "aar.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    result = runner.invoke(main, ["aar", journal])
    assert result.exit_code == 0 and result.output.startswith("# After-Action Report / Improvement Plan: ")
    result = runner.invoke(main, ["aar", str(GOLDEN / "clean.jsonl")])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "after-action report is written for tabletop drills" in result.output
