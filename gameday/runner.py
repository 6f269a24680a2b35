"""``gameday run``: wire a scenario to the real world, play it, and write the reports.

The runner owns the process-level concerns the conductor must not know about: the
project and its fault ledger, the target (starting the embedded demo when the scenario
names it), the webhook intake server, the probe threads, signals, the live view, and
the output files. Everything it learns goes through the conductor into the journal.
"""

from __future__ import annotations

import re
import signal
import sys
import threading
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gameday.clock import Clock, SystemClock
from gameday.errors import EXIT_ABORTED, EXIT_EXPECTATIONS_NOT_MET, EXIT_OK, ConfigError
from gameday.model.scenario import Scenario
from gameday.targets import TargetInfo, prepare_target, reset_attached_demo


DRILL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")


@dataclass(frozen=True)
class Outputs:
    """Where a drill's files go."""

    journal: Path
    scorecard_json: Path
    scorecard_md: Path
    postmortem_md: Path
    postmortem_html: Path
    junit: Path

    @classmethod
    def for_drill(cls, root: Path, drill_id: str, out: Path | None) -> Outputs:
        if out is not None:
            return cls(out / "journal.jsonl", out / "scorecard.json", out / "scorecard.md", out / "postmortem.md",
                       out / "postmortem.html", out / "junit.xml")
        rep, cards = root / "reports" / drill_id, root / "scorecards"
        return cls(rep / "journal.jsonl", cards / f"{drill_id}.json", cards / f"{drill_id}.md", rep / "postmortem.md",
                   rep / "postmortem.html", rep / "junit.xml")


def run_drill(scenario_path: Path, *, mode: str = "gameday", out: Path | None = None, responders: Path | None = None,
              drill_id: str | None = None, clock: Clock | None = None, echo=None,
              options: dict[str, Any] | None = None) -> int:
    """Run one drill end to end and return its exit code (0 met, 1 not met, 3 aborted).

    SIGINT and SIGTERM are handled from the start: while the drill is being set up they
    unwind it (stopping whatever was started); once the conductor runs they abort it, and
    every fault is rolled back.
    """
    echo = echo or _say
    with _SetupSignals():
        return _run_drill(scenario_path, mode=mode, out=out, responders=responders, drill_id=drill_id, clock=clock,
                          echo=echo, options=options)


def _quietly(stop, echo) -> None:
    """A teardown step that reports its failure and lets the others (and the reports) run."""
    try:
        stop()
    except Exception as exc:  # noqa: BLE001 - the drill is over; one stuck service must not lose its report
        echo(f"gameday: stopping {getattr(stop, '__self__', stop).__class__.__name__} failed: {type(exc).__name__}: {exc}")


def _say(line: str) -> None:
    print(line, flush=True)  # line by line even into a pipe: CI logs and wrappers read it live


