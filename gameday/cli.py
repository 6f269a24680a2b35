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
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click

from gameday import __version__
from gameday.errors import EXIT_INVALID_INPUT, GamedayError


def _guard(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn every GamedayError into its one-line message and exit code; no tracebacks."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except GamedayError as exc:
            click.echo(f"gameday: {exc}" if "\n" not in str(exc) else str(exc), err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("gameday: interrupted", err=True)
            sys.exit(3)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gameday")
def main() -> None:
    """Chaos engineering game days: run scenarios, journal drills, score them, draft postmortems."""


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--quiet", "-q", is_flag=True, help="print errors only")
@_guard
def validate(paths: tuple[Path, ...], quiet: bool) -> None:
    """Validate scenario files (and the experiments they reference). Exit 0 if all valid, 2 otherwise."""
    from gameday.loader import validate_paths

    ok = validate_paths(list(paths), echo=lambda line: click.echo(line, err=True), quiet=quiet, out=click.echo)
    sys.exit(0 if ok else EXIT_INVALID_INPUT)


@main.command()
def schema() -> None:
    """Print the JSON Schema of the scenario format (point your editor's YAML language server at it)."""
    from gameday.loader import json_schema_text

    click.echo(json_schema_text())


@main.command()
@click.argument("journal", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["json", "md", "html"]), default="json", show_default=True)
@click.option("--output", "-o", type=click.Path(path_type=Path), help="write to a file instead of stdout")
@_guard
def score(journal: Path, fmt: str, output: Path | None) -> None:
    """Score a drill journal. Deterministic: the same journal gives byte-identical JSON."""
    from gameday.analysis.render import render_scorecard
    from gameday.analysis.scorecard import score_journal
    from gameday.journal import read_journal

    card = score_journal(read_journal(journal))
    _emit(render_scorecard(card, fmt), output)


@main.command()
@click.argument("journal", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["md", "html"]), default="md", show_default=True)
@click.option("--output", "-o", type=click.Path(path_type=Path), help="write to a file instead of stdout")
@click.option("--templates", type=click.Path(path_type=Path, file_okay=False), help="folder of templates overriding the built-in ones")
@_guard
def postmortem(journal: Path, fmt: str, output: Path | None, templates: Path | None) -> None:
    """Draft the blameless postmortem of a drill from its journal."""
    from gameday.analysis.postmortem import render_postmortem
    from gameday.analysis.scorecard import score_journal
    from gameday.journal import read_journal
    from gameday.project import load_project

    j = read_journal(journal)
    project = load_project(Path.cwd())
    tdir = templates or project.templates_dir
    _emit(render_postmortem(j, score_journal(j), fmt, templates_dir=tdir), output)


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text, nl=not text.endswith("\n"))
        return
    from gameday.fsutil import atomic_write

    atomic_write(output, text)


@main.command()
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--mode", type=click.Choice(["gameday", "ci"]), default="gameday", show_default=True)
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), help="put every output of the drill in this folder")
@click.option("--responders", type=click.Path(path_type=Path, dir_okay=False), help="scripted responder file (ci)")
@click.option("--drill-id", help="drill id (default: scenario id + UTC time)")
@_guard
def run(scenario: Path, mode: str, out: Path | None, responders: Path | None, drill_id: str | None) -> None:
    """Run a drill: inject the scenario's faults, observe, take in alerts and actions, roll back, report."""
    from gameday.runner import run_drill

    code = run_drill(scenario, mode=mode, out=out, responders=responders, drill_id=drill_id)
    sys.exit(code)


@main.command()
@_guard
def recover() -> None:
    """Roll back every fault the fault ledger still holds open (after a crash)."""
    from gameday.ledger import recover_open_faults
    from gameday.project import load_project

    project = load_project(Path.cwd())
    lines = recover_open_faults(project.state_path)
    for line in lines:
        click.echo(line)
    if not lines:
        click.echo("ledger is clear: nothing to roll back")


@main.group()
def demo() -> None:
    """The embedded demo shop (checkout API, primary and replica databases, monitoring)."""


@demo.command("up")
@click.option("--webhook-url", help="where the demo's monitoring posts Alertmanager webhooks")
@_guard
def demo_up(webhook_url: str | None) -> None:
    """Start the demo in the background on free loopback ports."""
    from gameday.demo.control import demo_up as up
    from gameday.project import load_project

    info = up(load_project(Path.cwd()).state_path, webhook_url=webhook_url)
    click.echo(f"demo up: checkout {info['url']}  (control {info['control_url']})")


@demo.command("down")
@_guard
def demo_down() -> None:
    """Stop the demo and reap its processes."""
    from gameday.demo.control import demo_down as down
    from gameday.project import load_project

    click.echo(down(load_project(Path.cwd()).state_path))


@demo.command("status")
@_guard
def demo_status() -> None:
    """Show the demo's processes, roles and ports."""
    from gameday.demo.control import demo_status as status
    from gameday.project import load_project

    click.echo(status(load_project(Path.cwd()).state_path))


@demo.command("reset")
@_guard
def demo_reset() -> None:
    """Restore the running demo to a clean slate (db-a primary, everything running, catalog back)."""
    from gameday.demo.control import attach_demo
    from gameday.errors import DemoError
    from gameday.project import load_project

    handle = attach_demo(load_project(Path.cwd()).state_path)
    if handle is None:
        raise DemoError("demo is not running (start it with 'gameday demo up')")
    click.echo(f"demo reset: {handle.reset()}")


if __name__ == "__main__":  # pragma: no cover
    main()
