"""Built-in faults on containers, through the Docker engine's API (the Docker SDK for Python, imported
when first used).

A fault's containers are a ``target.containers`` selection (:class:`~gameday.model.containers.ContainerSelector`),
resolved when the fault falls due (:meth:`DockerInjector.select`) among the running containers: refused,
before any container is touched, when nothing matches or more than the selection's ``count``; a
``percent`` takes that share of the matches (at least one) in name order. The containers chosen are
written to the fault ledger (:class:`~gameday.ports.DockerRollback`) before the first is touched, so
``gameday recover`` undoes exactly them after a crash.

Actions and their rollbacks (each idempotent: it looks at the container's state first):

* ``kill`` (a signal) and ``stop`` — rollback: start it again;
* ``pause`` — unpause;
* ``restart`` — start it, if it is not running (a restart undoes itself);
* ``disconnect`` from a network — connect it again, with the aliases it had;
* ``limit`` CPUs and memory (``docker update``) — the limits it had. Docker cannot remove a limit once
  set (0 means "unchanged" to its update API): a container that had none gets the host's CPU count and
  memory, which limit nothing; the rollback's output says so.

Every step is an :class:`~gameday.ports.ActivityRun` (provider ``docker``). :class:`ContainerRestarter`
is the ``restart`` runbook for containers; :class:`ContainerProbe` the ``container`` check.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from gameday.clock import Clock, SystemClock
from gameday.errors import ConfigError, InjectionError
from gameday.model.containers import ContainerSelector, DockerAction, memory_bytes, production_label
from gameday.ports import ActivityPhase, ActivityRun, ContainerRef, DockerRollback, InjectionResult, LedgerSpec, Observation

if TYPE_CHECKING:
    from docker import APIClient

DEFAULT_HOST = "unix:///var/run/docker.sock"
STOP_TIMEOUT = 10  # seconds a stop or restart gives the container before SIGKILL (Docker's default)
API_TIMEOUT = 30.0


def engine_host(host: str | None) -> str:
    """The engine's address: the scenario's ``target.docker_host``, else ``DOCKER_HOST``, else the default socket."""
    return host or os.environ.get("DOCKER_HOST") or DEFAULT_HOST


_clients: dict[str, APIClient] = {}
_clients_lock = threading.Lock()


def api_client(host: str) -> APIClient:
    """One low-level API client per engine address, shared (it is thread-safe: one HTTP pool)."""
    with _clients_lock:
        client = _clients.get(host)
        if client is None:
            import docker  # lazily: the SDK costs ~0.1 s to import

            try:
                client = docker.APIClient(base_url=host, version="auto", timeout=API_TIMEOUT)
            except docker.errors.DockerException as exc:
                raise InjectionError(f"the Docker engine at {host} does not answer: {_reason(exc)}") from None
            _clients[host] = client
        return client


def _reason(exc: BaseException) -> str:
    """A Docker SDK error in one line (its explanation when the engine gave one)."""
    explanation = getattr(exc, "explanation", None)
    text = explanation.decode() if isinstance(explanation, bytes) else explanation or str(exc) or type(exc).__name__
    return " ".join(str(text).split())[:300]


@dataclass(frozen=True)
class Container:
    """A container as the engine lists it."""

    id: str
    name: str
    state: str  # running, paused, exited, created, restarting, dead
    labels: dict[str, str]


def list_containers(api: APIClient, selector: ContainerSelector, *, running: bool) -> list[Container]:
    """The containers ``selector`` matches (label filter by the engine, the name here), in name order;
    ``running``: only running (not paused) ones."""
    filters: dict[str, Any] = {"label": [f"{k}={v}" for k, v in sorted(selector.labels.items())]} if selector.labels else {}
    rows = api.containers(all=not running, filters=filters)
    out = []
    for row in rows:
        name = (row.get("Names") or ["/?"])[0].lstrip("/")
        if not _name_fits(selector.name, name):
            continue
        state = str(row.get("State") or "")
        if running and state != "running":
            continue
        out.append(Container(id=row["Id"], name=name, state=state, labels=dict(row.get("Labels") or {})))
    return sorted(out, key=lambda c: c.name)


def _name_fits(want: str | None, name: str) -> bool:
    if want is None:
        return True
    if want.startswith("~"):
        import re

        return re.fullmatch(want[1:], name) is not None
    return name == want


def choose(found: list[Container], selector: ContainerSelector, target: str) -> list[Container]:
    """The containers a fault takes of those found, by the selection's blast radius; InjectionError (nothing
    touched) when there are none, or more than ``count``."""
    where = f"containers {target!r} ({selector.describe()})"
    if not found:
        raise InjectionError(f"{where}: no running container matches: nothing to inject into")
    if selector.count is not None:
        if len(found) > selector.count:
            names = ", ".join(c.name for c in found[:10]) + (", ..." if len(found) > 10 else "")
            raise InjectionError(f"{where}: {len(found)} running containers match ({names}), more than the "
                                 f"{selector.count} the scenario allows: refused, nothing injected")
        return found
    assert selector.percent is not None
    take = max(1, math.floor(len(found) * selector.percent / 100 + 1e-9))
    return found[:take]


def _host_limits(api: APIClient) -> tuple[int, int]:
    """(nano CPUs, memory bytes) of the engine's whole host (the engine may be remote): limits that limit nothing."""
    info = api.info()
    return int(info.get("NCPU") or os.cpu_count() or 1) * 10**9, int(info.get("MemTotal") or 0)


