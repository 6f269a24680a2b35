"""``gameday train``: a trainee's progress across training sessions, and their next scenario.

``report JOURNAL`` rescores one training journal and writes its training report again;
``profile NAME`` reads every training journal of the reports folder and shows the rubric items
over time, the rung on the incident commander ladder and what to practise next; ``next NAME``
draws the next scenario from the scenarios folder (:mod:`gameday.program.wheel`). An unknown
trainee is no error: they are an observer, and the wheel draws for one. Names, titles and
coaching lines are people's text: shown literally (never as rich markup).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from gameday.cli.common import _guard

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from gameday.model.program import Draw, Profile, RoleHeld
    from gameday.model.rubric import TrainingScore

#: How many sessions the profile's item table shows as columns (the latest ones).
SHOWN_SESSIONS = 6
VERDICT_CELLS = {"met": "met", "partly": "partly", "missed": "MISSED", "n/a": "n/a"}


@click.group()
def train() -> None:
    """Training incident commanders across sessions: a trainee's profile, the next scenario."""


def _person(name: str) -> str:
    from gameday.errors import ConfigError
    from gameday.model.names import NameRefused, check_name

    try:
        return check_name(name)
    except NameRefused as exc:
        raise ConfigError(f"NAME: {exc}") from None


def _project_root() -> Path:
    from gameday.loader import load_project

    return load_project(Path.cwd()).root


def _shown(path: Path | str) -> str:
    """A path as short as it can be shown: relative to the working folder when under it."""
    import os

    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel


def _sessions(name: str, journals: Path | None) -> tuple[list[TrainingScore], list[RoleHeld]]:
    """The trainee's sessions and roles held elsewhere, from ``journals`` (default: the project's
    reports/, which may not exist yet: then there are none). Skipped journals are warned about on stderr."""
    from gameday.model.textsafe import for_terminal
    from gameday.program.training import find_training_journals, roles_of, sessions_of

    folder = journals if journals is not None else _project_root() / "reports"
    if journals is None and not folder.is_dir():
        return [], []
    scan = find_training_journals(folder)
    warnings = list(scan.warnings)
    sessions = sessions_of(name, scan.journals, warnings)
    for warning in warnings:
        click.echo(for_terminal(f"gameday: skipped journal {warning}", single_line=True), err=True)
    return sessions, roles_of(name, scan.roles)


def _console() -> Console:
    from rich.console import Console

    return Console(highlight=False, emoji=False, soft_wrap=True)


def _text(value: object) -> Text:
    """People's text as a rich Text: never parsed as markup, control characters shown inert."""
    from rich.text import Text

    from gameday.model.textsafe import for_terminal

    return Text(for_terminal(value, single_line=True))


@train.command("report")
@click.argument("journal", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["md", "html", "json"]), default="md", show_default=True,
              help="json: the rubric alone (each item's verdict, why, coaching and evidence; the score)")
@click.option("--output", "-o", type=click.Path(path_type=Path), help="write to a file instead of stdout")
@click.option("--templates", type=click.Path(path_type=Path, file_okay=False),
              help="folder of templates overriding the built-in ones")
@_guard
def train_report(journal: Path, fmt: str, output: Path | None, templates: Path | None) -> None:
    """Score a training journal on the incident commander rubric again and write its training report
    (the same bytes as the drill wrote: it is a pure function of the journal). Exit 2 for a journal
    that is not a training drill's."""
    import gameday
    from gameday.cli.common import _emit

    j = gameday.read_journal(journal)
    score = gameday.score_training(j)
    if fmt == "json":
        _emit(score.model_dump_json(indent=2) + "\n", output)
        return
    tdir = templates or gameday.load_project(Path.cwd()).templates_dir
    _emit(gameday.render_training(j, score, "html" if fmt == "html" else "md", templates_dir=tdir), output)


@train.command("profile")
@click.argument("name")
@click.option("--journals", type=click.Path(path_type=Path),
              help="the folder of drill journals (default: the project's reports/)")
@click.option("--json", "as_json", is_flag=True, help="the profile as JSON")
@_guard
def train_profile(name: str, journals: Path | None, as_json: bool) -> None:
    """NAME's training sessions: each rubric item over time, the rung on the incident commander ladder
    (observer, scribe, shadow IC, IC) and why, what to practise next. A trainee with no sessions yet is
    an observer (exit 0). Exit 2 if --journals is not a folder."""
    from gameday.program.training import profile

    person = _person(name)
    sessions, roles = _sessions(person, journals)
    prof = profile(person, sessions, roles)
    if as_json:
        click.echo(prof.model_dump_json(indent=2))
        return
    _print_profile(prof, _console())


