"""``gameday program``: the game-day program — the next game days with a scenario and a person for
every role (``plan``, also as iCalendar), the next game day's agenda (``next``), and the program
file's JSON Schema (``schema``).

The program file is ``program.yaml`` at the project root (or ``--program FILE``); the history is
read from the project's ``reports/`` and ``scorecards/`` (:mod:`gameday.program.history`). Names,
titles and reasons are people's text: shown literally (never as rich markup).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from gameday.cli.common import _guard

if TYPE_CHECKING:
    from rich.text import Text

    from gameday.model.program_plan import Plan

DATE = click.DateTime(formats=["%Y-%m-%d"])


@click.group()
def program() -> None:
    """The game-day program: schedule, fair role rotation, scenario choice, agenda (program.yaml)."""


def _text(value: object) -> Text:
    from rich.text import Text

    from gameday.model.textsafe import for_terminal

    return Text(for_terminal(value, single_line=True))


def _plan(program_file: Path | None, start: datetime | None, months: int) -> Plan:
    from zoneinfo import ZoneInfo

    from gameday.model.textsafe import for_terminal
    from gameday.program.history import read_history
    from gameday.program.plan import make_plan, months_after
    from gameday.program.programfile import find_program, load_program
    from gameday.project import find_root

    path = find_program(program_file, Path.cwd())
    loaded = load_program(path)
    prog = loaded.program
    today = datetime.now(ZoneInfo(prog.cadence.timezone)).date()
    first: date = start.date() if start is not None else max(today, prog.cadence.start)
    history = read_history(find_root(path.resolve().parent), prog.roster.people)
    plan = make_plan(loaded, history, first, months_after(first, months))
    for warning in plan.warnings:
        click.echo(for_terminal(f"gameday: {warning}", single_line=True), err=True)
    return plan


@program.command("plan")
@click.option("--months", type=click.IntRange(1, 60), default=3, show_default=True, help="how far ahead to plan")
@click.option("--from", "start", type=DATE, help="the first day of the plan (default: today in the program's time zone)")
@click.option("--ics", type=click.Path(path_type=Path, dir_okay=False), help="also write the plan as an iCalendar file")
@click.option("--json", "as_json", is_flag=True, help="the plan as JSON")
@click.option("--program", "program_file", type=click.Path(path_type=Path),
              help="the program file (default: program.yaml at the project root)")
@_guard
def program_plan(months: int, start: datetime | None, ics: Path | None, as_json: bool, program_file: Path | None) -> None:
    """The next game days: each date (local and UTC), its scenario and why, and a person for every role
    and why. Exit 2 if the program file is missing or invalid (every problem located)."""
    plan = _plan(program_file, start, months)
    if ics is not None:
        from datetime import UTC

        from gameday.fsutil import atomic_write
        from gameday.program.ics import plan_to_ics

        atomic_write(ics, plan_to_ics(plan, datetime.now(UTC).replace(microsecond=0)))
    if as_json:
        click.echo(plan.model_dump_json(indent=2))
        return
    _print_plan(plan)
    if ics is not None:
        from gameday.model.textsafe import for_terminal

        click.echo(for_terminal(f"calendar: {ics} ({len(plan.game_days)} game days)", single_line=True))


def _print_plan(plan: Plan) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(highlight=False, emoji=False, soft_wrap=False)
    console.print(Text.assemble(_text(plan.program), f": game days {plan.first} to {plan.last} ({plan.timezone})"))
    if not plan.game_days:
        console.print("no game day in this period")
    table = Table(show_lines=True)
    for column in ("#", "when (local / UTC)", "scenario and why", "roles"):
        table.add_column(column, overflow="fold")
    for day in plan.game_days:
        when = Text.assemble(f"{day.date} {day.start_local[11:16]}-{day.end_local[11:16]} {day.start_local[19:]}\n",
                             f"UTC {day.start_utc[11:16]}-{day.end_utc[11:16]}")
        if day.note:
            when.append_text(Text.assemble("\n", _text(day.note)))
        scenario = Text.assemble(_text(day.scenario.title), "\n", _text(day.scenario.path), "\nwhy: ",
                                 _text(day.scenario.why))
        roles = Text()
        for n, a in enumerate(day.roles):
            roles.append_text(Text.assemble("\n" if n else "", _text(a.role), " → ", _text(a.person or "OPEN"),
                                            "\n  ", _text(a.why)))
        table.add_row(str(day.number), when, scenario, roles)
    if plan.game_days:
        console.print(table)
    for skip in plan.skipped:
        console.print(Text.assemble("skipped: ", _text(skip.reason)))


@program.command("next")
@click.option("--from", "start", type=DATE, help="look from this day (default: today in the program's time zone)")
@click.option("--program", "program_file", type=click.Path(path_type=Path),
              help="the program file (default: program.yaml at the project root)")
@click.option("--output", "-o", type=click.Path(path_type=Path, dir_okay=False), help="write to a file instead of stdout")
@_guard
def program_next(start: datetime | None, program_file: Path | None, output: Path | None) -> None:
    """The next game day's agenda (Markdown): when, the scenario, roles and people, the facilitator's
    checklist. Exit 2 if the program file is missing or invalid, or no game day falls in the next year."""
    from gameday.cli.common import _emit
    from gameday.errors import ConfigError
    from gameday.program.agenda import agenda_md

    plan = _plan(program_file, start, 12)
    if not plan.game_days:
        raise ConfigError(f"no game day from {plan.first} to {plan.last}: check the cadence and the closed days")
    _emit(agenda_md(plan, plan.game_days[0]), output)


@program.command("schema")
def program_schema() -> None:
    """Print the JSON Schema of the program file (schema/program.schema.json)."""
    from gameday.program.programfile import json_schema_text

    click.echo(json_schema_text())
