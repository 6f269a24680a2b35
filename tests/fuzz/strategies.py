"""Hostile inputs for the fuzz suite, and the invariants every boundary must keep.

Strategies (hypothesis) produce what people and the network may send: rich markup (``[/]``,
``[link=...]``), control characters, NUL, ANSI/OSC escapes, bidi overrides (U+202E, U+2066),
lone surrogates, very long strings, values of the wrong type, and, at the byte level, invalid
UTF-8, huge integers (``10**5000`` written as JSON digits), non-finite literals (``NaN``,
``Infinity``, ``1e999``) and nesting 10,000 deep.

Raw tokens (a huge integer, ``NaN``, ``[[[...]]]``) cannot be built as Python values and dumped
(``json.dumps(10**5000)`` itself fails), so a value tree holds a :class:`Raw` marker where one
goes, and :func:`to_json` / :func:`to_yaml` write the text around a placeholder and then put
the raw token in its place.

The ``assert_*`` helpers are the invariants (terminal-safe text, strict JSON Lines of typed events,
every report written, a CLI run ending with a documented exit code and no traceback); the tests
call them so that a failure says which invariant broke.
"""

from __future__ import annotations

import json
import os
import unicodedata
from dataclasses import dataclass
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st

# ------------------------------------------------------------------------------ settings

#: ``GAMEDAY_FUZZ=long`` (``make fuzz``) selects the long profile; anything else, the short one.
LONG = os.environ.get("GAMEDAY_FUZZ", "").strip().lower() == "long"
PROFILE = "gameday-fuzz-long" if LONG else "gameday-fuzz-short"
#: how many times more examples each property gets under ``make fuzz``
LONG_FACTOR = int(os.environ.get("GAMEDAY_FUZZ_FACTOR", "20"))


def budget(examples: int) -> settings:
    """The settings of one property: the selected profile (registered in ``tests/fuzz/conftest.py``)
    with ``examples`` examples in the short profile, ``examples * LONG_FACTOR`` in the long one."""
    return settings(settings.get_profile(PROFILE), max_examples=examples * LONG_FACTOR if LONG else examples)


# ------------------------------------------------------------------------------ hostile text

BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
#: fixed hostile snippets: each one has broken a terminal, a template or a parser somewhere
SNIPPETS = [
    "[/]", "[/bold]", "[bold red]LOUD", "[link=https://evil.example/]click me[/link]", "[link=file:///etc/passwd]x",
    "\\[escaped]", "[[double]]", "[", "]", ":smiley: :warning:",
    "\x1b[31mred\x1b[0m", "\x1b[2J\x1b[H", "\x1b]8;;https://evil.example/\x07link\x1b]8;;\x07", "\x1b]0;title\x07",
    "\x1bP+q\x1b\\", "\x9b31m", "\x07\x08\x7f", "\x00", "a\x00b", "\r", "\rOVERWRITE", "\r\n", "\n\n", "\t",
    "\x0b\x0c", "\u0085", "\u2028", "\u2029", "\ufeff", "\u200b", "\u00ad",
    "\u202egnp.exe", "\u2066isolate\u2069", "\u202dLTR\u202c", "abc\u202edef",
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "\"'><svg/onload=alert(1)>", "&amp;&lt;",
    "{{ 7*7 }}", "{% raw %}", "{#", "${PWD}", "$(id)", "`id`", "%s%n%x", "\\", "\\\\", "'", '"', "\\u0000",
    "../../etc/passwd", "C:\\\\windows", "é", "e\u0301", "ﬃ", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "😀👍🏽", "\U0001f468\u200d\U0001f469",
    "Ω" * 3, "ǅ", "İ", "ß", " ", "   ", "-", "--", "#", "*", "_", "|", "> quote", "# heading", "```", "---",
]  # fmt: skip
SURROGATES = ["\ud800", "\udfff", "a\udcffb", "\udc80\udc81"]  # what os.fsdecode makes of invalid UTF-8 argv bytes

_any_char = st.characters(codec=None, exclude_categories=["Cs"])  # every code point but surrogates
_control = st.sampled_from([chr(c) for c in (*range(32), 127, *range(0x80, 0xA0))] + list(BIDI))


