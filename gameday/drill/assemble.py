"""The one composition root: assemble a drill from the project, the scenario, the options and a
factory for each port; then play it and write its reports.

:func:`run_drill` is ``gameday run``. :func:`assemble` builds every part inside an
:class:`~contextlib.ExitStack` (so whatever was started is stopped, whatever happens) and yields
an :class:`AssembledDrill`; the benchmarks and integration tests use it too, with
:class:`Factories` replacing the parts they mean to (fakes from :mod:`gameday.fakes`, a timed
ledger, no live view), never by patching private functions.

Set-up order matters for safety and speed: bad input (intake authentication, a non-loopback
address) is refused before anything starts; an attached demo resets while the intake starts;
the fault ledger must be clear (no fault of an earlier drill still open) before anything else.
"""

from __future__ import annotations

import re
import threading
import zlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from pydantic import JsonValue

from gameday.clock import Clock, PausableClock, SystemClock
from gameday.drill.conductor import Conductor, DrillResult
from gameday.drill.context import DrillContext, DrillOptions, Echo
from gameday.drill.context import say as default_say
from gameday.drill.heap import frozen_heap
from gameday.drill.reports import Outputs, warm_up_while_observing
from gameday.drill.simsetup import bound_parts, check_room, pace_of, trainee_roster, training_cast
from gameday.drill.targets import TargetInfo, untouched_target
from gameday.errors import ConfigError
from gameday.journal import JournalWriter
from gameday.loader import LoadedScenario
from gameday.model.alerts import Alert
from gameday.model.events import AlertReceived, Event, ProductionAllowed, RespondersNotLoaded, TargetDescription
from gameday.model.scenario import Scenario, Target
from gameday.ports import (
    ControlRoom,
    DrillService,
    Injector,
    IntakeServer,
    Ledger,
    LoadDriver,
    MonitoringStack,
    Notifier,
    ProbeLoop,
    RunbookRunner,
)
from gameday.project import Project

DRILL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")


#: The intake's sink: one webhook delivery (format, raw payload, parsed alerts) -> its journal event.
class IntakeSink:
    """Hands each webhook delivery to the conductor once the drill has started (None before: no journal yet)."""

    def __init__(self) -> None:
        self.conductor: Conductor | None = None

    def __call__(self, fmt: str, payload: JsonValue, alerts: list[Alert], *, received_at: float | None = None,
                 error: str | None = None) -> Event[AlertReceived] | None:
        conductor = self.conductor
        if conductor is None or conductor.phase is None:  # before the drill starts there is no journal to hold it
            return None
        if conductor.simulated:
            from gameday.adapters.webhooks import DeliveryRefused

            raise DeliveryRefused("a simulated drill (tabletop, training) takes no webhook: its alerts are the "
                                  "simulator's (a real alert must not count as the players' detection)")
        return conductor.receive_alerts(fmt, payload, alerts, received_at=received_at, error=error)


Effects = tuple[dict[str, Injector], dict[str, RunbookRunner]]


def _ledger(state: Path) -> Ledger:
    from gameday.drill.ledger import FaultLedger

    return FaultLedger(state)


def _intake(sink: IntakeSink, clock: Clock, auth_verifier: object, host: str, port: int) -> IntakeServer:
    from gameday.adapters.webhooks import make_intake_app
    from gameday.web.server import BackgroundServer

    # arrival times on the drill's clock, so they stay exact across pauses
    return BackgroundServer(make_intake_app(sink, verifier=auth_verifier, clock=clock.now), host, port).start()


def _effects(loaded: LoadedScenario, target: TargetInfo, clock: Clock, log_dir: Path) -> Effects:
    """Every fault's injector and runbook's runner; Chaos Toolkit activities run in their file's folder."""
    from gameday.drill.injectors import effects

    return effects(loaded, target, clock, log_dir)


