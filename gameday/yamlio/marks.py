"""YAML with marks: parse safely, remember where every node starts, locate pydantic errors.

Any YAML input of gameday (scenarios, ``gameday.yaml``, responder scripts, Chaos Toolkit
experiments) goes through here, so that every problem reads
``FILE:LINE:COL: path.to.field: message`` (line and column 1-based).

* :func:`read_text` reads a file defensively: missing, not a regular file, larger than
  :data:`MAX_FILE_BYTES`, binary or not UTF-8 are each one :class:`~gameday.errors.Problem`.
* :func:`parse_yaml` / :func:`load_yaml_text` compose the document with
  ``yaml.SafeLoader`` and build plain Python data from the nodes themselves, so each
  mapping key, value and sequence item keeps its mark. Duplicate keys are refused (with
  both lines), and so is alias expansion beyond :data:`MAX_ALIAS_NODES` nodes (a
  "billion laughs" file fails fast) or nesting beyond :data:`MAX_DEPTH`. A key YAML 1.1
  reads as a boolean (a bare ``on``, ``off``, ``yes``, ``no``, ``true``, ``false``, written
  lower-case, Capitalised or UPPER-CASE; PyYAML leaves ``y`` and ``n`` text) is kept, and
  remembered with its spelling (:attr:`Marks.bool_keys`): validating a model reports it
  (:mod:`gameday.yamlio.modelerrors`); a GitHub workflow's ``on:`` stays readable.

Mapping pydantic's errors back onto these marks is :mod:`gameday.yamlio.modelerrors`.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gameday.errors import Problem, ScenarioError
from gameday.model.textsafe import neutralise

MAX_FILE_BYTES = 1 << 20
"""Largest input file read (1 MiB); larger files are refused without being read."""
MAX_ALIAS_NODES = 10_000
"""Most nodes that alias expansion may produce in one document."""
MAX_DEPTH = 100
"""Deepest nesting of mappings and sequences accepted."""

Loc = tuple[Any, ...]
Pos = tuple[int, int]

_STD_TAGS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:omap")
_MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass(frozen=True)
class Marks:
    """Start (line, column), 1-based, of each value and each mapping key, by path."""

    values: Mapping[Loc, Pos] = field(default_factory=dict)
    keys: Mapping[Loc, Pos] = field(default_factory=dict)
    bool_keys: Mapping[Loc, str] = field(default_factory=dict)
    """The mapping keys YAML 1.1 read as a boolean (a bare ``on``, ``no``, ``Yes``...), by path (the
    mapping's path and the key, True or False), each with its spelling in the file."""

    def value(self, path: Sequence[Any]) -> Pos:
        """Mark of the value at ``path``, else of its nearest located parent, else (1, 1)."""
        loc = tuple(path)
        while loc:
            try:
                if loc in self.values:
                    return self.values[loc]
            except TypeError:  # an unhashable part can be in no path
                pass
            loc = loc[:-1]
        return self.values.get((), (1, 1))

    def key(self, path: Sequence[Any]) -> Pos:
        """Mark of the key that ends ``path`` (falls back to :meth:`value`)."""
        loc = tuple(path)
        try:
            if loc in self.keys:
                return self.keys[loc]
        except TypeError:
            pass
        return self.value(loc)

    def problem(self, file: str, path: Sequence[Any], message: str) -> Problem:
        """A problem of ``file`` located at the value at ``path`` (see :meth:`value`)."""
        line, col = self.value(path)
        return Problem(file, line, col, format_loc(path), message)


class _Refused(Exception):
    """Stop parsing: one fatal problem at a node."""

    def __init__(self, pos: Pos, message: str):
        self.pos, self.message = pos, message


def _pos(node: yaml.Node | yaml.Mark) -> Pos:
    mark = node.start_mark if isinstance(node, yaml.Node) else node
    return (mark.line + 1, mark.column + 1)


def format_loc(loc: Sequence[Any]) -> str:
    """``('faults', 0, 'at')`` -> ``'faults[0].at'``."""
    out = ""
    for part in loc:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + neutralise(part, keep="")  # a key is the file's text: shown inert
    return out


def show(value: Any) -> str:
    """Short text of an input value for messages."""
    if value is None:
        return "null"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    try:
        text = repr(value)
    except ValueError:  # an integer past Python's int-to-text limit (YAML reads 0xfff... of any length)
        return f"an integer of {value.bit_length()} bits" if isinstance(value, int) else f"a {type(value).__name__}"
    return text if len(text) <= 60 else text[:57] + "..."


def read_text(path: Path, display: str | None = None) -> str:
    """Read a UTF-8 text file of at most :data:`MAX_FILE_BYTES`; each refusal is a ScenarioError."""
    name = display if display is not None else str(path)

    def refuse(message: str) -> ScenarioError:
        return ScenarioError([Problem(name, 1, 1, "", message)])

    try:
        if not path.exists():
            raise refuse("file not found")
        if path.is_dir():
            raise refuse("is a folder, not a file")
        if not path.is_file():
            raise refuse("not a regular file")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise refuse(f"file too large ({size} bytes; the limit is {MAX_FILE_BYTES} bytes, 1 MiB)")
        with path.open("rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise refuse(f"cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise refuse(f"file too large (over {MAX_FILE_BYTES} bytes, 1 MiB)")
    if b"\0" in raw:
        raise refuse("binary file (contains NUL bytes), not YAML text")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        bad = raw[exc.start : exc.start + 1].hex()
        raise ScenarioError([Problem(name, line, col, "", f"not UTF-8 text (byte 0x{bad} at offset {exc.start})")]) from None
    return text.removeprefix("\ufeff")


class _Builder:
    """Turns a composed node graph into plain data, recording marks and soft problems."""

    def __init__(self, loader: yaml.SafeLoader, filename: str):
        self.loader, self.filename = loader, filename
        self.values: dict[Loc, Pos] = {}
        self.keys: dict[Loc, Pos] = {}
        self.bool_keys: dict[Loc, str] = {}
        self.problems: list[Problem] = []
        self.seen: set[int] = set()
        self.expanded = 0

    def problem(self, pos: Pos, path: Loc, message: str) -> None:
        self.problems.append(Problem(self.filename, pos[0], pos[1], format_loc(path), message))

    def build(self, node: yaml.Node, path: Loc, depth: int = 0, aliased: bool = False) -> Any:
        if depth > MAX_DEPTH:
            raise _Refused(_pos(node), f"nested deeper than {MAX_DEPTH} levels")
        if id(node) in self.seen:
            aliased = True
        self.seen.add(id(node))
        if aliased:
            self.expanded += 1
            if self.expanded > MAX_ALIAS_NODES:
                raise _Refused(_pos(node), f"aliases expand to more than {MAX_ALIAS_NODES} nodes (an alias bomb?)")
        self.values[path] = _pos(node)
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node, path)
        if node.tag not in _STD_TAGS:
            self.problem(_pos(node), path, f"unsupported tag {node.tag!r}")
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i), depth + 1, aliased) for i, item in enumerate(node.value)]
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, path, depth, aliased)
        raise _Refused(_pos(node), f"unexpected YAML node {type(node).__name__}")  # PyYAML composes only the three kinds

    def scalar(self, node: yaml.ScalarNode, path: Loc) -> Any:
        try:
            return self.loader.construct_object(node, deep=True)
        except Exception as exc:  # noqa: BLE001 - unknown tags, impossible dates...: one problem each
            self.problem(_pos(node), path, _yaml_message(exc, "cannot read this value"))
            return None

    def mapping(self, node: yaml.MappingNode, path: Loc, depth: int, aliased: bool) -> dict[Any, Any]:
        if depth > MAX_DEPTH:
            raise _Refused(_pos(node), f"nested deeper than {MAX_DEPTH} levels")
        out: dict[Any, Any] = {}
        first: dict[Any, Pos] = {}
        merges: list[dict[Any, Any]] = []
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag == _MERGE_TAG:
                merges.extend(self.merge_sources(value_node, path, depth, aliased))
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.problem(_pos(key_node), path, "a mapping key must be a plain value, not a mapping or list")
                continue
            key = self.scalar(key_node, path)
            if not isinstance(key, Hashable):
                self.problem(_pos(key_node), path, f"a mapping key must be a plain value, got {show(key)}")
                continue
            if key in first:
                line = first[key][0]
                again = _pos(key_node)[0]
                shown = f"{key_node.value!r}, read by YAML as {str(key).lower()}," if isinstance(key, bool) else repr(key)
                self.problem(_pos(key_node), (*path, key), f"duplicate key {shown} (first at line {line}, again at line {again})")
                continue
            first[key] = _pos(key_node)
            self.keys[(*path, key)] = _pos(key_node)
            if isinstance(key, bool):  # `on:` is true to YAML 1.1: kept with its spelling, for the message
                self.bool_keys[(*path, key)] = key_node.value
            out[key] = self.build(value_node, (*path, key), depth + 1, aliased)
        for source in merges:
            for key, value in source.items():
                out.setdefault(key, value)
        self.values[path] = _pos(node)
        return out

    def merge_sources(self, node: yaml.Node, path: Loc, depth: int, aliased: bool) -> list[dict[Any, Any]]:
        nodes = node.value if isinstance(node, yaml.SequenceNode) else [node]
        sources = []
        for item in nodes:
            if not isinstance(item, yaml.MappingNode):
                self.problem(_pos(item), path, "a merge key '<<' takes a mapping or a list of mappings")
                continue
            sources.append(self.mapping(item, path, depth + 1, aliased or id(item) in self.seen))
            self.seen.add(id(item))
        return sources


