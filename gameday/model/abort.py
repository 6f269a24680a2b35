"""A scenario's guardrails (``abort:``): its maximum duration and its stop conditions (split from
:mod:`gameday.model.scenario`, which re-exports them; the conductor's side is :mod:`gameday.drill.stops`)."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, model_validator

from gameday.model.duration import Duration, format_duration
from gameday.model.scenario_base import Strict


class StopCondition(Strict):
    """A stop condition (``abort.when``), like AWS FIS's: while a fault is in, when it holds for ``for``, the
    drill is aborted and every fault rolled back, the reading journaled (``StopConditionMet``).

    ``check``: a steady-state check (by name) failing — name one that must keep holding while the faults are
    in (the payments page while checkout is broken), not the one the fault is meant to break.
    ``impact``: ``error_rate`` (the load generator's failing share of all requests, per stats interval, above
    ``above``, 0..1) or ``failed_requests`` (failed requests since the first injection, more than ``above``)."""

    check: str | None = Field(None, description="the name of a steady-state check whose failure stops the drill")
    impact: Literal["error_rate", "failed_requests"] | None = Field(None, description="a load measure (needs load:)")
    above: float | None = Field(None, ge=0, description="error_rate: a share 0..1; failed_requests: a count")
    for_: Duration = Field(0.0, alias="for", description="how long it must hold (0: the first reading)")

    model_config = ConfigDict(populate_by_name=True)

    @model_validator(mode="after")
    def _one_kind(self) -> StopCondition:
        if (self.check is None) == (self.impact is None):
            raise ValueError("a stop condition needs exactly one of 'check' (a steady-state check failing) or "
                             "'impact' (error_rate or failed_requests above a threshold)")
        if self.impact is not None and self.above is None:
            raise ValueError(f"impact {self.impact!r} needs 'above' (the threshold)")
        if self.check is not None and self.above is not None:
            raise ValueError("'above' goes with 'impact', not 'check'")
        if self.impact == "error_rate" and self.above is not None and self.above > 1:
            raise ValueError("error_rate's 'above' is a share from 0 to 1 (0.5 is half the requests)")
        return self

    def describe(self) -> str:
        """``check 'payments' failing for 5s``, ``error rate above 50%``, ``failed requests above 100``."""
        hold = f" for {format_duration(self.for_)}" if self.for_ else ""
        if self.check is not None:
            return f"check {self.check!r} failing{hold}"
        if self.impact == "error_rate":
            return f"error rate above {(self.above or 0) * 100:g}%{hold}"
        return f"failed requests above {self.above:g}{hold}"


class Abort(Strict):
    max_duration: Duration = Field(description="guardrail: the drill is aborted and rolled back after this long")
    when: list[StopCondition] = Field(default_factory=list, description="stop conditions: any one that holds while "
                                      "a fault is in aborts the drill and rolls every fault back")