def hostile_text(*, min_size: int = 0, max_size: int = 40, surrogates: bool = False, long: bool = True) -> st.SearchStrategy[str]:
    """Untrusted text: snippets, control characters, any code point, snippets mixed into words,
    and (``long``) very long strings. ``surrogates``: lone surrogates too (invalid UTF-8 from argv)."""
    parts = st.one_of(st.sampled_from(SNIPPETS), st.text(_any_char, max_size=8), _control, st.sampled_from(["ok", "alice", "x"]))
    pieces: list[st.SearchStrategy[str]] = [
        st.sampled_from(SNIPPETS),
        st.lists(parts, min_size=1, max_size=6).map("".join),
        st.text(_any_char, min_size=min_size, max_size=max_size),
    ]
    if surrogates:
        pieces.append(st.tuples(st.sampled_from(SURROGATES), st.text(max_size=4)).map(lambda p: p[1] + p[0] + p[1]))
    short = text = st.one_of(*pieces)
    if long:  # one draw in eight: a very long string
        very_long = st.tuples(st.sampled_from(["A", "[/]", "\x1b[31m", "é", "\u202e", "<b>"]), st.integers(1_000, 20_000)).map(
            lambda p: (p[0] * (p[1] // len(p[0]) + 1))[: p[1]])
        text = st.integers(0, 7).flatmap(lambda n: very_long if n == 0 else short)
    return text.filter(lambda s: len(s) >= min_size)


# ------------------------------------------------------------------------------ raw JSON tokens


@dataclass(frozen=True)
class Raw:
    """A token written verbatim into JSON or YAML text (not a value Python can dump)."""

    text: str


def deep(depth: int, kind: str = "list") -> str:
    """JSON (and YAML flow) text nested ``depth`` deep."""
    if kind == "list":
        return "[" * depth + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


HUGE_INT = "1" + "0" * 5000  # 10**5000: past Python's 4300-digit int/str conversion limit
RAW_JSON_TOKENS = [
    HUGE_INT, "-" + HUGE_INT, "1" + "0" * 4300, "9" * 400, "1e999", "-1e999", "1e-999", "NaN", "Infinity", "-Infinity",
    '"\\ud800"', '"\\udfff x"', '"\\u0000"', '"\\u001b[31mred"', '"\\u202e"', deep(10_000), deep(10_000, "object"),
    deep(3_000), deep(990), deep(200, "object"), "0.1e-4", "-0", "123456789012345678901234567890",
]
raw_json = st.sampled_from(RAW_JSON_TOKENS).map(Raw)
#: raw tokens that are also YAML (a huge int, ``.nan``, ``.inf``, flow nesting, escapes YAML reads into control chars);
#: 10,000-deep nesting costs PyYAML a second, so it is an explicit case (test_fuzz_scenario.EDGES), not a draw
RAW_YAML_TOKENS = [
    HUGE_INT, "-" + HUGE_INT, "1" + "0" * 4300, ".nan", ".inf", "-.inf", "1e999", "0x" + "f" * 4000, "0o777", "0b" + "1" * 20,
    '"\\x1b[31mred\\x1b[0m"', '"\\0nul"', '"\\u202egnp.exe"', '"\\e]8;;https://evil.example/\\a"', '"\\ud800"',
    "[" * 150 + "]" * 150, "[" * 1_000 + "]" * 1_000, "{a: " * 120 + "1" + "}" * 120, "!!binary aGVsbG8=",
    "!!python/object/apply:os.system ['true']", "!!timestamp 2026-13-45", "~", "'[/]'", "'[link=https://evil.example/]x'",
    "2026-01-01T00:00:00Z", "yes", "NO", "0b", "00:01:02", "1_000",
]
raw_yaml = st.sampled_from(RAW_YAML_TOKENS).map(Raw)


def _scalars(text: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(), st.booleans(), st.integers(), st.integers(min_value=-(2**80), max_value=2**80),
        st.floats(allow_nan=True, allow_infinity=True), text,
    )  # fmt: skip


def json_values(*, raw: bool = True, max_leaves: int = 8, text: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[Any]:
    """Any JSON-ish value: scalars of every type (NaN and infinities too), hostile text, lists, objects,
    and (``raw``) raw tokens (huge ints, NaN literals, 10,000-deep nesting, lone-surrogate escapes)."""
    leaf = _scalars(text or hostile_text(max_size=20))
    if raw:
        leaf = st.one_of(leaf, raw_json)
    return st.recursive(
        leaf, lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(hostile_text(max_size=10, long=False), inner,
                                                                                    max_size=3)),
        max_leaves=max_leaves,
    )  # fmt: skip


def _placeholders(value: Any, raws: dict[str, str]) -> Any:
    if isinstance(value, Raw):
        key = f"RAWTOKEN{len(raws)}X"
        raws[key] = value.text
        return key
    if isinstance(value, dict):
        return {(_placeholders(k, raws) if isinstance(k, Raw) else k): _placeholders(v, raws) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_placeholders(v, raws) for v in value]
    return value


def to_json(value: Any) -> str:
    """JSON text of ``value`` with its :class:`Raw` tokens written verbatim (NaN/Infinity written as
    Python's ``json`` writes them; lone surrogates escaped)."""
    raws: dict[str, str] = {}
    text = json.dumps(_placeholders(value, raws), ensure_ascii=True, allow_nan=True)
    for key, token in raws.items():
        text = text.replace(f'"{key}"', token, 1)
    return text


def to_yaml(value: Any) -> str:
    """YAML text of ``value`` (block style) with its :class:`Raw` tokens written verbatim."""
    import yaml

    raws: dict[str, str] = {}
    data = _placeholders(value, raws)
    try:
        text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1_000_000)
    except (ValueError, yaml.YAMLError):  # e.g. a lone surrogate: let YAML escape everything
        text = yaml.safe_dump(data, allow_unicode=False, sort_keys=False, width=1_000_000)
    for key, token in raws.items():
        text = text.replace(key, token, 1)
    return text


# ------------------------------------------------------------------------------ bytes

INVALID_UTF8 = [b"\xff", b"\xfe\xff", b"\xc3\x28", b"\xa0\xa1", b"\xe2\x28\xa1", b"\xf0\x28\x8c\x28", b"\xed\xa0\x80",
                b"\xc0\xaf", b"\xf8\x88\x80\x80\x80", b"\x80", b"caf\xe9"]  # fmt: skip
invalid_utf8 = st.sampled_from(INVALID_UTF8)


def raw_bodies() -> st.SearchStrategy[bytes]:
    """Request bodies that are not well-formed JSON, or JSON at its limits, as bytes."""
    return st.one_of(
        st.binary(max_size=64),
        st.sampled_from(RAW_JSON_TOKENS).map(str.encode),
        st.tuples(invalid_utf8, st.sampled_from([b'{"name": "%s"}', b'["%s"]', b"%s", b'{"%s": 1}'])).map(lambda p: p[1] % p[0]),
        st.sampled_from([b"", b" ", b"{", b"}", b"[", b"null", b"true", b"0", b'""', b"[]", b"{}", b"{'a': 1}", b'{"a":1,}',
                         b'{"a":1}{"b":2}', b'{"a":1} trailing', b"\xef\xbb\xbf{}", b'{"a":"\x00"}', b"\x00", b"//{}",
                         b'{"a": 1, "a": 2}', b"[" * 100_000, b'"' + b"x" * 200_000 + b'"']),
        st.builds(lambda v: to_json(v).encode(), json_values(max_leaves=6)),
    )  # fmt: skip


# ------------------------------------------------------------------------------ mutations


def paths_in(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value in a JSON/YAML tree (the root included)."""
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out += paths_in(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += paths_in(value, (*prefix, i))
    return out


def set_path(root: Any, path: tuple[Any, ...], value: Any) -> Any:
    """``root`` with the value at ``path`` replaced (in place below the root; the root returned)."""
    if not path:
        return value
    node = root
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return root


def delete_path(root: Any, path: tuple[Any, ...]) -> Any:
    if not path:
        return root
    node = root
    for part in path[:-1]:
        node = node[part]
    del node[path[-1]]
    return root


@st.composite
def mutated(draw: st.DrawFn, base: Any, values: st.SearchStrategy[Any], *, most: int = 3) -> Any:
    """``base`` (deep-copied) with 1..``most`` changes: a value replaced by one of ``values``, a key
    deleted, or an unknown key added."""
    import copy

    data = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, most))):
        paths = paths_in(data)
        path = draw(st.sampled_from(paths))
        how = draw(st.sampled_from(["replace", "replace", "replace", "delete", "add"]))
        if how == "delete" and path:
            data = delete_path(data, path)
        elif how == "add":
            target = data
            for part in path:
                target = target[part]
            if isinstance(target, dict):
                target[draw(hostile_text(max_size=12, long=False))] = draw(values)
            elif isinstance(target, list):
                target.append(draw(values))
            else:
                data = set_path(data, path, draw(values))
        else:
            data = set_path(data, path, draw(values))
    return data


# ------------------------------------------------------------------------------ invariants

#: characters that must never reach a terminal from untrusted text: C0/C1 controls (ESC, CR,
#: BEL, NUL...) but newline and tab, DEL, and the bidi embeddings, overrides and isolates
#: (Trojan Source), and the Unicode line separators that a terminal or log shows as a break
UNSAFE_FOR_TERMINAL = frozenset(
    [chr(c) for c in (*range(32), 127, *range(0x80, 0xA0)) if chr(c) not in "\n\t"] + list(BIDI) + ["\u2028", "\u2029"]
)


def terminal_problems(text: str) -> list[str]:
    """The characters of ``text`` that a terminal would act on (or that hide what follows)."""
    found = sorted({ch for ch in text if ch in UNSAFE_FOR_TERMINAL or 0xD800 <= ord(ch) <= 0xDFFF})
    return [f"U+{ord(ch):04X} {unicodedata.name(ch, 'control')}" for ch in found]


def assert_terminal_safe(text: str, what: str) -> None:
    bad = terminal_problems(text)
    assert not bad, f"{what}: unescaped {', '.join(bad)} reach(es) the terminal in {text[:600]!r}"


def strict_json(text: str | bytes) -> Any:
    """Parse JSON as RFC 8259 has it: no NaN/Infinity literals (ValueError if present)."""

    def refuse(token: str) -> Any:
        raise ValueError(f"non-standard JSON literal {token}")

    return json.loads(text, parse_constant=refuse)


def assert_jsonl_lines(data: bytes, what: str) -> None:
    """Each complete line of ``data`` is UTF-8, strict JSON, and a journal event; the last may be torn."""
    from gameday.model.eventio import parse_event

    lines = data.split(b"\n")
    for number, line in enumerate(lines[:-1], start=1):  # the part after the last newline is not a line yet
        try:
            obj = strict_json(line.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise AssertionError(f"{what}: line {number} is not strict JSON ({exc}): {line[:300]!r}") from None
        parse_event(obj)


REPORT_FILES = ("scorecard.json", "scorecard.md", "postmortem.md", "postmortem.html", "junit.xml")


def assert_reports_written(journal_path: Any, out_dir: Any, *, mode: str = "ci") -> list[str]:
    """Write every report of the journal as a drill's end does (:func:`gameday.drill.reports.write_reports`,
    its outcome read from the journal) and check them: each file written, the scorecard strict JSON and
    byte-identical when rescored, the JUnit well-formed XML, the lines printed terminal-safe. Returns those lines."""
    import shutil
    from pathlib import Path
    from xml.etree import ElementTree

    import gameday
    from gameday.drill.reports import Outputs, write_reports
    from gameday.model.events import DrillEnded

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(journal_path, out / "journal.jsonl")
    journal = gameday.read_journal(out / "journal.jsonl")
    ended = journal.first(DrillEnded)
    outcome, reason = (ended.data.outcome, ended.data.reason) if ended is not None else ("completed", None)
    outputs = Outputs.for_drill(out, "unused", out)
    lines: list[str] = []
    code = write_reports(outputs, mode, lines.append, outcome, reason, None)
    assert code in (0, 1, 3), code
    for name in REPORT_FILES if mode == "ci" else REPORT_FILES[:-1]:
        assert (out / name).is_file() and (out / name).stat().st_size > 0, f"{name} was not written"
    card_json = (out / "scorecard.json").read_text(encoding="utf-8")
    strict_json(card_json)
    again = gameday.render_scorecard(gameday.score(gameday.read_journal(out / "journal.jsonl")), "json")
    assert again == card_json, "rescoring the same journal gave different bytes"
    if mode == "ci":
        ElementTree.fromstring((out / "junit.xml").read_bytes())
    for line in lines:
        assert_terminal_safe(line, "a line the drill prints after writing its reports")
    return lines


def run_cli(args: list[str], *, stdin: str | bytes | None = None, env: dict[str, str] | None = None) -> Any:
    """``gameday ARGS`` in-process (click's CliRunner; stdout and stderr apart); the click Result."""
    from click.testing import CliRunner

    from gameday.cli import main

    return CliRunner().invoke(main, args, input=stdin, env=env, catch_exceptions=True)


def assert_cli(result: Any, codes: set[int], what: str, *, stdout_is_terminal_text: bool = True) -> None:
    """A command ended as documented: no exception but SystemExit (no traceback), an exit code of ``codes``,
    a failure said on stderr, terminal-safe stderr and (unless it is a document such as Markdown) stdout."""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        import traceback

        tb = "".join(traceback.format_exception(result.exception))[-1500:]
        raise AssertionError(f"{what}: a traceback ({type(result.exception).__name__}: {result.exception}):\n{tb}")
    assert result.exit_code in codes, f"{what}: exit {result.exit_code}, expected one of {sorted(codes)}:\n{result.output[-800:]}"
    assert "Traceback (most recent call last)" not in result.output, f"{what}: a traceback:\n{result.output[-1500:]}"
    if result.exit_code != 0:
        assert result.stderr.strip(), f"{what}: exit {result.exit_code} without a message on stderr"
    assert_terminal_safe(result.stderr, f"{what} (stderr)")
    if stdout_is_terminal_text:
        assert_terminal_safe(result.stdout, f"{what} (stdout)")


def same_type_values(value: Any) -> st.SearchStrategy[Any]:
    """Hostile values of ``value``'s own JSON type (so a typed model may still take them): text for a
    string, non-finite, huge, tiny or negative numbers for a number, raw huge-integer tokens."""
    if isinstance(value, bool):
        return st.booleans()
    if isinstance(value, str):
        return hostile_text(max_size=30)
    if isinstance(value, int):
        huge = st.sampled_from([Raw(HUGE_INT), Raw("-" + HUGE_INT), -1, 0])
        return st.one_of(st.integers(), st.integers(-(2**70), 2**70), huge)
    if isinstance(value, float):
        return st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                         st.sampled_from([Raw("NaN"), Raw("Infinity"), Raw("-Infinity"), Raw("1e999"), -1.0, 1e308, 5e-324]))
    return json_values(max_leaves=3)


@st.composite
def typed_mutation(draw: st.DrawFn, base: Any, *, most: int = 3) -> Any:
    """``base`` (deep-copied) with 1..``most`` changes: a scalar replaced by a hostile value of the same
    type, or (one change in four) a mapping key renamed to hostile text (an unknown key, a hostile name)."""
    import copy

    data = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, most))):
        paths = paths_in(data)
        keyed = [p for p in paths if p and isinstance(p[-1], str)]
        leaves = [p for p in paths if p and not isinstance(_get(data, p), (dict, list))]
        if keyed and (not leaves or draw(st.integers(0, 3)) == 0):
            path = draw(st.sampled_from(keyed))
            parent = _get(data, path[:-1])
            parent[draw(hostile_text(max_size=16, long=False))] = parent.pop(path[-1])
        elif leaves:
            path = draw(st.sampled_from(leaves))
            data = set_path(data, path, draw(same_type_values(_get(data, path))))
    return data


def _get(node: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        node = node[part]
    return node
