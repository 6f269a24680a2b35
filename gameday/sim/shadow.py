"""Simulated shadows: what a fault would show the team, derived from a scenario written for live drills.

A scenario with no ``injects:`` still runs as a tabletop: :func:`derive_msel` writes its MSEL from
what the scenario already says, fault by fault (in order of time):

* **the alert** the team's monitoring would send: the first detection signal with a plain
  alert name (no ``~regex``), as an Alertmanager webhook with the signal's plain labels, ``lag``
  after the fault (half the detection deadline, at most 30 s); it goes through the intake's
  parsing and matching like a real alert, so it counts as detection;
* **a dashboard panel** of the steady-state checks (healthy until the fault, failing while its
  shadow lasts), half that lag after the fault: the players may notice before the alert;
* for the first fault, when the scenario has a ``symptom``, **a customer report** of it, twice
  the lag after the fault.

Each derived inject expects the response steps anchored on what it shows (detection for the
alert, injection for the panel), so the facilitator sees what should follow. Ids are
``shadow-N-alert``, ``shadow-N-panel`` and ``shadow-N-customers`` for the Nth fault in time: players
see an inject's id, and a fault's id could give its cause away.

:func:`implied_series` is a fault's shadow as a panel draws it: its checks' health over time,
from the journal (injected, cleared or rolled back).
"""

from __future__ import annotations

from collections.abc import Sequence

from gameday.model.duration import format_duration
from gameday.model.events import Event, FaultInjected, FaultRolledBack, Payload, ShadowCleared, StateChanged
from gameday.model.exercise import AlertAttachment, Expectation, Inject, PanelAttachment, Series
from gameday.model.scenario import Fault, Scenario, Signal

MAX_LAG = 30.0


def shadow_lag(sc: Scenario) -> float:
    """How long after a fault its simulated alert fires: half the detection deadline, at most 30 s."""
    return min(MAX_LAG, sc.detection.within / 2)


def derive_msel(sc: Scenario) -> list[Inject]:
    """The scenario's MSEL: its own ``injects:`` when it has them or when it has a ``simulation:`` (whose
    states bring their own alerts), else the faults' shadows (see the module)."""
    if sc.injects or sc.simulation is not None:
        return list(sc.injects)
    lag = shadow_lag(sc)
    signal = next((s for s in sc.detection.signals if _plain_name(s) is not None), None)
    out: list[Inject] = []
    for n, fault in enumerate(sorted(sc.faults, key=lambda f: f.at)):
        out.append(_panel(sc, fault, fault.at + lag / 2, n + 1))
        if signal is not None:
            out.append(_alert(sc, fault, signal, fault.at + lag, n + 1))
        if n == 0 and sc.symptom.strip():
            out.append(Inject.model_validate({
                "id": "shadow-1-customers", "at": format_duration(fault.at + 2 * lag), "channel": "customer_report",
                "from": "Customer support", "subject": f"Customers report: {sc.symptom.strip()}",
                "message": f"Several customers of {sc.service} have written in: {sc.symptom.strip()}",
                "synopsis": f"customers feel fault {fault.id}",
                "expect": _steps_after(sc, "detection")}))
    return sorted(out, key=lambda i: (i.at or 0.0))


def _plain_name(signal: Signal) -> str | None:
    name = signal.alert.alertname
    return name if name and not name.startswith("~") else None


def _alert(sc: Scenario, fault: Fault, signal: Signal, at: float, n: int) -> Inject:
    name = _plain_name(signal)
    labels = {k: v for k, v in signal.alert.labels.items() if not v.startswith("~")}
    summary = fault.description or f"fault {fault.id}"
    return Inject.model_validate({
        "id": f"shadow-{n}-alert", "at": format_duration(at), "channel": "alert", "from": "Monitoring", "to": "everyone",
        "subject": f"FIRING: {name}", "message": f"{name} is firing for {sc.service}.",
        "synopsis": f"the monitoring notices fault {fault.id}: {summary}",
        "alert": AlertAttachment(alertname=name, labels=labels, annotations={"summary": f"{name} on {sc.service}"}),
        "expect": _steps_after(sc, "detection")})


def _panel(sc: Scenario, fault: Fault, at: float, n: int) -> Inject:
    title = f"{sc.service}: steady state"
    return Inject.model_validate({
        "id": f"shadow-{n}-panel", "at": format_duration(at), "channel": "dashboard", "from": "Dashboards", "to": "everyone",
        "subject": title, "message": "The service dashboard as it stands.",
        "synopsis": f"the dashboards show fault {fault.id}",
        "panel": PanelAttachment(title=title, unit="% healthy", fault=fault.id),
        "expect": [Expectation(action="mark_detected", description="someone notices the dashboard")]
        if sc.detection.people_count else []})


def _steps_after(sc: Scenario, anchor: str) -> list[Expectation]:
    return [Expectation(step=s.id) for s in sc.response if s.after == anchor]


def implied_series(sc: Scenario, fault_id: str, events: Sequence[Event[Payload]], until: float) -> list[Series]:
    """The fault's shadow as a panel draws it up to scenario time ``until``: each steady-state check
    at 100 (% healthy) until the fault went in, 0 while it lasted, 100 again once cleared or rolled back.
    A scenario with a simulation draws its states instead: 0 while a state has customer impact."""
    states = [(ev.t, ev.data.impact) for ev in events if isinstance(ev.data, StateChanged) and ev.t <= until]
    if states:
        steps: list[tuple[float, float]] = [(0.0, 100.0)]
        for t, impact in states:
            value = 0.0 if impact else 100.0
            if value != steps[-1][1]:
                steps += [(t, steps[-1][1]), (t, value)]
        steps.append((max(until, steps[-1][0]), steps[-1][1]))
        return [Series.model_construct(name=check.label, points=steps) for check in sc.steady_state]
    start = end = None
    for ev in events:
        if ev.t > until:
            break
        d = ev.data
        if isinstance(d, FaultInjected) and d.fault == fault_id and start is None:
            start = ev.t
        elif start is not None and end is None and _ends(d, fault_id):
            end = ev.t
    points: list[tuple[float, float]] = [(0.0, 100.0)]
    if start is not None:
        points += [(start, 100.0), (start, 0.0)]
        if end is not None:
            points += [(end, 0.0), (end, 100.0)]
    last = points[-1][1]
    points.append((max(until, points[-1][0]), last))
    return [Series.model_construct(name=check.label, points=points) for check in sc.steady_state]  # offsets in seconds


def _ends(d: Payload, fault_id: str) -> bool:
    return (isinstance(d, FaultRolledBack) and d.fault == fault_id) or (isinstance(d, ShadowCleared) and fault_id in d.faults)
