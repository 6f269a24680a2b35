"""The base models of journal events (kept apart so the kinds can live in more than one module):
:class:`Payload`, the base of every event kind, and :class:`Part`, of the models inside one."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict


class Payload(BaseModel):
    """What one event says; subclasses are the event kinds (their class name is the ``kind``). Kinds
    never subclass one another: consumers dispatch with ``isinstance``."""

    # built on first use: a drill uses about half the kinds, and each costs ~1 ms to build
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)
    KIND: ClassVar[str] = ""
    #: quiet kinds are not printed by the live view (many a second)
    QUIET: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.KIND = cls.__name__


class Part(BaseModel):
    """A model inside an event's payload."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)
