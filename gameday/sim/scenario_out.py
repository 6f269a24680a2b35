"""Writing a scenario built in code (``gameday msel import``, ``gameday msel from-journal``) as a YAML
file that validates where it lands.

* :func:`scenario_data` dumps the model as a scenario file would say it: by alias, defaults left
  out (``roles:`` kept when the original named them, so the drill records it the same way).
* :func:`rebase_references` rewrites the files the scenario names (experiments, the responder
  file, a locustfile) so they resolve from the new file's folder as they did from the original's:
  a reference that already resolves to the same file is kept as written, else it becomes a path
  relative to the new folder.
* :func:`write_scenario` validates the text as ``gameday validate`` would, as a file in the output's
  folder (so references resolve from there), and only then writes it atomically: never half a file,
  never a file that does not load, never over one of the command's inputs.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml

from gameday.errors import ConfigError, Problem, ScenarioError
from gameday.model.scenario import Scenario


def scenario_data(scenario: Scenario, *, roles_declared: bool = True) -> dict[str, Any]:
    """The scenario as the plain data of its file: by alias, durations as text, defaults left out."""
    full = scenario.model_dump(mode="json", by_alias=True)
    slim = scenario.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    return {k: slim.get(k, v) for k, v in full.items() if k in slim or (k == "roles" and roles_declared)}


def _references(data: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str, str]]:
    """Each file reference in ``data``: (the mapping holding it, its key, what it is)."""
    for fault in data.get("faults") or []:
        if isinstance(fault.get("experiment"), str):
            yield fault, "experiment", f"experiment of fault {fault.get('id')!r}"
        rollback = fault.get("rollback")
        if isinstance(rollback, dict) and isinstance(rollback.get("experiment"), str):
            yield rollback, "experiment", f"rollback experiment of fault {fault.get('id')!r}"
    for name, book in (data.get("runbooks") or {}).items():
        if isinstance(book, dict) and isinstance(book.get("experiment"), str):
            yield book, "experiment", f"experiment of runbook {name!r}"
    if isinstance(data.get("responders"), str):
        yield data, "responders", "responder file"
    load = data.get("load")
    if isinstance(load, dict) and isinstance(load.get("locustfile"), str) and load["locustfile"] != "demo":
        yield load, "locustfile", "locustfile"


def _find(ref: str, folders: Sequence[Path]) -> Path | None:
    candidate = Path(ref)
    if candidate.is_absolute():
        return candidate.resolve() if candidate.is_file() else None
    for folder in folders:
        full = folder / candidate
        if full.is_file():
            return full.resolve()
    return None


def rebase_references(data: dict[str, Any], sources: Sequence[Path], dest_dir: Path) -> list[tuple[str, str]]:
    """Rewrite ``data``'s file references (in place) to resolve from ``dest_dir`` as they did from the
    first of ``sources`` (folders, in the order the original resolved them) that holds them.

    Returns what was not found, as (key, one line): ``data`` keeps those references as written,
    except an unfound responder file (key ``responders``), which is optional and dropped.
    """
    from gameday.project import find_root

    dest = dest_dir.resolve()
    dest_folders = [dest, find_root(dest)]
    missing = []
    for holder, key, what in list(_references(data)):
        ref = holder[key]
        found = _find(ref, sources)
        if found is None:
            missing.append((key, f"{what} {ref!r} not found (looked in {', '.join(str(s) for s in sources)})"))
            if key == "responders":
                del holder[key]
            continue
        if _find(ref, dest_folders) != found:  # relative within the new file's project, else absolute
            holder[key] = os.path.relpath(found, dest) if found.is_relative_to(dest_folders[1]) else str(found)
    return missing


class _Dumper(yaml.SafeDumper):
    """Block style, multi-line text as literal blocks."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def scenario_yaml(data: dict[str, Any], header: Sequence[str] = ()) -> str:
    """YAML text of scenario data, after ``header`` lines as comments (each flattened and neutralised)."""
    from gameday.model.textsafe import one_line

    head = "".join(f"# {one_line(line)}\n" for line in header)
    return head + yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100)


def write_scenario(text: str, output: Path, *, inputs: Sequence[Path] = ()) -> None:
    """Validate ``text`` as a scenario file at ``output`` (references resolved from its folder), then
    write it there atomically. :class:`ScenarioError` (nothing written) if it does not load,
    :class:`ConfigError` if ``output`` is one of ``inputs`` or cannot be written."""
    from gameday.fsutil import atomic_write
    from gameday.loader import load_scenario

    target = output.resolve()
    for given in inputs:
        if given.resolve() == target:
            raise ConfigError(f"{output}: is this command's input: write the scenario to another file")
    created = [p for p in (target.parent, *target.parent.parents) if not p.exists()]  # removed again on failure
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=".check.yaml", dir=target.parent)
    except OSError as exc:
        raise ConfigError(f"{output}: cannot write: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        try:
            load_scenario(tmp)
        except ScenarioError as exc:
            shown = str(output)
            raise ScenarioError([Problem(shown if p.file == tmp else p.file, p.line, p.column, p.path, p.message)
                                 for p in exc.problems]) from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        with contextlib.suppress(OSError):
            for folder in created:  # innermost first; only the (empty) folders this call made
                folder.rmdir()
        raise
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp)
    atomic_write(target, text)
