"""Drafts of stakeholder updates, written from jinja2 templates prefilled with the drill's facts.

Three audiences, one template each (plain text): ``comms/internal.txt.j2`` (the incident
channel: everything), ``comms/external.txt.j2`` (customers: no jargon, no internal names)
and ``comms/executive.txt.j2`` (business terms: revenue per minute when load measures it,
ETA). A project overrides any of them by putting a file of the same name under
``<templates>/comms/`` (``templates:`` in ``gameday.yaml``); an override may
``{% extends "gameday/comms/internal.txt.j2" %}`` and replace single blocks.

Drafts are plain text, meant to be edited and then posted; responder-supplied values are
flattened to one line, and whatever shows or sends a draft escapes it for its own format.
jinja2 is imported only when a draft is rendered.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from gameday.comms.facts import CommsFacts, comms_facts
from gameday.errors import ConfigError
from gameday.model.events import Event, Payload
from gameday.model.load import Business
from gameday.model.policy import SeverityPolicy
from gameday.model.scenario import Scenario
from gameday.model.terms import AUDIENCES

BUILTIN_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
TEMPLATE_NAMES = {a: f"comms/{a}.txt.j2" for a in AUDIENCES}
#: Times are written to the second when the update cadence is shorter than this (scaled drills).
PRECISE_BELOW = 600.0

_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}
_STATUS_TEXT = {
    "investigating": "investigating",
    "mitigating": "fix in progress",
    "monitoring": "service restored, monitoring",
    "resolved": "resolved",
}


def draft_update(
    audience: str,
    events: Iterable[Event[Payload]],
    scenario: Scenario | None = None,
    policy: SeverityPolicy | None = None,
    now_t: float | None = None,
    templates_dir: Path | str | None = None,
    *,
    business: Business | None = None,
) -> str:
    """The draft of an update for ``audience`` (internal | external | executive) at drill time ``now_t``.

    ``events`` are the journal so far; ``scenario``, ``policy`` and ``business`` as in
    :func:`~gameday.comms.facts.comms_facts`; ``templates_dir`` is the project's templates
    folder (its ``comms/<audience>.txt.j2`` wins over the built-in one). Raises
    :class:`~gameday.errors.ConfigError` for an unknown audience or a broken override.
    """
    if audience not in AUDIENCES:
        raise ConfigError(f"unknown audience {audience!r} (expected one of {', '.join(AUDIENCES)})")
    facts = comms_facts(events, scenario, policy, now_t, business=business)
    return render_update(audience, facts, templates_dir)


def render_update(audience: str, facts: CommsFacts, templates_dir: Path | str | None = None) -> str:
    """Render one audience's template with ``facts`` (see :func:`draft_update`)."""
    if audience not in AUDIENCES:
        raise ConfigError(f"unknown audience {audience!r} (expected one of {', '.join(AUDIENCES)})")
    import jinja2

    env = _environment(templates_dir)
    name = TEMPLATE_NAMES[audience]
    try:
        template = env.get_template(name)
        text = template.render(**update_context(audience, facts))
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigError(f"{exc.filename or exc.name or name}:{exc.lineno}: template syntax error: {exc.message}") from None
    except jinja2.TemplateError as exc:
        raise ConfigError(f"template {name}: {type(exc).__name__}: {exc}") from None
    return _tidy(text)


def update_context(audience: str, facts: CommsFacts) -> dict[str, Any]:
    """What a template sees: every fact by name, ``facts`` itself, and a few derived phrases."""
    ctx = facts.as_dict()
    ongoing_since = facts.impact_since_t if facts.impact_since_t is not None else facts.started_t
    ctx.update(
        facts=facts,
        audience=audience,
        status_text=_STATUS_TEXT.get(facts.status, facts.status),
        incident_word=_incident_word(facts),
        ongoing_for=(facts.now_t - ongoing_since) if ongoing_since is not None else None,
        role_list=", ".join(f"{role}: {person}" for role, person in sorted(facts.roles.items())),
        # a drill on a scaled policy (updates due every few minutes or less) needs times to the second
        precise_times=facts.update_every is not None and facts.update_every < PRECISE_BELOW,
    )
    return ctx