def _probes(sc: Scenario, target: TargetInfo, clock: Clock) -> ProbeLoop:
    from gameday.adapters.probes import build_probes
    from gameday.drill.observing import ProbeSet

    probes = build_probes(sc.steady_state, target.url or "", target.processes, clock=clock,
                          containers=target.containers, docker_host=target.docker_host)
    return ProbeSet(probes, sc.timing.probe_interval)


def _load(ctx: DrillContext) -> LoadDriver | None:
    from gameday.load.service import service_for

    return service_for(ctx)


def _monitoring(ctx: DrillContext) -> MonitoringStack | None:
    from gameday.monitoring import service_for

    return service_for(ctx)


def _control_room(ctx: DrillContext) -> ControlRoom | None:
    from gameday.web.controlroom import service_for

    return service_for(ctx)


def _notify(ctx: DrillContext) -> Notifier | None:
    from gameday.notify.service import service_for

    return service_for(ctx)


def _live_view(sc: Scenario, journal: JournalWriter, echo: Echo) -> AbstractContextManager[object]:
    from gameday.drill.liveview import LiveView

    return LiveView(sc, journal, echo=echo)


def _journal(path: Path, clock: Clock) -> JournalWriter:
    return JournalWriter(path, clock)


@dataclass(frozen=True)
class Factories:
    """How each port of a drill is made. The defaults build the real adapters (imported only when used);
    replace any with :func:`dataclasses.replace` (fakes in :mod:`gameday.fakes`)."""

    ledger: Callable[[Path], Ledger] = _ledger
    intake: Callable[[IntakeSink, Clock, object, str, int], IntakeServer] = _intake
    effects: Callable[[LoadedScenario, TargetInfo, Clock, Path], Effects] = _effects
    probes: Callable[[Scenario, TargetInfo, Clock], ProbeLoop] = _probes
    journal: Callable[[Path, Clock], JournalWriter] = _journal
    live_view: Callable[[Scenario, JournalWriter, Echo], AbstractContextManager[object]] = _live_view
    load: Callable[[DrillContext], LoadDriver | None] = _load
    monitoring: Callable[[DrillContext], MonitoringStack | None] = _monitoring
    control_room: Callable[[DrillContext], ControlRoom | None] = _control_room
    notify: Callable[[DrillContext], Notifier | None] = _notify

    def without_services(self) -> Factories:
        """The same, with no load, monitoring, control room or notifications."""
        return replace(self, load=_none, monitoring=_none, control_room=_none, notify=_none)


def _none(ctx: DrillContext) -> None:
    return None


@dataclass
class AssembledDrill:
    """A drill ready to play: its conductor, journal and services started; the probes not yet running."""

    context: DrillContext
    outputs: Outputs
    probes: ProbeLoop
    services: list[DrillService] = field(default_factory=list)
    gate: threading.Event | None = None
    #: what to tell the user as the drill starts (also journaled, so the reports can say it)
    warnings: list[str] = field(default_factory=list)

    @property
    def conductor(self) -> Conductor:
        return self.context.conductor

    def play(self) -> DrillResult:
        """Start drill time (the lobby's pause ends) and run the conductor to its end, in this thread
        (``gameday run`` uses :func:`gameday.drill.play.run_with_signals` instead)."""
        clock = self.conductor.clock
        if isinstance(clock, PausableClock) and clock.paused:
            clock.resume()
        return self.conductor.run()

    @property
    def journal(self) -> JournalWriter:
        return self.context.journal


def drill_id_for(sc: Scenario, clock: Clock, given: str | None) -> str:
    """The drill's id: the one given (checked: it names files and folders), else scenario id and UTC time."""
    drill_id = given or f"{sc.id}-{clock.wall():%Y%m%dT%H%M%SZ}"
    if not DRILL_ID.fullmatch(drill_id):  # no path tricks
        raise ConfigError(f"--drill-id {drill_id!r}: use letters, digits, '.', '_' and '-' (at most 128, not starting with '.')")
    return drill_id


