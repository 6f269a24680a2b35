"""The system under drill (``target:``): the demo, the demo's containers or namespaces, or a system of the team's
own — its URL, processes, containers, networks and cluster, the only parts a drill may touch. Re-exported by
:mod:`gameday.model.scenario`."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from gameday.model.containers import ContainerSelector, check_docker_host
from gameday.model.kubernetes import KubernetesTarget
from gameday.model.network import NetworkSelector
from gameday.model.scenario_base import Strict


class ProcessSelector(Strict):
    """How to find (and restart) a process of the target."""

    pid_file: str | None = None
    command: str | None = Field(None, description="regular expression matched against the process command line")
    restart: list[str] | None = Field(None, description="argv that starts the process again (rollback of 'kill')")
    cwd: str | None = None

    @model_validator(mode="after")
    def _findable(self) -> ProcessSelector:
        if not self.pid_file and not self.command:
            raise ValueError("a process needs 'pid_file' or 'command' to be found")
        if self.command:
            try:
                re.compile(self.command)
            except (re.error, OverflowError) as exc:
                raise ValueError(f"'command' is not a valid regular expression: {exc}") from None
        return self


class Target(Strict):
    """The system under drill. ``demo`` names the embedded demo system; ``{demo: docker, containers: ...}`` the
    demo's containers (``gameday demo up --docker``), whose URL and control API come from the demo."""

    demo: Literal["docker", "netns"] | None = Field(
        None, description="docker: the demo shop in containers (started with --docker for the drill if no demo runs), "
        "target.containers selecting among its containers only; netns: the demo with its databases in network "
        "namespaces (--netns), target.networks naming them (netns: db-a or db-b). Its URL and control API come from "
        "the demo")
    url: str | None = Field(None, description="base URL; available to checks as {target.url}")
    processes: dict[str, ProcessSelector] = Field(default_factory=dict)
    containers: dict[str, ContainerSelector] = Field(
        default_factory=dict, description="named container selections (the Docker engine's): the only containers a "
        "docker fault, a container check or a restart runbook may touch")
    docker_host: str | None = Field(
        None, description="the Docker engine's address (unix:///path/docker.sock, tcp://127.0.0.1:2375); default: "
        "DOCKER_HOST, else the engine's default socket")
    kubernetes: KubernetesTarget | None = Field(
        None, description="the cluster chaostoolkit-kubernetes activities may act on, and its blast radius")
    networks: dict[str, NetworkSelector] = Field(
        default_factory=dict, description="named network namespaces (ip netns): the only ones a network fault may "
        "put rules in")
    production: bool = Field(False, description="the target is production: the drill needs --allow-production, and "
                             "every report says it ran against production")

    @model_validator(mode="after")
    def _demo_parts(self) -> Target:
        if self.demo is not None and self.url is not None:
            raise ValueError("a demo target takes its URL from the demo: drop 'url'")
        if self.demo is not None and (self.processes or self.kubernetes is not None):
            raise ValueError("a demo target has no 'processes' or 'kubernetes' of its own: drop them")
        if self.demo == "docker" and self.networks:
            raise ValueError("the demo in containers has no namespaces: 'networks' go with 'demo: netns'")
        if self.demo == "netns" and (self.containers or self.docker_host):
            raise ValueError("the demo with namespaces runs processes: 'containers' and 'docker_host' go with 'demo: docker'")
        if self.demo == "netns":
            for name, net in self.networks.items():
                if net.netns not in ("db-a", "db-b"):
                    raise ValueError(f"networks.{name}.netns: the demo's namespaces are db-a and db-b, not {net.netns!r}")
                if any(i != "eth0" for i in net.interfaces):
                    raise ValueError(f"networks.{name}.interfaces: a demo database's only interface is eth0")
        return self

    @field_validator("docker_host")
    @classmethod
    def _engine(cls, value: str | None) -> str | None:
        return check_docker_host(value) if value is not None else None
    configuration: dict[str, Any] = Field(default_factory=dict, description="Chaos Toolkit configuration")
    secrets: dict[str, dict[str, Any]] = Field(default_factory=dict, description="Chaos Toolkit secrets")
