"""The simulator's parts for one drill, built by the composition root (:mod:`gameday.drill.assemble`)
in place of the real injectors, runbooks and probes (a tabletop, a training drill: nothing on any
target changes), and the training parts around a trainee (simulated or ``--live``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence, Sized
from dataclasses import dataclass, field

from gameday.clock import Clock, InstantClock, PacedClock, PausableClock
from gameday.model.events import PersonaRow
from gameday.model.scenario import Scenario
from gameday.ports import Feed, Injector, RunbookRunner
from gameday.sim.effects import Shadows, SimulatedInjector, SimulatedProbes, SimulatedRunbook
from gameday.sim.msel import MselPlayer
from gameday.sim.pace import Pace
from gameday.sim.responders import SimulatedResponders
from gameday.sim.statemachine import StateMachine
from gameday.sim.training import TrainingDesk


@dataclass
class Simulation:
    """A drill's simulated effects, its MSEL player and, when the scenario has one, its state machine."""

    shadows: Shadows
    injectors: dict[str, Injector]
    runbooks: dict[str, RunbookRunner]
    probes: SimulatedProbes
    player: MselPlayer
    machine: StateMachine | None = None


@dataclass
class TrainingParts:
    """A training drill's trainee desk, simulated responders and state machine."""

    desk: TrainingDesk
    responders: SimulatedResponders
    machine: StateMachine | None


@dataclass
class Feeds:
    """Several timed inputs played as one :class:`~gameday.ports.Feed`, in order (the training set-up,
    the MSEL, the simulation, the simulated responders). What one journals may be news for another
    (a responder's runbook moves the simulation): they are played again at the same offset until
    none journals anything more, so each answer is journaled when it happens, not a turn later."""

    feeds: list[Feed] = field(default_factory=list)
    journal: Callable[[], Sized] | None = None  # the journal so far (bound once the conductor exists)
    rounds: int = 8  # at most, per turn of the timeline (a cycle of feeds answering each other ends there)

    def start(self) -> None:
        for f in self.feeds:
            f.start()

    def play(self, t: float) -> list[float]:
        due: list[float] = []
        for _ in range(self.rounds):
            before = len(self.journal()) if self.journal is not None else 0
            due = []
            for f in self.feeds:
                due += f.play(t)
            if self.journal is None or len(self.journal()) == before:
                break
        return due

    def keeps_open(self) -> bool:
        return any(f.keeps_open() for f in self.feeds)


def scenario_clock(pace: Pace, base: Clock | None) -> PausableClock:
    """The scenario clock for ``pace`` over ``base`` (the real clock when None)."""
    if pace.kind == "instant":
        return InstantClock(base) if base is not None else InstantClock()
    from gameday.clock import SystemClock

    return PacedClock(base or SystemClock(), pace.factor)


def simulate(sc: Scenario, clock: PausableClock, pace: Pace) -> Simulation:
    """Every fault's simulated shadow, every runbook in the story, the probes over them, the MSEL player,
    and the state machine of the scenario's ``simulation:`` (which then decides what a runbook does)."""
    shadows = Shadows(sc, clock)
    injectors: dict[str, Injector] = {f.id: SimulatedInjector(shadows, f.id) for f in sc.faults}
    clears = sc.simulation is None
    runbooks: dict[str, RunbookRunner] = {name: SimulatedRunbook(shadows, name, clears=clears) for name in sc.runbooks}
    player = MselPlayer(sc, clock, pace, shadows, holds_open=False)
    machine = StateMachine(sc, sc.simulation, shadows=shadows, player=player) if sc.simulation is not None else None
    return Simulation(shadows, injectors, runbooks, SimulatedProbes(shadows), player, machine)


def train(sc: Scenario, trainee: str, personas: Sequence[PersonaRow], seed: int, sim: Simulation | None) -> TrainingParts:
    """The training parts: over a simulation (its state machine), or ``--live`` (sim None: a state
    machine of the story only, delivering no alerts and moving no probes)."""
    machine = sim.machine if sim is not None else (
        StateMachine(sc, sc.simulation, deliver_alerts=False) if sc.simulation is not None else None)
    desk = TrainingDesk(sc, trainee, personas, seed, live=sim is None, machine=machine)
    return TrainingParts(desk, SimulatedResponders(sc, personas, seed, machine), machine)


def feeds(sim: Simulation | None, training: TrainingParts | None) -> Feed | None:
    """The drill's timed inputs as one feed (None: there are none): the training set-up first, then the
    MSEL, the state machine and the simulated responders."""
    out: list[Feed] = []
    if training is not None:
        out.append(training.desk)
    if sim is not None:
        out.append(sim.player)
    machine = training.machine if training is not None else sim.machine if sim is not None else None
    if machine is not None:
        out.append(machine)
    if training is not None:
        out.append(training.responders)
    return Feeds(out) if out else None
