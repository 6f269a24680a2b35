"""Checks between the sections of a scenario: ids unique, references resolve, timing possible.

:func:`cross_check` runs as the :class:`~gameday.model.scenario.Scenario` validator (a valid
document) and, through :func:`partial_problems`, over what validated of a document with type
errors (:class:`ScenarioView`), so both kinds of problem are reported in one run.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from gameday.model.abort import Abort
from gameday.model.duration import format_duration
from gameday.model.exercise import EVERYONE, Inject, Objective
from gameday.model.scenario import (
    ACTIONS,
    BUILTIN_ANCHORS,
    Check,
    Detection,
    Fault,
    Recovery,
    Runbook,
    Scenario,
    Step,
    Target,
    Timing,
)
from gameday.model.scenario_base import Strict
from gameday.model.terms import DEFAULT_ROLES, Role
from gameday.model.training import Simulation, Training

CrossLoc = tuple[str | int, ...]
"""Where a cross-check problem is: a path like pydantic's ``loc``."""


class CrossCheckError(ValueError):
    """Problems between sections of a scenario, each with its path (a tuple like pydantic's ``loc``)."""

    def __init__(self, problems: list[tuple[tuple[str | int, ...], str]]):
        self.problems = problems
        super().__init__("; ".join(msg for _, msg in problems))


def partial_problems(data: dict[Any, Any]) -> list[tuple[CrossLoc, str]]:
    """The cross checks over what validates of ``data`` (a document that failed validation), and each
    fault's, check's and runbook's own "exactly one of" rule judged on the raw item."""
    return cross_check(ScenarioView.partial(data)) + one_kind_problems(data)


class ScenarioView(Strict):
    """What :func:`cross_check` reads of a scenario: each section that validated.

    A valid scenario gives a complete view (:meth:`of`). A document that failed its type
    checks gives a partial one (:meth:`partial`): each list item in its place, None where it
    failed (its raw ``id`` still known, so references to it are not reported as dangling);
    each runbook under its name, None where it failed; a section None where it failed or a
    required one is missing (the cross checks skip what they cannot judge), an optional one
    its default where it is absent.
    """

    faults: list[Fault | None] = Field(default_factory=list)
    fault_ids: list[str | None] = Field(default_factory=list)
    response: list[Step | None] = Field(default_factory=list)
    step_ids: list[str | None] = Field(default_factory=list)
    steady_state: list[Check | None] = Field(default_factory=list)
    runbooks: dict[str, Runbook | None] | None = None
    roles: list[str] | None = None
    target: Literal["demo"] | Target | None = None
    detection: Detection | None = None
    recovery: Recovery | None = None
    abort: Abort | None = None
    timing: Timing | None = None
    injects: list[Inject | None] = Field(default_factory=list)
    inject_ids: list[str | None] = Field(default_factory=list)
    objectives: list[Objective | None] = Field(default_factory=list)
    objective_ids: list[str | None] = Field(default_factory=list)
    simulation: Simulation | None = None
    training: Training | None = None
    has_load: bool | None = Field(None, description="the scenario drives load (None: unknown)")

    @classmethod
    def of(cls, sc: Scenario) -> ScenarioView:
        """The complete view of a valid scenario."""
        return cls(faults=list(sc.faults), fault_ids=[f.id for f in sc.faults], response=list(sc.response),
                   step_ids=[s.id for s in sc.response], steady_state=list(sc.steady_state), runbooks=dict(sc.runbooks),
                   roles=list(sc.roles), target=sc.target, detection=sc.detection, recovery=sc.recovery,
                   abort=sc.abort, timing=sc.timing, injects=list(sc.injects), inject_ids=[i.id for i in sc.injects],
                   objectives=list(sc.objectives), objective_ids=[o.id for o in sc.objectives],
                   simulation=sc.simulation, training=sc.training, has_load=sc.load is not None)

    @classmethod
    def partial(cls, data: dict[Any, Any]) -> ScenarioView:
        """The view of what validates of ``data``, section by section and item by item."""
        from pydantic import TypeAdapter

        def one[M: Strict](model: type[M], raw: Any) -> M | None:
            try:
                return model.model_validate(raw)
            except Exception:  # noqa: BLE001 - a failed item (or a validator crashing on it) is unknown, not judged
                return None

        def items[M: Strict](model: type[M], raw: Any) -> tuple[list[M | None], list[str | None]]:
            if not isinstance(raw, list):
                return [], []
            parsed = [one(model, item) for item in raw]
            ids = [getattr(p, "id", None) if p is not None else _raw_id(item) for p, item in zip(parsed, raw, strict=True)]
            return parsed, ids

        def typed(tp: Any, key: str, default: Any) -> Any:
            if key not in data:
                return default
            try:
                return TypeAdapter(tp).validate_python(data[key])
            except Exception:  # noqa: BLE001 - as in one()
                return None

        faults, fault_ids = items(Fault, data.get("faults"))
        response, step_ids = items(Step, data.get("response"))
        steady_state, _ = items(Check, data.get("steady_state"))
        injects, inject_ids = items(Inject, data.get("injects"))
        objectives, objective_ids = items(Objective, data.get("objectives"))
        raw_books = data.get("runbooks", {})
        runbooks = ({name: one(Runbook, book) for name, book in raw_books.items()}
                    if isinstance(raw_books, dict) and all(isinstance(k, str) for k in raw_books) else None)
        return cls(faults=faults, fault_ids=fault_ids, response=response, step_ids=step_ids, steady_state=steady_state,
                   runbooks=runbooks, roles=typed(list[Role], "roles", list(DEFAULT_ROLES)),
                   target=typed(Literal["demo"] | Target, "target", "demo"),
                   detection=one(Detection, data.get("detection")), recovery=one(Recovery, data.get("recovery")),
                   abort=one(Abort, data.get("abort")),
                   timing=one(Timing, data["timing"]) if "timing" in data else Timing(),
                   injects=injects, inject_ids=inject_ids, objectives=objectives, objective_ids=objective_ids,
                   simulation=one(Simulation, data.get("simulation")) if data.get("simulation") is not None else None,
                   training=one(Training, data.get("training")) if "training" in data else Training(),
                   has_load=data.get("load") is not None)


