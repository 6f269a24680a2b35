"""The terminal view of a running drill.

On a TTY: a rich live panel with the phase, the timeline as it grows and a countdown to
each open deadline. Otherwise (CI logs): one plain line per journal event, printed by a
thread of its own (a journal listener must return at once: a slow or full stdout pipe never
holds up the drill's journal), all of them flushed when the view closes.

Text in the view (notes, updates, names, alert names) is outside text: every row is a rich
``Text`` (never parsed as markup, so ``[/]`` or ``[link=...]`` show as written) with its
control and formatting characters shown as ``<U+XXXX>`` (:mod:`gameday.model.textsafe`).
The view never stops a drill or its reports: the panel is rendered by this module's own
thread, and if building or drawing it fails (at start, while running, or at the end) the
panel is closed, one line says so, and the view goes on as plain lines.
"""

from __future__ import annotations

import contextlib
import queue
import sys
import threading
from collections.abc import Callable
from typing import Any

from gameday.journal import JournalWriter, events_of
from gameday.model.events import ActivityRan, Event, Payload, PhaseChanged
from gameday.model.scenario import Scenario
from gameday.model.textsafe import for_rich, for_terminal

PRINT_DRAIN = 5.0  # seconds the view waits, when it closes, for its lines still to be printed


def quiet(event: Event[Payload]) -> bool:
    """Kinds the view does not show line by line: many a second (``Payload.QUIET``), or each activity a fault ran."""
    # TODO(events): ActivityRan is not marked QUIET in gameday.model.events; the view has always hidden it
    return event.data.QUIET or isinstance(event.data, ActivityRan)


def describe(event: Event[Payload]) -> str:
    """One short line for an event (the postmortem's timeline has the full wording); raw, unescaped."""
    from gameday.analysis.timeline import describe_event

    return describe_event(event)


def line(event: Event[Payload]) -> str:
    """The plain line printed for an event (CI logs): offset, kind, description, neutralised for a terminal."""
    return f"[{event.t:8.3f}s] {event.kind:<20} {for_terminal(describe(event), single_line=True)}"


