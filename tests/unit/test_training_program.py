"""A trainee's progress across sessions: the ladder, the profile's trends and weakest items, the wheel."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from scenario_texts import BASE_DATA

from gameday.model.program import RoleHeld, Skipped
from gameday.model.rubric import CRITICAL, RUBRIC, ItemVerdict, TrainingScore
from gameday.model.scenario import Scenario
from gameday.program.training import LADDER_RULE, name_key, profile, roles_of, rung, trend, weakest
from gameday.program.wheel import EXERCISES, default_seed, draw_next, exercises, fit, target


def session(drill: str, *, scenario: str = "s1", difficulty: int | None = 1, score: float = 70.0,
            outcome: str = "completed", day: int = 1, trainee: str = "Ada", **verdicts: str) -> TrainingScore:
    """A scored session; every item met unless named (``hands_off="missed"``)."""
    items = []
    for item_id, title in RUBRIC.items():
        verdict = verdicts.get(item_id.replace("-", "_"), "met")
        coaching = "" if verdict in ("met", "n/a") else f"{item_id}: do better ({drill})"
        items.append(ItemVerdict(id=item_id, title=title, verdict=verdict, why=f"{verdict} in {drill}",  # type: ignore[arg-type]
                                 coaching=coaching))
    return TrainingScore(drill_id=drill, scenario_id=scenario, scenario_title=scenario.upper(), difficulty=difficulty,
                         trainee=trainee, outcome=outcome, started_wall=f"2026-02-{day:02d}T09:00:00.000000Z",  # type: ignore[arg-type]
                         items=items, score=score)


def role(person: str = "Ada", role_name: str = "tech-lead") -> RoleHeld:
    return RoleHeld(person=person, role=role_name, drill_id="gd-1", mode="gameday", journal="reports/gd-1/journal.jsonl")


# ------------------------------------------------------------------------------------- names
def test_names_compare_trimmed_collapsed_and_caseless() -> None:
    assert name_key("  Ada   LOVELACE ") == name_key("ada lovelace")
    assert name_key("Ａｄａ") == name_key("ada")  # fullwidth letters: compatibility forms
    assert roles_of(" ADA ", [role("ada"), role("Bob")]) == [role("ada")]


# ------------------------------------------------------------------------------------- the ladder
def test_observer_without_a_completed_session() -> None:
    assert rung([], []).rung == "observer"
    standing = rung([session("a", outcome="aborted", score=90), session("b", outcome="unfinished", day=2)], [])
    assert standing.rung == "observer"
    assert "2 sessions aborted or unfinished" in standing.reason
    assert standing.next.startswith("for scribe")


def test_scribe_after_one_completed_session_or_a_role_in_a_real_drill() -> None:
    assert rung([session("a", score=20)], []).rung == "scribe"
    standing = rung([], [role()])
    assert standing.rung == "scribe"
    assert "tech-lead" in standing.reason and "gd-1" in standing.reason
    # the incident commander's seat in a real drill counts too (more than observing)
    assert rung([], [role(role_name="incident-commander")]).rung == "scribe"


def test_shadow_ic_needs_two_sessions_at_60_and_the_latest_meeting_every_critical_item() -> None:
    two = [session("a", score=60), session("b", score=75, day=2)]
    assert rung(two, []).rung == "shadow IC"
    assert rung([session("a", score=60), session("b", score=59.9, day=2)], []).rung == "scribe"
    # the latest misses a critical item: not yet, and it says which
    slipped = [*two, session("c", score=70, day=3, hands_off="partly")]
    standing = rung(slipped, [])
    assert standing.rung == "scribe"
    assert "hands-off" in standing.next
    # an aborted session later does not count either way
    assert rung([*two, session("c", score=10, day=3, outcome="aborted", took_command="missed")], []).rung == "shadow IC"


def test_ic_needs_three_at_80_over_two_scenarios_one_hard_and_the_latest_two_clean() -> None:
    good = [session("a", score=80, scenario="s1", difficulty=2), session("b", score=85, scenario="s2", difficulty=3, day=2),
            session("c", score=90, scenario="s1", difficulty=2, day=3)]
    standing = rung(good, [])
    assert standing.rung == "IC"
    assert standing.next == ""
    assert "3 completed sessions" in standing.reason
    # one scenario only
    same = [s.model_copy(update={"scenario_id": "s1"}) for s in good]
    assert rung(same, []).rung == "shadow IC"
    assert "2 different scenarios (1 so far)" in rung(same, []).next
    # nothing at difficulty 3 or more
    easy = [s.model_copy(update={"difficulty": 2}) for s in good]
    assert rung(easy, []).rung == "shadow IC"
    assert "difficulty 3" in rung(easy, []).next
    # a difficulty left out (None) is not a hard scenario
    assert rung([s.model_copy(update={"difficulty": None}) for s in good], []).rung == "shadow IC"
    # the second latest missed a critical item
    dirty = [good[0], good[1].model_copy(update={"items": session("x", resolution="missed").items}), good[2]]
    standing = rung(dirty, [])
    assert standing.rung == "shadow IC"
    assert "resolution" in standing.next
    # only two strong sessions
    assert rung(good[:2], []).rung == "shadow IC"


def test_a_critical_item_left_out_or_not_applicable_is_not_met() -> None:
    na = session("b", score=90, day=2, took_command="n/a")
    assert rung([session("a", score=90), na], []).rung == "scribe"
    without = na.model_copy(update={"items": [i for i in na.items if i.id != "resolution"]})
    assert rung([session("a", score=90), without], []).rung == "scribe"


def test_an_item_judged_not_applicable_is_not_called_missed() -> None:
    two = [session("a", score=90), session("b", score=90, day=2, resolution="n/a")]
    standing = rung(two, [])
    assert standing.rung == "scribe"
    assert "(not met: resolution (n/a))" in standing.next and "missed" not in standing.next
    slipped = rung([*two[:1], session("b", score=90, day=2, hands_off="partly", resolution="n/a")], [])
    assert "(not met: hands-off (partly), resolution (n/a))" in slipped.next
    strong = [session("a", score=90, scenario="s2", difficulty=3), session("b", score=90, day=2, resolution="n/a"),
              session("c", score=90, day=3)]
    standing = rung(strong, [])
    assert standing.rung == "shadow IC" and "missed" not in standing.next
    assert "the latest two completed sessions meeting every critical item (not met: resolution (n/a))" in standing.next


def test_the_rule_names_every_rung_and_critical_item() -> None:
    for word in ("observer", "scribe", "shadow IC", "IC", *CRITICAL):
        assert word in LADDER_RULE


# ------------------------------------------------------------------------------------- the profile
@pytest.mark.parametrize(("points", "expected"), [
    ([], "steady"), ([0.0], "steady"),
    ([0.0, 1.0], "improving"), ([1.0, 0.5], "slipping"), ([1.0, 1.0], "steady"),
    ([0.0, 1.0, 1.0], "improving"), ([1.0, 1.0, 0.5], "slipping"),  # the later half: the last 2 of 3
    ([0.5, 0.5, 0.5, 0.5, 1.0, 0.5], "steady"),  # 0.667 against 0.5: under a quarter point
    ([0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0], "improving"),  # the last 3 against the 3 before
])  # fmt: skip
def test_trends(points: list[float], expected: str) -> None:
    assert trend(points) == expected


def test_profile_follows_each_item_over_the_sessions() -> None:
    sessions = [session("a", cadence="missed", handover="n/a"), session("b", day=2, cadence="partly", decisions="partly"),
                session("c", day=3, cadence="met", decisions="missed")]
    prof = profile("ada", sessions)
    assert prof.trainee == "Ada"  # as the journals spell it
    assert [r.drill_id for r in prof.sessions] == ["a", "b", "c"]
    items = {i.id: i for i in prof.items}
    assert list(items) == list(RUBRIC)
    assert [p.verdict for p in items["cadence"].verdicts] == ["missed", "partly", "met"]
    assert items["cadence"].trend == "improving"
    assert items["cadence"].mean == 0.5
    assert items["decisions"].trend == "slipping"
    assert items["handover"].mean == 1.0  # n/a left out of the average
    assert items["took-command"].trend == "steady"


def test_weakest_items_over_the_last_three_sessions_ties_in_rubric_order() -> None:
    sessions = [session("old", executives="missed", delegated="missed"),  # before the last three: not counted
                session("a", day=2, handover="missed", cadence="partly"),
                session("b", day=3, handover="partly", cadence="missed", severity="partly"),
                session("c", day=4, decisions="partly")]
    names = [p.id for p in weakest(sessions)]
    # handover 0.5, cadence 0.5 (tie: rubric order, cadence first), then severity and decisions at 0.833 (rubric order)
    assert names == ["cadence", "handover", "severity"]
    practice = weakest(sessions)[1]
    assert practice.coaching == "handover: do better (b)"  # the latest coaching line
    assert practice.coaching_from == "b"
    assert practice.recent_mean == 0.5


def test_nothing_to_practise_when_everything_was_met() -> None:
    assert weakest([session("a"), session("b", day=2)]) == []
    assert weakest([]) == []
    assert weakest([session("a", handover="n/a")]) == []


def test_profile_of_a_trainee_with_no_sessions_is_an_observer() -> None:
    prof = profile("  Ada  ", [])
    assert prof.trainee == "Ada"
    assert prof.standing.rung == "observer"
    assert prof.practise == []
    assert all(i.verdicts == [] and i.mean is None for i in prof.items)


# ------------------------------------------------------------------------------------- the wheel
BASE: dict[str, Any] = BASE_DATA


def scenario(sid: str, difficulty: int | None, **extra: Any) -> tuple[Path, Scenario]:
    data = {**BASE, "id": sid, **({"difficulty": difficulty} if difficulty is not None else {}), **extra}
    return Path(f"scenarios/{sid}.yaml"), Scenario.model_validate(data)


HANDOVER = {"training": {"handover": {"to": "Noor"}}}
SIMULATION: dict[str, Any] = {
    "initial": "healthy",
    "states": {
        "healthy": {"impact": False},
        "degraded": {"severity": "SEV2", "objection": {"role": "tech-lead", "text": "Failing over loses the queue"}},
        "fixed": {"impact": False, "recovered": True},
    },
    "transitions": [{"from": "healthy", "to": "degraded", "after": "1m"}, {"from": "degraded", "to": "fixed", "after": "5m"}],
}


def test_exercises_table() -> None:
    assert set(EXERCISES) == set(RUBRIC)
    _, plain = scenario("plain", 1)
    assert exercises(plain) == ["took-command", "delegated", "resolution"]
    _, rich = scenario("rich", 2, severity="SEV1", recovery={"within": "30m"}, abort={"max_duration": "1h"},
                       runbooks={"fix": {"restart": "db"}}, target={"processes": {"db": {"command": "db"}}}, **HANDOVER)
    assert exercises(rich) == ["took-command", "delegated", "executives", "cadence", "hands-off", "handover", "resolution"]
    _, simulated = scenario("sim", 3, simulation=SIMULATION)
    assert {"severity", "executives", "decisions"} <= set(exercises(simulated))
    _, flat = scenario("flat", 3, simulation={**SIMULATION, "states": {
        name: {k: v for k, v in state.items() if k not in ("severity", "objection")}
        for name, state in SIMULATION["states"].items()}})
    assert not {"severity", "executives", "decisions"} & set(exercises(flat))
    _, lone = scenario("lone", 1, roles=["incident-commander", "tech-lead"])
    assert "delegated" not in exercises(lone)


def test_targets_by_rung_nudged_by_the_latest_score() -> None:
    assert target("observer", None) == (1, 1)
    assert target("scribe", 70) == (1, 2)
    assert target("scribe", 85) == (2, 3)
    assert target("shadow IC", 49.9) == (1, 2)
    assert target("IC", 95) == (4, 5)
    assert target("observer", 10) == (1, 1)
    assert fit(2, (1, 2)) == 1.0
    assert fit(3, (1, 2)) == 0.25
    assert fit(5, (1, 1)) < fit(3, (1, 1)) < fit(2, (1, 1))


def test_scenarios_without_a_difficulty_are_skipped_with_the_reason() -> None:
    draw = draw_next("Ada", [], [scenario("a", 1), scenario("b", None)], seed=1,
                     skipped=[Skipped(path="scenarios/bad.yaml", reason="invalid: ...")])
    assert draw.chosen is not None and draw.chosen.scenario_id == "a"
    assert [(s.path, s.reason) for s in draw.skipped] == [
        ("scenarios/b.yaml", "no difficulty: field"), ("scenarios/bad.yaml", "invalid: ...")]
    empty = draw_next("Ada", [], [scenario("b", None)], seed=1)
    assert empty.chosen is None
    assert "no scenario has a difficulty" in empty.why


def test_the_draw_is_deterministic_for_a_seed_and_by_default_for_name_and_sessions() -> None:
    wheel = [scenario(f"s{i}", 1 + i % 3) for i in range(6)]
    sessions = [session("a", scenario="s0")]
    assert draw_next("Ada", sessions, wheel, seed=7) == draw_next("Ada", sessions, wheel, seed=7)
    default = draw_next("Ada", sessions, wheel)
    assert default.seed == default_seed("ada ", 1)
    assert draw_next(" ADA", sessions, list(reversed(wheel))) == default  # file order does not matter
    assert default_seed("Ada", 2) != default_seed("Ada", 1)
    assert {draw_next("Ada", sessions, wheel, seed=s).chosen.scenario_id for s in range(40)} != {default.chosen.scenario_id}  # type: ignore[union-attr]


def test_never_the_same_scenario_twice_in_a_row() -> None:
    wheel = [scenario("s1", 1), scenario("s2", 3)]  # s2 fits an observer badly: still drawn, s1 never
    sessions = [session("a", scenario="s1", outcome="aborted")]
    for seed in range(200):
        draw = draw_next("Ada", sessions, wheel, seed=seed)
        assert draw.chosen is not None and draw.chosen.scenario_id == "s2"
    left = next(c for c in draw.candidates if c.scenario_id == "s1")
    assert left.weight == 0 and "latest session (a)" in left.left_out
    assert "not s1: played last time" in draw.why


def test_the_only_candidate_is_drawn_again_and_the_draw_says_so() -> None:
    draw = draw_next("Ada", [session("a", scenario="s1")], [scenario("s1", 1), scenario("x", None)], seed=3)
    assert draw.chosen is not None and draw.chosen.scenario_id == "s1"
    assert "only one that can be drawn" in draw.why


def test_the_draw_leans_towards_the_weak_items() -> None:
    wheel = [scenario("handover", 2, **HANDOVER), scenario("plain", 2), scenario("last", 2)]
    weak = [session("a", scenario="last", difficulty=2, score=70, handover="missed")]
    draws = Counter(draw_next("Ada", weak, wheel, seed=s).chosen.scenario_id for s in range(400))  # type: ignore[union-attr]
    # the handover scenario weighs 1 x (1 + 1) = 2 against the plain one's 1: about two draws in three
    assert draws["last"] == 0
    assert 0.58 < draws["handover"] / 400 < 0.75
    first = draw_next("Ada", weak, wheel, seed=1)
    assert first.practise == ["handover"]
    assert {c.scenario_id: c.weight for c in first.candidates} == {"handover": 2.0, "plain": 1.0, "last": 0.0}
    # a trainee strong at handovers: no lean
    strong = [session("a", scenario="last", difficulty=2, score=70)]
    even = Counter(draw_next("Ada", strong, wheel, seed=s).chosen.scenario_id for s in range(400))  # type: ignore[union-attr]
    assert 0.4 < even["handover"] / 400 < 0.6


def test_the_draw_aims_at_the_rungs_difficulty() -> None:
    wheel = [scenario(f"d{d}", d) for d in range(1, 6)]
    observer = Counter(draw_next("Ada", [], wheel, seed=s).chosen.difficulty for s in range(300))  # type: ignore[union-attr]
    assert observer.most_common(1)[0][0] == 1
    assert observer[1] / 300 > 0.55
    ic = [session("a", scenario="x1", score=82, difficulty=2), session("b", scenario="x2", score=84, difficulty=3, day=2),
          session("c", scenario="x1", score=83, difficulty=2, day=3)]
    draw = draw_next("Ada", ic, wheel, seed=1)
    assert draw.rung == "IC" and draw.target == (3, 5)
    hard = Counter(draw_next("Ada", ic, wheel, seed=s).chosen.difficulty for s in range(300))  # type: ignore[union-attr]
    assert (hard[3] + hard[4] + hard[5]) / 300 > 0.8
    # a latest score of 85 or more moves a scribe up one
    assert draw_next("Ada", [session("a", score=90, scenario="x1")], wheel, seed=1).target == (2, 3)