class _SetupSignals:
    """The signal policy of a drill's life, outside the conductor's own run.

    During set-up SIGINT and SIGTERM unwind it (KeyboardInterrupt: whatever was started is
    stopped). Once the conductor has run, every fault is rolled back: a signal then no longer
    interrupts the teardown and the reports (:meth:`drain`), it is noted and ignored.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __enter__(self):
        def interrupt(signum, _frame):
            raise KeyboardInterrupt(signal.Signals(signum).name)

        self._previous = {s: signal.signal(s, interrupt) for s in self.SIGNALS}
        return self

    @classmethod
    def drain(cls) -> None:
        def note(signum, _frame):
            print(f"gameday: {signal.Signals(signum).name} ignored: the drill is rolled back; finishing its reports",
                  file=sys.stderr, flush=True)

        for s in cls.SIGNALS:
            signal.signal(s, note)

    def __exit__(self, *exc) -> None:
        for s, h in self._previous.items():
            signal.signal(s, h)


def _run_drill(scenario_path: Path, *, mode: str, out: Path | None, responders: Path | None, drill_id: str | None,
               clock: Clock | None, echo, options: dict[str, Any] | None) -> int:
    from gameday.ledger import FaultLedger, acquire_drill_lock
    from gameday.loader import load_scenario
    from gameday.project import load_project
    from gameday.responders import load_script

    project = load_project(Path.cwd())
    loaded = load_scenario(scenario_path)
    sc = loaded.scenario
    policy = project.config.policy.scaled(sc.policy.scale)
    script_path = responders or (loaded.responders_path if mode == "ci" else None)
    if responders is not None and not responders.is_file():
        raise ConfigError(f"{responders}: no such responder script")
    roster, script = load_script(script_path, sc) if script_path else ([], [])
    clock = clock or SystemClock()
    # Drill time stands still until the drill starts (the facilitator's start in gameday mode,
    # once services such as Prometheus are ready in ci mode), and a facilitator may pause it.
    from gameday.clock import PausableClock

    clock = clock if isinstance(clock, PausableClock) else PausableClock(clock)
    clock.pause()
    opts = dict(options or {})
    drill_id = drill_id or f"{sc.id}-{clock.wall():%Y%m%dT%H%M%SZ}"
    if not DRILL_ID.fullmatch(drill_id):  # it names files and folders: no path tricks
        raise ConfigError(f"--drill-id {drill_id!r}: use letters, digits, '.', '_' and '-' (at most 128, not starting with '.')")
    outputs = Outputs.for_drill(project.root, drill_id, out)
    state = project.state_path

    with acquire_drill_lock(state), ExitStack() as stack:
        ledger = FaultLedger(state)
        ledger.ensure_clear()
        holder: dict[str, Any] = {}
        host, port = _listen_address(opts, sc.monitoring.auth is not None)
        verifier = _intake_verifier(sc.monitoring.auth)  # bad input is refused before the user's demo is touched
        # An attached demo resets while the intake starts. Port 0 always binds; a port given by
        # hand may be taken (exit 3), so then the demo is reset only once the intake listens.
        resetting = reset_attached_demo(sc, state, stack) if port == 0 else None
        intake = _start_intake(holder, stack, clock, verifier, host, port)
        if port != 0:
            resetting = reset_attached_demo(sc, state, stack)
        webhook = f"{intake.url}/webhooks/alertmanager"
        target = prepare_target(sc, state, webhook, stack, Path(loaded.base_dir), resetting)
        injectors, runbooks = _build_effects(sc, loaded, target, clock, state / "logs")
        probes = _build_probes(sc, target, clock)
        journal = _open_journal(outputs.journal, clock)
        stack.callback(journal.close)
        from gameday.conductor import Conductor

        conductor = Conductor(
            sc, journal, clock, mode=mode, drill_id=drill_id, injectors=injectors, runbooks=runbooks,
            probe=probes, ledger=ledger, roster=roster, script=script,
            start_data={"scenario": sc.model_dump(mode="json", by_alias=True), "scenario_path": str(loaded.path),
                        "policy": policy.model_dump(mode="json"), "target": target.description,
                        "webhook_url": webhook, "gameday_version": _version()},
        )
        holder["conductor"] = conductor
        from gameday.services import DrillContext, build_services

        ctx = DrillContext(scenario=sc, loaded=loaded, project=project, mode=mode, drill_id=drill_id, state_dir=state,
                           target_url=target.url, target=target, conductor=conductor, journal=journal,
                           options={**opts, "webhook_url": webhook, "server": intake}, echo=echo)
        services = build_services(ctx)
        for service in services:
            stack.callback(_quietly, service.stop, echo)  # before start: a half-started service is stopped too
            service.start()
        gate = next((s.start_gate for s in services if getattr(s, "start_gate", None) is not None), None)
        from gameday.liveview import LiveView

        view = LiveView(sc, journal, echo=echo)
        stack.enter_context(view)
        probes.start(conductor.observe)
        stack.callback(probes.stop)
        echo(f"drill {drill_id}: {sc.title} ({mode} mode); alerts to {webhook}")
        result = _run_with_signals(conductor, gate, lambda: echo(
            "waiting for the facilitator to start the drill (Ctrl-C cancels: nothing is injected)"))
    return _report(outputs, mode, echo, result.outcome, result.reason)


def _version() -> str:
    from gameday import __version__

    return __version__


def _open_journal(path: Path, clock: Clock):
    from gameday.journal import JournalWriter

    return JournalWriter(path, clock)


def _listen_address(opts: dict[str, Any], intake_auth: bool) -> tuple[str, int]:
    """Where the intake (and the control room, on the same server) listen: ``--host``/``--port``,
    default 127.0.0.1 and a free port. A non-loopback host needs the intake authenticated
    (``monitoring.auth``); the control room always needs tokens."""
    from gameday.web.auth import is_loopback

    host, port = str(opts.get("host") or "127.0.0.1"), int(opts.get("port") or 0)
    if not is_loopback(host) and not intake_auth:
        raise ConfigError(f"refusing to listen on {host}: not a loopback address, and the webhook intake has no "
                          "authentication configured (set monitoring.auth in the scenario)")
    return host, port


def _intake_verifier(auth):
    """The intake's credential check for ``monitoring.auth`` (None: none); ConfigError (exit 2) if a
    secret's environment variable is unset."""
    from gameday.adapters.intake_auth import IntakeVerifier

    return IntakeVerifier.from_config(auth)


