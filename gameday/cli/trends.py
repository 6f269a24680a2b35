"""``gameday trends``: the trends across drills (MTTD, MTTA, MTTR, recovery, score per scenario and
mode over time, steps on time, severity accuracy, detection coverage, drill frequency, people and
incident-commander experience, readiness, repeat findings) as ``trends.html``, ``trends.csv`` and
``trends.json`` (:mod:`gameday.program.trends`)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from gameday.cli.common import _guard

if TYPE_CHECKING:
    from gameday.model.trends import RepeatSummary

DATE = click.DateTime(formats=["%Y-%m-%d"])


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path, file_okay=False))
@click.option("--out", "out", type=click.Path(path_type=Path, file_okay=False), help="where to write the three files "
              "(default: reports/trends/ at the project root)")
@click.option("--as-of", "as_of", type=DATE, help="the day readiness is judged on (default: today, UTC)")
@click.option("--rescore", is_flag=True, help="score every journal now instead of reading its scorecard or the cache")
@click.option("--no-cache", "no_cache", is_flag=True, help="neither read nor write the cache in .gameday/")
@_guard
def trends(paths: tuple[Path, ...], out: Path | None, as_of: datetime | None, rescore: bool, no_cache: bool) -> None:
    """The trends across drills, from every journal under PATHS (default: the project's reports/ and
    scorecards/). Each drill's measures come from its scorecard when it is current (else the journal is
    scored); live game days, ci, tabletop and training drills are never mixed."""
    from datetime import UTC

    from gameday.model.textsafe import for_terminal
    from gameday.program.trends_run import build_trends
    from gameday.project import PROJECT_FILE, load_project, project_places

    project = project_places(Path.cwd())  # without a gameday.yaml, nothing to parse: the unchanged run stays light
    folders = list(paths) or [_near(project.root / name) for name in ("reports", "scorecards")
                              if (project.root / name).is_dir()]  # a default folder not made yet is no history
    out_dir = out if out is not None else project.root / "reports" / "trends"
    day: date = as_of.date() if as_of is not None else datetime.now(UTC).date()
    scenarios, repeats = _program_facts(project.root)
    full = project.root / PROJECT_FILE  # validated whole whenever there is work to do (an unchanged run reads
    check = (lambda: load_project(project.root)) if full.is_file() else None  # only its two places)
    run = build_trends(folders, out_dir, as_of=day, state=None if no_cache else project.state_path, rescore=rescore,
                       scenarios=scenarios, repeats=repeats, templates_dir=project.templates_dir, before_work=check)
    for line in run.skipped:
        click.echo(for_terminal(f"gameday: skipped {line}", single_line=True), err=True)
    modes = ", ".join(f"{m} {n}" for m, n in run.modes.items())
    click.echo(f"{run.drills} drill(s) from {run.journals} journal(s)" + (f" ({modes})" if modes else ""))
    for path in run.paths:
        click.echo(for_terminal(f"{'current' if run.unchanged else 'wrote'} {path}", single_line=True))
    if run.unchanged:
        click.echo("nothing changed since the last run: the files above are current")
    import gc

    gc.freeze()  # the process ends next: its final collection need not walk every row and pandas (~0.1 s of exit)


def _program_facts(root: Path) -> tuple[list[str], RepeatSummary | None]:
    """The program's scenario ids (program.yaml's pool, when it loads) and the findings' repeat summary
    (findings.yaml, when there is one and it loads). Their readers are imported only for a file that is there."""
    from gameday.errors import GamedayError

    scenarios: list[str] = []
    if (root / "program.yaml").is_file():
        from gameday.program.programfile import PROGRAM_FILE, load_program

        try:
            scenarios = [p.scenario.id for p in load_program(root / PROGRAM_FILE).pool]
        except GamedayError:
            click.echo(f"gameday: {PROGRAM_FILE} does not validate: never-run scenarios are left out "
                       f"(gameday validate {PROGRAM_FILE})", err=True)
    repeats = None
    if (root / "findings.yaml").is_file():
        from gameday.program.findings_file import FINDINGS_FILE, read_findings
        from gameday.program.trends import repeat_summary

        try:
            repeats = repeat_summary(read_findings(root / FINDINGS_FILE))
        except GamedayError:
            click.echo(f"gameday: {FINDINGS_FILE} does not validate: the repeat rate is left out "
                       f"(gameday validate {FINDINGS_FILE})", err=True)
    return scenarios, repeats


def _near(path: Path) -> Path:
    """``path`` relative to the working folder when it is below it (journal paths in the outputs stay short)."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path