@contextmanager
def assemble(project: Project, loaded: LoadedScenario, options: DrillOptions, *, clock: Clock | None = None,
             factories: Factories | None = None, echo: Echo = default_say) -> Iterator[AssembledDrill]:
    """Build a drill; stop everything it started when the ``with`` block ends (normally or not).

    Drill time stands still until the drill starts (the facilitator's start in gameday mode, once
    services such as Prometheus are ready in ci mode), and a facilitator may pause it.
    """
    from gameday.adapters.intake_auth import IntakeVerifier
    from gameday.drill.ledger import acquire_drill_lock
    from gameday.drill.responders import load_script, unattended_steps
    from gameday.drill.targets import prepare_target, reset_attached_demo
    from gameday.web.auth import is_loopback

    make = factories or Factories()
    sc = loaded.scenario
    tabletop = options.mode == "tabletop"
    simulated = options.simulated  # tabletop, or training without --live: nothing on any target changes
    pace = pace_of(options)
    personas = training_cast(options, sc)
    if simulated:  # refused before anything is started or written
        check_room(pace, options.web if options.web is not None else options.responders is None)
    policy = project.config.policy.scaled(sc.policy.scale)
    script_path = options.responders or (loaded.responders_path if options.mode == "ci" else None)
    if options.responders is not None and not options.responders.is_file():
        raise ConfigError(f"{options.responders}: no such responder script")
    roster, script = load_script(script_path, sc) if script_path else ([], [])
    if personas is not None:  # the trainee holds the incident commander's role from the start: the script's is them
        roster = trainee_roster(roster, options.trainee or "", script_path)
    if options.mode != "training" and any(a.instruction is not None for a in script):
        raise ConfigError(f"{script_path}: a trainee's instructions (take_command, assign_task, ...) are for "
                          "--mode training")
    unattended = unattended_steps(sc, options.mode) if options.mode == "ci" and script_path is None else []
    if simulated:
        from gameday.sim.parts import scenario_clock

        pausable = clock if isinstance(clock, PausableClock) else scenario_clock(pace, clock)
    else:
        base = clock or SystemClock()
        pausable = base if isinstance(base, PausableClock) else PausableClock(base)
    pausable.pause()
    kube = sc.target.kubernetes if isinstance(sc.target, Target) and not simulated else None
    if kube is not None:
        from gameday.adapters.kubeconfig import context_problem

        if (wrong := context_problem(kube.context)) is not None:
            raise ConfigError(f"{loaded.path}: {wrong}")
    production = [] if simulated else sc.production_parts()
    if production and not options.allow_production:
        raise ConfigError(f"{loaded.path}: the scenario declares production ({', '.join(production)}): run it with "
                          "--allow-production to drill it (every report will say so)")
    drill_id = drill_id_for(sc, pausable, options.drill_id)
    outputs = Outputs.for_drill(project.root, drill_id, options.out)
    state = project.state_path
    if not is_loopback(options.host) and sc.monitoring.auth is None:
        raise ConfigError(f"refusing to listen on {options.host}: not a loopback address, and the webhook intake has no "
                          "authentication configured (set monitoring.auth in the scenario)")
    verifier = IntakeVerifier.from_config(sc.monitoring.auth)  # bad input is refused before the user's demo is touched

    with acquire_drill_lock(state), ExitStack() as stack:
        ledger = None if simulated else make.ledger(state)  # nothing simulated is injected: no fault ledger
        if ledger is not None:
            ledger.ensure_clear()
        sink = IntakeSink()
        # An attached demo resets while the intake starts. Port 0 always binds; a port given by
        # hand may be taken (exit 3), so then the demo is reset only once the intake listens.
        resetting = reset_attached_demo(sc, state, stack) if options.port == 0 and not simulated else None
        intake = make.intake(sink, pausable, verifier, options.host, options.port)
        # at the drill's end the port is released at once; uvicorn's graceful shutdown (~0.1-0.2 s)
        # finishes in its daemon thread while the reports are written
        stack.callback(intake.stop, wait=False)
        warm_up_while_observing(lambda: sink.conductor.phase if sink.conductor is not None else None, stack,
                                project.templates_dir)
        if options.port != 0 and not simulated:
            resetting = reset_attached_demo(sc, state, stack)
        webhook = f"{intake.url}/webhooks/alertmanager"
        sim = None
        probes: ProbeLoop
        if simulated:  # the simulator stands in for the target: nothing on it is touched
            from gameday.sim.parts import simulate

            target = untouched_target(sc)
            sim = simulate(sc, pausable, pace)
            injectors, runbooks, probes = sim.injectors, sim.runbooks, sim.probes
        else:
            target = prepare_target(sc, state, webhook, stack, Path(loaded.base_dir), resetting)
            target.allow_production = options.allow_production
            injectors, runbooks = make.effects(loaded, target, pausable, state / "logs")
            probes = make.probes(sc, target, pausable)
        journal = make.journal(outputs.journal, pausable)
        stack.callback(journal.close)
        training = None
        if personas is not None and options.trainee is not None:
            from gameday.sim.parts import train

            seed = options.seed if options.seed is not None else zlib.crc32(drill_id.encode())
            training = train(sc, options.trainee, personas, seed, sim)
        from gameday.sim.parts import Feeds, feeds

        feed = feeds(sim, training)
        conductor = Conductor(
            sc, journal, pausable, mode=options.mode, drill_id=drill_id, injectors=injectors, runbooks=runbooks,
            probe=probes, ledger=ledger, roster=roster, script=script, policy=policy,
            scenario_path=str(loaded.path), target=TargetDescription.model_validate(target.description),
            webhook_url=webhook, feed=feed, simulated=simulated,
            spawn=_inline if simulated else None,  # a runbook in the story takes no time
            scripted=training.desk.play_scripted if training is not None else None,
        )
        sink.conductor = conductor
        if isinstance(feed, Feeds):
            feed.journal = lambda: conductor.journal_events
        for part in bound_parts(sim, training):
            part.bind(conductor)
        ctx = DrillContext(project=project, loaded=loaded, options=options, drill_id=drill_id, state_dir=state,
                           target=target, webhook_url=webhook, intake=intake, probes=probes, conductor=conductor, journal=journal,
                           echo=echo, exercise=sim.player if sim else None,
                           training=training.desk if training is not None else None)
        room = make.control_room(ctx)
        if sim is not None:
            sim.player.holds_open = room is not None and tabletop  # the facilitator ends it, after the hot wash
            check_room(pace, room is not None)
        built: list[DrillService | None] = (
            [room] if simulated else [make.load(ctx), make.monitoring(ctx), room, make.notify(ctx)])
        drill = AssembledDrill(ctx, outputs, probes, gate=room.start_gate if room is not None else None)
        if options.allow_production and not simulated:  # said in every report: the scorecard's warnings
            _journal_at_start(conductor, journal, ProductionAllowed(targets=production))
        if unattended:
            drill.warnings.append(f"ci drill without a responder script: no one will do step(s) {', '.join(unattended)} "
                                  "(name one with responders: in the scenario, or pass --responders FILE)")
            _journal_at_start(conductor, journal, RespondersNotLoaded(steps=unattended))
        for service in built:
            if service is None:
                continue
            stack.callback(_quietly, service, echo)  # before start: a half-started service is stopped too
            service.start()
            drill.services.append(service)
        stack.enter_context(make.live_view(sc, journal, echo))
        stack.enter_context(frozen_heap(journal))
        probes.start(conductor.observe)
        stack.callback(probes.stop)
        yield drill


