"""Severity policy and project configuration (``gameday.yaml``).

The built-in policy follows the practice this tool is built on:

* SEV1 — complete outage or severe degradation for all customers; executives notified immediately
  (within 5 minutes of declaring: the time a page takes).
* SEV2 — significant degradation for a substantial subset; executives within 30 minutes.
* SEV3 — minor issues for a small percentage; executives if unresolved after 4 hours.
* SEV4 — noticed internally, no customer impact; fix in business hours.
* Stakeholder updates at least every 30 minutes while the incident is open.
"""

from __future__ import annotations

from pydantic import Field

from gameday.model.duration import Duration
from gameday.model.load import Business
from gameday.model.notify import NotifyChannel
from gameday.model.scenario_base import Strict
from gameday.model.terms import Severity


class SeverityLevel(Strict):
    description: str
    executives_within: Duration | None = Field(None, description="executives must be notified this long after declaration")
    executives_if_open_after: Duration | None = Field(None, description="executives must be told if still open after this")
    update_every: Duration | None = Field(None, description="stakeholder update cadence while open (None: no requirement)")


class SeverityPolicy(Strict):
    name: str = "default"
    levels: dict[Severity, SeverityLevel]

    def scaled(self, scale: float) -> SeverityPolicy:
        """The same policy with every duration multiplied by ``scale`` (drills shorter than real incidents)."""
        if scale == 1.0:
            return self
        keys = ("executives_within", "executives_if_open_after", "update_every")
        levels = {
            sev: lvl.model_copy(update={k: getattr(lvl, k) * scale for k in keys if getattr(lvl, k) is not None})
            for sev, lvl in self.levels.items()
        }
        return SeverityPolicy(name=f"{self.name} (scaled x{scale:g})", levels=levels)


DEFAULT_POLICY = SeverityPolicy.model_validate(
    {
        "name": "default",
        "levels": {
            "SEV1": {
                "description": (
                    "Complete service outage or severe degradation affecting all customers. Revenue impacted. All hands on deck."
                ),
                "executives_within": "5m",  # "immediate", with the few minutes a page takes
                "update_every": "30m",
            },
            "SEV2": {
                "description": (
                    "Significant feature degradation affecting a substantial customer subset. Revenue impact possible."
                ),
                "executives_within": "30m",
                "update_every": "30m",
            },
            "SEV3": {
                "description": "Minor feature issues affecting a small customer percentage. Minimal revenue impact.",
                "executives_if_open_after": "4h",
                "update_every": "30m",
            },
            "SEV4": {
                "description": "Noticed internally, not affecting customers. Fix during business hours.",
            },
        },
    }
)


class ProjectConfig(Strict):
    """``gameday.yaml``: the project's severity policy and defaults (all optional)."""

    policy: SeverityPolicy = DEFAULT_POLICY
    templates: str | None = Field(None, description="folder whose templates override the built-in ones")
    state_dir: str = Field(".gameday", description="where the fault ledger and demo state live")
    business: Business | None = Field(None, description="default business context for every scenario")
    notify: list[NotifyChannel] = Field(
        default_factory=list, description="chat webhooks that receive posted updates (see README)"
    )