def _start_intake(holder: dict[str, Any], stack: ExitStack, clock: Clock, verifier=None, host: str = "127.0.0.1",
                  port: int = 0):
    from gameday.adapters.webhooks import make_intake_app
    from gameday.web.server import BackgroundServer

    def sink(fmt, payload, alerts, *, received_at=None, error=None):
        conductor = holder.get("conductor")
        if conductor is None or conductor.phase is None:  # before the drill starts there is no journal to hold it
            return None
        return conductor.receive_alerts(fmt, payload, alerts, received_at=received_at, error=error)

    # arrival times on the drill's clock, so they stay exact across pauses
    server = BackgroundServer(make_intake_app(sink, verifier=verifier, clock=clock.now), host, port).start()
    # at the drill's end the port is released at once; uvicorn's graceful shutdown (~0.1-0.2 s)
    # finishes in its daemon thread while the reports are written
    stack.callback(server.stop, wait=False)
    _warm_up_reports(holder, stack)
    return server


def _warm_up_reports(holder: dict[str, Any], stack: ExitStack) -> None:
    """Once the drill is observing (the conductor idles until its next deadline), import what
    :func:`_report` needs and compile the postmortem templates in a daemon thread, so the
    drill's end does not wait for them (~50-100 ms). Nothing is done if the drill never gets
    there; any failure is left for the report itself to meet."""
    over = threading.Event()
    stack.callback(over.set)

    def warm() -> None:
        while True:
            if over.wait(0.05):
                return
            phase = getattr(holder.get("conductor"), "phase", None)
            if phase in ("observe", "recover"):
                break
            if phase == "rollback":
                return
        try:
            import gameday.analysis.junit  # noqa: F401 - what _report imports
            import gameday.analysis.render  # noqa: F401
            import gameday.analysis.scorecard  # noqa: F401
            from gameday.analysis import postmortem
            from gameday.project import load_project

            postmortem.warm_up(load_project(Path.cwd()).templates_dir)
        except Exception:  # noqa: BLE001 - a head start only
            pass

    threading.Thread(target=warm, name="report-warm-up", daemon=True).start()


def _build_effects(sc: Scenario, loaded, target: TargetInfo, clock: Clock, log_dir: Path):
    from gameday.injectors import injector_for_fault, runner_for_runbook

    common = {"target": target.processes, "configuration": target.configuration, "secrets": target.secrets,
              "clock": clock, "log_dir": log_dir}
    injectors = {f.id: injector_for_fault(f, experiment=_experiment(loaded, loaded.fault_experiments.get(f.id)), **common)
                 for f in sc.faults}
    runbooks = {name: runner_for_runbook(rb, name=name, experiment=_experiment(loaded, loaded.runbook_experiments.get(name)),
                                         **common)
                for name, rb in sc.runbooks.items()}
    return injectors, runbooks


