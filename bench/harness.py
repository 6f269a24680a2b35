"""An in-process drill wired like ``gameday run`` wires one, minus the demo and the subprocess.

Assembled by the one composition root (``gameday.drill.assemble``). Real parts:
:class:`~gameday.drill.conductor.Conductor` on a :class:`~gameday.clock.SystemClock`,
a :class:`~gameday.journal.JournalWriter` with fsync on, the real fault ledger, the real
webhook intake (``make_intake_app`` under uvicorn in a ``BackgroundServer`` thread, with
the same sink as the runner's), the real probe loop (``ProbeSet``, 4 Hz, against
``probe_target.py`` in another process) and the ci-mode live view (plain lines, to a null
sink). Fakes: the injectors (``gameday.fakes.FakeInjector``), so only the conductor's own
work is measured.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from common import BENCH, PY, port_process

TRUE_ACTIVITY = [{"type": "action", "name": "noop", "provider": {"type": "process", "path": "true"}}]


@contextmanager
def probe_target() -> Iterator[str]:
    """Start ``probe_target.py``; yield its base URL; stop it (closing its stdin) at the end."""
    with port_process([PY, str(BENCH / "probe_target.py")], "probe_target.py") as (url, _pid):
        yield url


def scenario(target_url: str, faults: list[dict[str, Any]], *, detection_within: str = "60s",
             abort_after: str = "10m", cooldown: str = "0s", baseline: str = "0s"):
    """A minimal valid scenario against ``target_url`` (one HTTP steady-state check on /health)."""
    from gameday.model.scenario import Scenario

    return Scenario.model_validate({
        "apiVersion": "gameday/v1", "id": "bench", "title": "benchmark drill", "severity": "SEV2",
        "target": {"url": target_url},
        "steady_state": [{"name": "health", "http": {"url": "{target.url}/health", "timeout": "1s"}}],
        "faults": faults,
        "detection": {"within": detection_within, "signals": [{"name": "bench", "alert": {"alertname": "BenchAlert"}}]},
        "recovery": {"within": "60s"},
        "abort": {"max_duration": abort_after},
        "timing": {"baseline": baseline, "cooldown": cooldown, "probe_interval": "250ms"},
    })


def fault(fid: str, at: str, **extra: Any) -> dict[str, Any]:
    return {"id": fid, "at": at, "activities": TRUE_ACTIVITY, "rollbacks": TRUE_ACTIVITY, **extra}


def _timed_ledger_class():
    from gameday.drill.ledger import FaultLedger

    class TimedLedger(FaultLedger):
        """The real fault ledger; also notes how long each ``record`` (written before FaultInjected) took."""

        def __init__(self, state_dir: Path):
            super().__init__(state_dir)
            self.record_s: dict[str, float] = {}

        def record(self, drill_id, fault_id, spec, journal_path=None):
            t = time.monotonic()
            try:
                return super().record(drill_id, fault_id, spec, journal_path)
            finally:
                self.record_s[fault_id] = time.monotonic() - t

    return TimedLedger


class Drill:
    """One harness drill in ``workdir``: ``start()``, then ``stop(reason)`` (abort) or ``wait()``.

    Assembled by gameday's own composition root (:func:`gameday.drill.assemble.assemble`), with
    the given injectors, a timed ledger, a silent live view and no drill services — but with
    ``load=True``, the drill's real load service (``gameday run``'s: locust as subprocesses, one
    ``LoadStats`` per 1 s interval) for a scenario with ``load:``."""

    def __init__(self, workdir: Path, sc, injectors: Mapping[str, Any], *, drill_id: str = "bench", load: bool = False):
        from contextlib import ExitStack
        from dataclasses import replace

        from gameday.drill.assemble import DrillOptions, Factories, assemble
        from gameday.drill.liveview import LiveView
        from gameday.loader import LoadedScenario
        from gameday.model.policy import ProjectConfig
        from gameday.project import Project

        self.sc = sc
        ledger = _timed_ledger_class()(workdir / "state")
        factories = replace(
            Factories().without_services(),
            **({"load": Factories().load} if load else {}),
            ledger=lambda state: ledger,
            effects=lambda loaded, target, clock, log_dir: (dict(injectors), {}),
            live_view=lambda scenario, journal, echo: LiveView(scenario, journal, echo=lambda line: None, tty=False),
        )
        project = Project(root=workdir, config=ProjectConfig(state_dir=str(workdir / "state")))
        loaded = LoadedScenario(scenario=sc, path=workdir / "bench.yaml", base_dir=workdir, project_root=workdir)
        self._stack = ExitStack()
        self.drill = self._stack.enter_context(assemble(project, loaded, DrillOptions(mode="ci", drill_id=drill_id, out=workdir),
                                                        factories=factories, echo=lambda line: None))
        self.ledger = ledger
        self.conductor = self.drill.conductor
        self.journal = self.drill.journal
        self.server = self.drill.context.intake
        self.webhook = self.drill.context.webhook_url
        self._box: dict[str, Any] = {}
        self._thread = threading.Thread(target=self._work, name="conductor", daemon=True)

    @property
    def t0(self) -> float:
        """The raw ``time.monotonic()`` of drill offset 0: drill time stood still from assembly until
        :meth:`start` (the lobby's pause, as in ``gameday run``), so this is not ``journal.t0``."""
        return self.journal.t0 + (time.monotonic() - self.journal.clock.now())

    def _work(self) -> None:
        try:
            self._box["result"] = self.drill.play()
        except BaseException as exc:  # noqa: BLE001 - reported by wait()
            self._box["error"] = exc

    def start(self) -> Drill:
        self._thread.start()
        return self

    def phase_seen(self, kind: str, **data: Any):
        """The first journaled event of ``kind`` whose data has ``data`` (None yet)."""
        for ev in list(self.journal.events):
            if ev.kind == kind and all(getattr(ev.data, k, None) == v for k, v in data.items()):
                return ev
        return None

    def wait(self, timeout: float):
        self._thread.join(timeout)
        alive = self._thread.is_alive()
        if alive:  # bounded: never leave a drill running
            self.conductor.abort("bench: timeout")
            self._thread.join(10)
        self.close()
        if "error" in self._box:
            raise self._box["error"]
        if alive:
            raise TimeoutError(f"harness drill did not end within {timeout:g}s")
        return self._box.get("result")

    def stop(self, reason: str = "bench: done", timeout: float = 30.0):
        self.conductor.abort(reason)
        return self.wait(timeout)

    def close(self) -> None:
        self._stack.close()
