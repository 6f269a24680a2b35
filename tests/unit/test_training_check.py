"""The simulation's checks (:mod:`gameday.model.training_check`) as ``gameday validate`` reports them: a
broken reference alone (not also the unreachable states, dead ends and lost paths to recovery it causes),
with the nearest name suggested, and the runbooks listed when none is near."""

from __future__ import annotations

from pathlib import Path

import pytest
from scenario_texts import SIMULATION_HEAD, process_scenario

from gameday.errors import ScenarioError
from gameday.loader import load_scenario
from gameday.model.training_check import unknown

SCENARIO = process_scenario("check", "A training scenario") + SIMULATION_HEAD + """\
    - {from: restarting, to: recovered, after: 1m}
"""
SHAPE = ("unreachable", "dead end", "no path", "could never end")


def problems(tmp_path: Path, *edits: tuple[str, str]) -> list[str]:
    """``path: message`` of each problem of SCENARIO with ``edits`` (old, new) made; [] if it loads."""
    text = SCENARIO
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "sc.yaml"
    path.write_text(text)
    try:
        load_scenario(path)
    except ScenarioError as exc:
        return [f"{p.path}: {p.message}" for p in exc.problems]
    return []


def test_the_base_scenario_loads(tmp_path: Path) -> None:
    assert problems(tmp_path) == []


def test_a_misspelt_target_state_is_the_only_problem_and_the_nearest_name_is_suggested(tmp_path: Path) -> None:
    found = problems(tmp_path, ("to: recovered, after", "to: recoverd, after"))
    assert found == ["simulation.transitions[2].to: no state named 'recoverd' (did you mean 'recovered'?)"]


def test_a_misspelt_source_state_too(tmp_path: Path) -> None:
    found = problems(tmp_path, ("{from: restarting,", "{from: restartin,"))
    assert found == ["simulation.transitions[2].from: no state named 'restartin' (did you mean 'restarting'?)"]


def test_a_misspelt_source_in_a_list(tmp_path: Path) -> None:
    found = problems(tmp_path, ("{from: restarting,", "{from: [restarting, brokn],"))
    assert found == ["simulation.transitions[2].from[1]: no state named 'brokn' (did you mean 'broken'?)"]


def test_a_misspelt_initial_state(tmp_path: Path) -> None:
    found = problems(tmp_path, ("initial: healthy", "initial: helthy"))
    assert found == ["simulation.initial: no state named 'helthy' (did you mean 'healthy'?)"]


def test_a_state_with_no_name_near(tmp_path: Path) -> None:
    found = problems(tmp_path, ("to: recovered, after", "to: zzz, after"))
    assert found == ["simulation.transitions[2].to: no state named 'zzz'"]


def test_a_misspelt_fault(tmp_path: Path) -> None:
    found = problems(tmp_path, ("when: {fault: stop-worker}", "when: {fault: stop-wroker}"))
    assert found == ["simulation.transitions[0].when.fault: no fault named 'stop-wroker' (did you mean 'stop-worker'?)"]


def test_a_misspelt_runbook(tmp_path: Path) -> None:
    found = problems(tmp_path, ("when: {runbook: restart}", "when: {runbook: restrat}"))
    assert found == ["simulation.transitions[1].when.runbook: no runbook named 'restrat' (did you mean 'restart'?)"]


def test_an_unknown_runbook_with_none_near_lists_the_runbooks(tmp_path: Path) -> None:
    found = problems(tmp_path, ("when: {runbook: restart}", "when: {runbook: failover}"),
                     ("  restart: {restart: worker}\n", "  restart: {restart: worker}\n  drain: {restart: worker}\n"))
    assert found == [("simulation.transitions[1].when.runbook: no runbook named 'failover' "
                     "(the scenario's runbooks: drain, restart)")]


def test_an_unknown_runbook_in_a_scenario_without_runbooks(tmp_path: Path) -> None:
    found = problems(tmp_path, ("runbooks:\n  restart: {restart: worker}\n", ""))
    assert found == ["simulation.transitions[1].when.runbook: no runbook named 'restart' (the scenario has no runbooks)"]


def test_any_broken_reference_holds_back_the_shape_checks(tmp_path: Path) -> None:
    """A dead end (no transition leaves 'restarting') is judged once the role name is fixed."""
    dead_end = ("    - {from: restarting, to: recovered, after: 1m}\n",
                "    - {from: broken, to: recovered, when: {action: resolved}}\n")
    bad_role = ("    restarting: {}", "    restarting: {reports: {janitor: mopping}}")
    found = problems(tmp_path, dead_end, bad_role)
    assert found == ["simulation.states.restarting.reports.janitor: role 'janitor' is not one of the scenario's roles"]
    found = problems(tmp_path, dead_end)
    assert found == ["simulation.states.restarting: a dead end: no transition leaves it, and it is not 'recovered: true'"]


def test_the_shape_is_still_judged_when_every_reference_resolves(tmp_path: Path) -> None:
    found = problems(tmp_path, ("    restarting: {}\n", "    restarting: {}\n    limbo: {}\n"),
                     ("    - {from: restarting,", "    - {from: limbo, to: recovered, after: 1m}\n    - {from: restarting,"))
    assert found == ["simulation.states.limbo: unreachable: no transition leads here from the initial state 'healthy'"]
    assert not any(word in p for p in found for word in SHAPE[1:])


@pytest.mark.parametrize("name,known,listed,said", [
    ("recoverd", ["recovered", "healthy"], None, "no state named 'recoverd' (did you mean 'recovered'?)"),
    ("x", ["recovered"], None, "no state named 'x'"),
    ("x", ["b", "a"], "runbooks", "no state named 'x' (the scenario's runbooks: a, b)"),
    ("x", [], "runbooks", "no state named 'x' (the scenario has no runbooks)"),
])
def test_unknown_says_the_nearest_or_lists(name: str, known: list[str], listed: str | None, said: str) -> None:
    assert unknown("state", name, known, listed) == said
