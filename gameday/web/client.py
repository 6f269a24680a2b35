"""The control room's HTTP client, for responders without a browser (``gameday act``/``gameday status``).

It speaks the same API as the pages (:mod:`gameday.web.api`).

**Finding a drill (DRILL).** One of

* a drill id: ``gameday run`` wrote ``STATE/drills/<drill-id>.json`` (URL, pid, facilitator
  token file; mode 0600) when the control room started — ``STATE`` is the project's state
  folder (``.gameday`` under the folder holding ``gameday.yaml``, else the current folder);
* ``.``: the one drill running from this project;
* a URL of the control room (``http://127.0.0.1:8123``), or a join link
  (``http://127.0.0.1:8123/join#TOKEN``), whose token is then used.

**The token**, first found of: ``--token``, the ``GAMEDAY_TOKEN`` environment variable,
the join link's, and — on the machine running the drill — the facilitator's token file
named by the drill file (readable only by its owner).

**Text in, text out.** Every argument (DRILL, the token, ``--as``, ``--role``, the action's
arguments) must be valid UTF-8, and so must standard input read for a TEXT of ``-``: otherwise
an :class:`~gameday.errors.InputError` names the argument and the first bad byte (exit 2;
nothing is sent). A person's name (``--as``, PERSON) follows the one rule of
:mod:`gameday.model.names`, checked here before anything is sent. Whatever the control room
answers (names, notes, error messages) is printed neutralised for the terminal
(:func:`gameday.model.textsafe.for_terminal`).
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from gameday.adapters.pids import pid_alive
from gameday.errors import ConfigError, InfrastructureError, InputError
from gameday.model.names import name_problem
from gameday.model.textsafe import for_terminal, one_line
from gameday.model.training_events import TASK_KINDS

MAX_MESSAGE = 300  # characters of a control room's error message shown


class RefusedError(InputError):
    """The control room refused the request (4xx): exit 2 with its message."""


@dataclass(frozen=True)
class DrillRef:
    url: str
    token: str | None
    drill_id: str | None = None


#: Said whenever no drill is found: one run with --no-web (or in ci mode) is running but has no control room.
NO_ROOM = " (a drill run with --no-web or in ci mode has no control room: 'act' and 'status' cannot reach it)"


def utf8(value: str, where: str) -> str:
    """``value`` if it is valid UTF-8 text, else InputError naming ``where`` and the first bad byte
    (Python hands over command-line arguments and environment variables that are not UTF-8 with
    each bad byte as a surrogate escape, U+DC80..U+DCFF)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        code = ord(value[exc.start])
        what = f"byte 0x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"character U+{code:04X}"
        raise InputError(f"{where} is not valid UTF-8 ({what} at position {exc.start + 1})") from None
    return value


def read_stdin_text() -> str:
    """Standard input as UTF-8 text (a leading byte-order mark dropped), stripped; InputError if it
    is not UTF-8 (the first bad byte named)."""
    raw = getattr(sys.stdin, "buffer", None)
    if raw is None:  # a text stream without bytes under it (already decoded by whoever replaced stdin)
        return utf8(sys.stdin.read(), "standard input").strip()
    data = raw.read()
    try:
        return data.decode("utf-8-sig").strip()
    except UnicodeDecodeError as exc:
        raise InputError(f"standard input is not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})") from None


def person(value: str, where: str) -> str:
    """A person's name from the command line, by the one rule (:mod:`gameday.model.names`); InputError if refused."""
    problem = name_problem(utf8(value, where))
    if problem is not None:
        raise InputError(f"{where}: {problem}")
    return " ".join(value.split())


def _token(value: str | None, where: str) -> str | None:
    if value is None:
        return None
    utf8(value, where)
    if not value.isascii() or not value.isprintable():
        raise InputError(f"{where}: not a gameday token (tokens are letters, digits, '-' and '_')")
    return value


