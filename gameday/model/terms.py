"""The shared words of incident response, each defined once: severity, audience, role, mode, offset.

Severity levels follow the practice gameday is built on: SEV1 (complete outage, all hands,
executives told at once) to SEV4 (noticed internally, no customer impact). The three roles
separate coordination (the incident commander, who does no technical work), diagnosis and
repair (the technical lead) and stakeholder updates (the communications lead).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from gameday.model.duration import human

Severity = Literal["SEV1", "SEV2", "SEV3", "SEV4"]
SEVERITIES: tuple[Severity, ...] = ("SEV1", "SEV2", "SEV3", "SEV4")

Audience = Literal["internal", "external", "executive"]
AUDIENCES: tuple[Audience, ...] = ("internal", "external", "executive")

Mode = Literal["gameday", "tabletop", "ci", "training"]

ROLE_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,39}$"
Role = Annotated[str, Field(pattern=ROLE_PATTERN, description="lower-case role name, e.g. incident-commander")]

IC = "incident-commander"
TECH_LEAD = "tech-lead"
COMMS_LEAD = "comms-lead"
DEFAULT_ROLES: tuple[str, ...] = (IC, TECH_LEAD, COMMS_LEAD)


def format_offset(t: float | None) -> str:
    """An offset from drill start for people: ``+12.3s``, ``+1m05s``, ``+1h02m``; ``—`` for None."""
    return "—" if t is None else "+" + human(max(t, 0.0))
