"""The findings file (``findings.yaml`` at the project root): every gap a drill showed, followed
until a re-drill proves it fixed (``kind: Findings``, version 1).

A **finding** is one gap of one scenario: its id is a fingerprint of the scenario id and the gap
key (:func:`fingerprint`; the keys are listed in :mod:`gameday.analysis.findings`), so the same
gap seen in two drills of a scenario is one finding, whatever the figures of each drill.

The state machine (:data:`TRANSITIONS`; every change is kept in ``history``)::

    (new gap) ──seen──▶ open ──re-drill passes on the gap──▶ closed ──seen again──▶ reopened
                        ▲  └─seen again: seen_in grows         │                     │
                        └──────────────────────────────────────┘◀──re-drill passes───┘

A finding is closed only by a drill that proves the fix (``closed_by``): ``gameday redrill``, or
``gameday findings close ID --drill JOURNAL``. A closed finding seen again in a drill started
after the one that closed it is **reopened**, and ``repeats`` counts it (the repeat-incident
rate: repeats should approach zero); a drill from before the closing one changes only
``seen_in``.

Frozen and strict like the scenario. The checks between findings (ids unique, each id the
fingerprint of its scenario and gap, one finding per gap, status and history in step) are raised
together as one :class:`FindingsCheckError`, each located at its path (as a scenario's cross checks).
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from gameday.model.names import PersonName
from gameday.model.scenario_base import Strict
from gameday.model.terms import Mode

__all__ = ["ID_DIGITS", "TRANSITIONS", "DrillRef", "Finding", "FindingsCheckError", "FindingsFile", "Source", "Status",
           "StatusChange",
           "findings_problems", "fingerprint", "timestamp"]

Status = Literal["open", "closed", "reopened"]
Source = Literal["postmortem", "aar", "training"]
"""Which report's "what could improve" the finding comes from (the postmortem's action items, a
tabletop's after-action report, a training report's rubric)."""
Loc = tuple[str | int, ...]

ID_DIGITS = 8
"""Hex digits of a finding's id (``F-3a9c1e07``: 32 bits). Two gaps whose ids would collide in one
file get a longer id (the first of 12, 16, ... digits that is free); lookups go by scenario and gap."""
MAX_ID_DIGITS = 64

TRANSITIONS: dict[Status | None, dict[str, Status]] = {
    None: {"seen": "open"},
    "open": {"seen": "open", "passed": "closed"},
    "reopened": {"seen": "reopened", "passed": "closed"},
    "closed": {"seen": "reopened"},
}
"""Each status and what moves it: a drill that shows the gap (``seen``), a re-drill that passes on it
(``passed``). ``None`` is a gap not yet in the file."""

_ID = re.compile(rf"^F-[0-9a-f]{{{ID_DIGITS},{MAX_ID_DIGITS}}}$")
_GAP = re.compile(r"^[a-z][a-z0-9-]*(:.+)?$", re.DOTALL)


def fingerprint(scenario: str, gap: str, digits: int = ID_DIGITS) -> str:
    """``'F-3a9c1e07'``: the first ``digits`` hex digits of SHA-256 over the scenario id and the gap key."""
    digest = hashlib.sha256(f"{scenario}\n{gap}".encode()).hexdigest()
    return f"F-{digest[:digits]}"


def timestamp(value: str | datetime) -> str:
    """``'2026-11-28T10:00:00Z'``: an ISO 8601 time (a drill's ``started_at``) in UTC, to the second."""
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _timestamp(value: Any) -> Any:
    if isinstance(value, datetime):  # an unquoted time in a hand-edited file: YAML read it as one
        return timestamp(value)
    if not isinstance(value, str):
        return value
    try:
        return timestamp(value)
    except ValueError:
        raise ValueError(f"expected a UTC time like \"2026-11-28T10:00:00Z\", got {value!r}") from None


Timestamp = Annotated[str, BeforeValidator(_timestamp), Field(description='a UTC time, "2026-11-28T10:00:00Z"')]


class FindingsCheckError(ValueError):
    """Problems between findings (or within one), each with its path (located like the scenario's cross checks)."""

    def __init__(self, problems: list[tuple[Loc, str]]):
        self.problems = problems
        super().__init__("; ".join(message for _, message in problems))


class DrillRef(Strict):
    """A drill, and when it started (orders drills: a finding reopens only for a drill after its closing one)."""

    drill: str = Field(min_length=1, description="the drill id")
    at: Timestamp

    @property
    def order(self) -> tuple[str, str]:
        """Sort key: start time, then drill id."""
        return (self.at, self.drill)


class StatusChange(Strict):
    """One change of a finding's status: to what, when (the drill's start), by which drill, why."""

    status: Status
    at: Timestamp
    drill: str = Field(min_length=1, description="the drill that moved it")
    why: str = Field(description="in one sentence")


class Finding(Strict):
    """One gap of one scenario, from its first sighting to the re-drill that proves it fixed."""

    id: str = Field(description="F- and hex digits: the fingerprint of scenario and gap")
    scenario: str = Field(min_length=1, description="the id of the scenario whose re-drill proves it fixed")
    scenario_path: str | None = Field(None, description="its file, relative to the project root (as last seen)")
    gap: str = Field(description="the gap key, e.g. step:acknowledge (no figures: stable from drill to drill)")
    source: Source = "postmortem"
    mode: Mode | None = Field(None, description="the mode of the drill that first showed it: a gap people showed in a "
                              "live game day is shown fixed by people, in a live game day, not by a ci drill's script")
    title: str = Field(description="the action item, as the last drill that showed it words it")
    why: str = Field(description="why, as that drill shows it")
    owner_role: str = Field(description="the incident role that owns it")
    owner: PersonName | None = Field(None, description="the person who owns it (gameday findings assign)")
    due: date | None = Field(None, description="when it should be fixed (gameday findings assign)")
    status: Status
    first_seen: DrillRef
    last_seen: DrillRef
    seen_in: list[str] = Field(min_length=1, description="every drill that showed it (sorted)")
    repeats: int = Field(0, ge=0, description="how many times it came back after being closed")
    closed_by: DrillRef | None = Field(None, description="the re-drill that closed it (while closed)")
    notes: str | None = Field(None, description="people's notes; kept as written")
    history: list[StatusChange] = Field(min_length=1, description="every status change, oldest first")

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError(f"expected F- and {ID_DIGITS} to {MAX_ID_DIGITS} lower-case hex digits, got {value!r}")
        return value

    @field_validator("gap")
    @classmethod
    def _gap(cls, value: str) -> str:
        if not _GAP.match(value):
            raise ValueError(f"expected a gap key like step:acknowledge or severity, got {value!r}")
        return value


class FindingsFile(Strict):
    """``findings.yaml``: the findings, sorted by scenario and gap (as gameday writes them)."""

    kind: Literal["Findings"] = "Findings"
    version: Literal[1] = 1
    findings: list[Finding] = Field(default_factory=list)

    @model_validator(mode="after")
    def _cross(self) -> FindingsFile:
        problems = findings_problems(self.findings)
        if problems:
            raise FindingsCheckError(problems)
        return self

    @classmethod
    def check_partial(cls, data: dict[Any, Any]) -> list[tuple[Loc, str]]:
        """The cross checks over the findings that validate by themselves (a file with type errors elsewhere)."""
        items = data.get("findings") if isinstance(data, dict) else None
        if not isinstance(items, list):
            return []
        valid: list[tuple[int, Finding]] = []
        for i, item in enumerate(items):
            try:
                valid.append((i, Finding.model_validate(item)))
            except ValueError:
                continue
        return findings_problems([f for _, f in valid], [i for i, _ in valid])

    def get(self, scenario: str, gap: str) -> Finding | None:
        """The finding of ``gap`` in ``scenario``, if the file has it."""
        return next((f for f in self.findings if f.scenario == scenario and f.gap == gap), None)


def findings_problems(findings: list[Finding], index: list[int] | None = None) -> list[tuple[Loc, str]]:
    """Every problem between findings and within one (empty: none), each with its path; ``index``
    gives each finding's place in the file (default: its place in ``findings``)."""
    where = index if index is not None else list(range(len(findings)))
    out: list[tuple[Loc, str]] = []
    ids: dict[str, int] = {}
    gaps: dict[tuple[str, str], int] = {}
    for i, f in zip(where, findings, strict=True):
        digits = len(f.id) - 2
        if f.id != fingerprint(f.scenario, f.gap, digits):
            message = (f"{f.id} is not the fingerprint of scenario {f.scenario!r} and gap {f.gap!r} (that is "
                       f"{fingerprint(f.scenario, f.gap)}): ids are made by gameday, not edited")
            out.append((("findings", i, "id"), message))
        if f.id in ids:
            out.append((("findings", i, "id"), f"id {f.id} is also finding {ids[f.id] + 1}'s"))
        ids.setdefault(f.id, i)
        if (f.scenario, f.gap) in gaps:
            message = f"scenario {f.scenario!r} has gap {f.gap!r} also in finding {gaps[(f.scenario, f.gap)] + 1}: one per gap"
            out.append((("findings", i, "gap"), message))
        gaps.setdefault((f.scenario, f.gap), i)
        out += [(("findings", i, *loc), message) for loc, message in _own_problems(f)]
    return out


def _own_problems(f: Finding) -> list[tuple[Loc, str]]:
    out: list[tuple[Loc, str]] = []
    if f.history[-1].status != f.status:
        out.append((("status",), f"status {f.status} but the last change in history is to {f.history[-1].status}"))
    if f.status == "closed" and f.closed_by is None:
        out.append((("closed_by",), "a closed finding names the re-drill that closed it (closed_by)"))
    if f.status != "closed" and f.closed_by is not None:
        out.append((("closed_by",), f"only a closed finding has closed_by (this one is {f.status})"))
    reopened = sum(1 for h in f.history if h.status == "reopened")
    if f.repeats != reopened:
        out.append((("repeats",), f"repeats is {f.repeats} but history reopens it {reopened} time(s)"))
    for field_name in ("first_seen", "last_seen"):
        ref: DrillRef = getattr(f, field_name)
        if ref.drill not in f.seen_in:
            out.append(((field_name, "drill"), f"drill {ref.drill!r} is not in seen_in"))
    if len(set(f.seen_in)) != len(f.seen_in):
        out.append((("seen_in",), "a drill is listed twice"))
    return out