#: Sections whose items take exactly one of some keys, and the words of the rule: checked on the raw
#: item when it has type errors too (its own validator never ran), so both come in one run.
_ONE_OF: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("faults", ("experiment", "activities", "process", "docker", "network"),
     "a fault needs exactly one of 'experiment', 'activities', 'process', 'docker' or 'network'"),
    ("steady_state", ("http", "process", "container", "prometheus"),
     "a check needs exactly one of 'http', 'process', 'container' or 'prometheus'"),
    ("runbooks", ("experiment", "activities", "restart"),
     "a runbook needs exactly one of 'experiment', 'activities' or 'restart'"),
)


def one_kind_problems(data: dict[Any, Any]) -> list[tuple[CrossLoc, str]]:
    """The "exactly one of" rule of each fault, check and runbook of a document that failed validation,
    judged on the raw item (a problem at a path that already has one is dropped by the caller)."""
    out: list[tuple[CrossLoc, str]] = []
    for section, keys, rule in _ONE_OF:
        raw = data.get(section)
        entries = list(raw.items()) if isinstance(raw, dict) else list(enumerate(raw)) if isinstance(raw, list) else []
        for where, item in entries:
            if isinstance(item, dict) and sum(1 for k in keys if item.get(k) is not None) != 1:
                out.append(((section, where), rule))
    return out


def _raw_id(item: Any) -> str | None:
    """The ``id`` of a list item that failed validation, when it is text."""
    raw = item.get("id") if isinstance(item, dict) else None
    return raw if isinstance(raw, str) else None


