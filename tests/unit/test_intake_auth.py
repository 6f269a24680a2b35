"""Bearer tokens and HMAC signatures of webhook deliveries (gameday.adapters.intake_auth)."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from gameday.adapters.intake_auth import IntakeVerifier, sign
from gameday.errors import ConfigError
from gameday.model.monitoring import IntakeAuth, Monitoring

BODY = b'{"event": {"event_type": "incident.triggered"}}'


def hexmac(secret: str, body: bytes = BODY) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_sign_is_lower_case_hex_hmac_sha256():
    assert sign("s3cret", BODY) == hexmac("s3cret")
    # RFC 4231 test case 2
    assert sign(b"Jefe", b"what do ya want for nothing?") == \
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"


# ------------------------------------------------------------------------------------- bearer
def test_bearer_token():
    v = IntakeVerifier(bearer_token="tok-123")
    assert v.verify({"Authorization": "Bearer tok-123"}, BODY).ok
    assert v.verify({"authorization": "bearer tok-123"}, BODY).ok  # header and scheme are case-insensitive
    for headers, why in [({}, "no Authorization header"), ({"Authorization": "Bearer nope"}, "wrong bearer token"),
                         ({"Authorization": "Basic dG9rLTEyMw=="}, "not a bearer token"),
                         ({"Authorization": "Bearer"}, "not a bearer token")]:
        result = v.verify(headers, BODY)
        assert not result.ok and why in result.reason


# ---------------------------------------------------------------------------------- PagerDuty
def test_pagerduty_signature_v1():
    v = IntakeVerifier(hmac_secret="pd-secret", scheme="pagerduty")
    assert v.header == "X-PagerDuty-Signature"
    assert v.verify({"X-PagerDuty-Signature": f"v1={hexmac('pd-secret')}"}, BODY).ok


def test_pagerduty_several_signatures_while_a_secret_rotates():
    v = IntakeVerifier(hmac_secret="new-secret", scheme="pagerduty")
    header = f"v1={hexmac('old-secret')},v1={hexmac('new-secret')}"
    assert v.verify({"x-pagerduty-signature": header}, BODY).ok
    assert v.verify({"x-pagerduty-signature": f"v1={hexmac('old-secret')}, v1={hexmac('new-secret')}"}, BODY).ok


@pytest.mark.parametrize("header, why", [
    (None, "no X-PagerDuty-Signature header"),
    ("v1=" + "0" * 64, "bad signature"),
    ("v2=" + "0" * 64, "no 'v1=<hex>' signature"),
    ("", "no 'v1=<hex>' signature"),
])
def test_pagerduty_bad_signatures(header, why):
    v = IntakeVerifier(hmac_secret="pd-secret", scheme="pagerduty")
    result = v.verify({} if header is None else {"X-PagerDuty-Signature": header}, BODY)
    assert not result.ok and why in result.reason


def test_signature_covers_the_raw_body():
    v = IntakeVerifier(hmac_secret="pd-secret", scheme="pagerduty")
    sig = f"v1={hexmac('pd-secret')}"
    assert not v.verify({"X-PagerDuty-Signature": sig}, BODY + b" ").ok  # re-formatted JSON is not the same body


def test_unicode_bodies_sign_as_utf8():
    body = '{"title": "Kassen-Fehler – ünïcödé ✓"}'.encode()
    v = IntakeVerifier(hmac_secret="pd-secret", scheme="pagerduty")
    assert v.verify({"X-PagerDuty-Signature": f"v1={hexmac('pd-secret', body)}"}, body).ok


# ------------------------------------------------------------------------------------ generic
def test_generic_signature():
    v = IntakeVerifier(hmac_secret="g-secret")
    assert v.header == "X-Gameday-Signature"
    assert v.verify({"X-Gameday-Signature": f"sha256={hexmac('g-secret')}"}, BODY).ok
    assert v.verify({"X-Gameday-Signature": f"sha256={hexmac('g-secret').upper()}"}, BODY).ok
    assert not v.verify({"X-Gameday-Signature": hexmac("g-secret")}, BODY).ok  # the prefix is required
    assert not v.verify({"X-Gameday-Signature": f"sha256={hexmac('other')}"}, BODY).ok


def test_generic_signature_in_a_custom_header():
    v = IntakeVerifier(hmac_secret="g-secret", header="X-Hub-Signature-256")
    assert v.verify({"X-Hub-Signature-256": f"sha256={hexmac('g-secret')}"}, BODY).ok


def test_either_credential_authenticates_when_both_are_configured():
    v = IntakeVerifier(bearer_token="tok", hmac_secret="pd-secret", scheme="pagerduty")
    assert v.verify({"Authorization": "Bearer tok"}, BODY).reason == "bearer"
    assert v.verify({"X-PagerDuty-Signature": f"v1={hexmac('pd-secret')}"}, BODY).reason == "hmac-pagerduty"
    result = v.verify({"Authorization": "Bearer bad"}, BODY)
    assert not result.ok and "wrong bearer token" in result.reason and "no X-PagerDuty-Signature" in result.reason


def test_secrets_never_appear_in_the_reasons():
    v = IntakeVerifier(bearer_token="tok-SECRET", hmac_secret="hmac-SECRET")
    result = v.verify({"Authorization": "Bearer x", "X-Gameday-Signature": "sha256=00"}, BODY)
    assert "SECRET" not in result.reason and hexmac("hmac-SECRET") not in result.reason


# ------------------------------------------------------------------------------- from config
def test_from_config_reads_the_environment():
    auth = IntakeAuth(bearer_token_env="GD_TOKEN", hmac_secret_env="GD_HMAC", hmac_scheme="pagerduty")
    v = IntakeVerifier.from_config(auth, {"GD_TOKEN": "t", "GD_HMAC": "h"})
    assert v is not None and v.methods == ["bearer", "hmac-pagerduty"]
    assert IntakeVerifier.from_config(None, {}) is None


def test_from_config_refuses_an_unset_variable():
    with pytest.raises(ConfigError, match="GD_TOKEN is not set"):
        IntakeVerifier.from_config(IntakeAuth(bearer_token_env="GD_TOKEN"), {})
    with pytest.raises(ConfigError, match="GD_HMAC is not set"):
        IntakeVerifier.from_config(IntakeAuth(hmac_secret_env="GD_HMAC"), {"GD_HMAC": ""})


def test_model_needs_a_credential_and_valid_names():
    with pytest.raises(ValueError, match="bearer_token_env"):
        IntakeAuth()
    with pytest.raises(ValueError, match="environment variable name"):
        IntakeAuth(bearer_token_env="not a name")
    assert IntakeAuth(hmac_secret_env="S", hmac_scheme="pagerduty").signature_header == "X-PagerDuty-Signature"
    assert IntakeAuth(hmac_secret_env="S").signature_header == "X-Gameday-Signature"


def test_monitoring_model_consistency():
    with pytest.raises(ValueError, match="needs an Alertmanager"):
        Monitoring(silence_other_alerts=True)
    with pytest.raises(ValueError, match="go with kind 'prometheus'"):
        Monitoring(rules=["x.yml"])
    with pytest.raises(ValueError, match="bad regular expression"):
        Monitoring(kind="prometheus", silence_matchers={"team": "~("})
    assert Monitoring(kind="external", silence_other_alerts=True, alertmanager_url="http://am:9093").silence_other_alerts
