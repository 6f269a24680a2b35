"""The journal's event kinds of the load a drill drives (locust, :mod:`gameday.load`): started, a
statistics interval, failed, stopped. Members of the one union in :mod:`gameday.model.events`."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from gameday.model.eventbase import Part as _Part
from gameday.model.eventbase import Payload
from gameday.model.load import Business


class LoadStage(_Part):
    after: float
    users: int
    spawn_rate: float | None = None


class LoadStarted(Payload):
    tool: str = "locust"
    users: int
    spawn_rate: float
    workers: int = 0
    host: str
    locustfile: str
    stages: list[LoadStage] = Field(default_factory=list)
    business: Business | None = None
    unknown_customer_facing: list[str] = Field(default_factory=list)
    interval: float = 1.0
    priority: str | None = None
    cpus: str = "all"
    cpus_setting: str | None = None
    cpus_note: str = ""
    pids: dict[str, int] = Field(default_factory=dict)
    files: dict[str, str] = Field(default_factory=dict)


class Figures(_Part):
    """One interval's figures for one request name (or the total); times in ms."""

    requests: int = 0
    failures: int = 0
    p50: float | None = None
    p95: float | None = None
    p99: float | None = None
    max: float | None = None
    hist: dict[str, int] | None = Field(None, description="locust's rounded response times (ms) -> count")


class LoadStats(Payload):
    """One stats interval (about 1 s): the interval's own figures, not cumulative."""

    QUIET: ClassVar[bool] = True
    t_from: float
    t_to: float
    users_from: int = 0
    users: int = 0
    names: dict[str, Figures] = Field(default_factory=dict)
    total: Figures = Field(default_factory=Figures)


class LoadFailed(Payload):
    """The load tool could not start, or died: impact is unknown from the last LoadStats on."""

    error: str
    stage: Literal["start", "run"]
    role: str | None = None
    exit_code: int | None = None


class Totals(_Part):
    requests: int = 0
    failures: int = 0


class LoadError(_Part):
    name: str | None = None
    method: str | None = None
    error: str
    occurrences: int = 0


class LoadStopped(Payload):
    reason: Literal["rollback", "end"]
    totals: dict[str, Totals] | None = None
    totals_from: str | None = None
    errors: list[LoadError] = Field(default_factory=list)
    exit_codes: dict[str, int | None] = Field(default_factory=dict)
