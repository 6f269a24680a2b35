"""The findings file on disk: where it is, reading it (every problem located), its text (one block per
finding, diff-friendly) and changing it under a lock.

:func:`read_findings` is pure reading (the trends read it for the repeat rate). :func:`update_findings`
is the one way to change the file: it takes the lock (``.gameday/findings.yaml.lock`` beside the file:
``flock``, so a crashed writer never leaves it held), reads and validates the file (a file that does
not validate raises :class:`~gameday.errors.ScenarioError`, exit 2, and is never overwritten), applies
the change and writes the file atomically (temporary file and rename) when something changed.

The text: a header comment, ``kind: Findings``, ``version: 1``, then one block per finding in the
order of the model (by scenario and gap), a blank line between blocks, every value on one line
(long texts are never folded), so a change shows in a diff as the lines it changes. Comments are
allowed: the header and the comment lines right above a finding's ``- id:`` line are kept when
gameday rewrites the file; other comments are not.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from gameday.errors import ConfigError, Problem, ScenarioError
from gameday.model.findings import FindingsFile, findings_problems

__all__ = ["FINDINGS_FILE", "HEADER", "find_findings", "findings_file_problems", "json_schema_text", "read_findings",
           "render_findings", "update_findings"]

FINDINGS_FILE = "findings.yaml"
LOCK_TIMEOUT = 30.0
SHOWN_EMPTY = ("owner", "due", "closed_by")
"""Fields written ``null`` when empty (a place to fill in); other empty ones are left out."""
HEADER = (
    "# The findings of this project's drills, each followed until a re-drill proves it fixed (README: \"Findings,\n"
    "# followed through\"). Written by gameday: every drill's findings are merged in. Set owner and due here or\n"
    "# with 'gameday findings assign ID --owner NAME --due YYYY-MM-DD'; notes are yours. Comments directly above a\n"
    "# finding stay with it.\n"
)


def find_findings(given: Path | None, start: Path) -> Path:
    """The findings file: ``given``, else ``findings.yaml`` at the project root above ``start``."""
    from gameday.project import find_root

    return given if given is not None else find_root(start.resolve()) / FINDINGS_FILE


def read_findings(path: Path | str) -> FindingsFile:
    """The findings file at ``path`` (no file: no findings yet). Pure reading, no lock taken.

    Raises :class:`~gameday.errors.ScenarioError` listing every problem, each located
    ``FILE:LINE:COL: path: message`` (exit 2), for a file that does not validate."""
    return _read(Path(path))[0]


def _read(path: Path) -> tuple[FindingsFile, dict[str, list[str]]]:
    """The file and its comments. The file is parsed by libyaml and validated at once when it is plain
    data (no anchors, tags or duplicate keys); anything else, and any file that does not validate, goes
    the way of every gameday file (:mod:`gameday.yamlio`), so each problem is located."""
    from gameday.yamlio.files import without_echoes
    from gameday.yamlio.marks import parse_yaml, read_text
    from gameday.yamlio.modelerrors import validate_data

    if not path.exists():
        return FindingsFile(), {}
    name = str(path)
    text = read_text(path, name)
    data = _plain_data(text)
    if data is not _NOT_PLAIN:
        with contextlib.suppress(ValueError):
            return FindingsFile.model_validate(data), _comments(text)
    data, marks, problems = parse_yaml(text, name)
    model, more = validate_data(data, marks, FindingsFile, name)
    more = without_echoes(more, problems)
    if problems or more or model is None:
        raise ScenarioError(problems + more)
    return model, _comments(text)  # pragma: no cover - plain data that only the located reader accepts


_NOT_PLAIN = object()
_STD = frozenset({"tag:yaml.org,2002:" + t for t in ("map", "seq", "str", "int", "float", "bool", "null", "timestamp")})


def _plain_data(text: str) -> Any:
    """The document parsed by libyaml when it is plain data: mappings with unique text keys, lists and
    standard scalars, no node twice (an alias); else :data:`_NOT_PLAIN`."""
    import yaml

    if not getattr(yaml, "__with_libyaml__", False):
        return _NOT_PLAIN
    try:
        loader = yaml.CSafeLoader(text)
        try:
            node = loader.get_single_node()
            if node is None or not _plain_tree(node):
                return _NOT_PLAIN
            return loader.construct_document(node)
        finally:
            loader.dispose()
    except (yaml.YAMLError, RecursionError, ValueError, TypeError):
        return _NOT_PLAIN


def _plain_tree(root: Any) -> bool:
    import yaml

    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen or node.tag not in _STD:
            return False
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            keys = [k.value for k, _ in node.value if isinstance(k, yaml.ScalarNode) and k.tag.endswith(":str")]
            if len(keys) != len(node.value) or len(set(keys)) != len(keys):
                return False
            stack += [v for _, v in node.value]
        elif isinstance(node, yaml.SequenceNode):
            stack += node.value
    return True


_BLOCK = re.compile(r"^  - id: (F-[0-9a-f]+)\s*$")


def _comments(text: str) -> dict[str, list[str]]:
    """The file's comment lines: ``''`` the header (before the first key), each finding's id the comment
    lines right above its block."""
    out: dict[str, list[str]] = {}
    pending: list[str] = []
    header_done = False
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            pending.append(line.strip())
            continue
        if not header_done and line.strip():
            out[""], pending, header_done = pending, [], True
        block = _BLOCK.match(line)
        if block:
            out[block.group(1)] = pending
        if line.strip():
            pending = []
    return out


def render_findings(findings: FindingsFile, comments: dict[str, list[str]] | None = None) -> str:
    """The file's text: the header, then one block per finding (in the order given: the file's), blank
    lines between; each value on one line (long texts are never folded), so a change diffs as the lines
    it changes."""
    comments = comments or {}
    header = "\n".join(comments[""]) + "\n" if comments.get("") else HEADER
    lines = [header.rstrip("\n"), "kind: Findings", "version: 1", "findings:" + ("" if findings.findings else " []")]
    for f in findings.findings:
        lines.append("")
        lines += [f"  {c}" for c in comments.get(f.id, [])]
        lines.append(f"  - id: {f.id}")
        data = f.model_dump(mode="json", exclude={"id"})
        for key, value in data.items():
            if value is None:
                if key in SHOWN_EMPTY:
                    lines.append(f"    {key}: null")
                continue
            if key in ("first_seen", "last_seen", "closed_by"):
                lines.append(f"    {key}: {_flow(value)}")
            elif key in ("seen_in", "history"):
                lines.append(f"    {key}:")
                lines += [f"      - {_flow(v) if isinstance(v, dict) else _scalar(v, flow=False)}" for v in value]
            elif key == "due":  # a YAML date
                lines.append(f"    {key}: {value}")
            else:
                lines.append(f"    {key}: {_scalar(value, flow=False)}")
    return "\n".join(lines) + "\n"


def _flow(mapping: dict[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: {_scalar(v, flow=True)}" for k, v in mapping.items()) + "}"


_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_./+@-]*$")
_PLAIN_BLOCK = re.compile(r"^[A-Za-z_][A-Za-z0-9_./+@:-]*(?<!:)$")
_WORDS = frozenset({"y", "n", "yes", "no", "true", "false", "on", "off", "null"})


def _scalar(value: Any, flow: bool) -> str:
    """One YAML scalar: plain when it reads back as the same text, else double-quoted (JSON's escapes, and
    ``\\u`` for every character YAML does not allow literally)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    plain = _PLAIN if flow else _PLAIN_BLOCK
    if plain.match(text) and text.lower() not in _WORDS:
        return text
    return "".join(ch if _yaml_printable(ch) else f"\\u{ord(ch):04x}" for ch in json.dumps(text, ensure_ascii=False))


