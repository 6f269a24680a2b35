"""The journal's event kinds of an exercise (tabletop and training drills): the pace, the MSEL's
injects as they are published, held or skipped, the facilitator's decision log, evaluator notes,
objective ratings, the hot wash, and the simulator's recoveries. Members of the one union in
:mod:`gameday.model.events`.

What a player sees of an inject is all in :class:`InjectPublished`: it carries none of the
inject's hidden fields (expectations, objective, contingency, controller notes), which stay in
the scenario for the facilitator and the reports.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from gameday.model.eventbase import Payload


class PaceSet(Payload):
    """How the scenario clock runs against the wall clock: ``factor`` scenario seconds per wall second
    (``--pace 4h:45m`` is 5.33), or None for manual (it advances to each inject on the facilitator's word)."""

    pace: str = Field(description="as given, e.g. '4h:45m', 'real' or 'manual'")
    factor: float | None = None
    by: str = "conductor"


class InjectPublished(Payload):
    """An inject reached the players: what they see of it, and why it went out now."""

    inject: str
    channel: str
    sender: str = Field(description="the persona it comes from (the MSEL's 'from')")
    to: str
    subject: str
    message: str = ""
    scheduled_t: float | None = Field(None, description="its time on the MSEL (scenario clock), None if unscheduled")
    by: str = Field(description="'schedule', 'contingency', 'simulation' (a state of the simulation published it), "
                    "or the facilitator who published it")
    contingency_of: str | None = Field(None, description="the inject whose expected action did not happen in time")
    missing: list[str] = Field(default_factory=list, description="a contingency's: the expected actions of "
                               "'contingency_of' not done in time ('step ID', or 'ACTION [by ROLE]')")
    alert_format: str | None = Field(None, description="the webhook format of its alert attachment, delivered to the intake")
    panel: str | None = Field(None, description="the title of its dashboard panel")


class InjectHeld(Payload):
    """The facilitator held an inject: it is not published at its time (publish it by hand, or skip it)."""

    inject: str
    by: str


class InjectSkipped(Payload):
    """The facilitator skipped an inject: it is never published."""

    inject: str
    by: str


class DecisionRecorded(Payload):
    """One entry of the decision log: what was decided, the options weighed, who decided and why."""

    decision: str
    options: list[str] = Field(default_factory=list)
    decided_by: str
    rationale: str = ""
    author: str
    inject: str | None = Field(None, description="the inject it answers, if any")


class EvaluatorNoted(Payload):
    """An evaluator's observation, about one objective or the exercise as a whole."""

    text: str
    author: str
    objective: str | None = None


class ObjectiveRated(Payload):
    """The facilitator's rating of an objective, overriding the one derived from its steps (with why)."""

    objective: str
    rating: Literal["P", "S", "M", "U"]
    note: str
    by: str


class HotWashNoted(Payload):
    """One participant's hot wash: what went well, what could improve."""

    person: str
    went_well: str = ""
    to_improve: str = ""
    author: str


class ShadowCleared(Payload):
    """The simulated shadow of these faults ended (the simulator's recovery): a runbook the players
    ran, the facilitator declaring the fix works, or the simulation reaching a recovered state."""

    faults: list[str]
    by: str
    reason: Literal["runbook", "facilitator", "simulation"]
