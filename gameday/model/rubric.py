"""The incident commander's rubric: its items, and a training drill's verdicts on them (pure models).

The behaviours follow PagerDuty's incident commander training: take command out loud, give every
role and task to a named person with a time box, set the right severity, have executives told on
time, keep the update cadence, time-box decisions and ask for strong objections first, never go
hands-on, hand over formally, declare the resolution. :func:`gameday.analysis.rubric.score_training`
judges each item from one training journal, with the events that evidence it;
:mod:`gameday.program.training` follows the items across a trainee's sessions.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Verdict = Literal["met", "partly", "missed", "n/a"]
#: The points a verdict earns of an item's one (n/a items are left out of the score).
POINTS: dict[str, float] = {"met": 1.0, "partly": 0.5, "missed": 0.0}

#: The rubric's items, in the order an incident unfolds: id -> title.
RUBRIC: dict[str, str] = {
    "took-command": "Took command",
    "delegated": "Every role and task assigned to a person, with a time box",
    "severity": "Severity set, and correct",
    "executives": "Executives notified on time",
    "cadence": "Update cadence kept",
    "decisions": "Decisions time-boxed, strong objections asked for",
    "hands-off": "No hands-on work by the incident commander",
    "handover": "Formal handover",
    "resolution": "Resolution declared",
}
RubricItemId = Literal["took-command", "delegated", "severity", "executives", "cadence", "decisions", "hands-off",
                       "handover", "resolution"]
#: Items a trainee must meet to be trusted with command (the ladder's last rung asks for them).
CRITICAL: tuple[str, ...] = ("took-command", "hands-off", "resolution")

#: The incident commander training ladder, lowest rung first (PagerDuty: shadow, then reverse-shadow, then lead).
Rung = Literal["observer", "scribe", "shadow IC", "IC"]
RUNGS: tuple[str, ...] = ("observer", "scribe", "shadow IC", "IC")


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Evidence(_Frozen):
    """One journal event an item's verdict rests on."""

    seq: int
    t: float
    kind: str
    text: str = Field(description="what it shows, in words (people's text quoted as data)")


class ItemVerdict(_Frozen):
    """One rubric item's verdict on one training drill."""

    id: RubricItemId
    title: str
    verdict: Verdict
    why: str = Field(description="the verdict in one sentence, from the evidence")
    coaching: str = Field("", description="what to do next time, kindly and specifically (empty when met)")
    evidence: list[Evidence] = Field(default_factory=list)

    @property
    def points(self) -> float | None:
        """The points it earns (None: not applicable)."""
        return POINTS.get(self.verdict)


class HintUse(_Frozen):
    seq: int
    t: float
    text: str
    cost: float


class TrainingScore(_Frozen):
    """A training drill's rubric: each item's verdict, the hints taken, the score out of 100."""

    drill_id: str
    scenario_id: str
    scenario_title: str
    difficulty: int | None = None
    trainee: str
    outcome: Literal["completed", "aborted", "unfinished"]
    started_wall: str = Field(description="DrillStarted's wall time (ISO 8601): orders sessions")
    items: list[ItemVerdict]
    hints: list[HintUse] = Field(default_factory=list)
    score: float = Field(ge=0, le=100, description="100 x points earned / applicable items, less the hints' cost")

    def item(self, item_id: str) -> ItemVerdict | None:
        return next((i for i in self.items if i.id == item_id), None)