class DockerInjector:
    """One docker fault (see the module docstring): an :class:`~gameday.ports.Injector` and
    :class:`~gameday.ports.Targeting` (it chooses its containers when the fault falls due)."""

    def __init__(self, target: str, selector: ContainerSelector, action: DockerAction, *, host: str | None = None,
                 owner: str = "", signal: str = "SIGKILL", network: str | None = None, cpus: float | None = None,
                 memory: str | None = None, clock: Clock | None = None, allow_production: bool = False):
        self.target, self.selector, self.action = target, selector, action
        self.allow_production = allow_production
        self.host, self.owner, self.signal, self.network = engine_host(host), owner, signal, network
        self.cpus, self.memory = cpus, memory
        self.clock = clock or SystemClock()
        self._chosen: list[ContainerRef] | None = None
        self._applied: set[str] | None = None  # ids the injection touched (None: unknown, after a crash: all chosen)
        self._selection: str | None = None

    @classmethod
    def from_spec(cls, spec: DockerRollback, *, clock: Clock | None = None) -> DockerInjector:
        """To roll back what a ledger entry records (``gameday recover``): its containers, on its engine."""
        # never selects: the containers are the recorded ones (a selection of every name would be refused)
        standin = ContainerSelector.model_construct(name=None, labels={}, count=None, percent=None, production=False)
        injector = cls(spec.target, standin, spec.action,  # type: ignore[arg-type]
                       host=spec.host, owner=spec.owner, network=spec.network, cpus=spec.cpus, memory=spec.memory,
                       clock=clock)
        injector._chosen = list(spec.containers)
        injector._selection = spec.selection  # the recorded words, for a ledger entry written again
        return injector

    # ------------------------------------------------------------------ the ledger
    def ledger_spec(self) -> LedgerSpec:
        return DockerRollback(owner=self.owner, host=self.host, action=self.action, target=self.target,
                              selection=self._selection or self.selector.describe(), network=self.network, cpus=self.cpus,
                              memory=self.memory, containers=list(self._chosen or []))

    def preflight(self) -> str | None:
        """Why the selection would be refused now (None: it would not)."""
        try:
            chosen = choose(list_containers(api_client(self.host), self.selector, running=True), self.selector,
                            self.target)
            self._not_production(chosen)
        except InjectionError as exc:
            return str(exc)
        except Exception as exc:  # noqa: BLE001 - the engine's error, in words
            return f"containers {self.target!r}: the Docker engine at {self.host}: {_reason(exc)}"
        return None

    def select(self) -> LedgerSpec:
        """Choose the containers now (InjectionError: refused, nothing touched); the spec naming them."""
        api = api_client(self.host)
        try:
            found = list_containers(api, self.selector, running=True)
        except InjectionError:
            raise
        except Exception as exc:  # noqa: BLE001 - the engine's error, in words
            raise InjectionError(f"containers {self.target!r}: the Docker engine at {self.host}: {_reason(exc)}") from None
        chosen = choose(found, self.selector, self.target)
        self._not_production(chosen)
        refs = []
        for c in chosen:
            refs.append(self._before(api, c))
        self._chosen, self._applied = refs, set()
        return self.ledger_spec()

    def _not_production(self, chosen: list[Container]) -> None:
        """InjectionError (nothing touched) for a container labelled production, without --allow-production."""
        if self.allow_production:
            return
        marked = [f"{c.name} ({label})" for c in chosen if (label := production_label(c.labels))]
        if marked:
            raise InjectionError(f"containers {self.target!r}: {', '.join(marked)} labelled production: refused "
                                 "without --allow-production, nothing injected")

    def _before(self, api: APIClient, c: Container) -> ContainerRef:
        """What the rollback needs to put back, read before the container is touched."""
        info = api.inspect_container(c.id)
        if self.action in ("kill", "stop") and (info.get("HostConfig") or {}).get("AutoRemove"):
            raise InjectionError(f"container {c.name} is removed when it stops (--rm): a {self.action} could not be "
                                 "undone: refused, nothing injected")
        if self.action not in ("disconnect", "limit"):
            return ContainerRef(id=c.id, name=c.name)
        if self.action == "disconnect":
            networks = (info.get("NetworkSettings") or {}).get("Networks") or {}
            if self.network not in networks:
                raise InjectionError(f"container {c.name} is not on network {self.network!r} (it is on: "
                                     f"{', '.join(sorted(networks)) or 'none'}): refused, nothing injected")
            net = networks[self.network]
            aliases = [a for a in (net.get("Aliases") or []) if a not in (c.id[:12], c.name)]
            ipam = net.get("IPAMConfig") or {}
            return ContainerRef(id=c.id, name=c.name, aliases=aliases, ipv4_address=ipam.get("IPv4Address") or None,
                                ipv6_address=ipam.get("IPv6Address") or None)
        hc = info.get("HostConfig") or {}
        return ContainerRef(id=c.id, name=c.name, nano_cpus=int(hc.get("NanoCpus") or 0),
                            memory=int(hc.get("Memory") or 0), memory_swap=int(hc.get("MemorySwap") or 0))

    # ------------------------------------------------------------------ inject / rollback
    def inject(self) -> InjectionResult:
        if self._chosen is None:
            try:
                self.select()
            except InjectionError as exc:
                return InjectionResult(ok=False, error=str(exc), rollback=self.ledger_spec())
        api = api_client(self.host)
        runs: list[ActivityRun] = []
        for ref in self._chosen or []:
            run = self._step(f"{self.action} {ref.name}", "method", partial(self._apply, api, ref))
            runs.append(run)
            if run.status == "succeeded" and self._applied is not None:
                self._applied.add(ref.id)
            if run.status == "failed":  # the rest stay untouched; the rollback undoes the ones done
                return InjectionResult(ok=False, runs=runs, error=run.error, rollback=self.ledger_spec())
        return InjectionResult(ok=True, runs=runs, rollback=self.ledger_spec())

    def _apply(self, api: APIClient, ref: ContainerRef) -> str:
        if self.action == "kill":
            api.kill(ref.id, signal=self.signal)
            return f"sent {self.signal}"
        if self.action == "stop":
            api.stop(ref.id, timeout=STOP_TIMEOUT)
            return "stopped"
        if self.action == "pause":
            api.pause(ref.id)
            return "paused"
        if self.action == "restart":
            api.restart(ref.id, timeout=STOP_TIMEOUT)
            return "restarted"
        if self.action == "disconnect":
            api.disconnect_container_from_network(ref.id, self.network)
            return f"disconnected from {self.network}"
        body: dict[str, int] = {}
        if self.cpus is not None:
            body["NanoCpus"] = int(self.cpus * 10**9)
        if self.memory is not None:
            body["Memory"] = body["MemorySwap"] = memory_bytes(self.memory)  # no swap beyond the limit
        _update(api, ref.id, body)
        return "limited to " + ", ".join(([f"{self.cpus:g} CPUs"] if self.cpus is not None else [])
                                         + ([f"{self.memory} memory"] if self.memory is not None else []))

    def rollback(self) -> InjectionResult:
        chosen = self._chosen
        if not chosen:  # never selected: nothing was touched
            return InjectionResult(ok=True, rollback=self.ledger_spec())
        api = api_client(self.host)
        touched = [r for r in chosen if self._applied is None or r.id in self._applied]  # never undo what it never did
        runs = [self._step(f"undo {self.action} {ref.name}", "rollback", partial(self._undo, api, ref)) for ref in touched]
        failed = [r for r in runs if r.status == "failed"]
        return InjectionResult(ok=not failed, runs=runs, error="; ".join(r.error or "" for r in failed) or None,
                               rollback=self.ledger_spec())

    def _undo(self, api: APIClient, ref: ContainerRef) -> str:
        import docker

        try:
            state = (api.inspect_container(ref.id).get("State") or {})
        except docker.errors.NotFound:
            try:  # recreated under its name (compose up, an orchestrator): the new one is the service now
                now = api.inspect_container(ref.name)
            except docker.errors.NotFound:
                now = None
            if now is not None and (now.get("State") or {}).get("Running"):
                return f"replaced by {now['Id'][:12]}, running: nothing to undo"
            if self.action in ("kill", "stop"):
                raise InjectionError(f"container {ref.name} is gone (removed): it cannot be started again") from None
            return "gone (removed): nothing to undo"
        if self.action in ("kill", "stop", "restart"):
            if state.get("Paused"):
                api.unpause(ref.id)
            if state.get("Running"):
                return "running"
            api.start(ref.id)
            return "started"
        if self.action == "pause":
            if not state.get("Paused"):
                return "not paused"
            api.unpause(ref.id)
            return "unpaused"
        if self.action == "disconnect":
            info = api.inspect_container(ref.id)
            if self.network in ((info.get("NetworkSettings") or {}).get("Networks") or {}):
                return f"on {self.network}"
            api.connect_container_to_network(ref.id, self.network, aliases=ref.aliases or None,
                                             ipv4_address=ref.ipv4_address, ipv6_address=ref.ipv6_address)
            kept = ", ".join([f"aliases {', '.join(ref.aliases)}"] * bool(ref.aliases)
                             + [f"address {a}" for a in (ref.ipv4_address, ref.ipv6_address) if a])
            return f"connected to {self.network}" + (f" ({kept})" if kept else "")
        host_cpus, host_memory = _host_limits(api)
        if self.cpus is not None:  # only what the fault set is put back
            _update(api, ref.id, {"NanoCpus": ref.nano_cpus or host_cpus})
        if self.memory is not None:
            memory, swap = ref.memory or host_memory, ref.memory_swap if ref.memory else -1
            # raising memory above the current memory+swap limit is refused by the kernel (cgroup v1): swap first
            _update(api, ref.id, {"Memory": memory,
                                  "MemorySwap": max(swap, 2 * memory) if swap <= 0 or swap < memory else swap})
            if swap <= 0 or swap < memory:
                _update(api, ref.id, {"Memory": memory, "MemorySwap": swap})
        unset = [what for what, before, set_ in (("CPUs", ref.nano_cpus, self.cpus), ("memory", ref.memory, self.memory))
                 if not before and set_ is not None]
        return "limits put back" + (f"; it had no {' or '.join(unset)} limit, and Docker cannot remove one: set to the "
                                    "host's, which limit nothing" if unset else "")

    def _step(self, name: str, phase: ActivityPhase, fn: Callable[[], str]) -> ActivityRun:
        started, t = self.clock.now(), time.perf_counter()
        try:
            output, status, error = fn(), "succeeded", None
        except Exception as exc:  # noqa: BLE001 - the engine's answer, journaled as the activity's error
            output, status, error = "", "failed", _reason(exc)
        return ActivityRun(name, phase, "docker", status, started, time.perf_counter() - t, output, error)  # type: ignore[arg-type]