def cross_check(sc: Scenario | ScenarioView) -> list[tuple[CrossLoc, str]]:
    """Checks between sections: ids unique, references resolve, timing possible.

    Over a partial :class:`ScenarioView` (a document with type errors) it judges only what
    validated, so its problems can be reported together with the type errors.
    """
    view = sc if isinstance(sc, ScenarioView) else ScenarioView.of(sc)
    problems: list[tuple[CrossLoc, str]] = []

    def add(loc: CrossLoc, msg: str) -> None:
        problems.append((loc, msg))

    for section, kind, ids in (("faults", "fault", view.fault_ids), ("response", "step", view.step_ids),
                               ("injects", "inject", view.inject_ids), ("objectives", "objective", view.objective_ids)):
        seen: set[str] = set()
        for i, item_id in enumerate(ids):
            if item_id is None:
                continue
            if item_id in seen:
                add((section, i, "id"), f"duplicate {kind} id {item_id!r}")
            seen.add(item_id)
    step_ids = {i for i in view.step_ids if i is not None}
    by_id = {s.id: s for s in view.response if s is not None}
    for i, step in enumerate(view.response):
        if step is None:
            continue
        if step.id in BUILTIN_ANCHORS:
            add(("response", i, "id"), f"step id {step.id!r} is reserved for an anchor")
        if step.after == step.id:
            add(("response", i, "after"), "a step cannot be anchored to itself")
        elif step.after not in BUILTIN_ANCHORS and step.after not in step_ids:
            add(("response", i, "after"), f"no anchor or step named {step.after!r} (anchors: {', '.join(BUILTIN_ANCHORS)})")
        else:
            seen_chain, cur = {step.id}, step
            while cur.after in by_id:
                cur = by_id[cur.after]
                if cur.id in seen_chain:
                    add(("response", i, "after"), "step anchors form a cycle")
                    break
                seen_chain.add(cur.id)
        if step.runbook and view.runbooks is not None and step.runbook not in view.runbooks:
            add(("response", i, "runbook"), f"no runbook named {step.runbook!r}")
        if step.role and view.roles is not None and step.role not in view.roles:
            add(("response", i, "role"), f"role {step.role!r} is not one of the scenario's roles")
    if isinstance(view.target, Target):
        names, boxes = set(view.target.processes), set(view.target.containers)
        for i, fault in enumerate(view.faults):
            if fault is not None and fault.process and fault.process.target not in names:
                add(("faults", i, "process", "target"), f"no process named {fault.process.target!r} in target.processes")
            if fault is not None and fault.docker and fault.docker.target not in boxes:
                add(("faults", i, "docker", "target"), f"no containers named {fault.docker.target!r} in "
                    "target.containers: a docker fault touches only declared containers")
            net = fault.network if fault is not None else None
            if net is not None and net.target not in view.target.networks:
                add(("faults", i, "network", "target"), f"no network named {net.target!r} in target.networks: a "
                    "network fault touches only declared namespaces")
            elif net is not None and net.interface and net.interface not in view.target.networks[net.target].interfaces:
                add(("faults", i, "network", "interface"), f"interface {net.interface!r} is not one of target.networks."
                    f"{net.target}.interfaces")
            elif net is not None and net.interface and any(
                    f is not None and f.network is not None and f.network.target == net.target
                    and f.network.interface == net.interface for f in view.faults[:i]):
                add(("faults", i, "network", "interface"), f"another fault already shapes {net.interface!r}: one "
                    "bandwidth fault per interface (each rollback removes the interface's root qdisc)")
        for name, rb in (view.runbooks or {}).items():
            if rb is not None and rb.restart and rb.restart not in names | boxes:
                add(("runbooks", name, "restart"), f"no process or containers named {rb.restart!r} in target.processes "
                    "or target.containers")
            elif rb is not None and rb.restart and rb.restart in names and rb.restart in boxes:
                add(("runbooks", name, "restart"), f"{rb.restart!r} names both a process and containers: rename one")
        for i, check in enumerate(view.steady_state):
            if check is not None and check.process and check.process.process not in names:
                add(("steady_state", i, "process", "process"), f"no process named {check.process.process!r} in target.processes")
            if check is not None and check.container and check.container.container not in boxes:
                add(("steady_state", i, "container", "container"),
                    f"no containers named {check.container.container!r} in target.containers")
    elif view.target == "demo":
        for i, fault in enumerate(view.faults):
            if fault is not None and fault.docker:
                add(("faults", i, "docker"), "a docker fault needs a target with 'containers:' (the demo's own are "
                    "declared as 'target: {demo: docker, containers: ...}')")
            if fault is not None and fault.network:
                add(("faults", i, "network"), "a network fault needs a target with 'networks:' (the demo's databases "
                    "in namespaces are declared as 'target: {demo: netns, networks: ...}')")
    abort, timing = view.abort, view.timing
    if abort is not None:
        labels = {c.label for c in view.steady_state if c is not None}
        complete = all(c is not None for c in view.steady_state)
        for i, cond in enumerate(abort.when):
            if cond.check is not None and complete and cond.check not in labels:
                add(("abort", "when", i, "check"), f"no steady-state check named {cond.check!r} (checks: "
                    f"{', '.join(sorted(labels))})")
            if cond.impact is not None and view.has_load is False:
                add(("abort", "when", i, "impact"), f"impact {cond.impact!r} is measured by the load generator: the "
                    "scenario needs 'load:'")
    for i, fault in enumerate(view.faults):
        if fault is None:
            continue
        if abort is not None and fault.at >= abort.max_duration:
            add(
                ("faults", i, "at"),
                f"scheduled at {format_duration(fault.at)}, "
                f"not before abort.max_duration {format_duration(abort.max_duration)}",
            )
        if timing is not None and fault.at < timing.baseline:
            add(
                ("faults", i, "at"),
                f"scheduled at {format_duration(fault.at)}, before the baseline ({format_duration(timing.baseline)}) ends",
            )
        if fault.max_duration is not None and fault.max_duration <= 0:
            add(("faults", i, "max_duration"), "must be positive")
    for i, step in enumerate(view.response):
        if step is not None and step.within <= 0:
            add(("response", i, "within"), "a deadline must fall after its anchor")
    if view.detection is not None and view.detection.within <= 0:
        add(("detection", "within"), "a deadline must fall after its anchor")
    if view.recovery is not None:
        known = [f for f in view.faults if f is not None]
        if view.recovery.within <= 0:
            add(("recovery", "within"), "a deadline must fall after its anchor")
        elif (abort is not None and known and len(known) == len(view.faults)  # the first injection is known
              and min(f.at for f in known) + view.recovery.within > abort.max_duration):
            add(("recovery", "within"), "the recovery deadline falls after abort.max_duration: the drill would abort first")
    if timing is not None and timing.probe_interval <= 0:
        add(("timing", "probe_interval"), "must be positive")
    problems += exercise_problems(view)
    from gameday.model.training_check import training_problems  # it reads the view: imported late

    problems += training_problems(view)
    return problems


