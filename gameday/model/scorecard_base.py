"""The base of every part of the scorecard: frozen, and nothing unknown (:mod:`gameday.model.scorecard`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