def _environment(templates_dir: Path | str | None):
    import jinja2

    builtin = jinja2.FileSystemLoader(str(BUILTIN_TEMPLATES))
    loaders: list[jinja2.BaseLoader] = []
    if templates_dir is not None:
        if not Path(templates_dir).is_dir():
            raise ConfigError(f"templates folder {templates_dir} does not exist")
        loaders.append(jinja2.FileSystemLoader(str(templates_dir)))
    loaders += [builtin, jinja2.PrefixLoader({"gameday": builtin})]
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=False,  # plain text: each sink (HTML page, Slack, Teams) escapes for itself
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    @jinja2.pass_context
    def clock_filter(context, at: str | None, unknown: str = "unknown") -> str:
        return clock(at, unknown, seconds=bool(context.get("precise_times")))

    env.filters.update(clock=clock_filter, duration=spoken_duration, money=money, percent=percent, sentence=sentence,
                       upper_first=upper_first)
    return env


def _incident_word(f: CommsFacts) -> str:
    if f.failure_rate is not None:
        return "outage" if f.failure_rate >= 0.9 else "degradation"
    return "outage" if f.severity == "SEV1" else "disruption"


def _tidy(text: str) -> str:
    """Trailing spaces off, at most one blank line in a row, one final newline."""
    lines = [line.rstrip() for line in text.splitlines()]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------ filters
def clock(at: str | None, unknown: str = "unknown", *, seconds: bool = False) -> str:
    """``'2026-01-01T09:02:03.000000Z'`` -> ``'09:02 UTC'`` (``'09:02:03 UTC'`` with ``seconds``)."""
    if not at:
        return unknown
    _, _, rest = str(at).partition("T")
    width = 8 if seconds else 5
    return f"{rest[:width]} UTC" if len(rest) >= width else str(at)


def spoken_duration(seconds: float | None, unknown: str = "unknown") -> str:
    """``45`` -> ``'45 seconds'``, ``754`` -> ``'13 minutes'``, ``3900`` -> ``'1 hour 5 minutes'``."""
    if seconds is None:
        return unknown
    s = max(0, int(round(float(seconds))))  # noqa: RUF046
    if s < 60:
        return f"{s} second{'s' if s != 1 else ''}"
    minutes = int(round(s / 60))  # noqa: RUF046
    if minutes < 60:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours, minutes = divmod(minutes, 60)
    text = f"{hours} hour{'s' if hours != 1 else ''}"
    return text + (f" {minutes} minute{'s' if minutes != 1 else ''}" if minutes else "")


def money(amount: float | None, currency: str = "USD", unknown: str = "unknown") -> str:
    """``12345.6, 'USD'`` -> ``'$12,346'``; amounts under 100 keep cents."""
    if amount is None:
        return unknown
    figure = f"{amount:,.0f}" if abs(amount) >= 100 else f"{amount:,.2f}"
    symbol = _SYMBOLS.get(currency.upper())
    return f"{symbol}{figure}" if symbol else f"{figure} {currency}"


def percent(rate: float | None, unknown: str = "unknown") -> str:
    """``0.234`` -> ``'23%'``; ``0.042`` -> ``'4.2%'``."""
    if rate is None:
        return unknown
    value = rate * 100
    return f"{value:.0f}%" if value >= 10 or value == 0 else f"{value:.1f}%"


def upper_first(text: Any) -> str:
    """First letter upper case, the rest untouched (``'checkout API'`` -> ``'Checkout API'``)."""
    t = str(text or "")
    return t[:1].upper() + t[1:]


def sentence(text: Any) -> str:
    """Capitalised, ending with a full stop (for symptom phrases written either way)."""
    t = str(text or "").strip()
    if not t:
        return ""
    t = t[0].upper() + t[1:]
    return t if t[-1] in ".!?" else t + "."


__all__ = ["TEMPLATE_NAMES", "clock", "draft_update", "money", "percent", "render_update", "sentence",
           "spoken_duration", "update_context", "upper_first"]
