"""``gameday findings`` and ``gameday redrill``: the findings of the drills, followed until a re-drill
proves each fixed (``findings.yaml`` at the project root, or ``--file FILE``).

* ``findings list [--overdue] [--repeat] [--status S] [--json]`` — most pressing first;
* ``findings assign ID --owner NAME --due YYYY-MM-DD``;
* ``findings record JOURNAL...`` — drills run elsewhere (``--out DIR``, a CI job's reports folder);
* ``findings close ID --drill JOURNAL`` — a re-drill you ran (a tabletop or training drill's gaps);
* ``redrill ID`` — run the finding's scenario in ci mode and close it if the re-drill passes on its gap.

Exit codes: 0 done (a finding closed), 1 a re-drill that did not prove the fix (it stays open), 2 bad
input (an unknown id, a bad date, a findings file that does not validate: never overwritten), 3 the
re-drill was aborted. Titles, names and reasons are people's and drills' text: shown literally.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from gameday.cli.common import _guard

if TYPE_CHECKING:
    from rich.text import Text

    from gameday.model.findings import Finding

_FILE_HELP = "the findings file (default: findings.yaml at the project root, the folder of gameday.yaml)"
_RANK = {"reopened": 0, "open": 1, "closed": 2}


def _path(given: Path | None) -> Path:
    from gameday.program.findings import find_findings

    return find_findings(given, Path.cwd())


def _say(line: str) -> None:
    from gameday.model.textsafe import for_terminal

    click.echo(for_terminal(line))


@click.group()
def findings() -> None:
    """Findings of the drills, each followed until a re-drill proves it fixed (findings.yaml)."""


def overdue(f: Finding, today: date) -> bool:
    """Due before ``today`` and not closed."""
    return f.due is not None and f.due < today and f.status != "closed"


def _pressing(f: Finding, today: date) -> tuple[int, int, date, int, int, str]:
    """Most pressing first: not closed (reopened first), overdue, soonest due, most repeats, most seen."""
    return (_RANK[f.status], 0 if overdue(f, today) else 1, f.due or date.max, -f.repeats, -len(f.seen_in), f.id)


@findings.command("list")
@click.option("--overdue", "only_overdue", is_flag=True, help="only findings due before today and not closed")
@click.option("--repeat", "only_repeat", is_flag=True, help="only findings that came back after being closed")
@click.option("--status", type=click.Choice(["open", "reopened", "closed"]), multiple=True,
              help="only findings in this status (repeatable)")
@click.option("--json", "as_json", is_flag=True, help="the findings as JSON (each with 'overdue')")
@click.option("--file", "file", type=click.Path(path_type=Path, dir_okay=False), help=_FILE_HELP)
@_guard
def findings_list(only_overdue: bool, only_repeat: bool, status: tuple[str, ...], as_json: bool, file: Path | None) -> None:
    """The findings, most pressing first: reopened, then open (overdue first, then by due date, repeats
    and how often seen), then closed. Exit 2 if the findings file does not validate."""
    from gameday.program.findings import read_findings

    path = _path(file)
    today = date.today()
    shown = [f for f in read_findings(path).findings
             if (not only_overdue or overdue(f, today)) and (not only_repeat or f.repeats > 0)
             and (not status or f.status in status)]  # fmt: skip
    shown.sort(key=lambda f: _pressing(f, today))
    if as_json:
        import json

        click.echo(json.dumps([{**f.model_dump(mode="json"), "overdue": overdue(f, today)} for f in shown], indent=2))
        return
    if not shown:
        _say(f"no findings{' match' if only_overdue or only_repeat or status else ''} in {path}")
        return
    _table(shown, today)
    counts = {s: sum(1 for f in shown if f.status == s) for s in ("open", "reopened", "closed")}
    late = sum(1 for f in shown if overdue(f, today))
    _say(f"{len(shown)} finding(s) in {path}: {counts['open']} open, {counts['reopened']} reopened, "
         f"{counts['closed']} closed; {late} overdue")


def _text(value: object) -> Text:
    from rich.text import Text

    from gameday.model.textsafe import for_terminal

    return Text(for_terminal(value, single_line=True))


def _table(shown: list[Finding], today: date) -> None:
    """A table on a terminal; three plain lines per finding otherwise (a pipe, a CI log: easy to grep)."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(highlight=False, emoji=False, soft_wrap=False)
    if not console.is_terminal:
        for f in shown:
            due = f"due {f.due}{' (OVERDUE)' if overdue(f, today) else ''}" if f.due else "no due date"
            _say(f"{f.id}  {f.status}  {due}  owner {f.owner or 'unassigned'} ({f.owner_role})  seen in "
                 f"{len(f.seen_in)} drill(s)  repeats {f.repeats}")
            click.echo(f"    {_text(f.scenario)} · {_text(f.gap)}")
            click.echo(f"    {_text(f.title)}")
        return
    table = Table(show_lines=True)
    for column in ("id", "status", "scenario / gap", "what to improve", "owner", "due", "seen", "repeats"):
        table.add_column(column, overflow="fold", no_wrap=column in ("id", "status", "seen", "repeats"))
    for f in shown:
        when = Text(str(f.due) if f.due else "—")
        if overdue(f, today):
            when.append(" OVERDUE", style="bold red")
        owner = Text.assemble(_text(f.owner or "unassigned"), "\n", _text(f.owner_role))
        table.add_row(f.id, f.status, Text.assemble(_text(f.scenario), "\n", _text(f.gap)), _text(f.title), owner, when,
                      str(len(f.seen_in)), str(f.repeats))
    console.print(table)


