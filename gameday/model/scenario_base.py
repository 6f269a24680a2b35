"""The base of every model type (kept apart so scenario sections can live in their own modules)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    """Base of every model type: unknown keys refused, instances frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)
