"""People's names: one rule for every place a person's name comes in.

A name arrives from the control room (inviting, assigning a role, acting as someone), a
scripted responder file (``people:``, ``as:``, ``to:``), ``gameday act --as`` and the
webhook intake's actions (the generic format's ``actor``, PagerDuty's agent, Opsgenie's
``username``). Everywhere, :func:`check_name` decides:

* whitespace is trimmed and runs of it become one space (a name is one line);
* 1 to :data:`MAX_NAME` (60) characters;
* no control or format characters (escape sequences, NUL, bidirectional overrides and
  isolates, zero-width spaces: :func:`gameday.model.textsafe.is_unsafe`), no lone surrogates;
* not one of :data:`RESERVED_NAMES`, the names the tool itself writes in the journal as a
  source (``conductor``, ``webhook``, ``automation``, the webhook formats...), compared
  without regard to case or compatibility forms (``Automation``, fullwidth letters);
* not ``.`` or ``..`` (in a URL they are path steps: that person's link could not be revoked).

Anything else (brackets, quotes, ``<b>``, emoji) is a valid name: it is data, escaped
wherever it is shown.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator

from gameday.model.textsafe import first_unsafe, visible

MAX_NAME = 60

#: The journal's machine sources (who the tool itself records events as), the facilitator,
#: the scripted responders' ``script``, and the webhook formats (an action a delivery carries
#: without a user is recorded as its format): no person may take one of these names.
RESERVED_NAMES = frozenset({
    "facilitator", "conductor", "injector", "observer", "webhook", "automation", "script", "notifier", "load",
    "monitoring", "recover", "alertmanager", "grafana", "pagerduty", "opsgenie", "generic",
    "simulator", "schedule", "contingency",  # a tabletop's: InjectPublished.by is 'schedule', 'contingency' or a name
    "simulation", "training",  # a training drill's: what its state machine and set-up journal as 'by'/source
})  # fmt: skip


class NameRefused(ValueError):
    """A name the rule refuses; the message says why (one line, no unsafe characters)."""


def _folded(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def person_key(name: str) -> str:
    """A person's name as compared everywhere (rotation, training, trends): whitespace collapsed, NFKC,
    case-folded (``' Ada  LOVELACE'`` is ``'ada lovelace'``)."""
    return _folded(" ".join(name.split()))


def is_reserved(name: str) -> bool:
    """True if ``name`` is one of :data:`RESERVED_NAMES` (case and compatibility forms aside)."""
    return person_key(name) in RESERVED_NAMES


def check_name(value: object) -> str:
    """The name as it is journaled (trimmed, one line), or :class:`NameRefused` saying why."""
    if not isinstance(value, str):
        raise NameRefused("a name is text")
    text = " ".join(value.split())
    if not text:
        raise NameRefused("a name cannot be empty")
    bad = first_unsafe(text)
    if bad is not None:
        raise NameRefused(f"a name cannot contain control or formatting characters ({visible(text[bad])} at "
                          f"position {bad + 1})")
    if len(text) > MAX_NAME:
        raise NameRefused(f"a name has at most {MAX_NAME} characters (this one has {len(text)})")
    if text in (".", ".."):  # a path's dot segments: a link for such a name could never be revoked by URL
        raise NameRefused(f"{text!r} is not a name")
    if _folded(text) in RESERVED_NAMES:
        raise NameRefused(f"{text!r} is reserved for the tool itself; choose a person's name")
    return text


def name_problem(value: object) -> str | None:
    """Why :func:`check_name` refuses ``value``, or None if it is a good name."""
    try:
        check_name(value)
    except NameRefused as exc:
        return str(exc)
    return None


#: A person's name in a pydantic model (checked and trimmed by :func:`check_name`).
PersonName = Annotated[str, AfterValidator(check_name)]
