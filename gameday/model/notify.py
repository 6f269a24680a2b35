"""Chat notification channels: the ``notify:`` list of ``gameday.yaml``.

A channel is a chat webhook that receives stakeholder updates posted during a drill::

    notify:
      - name: incident-room          # shown in the journal (never the URL)
        kind: slack                  # slack | teams | generic
        url_env: GAMEDAY_SLACK_URL   # the environment variable holding the webhook URL
        audiences: [internal, executive]

Webhook URLs are secrets (a Slack incoming-webhook URL is a bearer credential), so a
channel names the environment variable that holds its URL. A literal ``url`` is accepted
only for loopback receivers (tests, local relays), so that no secret ends up in a file.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from gameday.model.duration import Duration
from gameday.model.scenario_base import Strict
from gameday.model.terms import Audience, Mode

ChannelKind = Literal["slack", "teams", "generic"]
# The same literals as gameday.model.scenario's, kept here so that the scenario may import this module.

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def is_loopback_url(url: str) -> bool:
    """True for an ``http(s)`` URL whose host is a loopback name or address."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not host:
        return False
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _internal_only() -> list[Audience]:
    return ["internal"]


class NotifyChannel(Strict):
    """One chat webhook that receives updates for some audiences."""

    name: str = Field(min_length=1, max_length=64, description="the channel's name in the journal and reports")
    kind: ChannelKind = Field(description="slack (incoming webhook), teams (Workflows webhook, Adaptive Card) or generic (JSON)")
    url_env: str | None = Field(None, description="environment variable holding the webhook URL (the URL is a secret)")
    url: str | None = Field(None, description="literal webhook URL: loopback receivers only (tests, local relays)")
    audiences: list[Audience] = Field(
        default_factory=_internal_only, min_length=1, description="which updates it receives: internal, external, executive"
    )
    modes: list[Mode] | None = Field(None, description="drill modes it is used in (default: every mode)")
    timeout: Duration = Field(3.0, description="per attempt: connect, send and read")
    retries: int = Field(2, ge=0, le=5, description="further attempts after a timeout, a refused connection, 429 or 5xx")
    blocks: bool = Field(False, description="slack only: send Block Kit blocks besides the text")

    @field_validator("url_env")
    @classmethod
    def _env_name(cls, name: str | None) -> str | None:
        if name is not None and not _ENV_NAME.match(name):
            raise ValueError(f"'url_env' names an environment variable (letters, digits, _), got {name!r}")
        return name

    @field_validator("url")
    @classmethod
    def _loopback_only(cls, url: str | None) -> str | None:
        if url is not None and not is_loopback_url(url):
            raise ValueError(
                "a literal 'url' must be a loopback http(s) URL (127.0.0.1, ::1, localhost); "
                "webhook URLs are secrets: put the URL in an environment variable and name it in 'url_env'"
            )
        return url

    @model_validator(mode="after")
    def _one_source(self) -> NotifyChannel:
        if (self.url_env is None) == (self.url is None):
            raise ValueError("a channel needs exactly one of 'url_env' (an environment variable) or 'url' (loopback)")
        if self.timeout <= 0:
            raise ValueError("'timeout' must be positive")
        if self.blocks and self.kind != "slack":
            raise ValueError("'blocks' goes with kind 'slack'")
        return self

    def wants(self, audience: str, mode: str | None = None) -> bool:
        """Whether this channel receives an update for ``audience`` in drill ``mode``."""
        return audience in self.audiences and (self.modes is None or mode is None or mode in self.modes)