def _yaml_printable(ch: str) -> bool:
    """YAML 1.1's printable characters, less the ones it reads as line breaks (NEL, LS, PS) and the BOM."""
    code = ord(ch)
    return (0x20 <= code <= 0x7E or 0xA0 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or code >= 0x10000) and \
        code not in (0x2028, 0x2029, 0xFEFF)


@contextlib.contextmanager
def _locked(path: Path, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Hold the findings file's lock (``.gameday/NAME.lock`` beside it) for one read-change-write."""
    lock = path.parent / ".gameday" / f"{path.name}.lock"
    try:
        lock.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise ConfigError(f"{lock}: cannot open the findings file's lock: {exc.strerror or exc}") from None
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise ConfigError(f"{path}: another gameday has held its lock ({lock}) for {timeout:g}s; "
                                      "try again") from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)  # releases the lock


def update_findings[T](path: Path, change: Callable[[FindingsFile], tuple[FindingsFile, T]]) -> T:
    """Read, change and write the findings file under its lock; the file is written (atomically) only
    when ``change`` changed something. A file that does not validate raises before anything is written."""
    from gameday.fsutil import atomic_write
    from gameday.yamlio.marks import MAX_FILE_BYTES

    with _locked(path):
        current, comments = _read(path)
        changed, result = change(current)
        if changed != current:
            problems = findings_problems(changed.findings)
            if problems:  # the change broke the file's own rules: a bug, never written
                raise ConfigError(f"{path}: not written, the change is invalid: {problems[0][1]}")
            text = render_findings(changed, comments)
            if len(text.encode()) > MAX_FILE_BYTES:
                raise ConfigError(f"{path}: would grow past {MAX_FILE_BYTES} bytes (1 MiB, the limit of any gameday "
                                  f"file): nothing written; move closed findings out of it")
            atomic_write(path, text)
        return result


def findings_file_problems(path: Path) -> list[Problem]:
    """Every problem of the findings file at ``path`` (empty: valid), for ``gameday validate``."""
    try:
        read_findings(path)
    except ScenarioError as exc:
        return exc.problems
    return []


SCHEMA_ID = "urn:gameday:schema:findings:v1"


def json_schema_text() -> str:
    """The JSON Schema (draft 2020-12) of the findings file, indented by 2 (``schema/findings.schema.json``)."""
    schema = FindingsFile.model_json_schema(by_alias=True, mode="validation")
    schema.pop("title", None)
    head = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID,
            "title": "gameday findings file (kind Findings, version 1)"}
    return json.dumps({**head, **schema}, indent=2, ensure_ascii=False)
