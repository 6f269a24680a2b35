"""A scenario's exercise sections: the MSEL (``injects:``) and the ``objectives:`` it tests.

Both are optional and used by the tabletop (and training) modes; a live drill ignores them.
The words follow FEMA's HSEEP: an **inject** is a timed message to the players, delivered on a
channel, from a persona, to a role or everyone; it may carry an attachment (an alert in one of
the webhook formats gameday takes, which goes through the same intake and matching as a real
one, or a dashboard panel); it names the player actions it should prompt (``expect``), the
objective it tests, and a **contingency**: another inject published when an expected action has
not happened in time. An **objective** is evidenced by response steps (its critical tasks) and
rated P / S / M / U from their verdicts.

What players see of an inject is its channel, from, to, subject, message and attachment; the
expectations, objective, contingency and controller notes are the facilitator's only.
"""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, JsonValue, model_validator

from gameday.model.duration import Duration
from gameday.model.scenario_base import Strict
from gameday.model.terms import Role

Channel = Literal["page", "alert", "chat", "email", "customer_report", "vendor_status", "dashboard"]
CHANNELS: tuple[str, ...] = Channel.__args__  # type: ignore[attr-defined]
#: The webhook formats an alert attachment may be written in (those the intake takes).
WebhookFormat = Literal["alertmanager", "grafana", "pagerduty", "opsgenie", "generic"]
EVERYONE = "everyone"

Rating = Literal["P", "S", "M", "U"]
RATINGS: dict[str, str] = {
    "P": "performed without challenges",
    "S": "performed with some challenges",
    "M": "performed with major challenges",
    "U": "unable to be performed",
}


class AlertAttachment(Strict):
    """An alert delivered with an inject, through the webhook intake's parsing and the scenario's
    signal matching (so it counts as detection exactly as a real alert does).

    Either ``payload`` (a body in ``format``, as the vendor would send it) or the short form
    ``alertname`` + ``labels`` (+ ``status``), sent as an Alertmanager webhook.
    """

    format: WebhookFormat = "alertmanager"
    payload: dict[str, JsonValue] | None = Field(None, description="the webhook body, as the vendor sends it")
    alertname: str | None = Field(None, description="short form: an Alertmanager alert with this name")
    labels: dict[str, str] = Field(default_factory=dict, description="short form: its labels")
    annotations: dict[str, str] = Field(default_factory=dict, description="short form: its annotations")
    status: Literal["firing", "resolved"] = "firing"

    @model_validator(mode="after")
    def _one_form(self) -> AlertAttachment:
        if (self.payload is None) == (self.alertname is None):
            raise ValueError("an alert attachment needs exactly one of 'payload' (a webhook body) or 'alertname'")
        if self.alertname is not None and self.format != "alertmanager":
            raise ValueError("the short form ('alertname', 'labels') is sent as an Alertmanager webhook: "
                             "drop 'format' or give the vendor's body as 'payload'")
        if self.alertname is not None and not self.alertname.strip():
            raise ValueError("'alertname' must not be empty")
        return self

    def body(self) -> dict[str, JsonValue]:
        """The webhook body to deliver."""
        if self.payload is not None:
            return self.payload
        return {"version": "4", "status": self.status, "alerts": [{
            "status": self.status, "labels": {"alertname": self.alertname, **self.labels},
            "annotations": dict(self.annotations)}]}


class Series(Strict):
    """One line of a dashboard panel: ``points`` are ``[offset, value]`` pairs on the scenario clock."""

    name: str = Field(min_length=1)
    points: list[tuple[Duration, float]] = Field(min_length=1)


class PanelAttachment(Strict):
    """A dashboard panel shown with an inject, drawn as a chart up to the moment it is published:
    from ``series`` given here, or the one the fault's simulated shadow implies (its steady-state
    checks healthy until the fault, failing while it lasts)."""

    title: str = Field(min_length=1)
    unit: str = ""
    series: list[Series] | None = None
    fault: str | None = Field(None, description="a fault id: draw the series its shadow implies")

    @model_validator(mode="after")
    def _one_source(self) -> PanelAttachment:
        if (self.series is None) == (self.fault is None):
            raise ValueError("a panel needs exactly one of 'series' (given points) or 'fault' (its shadow's series)")
        return self


class Expectation(Strict):
    """A player action an inject should prompt: a response step (by id), or an action (by name,
    optionally by a role). ``description`` is what the evaluator reads (HSEEP: expected player action)."""

    step: str | None = None
    action: str | None = None
    role: Role | None = None
    description: str | None = None

    @model_validator(mode="after")
    def _one(self) -> Expectation:
        if (self.step is None) == (self.action is None):
            raise ValueError("an expectation needs exactly one of 'step' (a response step id) or 'action'")
        if self.role is not None and self.action is None:
            raise ValueError("'role' goes with 'action' (a step names its own role)")
        return self

    @property
    def label(self) -> str:
        if self.step is not None:
            return f"step {self.step}"
        return f"{self.action}" + (f" by {self.role}" if self.role else "")


class Contingency(Strict):
    """If any of the inject's expected actions has not happened ``after`` its publication, publish
    the inject ``publish`` (HSEEP: a contingency inject)."""

    after: Duration = Field(gt=0, description="on the scenario clock, from this inject's publication")
    publish: str = Field(description="the id of the inject to publish")


class Inject(Strict):
    """One line of the MSEL. ``at`` is the scenario clock's offset from drill start; an inject
    without ``at`` is published only by a contingency or by the facilitator."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")
    at: Duration | None = Field(None, description="scenario time from drill start; none: contingency or facilitator only")
    channel: Channel
    from_: str = Field(alias="from", min_length=1, description="the persona it comes from, e.g. 'Monitoring', 'Customer support'")
    to: str = Field(EVERYONE, description="a role, or 'everyone'")
    subject: str = Field(min_length=1)
    message: str = ""
    synopsis: str | None = Field(None, description="for controllers: the event this inject stands for (HSEEP: event synopsis)")
    alert: AlertAttachment | None = None
    panel: PanelAttachment | None = None
    expect: list[Expectation] = Field(default_factory=list, description="the player actions it should prompt")
    objective: str | None = Field(None, description="the objective it tests")
    contingency: Contingency | None = None
    notes: str | None = Field(None, description="for controllers and evaluators only")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False)

    @model_validator(mode="after")
    def _consistent(self) -> Inject:
        if self.contingency is not None and not self.expect:
            raise ValueError("a contingency fires when an expected action has not happened: give 'expect'")
        if self.contingency is not None and self.contingency.publish == self.id:
            raise ValueError("a contingency publishes another inject, not the same one")
        return self


class Objective(Strict):
    """What the exercise tests, evidenced by response steps (its critical tasks)."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")
    title: str = Field(min_length=1)
    capability: str | None = Field(None, description="the capability it exercises, e.g. 'Operational communications'")
    steps: list[str] = Field(min_length=1, description="response step ids: the critical tasks that evidence it")