def _print_profile(prof: Profile, console: Console) -> None:
    from rich.table import Table
    from rich.text import Text

    standing = prof.standing
    if not prof.sessions:
        console.print(Text.assemble("no training sessions for ", _text(prof.trainee), f" yet: rung {standing.rung}"))
        console.print(Text.assemble("  why: ", _text(standing.reason)))
        console.print(Text.assemble("  next: ", _text(standing.next)))
        return
    console.print(Text.assemble(_text(prof.trainee), f": rung {standing.rung}"))
    console.print(Text.assemble("  why: ", _text(standing.reason)))
    if standing.next:
        console.print(Text.assemble("  next rung: ", _text(standing.next)))

    sessions = Table(title="Sessions", title_justify="left")
    for column in ("#", "started", "drill", "scenario", "diff.", "outcome", "score", "hints"):
        sessions.add_column(column, justify="right" if column in ("#", "diff.", "score", "hints") else "left",
                            overflow="fold")
    for number, row in enumerate(prof.sessions, start=1):
        sessions.add_row(str(number), _text(row.started_wall[:10]), _text(row.drill_id),
                         _text(row.scenario_id), "—" if row.difficulty is None else str(row.difficulty),
                         row.outcome, f"{row.score:g}", str(row.hints))
    console.print(sessions)

    first = max(0, len(prof.sessions) - SHOWN_SESSIONS)
    shown = prof.sessions[first:]
    items = Table(title="Rubric items over time" + (f" (the latest {len(shown)} sessions)" if first else ""),
                  title_justify="left")
    items.add_column("item")
    for number in range(first + 1, len(prof.sessions) + 1):
        items.add_column(f"#{number}")
    items.add_column("average", justify="right")
    items.add_column("trend")
    for item in prof.items:
        by_drill = {v.drill_id: v.verdict for v in item.verdicts}
        cells = [VERDICT_CELLS.get(by_drill.get(row.drill_id, "n/a"), "n/a") for row in shown]
        items.add_row(item.title, *cells, "—" if item.mean is None else f"{item.mean:.2f}", item.trend)
    console.print(items)

    if not prof.practise:
        console.print("Practise next: nothing below 'met' in the latest sessions; try a harder scenario "
                      "(gameday train next).")
        return
    console.print("Practise next:")
    for number, practice in enumerate(prof.practise, start=1):
        line = Text.assemble(f"  {number}. {practice.title} (average {practice.recent_mean:.2f} over the latest sessions)")
        if practice.coaching:
            line.append_text(Text.assemble(": ", _text(practice.coaching)))
        console.print(line)


@train.command("next")
@click.argument("name")
@click.option("--scenarios", type=click.Path(path_type=Path),
              help="the folder of scenarios to draw from (default: the project's scenarios/)")
@click.option("--journals", type=click.Path(path_type=Path),
              help="the folder of drill journals (default: the project's reports/)")
@click.option("--seed", type=int, help="the draw's seed (default: from NAME and their number of sessions)")
@click.option("--json", "as_json", is_flag=True, help="the draw as JSON")
@_guard
def train_next(name: str, scenarios: Path | None, journals: Path | None, seed: int | None, as_json: bool) -> None:
    """Draw NAME's next training scenario (a wheel of misfortune): among the scenarios with a difficulty:,
    weighted towards the difficulty for NAME's rung and towards NAME's weakest rubric items, never the
    scenario of NAME's latest session. Reproducible: the same sessions and seed give the same draw.
    Exit 2 if a folder is missing or no scenario has a difficulty:."""
    from gameday.errors import ConfigError
    from gameday.model.program import Skipped
    from gameday.program.wheel import draw_next, load_wheel

    person = _person(name)
    folder = scenarios if scenarios is not None else _project_root() / "scenarios"
    loaded, skipped = load_wheel(folder)
    sessions, roles = _sessions(person, journals)
    draw = draw_next(person, sessions, [(_shown(p), sc) for p, sc in loaded], seed, roles_elsewhere=roles,
                     skipped=[Skipped(path=_shown(s.path), reason=s.reason) for s in skipped])
    if as_json:
        click.echo(draw.model_dump_json(indent=2))
    else:
        _print_draw(draw, _console())
    if draw.chosen is None:
        raise ConfigError(f"{folder}: no scenario to draw: none has a difficulty: field (1 to 5)")


def _print_draw(draw: Draw, console: Console) -> None:
    from rich.table import Table
    from rich.text import Text

    span = f"{draw.target[0]}" if draw.target[0] == draw.target[1] else f"{draw.target[0]}-{draw.target[1]}"
    if draw.chosen is not None:
        console.print(Text.assemble("Next for ", _text(draw.trainee), f" (rung {draw.rung}, target difficulty {span}): ",
                                    _text(draw.chosen.path)))
        console.print(Text.assemble("  ", _text(draw.chosen.title)))
        console.print(Text.assemble("  why: ", _text(draw.why)))
    if draw.candidates:
        table = Table(title="The wheel", title_justify="left")
        for column in ("scenario", "diff.", "fit", "exercises", "weight", "note"):
            table.add_column(column, justify="right" if column in ("diff.", "fit", "weight") else "left", overflow="fold")
        for c in draw.candidates:
            drawn = draw.chosen is not None and c.path == draw.chosen.path
            note = "drawn" if drawn else "played last time" if c.left_out else ""
            table.add_row(_text(Path(c.path).name), str(c.difficulty), f"{c.fit:g}", ", ".join(c.exercises) or "—",
                          f"{c.weight:g}", _text(note))
        console.print(table)
    if draw.skipped:
        console.print(f"Skipped ({len(draw.skipped)}):")
        for s in draw.skipped:
            console.print(Text.assemble("  ", _text(s.path), ": ", _text(s.reason)))
