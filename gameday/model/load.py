"""Load and business context: locust drives traffic during a drill; revenue turns impact into money.

Owned by the load feature; the scenario's ``load:`` and ``business:`` sections (``business:``
may also sit in ``gameday.yaml``, as every scenario's default). How the figures are
computed from the journal: :mod:`gameday.analysis.impact`. Where locust runs
(``load.priority``, ``load.cpus``): :mod:`gameday.model.cpus` and :mod:`gameday.adapters.locust`.
"""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, WithJsonSchema, field_validator, model_validator

from gameday.model import cpus as _cpus
from gameday.model.duration import Duration
from gameday.model.scenario_base import Strict

#: ``locustfile: demo`` names the demo shop's own locustfile (browse, cart, checkout).
DEMO_LOCUSTFILE = "demo"
#: ``load.cpus`` in the JSON schema: a word, a CPU list, or one CPU number (YAML ``cpus: 1``).
_CPUS_SCHEMA = {"anyOf": [{"type": "string", "pattern": r"^\s*(auto|all|[0-9][0-9,\- ]*)\s*$"},
                          {"type": "integer", "minimum": 0}],
                "examples": ["auto", "all", "1-3", "1,3"]}


class LoadStage(Strict):
    """From ``after`` (offset from load start) on, run ``users`` users spawned at ``spawn_rate``/s."""

    after: Duration
    users: int = Field(ge=0)
    spawn_rate: float | None = Field(None, gt=0, description="default: the load's spawn_rate")


class Load(Strict):
    """Traffic from locust (run as a subprocess), from the baseline phase until recovery is over (rollback)."""

    locustfile: str = Field(
        description="path of the locustfile: relative to the scenario's folder, else the project root; "
        "'demo' = the demo shop's (request names browse, cart, checkout)"
    )
    users: int = Field(10, ge=1, le=100_000)
    spawn_rate: float = Field(10, gt=0, description="users started per second")
    host: str | None = Field(None, description="base URL to load, e.g. http://127.0.0.1:8080; default: the target's URL")
    stages: list[LoadStage] = Field(default_factory=list, description="optional profile (ramp, steady): user count over time")
    workers: int = Field(
        0, ge=0, le=64, description="locust distributed mode: a master and N workers on loopback (0: one process)"
    )
    priority: Literal["idle", "low", "normal"] = Field(
        "idle",
        description="CPU priority of the locust processes: idle (SCHED_IDLE: only CPU the drill does not need, so the "
        "conductor's timing comes first), low (nice 10), normal",
    )
    cpus: Annotated[str, WithJsonSchema(_CPUS_SCHEMA)] = Field(
        "auto",
        description="CPUs the locust processes run on: auto (every CPU but one, left to the conductor, when there are "
        "two or more; nothing changes on one CPU), all (no placement), or a CPU list like '1-3' or '1,3'; quote lists "
        "(cpus: \"1-3\"): YAML reads a bare 010 as octal 8",
    )

    @field_validator("cpus", mode="before")
    @classmethod
    def _cpus_setting(cls, value: object) -> str:
        return _cpus.check_setting(value)

    @field_validator("host")
    @classmethod
    def _host_is_a_base_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"expected a base URL like 'http://127.0.0.1:8080', got {value!r}")
        try:
            parts.port  # noqa: B018 - raises ValueError for a bad port
        except ValueError as exc:
            raise ValueError(f"bad port in {value!r}: {exc}") from None
        return value.rstrip("/")

    @model_validator(mode="after")
    def _stages_ordered(self) -> Load:
        times = [s.after for s in self.stages]
        if times != sorted(times):
            raise ValueError("load stages must be in order of 'after'")
        return self


class Business(Strict):
    """What an outage costs. Give revenue per minute at normal traffic, or value per successful request."""

    revenue_per_minute: float | None = Field(None, ge=0, description="revenue per real minute at normal (baseline) "
                                             "traffic (a minute of the incident clock in a drill with policy.scale)")
    value_per_request: float | None = Field(None, ge=0, description="value of one successful customer-facing request")
    currency: str = Field("USD", min_length=1, max_length=8)
    customer_facing: list[str] = Field(
        default_factory=list, description="locust request names customers feel (default: every request)"
    )
    degraded_threshold: float = Field(
        0.05, ge=0, le=1,
        description="a second is degraded when the customer-facing failure rate exceeds the baseline's by this much",
    )

    @model_validator(mode="after")
    def _one_figure(self) -> Business:
        if self.revenue_per_minute is not None and self.value_per_request is not None:
            raise ValueError("give 'revenue_per_minute' or 'value_per_request', not both")
        if len(set(self.customer_facing)) != len(self.customer_facing):
            raise ValueError("customer_facing names a request twice")
        return self
