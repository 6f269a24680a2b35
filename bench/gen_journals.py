"""A generator of realistic drill histories: journals and their scorecards, as drills leave them.

    .venv/bin/python bench/gen_journals.py OUT --drills 10000 [--seed N] [--verify 50] [--force]

writes a project-like folder ``OUT`` holding, for each drill, ``reports/DRILL_ID/journal.jsonl`` and
``scorecards/DRILL_ID.json`` (where ``gameday run`` without ``--out`` puts them), plus ``corpus.json``
(what was generated: parameters, counts, bytes, templates) and ``templates.pkl`` (for
:func:`add_drill`). The drills' other reports (postmortems, ``scorecards/ID.md``) are not written: the
trends never open them.

**How.** A few dozen distinct *template* journals are written first, each by the real
:class:`~gameday.journal.JournalWriter`:

* live (``gameday``) and ``ci`` drills of 9 scenarios (:data:`LIVE`; built as real
  :class:`~gameday.model.scenario.Scenario` models: ids, titles, tags, services, detection signals,
  runbooks and severities vary; 7 of them drive load, so their journals carry a ``LoadStarted``, one
  ``LoadStats`` interval per second with locust-like figures per request name, and a ``LoadStopped``),
  played on a :class:`~gameday.clock.FakeClock` the way ``tests/fixtures/make_journals.py`` plays its
  drills, with ``StepMatched`` journaled as the conductor does (:func:`evaluate_steps` on the partial
  journal) and outcomes ``clean``, ``late`` (detection, steps, recovery, comms late), ``severity``
  (declared at the wrong level, corrected late or never: live only), ``silent`` (nothing detects;
  the fault ends at its max_duration) and ``aborted``;
* ``tabletop`` and ``training`` drills run by the real CLI (``gameday run ... --pace instant
  --responders SCRIPT``, the repository's scripted participants and trainees, two seeds for training,
  a slowed-down copy of each tabletop script), whose journals are then put on a real-time clock: each
  line's ``wall`` becomes start + ``t`` (+ the run's own milliseconds) and the ``PaceSet`` says
  ``real`` — what the same drill at ``--pace real`` journals.

Each template is scored once with the real analysis (``render_scorecard(score_journal(read_journal(path)),
"json")``, byte for byte what ``gameday score`` prints and a drill writes). People's names, the drill id
and every timestamp are placeholders in the templates' bytes. The N drills are then made from templates
by rewriting those bytes: the drill id (``SCENARIO-YYYYmmddTHHMMSSZ``, as ``gameday run`` names a drill),
the people (15, :data:`ROSTER`, rotating through the incident commander, tech lead and comms lead of
live game days and tabletops, a live game day's facilitator, and training's trainee; ci drills keep their responder
script's names), every timestamp shifted to the drill's start (each journal line's ``wall``, the
scorecard's ``started_at``/``ended_at``, an alert payload's ``startsAt``). Files get the drill's end as
their modification time (the scorecard two seconds later). Finally :func:`verify` re-scores a sample
(``--verify`` random drills and one drill of every template) with the real analysis and requires the
generated scorecard byte for byte: a generated scorecard is the true one.

**The history.** Drills start over the 18 months before ``AS_OF`` (2026-06-30; ci at any hour, the
others on weekdays in working hours); modes ~55 % ci, ~30 % live, ~7 % tabletop, ~8 % training.
Outcomes improve over time (clean from ~40 % to ~70 % of live drills); ``catalog-silent-failure``
is silent until its alert is added, 9 months in. About 100 events per journal on average.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pickle
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GAMEDAY = str(Path(sys.executable).parent / "gameday")

#: Bump when the generator's output changes (the cached corpora are keyed by it).
GEN_VERSION = 1
AS_OF = date(2026, 6, 30)
MONTHS = 18
ROSTER = ("Amara", "Bruno", "Chen", "Dmitri", "Elif", "Farah", "Goran", "Hana", "Ines", "Jonas", "Kofi", "Lena",
          "Mateo", "Nadia", "Oskar")
MODE_WEIGHTS = {"ci": 0.55, "gameday": 0.30, "tabletop": 0.07, "training": 0.08}

# Placeholders in the templates' bytes (none is a prefix of another; none occurs in gameday's own text).
DRILL, IC, TL, CL, FAC, TRAINEE = "QzDRILL", "Qzic", "Qztl", "Qzcl", "Qzfac", "Qztrn"
TOKENS = (DRILL, IC, TL, CL, FAC, TRAINEE)
SLOTS = (IC, TL, CL, FAC, TRAINEE)
CI_PEOPLE = {IC: "alice", TL: "bob", CL: "carol"}  # a ci drill's responders: its script's names
ROLE_OF = {IC: "incident-commander", TL: "tech-lead", CL: "comms-lead"}
TEMPLATE_WALL0 = datetime(2000, 1, 1, tzinfo=UTC)
_EPOCH0_US = int(TEMPLATE_WALL0.timestamp()) * 1_000_000
_HOLE = re.compile(rb"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{6}|\d{3})Z|(" + b"|".join(t.encode() for t in TOKENS) + rb")")


# ---------------------------------------------------------------------------------------------- scenarios
@dataclass(frozen=True)
class LiveSpec:
    """One live/ci scenario of the history."""

    id: str
    title: str
    service: str
    severity: str
    tags: tuple[str, ...]
    fault: str
    fault_text: str
    signals: tuple[tuple[str, str], ...]  # (signal name, alertname)
    runbook: str
    load: tuple[str, ...] | None  # customer-facing request names; None: no load
    baseline: int = 20


LIVE = (
    LiveSpec("checkout-db-primary-failure", "Primary database fails during checkout peak", "Checkout", "SEV1",
             ("database", "failover", "load"), "kill-primary", "SIGKILL the database primary",
             (("checkout errors", "CheckoutErrorsHigh"), ("checkout down", "CheckoutDown")), "failover", ("checkout",), 55),
    LiveSpec("checkout-api-hang", "The checkout API hangs", "Checkout", "SEV1", ("checkout", "hang", "restart"),
             "freeze-checkout", "SIGSTOP the checkout API process", (("checkout down", "CheckoutDown"),),
             "restart-checkout", ("checkout",), 45),
    LiveSpec("catalog-silent-failure", "The product catalog breaks and nobody is paged", "Product catalog", "SEV2",
             ("catalog", "silent", "monitoring-gap"), "break-catalog", "Move the catalog file away",
             (("catalog alert", "CatalogErrors"), ("any checkout alert", "~Checkout.*")), "restore-catalog", ("browse",), 50),
    LiveSpec("payments-gateway-timeout", "The payment gateway times out", "Payments", "SEV1",
             ("payments", "third-party", "timeout"), "slow-gateway", "Delay every gateway call by 30 s",
             (("payment errors", "PaymentErrorsHigh"), ("payment latency", "PaymentLatencyHigh")), "switch-gateway",
             ("checkout",), 55),
    LiveSpec("search-index-corruption", "The search index is corrupted", "Search", "SEV3", ("search", "data"),
             "corrupt-index", "Truncate the search index segment files", (("search errors", "SearchErrors"),),
             "rebuild-index", None, 10),
    LiveSpec("cache-node-loss", "A session cache node is lost", "Sessions", "SEV2", ("cache", "redis", "capacity"),
             "kill-cache-node", "Stop one of the three session cache nodes",
             (("cache misses", "CacheMissRateHigh"), ("login latency", "LoginLatencyHigh")), "reshard-cache",
             ("cart",), 50),
    LiveSpec("queue-backlog", "Order consumers stall and the queue backs up", "Orders", "SEV2",
             ("queue", "async", "orders"), "stall-consumers", "Pause every order consumer",
             (("queue depth", "OrderQueueBacklog"),), "scale-consumers", ("checkout",), 40),
    LiveSpec("dns-resolution-failure", "Internal DNS stops resolving", "Platform", "SEV1",
             ("dns", "network", "platform"), "break-resolver", "Blackhole the internal resolver",
             (("dns failures", "DnsLookupFailures"), ("checkout down", "CheckoutDown")), "failover-resolver",
             ("browse", "cart", "checkout"), 55),
    LiveSpec("auth-token-expiry", "The token signing key expires", "Accounts", "SEV2",
             ("auth", "certificates", "expiry"), "expire-signing-key", "Replace the signing key by an expired one",
             (("login errors", "LoginErrorsHigh"),), "rotate-keys", None, 10),
)


def live_scenario(spec: LiveSpec) -> Any:
    """The spec as a real Scenario (validated like a scenario file's data)."""
    from gameday.model.scenario import Scenario

    check = f"{spec.service.lower()} health"
    response = [
        {"id": "acknowledge", "action": "acknowledge", "role": "incident-commander", "within": "5s", "after": "detection"},
        {"id": "declare", "action": "declare_incident", "role": "incident-commander", "within": "10s", "after": "detection"},
        {"id": "severity", "action": "set_severity", "expect": spec.severity, "within": "10s", "after": "detection"},
        {"id": spec.runbook, "action": "runbook", "runbook": spec.runbook, "role": "tech-lead", "within": "15s",
         "after": "detection"},
    ]
    if spec.severity == "SEV1":
        response.append({"id": "executives", "action": "notify_executives", "role": "comms-lead", "within": "15s",
                         "after": "declare"})
    response += [
        {"id": "status", "action": "post_update", "audience": "external", "role": "comms-lead", "within": "15s",
         "after": "detection", "every": "30s"},
        {"id": "resolve", "action": "resolved", "role": "incident-commander", "within": "20s", "after": "recovery"},
    ]
    data: dict[str, Any] = {
        "apiVersion": "gameday/v1", "id": spec.id, "title": spec.title,
        "description": f"{spec.fault_text}. Drills the {spec.signals[0][1]} alert, the {spec.runbook} runbook and "
                       f"{spec.severity} comms.\n",
        "severity": spec.severity, "tags": list(spec.tags), "roles": ["incident-commander", "tech-lead", "comms-lead"],
        "service": spec.service, "symptom": f"{spec.service} fails for customers.", "target": "demo",
        "steady_state": [{"name": check, "http": {"url": "{target.url}/health", "expect_status": 200}}],
        "faults": [{"id": spec.fault, "description": spec.fault_text, "at": f"{spec.baseline + 1}s",
                    "experiment": f"experiments/{spec.fault}.yaml", "max_duration": "1m"}],
        "detection": {"within": "15s", "signals": [{"name": n, "alert": {"alertname": a}} for n, a in spec.signals]},
        "response": response,
        "runbooks": {spec.runbook: {"description": spec.runbook.replace("-", " ").capitalize(),
                                    "experiment": f"experiments/{spec.runbook}.yaml", "automated_in": ["ci"]}},
        "recovery": {"within": "40s"}, "abort": {"max_duration": "3m"},
        "timing": {"baseline": f"{spec.baseline}s", "cooldown": "1s"}, "policy": {"scale": 0.0167},
        "responders": f"responders/{spec.id}.ci.yaml",
    }  # fmt: skip
    if spec.load is not None:
        data["load"] = {"locustfile": "demo", "users": 10, "spawn_rate": 10, "priority": "idle", "cpus": "auto"}
        data["business"] = {"revenue_per_minute": 10000, "currency": "USD", "customer_facing": list(spec.load)}
    return Scenario.model_validate(data)


# ------------------------------------------------------------------------------------------ live templates
REQUESTS = (("browse", 20, 3), ("cart", 8, 5), ("checkout", 5, 9))  # name, requests/s at 10 users, typical ms


class LiveDrill:
    """Writes one live or ci journal on a fake clock with the real writer; ``emit(t, payload, source)`` in
    time order. Like the conductor, it journals ``StepMatched`` for steps newly done after each action,
    detection and recovery (:func:`gameday.analysis.matching.evaluate_steps` on the journal so far)."""

    def __init__(self, path: Path, scenario: Any, mode: str):
        from gameday.clock import FakeClock
        from gameday.journal import JournalWriter

        self.scenario, self.mode = scenario, mode
        self.clock = FakeClock(wall=TEMPLATE_WALL0)
        path.unlink(missing_ok=True)
        self.writer = JournalWriter(path, self.clock, fsync=False)
        self.done: set[str] = set()
        self.seqs: dict[str, int] = {}

    def emit(self, t: float, payload: Any, source: str) -> int:
        from gameday.model.events import ActionRecorded, DetectionRecorded, RecoveryObserved

        ahead = t - self.writer.offset()
        if ahead > 0:
            self.clock.advance(ahead)
        event = self.writer.append(payload, source)
        if isinstance(payload, ActionRecorded | DetectionRecorded | RecoveryObserved):
            self._match(event.t)
        return event.seq

    def _match(self, now_t: float) -> None:
        from gameday.analysis.matching import evaluate_steps
        from gameday.model.events import StepMatched

        for res in evaluate_steps(self.scenario, self.writer.events, now_t=now_t):
            if res.done_t is not None and res.verdict is not None and res.id not in self.done:
                self.done.add(res.id)
                self.writer.append(StepMatched(step=res.id, action_seq=res.matched_seq, verdict=res.verdict), "conductor")

    def close(self) -> None:
        self.writer.close()


def _alert(spec: LiveSpec, signal: tuple[str, str] | None, alertname: str, status: str, starts: datetime,
           matched: bool) -> Any:
    from gameday.model.events import AlertReceived, AlertRow

    service = spec.service.lower().replace(" ", "-")
    labels = {"alertname": alertname, "severity": "critical" if spec.severity == "SEV1" else "warning",
              "service": service, "job": service, "instance": "10.0.3.21:8080"}
    stamp = f"{starts:%Y-%m-%dT%H:%M:%S}.{starts.microsecond // 1000:03d}Z"
    annotations = {"summary": f"{spec.service}: {alertname}", "description": f"{alertname} fired for {service}."}
    alert = {"status": status, "labels": labels, "annotations": annotations, "startsAt": stamp,
             "endsAt": "0001-01-01T00:00:00Z", "generatorURL": f"http://prometheus:9090/graph?g0.expr={alertname}",
             "fingerprint": hashlib.sha1(alertname.encode()).hexdigest()[:16]}
    payload = {"version": "4", "groupKey": f'{{}}:{{alertname="{alertname}"}}', "truncatedAlerts": 0, "status": status,
               "receiver": "gameday", "groupLabels": {"alertname": alertname}, "commonLabels": labels,
               "commonAnnotations": annotations, "externalURL": "http://alertmanager:9093", "alerts": [alert]}
    row = AlertRow(status=status, alertname=alertname, labels=labels, matched=matched,
                   signal=signal[0] if matched and signal else None)
    return AlertReceived(format="alertmanager", matched=matched, signal=row.signal, error=None, alerts=[row],
                         payload=payload)


def _stats(rng: random.Random, k: int, users_from: int, failing: Sequence[str], rate: float) -> Any:
    from gameday.model.load_events import Figures, LoadStats

    names = {}
    for name, per_s, ms in REQUESTS:
        n = max(0, round(per_s * rng.uniform(0.85, 1.15)))
        f = min(n, round(n * rate * rng.uniform(0.85, 1.0))) if name in failing else 0
        ok = n - f
        hist: dict[str, int] = {}
        if ok:
            slow = round(ok * rng.uniform(0.05, 0.25))
            hist[str(ms)] = ok - slow
            if slow:
                hist[str(ms * 2 + rng.randint(0, 3))] = slow
        if f:
            hist["2000" if name == "checkout" else "1"] = hist.get("2000" if name == "checkout" else "1", 0) + f
        names[name] = Figures(requests=n, failures=f, hist=dict(sorted(hist.items(), key=lambda kv: int(kv[0]))))
    total = Figures(requests=sum(x.requests for x in names.values()), failures=sum(x.failures for x in names.values()))
    return LoadStats(t_from=k - 1, t_to=k, users_from=users_from, users=10, names=names, total=total)


def write_live(path: Path, spec: LiveSpec, mode: str, outcome: str, rng: random.Random) -> None:
    """One live (``gameday``) or ``ci`` drill of ``spec`` with ``outcome``: clean, late, severity, silent, aborted."""
    from gameday.model.events import (
        ActionRecorded,
        ActivityRan,
        CheckResult,
        DetectionRecorded,
        DrillAborted,
        DrillEnded,
        DrillStarted,
        FaultInjected,
        FaultRolledBack,
        ImpactEnded,
        ImpactStarted,
        PhaseChanged,
        RecoveryObserved,
        ResponderJoined,
        RoleAssigned,
        SteadyStateChecked,
        TargetDescription,
    )
    from gameday.model.load_events import LoadStarted, LoadStopped, Totals
    from gameday.model.policy import DEFAULT_POLICY
    from gameday.version import __version__

    sc = live_scenario(spec)
    live = mode == "gameday"
    who = {slot: slot for slot in (IC, TL, CL)} if live else dict(CI_PEOPLE)
    u = rng.uniform
    check = sc.steady_state[0].name
    plan: list[tuple[float, int, Callable[[LiveDrill, float], None]]] = []

    def at(t: float, fn: Callable[[LiveDrill, float], None]) -> None:
        plan.append((round(t + u(0.0004, 0.004), 6), len(plan), fn))

    def put(t: float, payload: Any, source: str, key: str | None = None) -> None:
        def fn(d: LiveDrill, when: float) -> None:
            seq = d.emit(when, payload, source)
            if key:
                d.seqs[key] = seq
        at(t, fn)

    def act(t: float, slot: str, action: str, **extra: Any) -> None:
        person = who[slot]
        put(t, ActionRecorded(action=action, author=person, role=ROLE_OF[slot], **extra), person)  # type: ignore[arg-type]

    healthy = [CheckResult(check=check, ok=True, detail="status 200")]
    put(0.001, PhaseChanged(phase="preflight"), "conductor")
    put(0.012, SteadyStateChecked(ok=True, stage="preflight", checks=healthy), "conductor")
    assigner = FAC if live else "script"
    for i, slot in enumerate((IC, TL, CL)):
        put(0.015 + 0.001 * i, RoleAssigned(person=who[slot], role=ROLE_OF[slot], by=assigner), assigner)
        if live:
            put(0.016 + 0.001 * i, ResponderJoined(person=who[slot], role=ROLE_OF[slot]), "conductor")
    put(0.02, PhaseChanged(phase="baseline"), "conductor")
    fault_t = spec.baseline + 1.0
    put(fault_t, PhaseChanged(phase="inject"), "conductor")
    put(fault_t + 0.002, FaultInjected(fault=spec.fault, kind="experiment", scheduled_t=fault_t), "injector")
    put(fault_t + 0.06, ActivityRan(owner=spec.fault, name=spec.fault, phase="method", provider="python", status="succeeded",
                              started_t=fault_t + 0.003, duration_s=round(u(0.03, 0.09), 6),
                              output=json.dumps({"fault": spec.fault, "ok": True})), "injector")
    put(fault_t + 0.065, PhaseChanged(phase="observe"), "conductor")
    impact_t = fault_t + u(0.2, 0.8)
    put(impact_t, ImpactStarted(check=check, detail="status 503"), "observer")

    silent = outcome == "silent"
    late = outcome == "late"
    wrong = outcome == "severity"
    recovered_t: float
    det_t = fault_t
    if silent:
        if rng.random() < 0.6:
            unrelated = _alert(spec, None, "DiskSpaceLow", "firing", TEMPLATE_WALL0 + timedelta(seconds=fault_t + 4), False)
            put(fault_t + u(5, 15), unrelated, "webhook")
        rolled = fault_t + 60.0
        put(rolled - 0.1, ActivityRan(owner=spec.fault, name=f"undo-{spec.fault}", phase="rollback", provider="python",
                                      status="succeeded", started_t=rolled - 0.15, duration_s=0.05), "injector")
        put(rolled, FaultRolledBack(fault=spec.fault, reason="max_duration"), "injector")
        recovered_t = rolled + u(1, 3)
        end_t = recovered_t + u(1, 2)
    else:
        det_t = fault_t + (u(16, 22) if late else u(2, 6))
        first = spec.signals[0]
        starts = TEMPLATE_WALL0 + timedelta(seconds=det_t - 0.05)
        alertname = first[1].lstrip("~").replace(".*", "Down")
        fired = _alert(spec, first, alertname, "firing", starts, True)

        def detect(d: LiveDrill, t: float) -> None:  # the intake journals both under one lock, as the drill does
            seq = d.emit(t, fired, "webhook")
            d.emit(t, DetectionRecorded(via="alert", signal=first[0], alertname=alertname, by=None, alert_seq=seq),
                   "webhook")
        at(det_t, detect)
        if len(spec.signals) > 1:
            second = spec.signals[1]
            put(det_t + u(2, 5), _alert(spec, second, second[1], "firing", starts + timedelta(seconds=2), True), "webhook")
        people_late = late and live
        # the incident commander
        act(det_t + (u(6, 9) if people_late else u(1, 3.5)), IC, "acknowledge")
        declare = det_t + (u(11, 15) if people_late else u(2, 5))
        expected = spec.severity
        lower = f"SEV{min(4, int(expected[3]) + 1)}"
        act(declare, IC, "declare_incident", severity=lower if wrong else expected)
        act(declare + u(0.5, 1.5), IC, "set_severity", severity=lower if wrong else expected)
        if wrong and rng.random() < 0.6:
            act(det_t + u(25, 35), IC, "set_severity", severity=expected)
        # the runbook: a person in a live drill, automation in ci (automated_in: [ci])
        if live:
            start = det_t + (u(16, 22) if people_late else u(3, 8))
            took = u(1.5, 5)
            put(start, ActionRecorded(action="runbook_started", author=who[TL], role="tech-lead", runbook=spec.runbook),
                who[TL])
            runner = who[TL]
        else:
            start, took = det_t + u(0.01, 0.03), u(0.1, 0.3)
            put(start, ActionRecorded(action="runbook_started", author="automation", role="tech-lead",
                                      runbook=spec.runbook), "automation")
            runner = "automation"
        if late:
            took += u(28, 40)  # the runbook was slow: recovery comes late
        put(start + took - 0.001, ActivityRan(owner=spec.runbook, name=spec.runbook, phase="runbook", provider="python",
                                              status="succeeded", started_t=round(start + 0.001, 6),
                                              duration_s=round(took - 0.002, 6), output="{\"ok\": true}"), "injector")
        put(start + took, ActionRecorded(action="runbook_finished", author=runner, role="tech-lead", runbook=spec.runbook,
                                         ok=True, error=None), runner)
        recovered_t = start + took + u(0.2, 1.0)
        resolve = recovered_t + (u(21, 26) if people_late else u(3, 10))
        # the comms lead
        if spec.severity == "SEV1":
            act(declare + (u(16, 20) if people_late else u(1, 4)), CL, "notify_executives",
                text=f"{expected}: {spec.service} is failing for customers; {spec.runbook} under way.")
        t = det_t + (u(16, 20) if people_late else u(4, 9))
        while t < resolve:
            act(t, CL, "post_update", audience="external", text=f"{spec.service} is degraded; we are working on it.")
            t += u(32, 40) if people_late else u(18, 27)
        act(resolve, IC, "resolved")
        act(resolve + u(0.5, 2), CL, "post_update", audience="external", text=f"Resolved: {spec.service} works again.")
        put(recovered_t + u(3, 6), _alert(spec, first, alertname, "resolved",
                                          starts, False), "webhook")
        end_t = resolve + u(2.5, 4)
    put(recovered_t, ImpactEnded(check=check), "observer")
    put(recovered_t + 0.004, RecoveryObserved(checks=[check]), "observer")
    put(recovered_t + 0.005, PhaseChanged(phase="recover"), "conductor")

    aborted_at = None
    end_impact = recovered_t
    if outcome == "aborted":
        aborted_at = det_t + u(6, 12)
        plan = [p for p in plan if p[0] < aborted_at]
        reason = f"stopped from the control room by {FAC}" if live else "SIGTERM"
        put(aborted_at, DrillAborted(reason=reason), "conductor")
        if recovered_t > aborted_at:  # the rollback ends the impact
            end_impact = aborted_at + u(1, 2)
            put(end_impact, ImpactEnded(check=check), "observer")
            put(end_impact + 0.004, RecoveryObserved(checks=[check]), "observer")
        end_t = aborted_at + 3.0
    rollback = end_t - 0.5
    put(rollback, PhaseChanged(phase="rollback"), "conductor")
    if not silent:
        put(rollback + 0.1, ActivityRan(owner=spec.fault, name=f"undo-{spec.fault}", phase="rollback",
                                        provider="python", status="succeeded", started_t=rollback + 0.01,
                                        duration_s=0.08), "injector")
        put(rollback + 0.11, FaultRolledBack(fault=spec.fault, reason="abort" if aborted_at else "end"), "injector")

    load_stop = rollback + 0.2
    if spec.load is not None:
        put(0.3, LoadStarted(tool="locust", users=10, spawn_rate=10, workers=0, host="http://127.0.0.1:34995",
                             locustfile="demo", business=sc.business, interval=1.0, priority="idle", cpus="1",
                             cpus_setting="auto", pids={"locust": 20571}), "load")
        totals: dict[str, list[int]] = {n: [0, 0] for n, _, _ in REQUESTS}
        for k in range(1, int(load_stop)):
            failing = spec.load if impact_t < k and k - 1 < end_impact else ()
            st = _stats(rng, k, 0 if k == 1 else 10, failing, u(0.7, 1.0))
            for n, fig in st.names.items():
                totals[n][0] += fig.requests
                totals[n][1] += fig.failures
            put(k + 0.02, st, "load")
        put(load_stop, LoadStopped(reason="rollback", totals={n: Totals(requests=r, failures=f)
                                                              for n, (r, f) in totals.items()}), "load")
    put(end_t - 0.02, SteadyStateChecked(ok=True, stage="final", checks=healthy), "conductor")
    put(end_t, DrillEnded(outcome="aborted" if aborted_at else "completed",
                          reason="SIGTERM" if aborted_at and not live else
                          (f"stopped from the control room by {FAC}" if aborted_at else None)), "conductor")

    drill = LiveDrill(path, sc, mode)
    started = DrillStarted(drill_id=DRILL, mode=mode, scenario=sc,  # type: ignore[arg-type]
                           scenario_path=f"/srv/gameday/scenarios/{spec.id}.yaml",
                           policy=DEFAULT_POLICY.scaled(sc.policy.scale),
                           target=TargetDescription(kind="demo", url="http://127.0.0.1:34995",
                                                    control_url="http://127.0.0.1:38493"),
                           webhook_url="http://127.0.0.1:39567/webhooks/alertmanager", gameday_version=__version__)
    drill.emit(0.0, started, "conductor")
    for t, _, fn in sorted(plan):
        fn(drill, t)
    drill.close()


# ----------------------------------------------------------------------------- tabletop and training templates
REAL_RUNS = (  # (mode, scenario, script, variant, seed): played by the real CLI at --pace instant
    ("tabletop", "tabletop-checkout-db-outage.yaml", "tabletop-checkout-db-outage.yaml", "as-scripted", None),
    ("tabletop", "tabletop-checkout-db-outage.yaml", "tabletop-checkout-db-outage.yaml", "slow", None),
    ("tabletop", "checkout-db-primary-failure.yaml", "checkout-db-primary-failure.tabletop.yaml", "as-scripted", None),
    ("tabletop", "checkout-db-primary-failure.yaml", "checkout-db-primary-failure.tabletop.yaml", "slow", None),
    *(("training", f"{name}.yaml", f"{script}.yaml", script.rsplit(".", 1)[-1] if "." in script else "good", seed)
      for name, script in (("training-1-checkout-api-hang", "training-1-checkout-api-hang"),
                           ("training-1-checkout-api-hang", "training-1-checkout-api-hang.weak"),
                           ("training-2-checkout-db-failover", "training-2-checkout-db-failover"),
                           ("training-3-checkout-cascade", "training-3-checkout-cascade"))
      for seed in (1, 2)),
)
_NAMES_IN_SCRIPTS = {"alice": IC, "bob": TL, "carol": CL, "dana": TRAINEE, "Dana": TRAINEE}
_WALL_T = re.compile(rb'"wall":"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6})Z","t":([0-9.eE+-]+)')


def _script_copy(src: Path, dst: Path, slow: bool) -> None:
    """The scripted participants with placeholder names (and, ``slow``, every delay 1.5 times as long)."""
    import yaml

    text = re.sub(r"\b(alice|bob|carol|dana|Dana)\b", lambda m: _NAMES_IN_SCRIPTS[m.group(1)], src.read_text("utf-8"))
    if slow:
        data = yaml.safe_load(text)
        from gameday.model.duration import parse_duration

        for action in data.get("actions", []):
            if "delay" in action:
                action["delay"] = f"{parse_duration(str(action['delay'])) * 1.5:g}s"
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    dst.write_text(text, encoding="utf-8")


def _on_real_clock(data: bytes) -> bytes:
    """A ``--pace instant`` journal as the same drill at ``--pace real`` writes it: wall = start + t (+ the
    run's own sub-second processing), starting at TEMPLATE_WALL0; the PaceSet says ``real``."""
    first: list[int] = []

    def wall(m: re.Match[bytes]) -> bytes:
        orig = int(datetime.fromisoformat(m.group(1).decode() + "+00:00").timestamp() * 1_000_000 + 0.5)
        if not first:
            first.append(orig)
        us = _EPOCH0_US + round(float(m.group(2)) * 1_000_000) + (orig - first[0])
        return b'"wall":"' + _fmt(us, 6) + b'","t":' + m.group(2)

    out = _WALL_T.sub(wall, data)
    return out.replace(b'"pace":"instant","factor":null', b'"pace":"real","factor":1.0')


def real_run(tmp: Path, mode: str, scenario: str, script: str, variant: str, seed: int | None) -> bytes:
    """Run one tabletop or training drill with the real CLI; its journal on a real-time clock."""
    out = tmp / f"run-{mode}-{Path(script).stem}-{variant}-{seed}"
    shutil.rmtree(out, ignore_errors=True)
    responders = tmp / f"{Path(script).stem}-{variant}.yaml"
    _script_copy(ROOT / "scenarios" / "responders" / script, responders, slow=variant == "slow")
    argv = [GAMEDAY, "run", str(ROOT / "scenarios" / scenario), "--mode", mode, "--pace", "instant", "--responders",
            str(responders), "--out", str(out), "--drill-id", DRILL, "--no-web"]
    if mode == "training":
        argv += ["--trainee", TRAINEE, "--seed", str(seed)]
    proc = subprocess.run(argv, cwd=tmp, capture_output=True, text=True, timeout=300)
    if proc.returncode not in (0, 1) or not (out / "journal.jsonl").is_file():
        raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}: {proc.stderr.strip()[-800:]}")
    return _on_real_clock((out / "journal.jsonl").read_bytes())


