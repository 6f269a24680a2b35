"""A live drill to fuzz: a real conductor, journal, intake and control room, with a fake system.

:class:`LiveDrill` is a drill as ``gameday run --mode gameday`` wires it, minus the real world: a
real :class:`~gameday.drill.conductor.Conductor` on the system clock writing a real journal, the
webhook intake app and the control room app (:func:`gameday.web.controlroom.make_app`), with fake
injectors, runbook and probe. Tests drive its apps in-process (Starlette's TestClient) and, for
what only a socket shows, on a real uvicorn server on loopback.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

ACT = [{"type": "action", "name": "true", "provider": {"type": "process", "path": "true"}}]
SCENARIO: dict[str, Any] = {
    "apiVersion": "gameday/v1", "id": "fuzz-drill", "title": "A fake database fails (fuzz tests)",
    "severity": "SEV1", "service": "Checkout", "roles": ["incident-commander", "tech-lead", "comms-lead"],
    "target": {"url": "http://127.0.0.1:9"},
    "steady_state": [{"name": "health", "http": {"url": "{target.url}/health"}}],
    "faults": [{"id": "kill-db", "at": "200ms", "activities": ACT, "rollbacks": ACT},
               {"id": "later", "at": "50m", "activities": ACT, "rollbacks": ACT}],
    "detection": {"within": "50m", "signals": [
        {"name": "errors", "alert": {"alertname": "CheckoutErrorsHigh"}},
        {"name": "paged", "alert": {"alertname": "~.*", "labels": {"source": "pagerduty"}}}]},
    "response": [
        {"id": "ack", "action": "acknowledge", "role": "incident-commander", "within": "50m"},
        {"id": "declare", "action": "declare_incident", "role": "incident-commander", "within": "50m"},
        {"id": "severity", "action": "set_severity", "expect": "SEV1", "within": "50m"},
        {"id": "failover", "action": "runbook", "runbook": "failover", "role": "tech-lead", "within": "50m"},
        {"id": "status", "action": "post_update", "audience": "external", "role": "comms-lead", "within": "50m",
         "every": "10m"},
        {"id": "execs", "action": "notify_executives", "within": "50m"},
        {"id": "resolve", "action": "resolved", "role": "incident-commander", "within": "50m", "after": "recovery"},
    ],
    "runbooks": {"failover": {"description": "promote the replica", "activities": ACT}},
    "recovery": {"within": "55m"}, "abort": {"max_duration": "1h"}, "timing": {"baseline": "100ms"},
    "policy": {"scale": 0.0167},
}  # fmt: skip


class LiveDrill:
    """A running drill (gameday mode) with its intake and control-room apps; see the module docstring."""

    def __init__(self, folder: Path):
        from gameday.adapters.webhooks import make_intake_app
        from gameday.clock import PausableClock, SystemClock
        from gameday.drill.conductor import Conductor
        from gameday.fakes import FakeInjector, FakeLedger, FakeProbe, FakeRunbook
        from gameday.journal import JournalWriter
        from gameday.model.policy import ProjectConfig
        from gameday.model.scenario import Scenario
        from gameday.web.auth import TokenRegistry
        from gameday.web.controlroom import _draft_function, make_app
        from gameday.web.room import ControlRoom

        self.folder = folder
        self.scenario = Scenario.model_validate(SCENARIO)
        self.clock = PausableClock(SystemClock())
        self.clock.pause()  # the lobby
        self.journal = JournalWriter(folder / "journal.jsonl", self.clock, fsync=False)
        self.healthy = {"health": True}
        self.probe = FakeProbe(self.clock, self.healthy)
        injectors = {"kill-db": FakeInjector("kill-db", on_inject=lambda: self.healthy.update(health=False),
                                             on_rollback=lambda: self.healthy.update(health=True)),
                     "later": FakeInjector("later")}
        runbook = FakeRunbook(effect=lambda: self.healthy.update(health=True))
        self.policy = ProjectConfig().policy.scaled(self.scenario.policy.scale)
        self.conductor = Conductor(self.scenario, self.journal, self.clock, mode="gameday", drill_id="fuzz-drill",
                                   injectors=injectors, runbooks={"failover": runbook}, probe=self.probe,
                                   ledger=FakeLedger(), policy=self.policy)
        conductor = self.conductor

        def sink(fmt, payload, alerts, *, received_at=None, error=None):  # as gameday.drill.assemble.IntakeSink
            if conductor.phase is None:
                return None
            return conductor.receive_alerts(fmt, payload, alerts, received_at=received_at, error=error)

        self.intake_app = make_intake_app(sink, clock=self.clock.now)
        self.registry = TokenRegistry()
        self.facilitator = self.registry.issue_facilitator()
        self.gate = threading.Event()
        self.room = ControlRoom(scenario=self.scenario, policy=self.policy, conductor=conductor, journal=self.journal,
                                drill_id="fuzz-drill", mode="gameday", registry=self.registry, gate=self.gate,
                                bind_host="127.0.0.1", base_url="http://127.0.0.1", draft=_draft_function(),
                                draft_options={"templates_dir": None, "business": None})
        self.app = make_app(self.room, intake=self.intake_app)
        self.result: Any = None
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True, name="fuzz-conductor"),
                         threading.Thread(target=self._probe_loop, daemon=True, name="fuzz-probes")]
        for thread in self._threads:
            thread.start()

    def _run(self) -> None:  # what gameday.drill.play.run_with_signals does
        while not self.gate.wait(0.05):
            if self._stop.is_set():
                return
        self.clock.resume()
        self.result = self.conductor.run()

    def _probe_loop(self) -> None:
        while not self._stop.wait(0.05):
            self.conductor.observe(self.probe.check())

    def start(self) -> None:
        """Open the start gate and wait until the fault is in (the drill is live)."""
        from gameday.model.events import FaultInjected

        self.gate.set()
        self.wait_for(FaultInjected)

    def wait_for(self, kind: type, timeout: float = 15.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [e for e in list(self.journal.events) if isinstance(e.data, kind)]
            if found:
                return found[0]
            time.sleep(0.02)
        raise AssertionError(f"no {kind.__name__} within {timeout:g}s: {[e.kind for e in self.journal.events]}")

    def journal_bytes(self) -> bytes:
        return self.journal.path.read_bytes()

    def close(self, reason: str = "fuzzing over") -> None:
        self.conductor.abort(reason)
        self._stop.set()
        self.gate.set()
        for thread in self._threads:
            thread.join(15)
        self.journal.close()
