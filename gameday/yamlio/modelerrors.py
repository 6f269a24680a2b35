"""Pydantic validation errors mapped back onto YAML marks, with friendly messages.

:func:`validation_problems` turns a ``ValidationError`` into located
:class:`~gameday.errors.Problem` s, expanding errors that carry ``.problems``
(``(loc, message)`` pairs, like the model's ``CrossCheckError``) into one problem each.

Every problem at once: pydantic runs a model's ``mode="after"`` validator (its cross-field
checks) only when every field validated, so those problems would show only once the type
errors are fixed. A model that offers ``check_partial(data) -> [(loc, message)]`` (the
scenario does) is asked, when validation fails, for its cross checks over what did
validate; :func:`validate_data` adds them to the type errors, one list sorted by line.
"""

from __future__ import annotations

import types
import typing
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from gameday.errors import Problem
from gameday.yamlio.marks import Loc, Marks, format_loc, show


def validate_data[M: BaseModel](data: Any, marks: Marks, model_cls: type[M], filename: str) -> tuple[M | None, list[Problem]]:
    """Validate parsed data against ``model_cls``: ``(instance, [])`` or ``(None, problems)``."""
    if not isinstance(data, Mapping):
        what = "the file is empty" if data is None else f"the top level is {show(data)}"
        pos = marks.value(())
        message = f"{what}: expected a mapping of keys ({', '.join(_allowed(model_cls))})"
        return None, [Problem(filename, pos[0], pos[1], "", message)]
    bools = bool_key_problems(marks, model_cls, filename)
    try:
        model = model_cls.model_validate(data)
    except ValidationError as exc:
        problems = validation_problems(exc, model_cls, marks, filename)
        problems += _partial_problems(exc, data, marks, model_cls, filename, problems)
        return None, _by_line(bools + _without_bool_echoes(problems, marks))
    except Exception as exc:  # noqa: BLE001 - a validator crashed on odd input (not a ValueError): still a problem
        pos = marks.value(())
        return None, [Problem(filename, pos[0], pos[1], "", f"cannot validate: {type(exc).__name__}: {exc}")]
    return (None, _by_line(bools)) if bools else (model, [])


#: A key YAML reads as a boolean, and the word it was meant as where a model has a field of that name:
#: a transition's ``on:`` is its ``when:``.
_MEANT = types.MappingProxyType({"on": "when"})


def bool_key_problems(marks: Marks, model_cls: type[BaseModel], filename: str) -> list[Problem]:
    """A problem at each mapping key YAML 1.1 read as a boolean (``on:``, ``no:``, ``Yes:``...): no
    field of a model is named ``true``, and a boolean is no name. Located at the key, with the
    mapping's path: ``simulation.transitions[2]: 'on' is read by YAML as true: write 'when:'``."""
    out = []
    for loc, spelling in marks.bool_keys.items():
        parent, value = loc[:-1], loc[-1]
        meant = _MEANT.get(spelling.lower())
        here = _type_at(model_cls, parent)
        fields = {f.alias or n for n, f in here.model_fields.items()} if _is_model(here) else set()
        hint = f"write '{meant}:'" if meant in fields else "quote it or use another word"
        line, col = marks.key(loc)
        out.append(Problem(filename, line, col, _spelt(parent, marks),
                           f"{spelling!r} is read by YAML as {str(value).lower()}: {hint}"))
    return out


def _spelt(loc: Loc, marks: Marks) -> str:
    """``loc`` as a path, each boolean key spelt as in the file (``simulation.states.Yes``)."""
    return format_loc([marks.bool_keys.get(loc[: i + 1], part) if isinstance(part, bool) else part
                       for i, part in enumerate(loc)])


def _without_bool_echoes(problems: list[Problem], marks: Marks) -> list[Problem]:
    """Drop pydantic's own words on a boolean key (``Keys should be strings`` at ``path[1]``, a key's
    type at ``path[0]``: :func:`bool_key_problems` says it better, at the key); a problem inside the
    value of such a key gets its path spelt as in the file (pydantic counts true as 1)."""
    echoes: set[str] = set()
    inside: list[tuple[str, str]] = []  # (a path's prefix as pydantic or the data spell it, as the file does)
    for loc in sorted(marks.bool_keys, key=len, reverse=True):  # the deepest first
        as_int = format_loc([int(part) if isinstance(part, bool) else part for part in loc])
        echoes |= {as_int, format_loc(loc)}
        inside += [(as_int, _spelt(loc, marks)), (format_loc(loc), _spelt(loc, marks))]
    out = []
    for p in problems:
        if p.path in echoes:
            continue
        for prefix, spelt in inside:
            if p.path.startswith((prefix + ".", prefix + "[")):
                p = Problem(p.file, p.line, p.column, spelt + p.path[len(prefix):], p.message)
                break
        out.append(p)
    return out


def _by_line(problems: list[Problem]) -> list[Problem]:
    return sorted(dict.fromkeys(problems), key=lambda p: (p.file, p.line, p.column, p.path, p.message))


def _partial_problems(exc: ValidationError, data: Any, marks: Marks, model_cls: type[BaseModel], filename: str,
                      found: list[Problem]) -> list[Problem]:
    """The model's cross checks over what validated of ``data`` (see the module docstring).

    Not asked when the model's own validator ran (an error at the top: its problems are in
    ``found``); a problem at a path that already has one is left out (no double reports).
    """
    check = getattr(model_cls, "check_partial", None)
    if check is None or any(not err["loc"] for err in exc.errors(include_url=False)):
        return []
    try:
        pairs = check(data)
    except Exception:  # noqa: BLE001 - the partial checks are a bonus: the type errors stand on their own
        return []
    taken = {p.path for p in found}
    extra = [marks.problem(filename, loc, message) for loc, message in pairs]
    return [p for p in extra if p.path not in taken]


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
        shown = f"{limit:g}" if isinstance(limit, float) else f"{limit}"
        return f"must be {word} {shown}, got {show(value)}"
    return str(err["msg"])


#: one pydantic error: its details, its clean location, its union branch (index in loc, tag), and the type there
_Record = tuple[Mapping[str, Any], Loc, tuple[int, str] | None, _Step]


def _mismatch(recs: list[_Record], prefix: Loc) -> bool:
    """True if a union branch failed only because the value at ``prefix`` is not of its type."""
    return all(r[1] == prefix and r[0]["type"] in _MISMATCH for r in recs)


def _resolve_unions(records: list[_Record]) -> list[_Record]:
    """For errors inside a union, keep the relevant branch, or say what each branch expects."""
    out: list[_Record] = [r for r in records if r[2] is None]
    groups: dict[Loc, dict[str, list[_Record]]] = defaultdict(lambda: defaultdict(list))
    for rec in records:
        if rec[2] is not None:
            groups[rec[1][: rec[2][0]]][rec[2][1]].append(rec)
    for prefix, branches in groups.items():
        relevant = {tag: recs for tag, recs in branches.items() if not _mismatch(recs, prefix)}
        if relevant:
            shortest: list[_Record] = min(relevant.values(), key=len)
            out.extend(shortest)
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
    records: list[_Record] = []
    for details in exc.errors(include_url=False):
        clean, union, step = _split_loc(model_cls, details["loc"])
        records.append((details, clean, union, step))
    problems: list[Problem] = []
    for err, loc, _, step in _resolve_unions(records):
        nested = getattr((err.get("ctx") or {}).get("error"), "problems", None)
        if err["type"] == "value_error" and isinstance(nested, list):
            for sub_loc, message in nested:
                problems.append(marks.problem(filename, (*loc, *sub_loc), message))
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
