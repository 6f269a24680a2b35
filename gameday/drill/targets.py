"""The drill's target, made ready for the drill: an external system as the scenario names it
(URLs, processes by pid file or command line, Chaos Toolkit configuration and secrets), or the
embedded demo shop — attached and reset when the user started it, else started for the drill
and stopped after it. A scenario of the demo's containers (``target: {demo: docker}``) needs the
demo in containers; its selections are narrowed to that demo's (its instance label)."""

from __future__ import annotations

import threading
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gameday.model.containers import ContainerSelector
from gameday.model.network import NetworkSelector
from gameday.model.scenario import Scenario, Target

if TYPE_CHECKING:
    from gameday.demo.control import DemoHandle


@dataclass
class TargetInfo:
    """What the drill needs of the target: its URL, processes, Chaos Toolkit configuration and secrets,
    and how the journal describes it."""

    url: str | None
    processes: dict[str, Any]
    configuration: dict[str, Any]
    secrets: dict[str, Any]
    description: dict[str, Any]
    containers: dict[str, ContainerSelector] = field(default_factory=dict)
    docker_host: str | None = None
    networks: dict[str, NetworkSelector] = field(default_factory=dict)
    allow_production: bool = False  # --allow-production: containers labelled production may be touched


class DemoReset(threading.Thread):
    """The reset of a demo the user started (``gameday demo up``), in a thread: the demo does
    the work in its own processes, so the drill's intake starts meanwhile. Nothing to undo if
    set-up stops half-way (a reset demo is a clean demo), but the drill waits for it to end
    before it lets go of its lock (:data:`RESET_WAIT`)."""

    def __init__(self, handle: DemoHandle) -> None:
        super().__init__(name="demo-reset", daemon=True)
        self.handle = handle
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.handle.reset()
        except BaseException as exc:  # noqa: BLE001 - raised in the set-up's thread by result()
            self.error = exc

    def result(self) -> DemoHandle:
        self.join()
        if self.error is not None:
            raise self.error
        return self.handle


RESET_WAIT = 35.0  # seconds the drill's lock outlives a reset in flight (the demo's own limit is 30 s)


def reset_attached_demo(sc: Scenario, state: Path, stack: ExitStack) -> DemoReset | None:
    """A started reset of the demo already running for ``state``, when the scenario targets the demo;
    joined when ``stack`` unwinds, so a set-up that fails or is interrupted never leaves it behind."""
    if not sc.on_demo():
        return None
    from gameday.demo.control import attach_demo

    handle = attach_demo(state)
    if handle is None:
        return None
    _check_runtime(sc, handle)
    resetting = DemoReset(handle)
    resetting.start()
    stack.callback(resetting.join, RESET_WAIT)
    return resetting


def prepare_target(sc: Scenario, state: Path, webhook: str, stack: ExitStack, base_dir: Path,
                    resetting: DemoReset | None = None) -> TargetInfo:
    if isinstance(sc.target, Target) and sc.target.demo is None:
        t = sc.target
        processes = {name: _absolute(sel, base_dir) for name, sel in t.processes.items()}
        return TargetInfo(t.url, processes, dict(t.configuration), dict(t.secrets),
                          {"kind": "external", "url": t.url, "processes": sorted(t.processes)},
                          containers=dict(t.containers), docker_host=t.docker_host, networks=dict(t.networks))
    from gameday.demo.control import DockerSettings, start_demo

    boxes = sc.target if isinstance(sc.target, Target) else None  # the demo's containers: target.demo docker
    hooks = [webhook] if sc.monitoring.kind == "builtin" else []  # else real monitoring alerts us
    if resetting is None:  # no demo running: start one for this drill (stopped at its end)
        in_docker = boxes is not None and boxes.demo == "docker"
        handle = start_demo(state, webhook_urls=hooks, docker=DockerSettings(boxes.docker_host) if in_docker and boxes else None,
                            netns=boxes is not None and boxes.demo == "netns")
        stack.callback(handle.stop)
    else:  # a demo the user started, reset to a clean slate: give it our webhook
        handle = resetting.result()
        handle.set_webhooks(hooks)
        stack.callback(handle.set_webhooks, [])
    config = {"demo_control_url": handle.control_url, "checkout_url": handle.url}
    description = {"kind": "demo", "url": handle.url, "control_url": handle.control_url}
    if boxes is None:
        return TargetInfo(handle.url, {}, config, {}, description)
    runtime = handle.state.get("runtime") or {}
    if boxes.demo == "netns":  # the scenario's db-a, db-b: this demo's namespaces
        spaces = runtime.get("netns") or {}
        networks = {name: net.model_copy(update={"netns": spaces[net.netns]}) for name, net in boxes.networks.items()}
        return TargetInfo(handle.url, {}, {**boxes.configuration, **config}, dict(boxes.secrets), description,
                          networks=networks)
    from gameday.demo.containers import INSTANCE_LABEL

    instance = str(runtime.get("instance"))  # every selection is narrowed to this demo's containers
    containers = {name: sel.model_copy(update={"labels": {**sel.labels, INSTANCE_LABEL: instance}})
                  for name, sel in boxes.containers.items()}
    return TargetInfo(handle.url, {}, {**boxes.configuration, **config}, dict(boxes.secrets), description,
                      containers=containers, docker_host=runtime.get("docker_host"))


def _check_runtime(sc: Scenario, handle: DemoHandle) -> None:
    """A drill of the demo's containers needs the demo in containers, on the engine the scenario names; one of
    the network between its services, the demo with its databases in namespaces."""
    from gameday.errors import DemoError

    if not isinstance(sc.target, Target) or sc.target.demo is None:
        return
    runtime = handle.state.get("runtime") or {}
    if sc.target.demo == "netns":
        if not runtime.get("netns"):
            raise DemoError("the demo running here has no namespaces, and this scenario drills the network between its "
                            "services: stop it (gameday demo down) and start it with 'gameday demo up --netns', or let "
                            "the drill start it")
        return
    if runtime.get("kind") != "docker":
        raise DemoError("the demo running here runs as processes, and this scenario drills its containers: stop it "
                        "(gameday demo down) and start it with 'gameday demo up --docker', or let the drill start it")
    want, have = sc.target.docker_host, runtime.get("docker_host")
    if want is not None and want != have:
        raise DemoError(f"the demo running here uses the Docker engine {have or 'at the default socket'}, and the "
                        f"scenario names {want}: stop it (gameday demo down), or let the drill start it")


def _absolute(selector, base_dir: Path):
    """Pid files and working folders of a target's processes are relative to the scenario."""
    update = {k: str((base_dir / v).resolve()) for k in ("pid_file", "cwd") if (v := getattr(selector, k))}
    return selector.model_copy(update=update)


def untouched_target(sc: Scenario) -> TargetInfo:
    """How a tabletop describes the target it never touches (no demo is started, no process found)."""
    if isinstance(sc.target, Target) and sc.target.demo is None:
        return TargetInfo(sc.target.url, {}, {}, {}, {"kind": "external", "url": sc.target.url,
                                                        "processes": sorted(sc.target.processes)})
    return TargetInfo(None, {}, {}, {}, {"kind": "demo"})