def _safe_id(drill_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", drill_id).lstrip(".") or "drill"


def _read_drill_file(path: Path) -> dict[str, Any]:
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot read the drill file ({exc})") from None
    if not isinstance(info, dict) or not isinstance(info.get("url"), str):
        raise ConfigError(f"{path}: not a drill file")
    if not pid_alive(info.get("pid")):
        raise ConfigError(f"drill {info.get('drill_id', path.stem)} is not running (its process has ended)")
    return info


def _facilitator_token(info: dict[str, Any]) -> str | None:
    try:
        return Path(str(info.get("token_file"))).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def running_drills(state_dir: Path) -> list[Path]:
    folder = state_dir / "drills"
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def find_drill(spec: str, state_dir: Path, token: str | None = None) -> DrillRef:
    """Where DRILL is and which token to use (see the module docstring). Raises ConfigError, or
    InputError for an argument that is not UTF-8 or a token that is not one."""
    utf8(spec, "DRILL")
    token = _token(token, "--token") or _token(os.environ.get("GAMEDAY_TOKEN") or None, "GAMEDAY_TOKEN")
    if spec.startswith(("http://", "https://")):
        try:
            parts = urlsplit(spec)
            parts.port  # noqa: B018 - raises ValueError for a port out of range
        except ValueError as exc:
            raise ConfigError(f"DRILL: not a URL: {for_terminal(spec)!r} ({exc})") from None
        base = f"{parts.scheme}://{parts.netloc}"
        link_token: str | None = parts.fragment or next(iter(parse_qs(parts.query).get("token") or []), None)
        token = token or _token(link_token, "the join link's token")
        if token is None:  # the facilitator, on the drill's machine
            for path in running_drills(state_dir):
                try:
                    info = _read_drill_file(path)
                except ConfigError:
                    continue
                if info["url"].rstrip("/") == base:
                    token = _facilitator_token(info)
        return DrillRef(base, token)
    if spec in (".", ""):
        files = running_drills(state_dir)
        live = []
        for path in files:
            try:
                live.append(_read_drill_file(path))
            except ConfigError:
                continue
        if len(live) != 1:
            where = state_dir / "drills"
            raise ConfigError(f"no running drill in {where}{NO_ROOM}" if not live
                              else f"{len(live)} drills run from {where}; name one")
        info = live[0]
    else:
        path = state_dir / "drills" / f"{_safe_id(spec)}.json"
        if not path.is_file():
            known = ", ".join(p.stem for p in running_drills(state_dir)) or "none"
            raise ConfigError(f"no running drill {for_terminal(spec)!r} here (running: {known}); give its id, '.', "
                              f"or the control room's URL{NO_ROOM}")
        info = _read_drill_file(path)
    return DrillRef(info["url"].rstrip("/"), token or _facilitator_token(info), str(info.get("drill_id") or spec))


class ControlRoomClient:
    """Calls the control room's API with a token (``Authorization: Bearer``)."""

    def __init__(self, ref: DrillRef, *, timeout: float = 15.0, transport=None):
        import httpx

        if not ref.token:
            raise ConfigError("no token: pass --token, set GAMEDAY_TOKEN, or use your join link as DRILL")
        self.ref = ref
        try:
            self._http = httpx.Client(base_url=ref.url, timeout=timeout, transport=transport, follow_redirects=False,
                                      headers={"Authorization": f"Bearer {ref.token}", "Accept": "application/json"})
        except (httpx.InvalidURL, ValueError) as exc:
            raise ConfigError(f"not a control room's URL: {for_terminal(ref.url)!r} ({for_terminal(exc)})") from None

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ControlRoomClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        import httpx

        try:
            resp = self._http.request(method, path, json=body) if body is not None else self._http.request(method, path)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise InfrastructureError(f"cannot reach the control room at {for_terminal(self.ref.url)}: "
                                      f"{one_line(exc, MAX_MESSAGE)}") from None
        try:
            data = resp.json()
        except ValueError:
            data = None
        if resp.status_code >= 400:
            message = data.get("error") if isinstance(data, dict) else None
            # the room's message may quote people's text: shown neutralised, on one line
            raise RefusedError(f"refused ({resp.status_code}): {one_line(message or resp.reason_phrase, MAX_MESSAGE)}")
        return data

    def state(self) -> dict[str, Any]:
        return self.request("GET", "/api/state")

    def draft(self, audience: str) -> str:
        data = self.request("GET", f"/api/drafts/{audience}")
        if not data.get("text"):
            raise RefusedError(f"no draft for {one_line(audience)}: {one_line(data.get('note') or 'the template gave nothing')}")
        return data["text"]


#: ACTION: (method, path, positional argument names; ``*`` takes the rest as text, ``?`` is optional).
ACTIONS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "acknowledge": ("POST", "/api/actions/acknowledge", ()),
    "declare_incident": ("POST", "/api/actions/declare_incident", ("severity?",)),
    "set_severity": ("POST", "/api/actions/set_severity", ("severity",)),
    "assign_role": ("POST", "/api/actions/assign_role", ("person", "role")),
    "notify_executives": ("POST", "/api/actions/notify_executives", ("text*",)),
    "post_update": ("POST", "/api/actions/post_update", ("audience", "text*")),
    "runbook": ("POST", "/api/actions/runbook", ("runbook",)),
    "mark_detected": ("POST", "/api/actions/mark_detected", ()),
    "note": ("POST", "/api/actions/note", ("text*",)),
    "resolved": ("POST", "/api/actions/resolved", ()),
    "start": ("POST", "/api/drill/start", ()),
    "pause": ("POST", "/api/drill/pause", ()),
    "resume": ("POST", "/api/drill/resume", ()),
    "abort": ("POST", "/api/drill/abort", ("reason*?",)),
    "end": ("POST", "/api/drill/end", ("reason*?",)),
    "inject": ("POST", "/api/faults/{fault}/inject", ("fault",)),
    "skip": ("POST", "/api/faults/{fault}/skip", ("fault",)),
    "invite": ("POST", "/api/responders", ("person", "role?")),
    "revoke": ("DELETE", "/api/responders/{person}", ("person",)),
    # a training drill's: the incident commander's instructions (the facilitator's token records them for the
    # incident commander), and the trainee's hint
    "command": ("POST", "/api/training/command", ("text*?",)),
    "task": ("POST", "/api/training/task", ("to", "kind", "text*?")),
    "objections": ("POST", "/api/training/objections", ("proposal*",)),
    "decide": ("POST", "/api/training/decision", ("decision*",)),
    "handover": ("POST", "/api/training/handover", ("to", "briefing*")),
    "hint": ("POST", "/api/training/hint", ()),
}
ALIASES = {"ack": "acknowledge", "declare": "declare_incident", "severity": "set_severity", "assign": "assign_role",
           "notify": "notify_executives", "update": "post_update", "detected": "mark_detected", "resolve": "resolved"}
