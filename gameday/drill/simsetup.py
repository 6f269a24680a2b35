"""The set-up checks and wiring of a simulated or training drill, for the composition root
(:mod:`gameday.drill.assemble`): the pace, the control room a pace needs, the trainee and the
simulated responders, a scripted trainee's roster, and the simulator's parts bound to the conductor.
Each check refuses bad options with a one-line :class:`~gameday.errors.ConfigError` before anything
is started or written.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from gameday.errors import ConfigError
from gameday.model.scenario import Scenario
from gameday.model.terms import IC

if TYPE_CHECKING:
    from gameday.drill.context import DrillOptions
    from gameday.model.events import PersonaRow
    from gameday.sim.pace import Pace
    from gameday.sim.parts import Simulation, TrainingParts


class Bindable(Protocol):
    """A simulator part that journals through the conductor once it is bound to it."""

    def bind(self, desk: Any) -> None: ...


def pace_of(options: DrillOptions) -> Pace:
    """The scenario clock's pace (``--pace``), for a simulated drill only."""
    from gameday.sim.pace import PaceError, parse_pace

    if options.pace is not None and not options.simulated:
        what = "--live training" if options.mode == "training" else options.mode
        raise ConfigError(f"--pace goes with --mode tabletop or training, not {what} (a live drill runs in real time)")
    try:
        return parse_pace(options.pace or "real")
    except PaceError as exc:
        raise ConfigError(str(exc)) from None


def check_room(pace: Pace, room: bool) -> None:
    """A manual pace needs the control room (the facilitator advances the clock there); an instant one
    must have none (no person can keep up with it). The room is on unless --no-web or --responders."""
    if pace.kind == "manual" and not room:
        raise ConfigError("--pace manual needs the control room: the facilitator advances the clock there")
    if pace.kind == "instant" and room:
        raise ConfigError("--pace instant is for headless drills (with --responders FILE and no control room)")


def training_cast(options: DrillOptions, sc: Scenario) -> list[PersonaRow] | None:
    """A training drill's simulated responders, the trainee checked (None for other modes)."""
    from gameday.model.names import NameRefused, check_name

    if options.mode != "training":
        for flag, given in (("--trainee", options.trainee is not None), ("--live", options.live),
                            ("--seed", options.seed is not None)):
            if given:
                raise ConfigError(f"{flag} goes with --mode training")
        return None
    if options.trainee is None:
        raise ConfigError("--mode training needs --trainee NAME: the person practising incident command")
    try:
        trainee = check_name(options.trainee)
    except NameRefused as exc:
        raise ConfigError(f"--trainee: {exc}") from None
    if IC not in sc.roles:
        raise ConfigError(f"the scenario has no {IC} role: a trainee practises incident command (add it to roles:)")
    from gameday.sim.training import personas_for

    try:
        return personas_for(sc, trainee)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def trainee_roster(roster: list[tuple[str, str]], trainee: str, script: Path | None) -> list[tuple[str, str]]:
    """A scripted trainee's roster without the incident commander (the training gives the trainee that
    role); refused when the script's incident commander is someone other than --trainee."""
    for person, role in roster:
        if role == IC and person != trainee:
            raise ConfigError(f"{script}: its incident commander is {person!r}, but --trainee is {trainee!r} "
                              "(the scripted trainee is the incident commander)")
    return [(person, role) for person, role in roster if role != IC]


def bound_parts(sim: Simulation | None, training: TrainingParts | None) -> list[Bindable]:
    """The simulator's and the training's parts that journal through the conductor."""
    parts: list[Bindable] = []
    if sim is not None:
        parts.append(sim.player)
        if sim.machine is not None:
            parts.append(sim.machine)
    if training is not None:
        if training.machine is not None and (sim is None or training.machine is not sim.machine):
            parts.append(training.machine)
        parts += [training.desk, training.responders]
    return parts
