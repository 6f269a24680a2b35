"""Running a CI suite: ``gameday run DIR [PATH...] --mode ci``.

Every scenario is loaded and judged first (:func:`~gameday.suite.plan.plan_suite`): the invalid ones
are printed with their located problems, the skipped ones with the reason, and the others run one
after another in this process, each drill played exactly as a single ``gameday run`` plays it
(:func:`~gameday.drill.assemble.play_loaded`), writing the same files where a ``gameday run`` without
``--out`` writes them: journal and reports in ``reports/DRILL_ID/``, scorecard in ``scorecards/`` (the
program's history).

One target start-up: when a scenario drills the embedded demo and none runs, the suite starts it once
(as ``gameday demo up`` would) and stops it at its end; every drill attaches to it and resets it, as
it does to a demo the user started (which the suite leaves running). A target of the user's own is
never started by gameday: every drill probes it as it is. Services of a drill (load, Prometheus)
start and stop with each drill. Once a drill is quiet (observing, its faults injected: :data:`QUIET_PHASES`),
the Chaos Toolkit helper processes of the next one start (each imports chaoslib, ~0.3 s) and the previous
drill's helper processes end; the previous drill's reports are written by the suite's report process
(:mod:`gameday.suite.report_worker`, queued by :mod:`gameday.suite.pipeline`) then too, or at the latest
:data:`REPORT_GRACE` (0.5 s) after that drill ended. So a drill's set-up and injections do not share the CPUs
with them, and the output stays drill by drill.

One JUnit file, ``reports/suites/<UTC time>/junit.xml`` (``--out DIR``: ``DIR/junit.xml``), with one
``<testsuite>`` per scenario in the order they ran: a drill's own (as its ``junit.xml``), or one
``drill`` case that is an ``error`` (invalid; failed to start) or ``skipped`` (another mode's; not
started). One exit code, the worst (:func:`~gameday.suite.plan.suite_exit_code`): 3 an aborted drill,
an infrastructure failure or a signal; 2 an invalid scenario; 1 expectations not met; 0 all passed.
A folder with nothing to run in ci mode is refused (exit 2) before anything starts.

SIGINT or SIGTERM (:mod:`gameday.suite.signals`): the drill playing is aborted and rolled back and
its reports written; the drills after it are not started (``skipped`` in the JUnit file, which is
still written); the demo the suite started is stopped; exit 3. So is a fault ledger that holds an
open fault (a rollback failed): no further drill may start until ``gameday recover``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from gameday.clock import Clock
from gameday.drill.assemble import Effects, Factories
from gameday.drill.context import DrillOptions, Echo, say
from gameday.drill.targets import TargetInfo
from gameday.errors import EXIT_ABORTED, EXIT_INVALID_INPUT, ConfigError, GamedayError, LedgerBusyError
from gameday.journal import JournalWriter
from gameday.loader import LoadedScenario
from gameday.model.events import PhaseChanged
from gameday.model.scenario import Scenario, Target
from gameday.project import Project
from gameday.suite.plan import SuiteEntry, SuitePlan, plan_suite, suite_exit_code
from gameday.suite.signals import SuiteSignals

if TYPE_CHECKING:
    from gameday.suite.pipeline import ReportQueue
    from gameday.suite.report_worker import ReportWriter

#: The phase in which a drill is quiet: every fault injected, observing (the next drill's helper processes start,
#: the last drill's are ended); a drill that never gets there is quiet once it is over.
QUIET_PHASES = ("observe",)
#: The longest a drill's reports wait for the next drill to be quiet (s): its set-up and injection are spared
#: the reports' CPU, yet a long baseline does not hold back the reports (and the next drill's lines, printed
#: after them), nor leave them unwritten should the suite be killed meanwhile.
REPORT_GRACE = 0.5
#: How each exit code of a drill is told in the suite's summary.
OUTCOMES = {0: "passed", 1: "not met", 2: "invalid", 3: "aborted"}


@dataclass(frozen=True)
class DrillRun:
    """What one scenario of the suite came to: its exit code (None: not run) and its JUnit document."""

    entry: SuiteEntry
    code: int | None
    outcome: str  # passed | not met | aborted | invalid | skipped | not started | error
    junit: str
    drill_id: str | None = None


def check_suite_options(options: DrillOptions) -> None:
    """:class:`~gameday.errors.ConfigError` (exit 2) for what a suite cannot take: another mode than ci,
    and the flags that name one drill (each scenario of a suite uses its own ``responders:``)."""
    if options.mode != "ci":
        raise ConfigError(f"a folder or several scenarios run as a CI suite: add --mode ci (not {options.mode}); "
                          "run other modes one scenario at a time")
    given = [flag for flag, value in (("--responders", options.responders), ("--drill-id", options.drill_id),
                                      ("--pace", options.pace), ("--trainee", options.trainee),
                                      ("--seed", options.seed)) if value is not None]
    given += ["--live"] if options.live else []
    if given:
        raise ConfigError(f"{', '.join(given)}: for one drill, not a suite (each scenario of a suite uses its own "
                          "'responders:' file and gets its own drill id)")


def suite_folder(project: Project, out: Path | None, now: datetime | None = None) -> Path:
    """Where the suite's JUnit file goes: ``out``, else ``reports/suites/<UTC time>/`` of the project (a folder
    no drill's can be: a drill's is ``reports/DRILL_ID/``)."""
    if out is not None:
        return out
    return project.root / "reports" / "suites" / f"{(now or datetime.now(UTC)):%Y%m%dT%H%M%SZ}"


def run_suite(paths: Sequence[Path], options: DrillOptions, *, project: Project | None = None, echo: Echo = say,
              warn: Callable[[str], None] | None = None) -> int:
    """``gameday run DIR --mode ci``: plan, run and report the suite (module docstring); its exit code.
    Runs in the main thread (it handles signals). ``warn`` gets each problem of an invalid scenario."""
    from gameday.loader import load_project

    check_suite_options(options)
    proj = project or load_project(Path.cwd())
    plan = plan_suite(paths)
    if not plan.entries:
        raise ConfigError(f"{', '.join(str(p) for p in paths)}: no scenario files (*.yaml, *.yml) to run")
    _announce(plan, paths, echo, warn or echo)
    if not plan.runnable:
        raise ConfigError(f"{', '.join(str(p) for p in paths)}: no scenario to run in ci mode "
                          f"({plan.count('skipped')} skipped, {plan.count('invalid')} invalid)")
    folder = suite_folder(proj, options.out)
    _writable(folder)
    with SuiteSignals() as signals:
        hosts = _Hosts()
        try:
            runs = _run_all(plan, proj, options, signals, hosts, echo)
        finally:
            hosts.join()
        return _finish(plan, runs, folder / "junit.xml", signals.stopped(), echo)


def _announce(plan: SuitePlan, paths: Sequence[Path], echo: Echo, warn: Callable[[str], None]) -> None:
    shown = ", ".join(str(p) for p in paths)
    echo(f"suite: {len(plan.runnable)} scenario(s) to run in ci mode from {shown}; {plan.count('skipped')} skipped, "
         f"{plan.count('invalid')} invalid")
    for note in plan.notes:
        echo(f"note: {note}")
    for entry in plan.entries:
        if entry.status == "skipped":
            echo(f"skipped {entry.file}: {entry.reason}")
        elif entry.status == "invalid":
            for problem in entry.problems:
                warn(str(problem))


def _writable(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"{folder}: cannot create the suite's folder: {exc.strerror or exc}") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError(f"{folder}: cannot write the suite's JUnit file there (permission denied)")


def _run_all(plan: SuitePlan, proj: Project, options: DrillOptions, signals: SuiteSignals, hosts: _Hosts,
             echo: Echo) -> dict[int, DrillRun]:
    """Play every runnable entry in order, until the end, a signal, or a fault ledger that is not clear.
    Each drill's reports are written while the next one is set up and plays (:mod:`gameday.suite.pipeline`);
    every one is written before this returns."""
    from gameday.suite.pipeline import OrderedOutput, ReportQueue
    from gameday.suite.report_worker import ReportWriter

    runs: dict[int, DrillRun] = {}
    todo = [(i, e) for i, e in enumerate(plan.entries) if e.status == "run"]
    output, reports = OrderedOutput(echo), ReportQueue()
    with ExitStack() as stack:
        try:
            _clear_ledger(proj)
            stack.enter_context(_shared_demo([e for _, e in todo], proj.state_path, echo))
        except GamedayError as exc:
            for i, entry in todo:
                runs[i] = _not_run(entry, "error", "not started", f"not started: {exc}", type(exc).__name__, code=exc.exit_code)
            return runs
        writer = ReportWriter(proj.templates_dir)
        writer.start()  # its imports happen while the first drill plays
        stack.callback(writer.close)
        stack.callback(reports.join)  # every report written (before the writer ends and the demo the suite started stops)
        first = todo[0][1].loaded if todo else None
        if first is not None:
            _prestart(first.scenario)
        shared = _Shared(proj, options, hosts, reports, writer)
        stop: str | None = None
        quiet = threading.Event()  # set once the drill about to play is quiet (observing; or over)
        try:
            for n, (i, entry) in enumerate(todo):
                say, close = output.slot()
                after = threading.Event()  # the next drill's quiet: this one's reports and helper processes wait for it

                def record(run: DrillRun, i: int = i, close: Callable[[], None] = close) -> None:
                    runs[i] = run
                    close()

                try:
                    stop = stop or _signalled(signals.stopped())
                    if stop is not None:
                        record(_not_run(entry, "skipped", "not started", f"not started: {stop}"))
                        continue
                    say(f"suite [{n + 1}/{len(todo)}]: {entry.file}")
                    following = todo[n + 1][1].loaded if n + 1 < len(todo) else None
                    stop = _play(entry, following, shared, say, record, quiet, after)
                finally:
                    quiet.set()
                    quiet = after
        finally:
            quiet.set()  # the last gate: nothing queued waits on it for ever, whatever ended the loop
    return runs


def _signalled(name: str | None) -> str | None:
    return f"the suite was interrupted ({name})" if name else None


def _clear_ledger(proj: Project) -> None:
    """No drill may start while the fault ledger holds an open fault (refused before the demo starts)."""
    from gameday.drill.ledger import FaultLedger

    FaultLedger(proj.state_path).ensure_clear()


@contextmanager
def _shared_demo(entries: list[SuiteEntry], state: Path, echo: Echo) -> Iterator[None]:
    """The demo, started once for the suite when a scenario drills it and none runs; stopped at the end."""
    if not any(e.loaded is not None and e.loaded.scenario.on_demo() for e in entries):
        yield
        return
    demos = [t for e in entries if e.loaded is not None and isinstance(t := e.loaded.scenario.target, Target)
             and t.demo is not None]  # drills of the demo's containers or namespaces: the suite's demo runs so
    if len({t.demo for t in demos}) > 1:
        raise ConfigError("a suite drills one demo, and its scenarios want it both in containers (demo: docker) and with "
                          "namespaces (demo: netns): run them in two suites")
    from gameday.demo.control import DockerSettings, attach_demo, start_demo

    if attach_demo(state) is not None:
        echo("suite: the demo already running is used; every drill resets it")
        yield
        return
    boxes = demos[0] if demos else None
    handle = start_demo(state, docker=DockerSettings(boxes.docker_host) if boxes is not None and boxes.demo == "docker"
                        else None, netns=boxes is not None and boxes.demo == "netns")
    echo(f"suite: demo started for the suite at {handle.url}; every drill resets it, and it stops with the suite")
    try:
        yield
    finally:
        handle.stop()


def _prestart(sc: Scenario) -> None:
    from gameday.drill.injectors import prestart_activity_hosts

    prestart_activity_hosts(sc)


class _Hosts:
    """The Chaos Toolkit helper processes of the suite's drills. The next drill's are started once this one
    is quiet (observing, after its injections; or over), and a drill's are ended once the next one is: the
    set-up of a drill and its injections never share the CPUs with them (threads wait for the moment)."""

    def __init__(self) -> None:
        self._parts: list[object] = []
        self._threads: list[threading.Thread] = []

    def factories(self, following: Scenario | None, quiet: threading.Event) -> Factories:
        """The drill's factories: its effects' parts are noted (to end them after it), its journal sets ``quiet``
        when the drill observes, and the ``following`` drill's helper processes start then."""
        default = Factories()

        def effects(loaded: LoadedScenario, target: TargetInfo, clock: Clock, log_dir: Path) -> Effects:
            made = default.effects(loaded, target, clock, log_dir)
            self._parts.extend([*made[0].values(), *made[1].values()])
            if following is not None:
                self._start(quiet, _prestart, following)
            return made

        def journal(path: Path, clock: Clock) -> JournalWriter:
            made = default.journal(path, clock)
            made.listeners.append(lambda event: quiet.set() if isinstance(event.data, PhaseChanged)
                                  and event.data.phase in QUIET_PHASES else None)
            return made

        return replace(default, effects=effects, journal=journal)

    def end_drill(self, after: threading.Event) -> None:
        """End the drill's helper processes once ``after`` is set."""
        parts, self._parts = self._parts, []
        closers = [close for part in parts if callable(close := getattr(part, "close", None))]
        if closers:
            self._start(after, lambda: [close() for close in closers])

    def _start(self, after: threading.Event, fn: Callable[..., object], *args: object) -> None:
        def run() -> None:
            after.wait()
            fn(*args)

        thread = threading.Thread(target=run, name="suite-hosts", daemon=True)
        thread.start()
        self._threads.append(thread)

    def join(self) -> None:
        for thread in self._threads:
            thread.join(10)


