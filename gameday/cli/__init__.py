"""The ``gameday`` command line: thin over the library.

Exit codes (documented in the README):

* 0 — success; for ``run``, every expectation met
* 1 — the drill ran but expectations were not met
* 2 — invalid input (scenario, journal, flags)
* 3 — aborted, or an infrastructure failure (steady state, injector, signal, open ledger)

Heavy libraries (pandas, chaoslib, jinja2, fastapi) are imported inside commands only,
so ``gameday --help`` stays fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal

import click

import gameday
from gameday.cli.common import _emit, _guard
from gameday.errors import EXIT_INVALID_INPUT
from gameday.version import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gameday")
def main() -> None:
    """Chaos engineering game days: run scenarios, journal drills, score them, draft postmortems."""


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--quiet", "-q", is_flag=True, help="print errors only")
@click.option("--recursive", "-r", is_flag=True, help="in a folder, search its subfolders too")
@_guard
def validate(paths: tuple[Path, ...], quiet: bool, recursive: bool) -> None:
    """Validate gameday files, each as what it is: scenarios (and the experiments and responder
    files they reference), responder files, Chaos Toolkit experiments, gameday.yaml. A folder's
    YAML files that are none of these are skipped with a note. Exit 0 if all valid, 2 otherwise."""
    from gameday.loader import validate_paths
    from gameday.model.textsafe import for_terminal  # file names and quoted values are the user's text

    ok = validate_paths(list(paths), echo=lambda line: click.echo(for_terminal(line), err=True), quiet=quiet,
                        out=lambda line: click.echo(for_terminal(line)), recursive=recursive)
    sys.exit(0 if ok else EXIT_INVALID_INPUT)


@main.command()
@click.option("--journal", "journal", is_flag=True, help="the schema of one journal line instead (JSON Lines)")
def schema(journal: bool) -> None:
    """Print the JSON Schema of the scenario format (point your editor's YAML language server at it),
    or with --journal that of one journal line."""
    if journal:
        import json

        from gameday.model.eventio import journal_schema

        click.echo(json.dumps(journal_schema(), indent=2, ensure_ascii=False))
        return
    from gameday.loader import json_schema_text

    click.echo(json_schema_text())


@main.command()
@click.argument("journal", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["json", "md", "html"]), default="json", show_default=True)
@click.option("--output", "-o", type=click.Path(path_type=Path), help="write to a file instead of stdout")
@_guard
def score(journal: Path, fmt: Literal["json", "md", "html"], output: Path | None) -> None:
    """Score a drill journal. Deterministic: the same journal gives byte-identical JSON."""
    card = gameday.score(gameday.read_journal(journal))
    _emit(gameday.render_scorecard(card, fmt), output)


@main.command()
@click.argument("journal", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["md", "html"]), default="md", show_default=True)
@click.option("--output", "-o", type=click.Path(path_type=Path), help="write to a file instead of stdout")
@click.option(
    "--templates", type=click.Path(path_type=Path, file_okay=False), help="folder of templates overriding the built-in ones"
)
@_guard
def postmortem(journal: Path, fmt: Literal["md", "html"], output: Path | None, templates: Path | None) -> None:
    """Draft the blameless postmortem of a drill from its journal."""
    j = gameday.read_journal(journal)
    tdir = templates or gameday.load_project(Path.cwd()).templates_dir
    card = gameday.score(j)
    charts = None
    if output is not None and card.impact is not None:  # load charts beside the file, linked (md) or embedded (html)
        from gameday.analysis.charts import render_charts

        charts = render_charts(j, output.parent)
    from gameday.analysis.timeline_chart import render_timeline, timeline_image

    timeline: Path | bytes | None = None  # the timeline chart: timeline.png beside the file; to stdout, HTML embeds it
    if output is not None:
        timeline = render_timeline(j, card, output.parent)
    elif fmt == "html":
        timeline = timeline_image(j, card)
    _emit(gameday.render_postmortem(j, card, fmt, templates_dir=tdir, charts=charts, timeline=timeline), output)


@main.command()
@click.argument("journal", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["md", "html"]), default="md", show_default=True)
@click.option("--output", "-o", type=click.Path(path_type=Path), help="write to a file instead of stdout")
@click.option(
    "--templates", type=click.Path(path_type=Path, file_okay=False), help="folder of templates overriding the built-in ones"
)
@_guard
def aar(journal: Path, fmt: Literal["md", "html"], output: Path | None, templates: Path | None) -> None:
    """Draft the after-action report of a tabletop drill from its journal: objectives rated P/S/M/U with
    their evidence, strengths, areas for improvement and the Improvement Plan. Exit 2 for a journal
    that is not a tabletop's."""

    j = gameday.read_journal(journal)
    tdir = templates or gameday.load_project(Path.cwd()).templates_dir
    _emit(gameday.render_aar(j, gameday.score(j), fmt, templates_dir=tdir), output)


@main.command()
@click.argument("scenario", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--mode", type=click.Choice(["gameday", "ci", "tabletop", "training"]), default="gameday",
              show_default=True, help="tabletop: no live faults; the simulator plays the MSEL, a facilitator paces it. "
              "training: a trainee is the incident commander, simulated responders play the other roles")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), help="put every output of the drill in this "
              "folder (a suite: its junit.xml; each drill's files go to reports/ and scorecards/)")