def run_drill(scenario_path: Path, options: DrillOptions | None = None, *, project: Project | None = None,
              clock: Clock | None = None, factories: Factories | None = None, echo: Echo | None = None) -> int:
    """``gameday run``: load, assemble, play and report one drill; return its exit code (0 met, 1 not met,
    3 aborted).

    SIGINT and SIGTERM are handled from the start: while the drill is being set up they unwind it
    (stopping whatever was started); once the conductor runs they abort it, and every fault is
    rolled back.
    """
    from gameday.drill.play import SetupSignals
    from gameday.loader import load_project, load_scenario

    opts = options or DrillOptions()
    with SetupSignals():
        proj = project or load_project(Path.cwd())
        loaded = load_scenario(scenario_path)
        return play_loaded(proj, loaded, opts, clock=clock, factories=factories, echo=echo)


@dataclass(frozen=True)
class PlayedDrill:
    """A drill played to its end (every fault rolled back, its journal closed), its reports not yet written."""

    outputs: Outputs
    mode: str
    outcome: str
    reason: str | None
    templates_dir: Path | None

    def report(self, echo: Echo) -> int:
        """Write its reports (:func:`~gameday.drill.reports.write_reports`); the drill's exit code."""
        from gameday.drill.reports import write_reports

        return write_reports(self.outputs, self.mode, echo, self.outcome, self.reason, self.templates_dir)