@dataclass(frozen=True)
class _Shared:
    """What the drills of a suite share."""

    proj: Project
    options: DrillOptions
    hosts: _Hosts
    reports: ReportQueue
    writer: ReportWriter


def _play(entry: SuiteEntry, following: LoadedScenario | None, shared: _Shared, echo: Echo,
          record: Callable[[DrillRun], None], quiet: threading.Event, after: threading.Event) -> str | None:
    """One drill of the suite, played as ``gameday run`` plays it; why the suite must stop after it (or None).
    It sets ``quiet`` once it observes. Its reports are written by the suite's report process once ``after``
    is set (the next drill is quiet, or there is none), or :data:`REPORT_GRACE` after they were queued; its
    :class:`DrillRun` goes to ``record`` then."""
    from gameday.clock import SystemClock
    from gameday.drill.assemble import drill_id_for, play_unreported
    from gameday.drill.play import SetupSignals
    from gameday.drill.reports import Outputs

    proj, hosts = shared.proj, shared.hosts
    loaded = entry.loaded
    assert loaded is not None
    drill_id = drill_id_for(loaded.scenario, SystemClock(), None)
    opts = replace(shared.options, drill_id=drill_id, out=None, responders=None)
    try:
        with SetupSignals():
            factories = hosts.factories(following.scenario if following else None, quiet)
            played = play_unreported(proj, loaded, opts, factories=factories, echo=echo)
    except KeyboardInterrupt as exc:
        name = str(exc) or "SIGINT"
        message = f"interrupted ({name}) while it was being set up: nothing was injected"
        echo(f"drill {drill_id}: {message}")
        record(_not_run(entry, "error", "aborted", message, "interrupted", drill_id))
        return _signalled(name)
    except LedgerBusyError as exc:
        echo(f"drill {drill_id}: not started: {exc}")
        record(_not_run(entry, "error", "not started", f"not started: {exc}", "LedgerBusyError", drill_id))
        return "the fault ledger holds an open fault (run 'gameday recover')"
    except GamedayError as exc:  # its set-up failed (a single run would exit with the same line and code)
        echo(f"drill {drill_id}: {exc}")
        record(_not_run(entry, "error", "error", str(exc), type(exc).__name__, drill_id, exc.exit_code))
        return None
    except Exception as exc:  # noqa: BLE001 - a bug in one drill must not lose the others or the suite's report
        message = f"internal error: {type(exc).__name__}: {exc}"
        echo(f"drill {drill_id}: {message}")
        record(_not_run(entry, "error", "error", message, "internal", drill_id))
        return None
    finally:
        hosts.end_drill(after)
    junit = Outputs.for_drill(proj.root, drill_id, None).junit

    def report() -> None:
        run = _not_run(entry, "error", "aborted", "its reports were not written", "report", drill_id)
        try:
            run = _reported(entry, shared.writer.write(played, echo), junit, drill_id)
        except GamedayError as exc:
            echo(f"drill {drill_id}: {exc}")
            kind = getattr(exc, "type_name", type(exc).__name__)  # ReportFailed: the helper process's error
            run = _not_run(entry, "error", "error", str(exc), kind, drill_id, exc.exit_code)
        except Exception as exc:  # noqa: BLE001 - as above: the other drills' reports and the suite's still come
            message = f"internal error: {type(exc).__name__}: {exc}"
            echo(f"drill {drill_id}: {message}")
            run = _not_run(entry, "error", "error", message, "internal", drill_id)
        finally:
            record(run)

    shared.reports.put(report, after, REPORT_GRACE)
    return None