@click.option("--responders", type=click.Path(path_type=Path, dir_okay=False),
              help="scripted responder file (ci; tabletop: plays the participants headless; training: a scripted trainee)")
@click.option("--drill-id", help="drill id (default: scenario id + UTC time)")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="where the control room and the alert intake listen (not loopback: needs monitoring.auth)")
@click.option("--port", type=click.IntRange(0, 65535), default=0, help="their port (default: a free one)")
@click.option("--no-web", is_flag=True, help="without the control room (gameday, tabletop, training: starts at once)")
@click.option("--pace", help="tabletop, training: scenario time against wall time, e.g. 4h:45m; real (default), "
              "manual (the facilitator advances to each inject) or instant (headless, with --responders)")
@click.option("--trainee", metavar="NAME", help="training: the person practising incident command")
@click.option("--live", is_flag=True, help="training: inject the faults for real against the target (else simulated)")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), help="training: the simulated responders' seed "
              "(default: from the drill id; the same seed and instructions replay the same answers)")
@click.option("--allow-production", is_flag=True, help="drill a target the scenario declares as production (or "
              "containers labelled production); every report says so")
@_guard
def run(scenario: tuple[Path, ...], mode: str, out: Path | None, responders: Path | None, drill_id: str | None, host: str,
        port: int, no_web: bool, pace: str | None, trainee: str | None, live: bool, seed: int | None,
        allow_production: bool) -> None:
    """Run a drill: inject the scenario's faults, observe, take in alerts and actions, roll back, report.

    In gameday mode the control room is served (the facilitator's link is printed) and the
    drill starts when the facilitator presses start. In tabletop mode nothing is injected: the
    simulator plays the scenario's MSEL (or the one derived from its faults) on the scenario clock,
    paced by --pace, and the facilitator's console runs it (with --responders FILE, headless). In
    training mode --trainee NAME is the incident commander; simulated responders play the other
    roles and answer the trainee's instructions; the faults are simulated unless --live; the
    training report (training.md, training.html) scores the incident commander's rubric.

    A folder (its own *.yaml files, sorted) or several scenarios run as a CI suite with --mode ci: one
    drill after another in one process, against one start-up of the target, with one JUnit file
    (reports/suites/TIME/junit.xml, or --out DIR/junit.xml) and one exit code, the worst of the drills'
    (3, then 2, then 1, then 0); each drill's files go where a single run writes them."""
    from gameday.drill.context import DrillOptions
    from gameday.drill.play import ProcessSignals
    from gameday.model.terms import Mode

    signals = ProcessSignals().install()
    # Most scenarios run Chaos Toolkit activities, each folder's in a child process that takes ~0.3 s to
    # import chaoslib: start one now, on a guess, so it does that beside gameday's own imports rather than
    # while a fault at 0 s waits (run_drill tops it up, or ends it, once the scenario is read).
    from gameday.adapters.activity_host import prestart

    modes: dict[str, Mode] = {"ci": "ci", "tabletop": "tabletop", "gameday": "gameday", "training": "training"}
    options = DrillOptions(mode=modes[mode], out=out, responders=responders, drill_id=drill_id,
                           host=host, port=port, web=False if no_web else None, pace=pace, trainee=trainee, live=live,
                           seed=seed, allow_production=allow_production)
    if not options.simulated:  # a simulated drill runs no activity
        prestart(1)
    if len(scenario) > 1 or scenario[0].is_dir():  # a CI suite: gameday.suite
        from gameday.model.textsafe import for_terminal
        from gameday.suite.runner import run_suite

        code = run_suite(list(scenario), options, warn=lambda line: click.echo(for_terminal(line), err=True))
    else:
        code = gameday.run_drill(scenario[0], options)
    signals.reports_written()
    _exit_now(code)


