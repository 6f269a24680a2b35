"""Models loaded from YAML (or JSON) files, every problem located: what the scenario loader, the
project settings and the responder scripts share."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from gameday.errors import Problem, ScenarioError
from gameday.yamlio.marks import Marks, parse_yaml, read_text
from gameday.yamlio.modelerrors import validate_data


def read_data(path: Path, name: str) -> tuple[Any, Marks | None, list[Problem]]:
    """Read and parse a YAML (or JSON) file: ``(data, marks, problems)``; marks None when unreadable.

    A ``.json`` file is read by ``json`` (as Chaos Toolkit does); YAML only locates its nodes.
    """
    try:
        text = read_text(path, name)
    except ScenarioError as exc:
        return None, None, exc.problems
    if path.suffix.lower() != ".json":
        try:
            return parse_yaml(text, name)
        except ScenarioError as exc:
            return None, None, exc.problems
    from gameday.model.jsonsafe import JSONLimitError, loads_strict

    try:
        data = loads_strict(text)  # huge integers, NaN, deep nesting: located problems, never a traceback
    except JSONLimitError as exc:
        return None, None, [Problem(name, exc.lineno, exc.colno, "", f"JSON beyond the limits: {exc.msg}")]
    except json.JSONDecodeError as exc:
        return None, None, [Problem(name, exc.lineno, exc.colno, "", f"JSON syntax: {exc.msg}")]
    try:
        _, marks, problems = parse_yaml(text, name)
    except ScenarioError:  # valid JSON that YAML 1.1 cannot read (tabs...): problems fall on line 1
        marks, problems = Marks(), []
    return data, marks, problems


def without_echoes(model_problems: list[Problem], yaml_problems: list[Problem]) -> list[Problem]:
    """Drop model problems at a path the YAML reader already reported (e.g. an unsupported tag)."""
    seen = {p.path for p in yaml_problems if p.path}
    return [p for p in model_problems if p.path not in seen]


def load_model[M: BaseModel](path: Path | str, model_cls: type[M]) -> M:
    """Load any YAML file into ``model_cls``; raises ScenarioError with every located problem."""
    path = Path(path)
    name = str(path)
    data, marks, problems = read_data(path, name)
    if marks is None:
        raise ScenarioError(problems)
    model, more = validate_data(data, marks, model_cls, name)
    more = without_echoes(more, problems)
    if problems or more or model is None:
        raise ScenarioError(problems + more)
    return model
