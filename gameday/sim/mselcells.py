"""The cells of an MSEL sheet (:mod:`gameday.sim.mselcsv`): each column's readable form, written and read.

Each ``parse_*`` function reads one cell and raises ``ValueError`` (:class:`CellProblems` for several)
with a message for the person who typed it; :func:`expectations_text` and :func:`neutralise_cell`
write them. The forms are those of the column table in :mod:`gameday.sim.mselcsv`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from gameday.model.duration import format_duration, parse_duration
from gameday.model.exercise import CHANNELS, EVERYONE, AlertAttachment, Expectation, PanelAttachment

CHANNEL_LABELS: dict[str, str] = {c: c.replace("_", " ").capitalize() for c in CHANNELS}
"""How each channel is written in the Delivery Method column (``customer_report``: ``Customer report``)."""
_CHANNEL_ALIASES = {"pager": "page", "paging": "page", "e_mail": "email", "mail": "email", "dashboard_panel": "dashboard",
                    "customer": "customer_report", "vendor": "vendor_status", "status_page": "vendor_status"}
EVERYONE_WORDS = frozenset({EVERYONE, "all", "all players", "all roles"})
"""What the To column may say for everyone (any case)."""

_DANGEROUS = "=+-@\t\r"
_NEUTRALISED = re.compile(r"'+[=+\-@\t\r]")
_EXPECT_SPLIT = re.compile(r";\s*(?=(?:step|action)\s*:)", re.IGNORECASE)
_EXPECT_HEAD = re.compile(r"(step|action)\s*:\s*([^\s@]+)(?:\s*@\s*(\S+))?", re.IGNORECASE)
_CONTINGENCY = re.compile(r"after\s+(.+?)(?:\s*[:,]\s*|\s+)publish\s+(\S+)", re.IGNORECASE)
_CLOCK = re.compile(r"(\d+):([0-5]\d)(?::([0-5]\d))?")


class CellProblems(ValueError):
    """One cell's problems (each item of an Expected Player Action cell's), one message each."""

    def __init__(self, messages: list[str]):
        self.messages = messages
        super().__init__("; ".join(messages))


def expectations_text(expect: Sequence[Expectation]) -> str:
    """The Expected Player Action cell: one ``step:ID - description`` (or ``action:NAME@ROLE - ...``)
    per line; JSON when that form would not read back as the same expectations."""
    lines = []
    for exp in expect:
        head = f"step:{exp.step}" if exp.step is not None else f"action:{exp.action}" + (f"@{exp.role}" if exp.role else "")
        lines.append(head + (f" - {exp.description}" if exp.description is not None else ""))
    text = "\n".join(lines)
    try:
        if parse_expectations(text) == list(expect):
            return text
    except ValueError:
        pass
    return json.dumps([e.model_dump(mode="json", exclude_none=True) for e in expect], ensure_ascii=False)


def json_cell(model: BaseModel) -> str:
    return json.dumps(model.model_dump(mode="json", by_alias=True, exclude_defaults=True), ensure_ascii=False)


def neutralise_cell(text: str) -> str:
    """OWASP CSV injection: a cell a spreadsheet would run as a formula gets a leading ``'``
    (and one that already starts with quotes before such a character, one more)."""
    if (text and text[0] in _DANGEROUS) or _NEUTRALISED.match(text):
        return "'" + text
    return text


def unneutralise_cell(text: str) -> str:
    """The inverse of :func:`neutralise_cell`: one leading ``'`` removed before ``= + - @``, tab or CR."""
    return text[1:] if _NEUTRALISED.match(text) else text


def parse_time(text: str) -> float:
    """A Scenario Time cell: a duration (``1h05m``, ``90s``) or a clock offset ``H:MM`` / ``H:MM:SS``."""
    text = text.strip()
    if m := _CLOCK.fullmatch(text):
        return int(m.group(1)) * 3600 + int(m.group(2)) * 60 + int(m.group(3) or 0)
    try:
        return parse_duration(text)
    except ValueError:
        raise ValueError(f"expected a scenario time like '15m', '1h05m' or '1:05', got {text!r}") from None


