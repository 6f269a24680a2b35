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
  "billion laughs" file fails fast) or nesting beyond :data:`MAX_DEPTH`.
* :func:`validation_problems` maps a pydantic ``ValidationError`` back onto those marks
  with friendly messages, expanding errors that carry ``.problems`` (``(loc, message)``
  pairs, like the model's ``CrossCheckError``) into one problem each.
"""

from __future__ import annotations

import types
import typing
from collections import defaultdict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from gameday.errors import Problem, ScenarioError

MAX_FILE_BYTES = 1 << 20
"""Largest input file read (1 MiB); larger files are refused without being read."""
MAX_ALIAS_NODES = 10_000
"""Most nodes that alias expansion may produce in one document."""
MAX_DEPTH = 100
"""Deepest nesting of mappings and sequences accepted."""

Loc = tuple[Any, ...]
Pos = tuple[int, int]
M = TypeVar("M", bound=BaseModel)

_STD_TAGS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:omap")
_MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass(frozen=True)
class Marks:
    """Start (line, column), 1-based, of each value and each mapping key, by path."""

    values: Mapping[Loc, Pos] = field(default_factory=dict)
    keys: Mapping[Loc, Pos] = field(default_factory=dict)

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
            out += ("." if out else "") + str(part)
    return out


def show(value: Any) -> str:
    """Short text of an input value for messages."""
    if value is None:
        return "null"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
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
        return self.mapping(node, path, depth, aliased)

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
                self.problem(_pos(key_node), (*path, key), f"duplicate key {key!r} (first at line {line}, again at line {_pos(key_node)[0]})")
                continue
            first[key] = _pos(key_node)
            self.keys[(*path, key)] = _pos(key_node)
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
            raise ScenarioError([Problem(filename, pos[0], pos[1], "", "YAML syntax: " + _yaml_message(exc, "invalid YAML"))]) from None
        except yaml.YAMLError as exc:
            raise ScenarioError([Problem(filename, 1, 1, "", "YAML: " + _yaml_message(exc, "invalid YAML"))]) from None
        except _Refused as exc:
            raise ScenarioError([Problem(filename, exc.pos[0], exc.pos[1], "", exc.message)]) from None
        except RecursionError:
            raise ScenarioError([Problem(filename, 1, 1, "", f"nested deeper than {MAX_DEPTH} levels")]) from None
    finally:
        loader.dispose()
    return data, Marks(builder.values, builder.keys), builder.problems


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


def validate_data(data: Any, marks: Marks, model_cls: type[M], filename: str) -> tuple[M | None, list[Problem]]:
    """Validate parsed data against ``model_cls``: ``(instance, [])`` or ``(None, problems)``."""
    if not isinstance(data, Mapping):
        what = "the file is empty" if data is None else f"the top level is {show(data)}"
        pos = marks.value(())
        return None, [Problem(filename, pos[0], pos[1], "", f"{what}: expected a mapping of keys ({', '.join(_allowed(model_cls))})")]
    try:
        return model_cls.model_validate(data), []
    except ValidationError as exc:
        return None, validation_problems(exc, model_cls, marks, filename)
    except Exception as exc:  # noqa: BLE001 - a validator crashed on odd input (not a ValueError): still a problem
        pos = marks.value(())
        return None, [Problem(filename, pos[0], pos[1], "", f"cannot validate: {type(exc).__name__}: {exc}")]


# --- pydantic errors -> located, friendly problems -------------------------------------------

_MISMATCH = frozenset({"model_type", "model_attributes_type", "dict_type", "list_type", "string_type", "literal_error",
                       "int_type", "float_type", "bool_type", "is_instance_of", "union_tag_invalid"})


_EXPECTED = types.MappingProxyType({
    "string_type": "text", "int_type": "a whole number", "int_parsing": "a whole number",
    "int_from_float": "a whole number", "float_type": "a number", "float_parsing": "a number",
    "bool_type": "true or false", "bool_parsing": "true or false", "list_type": "a list",
    "dict_type": "a mapping", "model_type": "a mapping", "model_attributes_type": "a mapping",
})


@dataclass(frozen=True)
class _Step:
    tp: Any
    description: str | None = None


def _unwrap(tp: Any) -> Any:
    while True:
        if typing.get_origin(tp) is typing.Annotated:
            tp = typing.get_args(tp)[0]
            continue
        if typing.get_origin(tp) in (typing.Union, types.UnionType):
            members = [m for m in typing.get_args(tp) if m is not type(None)]
            if len(members) == 1:
                tp = members[0]
                continue
        return tp


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _allowed(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


def _split_loc(root: type[BaseModel], loc: Sequence[Any]) -> tuple[Loc, tuple[int, str] | None, _Step]:
    """Drop pydantic's union tags from ``loc``: (clean loc, first union (index, tag), type at the end)."""
    clean: list[Any] = []
    union: tuple[int, str] | None = None
    step = _Step(root)
    for part in loc:
        tp = _unwrap(step.tp)
        if typing.get_origin(tp) in (typing.Union, types.UnionType):
            if union is None:
                union = (len(clean), str(part))
            members = [m for m in typing.get_args(tp) if m is not type(None)]
            match = [m for m in members if getattr(m, "__name__", None) == part]
            if not match and str(part).startswith("literal["):
                match = [m for m in members if typing.get_origin(m) is typing.Literal]
            step = _Step(match[0] if match else Any)
            continue
        clean.append(part)
        origin = typing.get_origin(tp)
        if _is_model(tp):
            fields = {(f.alias or n): f for n, f in tp.model_fields.items()} | dict(tp.model_fields)
            f = fields.get(part)
            step = _Step(f.annotation, f.description) if f is not None else _Step(Any)
        elif origin in (list, tuple, set, frozenset) and typing.get_args(tp):
            step = _Step(typing.get_args(tp)[0])
        elif origin is dict and typing.get_args(tp):
            step = _Step(typing.get_args(tp)[0 if part == "[key]" else 1])
        else:
            step = _Step(Any)
    return tuple(clean), union, step


def _type_at(root: type[BaseModel], loc: Loc) -> Any:
    return _unwrap(_split_loc(root, loc)[2].tp)


def _message(err: Mapping[str, Any], root: type[BaseModel], loc: Loc, step: _Step) -> str:
    kind, ctx, value = err["type"], err.get("ctx") or {}, err.get("input")
    if kind == "missing":
        return f"required key {loc[-1]!r} is missing" if loc else "required value is missing"
    if kind == "extra_forbidden":
        parent = _type_at(root, loc[:-1])
        allowed = f" (allowed: {', '.join(_allowed(parent))})" if _is_model(parent) else ""
        return f"unknown key {loc[-1]!r}{allowed}"
    if kind == "literal_error":
        return f"expected {ctx.get('expected')}, got {show(value)}"
    if kind in ("value_error", "assertion_error"):
        text = err["msg"]
        for prefix in ("Value error, ", "Assertion failed, "):
            text = text.removeprefix(prefix)
        return text
    expected = _EXPECTED.get(kind)
    if expected:
        return f"expected {expected}, got {show(value)}"
    if kind == "string_pattern_mismatch":
        hint = f" ({step.description})" if step.description else ""
        return f"{show(value)} does not match the pattern {ctx.get('pattern')}{hint}"
    if kind == "string_too_short":
        n = ctx.get("min_length")
        return "must not be empty" if n == 1 else f"needs at least {n} characters"
    if kind == "too_short":
        n = ctx.get("min_length")
        return f"needs at least {n} item{'s' if n != 1 else ''}"
    if kind == "too_long":
        return f"has too many items (at most {ctx.get('max_length')})"
    ops = {"greater_than": ("more than", "gt"), "greater_than_equal": ("at least", "ge"),
           "less_than": ("less than", "lt"), "less_than_equal": ("at most", "le")}
    if kind in ops:
        word, key = ops[kind]
        limit = ctx.get(key)
        return f"must be {word} {limit:g}, got {show(value)}" if isinstance(limit, float) else f"must be {word} {limit}, got {show(value)}"
    return str(err["msg"])


def _resolve_unions(records: list[tuple[dict[str, Any], Loc, tuple[int, str] | None, _Step]]) -> list[Any]:
    """For errors inside a union, keep the relevant branch, or say what each branch expects."""
    out: list[Any] = [r for r in records if r[2] is None]
    groups: dict[Loc, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    for rec in records:
        if rec[2] is not None:
            groups[rec[1][: rec[2][0]]][rec[2][1]].append(rec)
    for prefix, branches in groups.items():
        def mismatch(recs: list[Any]) -> bool:
            return all(r[1] == prefix and r[0]["type"] in _MISMATCH for r in recs)

        relevant = {tag: recs for tag, recs in branches.items() if not mismatch(recs)}
        if relevant:
            out.extend(min(relevant.values(), key=len))
            continue
        wants = []
        for recs in branches.values():
            err = recs[0][0]
            want = str((err.get("ctx") or {}).get("expected")) if err["type"] == "literal_error" else _EXPECTED.get(err["type"])
            wants.append(want or err["msg"])
        value = next(iter(branches.values()))[0][0].get("input")
        synthetic = {"type": "union", "msg": f"expected {' or '.join(wants)}, got {show(value)}", "input": value}
        out.append((synthetic, prefix, None, _Step(Any)))
    return out


def validation_problems(exc: ValidationError, model_cls: type[BaseModel], marks: Marks, filename: str) -> list[Problem]:
    """Every error of ``exc`` as a located Problem with a friendly message."""
    records = []
    for err in exc.errors(include_url=False):
        clean, union, step = _split_loc(model_cls, err["loc"])
        records.append((err, clean, union, step))
    problems: list[Problem] = []
    for err, loc, _, step in _resolve_unions(records):
        nested = getattr((err.get("ctx") or {}).get("error"), "problems", None)
        if err["type"] == "value_error" and isinstance(nested, list):
            for sub_loc, message in nested:
                full = (*loc, *sub_loc)
                pos = marks.value(full)
                problems.append(Problem(filename, pos[0], pos[1], format_loc(full), message))
            continue
        message = _message(err, model_cls, loc, step)
        if err["type"] == "missing":
            pos = marks.value(loc[:-1])
        elif err["type"] == "extra_forbidden":
            pos = marks.key(loc)
        elif loc and loc[-1] == "[key]":
            loc = loc[:-1]
            pos = marks.key(loc)
        else:
            pos = marks.value(loc)
        problems.append(Problem(filename, pos[0], pos[1], format_loc(loc), message))
    return list(dict.fromkeys(problems))
