"""The base of every model type (kept apart so scenario sections can live in their own modules),
and the validators those sections share."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    """Base of every model type: unknown keys refused, instances frozen."""
    """Base of every model type: unknown keys refused, instances frozen, numbers finite."""
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)  # .inf and .nan are YAML floats


def check_label_regexes(labels: dict[str, str]) -> dict[str, str]:
    """``labels`` unchanged when every ``'~regex'`` value compiles; else ValueError naming the label.

    The body of the label validators of :class:`~gameday.model.scenario.AlertMatcher` and
    :class:`~gameday.model.monitoring.Monitoring` (``silence_matchers``).
    """
    for key, value in labels.items():
        if value.startswith("~"):
            try:
                re.compile(value[1:])
            except (re.error, OverflowError) as exc:
                raise ValueError(f"label {key!r}: bad regular expression: {exc}") from None
    return labels
