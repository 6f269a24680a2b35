"""The locustfile a scenario names, checked without importing it (locust patches the process).

Moved out of :mod:`gameday.loader`, which resolves ``load.locustfile`` (``demo`` or a path)
and calls :func:`check_locustfile` on the file found. The file must be a Python file
(``*.py``) that compiles, and each of ``business.customer_facing`` must be a request name
it uses: :func:`gameday.adapters.locust.request_names` scans the AST for
``self.client.<method>(..., name=...)`` calls; when some name is computed, the names are
not checked.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from gameday.adapters.locust import request_names
from gameday.errors import Problem, ScenarioError
from gameday.yamlio.marks import read_text

__all__ = ["check_locustfile"]

Loc = tuple[Any, ...]
LOC: Loc = ("load", "locustfile")


def check_locustfile(path: Path, name: str, ref: str, business: Any,
                     at: Callable[[Loc, str], Problem]) -> tuple[bool, list[Problem]]:
    """Check the locustfile ``path`` (shown as ``name``) that ``load.locustfile: ref`` names.

    ``business`` is the scenario's raw ``business:`` section (valid or not); ``at(loc,
    message)`` locates a problem in the scenario. Returns ``(compiles, problems)``; a
    problem found inside the locustfile comes before the scenario's problem pointing at it.
    """
    if path.suffix != ".py":
        return False, [at(LOC, f"locustfile {ref!r} is not a Python file (*.py)")]
    try:
        source = read_text(path, name)
        compile(source, name, "exec", dont_inherit=True)
        found = request_names(source, name)
    except ScenarioError as exc:
        return False, [*exc.problems, at(LOC, f"locustfile {ref!r} cannot be read")]
    except SyntaxError as exc:
        inside = Problem(name, exc.lineno or 1, exc.offset or 1, "", f"Python syntax: {exc.msg}")
        return False, [inside, at(LOC, f"locustfile {ref!r} does not compile: 1 problem reported in {name}")]
    except (ValueError, RecursionError) as exc:
        return False, [at(LOC, f"locustfile {ref!r} does not compile: {exc}")]
    facing = business.get("customer_facing") if isinstance(business, dict) else None
    if not found.complete or not isinstance(facing, list):
        return True, []
    known = ", ".join(sorted(found.names)) or "none found"
    return True, [at(("business", "customer_facing", i),
                     f"no request named {request!r} in locustfile {ref!r} (its request names: {known})")
                  for i, request in enumerate(facing) if isinstance(request, str) and request not in found.names]