def _reported(entry: SuiteEntry, code: int, junit: Path, drill_id: str) -> DrillRun:
    """A drill whose reports are written: its exit code and its own JUnit document."""
    try:
        text = junit.read_text(encoding="utf-8")
    except OSError as exc:
        message = f"the drill's JUnit file {junit} cannot be read: {exc.strerror or exc}"
        return _not_run(entry, "error", "aborted", message, "report", drill_id)
    return DrillRun(entry, code, OUTCOMES.get(code, "aborted"), text, drill_id)


def _not_run(entry: SuiteEntry, outcome: str, word: str, message: str, kind: str = "", drill_id: str | None = None,
             code: int = EXIT_ABORTED, text: str = "") -> DrillRun:
    """A scenario with no drill report of its own: ``skipped`` (no exit code) or an ``error`` (``code``)."""
    from gameday.analysis.junit import placeholder_junit

    props = [("scenario", entry.scenario_id or ""), ("file", str(entry.file)), ("status", word)]
    if drill_id:
        props.append(("drill_id", drill_id))
    doc = placeholder_junit(entry.suite_name, outcome, message, kind=kind, text=text, properties=props)
    return DrillRun(entry, None if outcome == "skipped" else code, word, doc, drill_id)


def _finish(plan: SuitePlan, runs: dict[int, DrillRun], junit: Path, stopped: str | None, echo: Echo) -> int:
    """Write the suite's JUnit file, print its summary; the exit code."""
    from gameday.analysis.junit import merge_junit
    from gameday.fsutil import atomic_write

    every: list[DrillRun] = []
    for i, entry in enumerate(plan.entries):
        if i in runs:
            every.append(runs[i])
        elif entry.status == "skipped":
            every.append(_not_run(entry, "skipped", "skipped", f"skipped: {entry.reason}"))
        elif entry.status == "invalid":
            every.append(_not_run(entry, "error", "invalid", entry.reason, "invalid", code=EXIT_INVALID_INPUT,
                                  text="\n".join(str(p) for p in entry.problems)))
        else:  # not reached: every runnable entry has a run
            every.append(_not_run(entry, "skipped", "not started", "not started"))
    atomic_write(junit, merge_junit([r.junit for r in every]))
    codes = [r.code for r in every if r.code is not None] + ([EXIT_ABORTED] if stopped else [])
    code = suite_exit_code(codes)
    tally: dict[str, int] = {}
    for r in every:
        tally[r.outcome] = tally.get(r.outcome, 0) + 1
    counts = ", ".join(f"{n} {word}" for word, n in tally.items())
    why = f"; {_signalled(stopped)}" if stopped else ""
    echo(f"suite: {len(every)} scenario(s): {counts}{why}; exit {code}")
    echo(f"junit:      {junit}")
    return code
