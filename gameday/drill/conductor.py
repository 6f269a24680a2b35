"""The conductor: plays a scenario on a clock and journals every fact it learns.

Phases: ``preflight`` (steady state must hold) → ``baseline`` → ``inject`` → ``observe``
→ ``recover`` → ``rollback`` (:mod:`gameday.drill.reports` then writes the ``report``).

Threads: :meth:`Conductor.run` is the drill's timeline (faults, deadlines, scripted and
automated responders, guardrails). Everything else — alerts from the webhook intake,
observations from the probe loop, actions from responders, an abort from a signal —
calls the thread-safe ``receive_*``/``record_*``/``observe``/``abort`` methods, which
journal at once under one lock (so a detection's time is the moment it arrived) and wake
the timeline. Tabletop and training modes plug in here as other input sources and a
pausable clock; the phase machine does not change.

Safety (the effects live in :class:`gameday.drill.faults.FaultBook`): a fault is recorded in the
ledger before it is injected and cleared after its rollback; every exit from :meth:`run` —
end, guardrail, abort, error — rolls back every fault still open.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Literal, cast

from pydantic import JsonValue

from gameday.analysis.matching import evaluate_steps
from gameday.clock import Clock
from gameday.drill.controls import DrillControls
from gameday.drill.faults import FaultBook, FaultState, safely
from gameday.drill.observing import ImpactWatch
from gameday.drill.schedule import ScriptedAction, automation_due, end_due, script_due
from gameday.drill.stops import StopWatch
from gameday.errors import DrillNotStarted
from gameday.journal import JournalWriter
from gameday.model import events
from gameday.model.alerts import Alert, match_delivery
from gameday.model.policy import DEFAULT_POLICY, SeverityPolicy
from gameday.model.scenario import Scenario
from gameday.model.terms import Mode
from gameday.ports import Feed, InjectionResult, Injector, Ledger, Observation, Observer, RunbookRunner
from gameday.version import __version__


@dataclass(frozen=True)
class DrillResult:
    outcome: str  # completed | aborted
    reason: str | None


class Conductor(DrillControls):
    """Plays one scenario. Construct, then call :meth:`run` from the drill's thread; the facilitator's
    controls and the simulator's desk are the base's (:class:`~gameday.drill.controls.DrillControls`)."""

    def __init__(
        self,
        scenario: Scenario,
        journal: JournalWriter,
        clock: Clock,
        *,
        mode: Mode,
        drill_id: str,
        injectors: Mapping[str, Injector],
        runbooks: Mapping[str, RunbookRunner] | None = None,
        probe: Observer | None = None,
        ledger: Ledger | None = None,
        roster: Iterable[tuple[str, str]] = (),
        script: Iterable[ScriptedAction] = (),
        policy: SeverityPolicy | None = None,
        scenario_path: str | None = None,
        target: events.TargetDescription | None = None,
        webhook_url: str | None = None,
        spawn: Callable[[Callable[[], None]], None] | None = None,
        feed: Feed | None = None,
        simulated: bool = False,
        scripted: Callable[[ScriptedAction], None] | None = None,
    ):
        self.scenario, self.journal, self.clock = scenario, journal, clock
        self.mode, self.drill_id = mode, drill_id
        self.runbooks = dict(runbooks or {})
        self.probe = probe
        self.roster = list(roster)
        self._script = list(script)
        self._script_done: set[int] = set()
        self.policy = policy or DEFAULT_POLICY.scaled(scenario.policy.scale)
        self._scenario_path, self._target, self._webhook_url = scenario_path, target, webhook_url
        self._lock = threading.RLock()
        self.feed = feed
        #: faults are simulated shadows (tabletop): their events come from the simulator, time may pause
        #: with them in, and reaching abort.max_duration ends the exercise rather than aborting it
        self.simulated = simulated
        self._effects_source = "simulator" if simulated else "injector"
        #: plays a scripted trainee's instructions (a training drill's :class:`~gameday.sim.training.TrainingDesk`)
        self._scripted = scripted
        #: a simulated drill's story time: what falls due at offset d is journaled at d, however late the
        #: thread woke (set on the drill's thread only, while it plays what is due; see :meth:`_tick`)
        self._story = threading.local()
        self._next_due: float | None = None
        self._thread: int | None = None  # the drill's thread (run's)
        self._over_at: float | None = None  # a simulated drill's offset when its timeline found it over
        self._wake: queue.Queue = queue.Queue()
        self.faults = FaultBook(scenario.faults, injectors, ledger, drill_id, str(journal.path), simulated=simulated)
        self._impact = ImpactWatch()
        self._anchors: dict[str, float] = {}
        self._roles: dict[str, str] = {}  # person -> role
        self._automation_started: set[str] = set()
        self._busy = 0  # runbooks in flight
        self._abort_reason: str | None = None
        self._phase: events.Phase | None = None
        self._spawn = spawn or _spawn_thread
        self._done = False  # DrillEnded journaled (services may still journal after it)
        self._end_requested: str | None = None
        self.phase_listeners: list[Callable[[str], None]] = []
        self._stops = StopWatch(
            scenario.abort.when, active=lambda: self._phase != "rollback" and self._abort_reason is None
            and any(st.open for st in self.faults),  # never once the drill's own rollback has begun
            injected_t=lambda: self._anchors.get("injection"), abort=self.abort,
            emit=lambda met, t: self.journal.append(met, "conductor", at=self.journal.t0 + t),
        ) if scenario.abort.when and not simulated else None
        if self._stops is not None:
            journal.listeners.append(self._stops.on_event)  # LoadStats: error rate, failed requests

    # ----------------------------------------------------------------- inputs
    def now_t(self) -> float:
        return self.journal.offset()

    def observe(self, observations: Iterable[Observation]) -> None:
        """Take one round of the conductor's own probes (ground truth for impact, never detection)."""
        with self._lock:
            if self._phase in (None, "preflight", "rollback") or self._done:
                return
            observations = list(observations)
            for obs in observations:
                change = self._impact.take(obs, injected="injection" in self._anchors)
                if change is not None:
                    self._emit(change, "observer", at=obs.at)
            if self._stops is not None:  # a stop condition on a check: journaled, then the drill aborts
                self._stops.observations((o, self.journal.offset(o.at)) for o in observations)
            if "injection" in self._anchors and "recovery" not in self._anchors and self._impact.recovered():
                ev = self._emit(events.RecoveryObserved(checks=sorted(self._impact.failing)), "observer")
                self._anchors["recovery"] = ev.t
                self._set_phase("recover")
        self._poke()

    def receive_alerts(self, fmt: str, payload: JsonValue, alerts: list[Alert], *, received_at: float | None = None,
                       error: str | None = None, source: str = "webhook") -> events.Event[events.AlertReceived]:
        """Journal one webhook delivery; the first matching firing alert after injection is the detection."""
        self._require_started()
        received, first = match_delivery(self.scenario.detection.signals, fmt, payload, alerts, error)
        with self._lock:
            was_detected = "detection" in self._anchors
            ev = self._emit(received, source, at=received_at)
            if first and "injection" in self._anchors and "detection" not in self._anchors and not self._done:
                self._detect(events.DetectionRecorded(via="alert", signal=received.signal, alertname=first.alertname,
                                                      alert_seq=ev.seq), source, at=received_at)
            woke = "detection" in self._anchors and not was_detected
            for alert in alerts:  # e.g. a PagerDuty acknowledgement is also the responder's action
                if alert.action and not self._done:
                    person = alert.actor or fmt
                    self.record_action(person, alert.action, events.ActionDetails(via=fmt, alert_seq=ev.seq))
                    woke = True
        if woke:  # only news for the timeline wakes it: a flood of deliveries must not keep it busy
            self._poke()
        return ev

    def assign_role(self, person: str, role: str, by: str = "facilitator") -> events.Event:
        """Give ``person`` the role; whoever held it before hands it over (one holder per role)."""
        self._require_started()
        with self._lock:
            for holder, held in list(self._roles.items()):
                if held == role and holder != person:
                    del self._roles[holder]
            self._roles[person] = role
            ev = self._emit(events.RoleAssigned(person=person, role=role, by=by), by)
            self._match_steps()
        self._poke()
        return ev

    def record_action(self, author: str, action: str, details: events.ActionDetails | None = None,
                      role: str | None = None) -> events.Event[events.ActionRecorded]:
        """Journal a responder's action; ``runbook`` starts the named runbook in the background."""
        self._require_started()
        details = details or events.ActionDetails()
        if action == "runbook":
            return self.start_runbook(str(details.runbook), author, role)
        with self._lock:
            ev = self._emit(events.ActionRecorded(
                action=cast(events.RecordedAction, action), author=author, role=role or self._roles.get(author),
                severity=details.severity, audience=details.audience, text=details.text, runbook=details.runbook,
                via=details.via, alert_seq=details.alert_seq), author)
            if action == "mark_detected" and self.scenario.detection.people_count and "injection" in self._anchors \
                    and "detection" not in self._anchors:
                self._detect(events.DetectionRecorded(via="person", by=author), author)
            self._match_steps()
        self._poke()
        return ev

    def start_runbook(self, name: str, author: str, role: str | None = None) -> events.Event[events.ActionRecorded]:
        """Run a scenario runbook in a worker thread, journaling started/activities/finished."""
        runner = self.runbooks.get(name)
        with self._lock:
            ev = self._emit(events.ActionRecorded(action="runbook_started", runbook=name, author=author,
                                           role=role or self._roles.get(author)), author)
            self._match_steps()
            self._busy += 1
        self._spawn(lambda: self._run_runbook(name, runner, author, role))
        return ev

    # --------------------------------------------------------------- timeline
    def run(self) -> DrillResult:
        """Play the drill to its end. Always rolls back every injected fault before returning."""
        self._thread = threading.get_ident()
        with self._lock:
            self._emit(events.DrillStarted(drill_id=self.drill_id, mode=self.mode, scenario=self.scenario, policy=self.policy,
                                    scenario_path=self._scenario_path, target=self._target,
                                    webhook_url=self._webhook_url, gameday_version=__version__), "conductor",
                       at=self.journal.t0 if self.simulated else None)  # a story starts at 0, however long the lobby
            self._anchors["start"] = 0.0
        try:
            with self._lock:
                if self.simulated:  # the set-up happens at the story's start, however long it takes
                    self._story.at = self.journal.t0
                if self.feed is not None:
                    self.feed.start()
                self._set_phase("preflight")
            if self._abort_reason is not None:  # aborted in the lobby: nothing is checked, recorded or injected
                self._story.at = None
                return self._finish()
            failing = self._preflight()
            if failing:
                self.abort(failing)
            else:
                self.faults.record_all()
                for person, role in self.roster:
                    self.assign_role(person, role, by="script")
                with self._lock:
                    self._set_phase("baseline")
            self._story.at = None
            while self._abort_reason is None and self._end_requested is None:
                deadline = self._tick()
                if deadline is None:
                    break
                item = self.clock.next_input(self._wake, self.journal.t0 + deadline)
                if callable(item):
                    item(self)
        except BaseException as exc:  # never leave a fault behind
            self._story.at = None
            if not self._done:
                self.abort(f"conductor error: {type(exc).__name__}: {exc}")
                self._finish()
            raise
        if self._over_at is not None and self._over_at < self.now_t():
            self._story.at = self.journal.t0 + self._over_at
        try:
            return self._finish()
        finally:
            self._story.at = None

    def _tick(self) -> float | None:
        """Do what is due now; return the next due offset, or None when the drill is over.

        A simulated drill plays what fell due in time order, each at its own offset (the story's
        time), so its journal does not depend on how late its thread woke: a scripted training
        played at x100 or at x10 journals the same times."""
        if not self.simulated:
            return self._tick_at(self.now_t())
        now = self.now_t()
        t = now if self._next_due is None else max(min(self._next_due, now), 0.0)
        while True:
            self._story.at = self.journal.t0 + t if t < now else None
            try:
                nxt = self._tick_at(t)
            finally:
                self._story.at = None
            if nxt is None or nxt <= t or nxt > now:
                self._next_due = nxt
                if nxt is None:  # over at this offset of the story: the end is journaled there too
                    self._over_at = t
                return nxt
            t = nxt

    def _tick_at(self, t: float) -> float | None:
        """Do what is due at offset ``t``; return the next due offset, or None when the drill is over."""
        sc = self.scenario
        if t >= sc.abort.max_duration:
            if self.simulated:  # nothing live to guard: the story's time is up
                limit = f"{sc.abort.max_duration:g}s"
                self._end_requested = self._end_requested or f"scenario time is up: abort.max_duration ({limit})"
            else:
                self.abort(f"guardrail: abort.max_duration ({sc.abort.max_duration:g}s) reached")
            return None
        due: list[float] = [sc.abort.max_duration]
        for st in self.faults:
            if st.pending:
                if t >= st.fault.at:
                    self._inject(st)
                    if self._abort_reason:
                        return None
                else:
                    due.append(st.fault.at)
            elif st.open and st.fault.max_duration is not None:
                limit = st.injected_t + st.fault.max_duration
                if t >= limit:
                    self._rollback(st, "max_duration")
                else:
                    due.append(limit)
        script_later = self._play_script(t)
        due += script_later + self._play_automation(t)
        if self.feed is not None:
            due += self.feed.play(t)
            script_later = self._play_script(t)  # a feed may have reached an anchor (a simulation's state:NAME)
            due += script_later
        with self._lock:
            done, end_at = end_due(
                self.scenario, self._anchors, t, busy=bool(self._busy), script_later=script_later,
                faults_pending=self.faults.any_pending(), last_injection=self.faults.last_injected_t(),
                impacted=self._impact.since_injection or self._impact.any_failing)
        if done and not (self.feed is not None and self.feed.keeps_open()):
            return None
        if end_at is not None:
            due.append(end_at)
        return max(t, min(due)) if due else None

    def _play_script(self, t: float) -> list[float]:
        now, later = script_due(self._script, self._script_done, self._anchors, t)
        for i in now:
            act = self._script[i]
            self._script_done.add(i)
            if act.instruction is not None:
                if self._scripted is not None:
                    self._scripted(act)
            elif act.action == "assign_role" and act.role is not None:
                self.assign_role(act.assignee or act.person, act.role, by=act.person)
            else:
                self.record_action(act.person, act.action, act.details)
        return later

    def _play_automation(self, t: float) -> list[float]:
        now, later = automation_due(self.scenario, self.mode, self._automation_started, self._anchors, t)
        for name, role in now:
            self._automation_started.add(name)
            self.start_runbook(name, "automation", role)
        return later

    # ---------------------------------------------------------------- effects
    def _preflight(self) -> str:
        """Check the steady state, then the faults' blast radius; return why the drill may not inject ('': it may)."""
        failing = "; ".join(f"{o.check}: {o.detail or 'failing'}" for o in self._steady_state("preflight") if not o.ok)
        if failing:
            return f"steady state not met before injection: {failing}"
        refused = "" if self.simulated else "; ".join(self.faults.refused_targets())
        return f"blast radius refused before injection: {refused}" if refused else ""

    def _steady_state(self, stage: Literal["preflight", "final"]) -> list[Observation]:
        observations = self.probe.check() if self.probe is not None else []
        if self.probe is not None:
            with self._lock:
                self._emit(events.SteadyStateChecked(
                    ok=all(o.ok for o in observations), stage=stage,
                    checks=[events.CheckResult(check=o.check, ok=o.ok, detail=o.detail) for o in observations]), "conductor")
        return observations

    def _inject(self, st: FaultState) -> None:
        with self._lock:
            self._set_phase("inject")
        if not self._hypothesis_holds(st):
            return
        refused = self.faults.choose_targets(st)  # the targets, chosen and in the ledger before FaultInjected
        if refused is not None:  # nothing was touched: not injected, not rolled back
            with self._lock:
                self._emit(events.FaultInjectionFailed(fault=st.fault.id, error=refused), "injector")
            self.abort(f"fault {st.fault.id} refused: {refused}")
            return
        with self._lock:
            ev = self._emit(events.FaultInjected(fault=st.fault.id, kind=st.kind, scheduled_t=st.fault.at), self._effects_source)
            st.injected_t = ev.t
            self._anchors.setdefault("injection", ev.t)
            self._impact.injected()
        result = self.faults.inject(st)
        with self._lock:
            self._journal_runs(st.fault.id, result)
            if not result.ok:
                self._emit(events.FaultInjectionFailed(fault=st.fault.id, error=result.error), "injector")
            if not self.faults.any_pending() and "recovery" not in self._anchors:
                self._set_phase("observe")
        if not result.ok:
            self.abort(f"injector failed: fault {st.fault.id}: {result.error}")

    def _hypothesis_holds(self, st: FaultState) -> bool:
        """Probe the fault's own steady-state hypothesis before injecting it (True when it has none).

        When it does not hold, the fault is settled uninjected and the drill aborts. An abort asked
        for while the probes ran leaves the fault uninjected too (False)."""
        check = self.faults.check_hypothesis(st)
        if check is not None:
            with self._lock:
                self._emit(check.event(st.fault.id, "before"), "injector")
            if not check.ok:
                st.failed = True  # settled: never injected
                self.abort(f"fault {st.fault.id} not injected: its experiment's steady-state hypothesis "
                           f"{check.title!r} did not hold before injection ({check.failing()})")
                return False
        return self._abort_reason is None and self._end_requested is None

    def _rollback(self, st: FaultState, reason: events.RollbackReason, *, check_after: bool = True) -> bool:
        """Roll the fault back if it is open (True if it was), journaling what happened; then, unless
        ``check_after`` is False, probe its own hypothesis (:meth:`_check_after`)."""
        result = self.faults.rollback(st)
        if result is None:
            return False
        with self._lock:
            self._journal_runs(st.fault.id, result)
            if st.fault.no_rollback is not None:
                self._emit(events.FaultNotRolledBack(fault=st.fault.id, reason=reason, why=st.fault.no_rollback),
                           self._effects_source)
            elif result.ok:
                self._emit(events.FaultRolledBack(fault=st.fault.id, reason=reason), self._effects_source)
            else:
                self._emit(events.FaultRollbackFailed(fault=st.fault.id, error=result.error), self._effects_source)
        if check_after:
            self._check_after(st)
        return True

    def _check_after(self, st: FaultState) -> None:
        """Probe the fault's own steady-state hypothesis after its rollback and journal the result."""
        check = self.faults.check_hypothesis(st)
        if check is not None:
            with self._lock:
                self._emit(check.event(st.fault.id, "after"), "injector")

    def _run_runbook(self, name: str, runner: RunbookRunner | None, author: str, role: str | None) -> None:
        try:
            result = safely(runner.run) if runner else InjectionResult(ok=False, error=f"no runbook named {name!r}")
            with self._lock:
                self._journal_runs(name, result)
                self._emit(events.ActionRecorded(action="runbook_finished", runbook=name, author=author,
                                          role=role or self._roles.get(author), ok=result.ok, error=result.error), author)
        finally:
            with self._lock:
                self._busy -= 1
            self._poke()

    def _finish(self) -> DrillResult:
        reason = self._abort_reason
        with self._lock:
            if reason:
                self._emit(events.DrillAborted(reason=reason), "conductor")
            self._set_phase("rollback")
        why: events.RollbackReason = "signal" if reason and reason.startswith("signal") else ("abort" if reason else "end")
        errors: list[BaseException] = []
        rolled: list[FaultState] = []
        for st in self.faults:  # every fault is tried, whatever a ledger or journal write did for another
            try:
                if self._rollback(st, why, check_after=False):
                    rolled.append(st)
            except Exception as exc:  # noqa: BLE001 - kept; the first is raised once every fault is tried
                errors.append(exc)
        for st in rolled:  # every fault's own hypothesis once all are rolled back: no rollback waits for probes
            try:
                self._check_after(st)
            except Exception as exc:  # noqa: BLE001 - kept; the first is raised below
                errors.append(exc)
        try:
            self.faults.forget_uninjected()
        except Exception as exc:  # noqa: BLE001 - kept; the first is raised below
            errors.append(exc)
        if self._anchors.get("injection") is not None:
            self._steady_state("final")
        outcome: Literal["completed", "aborted"] = "aborted" if reason else "completed"
        with self._lock:
            self._emit(events.DrillEnded(outcome=outcome, reason=reason or self._end_requested), "conductor")
            self._done = True
        if errors:
            raise errors[0]
        return DrillResult(outcome, reason)

    # ---------------------------------------------------------------- helpers
    def _detect(self, detection: events.DetectionRecorded, source: str, at: float | None = None) -> None:
        self._anchors["detection"] = self._emit(detection, source, at=at).t
        self._match_steps()

    def _match_steps(self) -> None:
        """Journal StepMatched for steps newly done (live view; the scorecard recomputes)."""
        for res in evaluate_steps(self.scenario, self.journal.events, now_t=self.now_t()):
            if res.done_t is not None and res.verdict is not None and res.id not in self._anchors:  # done: judged
                self._anchors[res.id] = res.done_t
                self._emit(events.StepMatched(step=res.id, action_seq=res.matched_seq, verdict=res.verdict), "conductor")

    def _journal_runs(self, owner: str, result: InjectionResult) -> None:
        for run in result.runs:
            self._emit(run.event(owner, self.journal.t0), "injector")

    def _set_phase(self, phase: events.Phase) -> None:
        if phase != self._phase:
            self._phase = phase
            self._emit(events.PhaseChanged(phase=phase), "conductor")
            for listener in list(self.phase_listeners):
                with contextlib.suppress(Exception):  # a listener (e.g. the load driver) never breaks the drill
                    listener(phase)

    def _emit[P: events.Payload](self, payload: P, source: str, at: float | None = None) -> events.Event[P]:
        story = getattr(self._story, "at", None)  # on the drill's thread, playing what fell due: the story's time
        if story is not None:
            at = story if at is None else min(at, story)
        return self.journal.append(payload, source, at=at)

    def _require_started(self) -> None:
        if not self.journal.events:  # DrillStarted is always the first event
            raise DrillNotStarted("the drill has not started: nothing can be recorded yet")

    @property
    def phase(self) -> events.Phase | None:
        return self._phase


def _spawn_thread(fn: Callable[[], None]) -> None:
    threading.Thread(target=fn, daemon=True, name="runbook").start()
