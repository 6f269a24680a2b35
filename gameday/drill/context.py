"""What a drill's services are given: the options ``gameday run`` was asked for, and the drill's
context (typed; no free-form options). Built by the composition root, :mod:`gameday.drill.assemble`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gameday.drill.conductor import Conductor
from gameday.drill.targets import TargetInfo
from gameday.journal import JournalWriter
from gameday.loader import LoadedScenario
from gameday.model.scenario import Scenario
from gameday.model.terms import Mode
from gameday.model.textsafe import for_terminal
from gameday.ports import IntakeServer, ProbeLoop
from gameday.project import Project

if TYPE_CHECKING:
    from gameday.sim.msel import MselPlayer
    from gameday.sim.training import TrainingDesk

Echo = Callable[[str], None]
"""Where a drill's lines go (``gameday run``'s output): one line a call."""


def say(line: str) -> None:
    """The default :data:`Echo`: print ``line`` neutralised for a terminal (outside text in it, such as
    an abort reason or a name, never reaches the terminal as an escape sequence or a bidi control:
    :func:`gameday.model.textsafe.for_terminal`), flushed at once (CI logs and wrappers read it live)."""
    print(for_terminal(line), flush=True)


@dataclass(frozen=True)
class DrillOptions:
    """What ``gameday run`` was asked for, besides the scenario."""

    mode: Mode = "gameday"
    out: Path | None = None
    responders: Path | None = None
    drill_id: str | None = None
    host: str = "127.0.0.1"
    port: int = 0  # 0: a free port
    web: bool | None = None  # the control room: None lets the mode decide (on in gameday mode)
    notify: bool = True
    pace: str | None = None  # tabletop, training: --pace (SCENARIO:WALL, real, manual or instant); None: real
    trainee: str | None = None  # training: the person practising incident command
    live: bool = False  # training: inject the faults for real (else simulated)
    seed: int | None = None  # training: the simulated responders' seed (None: from the drill id)
    allow_production: bool = False  # --allow-production: a target declared or labelled production may be drilled

    @property
    def simulated(self) -> bool:
        """Faults are simulated shadows: a tabletop, or a training drill without --live."""
        return self.mode == "tabletop" or (self.mode == "training" and not self.live)


@dataclass
class DrillContext:
    """Everything a drill service may need about the drill being run (typed; no free-form options)."""

    project: Project
    loaded: LoadedScenario
    options: DrillOptions
    drill_id: str
    state_dir: Path
    target: TargetInfo
    webhook_url: str
    intake: IntakeServer
    probes: ProbeLoop
    conductor: Conductor
    journal: JournalWriter
    echo: Echo = say
    exercise: MselPlayer | None = None  # tabletop, simulated training: the MSEL player, the facilitator's desk
    training: TrainingDesk | None = None  # training: the trainee's desk

    @property
    def scenario(self) -> Scenario:
        return self.loaded.scenario

    @property
    def mode(self) -> Mode:
        return self.options.mode

    @property
    def target_url(self) -> str | None:
        return self.target.url
