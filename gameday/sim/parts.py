"""The simulator's parts for one drill, built by the composition root (:mod:`gameday.drill.assemble`)
in place of the real injectors, runbooks and probes: a tabletop changes nothing on any target."""

from __future__ import annotations

from dataclasses import dataclass

from gameday.clock import Clock, InstantClock, PacedClock, PausableClock
from gameday.model.scenario import Scenario
from gameday.ports import Injector, RunbookRunner
from gameday.sim.effects import Shadows, SimulatedInjector, SimulatedProbes, SimulatedRunbook
from gameday.sim.msel import MselPlayer
from gameday.sim.pace import Pace


@dataclass
class Simulation:
    """A drill's simulated effects and its MSEL player."""

    shadows: Shadows
    injectors: dict[str, Injector]
    runbooks: dict[str, RunbookRunner]
    probes: SimulatedProbes
    player: MselPlayer


def scenario_clock(pace: Pace, base: Clock | None) -> PausableClock:
    """The scenario clock for ``pace`` over ``base`` (the real clock when None)."""
    if pace.kind == "instant":
        return InstantClock(base) if base is not None else InstantClock()
    from gameday.clock import SystemClock

    return PacedClock(base or SystemClock(), pace.factor)


def simulate(sc: Scenario, clock: PausableClock, pace: Pace) -> Simulation:
    """Every fault's simulated shadow, every runbook in the story, the probes over them, the MSEL player."""
    shadows = Shadows(sc, clock)
    injectors: dict[str, Injector] = {f.id: SimulatedInjector(shadows, f.id) for f in sc.faults}
    runbooks: dict[str, RunbookRunner] = {name: SimulatedRunbook(shadows, name) for name in sc.runbooks}
    player = MselPlayer(sc, clock, pace, shadows, holds_open=False)
    return Simulation(shadows, injectors, runbooks, SimulatedProbes(shadows), player)