#: Actions recorded for a person (they take --as/--role).
PERSON_ACTIONS = frozenset(list(ACTIONS)[:10])
#: A training drill's instructions (they take --as, naming the incident commander; --within, --runbook, --audience
#: where they apply).
TRAINING_ACTIONS = frozenset(("command", "task", "objections", "decide", "handover", "hint"))
BOXED = frozenset(("task", "objections"))  # take --within


def build_request(action: str, args: list[str], *, as_: str | None, role: str | None,
                  text_source=None, within: str | None = None, runbook: str | None = None,
                  audience: str | None = None) -> tuple[str, str, dict[str, Any] | None]:
    """(method, path, JSON body) for ``gameday act``. Raises InputError for a bad command line.
    ``text_source(field)`` supplies a missing text (``--draft``, stdin). ``within`` (a duration, ``5m``),
    ``runbook`` and ``audience`` are a training instruction's (``task``; ``within`` also ``objections``)."""
    name = ALIASES.get(utf8(action, "ACTION"), action)
    if name not in ACTIONS:
        raise InputError(f"unknown action {for_terminal(action)!r}; one of: {', '.join(ACTIONS)}")
    if name in TRAINING_ACTIONS:
        text_source = None  # --draft drafts a status update, not an instruction
    extra = _training_fields(name, within, runbook, audience)
    method, path, params = ACTIONS[name]
    values: dict[str, Any] = {}
    rest = [utf8(arg, f"argument {i} of {name}") for i, arg in enumerate(args, 1)]
    for param in params:
        key, optional, greedy = param.rstrip("*?"), "?" in param, "*" in param
        if greedy:
            value = " ".join(rest) if rest else None
            rest = []
        else:
            value = rest.pop(0) if rest else None
        if value == "-" and greedy:
            value = read_stdin_text()
        if value is None and greedy and text_source is not None:
            value = text_source(key, values)
        if value is None and not optional:
            usage = " ".join(p.upper().rstrip("*?") + ("..." if "*" in p else "") for p in params)
            raise InputError(f"{name} needs {key.upper()}: gameday act DRILL {name} {usage}")
        if value is not None and key == "person":
            value = person(value, "PERSON")
        if value is not None and key == "to":
            value = person(value, "TO")
        if value is not None and key == "kind" and value not in TASK_KINDS:
            raise InputError(f"task: unknown KIND {for_terminal(value)!r}; one of: {', '.join(TASK_KINDS)}")
        if value is not None:
            values[key] = value
    if rest:
        raise InputError(f"{name}: unexpected argument(s): {for_terminal(' '.join(rest))}")
    path = path.format(**{k: _quote(v) for k, v in values.items()})
    fields: dict[str, Any] = {k: v for k, v in values.items() if "{" + k + "}" not in ACTIONS[name][1]}
    body: dict[str, Any] | None = fields
    fields.update(extra)
    if name in TRAINING_ACTIONS:
        if role:
            raise InputError(f"{name} is the incident commander's instruction: --role does not apply")
        if as_:
            fields["as"] = person(as_, "--as")
    elif name in PERSON_ACTIONS:
        if as_:
            fields["as"] = person(as_, "--as")
        if role and name != "assign_role":
            fields["role"] = utf8(role, "--role")
    elif as_ or role:
        raise InputError(f"{name} is a facilitator control: --as/--role do not apply")
    return method, path, (None if method == "DELETE" else body)


