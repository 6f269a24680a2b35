"""``gameday demo``: the embedded demo shop — up (with its monitoring), down, status, reset."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


def _engine(value: str | None) -> str | None:
    """``--docker-host`` checked as a scenario's ``target.docker_host`` is (a usage error, exit 2, if bad)."""
    if value is None:
        return None
    from gameday.model.containers import check_docker_host

    try:
        return check_docker_host(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@demo.command("up")
@click.option("--webhook-url", help="where the demo's monitoring posts Alertmanager webhooks")
@click.option("--monitoring", type=click.Choice(["builtin", "prometheus"]), default="builtin", show_default=True,
              help="builtin: the demo's stand-in monitor; prometheus: real Prometheus + Alertmanager on loopback")
@click.option("--cpus", metavar="auto|all|LIST", callback=lambda _ctx, _param, value: _cpu_setting(value),
              help="CPUs of the demo's processes: auto (every CPU but the lowest, left to the conductor), all, or a "
              "list like 1-3  [default: $GAMEDAY_DEMO_CPUS, else auto]")
@click.option("--docker", "in_docker", is_flag=True,
              help="run the services as containers on a Docker engine (the image is built here, offline, unless --image)")
@click.option("--docker-host", metavar="URL", callback=lambda _ctx, _param, value: _engine(value),
              help="the engine for --docker  [default: $DOCKER_HOST, else its socket]")
@click.option("--image", metavar="NAME", help="with --docker: your own image (python3 3.9+ and gameday's service "
              "modules under /opt/gameday; see 'gameday demo image')")
@click.option("--python", "python", metavar="PATH", help="with --docker: the interpreter the image is built from  "
              "[default: $GAMEDAY_DEMO_PYTHON, else /usr/bin/python3]")
@click.option("--netns", is_flag=True, help="run the databases in network namespaces of their own, for network faults "
              "between the services (root)")
@_guard
def demo_up(webhook_url: str | None, monitoring: str, cpus: str | None, in_docker: bool, docker_host: str | None,
            image: str | None, python: str | None, netns: bool) -> None:
    """Start the demo in the background on free loopback ports (with --docker: as containers)."""
    from gameday.demo.control import DockerSettings
    from gameday.demo.control import demo_down as down
    from gameday.demo.control import demo_up as up
    from gameday.loader import load_project

    if not in_docker and (docker_host or image or python):
        raise click.UsageError("--docker-host, --image and --python go with --docker")
    docker = DockerSettings(docker_host, image, python) if in_docker else None
    state = load_project(Path.cwd()).state_path
    if monitoring == "builtin":
        info = up(state, webhook_url=webhook_url, cpus=cpus, docker=docker, echo=click.echo, netns=netns)
        _announce(info)
        return
    from gameday.monitoring.keeper import start_keeper

    # the stand-in monitor stays quiet: Alertmanager is the one that alerts
    info = up(state, cpus=cpus, docker=docker, echo=click.echo, netns=netns)
    try:
        mon = start_keeper(state, webhook_url=webhook_url, watch_pid=info["pid"])
    except BaseException:
        down(state)
        raise
    _announce(info)
    click.echo(f"monitoring: Prometheus {mon['prometheus_url']}  Alertmanager {mon['alertmanager_url']}"
               f"  -> {webhook_url or 'no receiver until a drill runs'}")


def _announce(info: dict[str, Any]) -> None:
    click.echo(f"demo up: checkout {info['url']}  (control {info['control_url']})")
    click.echo(f"cpus: {info.get('cpus_note', 'not placed')}")
    from gameday.demo.control import runtime_lines

    for line in runtime_lines(info.get("runtime") or {}):
        click.echo(line)
    if (info.get("runtime") or {}).get("kind") == "docker":
        click.echo(f"containers: {', '.join(str(p.get('container')) for p in info['processes'].values())}")


@demo.command("image")
@click.option("--context", "folder", type=click.Path(file_okay=False, path_type=Path),
              help="write a build context for your own image into this empty or new folder")
@click.option("--prune", is_flag=True, help="remove the engine's older demo images (one a container uses stays)")
@click.option("--docker-host", metavar="URL", callback=lambda _ctx, _param, value: _engine(value),
              help="the engine for --prune  [default: $DOCKER_HOST, else its socket]")
@click.option("--python", "python", metavar="PATH", help="with --prune: the interpreter whose image is current  "
              "[default: $GAMEDAY_DEMO_PYTHON, else /usr/bin/python3]")
@_guard
def demo_image(folder: Path | None, prune: bool, docker_host: str | None, python: str | None) -> None:
    """Your own demo image (--context: a Dockerfile on any CPython 3.9+ image, and the services), or tidy up (--prune).

    Build and push the context with your registry, then run it with 'gameday demo up --docker --image NAME'.
    """
    from gameday.errors import ConfigError

    if folder is None and not prune:
        raise click.UsageError("give --context DIR, --prune, or both")
    if not prune and (docker_host or python):
        raise click.UsageError("--docker-host and --python go with --prune")
    from gameday.model.textsafe import for_terminal
    if folder is not None:
        from gameday.demo.image import write_context

        try:
            written = write_context(folder)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"--context {folder}: {exc}") from None
        shown = for_terminal(str(folder))  # a path is the user's text: shown inert
        click.echo(f"demo image: {len(written)} files in {shown}; build with: docker build -t YOUR/IMAGE {shown}")
    if prune:
        from gameday.demo.control import DockerSettings, engine_api
        from gameday.demo.image import prune_images

        removed, kept = prune_images(engine_api(DockerSettings(docker_host)), python)
        click.echo(f"demo image: removed {', '.join(removed) or 'none'}"
                   + (f"; kept (in use by a container): {', '.join(kept)}" if kept else ""))


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