def _exit_now(code: int) -> None:
    """End the process at once, once the drill is over: every report is written (atomically), the journal
    fsynced, every service the drill started stopped. Interpreter finalization is skipped: it walks the
    ~1000 modules a drill imports (~60-70 ms), and a daemon thread still running Python code while it
    tears them down can crash CPython (seen as SIGSEGV after the reports, exit -11 for 0 or 3). The
    streams are flushed first; the spare activity processes end when their stdin closes."""
    import contextlib
    import os

    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed or broken pipe: nothing more can reach it
            stream.flush()
    os._exit(code)


@main.command()
@click.option("--forget", "forget", metavar="FAULT", help="strike FAULT off the ledger WITHOUT rolling it back "
              "(you restored it by hand); needs --reason")
@click.option("--reason", metavar="TEXT", help="with --forget: why it can be forgotten (kept in the recover log and the journal)")
@click.option("--drill", metavar="DRILL", help="with --forget: the drill id, when FAULT is open for several drills")
@click.option("--by", metavar="NAME", help="who is recovering (default: your login name)")
@_guard
def recover(forget: str | None, reason: str | None, drill: str | None, by: str | None) -> None:
    """Roll back every fault the fault ledger still holds open (after a crash, or a failed rollback).

    With --forget FAULT --reason TEXT, strike one fault off without rolling it back, once you have
    restored it by hand. Every fault settled is logged in the state folder's recover-log.jsonl
    and, when reachable, appended to its drill's journal."""
    from gameday.drill.recover import forget_fault, recover_open_faults
    from gameday.loader import load_project
    from gameday.web.client import person, utf8

    for value, where in ((forget, "--forget"), (reason, "--reason"), (drill, "--drill")):
        if value is not None:
            utf8(value, where)
    by = person(by, "--by") if by is not None else None
    if forget is None and (reason is not None or drill is not None):
        raise click.UsageError("--reason and --drill go with --forget FAULT")
    if forget is not None and not (reason or "").strip():
        raise click.UsageError("--forget needs --reason TEXT: why the fault can be forgotten")
    from gameday.model.textsafe import for_terminal  # lines quote reasons and errors from files and people

    project = load_project(Path.cwd())
    if forget is not None:
        for line in forget_fault(project.state_path, forget, reason or "", drill=drill, by=by):
            click.echo(for_terminal(line))
        return
    lines = recover_open_faults(project.state_path, by=by)
    for line in lines:
        click.echo(for_terminal(line))
    if not lines:
        click.echo(for_terminal(f"ledger is clear: nothing to roll back (looked in {project.state_path}: a drill's "
                                "ledger is in the .gameday folder of the project it ran from)"))


@main.command(context_settings={"ignore_unknown_options": False})
@click.argument("drill")
@click.argument("action")
@click.argument("args", nargs=-1)
@click.option("--as", "as_", metavar="NAME", help="who did it (a responder's token acts as its owner)")
@click.option("--role", help="the role acted in (default: the role NAME holds)")
@click.option("--token", help="the token (default: $GAMEDAY_TOKEN, the join link's, or the facilitator's token file)")
@click.option("--draft", is_flag=True, help="post_update/notify_executives without TEXT: send the template's draft")
@click.option("--within", metavar="DURATION", help="training: the time box of a task or a call for objections (5m, 90s)")
@click.option("--runbook", metavar="NAME", help="training: the runbook of a runbook task")
@click.option("--audience", type=click.Choice(["internal", "external", "executive"]),
              help="training: the audience of an update task")
