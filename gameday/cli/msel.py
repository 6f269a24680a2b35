"""``gameday msel``: the MSEL (a scenario's injects) in and out of spreadsheets, and a tabletop from a past drill."""

from __future__ import annotations

from pathlib import Path

import click

from gameday.cli.common import _guard

# --- the MSEL in and out of spreadsheets, and a tabletop from a past drill -----------------------


@click.group()
def msel() -> None:
    """The MSEL (a scenario's injects) in and out of spreadsheets, and a tabletop from a past drill."""


@msel.command("export")
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--output", "-o", type=click.Path(path_type=Path, dir_okay=False), help="write to a file instead of stdout")
@click.option("--bom", is_flag=True, help="start with a UTF-8 byte-order mark (for Excel on Windows)")
@_guard
def msel_export(scenario: Path, output: Path | None, bom: bool) -> None:
    """Write SCENARIO's MSEL as CSV with HSEEP's column names (its injects, or without any the MSEL
    its faults' simulated shadows imply). Exit 2 if the scenario is invalid."""
    from gameday.errors import ConfigError
    from gameday.loader import load_scenario
    from gameday.sim.mselcsv import export_msel

    if output is not None and output.resolve() == scenario.resolve():
        raise ConfigError(f"{output}: is this command's input: write the CSV to another file")
    text = ("\ufeff" if bom else "") + export_msel(load_scenario(scenario).scenario)
    if output is None:
        click.echo(text, nl=False)
        return
    from gameday.fsutil import atomic_write

    atomic_write(output, text)


@msel.command("import")
@click.argument("csv_file", metavar="FILE.csv", type=click.Path(path_type=Path))
@click.option("--into", "base", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="the scenario the MSEL goes into (its injects: are replaced)")
@click.option("--output", "-o", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="the scenario file to write (not FILE.csv, not --into's)")
@_guard
def msel_import(csv_file: Path, base: Path, output: Path) -> None:
    """Read an MSEL sheet (CSV, HSEEP's columns) into a copy of the --into scenario, written to -o.
    Every problem is located FILE:ROW:COLUMN; exit 2 (nothing written) if there is any."""
    from gameday.sim.mselcsv import import_into

    injects = import_into(csv_file, base, output)
    click.echo(f"{output}: {len(injects)} inject{'s' if len(injects) != 1 else ''} from {csv_file}", err=True)


@msel.command("from-journal")
@click.argument("journal", type=click.Path(path_type=Path))
@click.option("--output", "-o", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="the tabletop scenario file to write")
@click.option("--project", type=click.Path(path_type=Path, file_okay=False),
              help="where to look for the files the drill's scenario names, if not beside it")
@_guard
def msel_from_journal(journal: Path, output: Path, project: Path | None) -> None:
    """Turn a past live drill's JOURNAL into a tabletop scenario that replays its real alerts and
    timeline as injects, with the drill's faults, detection and steps (so it scores the same way).
    Exit 2 for a journal that is malformed or not a live drill's."""
    from gameday.model.textsafe import for_terminal
    from gameday.sim.replay import replay_file

    replay = replay_file(journal, output, project=project)
    for line in replay.left_out:
        click.echo(for_terminal(f"gameday: left out: {line}", single_line=True), err=True)
    count = len(replay.scenario.injects)
    click.echo(f"{output}: {count} inject{'s' if count != 1 else ''} replayed from drill {for_terminal(replay.drill_id)}",
               err=True)