def parse_channel(text: str) -> str:
    """A Delivery Method cell: a channel id or its human spelling (``Customer report``)."""
    key = re.sub(r"[\s\-_]+", "_", text.strip().casefold())
    key = _CHANNEL_ALIASES.get(key, key)
    if key not in CHANNELS:
        raise ValueError(f"unknown delivery method {text.strip()!r} (one of: {', '.join(CHANNEL_LABELS.values())})")
    return key


def parse_expectations(text: str) -> list[Expectation]:
    """An Expected Player Action cell (see :func:`expectations_text`); ValueError says what is wrong."""
    stripped = text.strip()
    if stripped.startswith("["):
        try:
            items = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not JSON: {exc.msg} (at character {exc.pos + 1})") from None
        if not isinstance(items, list):
            raise ValueError("expected a JSON list of expectations")
        return [_validated(Expectation, item, f"item {i + 1}") for i, item in enumerate(items)]
    out, errors = [], []
    for line in stripped.splitlines():
        for item in _EXPECT_SPLIT.split(line):
            if item.strip():
                try:
                    out.append(_one_expectation(item.strip()))
                except ValueError as exc:
                    errors.append(str(exc))
    if errors:
        raise CellProblems(errors)
    return out


def _one_expectation(item: str) -> Expectation:
    m = _EXPECT_HEAD.match(item)
    if m is None:
        raise ValueError(f"{item!r}: expected 'step:ID' or 'action:NAME' (optionally '@ROLE'), then ' - ' and a "
                         "description, e.g. 'step:declare - Declare a SEV1 incident'")
    kind, name, role = m.group(1).lower(), m.group(2).lower(), m.group(3)
    rest = item[m.end():].strip()
    rest = re.sub(r"^[:\-–—](?:\s+|$)", "", rest, count=1) if rest[:1] in ":-–—" else rest
    if kind == "step" and role is not None:
        raise ValueError(f"{item!r}: a step names its own role: '@ROLE' goes with 'action:NAME'")
    from gameday.model.scenario import ACTIONS

    if kind == "action" and name not in ACTIONS:
        raise ValueError(f"{item!r}: unknown action {name!r} (one of: {', '.join(ACTIONS)})")
    data = {kind: name, "role": role.lower() if role else None, "description": rest or None}
    return _validated(Expectation, data, repr(item))


def parse_contingency(text: str) -> dict[str, Any]:
    """A Contingency cell, ``after 10m: publish i-08``, as the model's mapping."""
    m = _CONTINGENCY.fullmatch(text.strip())
    if m is None:
        raise ValueError(f"expected 'after DURATION: publish INJECT', e.g. 'after 10m: publish i-08', got {text.strip()!r}")
    return {"after": format_duration(parse_time(m.group(1))), "publish": m.group(2).lower()}


def parse_alert(text: str) -> AlertAttachment:
    """An Alert cell: JSON of the attachment, or ``AlertName key=value ...`` (the short form)."""
    text = text.strip()
    if text.startswith("{"):
        return _validated(AlertAttachment, _json_object(text), "")
    name, *labels = text.split()
    pairs = {}
    for token in labels:
        key, eq, value = token.partition("=")
        if not eq or not key:
            raise ValueError(f"expected JSON, or an alert name then key=value labels, got {token!r}")
        pairs[key] = value
    return _validated(AlertAttachment, {"alertname": name, "labels": pairs}, "")


def parse_panel(text: str) -> PanelAttachment:
    """A Panel cell: JSON of the attachment (``{"title": ..., "fault": ...}`` or with ``series``)."""
    return _validated(PanelAttachment, _json_object(text.strip()), "")


def _json_object(text: str) -> Any:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc.msg} (at character {exc.pos + 1})") from None
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    return data


def _validated[M: BaseModel](model: type[M], data: Any, what: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValueError("; ".join(f"{what + ': ' if what else ''}{error_text(e)}" for e in exc.errors())) from None


def error_text(err: Any) -> str:
    where = ".".join(str(p) for p in err["loc"])
    message = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] == "string_pattern_mismatch":
        message = f"{err.get('input')!r} is not a valid id (lower-case letters, digits, - _ .)"
    return f"{where}: {message}" if where else message