def _yaml_message(exc: BaseException, default: str) -> str:
    problem = getattr(exc, "problem", None)
    context = getattr(exc, "context", None)
    if problem:
        return f"{context}: {problem}" if context else str(problem)
    return f"{default}: {exc}" if str(exc) else default


def parse_yaml(text: str, filename: str) -> tuple[Any, Marks, list[Problem]]:
    """Parse one YAML document into plain data and its marks.

    Returns ``(data, marks, problems)``: the problems are soft (duplicate keys, unknown
    tags: the document is still read, the first of duplicate keys wins). Fatal ones
    (syntax, several documents, alias bombs, too deep) raise :class:`ScenarioError`.
    """
    try:
        loader = yaml.SafeLoader(text)
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        col = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise ScenarioError([Problem(filename, line, col, "", f"character U+{code:04X} is not allowed in YAML")]) from None
    try:
        try:
            node = loader.get_single_node()
            if node is None:
                return None, Marks(), []
            builder = _Builder(loader, filename)
            data = builder.build(node, ())
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            pos = _pos(mark) if mark is not None else (1, 1)
            message = "YAML syntax: " + _yaml_message(exc, "invalid YAML")
            raise ScenarioError([Problem(filename, pos[0], pos[1], "", message)]) from None
        except yaml.YAMLError as exc:
            raise ScenarioError([Problem(filename, 1, 1, "", "YAML: " + _yaml_message(exc, "invalid YAML"))]) from None
        except _Refused as exc:
            raise ScenarioError([Problem(filename, exc.pos[0], exc.pos[1], "", exc.message)]) from None
        except RecursionError:
            raise ScenarioError([Problem(filename, 1, 1, "", f"nested deeper than {MAX_DEPTH} levels")]) from None
    finally:
        loader.dispose()
    return data, Marks(builder.values, builder.keys, builder.bool_keys), builder.problems


def load_yaml_text(text: str, filename: str) -> tuple[Any, Marks]:
    """Parse one YAML document into ``(data, marks)``; any problem raises :class:`ScenarioError`."""
    data, marks, problems = parse_yaml(text, filename)
    if problems:
        raise ScenarioError(problems)
    return data, marks


def load_yaml_file(path: Path, display: str | None = None) -> tuple[Any, Marks]:
    """Read (see :func:`read_text`) and parse a YAML file into ``(data, marks)``."""
    name = display if display is not None else str(path)
    return load_yaml_text(read_text(path, name), name)
