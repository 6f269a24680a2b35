"""Which monitoring a drill's detection comes from, how the intake authenticates, and PromQL checks.

Owned by the monitoring feature; the scenario's ``monitoring:`` section and the
``prometheus`` kind of steady-state check::

    monitoring:
      kind: prometheus                   # builtin (the demo's stand-in) | prometheus | external
      auth:                              # optional: refuse unauthenticated webhook deliveries (401)
        bearer_token_env: GAMEDAY_INTAKE_TOKEN        # Authorization: Bearer <token>
        hmac_secret_env: PAGERDUTY_WEBHOOK_SECRET     # an HMAC-SHA256 signature of the raw body
        hmac_scheme: pagerduty                        # X-PagerDuty-Signature: v1=<hex>[,v1=<hex>...]
      silence_other_alerts: true         # silence non-drill alerts in Alertmanager for the drill
      silence_matchers: {service: "~checkout|database"}   # ... but only these (scope of the silence)
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from gameday.model.duration import Duration
from gameday.model.scenario_base import Strict, check_label_regexes

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class IntakeAuth(Strict):
    """How webhook deliveries prove who sent them. Secrets come from environment variables, never the file.

    With both a bearer token and an HMAC secret, a delivery carrying either valid credential
    is authenticated (Alertmanager sends the token, PagerDuty signs the body).
    """

    bearer_token_env: str | None = Field(None, description="env var holding a shared bearer token")
    hmac_secret_env: str | None = Field(None, description="env var holding an HMAC-SHA256 secret")
    hmac_scheme: Literal["generic", "pagerduty"] = Field(
        "generic", description="generic: '<hmac_header>: sha256=<hex>'; pagerduty: 'X-PagerDuty-Signature: v1=<hex>,...'")
    hmac_header: str | None = Field(
        None, description="signature header (default X-Gameday-Signature, or X-PagerDuty-Signature for scheme pagerduty)")

    @field_validator("bearer_token_env", "hmac_secret_env")
    @classmethod
    def _env_name(cls, name: str | None) -> str | None:
        if name is not None and not _ENV_NAME.match(name):
            raise ValueError(f"expected an environment variable name, got {name!r}")
        return name

    @model_validator(mode="after")
    def _some_credential(self) -> IntakeAuth:
        if not self.bearer_token_env and not self.hmac_secret_env:
            raise ValueError("auth needs 'bearer_token_env' or 'hmac_secret_env' (or both)")
        return self

    @property
    def signature_header(self) -> str:
        if self.hmac_header:
            return self.hmac_header
        return "X-PagerDuty-Signature" if self.hmac_scheme == "pagerduty" else "X-Gameday-Signature"


class Monitoring(Strict):
    """``builtin``: the demo's stand-in; ``prometheus``: real Prometheus + Alertmanager; ``external``: the team's own."""

    kind: Literal["builtin", "prometheus", "external"] = "builtin"
    auth: IntakeAuth | None = None
    silence_other_alerts: bool = Field(False, description="silence non-drill alerts in Alertmanager during the drill")
    silence_matchers: dict[str, str] = Field(
        default_factory=dict,
        description="scope of that silence: only alerts with these labels (value equality, '~regex' full match)")
    alertmanager_url: str | None = Field(None, description="for silences with kind external")
    prometheus_url: str | None = Field(None, description="default Prometheus for PromQL checks with kind external")
    rules: list[str] = Field(
        default_factory=list,
        description="kind prometheus: alert rule files (relative to the scenario's folder, else the project root); "
                    "default: the shipped rules of the demo (gameday/monitoring/rules/demo.rules.yml)")
    scrape: list[str] = Field(
        default_factory=list,
        description="kind prometheus: extra metrics URLs to scrape (e.g. http://127.0.0.1:8080/metrics); "
                    "a demo target's /metrics endpoints are scraped anyway")

    @field_validator("silence_matchers")
    @classmethod
    def _regexes_compile(cls, labels: dict[str, str]) -> dict[str, str]:
        return check_label_regexes(labels)

    @model_validator(mode="after")
    def _consistent(self) -> Monitoring:
        if self.silence_other_alerts and self.kind != "prometheus" and not self.alertmanager_url:
            raise ValueError("'silence_other_alerts' needs an Alertmanager: kind 'prometheus', or 'alertmanager_url'")
        if (self.rules or self.scrape) and self.kind != "prometheus":
            raise ValueError("'rules' and 'scrape' go with kind 'prometheus'")
        return self


class PromCheck(Strict):
    """Healthy while a PromQL query's value compares true (e.g. ``query: up{job="checkout"}``, ``op: '=='``, ``value: 1``).

    A vector result is healthy when it has at least one sample and every sample compares
    true; an empty result is unhealthy ("no data").
    """

    query: str = Field(min_length=1)
    op: Literal["<", "<=", "==", "!=", ">=", ">"] = ">"
    value: float = 0
    url: str | None = Field(None, description="Prometheus base URL (default: the drill's Prometheus)")
    timeout: Duration = 1.0
