"""Strict JSON: the limits every JSON document from outside (webhooks, control-room bodies, journal
lines) is held to, in one place.

:func:`loads_strict` is :func:`json.loads` with these limits:

* **nesting** at most :data:`MAX_DEPTH` arrays/objects deep (a journal line: :data:`LINE_DEPTH`,
  the envelope around a payload that was itself at most :data:`MAX_DEPTH` deep). Deeper
  documents would exhaust the parser's, pydantic's or the serialiser's recursion limits;
* **integers** of at most :data:`MAX_INT_DIGITS` digits (640: the smallest value Python's own
  int-string limit can be set to, so every integer accepted here converts back to text);
* **finite numbers only**: the literals ``NaN``, ``Infinity`` and ``-Infinity`` (which
  :mod:`json` accepts by default) are refused, and so is a number that overflows a double
  (``1e999``);
* **valid Unicode**: a string with an unpaired surrogate escape (``"\\ud800"``), which no
  UTF-8 file can hold, is refused (as I-JSON, RFC 7493, does).

Every refusal is a :class:`JSONLimitError`: a :class:`json.JSONDecodeError` (so a
``ValueError``) carrying the position (``lineno``, ``colno``) and a one-line ``msg``; syntax
errors are :mod:`json`'s own :class:`~json.JSONDecodeError`. Callers catch
:class:`json.JSONDecodeError` for both. :func:`dumps_strict` is the writing side: compact
JSON that :func:`loads_strict` reads back, or a :class:`JSONLimitError`.
Pure functions: no I/O, nothing of ours imported.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from typing import Any

MAX_DEPTH = 64
"""Deepest nesting (arrays and objects) of a document from outside: a webhook body, an API body."""
LINE_DEPTH = MAX_DEPTH + 16
"""Deepest nesting of a journal line: an envelope (event, payload, its fields) around a payload of at most :data:`MAX_DEPTH`."""
MAX_INT_DIGITS = 640
"""Most digits of an integer (Python's int-string limit can be set no lower, so these always convert back)."""

_BRACKETS = re.compile(r'["\[\]{}]')  # outside strings: what the depth scan counts
_NUMBERS = re.compile(r'"|-?Infinity|NaN|-?\d[\d.eE+-]*')  # outside strings: what a refused number looks like
# strings, and runs of anything else: what is left of a valid document is its skeleton of brackets
_NOT_BRACKETS = re.compile(r'"(?:[^"\\]|\\.)*+"|[^\[\]{}"]+', re.DOTALL)
_SQUARE = str.maketrans("{}", "[]")
# an escaped high surrogate not followed by an escaped low one, or a low one not after a high one
# (each alternative starts with the literal \u, so the search skips ahead at C speed)
_LONE_SURROGATE = re.compile(r"\\u[dD](?:[89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F])"
                             r"|[c-fC-F][0-9a-fA-F]{2}(?<!\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}))")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*+"', re.DOTALL)  # possessive: no backtracking


class JSONLimitError(json.JSONDecodeError):
    """JSON (or almost) beyond the limits: ``msg`` says what, ``lineno``/``colno`` (1-based) where
    (from :func:`dumps_strict`, which has no document yet: ``msg`` alone)."""

    def __str__(self) -> str:
        return super().__str__() if self.doc else self.msg


class _Refused(ValueError):
    """Raised by the number hooks inside :func:`json.loads`; turned into a located JSONLimitError."""

    def __init__(self, msg: str, token: str):
        super().__init__(msg)
        self.msg, self.token = msg, token


def _tokens(text: str, pattern: re.Pattern[str]) -> Iterator[tuple[int, str]]:
    """``(pos, token)`` for each match of ``pattern`` outside strings, in order (``pattern`` must
    also match ``"``). Linear: each string is skipped once; an unterminated string ends the scan."""
    pos, end = 0, len(text)
    while pos < end:
        m = pattern.search(text, pos)
        if m is None:
            return
        if m.group() == '"':
            s = _STRING.match(text, m.start())
            if s is None:
                return  # unterminated string: the parser says so
            pos = s.end()
            continue
        yield m.start(), m.group()
        pos = m.end()


def _too_deep(text: str, limit: int) -> int | None:
    """Position of the first bracket opening level ``limit + 1`` (outside strings), or None."""
    depth = 0
    for pos, token in _tokens(text, _BRACKETS):
        if token in ("[", "{"):
            depth += 1
            if depth > limit:
                return pos
        elif token in ("]", "}"):
            depth -= 1
    return None


def _int(text: str) -> int:
    digits = len(text) - text.startswith("-")
    if digits > MAX_INT_DIGITS:
        raise _Refused(f"integer with {digits} digits (at most {MAX_INT_DIGITS})", text)
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        shown = text if len(text) <= 40 else text[:37] + "..."
        raise _Refused(f"number {shown} is out of range (not a finite double)", text)
    return value


def _constant(name: str) -> Any:
    raise _Refused(f"non-finite number {name} (only finite numbers are allowed)", name)


def _locate(text: str, token: str) -> int:
    """Where ``token`` (a number or literal the hooks refused) first stands outside strings; 0 if not found."""
    return next((pos for pos, tok in _tokens(text, _NUMBERS) if tok == token), 0)


def _deeper_than(text: str, limit: int) -> bool:
    """Whether valid JSON ``text`` nests deeper than ``limit``, at C speed: strip the strings, keep
    the brackets, and peel the innermost pairs off once per level (each pass lowers the height by one)."""
    skeleton = _NOT_BRACKETS.sub("", text).translate(_SQUARE)  # linear: every string is terminated
    for _ in range(limit):
        skeleton = skeleton.replace("[]", "")
        if not skeleton:
            return False
    return True


def loads_strict(text: str, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse ``text`` as JSON within the limits (module docstring); :class:`json.JSONDecodeError` if not.

    >>> loads_strict('{"a": [1, 2.5, "NaN"]}')
    {'a': [1, 2.5, 'NaN']}
    >>> loads_strict('[NaN]')
    Traceback (most recent call last):
    ...
    gameday.model.jsonsafe.JSONLimitError: non-finite number NaN (only finite numbers are allowed): line 1 column 2 (char 1)
    """
    try:
        value = json.loads(text, parse_int=_int, parse_float=_float, parse_constant=_constant)
    except _Refused as exc:
        raise JSONLimitError(exc.msg, text, _locate(text, exc.token)) from None
    except RecursionError:  # thousands of levels: the parser's own limit
        raise JSONLimitError(f"nesting deeper than {max_depth} levels", text, _too_deep(text, max_depth) or 0) from None
    except ValueError as exc:  # JSONDecodeError (syntax) passes on as is; anything else json raises, located at 0
        if isinstance(exc, json.JSONDecodeError):
            raise
        raise JSONLimitError(str(exc).split(";")[0], text, 0) from None
    # only a document with that many brackets (strings' included) can be too deep
    if text.count("[") + text.count("{") > max_depth and _deeper_than(text, max_depth):
        raise JSONLimitError(f"nesting deeper than {max_depth} levels", text, _too_deep(text, max_depth) or 0)
    # cheap gates first (the pattern may also see the text "\\\\ud800"); the encoding decides
    if "\\u" in text and _LONE_SURROGATE.search(text) and not _encodable(value):
        lone = next((m for m in _LONE_SURROGATE.finditer(text) if _escapes(text, m.start())), None)
        where, what = (lone.start(), lone.group()) if lone else (0, "")
        raise JSONLimitError(f"unpaired surrogate {what} in a string (not valid Unicode)".replace("  ", " "), text, where)
    return value


def _escapes(text: str, pos: int) -> bool:
    """Whether the backslash at ``pos`` starts an escape (an even number of backslashes precedes it)."""
    run = 0
    while run < pos and text[pos - run - 1] == "\\":
        run += 1
    return run % 2 == 0


def _encodable(value: Any) -> bool:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=str)
_LONG_DIGITS = re.compile(rf"\d{{{MAX_INT_DIGITS + 1}}}")


def dumps_strict(obj: Any, *, max_depth: int = MAX_DEPTH) -> str:
    """Compact JSON text of ``obj`` (non-ASCII as is) that :func:`loads_strict` (with ``max_depth``)
    reads back and UTF-8 can hold; :class:`JSONLimitError` (nothing returned) if not: a non-finite
    number, nesting or an integer beyond the limits, an unpaired surrogate.

    The encoder itself refuses non-finite numbers (``allow_nan=False``) and UTF-8 refuses a lone
    surrogate; what else :func:`loads_strict` could refuse in text :mod:`json` wrote is nesting and
    long integers, so it reads the text back only when a cheap scan finds more brackets than
    ``max_depth`` or a run of more than :data:`MAX_INT_DIGITS` digits (the journal's hot path:
    ~3x cheaper than always reading back)."""
    try:
        text = _ENCODER.encode(obj)
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise JSONLimitError(f"unpaired surrogate {exc.object[exc.start:exc.end]!r} in a string (not valid Unicode)",
                             "", 0) from None
    except (ValueError, RecursionError) as exc:  # NaN/inf (allow_nan=False), an int past Python's limit, a cycle, depth
        what = str(exc).split(";")[0] if isinstance(exc, ValueError) else "nesting too deep to serialise"
        raise JSONLimitError(what, "", 0) from None
    if text.count("[") + text.count("{") > max_depth or _LONG_DIGITS.search(text):
        loads_strict(text, max_depth=max_depth)  # the same checks a reader makes: never write what cannot be read
    return text


def non_finite(value: Any, where: str = "") -> str | None:
    """The path (``where.field[2].x``) of a non-finite float in ``value`` (pydantic models, lists,
    tuples, sets, dicts, scalars), or None if there is none. Finds what a model coerced from text such as ``"NaN"``."""
    # each entry: (item, its parent's entry, the key that leads to it); a path is spelled only when found
    stack: list[tuple[Any, Any, str]] = [(value, None, where)]
    while stack:
        entry = stack.pop()
        item = entry[0]
        kind = type(item)
        if kind in _LEAVES:
            continue
        if isinstance(item, float):
            if not math.isfinite(item):
                return _spell(entry)
        elif isinstance(item, (list, tuple, set, frozenset)):
            stack.extend((v, entry, f"[{i}]") for i, v in enumerate(item))
        elif isinstance(item, dict):
            stack.extend((v, entry, f".{k}") for k, v in item.items())
        else:
            fields = _model_fields[kind]
            if fields:
                stack.extend((getattr(item, name, None), entry, f".{name}") for name in fields)
    return None


_LEAVES = frozenset({str, int, bool, type(None)})


class _ModelFields(dict[type, tuple[str, ...]]):
    """A pydantic model class's field names, looked up once per class (duck-typed: nothing imported here);
    () for any other class."""

    def __missing__(self, kind: type) -> tuple[str, ...]:
        fields = getattr(kind, "model_fields", None)
        names = self[kind] = tuple(fields) if isinstance(fields, dict) else ()
        return names


_model_fields = _ModelFields()


def _spell(entry: tuple[Any, Any, str]) -> str:
    parts: list[str] = []
    node: Any = entry
    while node is not None:
        parts.append(node[2])
        node = node[1]
    return "".join(reversed(parts)).lstrip(".")