def _update(api: APIClient, container_id: str, body: dict[str, int]) -> None:
    """``docker update``: the SDK's update_container has no NanoCpus, so the engine's endpoint directly."""
    response = api._post_json(api._url("/containers/{0}/update", container_id), data=body)
    api._raise_for_status(response)


class ContainerRestarter:
    """The ``restart`` runbook of a container selection: restart each of its containers (started if stopped),
    within its blast radius: more than ``count``, or one labelled production without ``--allow-production``, is
    refused with nothing restarted."""

    def __init__(self, target: str, selector: ContainerSelector, *, host: str | None = None, owner: str = "",
                 clock: Clock | None = None, allow_production: bool = False):
        self.target, self.selector, self.host, self.owner = target, selector, engine_host(host), owner
        self.clock = clock or SystemClock()
        self.allow_production = allow_production

    def run(self) -> InjectionResult:
        helper = DockerInjector(self.target, self.selector, "restart", host=self.host, owner=self.owner, clock=self.clock,
                                allow_production=self.allow_production)
        try:
            api = api_client(self.host)
            found = list_containers(api, self.selector, running=False)
            if not found:
                raise InjectionError(f"containers {self.target!r} ({self.selector.describe()}): none found")
            if self.selector.count is not None:
                choose(found, self.selector, self.target)
            helper._not_production(found)
        except Exception as exc:  # noqa: BLE001 - refused, or the engine's error: journaled, nothing restarted
            return InjectionResult(ok=False, error=str(exc) if isinstance(exc, InjectionError)
                                   else f"containers {self.target!r}: {_reason(exc)}")

        def restart(c: Container) -> str:
            if c.state == "paused":
                api.unpause(c.id)
            api.restart(c.id, timeout=STOP_TIMEOUT)
            return "restarted"

        runs = [helper._step(f"restart {c.name}", "runbook", partial(restart, c)) for c in found]
        failed = [r for r in runs if r.status == "failed"]
        return InjectionResult(ok=not failed, runs=runs, error="; ".join(r.error or "" for r in failed) or None)