class LiveView:
    """Context manager: attach to the journal, show the drill, detach on exit.

    ``console`` is the rich console the panel draws on (default: rich's, on stdout); ``tty``
    forces the panel (True) or plain lines (False) instead of asking the console or stdout.
    """

    def __init__(self, scenario: Scenario, journal: JournalWriter, *, echo: Callable[[str], None] = print,
                 tty: bool | None = None, console: Any = None):
        self.scenario, self.journal, self.echo, self.console = scenario, journal, echo, console
        if tty is None:
            tty = bool(console.is_terminal) if console is not None else sys.stdout.isatty()
        self.tty = tty
        self.failure: str | None = None  # why the panel was given up, if it was
        self._live: Any = None  # a rich Live while the panel is up
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._lines: queue.SimpleQueue[Event[Payload] | None] = queue.SimpleQueue()
        self._printer: threading.Thread | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> LiveView:
        if self.tty:
            try:
                self._start_panel()
            except Exception as exc:  # a view problem never stops a drill  # noqa: BLE001
                self._give_up(exc)
        if self._live is None:
            self._start_printer()
        self.journal.listeners.append(self._on_event)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._on_event in self.journal.listeners:
            self.journal.listeners.remove(self._on_event)
        self._stop.set()
        if self._thread is not None:
            self._thread.join(PRINT_DRAIN)
        live = self._live
        if live is not None:
            try:
                live.update(self._render(), refresh=False)
                live.stop()  # draws the last state
            except Exception as exc:  # noqa: BLE001 - the drill is over: its reports must still be written
                self._give_up(exc)
        if self._printer is not None:
            self._lines.put(None)
            self._printer.join(PRINT_DRAIN)

    # -------------------------------------------------------------- the panel (TTY)
    def _start_panel(self) -> None:
        from rich.live import Live

        # no auto refresh: this module's thread draws, so a failure is caught here, not lost in rich's thread
        self._live = Live(self._render(), console=self.console, auto_refresh=False, transient=False)
        self._live.start(refresh=True)
        self._thread = threading.Thread(target=self._refresh, name="live-view-panel", daemon=True)
        self._thread.start()

    def _refresh(self) -> None:
        while not self._stop.wait(0.25):
            live = self._live
            if live is None:
                return
            try:
                live.update(self._render(), refresh=True)
            except Exception as exc:  # noqa: BLE001 - a view problem never stops a drill
                self._give_up(exc)
                return

    def _give_up(self, exc: BaseException) -> None:
        """The panel failed: close it, say so in one line, and go on as plain lines (unless ending)."""
        with self._lock:
            if self.failure is not None:
                return
            self.failure = f"{type(exc).__name__}: {exc}"
            live, self._live = self._live, None
        if live is not None:
            from rich.text import Text

            with contextlib.suppress(Exception):
                live.update(Text(""), refresh=False)  # stop() draws once more: never the broken panel
            with contextlib.suppress(Exception):
                live.stop()
        with contextlib.suppress(Exception):
            self.echo(for_terminal(f"gameday: the live view failed ({self.failure}); it is off — the drill and its "
                                   "reports go on", single_line=True))
        if not self._stop.is_set():
            self._start_printer()

    # -------------------------------------------------------------- plain lines (CI logs, or after a failure)
    def _start_printer(self) -> None:
        with self._lock:
            if self._printer is not None:
                return
            self._printer = threading.Thread(target=self._print_lines, name="live-view", daemon=True)
        self._printer.start()

    def _on_event(self, event: Event[Payload]) -> None:
        if self._printer is not None and not quiet(event):
            self._lines.put(event)

    def _print_lines(self) -> None:
        while (event := self._lines.get()) is not None:
            try:  # noqa: SIM105
                self.echo(line(event))
            except Exception:  # a view problem never stops a drill  # noqa: BLE001, S110
                pass

    def _render(self) -> Any:
        from rich.panel import Panel
        from rich.table import Table
        from rich.text import Text

        events = list(self.journal.events)
        phase = next((e.data.phase for e in reversed(events_of(events, PhaseChanged))), "starting")
        now = self.journal.offset()
        table = Table.grid(padding=(0, 1))
        table.add_column(justify="right", style="dim")
        table.add_column(style="bold")
        table.add_column()
        for e in [e for e in events if not quiet(e)][-14:]:
            table.add_row(Text(f"{e.t:7.1f}s"), Text(e.kind), Text(for_terminal(describe(e), single_line=True)))
        dl = Table.grid(padding=(0, 1))
        for label, remaining in self._deadlines(events, now):
            style = "red" if remaining < 0 else ("yellow" if remaining < 5 else "green")
            dl.add_row(Text(for_terminal(label, single_line=True)), Text(f"{remaining:+.1f}s", style=style))
        grid = Table.grid()
        grid.add_row(table)
        grid.add_row(Panel(dl, title="open deadlines", border_style="dim"))
        title = f"gameday · {for_rich(self.scenario.id, single_line=True)} · phase [b]{for_rich(phase)}[/b] · t={now:.1f}s"
        return Panel(grid, title=title)

    def _deadlines(self, events: list[Event[Payload]], now: float) -> list[tuple[str, float]]:
        from gameday.analysis.matching import evaluate_steps, first_detection, first_injection, first_recovery

        out: list[tuple[str, float]] = []
        if not events:
            return out
        sc = self.scenario
        inj = first_injection(events)
        if inj is not None:  # open until met as the scorecard counts them
            if first_detection(events, inj, sc.detection.people_count) is None:
                out.append(("detection", inj.t + sc.detection.within - now))
            if first_recovery(events, inj) is None:
                out.append(("recovery", inj.t + sc.recovery.within - now))
        for res in evaluate_steps(sc, events, now_t=now):
            if res.done_t is None and res.deadline_t is not None:
                out.append((f"step {res.id}", res.deadline_t - now))
        return out
