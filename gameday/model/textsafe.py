"""Outside text made safe to show: one rule for every place people's and the network's text lands.

Text from people (notes, updates, names, reasons) and from the network (alert names, labels,
vendor user names) is data. Wherever gameday shows it, characters that could change how the
rest is shown are replaced by a visible stand-in, ``<U+XXXX>`` (``"\\x1b[2J"`` is shown as
``"<U+001B>[2J"``, a right-to-left override as ``"<U+202E>"``):

* control characters, C0 and C1 and DEL (a terminal's escape sequences, NUL, carriage return),
  except newline and tab (unless the text is flattened to one line first);
* format characters (Unicode category ``Cf``): the bidirectional overrides, embeddings and
  isolates U+202A–U+202E and U+2066–U+2069, the marks U+200E, U+200F and U+061C, zero-width
  spaces, the byte-order mark, tag characters... — except the zero-width joiner and non-joiner
  (U+200D, U+200C), which emoji and several scripts need and which reorder nothing;
* lone surrogates (text decoded with ``surrogateescape``) and the line and paragraph
  separators U+2028 and U+2029.

Everything else is kept as it is: each sink still escapes its own syntax (Markdown, HTML,
rich markup, Slack's ``& < >``). Which function for which sink:

=====================  ==========================================================
:func:`for_terminal`   plain lines printed to a terminal or a log (``print``, ``click.echo``)
:func:`for_rich`       text inside rich markup (a panel title): also ``rich.markup.escape``
:func:`for_report`     text going into a Markdown or HTML report, or a chat message
:func:`one_line`       flattened to one line (whitespace collapsed), then neutralised
=====================  ==========================================================

Pure, no imports of gameday; rich is imported only by :func:`for_rich`.
"""

from __future__ import annotations

import unicodedata

#: Unicode categories whose characters are replaced (with the exceptions below).
UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
#: Format characters kept: they join, they do not reorder or hide text.
KEPT_FORMAT = frozenset({"\u200c", "\u200d"})
#: Bidirectional controls (a subset of the format characters, named for the docs and tests).
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def is_unsafe(ch: str, keep: str = "\n\t") -> bool:
    """True if the one character ``ch`` is replaced when shown (see the module docstring)."""
    if ch in keep or ch in KEPT_FORMAT:
        return False
    return unicodedata.category(ch) in UNSAFE_CATEGORIES


def visible(ch: str) -> str:
    """The stand-in shown for an unsafe character: ``'<U+202E>'``."""
    return f"<U+{ord(ch):04X}>"


def first_unsafe(text: str, keep: str = "") -> int | None:
    """The index of the first unsafe character of ``text`` (none kept by default), or None."""
    if text.isprintable():
        return None
    return next((i for i, ch in enumerate(text) if is_unsafe(ch, keep)), None)


def neutralise(text: object, keep: str = "\n\t") -> str:
    """``text`` (``None`` → ``''``, anything else ``str()``) with every unsafe character replaced by
    its stand-in; the characters in ``keep`` (newline and tab by default) stay. ``'\\r\\n'`` becomes
    ``'\\n'`` when newlines are kept. Idempotent."""
    s = "" if text is None else str(text)
    if s.isprintable():  # the common case: nothing to look at character by character
        return s
    if "\n" in keep and "\r\n" in s:
        s = s.replace("\r\n", "\n")
    return "".join(visible(ch) if is_unsafe(ch, keep) else ch for ch in s)


def one_line(text: object, limit: int | None = None) -> str:
    """``text`` on one line: whitespace runs (newlines and tabs included) become one space, the
    result is cut to ``limit`` characters with ``…`` if longer, and then neutralised."""
    flat = " ".join(("" if text is None else str(text)).split())
    if limit is not None and len(flat) > limit:  # cut first: a stand-in is never cut in half
        flat = flat[: max(limit - 1, 0)].rstrip() + "…"
    return neutralise(flat, keep="")


def for_terminal(text: object, *, single_line: bool = False) -> str:
    """Outside text for a terminal or a log: no escape sequence, NUL or bidi control reaches it
    (each shown as ``<U+XXXX>``); newlines and tabs are kept unless ``single_line``."""
    return one_line(text) if single_line else neutralise(text)


def for_rich(text: object, *, single_line: bool = False) -> str:
    """Outside text inside rich markup: :func:`for_terminal`, then ``rich.markup.escape``, so
    ``[/]`` or ``[link=...]`` are shown as written and never parsed as tags."""
    from rich.markup import escape

    return escape(for_terminal(text, single_line=single_line))


def for_report(text: object) -> str:
    """Outside text for a report (Markdown, HTML) or a chat message, before that format's own
    escaping: unsafe characters shown as ``<U+XXXX>``; newlines and tabs kept."""
    return neutralise(text)