def exercise_problems(view: ScenarioView) -> list[tuple[CrossLoc, str]]:
    """The MSEL's and the objectives' references: steps, faults, roles, objectives, other injects."""
    problems: list[tuple[CrossLoc, str]] = []
    step_ids = {i for i in view.step_ids if i is not None}
    fault_ids = {i for i in view.fault_ids if i is not None}
    inject_ids = {i for i in view.inject_ids if i is not None}
    objective_ids = {i for i in view.objective_ids if i is not None}
    abort = view.abort
    for i, inj in enumerate(view.injects):
        if inj is None:
            continue
        if inj.to != EVERYONE and view.roles is not None and inj.to not in view.roles:
            problems.append((("injects", i, "to"), f"{inj.to!r} is neither one of the scenario's roles nor 'everyone'"))
        if inj.at is not None and abort is not None and inj.at >= abort.max_duration:
            when = f"scheduled at {format_duration(inj.at)}, not before abort.max_duration {format_duration(abort.max_duration)}"
            problems.append((("injects", i, "at"), when))
        for j, exp in enumerate(inj.expect):
            if exp.step is not None and exp.step not in step_ids:
                problems.append((("injects", i, "expect", j, "step"), f"no response step named {exp.step!r}"))
            if exp.role is not None and view.roles is not None and exp.role not in view.roles:
                problems.append((("injects", i, "expect", j, "role"), f"role {exp.role!r} is not one of the scenario's roles"))
            if exp.action is not None and exp.action not in ACTIONS:
                problems.append((("injects", i, "expect", j, "action"),
                                 f"unknown action {exp.action!r} (one of: {', '.join(ACTIONS)})"))
        if inj.objective is not None and inj.objective not in objective_ids:
            problems.append((("injects", i, "objective"), f"no objective named {inj.objective!r}"))
        if inj.contingency is not None and inj.contingency.publish not in inject_ids:
            problems.append((("injects", i, "contingency", "publish"), f"no inject named {inj.contingency.publish!r}"))
        if inj.panel is not None and inj.panel.fault is not None and inj.panel.fault not in fault_ids:
            problems.append((("injects", i, "panel", "fault"), f"no fault named {inj.panel.fault!r}"))
    for i, obj in enumerate(view.objectives):
        if obj is None:
            continue
        for j, step in enumerate(obj.steps):
            if step not in step_ids:
                problems.append((("objectives", i, "steps", j), f"no response step named {step!r}"))
    return problems