def _training_fields(name: str, within: str | None, runbook: str | None, audience: str | None) -> dict[str, Any]:
    """The JSON fields of a training instruction's options, checked (InputError naming the option)."""
    from gameday.model.duration import parse_duration

    out: dict[str, Any] = {}
    if within is not None:
        if name not in BOXED:
            raise InputError(f"--within goes with task and objections, not {name}")
        try:
            if not parse_duration(utf8(within, "--within")) > 0:
                raise ValueError("a time box must be longer than zero")
        except ValueError as exc:
            raise InputError(f"--within: {for_terminal(str(exc))}") from None
        out["within"] = within.strip()
    for option, value in (("runbook", runbook), ("audience", audience)):
        if value is not None:
            if name != "task":
                raise InputError(f"--{option} goes with task, not {name}")
            out[option] = utf8(value, f"--{option}")
    return out


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")


# ------------------------------------------------------------------ status, for a terminal
def _plain(value: Any) -> str:
    """Untrusted text for a terminal, on one line: every control and formatting character (escape
    sequences, NUL, bidi overrides) shown as ``<U+XXXX>`` (:func:`gameday.model.textsafe.one_line`)."""
    return one_line(value)


def format_answer(answer: Any) -> str:
    """What ``gameday act`` prints for the control room's answer (neutralised for the terminal)."""
    if isinstance(answer, dict) and answer.get("join_url"):
        return f"join link for {_plain(answer.get('person'))}: {_plain(answer['join_url'])}"
    if isinstance(answer, dict) and answer.get("seq") is not None:
        t = answer.get("t")
        at = f"{t:.3f}" if isinstance(t, (int, float)) else "0.000"
        return f"journaled #{_plain(answer['seq'])} {_plain(answer.get('kind'))} at +{at}s"
    if isinstance(answer, dict) and "seq" in answer:
        return "staged: journaled when the drill starts"
    if isinstance(answer, dict):
        return _plain(answer.get("status") or "done")
    return "done"


