"""The impact probe loop: each steady-state check probed in its own thread at the scenario's rate.

One thread per check so a hung target (a probe waiting out its timeout) never slows the
others; each round's observation goes to the conductor, which turns state changes into
``ImpactStarted`` / ``ImpactEnded`` / ``RecoveryObserved``.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterable
from typing import Protocol

from gameday.adapters.promql import PromProbe
from gameday.model.events import ImpactEnded, ImpactStarted
from gameday.ports import Observation


class Probe(Protocol):
    def probe(self) -> Observation: ...


class ProbeSet:
    """All the checks: ``check()`` probes each once (preflight, final); ``start()`` probes continuously."""

    def __init__(self, probes: Iterable[Probe], interval: float):
        self.probes = list(probes)
        self.interval = interval
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def check(self) -> list[Observation]:
        results: list[Observation | None] = [None] * len(self.probes)

        def one(i: int, p: Probe) -> None:
            results[i] = _probe(p)

        threads = [threading.Thread(target=one, args=(i, p), daemon=True) for i, p in enumerate(self.probes)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        return [r for r in results if r is not None]

    def bind_prometheus(self, url: str) -> None:
        """Point every PromQL check that names no Prometheus of its own at ``url`` (the drill's)."""
        for p in self.probes:
            if isinstance(p, PromProbe) and p.needs_url:
                p.bind(url)

    def start(self, sink: Callable[[list[Observation]], None]) -> None:
        for p in self.probes:
            th = threading.Thread(target=self._loop, args=(p, sink), daemon=True, name="probe")
            th.start()
            self._threads.append(th)

    def _loop(self, p: Probe, sink: Callable[[list[Observation]], None]) -> None:
        next_at = time.monotonic()
        while not self._stop.is_set():
            with contextlib.suppress(Exception):  # the sink (the conductor) refused it, e.g. after the drill ended
                sink([_probe(p)])
            next_at += self.interval
            delay = next_at - time.monotonic()
            if delay < 0:
                next_at = time.monotonic()
                delay = 0
            if self._stop.wait(delay):
                break

    def stop(self) -> None:
        self._stop.set()
        for th in self._threads:
            th.join(timeout=5)
        for p in self.probes:
            close = getattr(p, "close", None)
            if close:
                close()


def _probe(p: Probe) -> Observation:
    """One probe; a probe that raises is a failing check (never a missing one: no checks is not 'healthy')."""
    try:
        return p.probe()
    except Exception as exc:  # noqa: BLE001 - whatever the probe raised, the check fails with its text
        name = getattr(getattr(p, "check", None), "label", None) or type(p).__name__
        clock = getattr(p, "clock", None)
        at = clock.now() if clock is not None else time.monotonic()
        return Observation(str(name), False, at, f"probe error: {type(exc).__name__}: {exc}")


class ImpactWatch:
    """The ground truth the conductor keeps from its probes: which checks fail now, and whether the
    customers felt anything since the first injection (what recovery is measured against)."""

    def __init__(self) -> None:
        self.failing: dict[str, bool] = {}  # check -> failing now (every check seen so far)
        self.since_injection = False

    @property
    def any_failing(self) -> bool:
        return any(self.failing.values())

    def take(self, obs: Observation, injected: bool) -> ImpactStarted | ImpactEnded | None:
        """The change ``obs`` makes, as the event to journal (None: no change)."""
        was = self.failing.get(obs.check, False)
        if not obs.ok and not was:
            self.failing[obs.check] = True
            self.since_injection = self.since_injection or injected
            return ImpactStarted(check=obs.check, detail=obs.detail)
        if obs.ok and was:
            self.failing[obs.check] = False
            return ImpactEnded(check=obs.check)
        return None

    def injected(self) -> None:
        """A fault went in: a check already failing then counts as impact all the same."""
        self.since_injection = self.since_injection or self.any_failing

    def recovered(self) -> bool:
        """Impact was felt since the injection, and every check holds again."""
        return self.since_injection and not self.any_failing
