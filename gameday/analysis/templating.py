"""Jinja2 for the postmortem: the environment (user templates first, then the built-ins),
Markdown escaping, and a compiled-template cache.

Compiled templates are kept in memory for the process and, for the built-in templates, on
disk in ``$XDG_CACHE_HOME/gameday/jinja2`` when that folder is private to the user: a
drill's report then costs milliseconds, not a compile. The cache is keyed on the
template's source, Jinja2's and Python's versions and the settings; any problem with it
(unwritable, corrupt, shared folder) just means compiling again. Jinja2 is imported
lazily, by the functions that need it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import threading
from pathlib import Path
from typing import Any

from gameday.errors import ConfigError
from gameday.model.duration import human
from gameday.model.terms import format_offset
from gameday.model.textsafe import neutralise

BUILTIN_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
TEMPLATE_NAMES = {"md": "postmortem.md.j2", "html": "postmortem.html.j2"}

_MD_ESCAPES = {"\\": "\\\\", "`": "\\`", "*": "\\*", "_": "\\_", "[": "\\[", "]": "\\]", "|": "\\|",
               "~": "\\~", "#": "\\#", "&": "&amp;", "<": "&lt;", ">": "&gt;"}  # fmt: skip
_MD_SPECIAL = re.compile(r"[\\`*_\[\]|~#&<>]")


def md_escape(text: Any) -> str:
    """Escape untrusted text for Markdown (table cells included), on one line.

    Control and formatting characters (NUL, escape sequences, bidi overrides) are shown as
    ``<U+XXXX>`` (:func:`gameday.model.textsafe.neutralise`); ``<``, ``>`` and ``&`` become
    HTML entities (so no tag survives when the Markdown is rendered to HTML); Markdown syntax
    characters (backtick, ``*``, ``_``, brackets, ``|``, ``~``, ``#``, backslash) are
    backslash-escaped; line breaks become spaces. Idempotent on its own output (returns
    ``markupsafe.Markup``, which is not escaped again).
    """
    from markupsafe import Markup

    if isinstance(text, Markup):
        return text
    flat = neutralise(" ".join(str("" if text is None else text).splitlines()), keep="\t")
    return Markup(_MD_SPECIAL.sub(lambda m: _MD_ESCAPES[m.group(0)], flat))


def warm_up(templates_dir: Path | None = None) -> None:
    """Import Jinja2 and compile both postmortem templates now (into the process's bytecode
    cache), so a later :func:`render_postmortem` does not pay for it. Never raises: a broken
    template is reported by the render itself."""
    with contextlib.suppress(Exception):  # only a head start; the render reports any problem
        import jinja2

        for fmt, name in TEMPLATE_NAMES.items():
            environment(jinja2, fmt, templates_dir).get_template(name)


def render_report(what: str, name: str, fmt: str, templates_dir: Path | None, **context: Any) -> str:
    """Render the report template ``name`` (``what`` names it in errors: "postmortem", "training
    report"...) with ``context``; trailing spaces and runs of blank lines are dropped. A broken template
    (or one extending itself) is a :class:`~gameday.errors.ConfigError` naming it."""
    import jinja2

    env = environment(jinja2, fmt, templates_dir)
    try:
        text = env.get_template(name).render(**context)
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigError(f"{exc.filename or exc.name}:{exc.lineno}: template error: {exc.message}") from None
    except jinja2.TemplateError as exc:
        raise ConfigError(f"{what} template {name}: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{what} template {name} extends itself; extend 'gameday/{name}' instead") from None
    text = "\n".join(line.rstrip() for line in text.splitlines())
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n") + "\n"


def environment(jinja2: Any, fmt: str, templates_dir: Path | None) -> Any:
    builtin = jinja2.FileSystemLoader(str(BUILTIN_TEMPLATES))
    loaders = []
    if templates_dir is not None:
        if not Path(templates_dir).is_dir():
            raise ConfigError(f"templates folder {templates_dir} does not exist")
        loaders.append(jinja2.FileSystemLoader(str(templates_dir)))
    loaders += [builtin, jinja2.PrefixLoader({"gameday": builtin})]
    html = fmt == "html"
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=html,
        finalize=html_finalize if html else _md_finalize,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = md_escape
    env.filters["md_escape"] = md_escape
    env.filters["offset"] = format_offset
    env.filters["human"] = human
    # compiled code depends on these settings too, not only on the template's source
    tag = f"{fmt}|{html}|{sorted(env.filters)}|{BUILTIN_TEMPLATES}"
    env.bytecode_cache = _bytecode_cache(jinja2, tag)
    return env


# ---------------------------------------------------------------- compiled templates
#
# Compiling the two templates costs ~40 ms a run. Their bytecode is kept in memory for the
# process (and so shared with warm_up) and, for the built-in templates, on disk in the
# user's cache folder ($XDG_CACHE_HOME/gameday/jinja2, else ~/.cache/gameday/jinja2; one
# file per template, overwritten; private to the user, else not used). Entries are checked
# against the template's source (Jinja2's checksum), the Jinja2 and Python versions and the
# environment's settings; any problem reading or writing them just means compiling again.

_BYTECODE: dict[str, bytes] = {}
_CACHE_CLASS: Any = None
_CACHE_LOCK = threading.Lock()


def _cache_folder() -> Path | None:
    """The on-disk bytecode folder, created private; None if unusable (never an error)."""
    try:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        if not os.path.isabs(base):
            return None
        folder = Path(base) / "gameday" / "jinja2"
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        st = folder.stat()
        getuid = getattr(os, "getuid", None)
        if (getuid is not None and st.st_uid != getuid()) or st.st_mode & 0o077:
            return None  # someone else's, or writable by others: never load code from it
        return folder
    except (OSError, RuntimeError, ValueError):  # RuntimeError: no home folder
        return None


def _bytecode_cache(jinja2: Any, tag: str) -> Any:
    global _CACHE_CLASS
    with _CACHE_LOCK:
        if _CACHE_CLASS is None:
            _CACHE_CLASS = _make_cache_class(jinja2)
    return _CACHE_CLASS(tag, _cache_folder())


def _remember(key: str, data: bytes) -> None:
    if key not in _BYTECODE and len(_BYTECODE) >= 32:  # many projects' templates in one process (tests)
        _BYTECODE.clear()
    _BYTECODE[key] = data


def _is_builtin(filename: str) -> bool:
    try:
        return Path(filename).resolve().parent == BUILTIN_TEMPLATES
    except (OSError, RuntimeError, ValueError):
        return False


def _make_cache_class(jinja2: Any) -> Any:
    class _Cache(jinja2.BytecodeCache):  # type: ignore[misc]  # jinja2 is imported lazily, so untyped here
        def __init__(self, tag: str, folder: Path | None):
            self.tag, self.folder = tag, folder
            self._disk_keys: set[str] = set()

        def get_cache_key(self, name: str, filename: str | None = None) -> str:
            return hashlib.sha1(f"{self.tag}|{name}|{filename or ''}".encode()).hexdigest()

        def get_bucket(self, environment: Any, name: str, filename: str | None, source: str) -> Any:
            # a project's own templates are cached in memory only: the disk holds the built-in ones
            if self.folder is not None and filename is not None and _is_builtin(filename):
                self._disk_keys.add(self.get_cache_key(name, filename))
            return super().get_bucket(environment, name, filename, source)

        def _disk(self, bucket: Any) -> Path | None:
            """The disk folder for this bucket (a built-in template's), else None: memory only."""
            return self.folder if bucket.key in self._disk_keys else None

        def load_bytecode(self, bucket: Any) -> None:
            data = _BYTECODE.get(bucket.key)
            folder = self._disk(bucket)
            if data is None and folder is not None:
                try:
                    data = (folder / f"{bucket.key}.cache").read_bytes()
                except (OSError, ValueError):
                    data = None
            if not data:
                return
            try:
                bucket.bytecode_from_string(data)
            except Exception:  # noqa: BLE001 - unreadable: compile again
                bucket.reset()
            if bucket.code is not None:
                _remember(bucket.key, data)

        def dump_bytecode(self, bucket: Any) -> None:
            try:
                data = bucket.bytecode_to_string()
            except Exception:  # noqa: BLE001
                return
            _remember(bucket.key, data)
            folder = self._disk(bucket)
            if folder is None:
                return
            path = folder / f"{bucket.key}.cache"
            tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
            try:
                tmp.write_bytes(data)
                os.replace(tmp, path)
            except OSError:
                with contextlib.suppress(OSError):
                    tmp.unlink()

    return _Cache


def _md_finalize(value: Any) -> Any:
    return "—" if value is None else md_escape(value)


def html_finalize(value: Any) -> Any:
    """Every plain string output in HTML: control and formatting characters shown as ``<U+XXXX>``
    (autoescape then escapes it); template-made ``Markup`` is left as it is."""
    if value is None:
        return "—"
    if type(value) is str:  # not Markup (a subclass): text from the journal
        return neutralise(value)
    return value


# ---------------------------------------------------------------- context