def _experiment(loaded, path: Path | None) -> dict | None:
    return None if path is None else loaded.experiments[str(path)]


def _build_probes(sc: Scenario, target: TargetInfo, clock: Clock):
    from gameday.adapters.probes import build_probes
    from gameday.observing import ProbeSet

    probes = build_probes(sc.steady_state, target.url or "", target.processes, clock=clock)
    return ProbeSet(probes, sc.timing.probe_interval)


def _run_with_signals(conductor, gate: threading.Event | None = None, waiting=None):
    """Run the conductor in a worker thread; SIGINT/SIGTERM abort it (rolling back) instead of killing us.

    With a ``gate`` (the control room's start), the conductor runs once it opens; a signal
    opens it too, and the drill then ends at once, aborted, with nothing injected
    (``waiting()`` is called once the signal handlers are in place).
    """
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            while gate is not None and not gate.wait(0.1):
                pass
            if getattr(conductor.clock, "paused", False):  # the lobby's pause: drill time starts now
                conductor.clock.resume()
            box["result"] = conductor.run()
        except BaseException as exc:  # re-raised below, after rollback already ran
            box["error"] = exc

    def on_signal(signum, _frame) -> None:
        conductor.abort(f"signal: {signal.Signals(signum).name}")
        if gate is not None:
            gate.set()

    thread = threading.Thread(target=work, name="conductor")
    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        if gate is not None and waiting is not None and not gate.is_set():
            waiting()
        thread.start()
        while thread.is_alive():
            thread.join(0.05)
    finally:
        if thread.is_alive() or "result" not in box:
            for s, h in previous.items():
                signal.signal(s, h)
        else:
            _SetupSignals.drain()  # rolled back: nothing may now cut the teardown or the reports short
    if "error" in box:
        raise box["error"]
    return box["result"]


def _report(outputs: Outputs, mode: str, echo, outcome: str, reason: str | None = None) -> int:
    """Score the journal and write scorecard, postmortem (and JUnit in ci); return the exit code."""
    from gameday.analysis.junit import junit_xml
    from gameday.analysis.postmortem import render_postmortem
    from gameday.analysis.render import render_scorecard
    from gameday.analysis.scorecard import score_journal
    from gameday.fsutil import atomic_write
    from gameday.journal import read_journal
    from gameday.project import load_project

    journal = read_journal(outputs.journal)
    card = score_journal(journal)
    templates = load_project(Path.cwd()).templates_dir
    atomic_write(outputs.scorecard_json, render_scorecard(card, "json"))
    atomic_write(outputs.scorecard_md, render_scorecard(card, "md"))
    charts: list[Path] = []
    if card.impact is not None:  # load charts (PNG) beside the postmortem: linked by the Markdown, embedded in the HTML
        from gameday.analysis.charts import render_charts

        charts = render_charts(journal, outputs.postmortem_html.parent)
    atomic_write(outputs.postmortem_md, render_postmortem(journal, card, "md", templates_dir=templates, charts=charts))
    atomic_write(outputs.postmortem_html, render_postmortem(journal, card, "html", templates_dir=templates, charts=charts))
    written = [outputs.journal, outputs.scorecard_json, outputs.scorecard_md, outputs.postmortem_md, outputs.postmortem_html,
               *charts]
    if mode == "ci":
        atomic_write(outputs.junit, junit_xml(card))
        written.append(outputs.junit)
    verdict = f"aborted ({reason})" if outcome == "aborted" else ("expectations met" if card.passed else "expectations not met")
    echo(f"drill {card.drill_id}: {verdict}; score {card.score.total:g}/100")
    for line in card.failures:
        echo(f"  - {line}")
    echo(f"scorecard:  {outputs.scorecard_md}")
    echo(f"postmortem: {outputs.postmortem_html}")
    echo(f"journal:    {outputs.journal}")
    if outcome == "aborted":
        return EXIT_ABORTED
    return EXIT_OK if card.passed else EXIT_EXPECTATIONS_NOT_MET
