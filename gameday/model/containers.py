"""Containers as drill targets: which containers a name stands for, what a fault does to them, and how
many it may touch (the blast radius). Pure models; the Docker engine is driven by
:mod:`gameday.adapters.docker`.

A scenario's ``target.containers`` names selections; a ``docker`` fault, a ``container`` check and a
``restart`` runbook refer to one by name, and nothing else can be touched. A selection states how far
a fault may reach: ``count`` (at most that many containers may match: more is refused) or ``percent``
(the fault takes that share of the matching containers, at least one, by name order) — like AWS FIS's
``COUNT(n)`` and ``PERCENT(n)`` selection modes. A selection that matches nothing is refused, before
anything is injected.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from gameday.model.scenario_base import Strict

#: Docker's own restriction on container names (and so on what a ``name`` can equal).
_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")
_ENGINE = re.compile(r"(unix|tcp|ssh|npipe)://\S+")


def check_docker_host(value: str) -> str:
    """A Docker engine's address as the SDK takes it (``unix:///path/docker.sock``, ``tcp://HOST:PORT``, ``ssh://``,
    ``npipe://``); ValueError naming what was given otherwise."""
    if not _ENGINE.fullmatch(value):
        raise ValueError(f"expected the engine's address as unix:///path/docker.sock or tcp://HOST:PORT, got {value!r}")
    return value


#: Names nobody would select on purpose: a ``~regex`` that matches them all matches any name.
_ANY_NAMES = ("x", "Q7-unrelated.container_9", "zz")


class ContainerSelector(Strict):
    """Which containers a name of ``target.containers`` stands for, and the most a fault may touch. A fault
    selects among the running ones (a stopped container is nobody's target); a check among all of them."""

    name: str | None = Field(None, description="the container's name, or ~regex matched against whole names")
    labels: dict[str, str] = Field(default_factory=dict, description="labels every selected container has (equal)")
    count: int | None = Field(None, ge=1, le=1000, description="at most this many containers may match (more: refused)")
    percent: float | None = Field(None, gt=0, le=100, description="the fault takes this share of the matching "
                                  "containers (at least one), in name order")
    production: bool = Field(False, description="these are production containers: the drill needs --allow-production")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if value.startswith("~"):
            try:
                re.compile(value[1:])
            except (re.error, OverflowError) as exc:
                raise ValueError(f"'name' is not a valid regular expression: {exc}") from None
        elif not _NAME.fullmatch(value):
            raise ValueError(f"{value!r} is not a container name (letters, digits, _ . -), nor a ~regex")
        return value

    @model_validator(mode="after")
    def _bounded(self) -> ContainerSelector:
        if self.name is None and not self.labels:
            raise ValueError("a container selection needs 'name' or 'labels': gameday never selects every container")
        if self.name is not None and self.name.startswith("~") and not self.labels and all(
                re.fullmatch(self.name[1:], probe) for probe in _ANY_NAMES):
            raise ValueError(f"'name' {self.name} matches any container name, so with no 'labels' it selects every "
                             "container: narrow the pattern or add labels")
        if (self.count is None) == (self.percent is None):
            raise ValueError("a container selection states its blast radius: exactly one of 'count' (the most that may "
                             "match) or 'percent' (the share of the matches a fault takes)")
        return self

    def describe(self) -> str:
        """``name ~web-.*, labels app=checkout`` (for messages)."""
        parts = [f"name {self.name}"] if self.name else []
        parts += [f"labels {', '.join(f'{k}={v}' for k, v in sorted(self.labels.items()))}"] if self.labels else []
        return ", ".join(parts)


#: Container labels that mark a container as production, whatever the scenario says (the drill needs
#: ``--allow-production`` to touch it): ``environment``/``env`` ``production``/``prod``, ``gameday.production`` ``true``.
PRODUCTION_LABELS = {"environment": ("production", "prod"), "env": ("production", "prod"), "gameday.production": ("true",)}


def production_label(labels: dict[str, str]) -> str | None:
    """The label that marks a container as production (``environment=production``), or None."""
    for key, values in PRODUCTION_LABELS.items():
        if labels.get(key, "").strip().lower() in values:
            return f"{key}={labels[key]}"
    return None


DockerAction = Literal["kill", "stop", "pause", "restart", "disconnect", "limit"]

_MEMORY = re.compile(r"(\d+(?:\.\d+)?)\s*([bkmg]?)", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def memory_bytes(text: str) -> int:
    """``'64m'`` → 67108864 (Docker's units: b, k, m, g, powers of 1024). ValueError if not one."""
    m = _MEMORY.fullmatch(text.strip())
    if m is None:
        raise ValueError(f"expected a size like '64m' or '1g', got {text!r}")
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


class DockerFault(Strict):
    """A built-in fault on containers, through the Docker engine, each action with its rollback.

    kill (rollback: start), stop (start), pause (unpause), restart (start it if it is not running),
    disconnect from ``network`` (connect again, with its aliases), limit ``cpus``/``memory`` (``docker
    update``; rollback: the container's limits before)."""

    target: str = Field(description="a name from target.containers")
    action: DockerAction
    signal: Literal["SIGKILL", "SIGTERM", "SIGINT"] = Field("SIGKILL", description="kill: the signal sent")
    network: str | None = Field(None, description="disconnect: the network the containers leave")
    cpus: float | None = Field(None, gt=0, le=1024, description="limit: CPUs (0.5 = half of one)")
    memory: str | None = Field(None, description="limit: memory, e.g. '64m' (at least 6m: Docker's minimum)")

    @model_validator(mode="after")
    def _arguments(self) -> DockerFault:
        if (self.network is not None) != (self.action == "disconnect"):
            raise ValueError("'network' goes with action 'disconnect', which needs it")
        if self.action == "limit" and self.cpus is None and self.memory is None:
            raise ValueError("action 'limit' needs 'cpus' or 'memory' (or both)")
        if self.action != "limit" and (self.cpus is not None or self.memory is not None):
            raise ValueError("'cpus' and 'memory' go with action 'limit'")
        if self.memory is not None and memory_bytes(self.memory) < 6 * 1024**2:
            raise ValueError(f"memory {self.memory!r} is below Docker's minimum of 6m")
        return self


class ContainerCheck(Strict):
    """Healthy while every container of a ``target.containers`` selection runs and is not paused (and at least
    one matches)."""

    container: str = Field(description="a name from target.containers")