@click.option("--json", "as_json", is_flag=True, help="print the API's JSON answer")
@_guard
def act(drill: str, action: str, args: tuple[str, ...], as_: str | None, role: str | None, token: str | None,
        draft: bool, within: str | None, runbook: str | None, audience: str | None, as_json: bool) -> None:
    """Do a responder action (or a facilitator control) in a running drill, from a terminal.

    \b
    DRILL: a drill id, '.', the control room's URL, or a join link.
    Responder ACTIONs: acknowledge | declare_incident [SEV] | set_severity SEV | assign_role PERSON ROLE |
      runbook NAME | mark_detected | post_update AUDIENCE TEXT... | notify_executives TEXT... |
      note TEXT... | resolved   (TEXT '-' reads stdin)
    Facilitator: start | pause | resume | inject FAULT | skip FAULT | abort [REASON] | end [REASON] |
      invite PERSON [ROLE] | revoke PERSON
    Training (the incident commander; the facilitator's token records for them): command [TEXT...] |
      task TO KIND [TEXT...] [--within 5m] [--runbook R] [--audience A] | objections PROPOSAL... [--within 2m] |
      decide DECISION... | handover TO BRIEFING... | hint   (KIND: investigate, runbook, update,
      notify_executives, other)
    Arguments and stdin must be UTF-8 (exit 2 otherwise); names (--as, PERSON, TO) follow the names rule.
    A bad command line or a refusal by the control room exits 2, an unreachable room 3.
    """
    import json

    from gameday.loader import load_project
    from gameday.web.client import ControlRoomClient, build_request, find_drill, format_answer

    ref = find_drill(drill, load_project(Path.cwd()).state_path, token)
    with ControlRoomClient(ref) as client:
        def text_source(field, values):
            if not draft:
                return None
            return client.draft(values.get("audience", "executive"))

        method, path, body = build_request(action, list(args), as_=as_, role=role, text_source=text_source,
                                           within=within, runbook=runbook, audience=audience)
        answer = client.request(method, path, body)
    # JSON escapes every control character (ensure_ascii); the text form is neutralised
    click.echo(json.dumps(answer, indent=2) if as_json else format_answer(answer))


@main.command()
@click.argument("drill", default=".")
@click.option("--token", help="the token (default: $GAMEDAY_TOKEN, the join link's, or the facilitator's token file)")
@click.option("--lines", "-n", type=click.IntRange(0, 1000), default=25, show_default=True, help="timeline rows to show")
@click.option("--json", "as_json", is_flag=True, help="print the page state as JSON")
@_guard
def status(drill: str, token: str | None, lines: int, as_json: bool) -> None:
    """Show a running drill: roles, incident, countdowns, runbooks and the timeline (DRILL as for 'act')."""
    import json

    from gameday.loader import load_project
    from gameday.web.client import ControlRoomClient, find_drill, format_status

    ref = find_drill(drill, load_project(Path.cwd()).state_path, token)
    with ControlRoomClient(ref) as client:
        state = client.state()
    click.echo(json.dumps(state, indent=2) if as_json else format_status(state, lines))


def _register() -> None:
    """The command groups kept in their own modules (imported here, after ``main`` exists)."""
    from gameday.cli.demo import demo
    from gameday.cli.findings import findings, redrill
    from gameday.cli.msel import msel
    from gameday.cli.program import program
    from gameday.cli.train import train
    from gameday.cli.trends import trends

    main.add_command(demo)
    main.add_command(msel)
    main.add_command(train)
    main.add_command(program)
    main.add_command(trends)
    main.add_command(findings)
    main.add_command(redrill)


_register()


if __name__ == "__main__":  # pragma: no cover
    main()
