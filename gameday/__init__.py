"""gameday: chaos engineering game days — scenarios, drills, journals, scorecards, postmortems.

The library API (what ``gameday``'s CLI uses; each function imports what it needs when called,
so importing this package has no side effects and imports no heavy library)::

    import gameday

    loaded = gameday.load_scenario("scenarios/checkout-db-primary-failure.yaml")  # every problem located
    code = gameday.run_drill(loaded.path, gameday.DrillOptions(mode="ci", out=Path("out")))
    journal = gameday.read_journal("out/journal.jsonl")  # typed events, validated line by line
    card = gameday.score(journal)                         # pure: the same journal, the same scorecard
    text = gameday.render_postmortem(journal, card, "md")
    aar = gameday.render_aar(journal, card, "html")     # a tabletop's after-action report
    rubric = gameday.score_training(journal)            # a training drill's incident commander rubric
    report = gameday.render_training(journal, rubric, "html")  # ... as the trainee's report

The package is layered (see ARCHITECTURE.md and the README's Layout):

* :mod:`gameday.model` — the frozen scenario, typed journal events, shared terms, policy and
  scorecard types (pure).
* :mod:`gameday.yamlio`, :mod:`gameday.loader` — files to models, every error with ``FILE:LINE:COL``.
* :mod:`gameday.journal` — the append-only JSON Lines event log of a drill.
* :mod:`gameday.ports` / :mod:`gameday.fakes` — every side effect's protocol, and fakes for tests.
* :mod:`gameday.sim` — the simulator of tabletop drills: faults' shadows behind the same ports,
  the MSEL player on the scenario clock, MSEL spreadsheets and replays of past drills.
* :mod:`gameday.drill` — the composition root (:mod:`gameday.drill.assemble`) and the conductor.
* :mod:`gameday.analysis` — scorecard and postmortem, pure functions of journals.
* :mod:`gameday.adapters`, :mod:`gameday.load`, :mod:`gameday.notify`, :mod:`gameday.monitoring`,
  :mod:`gameday.web` — the real parts behind the ports.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from gameday.version import __version__

if TYPE_CHECKING:
    from gameday.clock import Clock
    from gameday.drill.assemble import Factories
    from gameday.drill.context import DrillOptions, Echo
    from gameday.journal import Journal
    from gameday.loader import LoadedScenario
    from gameday.model.rubric import TrainingScore
    from gameday.model.scorecard import Scorecard
    from gameday.project import Project

__all__ = ["DrillOptions", "__version__", "load_project", "load_scenario", "read_journal", "render_aar",
           "render_postmortem", "render_scorecard", "render_training", "run_drill", "score", "score_training"]


def __getattr__(name: str) -> object:
    if name == "DrillOptions":  # the one type callers build: imported on first use
        from gameday.drill.context import DrillOptions

        return DrillOptions
    raise AttributeError(f"module 'gameday' has no attribute {name!r}")


def load_scenario(path: str | os.PathLike[str]) -> LoadedScenario:
    """Load, validate and resolve a scenario file; :class:`~gameday.errors.ScenarioError` lists every problem."""
    from gameday.loader import load_scenario as load

    return load(Path(path))


def load_project(start: str | os.PathLike[str] = ".") -> Project:
    """The project at or above ``start`` (its ``gameday.yaml``, if any)."""
    from gameday.loader import load_project as load

    return load(Path(start))


def run_drill(scenario_path: str | os.PathLike[str], options: DrillOptions | None = None, *, project: Project | None = None,
              clock: Clock | None = None, factories: Factories | None = None, echo: Echo | None = None) -> int:
    """Play one drill end to end and write its reports; the exit code (0 met, 1 not met, 3 aborted).
    See :func:`gameday.drill.assemble.run_drill`."""
    from gameday.drill.assemble import run_drill as run

    return run(Path(scenario_path), options, project=project, clock=clock, factories=factories, echo=echo)


def read_journal(path: str | os.PathLike[str]) -> Journal:
    """Read and validate a drill's journal; :class:`~gameday.errors.JournalError` names the bad line."""
    from gameday.journal import read_journal as read

    return read(path)


def score(journal: Journal) -> Scorecard:
    """The drill's scorecard: a pure function of its journal."""
    from gameday.analysis.scorecard import score_journal

    return score_journal(journal)


def render_scorecard(card: Scorecard, fmt: Literal["json", "md", "html"] = "json") -> str:
    """The scorecard as JSON (byte-stable), Markdown or HTML."""
    from gameday.analysis.render import render_scorecard as render

    return render(card, fmt)


def render_postmortem(journal: Journal, card: Scorecard, fmt: Literal["md", "html"] = "md", *,
                      templates_dir: Path | None = None, charts: list[Path] | None = None,
                      timeline: Path | bytes | None = None) -> str:
    """The blameless postmortem drafted from the journal and its scorecard. ``charts``: the load charts'
    PNG files; ``timeline``: the drill's timeline chart (:mod:`gameday.analysis.timeline_chart`) — its PNG
    file beside the output (linked and embedded), its bytes (embedded in HTML only), or None (none)."""
    from gameday.analysis.postmortem import render_postmortem as render

    return render(journal, card, fmt, templates_dir=templates_dir, charts=charts, timeline=timeline)


def render_aar(journal: Journal, card: Scorecard, fmt: Literal["md", "html"] = "md", *,
               templates_dir: Path | None = None) -> str:
    """A tabletop drill's after-action report (HSEEP: objectives rated P/S/M/U with their evidence,
    strengths, areas for improvement, the Improvement Plan)."""
    from gameday.analysis.aar import render_aar as render

    return render(journal, card, fmt, templates_dir)


def score_training(journal: Journal) -> TrainingScore:
    """A training drill's incident commander rubric (each item's verdict, why, coaching and evidence; the
    hints taken; the score out of 100): a pure function of its journal."""
    from gameday.analysis.rubric import score_training as score_it

    return score_it(journal.events, path=journal.path)


def render_training(journal: Journal, score: TrainingScore, fmt: Literal["md", "html"] = "md", *,
                    templates_dir: Path | None = None) -> str:
    """A training drill's report for the trainee: the rubric item by item (verdict, why, evidence,
    coaching), the hints taken, the story and what to practise next."""
    from gameday.analysis.training_report import render_training as render

    return render(journal, score, fmt, templates_dir)
