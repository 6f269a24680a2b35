"""What the trends read of a journal's first line and of a scorecard: narrow pydantic views, parsed in one
``validate_json`` each (what the trends do not use is skipped), checked as strictly as the rows need — text
without control characters (it lands in HTML, SVG, CSV and the terminal), times with a zone, known modes and
verdicts, scores within 0..100. A file that does not pass is not used as it is: a scorecard is then ignored
(the journal is scored instead), a journal skipped with a line saying so.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from gameday.model.terms import Mode
from gameday.model.textsafe import first_unsafe

__all__ = ["CardView", "StartedView"]


def _plain(text: str) -> str:
    """Text a row carries into HTML, SVG, CSV and the terminal: no control or format character (a scorecard
    gameday wrote never has one; one that has is not read as a scorecard, and its journal is scored instead)."""
    if (at := first_unsafe(text)) is not None:
        raise ValueError(f"an unsafe character at {at}")
    return text


def _aware(text: str) -> str:
    """An ISO 8601 time with a zone (the rows are dated and sorted by it)."""
    if datetime.fromisoformat(text.replace("Z", "+00:00")).tzinfo is None:
        raise ValueError("no time zone")
    return text


Plain = Annotated[str, AfterValidator(_plain)]
When = Annotated[str, AfterValidator(_aware)]


class _View(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _AlertView(_View):
    alertname: Plain | None = None


class _SignalView(_View):
    name: Plain | None = None
    alert: _AlertView


class _DetectionView(_View):
    signals: list[_SignalView] = []


class _ScenarioView(_View):
    id: Plain
    tags: list[Plain] = []
    detection: _DetectionView | None = None


class _StartedData(_View):
    drill_id: Plain
    mode: Mode
    scenario: _ScenarioView


class StartedView(_View):
    kind: str
    wall: When
    data: _StartedData


class _MeasureView(_View):
    name: str
    seconds: float | None = Field(ge=0)


class _DetectionResultView(_View):
    verdict: Literal["on_time", "late", "silent", "not_applicable"]
    via: Plain | None = None
    signal: Plain | None = None


class _StepView(_View):
    verdict: str
    author: Plain | None = None


class _SeverityView(_View):
    correct: bool
    note: str = ""


class _RolesView(_View):
    holders: dict[Plain, list[Plain]]


class _FaultView(_View):
    status: str


class _ScoreView(_View):
    status: str
    total: float | None = Field(ge=0, le=100)


class CardView(_View):
    """What the trends read of a scorecard, checked as strictly as the rows need: a file that does not pass is
    no scorecard (its journal is scored instead)."""

    drill_id: Plain
    scenario_id: Plain
    title: Plain
    mode: Mode
    outcome: Literal["completed", "aborted", "incomplete"]
    verdict: Literal["passed", "not_passed", "aborted", "incomplete"]
    passed: bool
    started_at: When
    times: list[_MeasureView]
    detection: _DetectionResultView
    steps: list[_StepView]
    severity: _SeverityView
    roles: _RolesView
    faults: list[_FaultView] = []
    score: _ScoreView
