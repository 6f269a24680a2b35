"""Load and business context: locust drives traffic during a drill; revenue turns impact into money.

Owned by the load feature; the scenario's ``load:`` and ``business:`` sections.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from gameday.model.duration import Duration
from gameday.model.scenario_base import Strict


class LoadStage(Strict):
    """From ``after`` (offset from load start) on, run ``users`` users spawned at ``spawn_rate``/s."""

    after: Duration
    users: int = Field(ge=0)
    spawn_rate: float | None = Field(None, gt=0)


class Load(Strict):
    """Traffic from locust (run as a subprocess), from the baseline phase until after recovery."""

    locustfile: str = Field(description="path of the locustfile: relative to the scenario's folder, else the project root; 'demo' = the demo shop's")
    users: int = Field(10, ge=1)
    spawn_rate: float = Field(10, gt=0)
    host: str | None = Field(None, description="default: the target's URL")
    stages: list[LoadStage] = Field(default_factory=list, description="optional profile (ramp, steady)")
    workers: int = Field(0, ge=0, le=64, description="locust distributed mode: a master and N workers")

    @model_validator(mode="after")
    def _stages_ordered(self) -> Load:
        times = [s.after for s in self.stages]
        if times != sorted(times):
            raise ValueError("load stages must be in order of 'after'")
        return self


class Business(Strict):
    """What an outage costs. Give revenue per minute at normal traffic, or value per successful request."""

    revenue_per_minute: float | None = Field(None, ge=0)
    value_per_request: float | None = Field(None, ge=0)
    currency: str = "USD"
    customer_facing: list[str] = Field(default_factory=list, description="locust request names customers feel")

    @model_validator(mode="after")
    def _one_figure(self) -> Business:
        if self.revenue_per_minute is not None and self.value_per_request is not None:
            raise ValueError("give 'revenue_per_minute' or 'value_per_request', not both")
        return self
