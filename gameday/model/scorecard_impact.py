"""The scorecard's customer impact: the load generator's request figures over the impact window, the revenue
estimate, and the spans nothing measured. Re-exported by :mod:`gameday.model.scorecard`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from gameday.model.scorecard_base import Out


class RequestFigures(Out):
    """Load-generator figures of one request name (or a group of them) over a window."""

    name: str
    requests: int
    failures: int
    failure_rate: float | None = Field(description="failures / requests, 0..1; None without requests")
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None


class LoadWindow(Out):
    """What the load generator measured over one window of the drill (whole stats intervals)."""

    from_t: float | None
    to_t: float | None
    intervals: int
    seconds: float = Field(description="sum of the lengths of the stats intervals counted")
    total: RequestFigures
    customer_facing: RequestFigures
    by_name: list[RequestFigures]


class RevenueEstimate(Out):
    """Revenue lost in the impact window, with the formula and the numbers plugged into it.

    In a time-scaled drill (``policy.scale`` below 1: 1 s of drill stands for 1/scale s of an
    incident) ``lost`` is priced on the incident clock (the drill's loss ÷ scale: its shortfall
    stretched to the incident's length), ``lost_drill_clock`` keeps the drill's own figure and
    ``scale`` the declaration; both are left out of an unscaled drill's scorecard."""

    currency: str
    basis: Literal["revenue_per_minute", "value_per_request"]
    lost: float | None = Field(description="on the incident clock in a time-scaled drill (see lost_drill_clock)")
    per_minute: float | None = Field(description="lost ÷ minutes of stats intervals in the impact window (the same "
                                     "figure on the drill's clock and the incident's)")
    lower_bound: bool = Field(False, description="load data is missing for part of the window: at least this much")
    value_per_success: float | None
    expected_successes: float | None
    actual_successes: int | None
    shortfall: float | None
    formula: str
    computation: str = ""
    note: str = ""
    lost_drill_clock: float | None = Field(None, exclude_if=lambda v: v is None, description="time-scaled drill only: "
                                           "the loss over the drill's own impact window (lost × scale)")
    scale: float | None = Field(None, exclude_if=lambda v: v is None, description="time-scaled drill only: policy.scale "
                                "(1 s of this drill stands for 1/scale s of an incident)")


class UnknownSpan(Out):
    """A stretch of the drill when the load generator was not running: impact unknown there."""

    from_t: float
    to_t: float | None
    reason: str
    seq: int


class ImpactResult(Out):
    """What customers felt, measured by the load generator (``None`` on a scorecard: no load configured)."""

    status: Literal["measured", "partial", "unknown"]
    note: str = ""
    customer_facing: list[str]
    window_definition: str
    baseline: LoadWindow | None
    during: LoadWindow | None
    peak_error_rate: float | None = Field(description="highest failure rate of all requests in one interval of the window")
    peak_error_t: float | None
    peak_customer_facing_error_rate: float | None
    degraded_seconds: float | None
    degraded_minutes: float | None = Field(description="on the drill's clock (the journal's t)")
    degraded_minutes_incident_clock: float | None = Field(
        None, exclude_if=lambda v: v is None, description="time-scaled drill only: degraded_minutes ÷ policy.scale")
    degraded_definition: str
    revenue: RevenueEstimate | None
    unknown: list[UnknownSpan] = Field(default_factory=list)
    unseen_names: list[str] = Field(default_factory=list, description="customer-facing names no stats interval mentions")
