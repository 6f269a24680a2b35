"""Checks of a scenario's ``simulation:`` and ``training:`` sections against the rest of it, and of
the state machine's shape: every state reachable from ``initial``, none a dead end, and a path
from every reachable state to a recovered one. Each problem has its path, so ``gameday validate``
reports it at its line (``simulation.states.worse: a dead end: ...``).

A name that is not found is reported with the nearest one (``no state named 'recoverd' (did you mean
'recovered'?)``; an unknown runbook with none close lists the runbooks), and only the broken reference
is: the machine's shape is judged once every reference of the simulation resolves (a misspelt state
would otherwise also make states unreachable, dead ends, or unable to recover).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import TYPE_CHECKING

from gameday.model.terms import IC
from gameday.model.training import Simulation, Training

if TYPE_CHECKING:
    from gameday.model.crosscheck import CrossLoc, ScenarioView


def training_problems(view: ScenarioView) -> list[tuple[CrossLoc, str]]:
    """The training sections' references (faults, runbooks, roles, injects) and the machine's shape."""
    problems: list[tuple[CrossLoc, str]] = []
    if view.simulation is not None:
        broken = _references(view.simulation, view)
        problems += broken or machine_problems(view.simulation)  # the shape, once every reference resolves
    if view.training is not None:
        problems += _training(view.training, view)
    return problems


def unknown(what: str, name: str, known: Iterable[str], listed: str | None = None) -> str:
    """``no WHAT named NAME``, with the nearest of ``known`` (``(did you mean 'recovered'?)``); with none
    near and ``listed`` (the plural: ``runbooks``), every one of them."""
    names = sorted(set(known))
    near = difflib.get_close_matches(name, names, n=1)
    if near:
        return f"no {what} named {name!r} (did you mean {near[0]!r}?)"
    if listed is not None:
        return f"no {what} named {name!r} " + (f"(the scenario's {listed}: {', '.join(names)})" if names
                                               else f"(the scenario has no {listed})")
    return f"no {what} named {name!r}"


def _references(sim: Simulation, view: ScenarioView) -> list[tuple[CrossLoc, str]]:
    out: list[tuple[CrossLoc, str]] = []
    faults = {i for i in view.fault_ids if i is not None}
    injects = {i for i in view.inject_ids if i is not None}
    roles = set(view.roles) if view.roles is not None else None
    if sim.initial not in sim.states:
        out.append((("simulation", "initial"), unknown("state", sim.initial, sim.states)))
    for name, state in sim.states.items():
        for j, inject in enumerate(state.publish):
            if inject not in injects:
                out.append((("simulation", "states", name, "publish", j), f"no inject named {inject!r}"))
        for role in state.reports:
            if roles is not None and role not in roles:
                out.append((("simulation", "states", name, "reports", role), f"role {role!r} is not one of the scenario's roles"))
        if state.objection is not None and roles is not None and state.objection.role not in roles:
            out.append((("simulation", "states", name, "objection", "role"),
                        f"role {state.objection.role!r} is not one of the scenario's roles"))
    for i, tr in enumerate(sim.transitions):
        for j, src in enumerate(tr.from_):
            if src not in sim.states:
                out.append((("simulation", "transitions", i, "from", j) if len(tr.from_) > 1
                            else ("simulation", "transitions", i, "from"), unknown("state", src, sim.states)))
        if tr.to not in sim.states:
            out.append((("simulation", "transitions", i, "to"), unknown("state", tr.to, sim.states)))
        on = tr.when
        if on is None:
            continue
        if on.fault is not None and on.fault not in faults:
            out.append((("simulation", "transitions", i, "when", "fault"), unknown("fault", on.fault, faults)))
        if on.runbook is not None and view.runbooks is not None and on.runbook not in view.runbooks:
            out.append((("simulation", "transitions", i, "when", "runbook"),
                        unknown("runbook", on.runbook, view.runbooks, listed="runbooks")))
        if on.role is not None and roles is not None and on.role not in roles:
            out.append((("simulation", "transitions", i, "when", "role"), f"role {on.role!r} is not one of the scenario's roles"))
    return out


def _edges(sim: Simulation) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {name: set() for name in sim.states}
    for tr in sim.transitions:
        for src in tr.from_:
            if src in edges and tr.to in sim.states:
                edges[src].add(tr.to)
    return edges


def _closure(start: Iterable[str], edges: dict[str, set[str]]) -> set[str]:
    seen, todo = set(start), list(start)
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def machine_problems(sim: Simulation) -> list[tuple[CrossLoc, str]]:
    """The state machine's shape: unreachable states, dead ends, no path to recovery."""
    out: list[tuple[CrossLoc, str]] = []
    if sim.initial not in sim.states:
        return out  # reported with the references; nothing to walk from
    edges = _edges(sim)
    goals = {name for name, st in sim.states.items() if st.recovered}
    if not goals:
        return [(("simulation", "states"), "no state is 'recovered: true': the incident could never end")]
    reachable = _closure([sim.initial], edges)
    reverse: dict[str, set[str]] = {name: set() for name in sim.states}
    for src, dests in edges.items():
        for dst in dests:
            reverse[dst].add(src)
    can_recover = _closure(goals, reverse)
    for name, state in sim.states.items():
        loc: CrossLoc = ("simulation", "states", name)
        if name not in reachable:
            out.append((loc, f"unreachable: no transition leads here from the initial state {sim.initial!r}"))
        elif not edges[name] and not state.recovered:
            out.append((loc, "a dead end: no transition leaves it, and it is not 'recovered: true'"))
        elif name not in can_recover:
            out.append((loc, "no path from here to a recovered state: the incident could never end"))
    return out


def _training(tr: Training, view: ScenarioView) -> list[tuple[CrossLoc, str]]:
    out: list[tuple[CrossLoc, str]] = []
    roles = view.roles
    seen: set[str] = set()
    for i, persona in enumerate(tr.responders):
        if roles is not None and persona.role not in roles:
            out.append((("training", "responders", i, "role"), f"role {persona.role!r} is not one of the scenario's roles"))
        elif persona.role == IC:
            out.append((("training", "responders", i, "role"),
                        "the incident commander is the trainee: a simulated responder plays another role"))
        if persona.name.casefold() in seen:
            out.append((("training", "responders", i, "name"), f"two simulated responders are called {persona.name!r}"))
        seen.add(persona.name.casefold())
    if tr.handover is not None and tr.handover.to.casefold() in seen:
        clash = f"{tr.handover.to!r} is already a simulated responder: hand over to someone new (the incoming IC)"
        out.append((("training", "handover", "to"), clash))
    return out
