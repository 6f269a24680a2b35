"""Journal lines, to and from JSON: the envelope of a payload (:func:`make_event`), one decoded
line validated into its typed event (:func:`parse_event`: the payload by the model of its
``kind``, then the envelope), and the JSON Schema of a line (:func:`journal_schema`).
The event kinds themselves are :mod:`gameday.model.events`.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Literal, Union

from pydantic import Field, TypeAdapter, ValidationError, create_model

from gameday.model.events import PAYLOADS, Event, Payload


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
        return Event.model_validate({**obj, "data": data})
    except ValidationError as exc:
        raise EventError(_first_error(exc, kind)) from None


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