def _clock(seconds: float) -> str:
    sign, s = ("-" if seconds < 0 else ""), abs(int(seconds))
    return f"{sign}{s // 60}:{s % 60:02d}"


def _at(t: Any) -> str:
    from gameday.analysis.timeline import format_offset

    return format_offset(t) if isinstance(t, (int, float)) else "—"


def format_status(state: dict[str, Any], lines: int = 25) -> str:
    """The drill as text: status, you, roles, incident, countdowns, runbooks, the last timeline rows.
    Every value from the state is shown neutralised (:func:`_plain`): none reaches the terminal raw."""
    out = []
    phase = f", phase {_plain(state['phase'])}" if state.get("phase") else ""
    name = f"drill {_plain(state['drill_id'])}: " if state.get("drill_id") else ""
    out.append(f"{name}{_plain(state.get('title'))} — {_plain(state.get('status'))}{phase}, drill time {_at(state.get('now_t'))}")
    viewer = state.get("viewer", {})
    held = ", ".join(viewer.get("roles") or []) or ("facilitator" if viewer.get("facilitator") else "no role")
    out.append(f"you: {_plain(viewer.get('name'))} ({_plain(held)})")
    out.append("roles: " + " · ".join(f"{_plain(r.get('role'))} {_plain(r['holder']) if r.get('holder') else '—'}"
                                       for r in state.get("roles", [])))
    inc = state.get("incident") or {}
    if inc:
        out.append(f"incident: detected {_at(inc.get('detected_t'))} · acknowledged {_at(inc.get('acknowledged_t'))} · "
                   f"declared {_at(inc.get('declared_t'))} · severity {_plain(inc.get('severity') or '—')} · "
                   f"updates {_plain(inc.get('updates', 0))} · resolved {_at(inc.get('resolved_t'))}")
    countdowns = state.get("countdowns") or []
    if countdowns:
        out.append("countdowns:")
        for c in countdowns:
            left = c["due_t"] - state.get("now_t", 0)
            when = f"in {_clock(left)}" if left >= 0 else f"overdue {_clock(-left)}"
            out.append(f"  {when:>14}  {_plain(c['label'])}")
    for rb in state.get("runbooks") or []:
        runs = rb.get("runs") or []
        last = runs[-1] if runs else None
        result = ("never run" if last is None else "running" if last.get("finished_t") is None
                  else "ok" if last.get("ok") else f"failed: {_plain(last.get('error'))}")
        who = f" (by {_plain(last.get('by'))} at {_at(last.get('started_t'))})" if last else ""
        out.append(f"runbook {_plain(rb['name'])}: {result}{who}")
    rows = (state.get("timeline") or [])[-lines:]
    if rows:
        out.append(f"timeline (last {len(rows)}):")
        for r in rows:
            who = _plain(r.get("who")) + (f" ({_plain(r['role'])})" if r.get("role") else "")
            out.append(f"  {_plain(r.get('offset', '')):>9}  {who:<24} {_plain(r.get('text'))}")
    if state.get("status") == "ended":
        reason = f" ({_plain(state.get('reason'))})" if state.get("reason") else ""
        out.append(f"outcome: {_plain(state.get('outcome'))}{reason}")
    return "\n".join(out)
