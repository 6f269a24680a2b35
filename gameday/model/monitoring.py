"""Which monitoring a drill's detection comes from, how the intake authenticates, and PromQL checks.

Owned by the monitoring feature; the scenario's ``monitoring:`` section and the
``prometheus`` kind of steady-state check.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from gameday.model.duration import Duration
from gameday.model.scenario_base import Strict


class IntakeAuth(Strict):
    """How webhook deliveries prove who sent them. Secrets come from environment variables, never the file."""

    bearer_token_env: str | None = Field(None, description="env var holding a shared bearer token")
    hmac_secret_env: str | None = Field(None, description="env var holding an HMAC-SHA256 secret")
    hmac_scheme: Literal["generic", "pagerduty"] = "generic"
    hmac_header: str = Field("X-Gameday-Signature", description="header of the generic scheme: 'sha256=<hex>'")


class Monitoring(Strict):
    """``builtin``: the demo's stand-in; ``prometheus``: real Prometheus + Alertmanager; ``external``: the team's own."""

    kind: Literal["builtin", "prometheus", "external"] = "builtin"
    auth: IntakeAuth | None = None
    silence_other_alerts: bool = Field(False, description="silence non-drill alerts in Alertmanager during the drill")
    alertmanager_url: str | None = Field(None, description="for silences with kind external")


class PromCheck(Strict):
    """Healthy while a PromQL query's value compares true (e.g. ``query: up{job="checkout"}``, ``op: '=='``, ``value: 1``)."""

    query: str
    op: Literal["<", "<=", "==", "!=", ">=", ">"] = ">"
    value: float = 0
    url: str | None = Field(None, description="Prometheus base URL (default: the drill's Prometheus)")
    timeout: Duration = 1.0