@findings.command("assign")
@click.argument("finding_id", metavar="ID")
@click.option("--owner", metavar="NAME", help="the person who owns it")
@click.option("--due", type=click.DateTime(formats=["%Y-%m-%d"]), help="when it should be fixed (YYYY-MM-DD)")
@click.option("--file", "file", type=click.Path(path_type=Path, dir_okay=False), help=_FILE_HELP)
@_guard
def findings_assign(finding_id: str, owner: str | None, due: datetime | None, file: Path | None) -> None:
    """Give the finding ID an owner and/or a due date (ID: F-3a9c1e07, or enough of it to be unique).
    Exit 2 for an unknown ID (the closest ids are named), a bad name or date."""
    from gameday.program.findings import assign
    from gameday.web.client import person, utf8

    utf8(finding_id, "ID")
    name = person(owner, "--owner") if owner is not None else None
    f = assign(_path(file), finding_id, name, due.date() if due is not None else None)
    _say(f"{f.id}: owner {f.owner or 'unassigned'}, due {f.due or 'not set'} — {f.title}")


@findings.command("record")
@click.argument("journals", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--file", "file", type=click.Path(path_type=Path, dir_okay=False), help=_FILE_HELP)
@_guard
def findings_record(journals: tuple[Path, ...], file: Path | None) -> None:
    """Merge the findings of drills into the findings file: JOURNAL files, or folders (every
    journal.jsonl under them, e.g. a CI job's reports/). Recording a drill twice changes nothing. A
    drill run without --out is recorded when its reports are written. Exit 2 if a journal or the
    findings file is malformed (nothing is written)."""
    from gameday.analysis.scorecard import score_journal
    from gameday.errors import ConfigError
    from gameday.journal import read_journal
    from gameday.program.findings import drill_findings, record_drills

    files: list[Path] = []
    for given in journals:
        if given.is_dir():
            found = sorted(given.rglob("journal.jsonl"))
            if not found:
                raise ConfigError(f"{given}: no journal.jsonl in this folder or its subfolders")
            files += found
        else:
            files.append(given)
    drills = []
    for path in dict.fromkeys(files):
        journal = read_journal(path)
        drills.append(drill_findings(journal, score_journal(journal)))
    target = _path(file)
    for merged in record_drills(target, drills):
        _say(f"drill {merged.drill}: {merged.summary()}")
    _say(f"findings: {target}")


@findings.command("close")
@click.argument("finding_id", metavar="ID")
@click.option("--drill", "journal_path", required=True, type=click.Path(path_type=Path, dir_okay=False),
              metavar="JOURNAL", help="the re-drill's journal")
@click.option("--file", "file", type=click.Path(path_type=Path, dir_okay=False), help=_FILE_HELP)
@_guard
def findings_close(finding_id: str, journal_path: Path, file: Path | None) -> None:
    """Close the finding ID if the drill of JOURNAL, a re-drill of its scenario, proves it fixed (as
    gameday redrill judges; for a tabletop or training gap, a tabletop or training drill). The drill is
    recorded too. Exit 0 closed, 1 not proved (it stays open), 2 not a drill that can judge it, 3 the
    drill was aborted."""
    import sys

    from gameday.analysis.scorecard import score_journal
    from gameday.journal import read_journal
    from gameday.program.findings import drill_findings
    from gameday.program.redrill import close_with_drill
    from gameday.web.client import utf8

    utf8(finding_id, "ID")
    journal = read_journal(journal_path)
    card = score_journal(journal)
    done, decision = close_with_drill(_path(file), finding_id, drill_findings(journal, card), card, journal)
    _say(f"{done.id}: {'closed' if decision.closed else f'stays {done.status}'} — {decision.why}")
    sys.exit(decision.code)


@click.command("redrill")
@click.argument("finding_id", metavar="ID")
@click.option("--responders", type=click.Path(path_type=Path, dir_okay=False),
              help="scripted responder file (default: the scenario's responders:)")
@click.option("--file", "file", type=click.Path(path_type=Path, dir_okay=False), help=_FILE_HELP)
@_guard
def redrill(finding_id: str, responders: Path | None, file: Path | None) -> None:
    """Re-drill the finding ID: run its scenario in ci mode (reports in reports/ and scorecards/, as
    gameday run) and close the finding only if the re-drill passes on its gap: it completed, injected
    its faults, and its own findings do not hold this one (the step on time, the alert fired...). Its
    other findings are recorded as usual.

    \b
    Exit 0 closed (or already closed); 1 it stays open (the gap showed again, or the re-drill could not
    show it: nothing injected, the step never fell due); 2 bad input (unknown ID, its scenario file gone,
    a tabletop or training finding: see gameday findings close); 3 the re-drill was aborted."""
    from gameday.adapters.activity_host import prestart
    from gameday.cli import _exit_now
    from gameday.drill.play import ProcessSignals
    from gameday.program.redrill import run_redrill
    from gameday.web.client import utf8

    utf8(finding_id, "ID")
    signals = ProcessSignals().install()
    prestart(1)
    code = run_redrill(_path(file), finding_id, responders, _say)
    signals.reports_written()
    _exit_now(code)


@findings.command("schema")
def findings_schema() -> None:
    """Print the JSON Schema of the findings file (schema/findings.schema.json)."""
    from gameday.program.findings_file import json_schema_text

    click.echo(json_schema_text())