def play_loaded(proj: Project, loaded: LoadedScenario, opts: DrillOptions, *, clock: Clock | None = None,
                factories: Factories | None = None, echo: Echo | None = None) -> int:
    """What :func:`run_drill` does once the scenario is loaded: assemble, play, report; the exit code.
    Call it with :class:`~gameday.drill.play.SetupSignals` in place, as :func:`run_drill` does."""
    say = echo or default_say
    return play_unreported(proj, loaded, opts, clock=clock, factories=factories, echo=say).report(say)


def play_unreported(proj: Project, loaded: LoadedScenario, opts: DrillOptions, *, clock: Clock | None = None,
                    factories: Factories | None = None, echo: Echo | None = None) -> PlayedDrill:
    """Assemble and play a drill, and stop what it started; its reports are left to :meth:`PlayedDrill.report`.
    A CI suite (:mod:`gameday.suite`), which loads every scenario before the first drill, plays each so and
    writes a drill's reports while the next one plays."""
    from gameday.drill.play import run_with_signals

    say = echo or default_say
    real_effects = factories is None or factories.effects is _effects
    if not opts.simulated and real_effects:  # the real injectors: their processes start now
        from gameday.drill.injectors import prestart_activity_hosts

        prestart_activity_hosts(loaded.scenario)
    with assemble(proj, loaded, opts, clock=clock, factories=factories, echo=say) as drill:
        sc = loaded.scenario
        intake = "alerts: the simulator's (nothing live)" if opts.simulated else f"alerts to {drill.context.webhook_url}"
        say(f"drill {drill.context.drill_id}: {sc.title} ({opts.mode} mode); {intake}")
        for warning in drill.warnings:  # after the first line: wrappers read the intake URL there
            say(f"warning: {warning}")
        result = run_with_signals(drill.conductor, drill.gate, lambda: say(
            "waiting for the facilitator to start the drill (Ctrl-C cancels: nothing is injected)"))
        outputs = drill.outputs
    return PlayedDrill(outputs, opts.mode, result.outcome, result.reason, proj.templates_dir)


def _inline(fn: Callable[[], None]) -> None:
    fn()


def _journal_at_start(conductor: Conductor, journal: JournalWriter,
                      payload: RespondersNotLoaded | ProductionAllowed) -> None:
    """Journal ``payload`` once the drill has started (right after DrillStarted, at the preflight phase)."""

    def on_phase(phase: str) -> None:
        if phase == "preflight":
            conductor.phase_listeners.remove(on_phase)
            journal.append(payload, "conductor")

    conductor.phase_listeners.append(on_phase)


def _quietly(service: DrillService, echo: Echo) -> None:
    """A teardown step that reports its failure and lets the others (and the reports) run."""
    try:
        service.stop()
    except Exception as exc:  # noqa: BLE001 - the drill is over; one stuck service must not lose its report
        echo(f"gameday: stopping {type(service).__name__} failed: {type(exc).__name__}: {exc}")