# ------------------------------------------------------------------------------------------------ templates
def _fmt(us: int, digits: int) -> bytes:
    dt = datetime.fromtimestamp(us // 1_000_000, UTC)
    frac = us % 1_000_000
    text = f"{dt:%Y-%m-%dT%H:%M:%S}." + (f"{frac:06d}" if digits == 6 else f"{frac // 1000:03d}") + "Z"
    return text.encode()


@dataclass
class Parts:
    """A file's bytes as literal pieces around holes: (0, µs offset) a 6-digit timestamp, (1, offset) a 3-digit
    one, (2, index in TOKENS) a placeholder."""

    lits: list[bytes]
    holes: list[tuple[int, int]]

    @classmethod
    def of(cls, data: bytes) -> Parts:
        lits, holes, pos = [], [], 0
        for m in _HOLE.finditer(data):
            if m.group(3) is not None:
                hole = (2, TOKENS.index(m.group(3).decode()))
            else:
                us = int(datetime.fromisoformat(m.group(1).decode() + "+00:00").timestamp()) * 1_000_000
                frac = m.group(2)
                us += int(frac) * (1 if len(frac) == 6 else 1000)
                offset = us - _EPOCH0_US
                if not -3600e6 <= offset <= 86400e6:
                    raise ValueError(f"a timestamp the generator did not write: {m.group(0)!r}")
                hole = (0 if len(frac) == 6 else 1, offset)
            lits.append(data[pos:m.start()])
            holes.append(hole)
            pos = m.end()
        lits.append(data[pos:])
        return cls(lits, holes)

    def render(self, start_us: int, tokens: Sequence[bytes]) -> bytes:
        out = [self.lits[0]]
        stamps: dict[tuple[int, int], bytes] = {}
        for (kind, value), lit in zip(self.holes, self.lits[1:], strict=True):
            if kind == 2:
                out.append(tokens[value])
            else:
                key = (kind, value)
                text = stamps.get(key)
                if text is None:
                    text = stamps[key] = _fmt(start_us + value, 6 if kind == 0 else 3)
                out.append(text)
            out.append(lit)
        return b"".join(out)


@dataclass
class Template:
    name: str
    mode: str
    scenario_id: str
    outcome: str
    journal: Parts
    card: Parts
    events: int
    duration_us: int  # the last timestamp's offset from the start
    slots: tuple[str, ...] = field(default_factory=tuple)


def _score(path: Path) -> bytes:
    from gameday.analysis.render import render_scorecard
    from gameday.analysis.scorecard import score_journal
    from gameday.journal import read_journal

    return render_scorecard(score_journal(read_journal(path)), "json").encode("utf-8")


def _template(name: str, mode: str, scenario_id: str, outcome: str, journal: bytes, folder: Path) -> Template:
    path = folder / f"{name}.jsonl"
    path.write_bytes(journal)
    card = _score(path)
    parts = Parts.of(journal)
    slots = tuple(s for s in SLOTS if s.encode() in journal)
    duration = max((v for k, v in parts.holes if k == 0), default=0)
    return Template(name, mode, scenario_id, outcome, parts, Parts.of(card), journal.count(b"\n"), duration, slots)


LIVE_OUTCOMES = {"gameday": ("clean", "late", "severity", "silent", "aborted"), "ci": ("clean", "late", "silent", "aborted")}


def build_templates(folder: Path, seed: int, log: Callable[[str], None] = print) -> list[Template]:
    """Every template: written, scored once; ``folder`` keeps the template journals."""
    folder.mkdir(parents=True, exist_ok=True)
    templates: list[Template] = []
    for i, spec in enumerate(LIVE):
        for mode, outcomes in LIVE_OUTCOMES.items():
            for j, outcome in enumerate(outcomes):
                rng = random.Random(f"{seed}-{i}-{mode}-{j}")
                path = folder / "tmp.jsonl"
                write_live(path, spec, mode, outcome, rng)
                templates.append(_template(f"{spec.id}.{mode}.{outcome}", mode, spec.id, outcome, path.read_bytes(),
                                           folder))
    log(f"  {len(templates)} live/ci templates written and scored")
    runs = folder / "runs"
    runs.mkdir(exist_ok=True)
    for mode, scenario, script, variant, run_seed in REAL_RUNS:
        data = real_run(runs, mode, scenario, script, variant, run_seed)
        sid = json.loads(data.split(b"\n", 1)[0])["data"]["scenario"]["id"]
        name = f"{sid}.{mode}.{variant}" + (f".seed{run_seed}" if run_seed is not None else "")
        templates.append(_template(name, mode, sid, variant, data, folder))
    log(f"  {len(REAL_RUNS)} tabletop/training templates run by the real CLI and scored")
    return templates


# ---------------------------------------------------------------------------------------------------- drills
@dataclass
class Plan:
    """One drill of the history: its template, start (µs since the epoch) and people."""

    template: int
    start_us: int
    drill_id: str
    people: dict[str, str]


def _outcome_weights(mode: str, scenario_id: str, progress: float) -> dict[str, float]:
    if scenario_id == "catalog-silent-failure" and progress < 0.5:  # no catalog alert yet: every run is silent
        return {"silent": 0.9, "aborted": 0.1}
    if mode == "gameday":
        return {"clean": 0.30 + 0.30 * progress, "late": 0.33 - 0.13 * progress, "severity": 0.14 - 0.06 * progress,
                "silent": 0.15 - 0.10 * progress, "aborted": 0.06}
    return {"clean": 0.62 + 0.2 * progress, "late": 0.2 - 0.1 * progress, "silent": 0.12 - 0.08 * progress,
            "aborted": 0.03}


def plan_history(templates: Sequence[Template], drills: int, seed: int, as_of: date = AS_OF) -> list[Plan]:
    """Which template, when and who, for every drill (deterministic for the seed)."""
    rng = random.Random(f"history-{seed}")
    end = datetime(as_of.year, as_of.month, as_of.day, tzinfo=UTC)
    begin = end - timedelta(days=round(MONTHS * 30.44))
    span = (end - begin).total_seconds()
    by_key: dict[tuple[str, str], list[int]] = {}
    for i, t in enumerate(templates):
        by_key.setdefault((t.mode, t.scenario_id), []).append(i)
    scenarios = {m: sorted({s for mm, s in by_key if mm == m}) for m in MODE_WEIGHTS}
    modes = list(MODE_WEIGHTS)
    weights = list(MODE_WEIGHTS.values())
    starts: list[tuple[float, str]] = []
    for _ in range(drills):
        mode = rng.choices(modes, weights)[0]
        while True:
            s = rng.uniform(0, span - 3 * 3600)
            when = begin + timedelta(seconds=s)
            if mode == "ci" or (when.weekday() < 5 and 8 <= when.hour < 17):
                break
        starts.append((s, mode))
    starts.sort()
    turns = {p: {"ic": 0, "tl": 0, "cl": 0, "fac": 0, "last_ic": -1} for p in ROSTER}
    used: set[str] = set()
    plans = []
    last_ic = ""
    for k, (s, mode) in enumerate(starts):
        progress = s / span
        sid = rng.choice(scenarios[mode])
        candidates = by_key[(mode, sid)]
        if mode in ("gameday", "ci"):
            w = _outcome_weights(mode, sid, progress)
            pool = [i for i in candidates if templates[i].outcome in w]
            index = rng.choices(pool, [w[templates[i].outcome] for i in pool])[0]
        else:
            index = rng.choice(candidates)
        start = begin + timedelta(seconds=int(s), milliseconds=rng.randrange(1000))
        drill_id = f"{sid}-{start:%Y%m%dT%H%M%SZ}"
        while drill_id in used:
            start += timedelta(seconds=1)
            drill_id = f"{sid}-{start:%Y%m%dT%H%M%SZ}"
        used.add(drill_id)
        people: dict[str, str] = {}
        if mode in ("gameday", "tabletop"):
            order = sorted(ROSTER, key=lambda p: (turns[p]["ic"], turns[p]["last_ic"], rng.random()))
            ic = next(p for p in order if p != last_ic)
            rest = [p for p in ROSTER if p != ic]
            rng.shuffle(rest)
            tl = min(rest, key=lambda p: turns[p]["tl"] + rng.random())
            rest.remove(tl)
            cl = min(rest, key=lambda p: turns[p]["cl"] + rng.random())
            rest.remove(cl)
            fac = rng.choice(rest)
            people = {IC: ic, TL: tl, CL: cl, FAC: fac}
            for p, role in ((ic, "ic"), (tl, "tl"), (cl, "cl"), (fac, "fac")):
                turns[p][role] += 1  # type: ignore[operator]
            turns[ic]["last_ic"] = k
            last_ic = ic
        elif mode == "training":
            people = {TRAINEE: rng.choice(ROSTER)}
        plans.append(Plan(index, int(start.timestamp()) * 1_000_000 + start.microsecond, drill_id, people))
    return plans


def tokens_for(plan: Plan) -> list[bytes]:
    values = {DRILL: plan.drill_id, **CI_PEOPLE, FAC: "facilitator", TRAINEE: "trainee", **plan.people}
    return [values[t].encode() for t in TOKENS]


def render_drill(template: Template, plan: Plan) -> tuple[bytes, bytes]:
    toks = tokens_for(plan)
    return template.journal.render(plan.start_us, toks), template.card.render(plan.start_us, toks)


def write_drill(out: Path, template: Template, plan: Plan) -> tuple[int, int]:
    """Write the drill's journal and scorecard; their mtimes: the drill's end (+2 s). Returns (events, bytes)."""
    journal, card = render_drill(template, plan)
    folder = out / "reports" / plan.drill_id
    folder.mkdir(parents=True, exist_ok=True)
    jpath, cpath = folder / "journal.jsonl", out / "scorecards" / f"{plan.drill_id}.json"
    jpath.write_bytes(journal)
    cpath.write_bytes(card)
    end_ns = (plan.start_us + template.duration_us) * 1000
    os.utime(jpath, ns=(end_ns, end_ns))
    os.utime(cpath, ns=(end_ns + 2_000_000_000, end_ns + 2_000_000_000))
    return template.events, len(journal)


def verify(out: Path, templates: Sequence[Template], plans: Sequence[Plan], sample: int, seed: int) -> int:
    """Re-score ``sample`` random drills and one of every template; raise if a scorecard differs. Returns the count."""
    rng = random.Random(f"verify-{seed}")
    chosen = set(rng.sample(range(len(plans)), min(sample, len(plans))))
    first: dict[int, int] = {}
    for k, p in enumerate(plans):
        first.setdefault(p.template, k)
    chosen |= set(first.values())
    bad = []
    for k in sorted(chosen):
        p = plans[k]
        card = (out / "scorecards" / f"{p.drill_id}.json").read_bytes()
        if _score(out / "reports" / p.drill_id / "journal.jsonl") != card:
            bad.append(f"{p.drill_id} (template {templates[p.template].name})")
    if bad:
        raise RuntimeError(f"{len(bad)} generated scorecard(s) differ from the journal's rescoring: {', '.join(bad[:5])}")
    for leftover in (b"Qz", b"qz"):
        for k in sorted(chosen)[:20]:
            p = plans[k]
            if leftover in (out / "reports" / p.drill_id / "journal.jsonl").read_bytes():
                raise RuntimeError(f"{p.drill_id}: a placeholder was left in the journal")
    return len(chosen)


def generate(out: Path, drills: int, seed: int, sample: int = 50, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Write the corpus into ``out`` (which must not exist or be empty); return its manifest."""
    began = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="gameday-gen-") as tmp:
        templates = build_templates(Path(tmp), seed, log)
    t_templates = time.perf_counter() - began
    plans = plan_history(templates, drills, seed)
    (out / "reports").mkdir(exist_ok=True)
    (out / "scorecards").mkdir(exist_ok=True)
    events = size = 0
    for p in plans:
        e, b = write_drill(out, templates[p.template], p)
        events += e
        size += b
    card_bytes = sum(os.path.getsize(out / "scorecards" / f"{p.drill_id}.json") for p in plans)
    t_write = time.perf_counter() - began - t_templates
    checked = verify(out, templates, plans, sample, seed)
    t_verify = time.perf_counter() - began - t_templates - t_write
    with (out / "templates.pkl").open("wb") as fh:
        pickle.dump(templates, fh)
    from gameday.version import __version__

    use = {t.name: 0 for t in templates}
    modes: dict[str, int] = {}
    for p in plans:
        use[templates[p.template].name] += 1
        modes[templates[p.template].mode] = modes.get(templates[p.template].mode, 0) + 1
    manifest = {
        "generator_version": GEN_VERSION, "drills": drills, "seed": seed, "as_of": AS_OF.isoformat(),
        "gameday_version": __version__, "events": events, "journal_bytes": size, "scorecard_bytes": card_bytes,
        "modes": modes, "scenarios": len({t.scenario_id for t in templates}), "templates": len(templates),
        "template_use": use, "verified": checked,
        "first": min(plans, key=lambda p: p.start_us).drill_id, "last": max(plans, key=lambda p: p.start_us).drill_id,
        "seconds": {"templates": round(t_templates, 1), "drills": round(t_write, 1), "verify": round(t_verify, 1)},
        "drill_ids": [p.drill_id for p in plans],
    }  # fmt: skip
    (out / "corpus.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def describe(m: dict[str, Any]) -> str:
    mib = (m["journal_bytes"] + m["scorecard_bytes"]) / 2**20
    return (f"{m['drills']} drills, {m['events']} events ({m['events'] / m['drills']:.0f} a journal), journals "
            f"{m['journal_bytes'] / 2**20:.0f} MiB, scorecards {m['scorecard_bytes'] / 2**20:.0f} MiB "
            f"({mib:.0f} MiB in all); {m['scenarios']} scenarios, {m['templates']} templates; modes "
            + ", ".join(f"{k} {v}" for k, v in sorted(m["modes"].items())) + f"; {m['verified']} drills re-scored "
            "byte-identical")


# ------------------------------------------------------------------------------------------- cached corpora
def corpus_dir(drills: int, seed: int) -> Path:
    """Where the cached corpus of these parameters lives (keyed by generator version and parameters)."""
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    return Path(tempfile.gettempdir()) / f"gameday-bench-trends-{uid}-g{GEN_VERSION}-n{drills}-s{seed}"


def ensure_corpus(drills: int, seed: int, recheck: int = 10,
                  log: Callable[[str], None] = print) -> tuple[Path, dict[str, Any], bool]:
    """The cached corpus for (generator version, drills, seed), generated if missing or no longer true:
    ``recheck`` random drills are re-scored with the current gameday (a changed analysis makes the old
    scorecards stale: the corpus is then rebuilt). Drills a previous run added (:func:`add_drill`) and any
    ``.gameday/`` state are removed. Returns (folder, manifest, reused)."""
    out = corpus_dir(drills, seed)
    manifest_path = out / "corpus.json"
    if manifest_path.is_file():
        try:
            m = json.loads(manifest_path.read_text())
            if m.get("generator_version") == GEN_VERSION and m.get("drills") == drills and m.get("seed") == seed:
                _tidy(out, set(m["drill_ids"]))
                rng = random.Random()
                for drill_id in rng.sample(m["drill_ids"], min(recheck, drills)):
                    card = (out / "scorecards" / f"{drill_id}.json").read_bytes()
                    if _score(out / "reports" / drill_id / "journal.jsonl") != card:
                        raise ValueError(f"{drill_id}: its scorecard is no longer what gameday gives")
                return out, m, True
        except (OSError, ValueError, KeyError) as exc:
            log(f"  cached corpus {out} not reused: {exc}")
    shutil.rmtree(out, ignore_errors=True)
    building = out.with_name(out.name + ".building")
    shutil.rmtree(building, ignore_errors=True)
    m = generate(building, drills, seed, log=log)
    building.rename(out)
    return out, m, False


def _tidy(out: Path, ids: set[str]) -> None:
    shutil.rmtree(out / ".gameday", ignore_errors=True)
    for name in os.listdir(out / "reports"):
        if name not in ids:
            shutil.rmtree(out / "reports" / name, ignore_errors=True)
    for name in os.listdir(out / "scorecards"):
        if name.removesuffix(".json") not in ids:
            (out / "scorecards" / name).unlink(missing_ok=True)


_loaded: dict[Path, list[Template]] = {}


def add_drill(out: Path, k: int) -> tuple[Path, Path]:
    """Add one more drill (a live game day on ``AS_OF``, ``k`` seconds after 12:00) to the corpus ``out``, as a
    drill that just ended leaves it; returns its journal and scorecard."""
    templates = _loaded.get(out)
    if templates is None:
        with (out / "templates.pkl").open("rb") as fh:
            templates = _loaded[out] = pickle.load(fh)
    index = next(i for i, t in enumerate(templates) if t.mode == "gameday" and t.outcome == "clean")
    t = templates[index]
    start = datetime(AS_OF.year, AS_OF.month, AS_OF.day, 12, tzinfo=UTC) + timedelta(seconds=k)
    plan = Plan(index, int(start.timestamp()) * 1_000_000, f"{t.scenario_id}-{start:%Y%m%dT%H%M%SZ}",
                {IC: ROSTER[k % 15], TL: ROSTER[(k + 5) % 15], CL: ROSTER[(k + 10) % 15], FAC: ROSTER[(k + 7) % 15]})
    journal, card = render_drill(t, plan)
    folder = out / "reports" / plan.drill_id
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "journal.jsonl").write_bytes(journal)
    (out / "scorecards" / f"{plan.drill_id}.json").write_bytes(card)  # written after the journal, as a drill does
    return folder / "journal.jsonl", out / "scorecards" / f"{plan.drill_id}.json"


def remove_drill(out: Path, journal: Path, card: Path) -> None:
    shutil.rmtree(journal.parent, ignore_errors=True)
    card.unlink(missing_ok=True)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Generate a realistic history of drills (journals and scorecards).")
    ap.add_argument("out", type=Path, help="the folder to write (must not exist, or be empty; see --force)")
    ap.add_argument("--drills", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--verify", type=int, default=50, help="random drills re-scored (plus one of every template)")
    ap.add_argument("--force", action="store_true", help="replace OUT if it exists")
    args = ap.parse_args(argv)
    if args.out.exists() and any(args.out.iterdir()):
        if not args.force:
            ap.error(f"{args.out}: exists and is not empty (--force replaces it)")
        shutil.rmtree(args.out)
    began = time.perf_counter()
    m = generate(args.out, args.drills, args.seed, args.verify)
    print(f"{args.out}: {describe(m)}; {time.perf_counter() - began:.1f} s "
          f"(templates {m['seconds']['templates']} s, drills {m['seconds']['drills']} s, verify {m['seconds']['verify']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
