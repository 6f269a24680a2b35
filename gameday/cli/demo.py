"""``gameday demo``: the embedded demo shop — up (with its monitoring), down, status, reset."""

from __future__ import annotations

from pathlib import Path

import click

from gameday.cli.common import _guard


@click.group()
def demo() -> None:
    """The embedded demo shop (checkout API, primary and replica databases, monitoring)."""


def _cpu_setting(value: str | None) -> str | None:
    """``--cpus`` checked as the scenario's ``load.cpus`` is (a usage error, exit 2, if bad)."""
    if value is None:
        return None
    from gameday.model.cpus import check_setting

    try:
        return check_setting(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@demo.command("up")
@click.option("--webhook-url", help="where the demo's monitoring posts Alertmanager webhooks")
@click.option("--monitoring", type=click.Choice(["builtin", "prometheus"]), default="builtin", show_default=True,
              help="builtin: the demo's stand-in monitor; prometheus: real Prometheus + Alertmanager on loopback")
@click.option("--cpus", metavar="auto|all|LIST", callback=lambda _ctx, _param, value: _cpu_setting(value),
              help="CPUs of the demo's processes: auto (every CPU but the lowest, left to the conductor), all, or a "
              "list like 1-3  [default: $GAMEDAY_DEMO_CPUS, else auto]")
@_guard
def demo_up(webhook_url: str | None, monitoring: str, cpus: str | None) -> None:
    """Start the demo in the background on free loopback ports."""
    from gameday.demo.control import demo_down as down
    from gameday.demo.control import demo_up as up
    from gameday.loader import load_project

    state = load_project(Path.cwd()).state_path
    if monitoring == "builtin":
        info = up(state, webhook_url=webhook_url, cpus=cpus)
        click.echo(f"demo up: checkout {info['url']}  (control {info['control_url']})")
        click.echo(f"cpus: {info.get('cpus_note', 'not placed')}")
        return
    from gameday.monitoring.keeper import start_keeper

    info = up(state, cpus=cpus)  # the stand-in monitor stays quiet: Alertmanager is the one that alerts
    try:
        mon = start_keeper(state, webhook_url=webhook_url, watch_pid=info["pid"])
    except BaseException:
        down(state)
        raise
    click.echo(f"demo up: checkout {info['url']}  (control {info['control_url']})")
    click.echo(f"cpus: {info.get('cpus_note', 'not placed')}")
    click.echo(f"monitoring: Prometheus {mon['prometheus_url']}  Alertmanager {mon['alertmanager_url']}"
               f"  -> {webhook_url or 'no receiver until a drill runs'}")


@demo.command("down")
@_guard
def demo_down() -> None:
    """Stop the demo and reap its processes."""
    from gameday.demo.control import demo_down as down
    from gameday.loader import load_project

    click.echo(down(load_project(Path.cwd()).state_path))


@demo.command("status")
@_guard
def demo_status() -> None:
    """Show the demo's processes, roles and ports."""
    from gameday.demo.control import demo_status as status
    from gameday.loader import load_project
    from gameday.model.textsafe import for_terminal

    # the supervisor's answer carries outside text (webhook URLs given to it): shown neutralised
    click.echo(for_terminal(status(load_project(Path.cwd()).state_path)))


@demo.command("reset")
@_guard
def demo_reset() -> None:
    """Restore the running demo to a clean slate (db-a primary, everything running, catalog back)."""
    from gameday.demo.control import attach_demo
    from gameday.errors import DemoError
    from gameday.loader import load_project

    handle = attach_demo(load_project(Path.cwd()).state_path)
    if handle is None:
        raise DemoError("demo is not running (start it with 'gameday demo up')")
    click.echo(f"demo reset: {handle.reset()}")