class ContainerProbe:
    """Probes a ``container`` check: ok iff at least one container matches and every match runs, unpaused."""

    def __init__(self, name: str, target: str, selector: ContainerSelector, *, host: str | None = None,
                 clock: Clock | None = None):
        self.name, self.target, self.selector, self.host = name, target, selector, engine_host(host)
        self.clock = clock or SystemClock()

    def probe(self) -> Observation:
        at = self.clock.now()
        try:
            found = list_containers(api_client(self.host), self.selector, running=False)
        except Exception as exc:  # noqa: BLE001 - an engine that does not answer is a failed probe, in words
            return Observation(self.name, False, at, f"Docker engine at {self.host}: {_reason(exc)}")
        if not found:
            return Observation(self.name, False, at, f"no container matches {self.selector.describe()}")
        down = [f"{c.name} {c.state}" for c in found if c.state != "running"]
        if down:
            return Observation(self.name, False, at, "; ".join(down))
        return Observation(self.name, True, at, f"{len(found)} running")

    def close(self) -> None:
        """Nothing to release (the engine's client is shared)."""


def check_selector(containers: dict[str, ContainerSelector], name: str, what: str) -> ContainerSelector:
    """``target.containers[name]``, or ConfigError naming ``what`` refers to it."""
    if name not in containers:
        raise ConfigError(f"{what}: no containers named {name!r} in target.containers")
    return containers[name]
