"""Chat notifications: posted updates delivered to Slack, Microsoft Teams and generic JSON webhooks.

When a responder posts an update (``ActionRecorded`` with action ``post_update``, or
``notify_executives``), every configured channel whose audiences include the update's
receives it. Every message is marked as a drill (``[DRILL] `` before the text) so nobody
mistakes it for a real outage.

Payloads:

* ``slack`` — a Slack incoming webhook: ``{"text": ...}`` (and Block Kit ``blocks`` with
  ``blocks: true``). Responder text is escaped the way Slack documents (``&`` ``<`` ``>``
  become ``&amp;`` ``&lt;`` ``&gt;``), so ``<script>``, ``<!channel>``, ``<@U123>`` or
  ``<https://x|y>`` stay literal text: no mention, no link. (mrkdwn has no escape for its
  emphasis marks: ``*word*`` still shows bold, which changes no meaning.)
* ``teams`` — a Microsoft Teams *Workflows* webhook ("When a Teams webhook request is
  received"), the documented replacement for the retired Office 365 connectors, which
  takes Adaptive Cards only: ``{"type": "message", "attachments": [{"contentType":
  "application/vnd.microsoft.card.adaptive", "content": {AdaptiveCard 1.4}}]}``. Text is
  HTML-escaped and its Markdown marks backslash-escaped (``\\ * _ ` ~ [ ]``, and ``(`` after
  ``]``), so ``[click](https://x)`` is no link, even where a client ignores the escapes.
* ``generic`` — ``{"drill": true, "drill_id", "audience", "author", "role", "text", "sent_at",
  "action_seq"}`` as JSON (JSON encoding is its escaping: the receiver escapes for its page).

In every payload, control and formatting characters of the text, the author and the role
(NUL, escape sequences, bidi overrides) are shown as ``<U+XXXX>``
(:func:`gameday.model.textsafe.neutralise`).

Deliveries never block the drill: each channel has its own worker thread (updates reach
a channel in the order they were posted; a hanging channel does not delay the others),
each attempt has a short timeout, and a timeout, a refused connection, 429 or 5xx is
retried a couple of times. Each delivery is journaled as ``NotificationSent`` or
``NotificationFailed`` through the callback given (``journal.append``, called with the
payload and the source); journaled data names the channel (its kind and name), never its
URL: webhook URLs are secrets.
"""

from __future__ import annotations

import contextlib
import html
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from gameday.model.events import ActionRecorded, Event, NotificationFailed, NotificationSent, Payload
from gameday.model.notify import NotifyChannel
from gameday.model.terms import Audience
from gameday.model.textsafe import neutralise

if TYPE_CHECKING:
    from gameday.drill.context import DrillContext

DRILL_PREFIX = "[DRILL] "
SOURCE = "notifier"
#: Actions whose text is delivered, and the audience an action implies when it names none.
NOTIFY_ACTIONS: dict[str, Audience | None] = {"post_update": None, "notify_executives": "executive"}
MAX_TEXT = 2900  # Slack section blocks take 3000 characters
BACKOFF = (0.25, 1.0, 2.0, 4.0, 4.0)
MAX_RETRY_AFTER = 5.0

#: journal(payload, source) -> anything (``JournalWriter.append``)
JournalAppend = Callable[[Payload, str], object]


# ------------------------------------------------------------------ text and payloads
def drill_text(text: str) -> str:
    """``text`` marked as a drill: ``'[DRILL] '`` in front unless it already starts so."""
    body = str(text or "").strip()
    return body if body.startswith("[DRILL]") else DRILL_PREFIX + body


