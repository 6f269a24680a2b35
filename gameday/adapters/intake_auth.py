"""Who sent a webhook delivery: a shared bearer token, or an HMAC-SHA256 signature of the raw body.

Configured per drill by the scenario's ``monitoring.auth`` (:class:`~gameday.model.monitoring.IntakeAuth`);
the secrets are read from environment variables when the drill starts, never from the file.

* **Bearer**: ``Authorization: Bearer <token>`` (what Alertmanager's
  ``http_config.authorization`` and Grafana's webhook contact point send).
* **HMAC, generic scheme**: ``X-Gameday-Signature: sha256=<hex>`` where ``<hex>`` is
  ``HMAC-SHA256(secret, raw body)`` in lower-case hex (the header name is configurable).
* **HMAC, PagerDuty scheme** (v3 webhooks): ``X-PagerDuty-Signature: v1=<hex>[,v1=<hex>...]``;
  several signatures appear while a secret is rotated, and one valid ``v1`` is enough.

With several credentials configured, a delivery carrying any one valid credential is
authenticated. Every comparison is constant-time (:func:`hmac.compare_digest`). Pure
functions over bytes and a header mapping: no I/O, no framework.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass

from gameday.errors import ConfigError


@dataclass(frozen=True)
class AuthResult:
    ok: bool
    reason: str  # why not (or how it was authenticated)


def sign(secret: bytes | str, body: bytes) -> str:
    """Lower-case hex HMAC-SHA256 of ``body``."""
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def _get(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive header lookup over any mapping (Starlette's headers are already case-insensitive)."""
    value = headers.get(name)
    if value is None:
        lower = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lower), None)
    return value


class IntakeVerifier:
    """Checks one delivery's credentials. Build it with :meth:`from_config` (reads the environment)."""

    def __init__(self, *, bearer_token: str | None = None, hmac_secret: str | None = None, scheme: str = "generic",
                 header: str | None = None):
        if not bearer_token and not hmac_secret:
            raise ValueError("an IntakeVerifier needs a bearer token or an HMAC secret")
        if scheme not in ("generic", "pagerduty"):
            raise ValueError(f"unknown HMAC scheme {scheme!r}")
        self._token = bearer_token.encode() if bearer_token else None
        self._secret = hmac_secret.encode() if hmac_secret else None
        self.scheme = scheme
        self.header = header or ("X-PagerDuty-Signature" if scheme == "pagerduty" else "X-Gameday-Signature")

    @classmethod
    def from_config(cls, auth, environ: Mapping[str, str] | None = None) -> IntakeVerifier | None:
        """From a scenario's ``monitoring.auth`` (None: no authentication). ConfigError if a variable is unset."""
        if auth is None:
            return None
        env = os.environ if environ is None else environ
        values = {}
        for field in ("bearer_token_env", "hmac_secret_env"):
            name = getattr(auth, field)
            if name:
                value = env.get(name)
                if not value:
                    raise ConfigError(f"monitoring.auth.{field}: environment variable {name} is not set (or empty)")
                values[field] = value
        return cls(bearer_token=values.get("bearer_token_env"), hmac_secret=values.get("hmac_secret_env"),
                   scheme=auth.hmac_scheme, header=auth.signature_header)

    @property
    def methods(self) -> list[str]:
        out = []
        if self._token:
            out.append("bearer")
        if self._secret:
            out.append(f"hmac-{self.scheme}")
        return out

    def verify(self, headers: Mapping[str, str], body: bytes) -> AuthResult:
        """Authenticated iff any configured credential is present and valid; else the reasons why not."""
        reasons = []
        if self._token:
            got = _get(headers, "authorization")
            if got is None:
                reasons.append("no Authorization header")
            else:
                scheme, _, token = got.strip().partition(" ")
                if scheme.lower() != "bearer" or not token.strip():
                    reasons.append("Authorization is not a bearer token")
                elif hmac.compare_digest(token.strip().encode(), self._token):
                    return AuthResult(True, "bearer")
                else:
                    reasons.append("wrong bearer token")
        if self._secret:
            got = _get(headers, self.header)
            if got is None:
                reasons.append(f"no {self.header} header")
            else:
                ok, why = self._check_signature(got, body)
                if ok:
                    return AuthResult(True, f"hmac-{self.scheme}")
                reasons.append(why)
        return AuthResult(False, "; ".join(reasons))

    def _check_signature(self, value: str, body: bytes) -> tuple[bool, str]:
        assert self._secret is not None
        expected = sign(self._secret, body).encode()
        prefix = "v1=" if self.scheme == "pagerduty" else "sha256="
        candidates = [part.strip() for part in value.split(",")] if self.scheme == "pagerduty" else [value.strip()]
        offered = [c[len(prefix):] for c in candidates if c.lower().startswith(prefix)]
        if not offered:
            return False, f"{self.header} has no '{prefix}<hex>' signature"
        ok = False
        for sig in offered:  # compare all, constant-time each, so timing says nothing about which one
            ok |= hmac.compare_digest(sig.lower().encode(), expected)
        return (True, "") if ok else (False, f"bad signature in {self.header}")
