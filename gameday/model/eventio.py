"""Journal lines, to and from JSON: the envelope of a payload (:func:`make_event`), one decoded
line validated into its typed event (:func:`parse_event`: the payload by the model of its
``kind``, then the envelope), and the JSON Schema of a line (:func:`journal_schema`).
The event kinds themselves are :mod:`gameday.model.events`.

A line is strict JSON within the limits of :mod:`gameday.model.jsonsafe` (nesting at most
:data:`~gameday.model.jsonsafe.LINE_DEPTH`, finite numbers only, integers of at most 640 digits):
:func:`encode_event` never produces a line :func:`decode_line` would refuse, and
:func:`parse_event` refuses a float field a model coerced from text such as ``"NaN"``.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Literal, Union

from pydantic import Field, TypeAdapter, ValidationError, create_model

from gameday.model.events import PAYLOADS, Event, Payload
from gameday.model.jsonsafe import LINE_DEPTH, JSONLimitError, dumps_strict, loads_strict, non_finite


class EventError(ValueError):
    """A journal line that is not an event: the message says where (``Kind.data.field: problem``)."""


@cache
def _line_models() -> dict[str, type[Event[Payload]]]:
    """One concrete envelope model per kind, with ``kind`` fixed: the members of the discriminated union
    the JSON Schema describes (built only for the schema: reading and writing need none of them)."""
    return {
        kind: create_model(f"{kind}Event", __base__=Event[cls], kind=(Literal[kind], Field(description="event kind")))  # type: ignore[valid-type, arg-type]
        for kind, cls in PAYLOADS.items()
    }


def make_event(payload: Payload, *, seq: int, wall: str, t: float, source: str) -> Event[Payload]:
    """The envelope for ``payload`` (its kind is the payload's)."""
    return Event(seq=seq, kind=payload.KIND, wall=wall, t=t, source=source, data=payload)


def parse_event(obj: object) -> Event[Payload]:
    """Validate one decoded JSON line into its typed event: the payload by the model of its ``kind``,
    then the envelope. :class:`EventError` (a ``ValueError``) says where a line is wrong."""
    if not isinstance(obj, dict):
        raise EventError(f"event: expected a JSON object, got {type(obj).__name__}")
    kind = obj.get("kind")
    if not isinstance(kind, str):
        raise EventError("kind: a string naming the event kind is required")
    model = PAYLOADS.get(kind)
    if model is None:
        raise EventError(f"unknown event kind {kind!r}")
    try:
        data = model.model_validate(obj.get("data", {}))
    except ValidationError as exc:
        raise EventError(_first_error(exc, f"{kind}.data")) from None
    try:
        event: Event[Payload] = Event.model_validate({**obj, "data": data})
    except ValidationError as exc:
        raise EventError(_first_error(exc, kind)) from None
    where = non_finite(event, kind)  # e.g. "t": "NaN", which pydantic coerces to a float
    if where is not None:
        raise EventError(f"{where}: a finite number is required, got {_shown(obj, where, kind)}")
    return event


def decode_line(text: str) -> Event[Payload]:
    """One journal line (its newline may follow) to its typed event. A ``ValueError`` says what is wrong:
    :class:`json.JSONDecodeError` (not JSON, or beyond the limits: ``msg``, ``colno``) or :class:`EventError`."""
    return parse_event(loads_strict(text, max_depth=LINE_DEPTH))


def encode_event(event: Event[Payload]) -> bytes:
    """The journal line of ``event``: compact JSON in UTF-8 with its newline, checked to read back with
    :func:`decode_line`. :class:`EventError` (nothing encoded) for an event no reader could take back: a
    non-finite number, nesting deeper than a line may be, an integer of over 640 digits, an unpaired surrogate."""
    try:
        return (dumps_strict(event.model_dump(mode="json", by_alias=True), max_depth=LINE_DEPTH) + "\n").encode()
    except ValueError as exc:  # JSONLimitError; pydantic's serialisation errors are ValueErrors too
        why = exc.msg if isinstance(exc, JSONLimitError) else (str(exc).splitlines() or [type(exc).__name__])[0]
        raise EventError(f"{event.kind}: cannot be journaled: {why}") from None


def _shown(obj: dict[str, Any], where: str, kind: str) -> str:
    """The raw value at ``where`` (a path from :func:`non_finite`) in the decoded line, for the message."""
    parts = where.removeprefix(kind).lstrip(".").split(".")
    value: Any = obj
    for part in parts:
        value = value.get(part) if isinstance(value, dict) else None
    return repr(value) if value is not None else "a non-finite number"


def _first_error(exc: ValidationError, where: str) -> str:
    err = exc.errors()[0]
    return f"{'.'.join([where, *(str(p) for p in err['loc'])])}: {err['msg']}"


def journal_schema() -> dict[str, Any]:
    """The JSON Schema of one journal line (a discriminated union on ``kind``)."""
    members = tuple(_line_models().values())
    adapter: TypeAdapter[Event[Payload]] = TypeAdapter(Annotated[Union[members], Field(discriminator="kind")])  # type: ignore[arg-type]  # noqa: UP007
    schema = adapter.json_schema(by_alias=True)
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "gameday journal line",
              "description": "One line of a drill's journal (JSON Lines): an envelope around a typed payload.", **schema}
    return schema