def slack_escape(text: str) -> str:
    """Slack's documented escaping: ``&`` ``<`` ``>`` as HTML entities (after control and formatting
    characters are shown as ``<U+XXXX>``)."""
    return neutralise(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_TEAMS_MARKDOWN = str.maketrans({c: "\\" + c for c in "\\*_`~[]"})


def teams_escape(text: str) -> str:
    """Text for a Teams card's TextBlock: control and formatting characters shown as ``<U+XXXX>``,
    Markdown marks backslash-escaped (and ``](`` broken up, so no link forms whether or not a
    client honours the escapes), then HTML-escaped (``&`` ``<`` ``>``; quotes are harmless)."""
    marked = neutralise(text).translate(_TEAMS_MARKDOWN).replace("\\](", "\\]\\(")
    return html.escape(marked, quote=False)


def _clip(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class Update:
    """One posted update, as delivered: raw (unescaped, untrusted) text and who posted it."""

    text: str
    audience: Audience
    author: str | None = None
    role: str | None = None
    drill_id: str | None = None
    sent_at: str | None = None  # the wall time it was posted (UTC ISO)
    action_seq: int | None = None
    action: str = "post_update"

    @classmethod
    def from_event(cls, event: Event[Payload], drill_id: str | None = None) -> Update | None:
        """The update an ``ActionRecorded`` event carries, or None (another action, or no text)."""
        data = event.data
        if not isinstance(data, ActionRecorded) or data.action not in NOTIFY_ACTIONS:
            return None
        audience = NOTIFY_ACTIONS[data.action] or data.audience or "internal"
        text = data.text
        if text is None or not text.strip():
            return None
        return cls(text=text, audience=audience, author=_opt(data.author or event.source), role=_opt(data.role),
                   drill_id=drill_id, sent_at=event.wall, action_seq=event.seq, action=data.action)  # fmt: skip

    def byline(self) -> str:
        """``'internal update by alice (comms-lead) · drill d1'`` (raw)."""
        who = f" by {self.author}" + (f" ({self.role})" if self.role else "") if self.author else ""
        kind = "executive notification" if self.action == "notify_executives" else f"{self.audience} update"
        return f"{kind}{who}" + (f" · drill {self.drill_id}" if self.drill_id else "")


def _opt(value: Any) -> str | None:
    return None if value in (None, "") else " ".join(str(value).split())[:200]


def slack_payload(update: Update, *, blocks: bool = False) -> dict[str, Any]:
    """Slack incoming-webhook body: ``{"text"}`` (+ ``blocks``), escaped, marked as a drill."""
    text = slack_escape(drill_text(_clip(update.text)))
    byline = slack_escape(update.byline())
    payload: dict[str, Any] = {"text": f"{text}\n{byline}"}
    if blocks:
        payload["blocks"] = [
            {"type": "section", "text": {"type": "mrkdwn", "text": _clip(text, 3000)}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": _clip(byline, 3000)}]},
        ]
    return payload


def teams_payload(update: Update) -> dict[str, Any]:
    """Teams Workflows webhook body: a message with one Adaptive Card, escaped, marked as a drill."""
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {"type": "TextBlock", "text": _teams_drill_text(update.text), "wrap": True},
            {"type": "TextBlock", "text": teams_escape(update.byline()), "wrap": True, "isSubtle": True, "size": "Small"},
        ],
    }
    return {"type": "message",
            "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}]}


def _teams_drill_text(text: str) -> str:
    """The update marked as a drill, escaped for Teams: the ``[DRILL]`` marker itself is left as written."""
    marker = DRILL_PREFIX.strip()
    body = drill_text(_clip(text))  # starts with the marker
    return marker + teams_escape(body[len(marker):])


def generic_payload(update: Update) -> dict[str, Any]:
    """Generic JSON body (text unescaped inside JSON; the receiver escapes for its own output)."""
    return {"drill": True, "drill_id": update.drill_id, "audience": update.audience,
            "author": None if update.author is None else neutralise(update.author),
            "role": None if update.role is None else neutralise(update.role),
            "text": drill_text(neutralise(update.text)), "sent_at": update.sent_at,
            "action_seq": update.action_seq}  # fmt: skip


def build_payload(channel: NotifyChannel, update: Update) -> dict[str, Any]:
    match channel.kind:
        case "slack":
            return slack_payload(update, blocks=channel.blocks)
        case "teams":
            return teams_payload(update)
        case _:
            return generic_payload(update)


# ------------------------------------------------------------------ secrets
def scrub(text: str, url: str | None) -> str:
    """``text`` without the secret parts of ``url`` (the URL, its path, query and long path segments)."""
    if not url:
        return text
    parts = urlsplit(url)
    secrets = {url, url.rstrip("/"), parts.path, parts.query, f"{parts.path}?{parts.query}"}
    secrets.update(seg for seg in parts.path.split("/"))
    secrets.update(v for _, v in parse_qsl(parts.query))
    for secret in sorted((s for s in secrets if s and len(s) >= 6), key=len, reverse=True):
        text = text.replace(secret, "[redacted]")
    return text


def _one_line(text: str, limit: int = 160) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


# ------------------------------------------------------------------ the notifier
@dataclass
class _Channel:
    config: NotifyChannel
    url: str | None
    missing: str | None  # why there is no URL
    executor: ThreadPoolExecutor
    pending: int = 0
    client: Any = None


class Notifier:
    """Delivers updates to channels in the background and journals each outcome.

    ``journal`` is called as ``journal(payload, "notifier")`` with a ``NotificationSent`` or
    ``NotificationFailed`` payload. ``env`` resolves
    ``url_env`` (default ``os.environ``, read once, here). ``transport`` is an optional
    httpx transport (tests). :meth:`notify` returns at once.
    """

    def __init__(self, channels: Iterable[NotifyChannel], journal: JournalAppend, *, mode: str | None = None,
                 env: Mapping[str, str] | None = None, transport: Any = None, max_pending: int = 100,
                 backoff: tuple[float, ...] = BACKOFF):  # fmt: skip
        env = os.environ if env is None else env
        self.journal, self.mode, self.transport = journal, mode, transport
        self.max_pending, self.backoff = max_pending, backoff
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._futures: list[tuple[Future, _Channel, Update]] = []
        self.channels: list[_Channel] = []
        for i, cfg in enumerate(channels):
            url, missing = cfg.url, None
            if cfg.url_env is not None:
                url = (env.get(cfg.url_env) or "").strip() or None
                missing = None if url else f"environment variable {cfg.url_env} is not set"
            executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"notify-{i}")
            self.channels.append(_Channel(cfg, url, missing, executor))

    def problems(self) -> list[str]:
        """Channels that cannot deliver (e.g. their environment variable is unset), one line each."""
        return [f"{c.config.kind} channel {c.config.name}: {c.missing}" for c in self.channels if c.missing]

    def notify(self, update: Update) -> list[Future]:
        """Queue ``update`` for every channel that wants its audience (in this mode). Never blocks."""
        futures, full = [], []
        with self._lock:
            self._futures = [item for item in self._futures if not item[0].done()]
            for ch in self.channels:
                if self._stop.is_set() or not ch.config.wants(update.audience, self.mode):
                    continue
                if ch.pending >= self.max_pending:
                    full.append((ch, ch.pending))
                    continue
                try:
                    future = ch.executor.submit(self._deliver, ch, update)
                except RuntimeError:  # shut down meanwhile
                    continue
                ch.pending += 1
                self._futures.append((future, ch, update))
                futures.append(future)
        for ch, queued in full:
            self._journal_failed(ch, update, f"not delivered: {queued} deliveries already queued", attempts=0)
        return futures

    def close(self, timeout: float = 10.0) -> None:
        """Let queued deliveries finish (up to ``timeout`` seconds), then cancel the rest (journaled)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            items = list(self._futures)
        for future, _, _ in items:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:  # noqa: SIM105
                future.result(timeout=left)
            except Exception:  # noqa: BLE001, S110
                pass
        self._stop.set()  # no more retries or backoff waits
        for future, ch, update in items:
            if future.cancel():
                with self._lock:
                    ch.pending -= 1
                self._journal_failed(ch, update, "not delivered: the drill ended first", attempts=0)
        for ch in self.channels:
            ch.executor.shutdown(wait=False, cancel_futures=True)
            with self._lock:
                idle = ch.pending <= 0
            if idle and ch.client is not None:
                ch.client.close()
                ch.client = None

    # -------------------------------------------------------------- worker side
    def _deliver(self, ch: _Channel, update: Update) -> bool:
        try:
            return self._attempts(ch, update)
        except Exception as exc:  # a bug here must never reach the drill  # noqa: BLE001
            self._journal_failed(ch, update, scrub(f"{type(exc).__name__}: {exc}", ch.url), attempts=0)
            return False
        finally:
            with self._lock:
                ch.pending -= 1

    def _attempts(self, ch: _Channel, update: Update) -> bool:
        if ch.url is None:
            self._journal_failed(ch, update, ch.missing or "no URL", attempts=0)
            return False
        import httpx

        if ch.client is None:
            ch.client = httpx.Client(timeout=httpx.Timeout(ch.config.timeout), transport=self.transport,
                                     follow_redirects=False, headers={"User-Agent": "gameday-notifier"})  # fmt: skip
        payload = build_payload(ch.config, update)
        error, status, attempts = "not attempted", None, 0
        started = time.monotonic()
        for attempt in range(1 + ch.config.retries):
            attempts += 1
            retry_after = None
            try:
                response = ch.client.post(ch.url, json=payload)
            except httpx.TimeoutException as exc:
                error, retry = f"timed out after {ch.config.timeout:g}s ({type(exc).__name__})", True
            except httpx.TransportError as exc:
                error, retry = f"{type(exc).__name__}: {_one_line(str(exc)) or 'connection failed'}", True
            else:
                status = response.status_code
                if 200 <= status < 300:
                    self._journal(NotificationSent(channel=ch.config.kind, name=ch.config.name,
                                                   action_seq=update.action_seq, audience=update.audience, status=status,
                                                   attempts=attempts, elapsed_s=round(time.monotonic() - started, 3)))
                    return True
                body = _one_line(response.text, 120) if response.text else ""
                error = f"HTTP {status}" + (f": {body}" if body else "")
                retry = status == 429 or status >= 500
                retry_after = _retry_after(response.headers.get("retry-after"))
            if not retry or attempt == ch.config.retries or self._stop.is_set():
                break
            delay = retry_after if retry_after is not None else self.backoff[min(attempt, len(self.backoff) - 1)]
            if self._stop.wait(delay):
                break
        self._journal_failed(ch, update, scrub(error, ch.url), attempts=attempts, status=status,
                             elapsed_s=round(time.monotonic() - started, 3))  # fmt: skip
        return False

    def _journal_failed(self, ch: _Channel, update: Update, error: str, *, attempts: int | None = None,
                        status: int | None = None, elapsed_s: float | None = None) -> None:
        self._journal(NotificationFailed(channel=ch.config.kind, name=ch.config.name, action_seq=update.action_seq,
                                         audience=update.audience, error=scrub(error, ch.url), status=status,
                                         attempts=attempts, elapsed_s=elapsed_s))

    def _journal(self, payload: NotificationSent | NotificationFailed) -> None:
        try:  # noqa: SIM105
            self.journal(payload, SOURCE)
        except Exception:  # noqa: BLE001, S110
            pass


def _retry_after(value: str | None) -> float | None:
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    return None if seconds is None or seconds < 0 else min(seconds, MAX_RETRY_AFTER)


# ------------------------------------------------------------------ the drill service
class NotifyService:
    """Subscribes to the journal and delivers every posted update (a drill service)."""

    def __init__(self, notifier: Notifier, journal: Any, drill_id: str | None, *, echo: Callable[[str], Any] | None = None,
                 close_timeout: float = 5.0):  # fmt: skip
        self.notifier, self.journal, self.drill_id = notifier, journal, drill_id
        self.echo, self.close_timeout = echo, close_timeout

    def start(self) -> None:
        for problem in self.notifier.problems():
            if self.echo:
                self.echo(f"notify: {problem}; its deliveries will be journaled as failed")
        self.journal.listeners.append(self.on_event)

    def on_event(self, event: Event[Payload]) -> None:
        """Journal listener: queue the update an event carries (returns at once)."""
        update = Update.from_event(event, self.drill_id)
        if update is not None:
            self.notifier.notify(update)

    def stop(self) -> None:
        with contextlib.suppress(ValueError):
            self.journal.listeners.remove(self.on_event)
        self.notifier.close(self.close_timeout)





def service_for(ctx: DrillContext) -> NotifyService | None:
    """The drill service delivering updates to the configured channels (None without channels, or ``notify=False``)."""
    if ctx.options.notify is False:
        return None
    channels = [c for c in ctx.project.config.notify
                if c.modes is None or ctx.mode in c.modes]  # fmt: skip
    if not channels:
        return None
    notifier = Notifier(channels, ctx.journal.append, mode=ctx.mode)
    return NotifyService(notifier, ctx.journal, ctx.drill_id, echo=ctx.echo)
