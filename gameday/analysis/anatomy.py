"""Detection anatomy: where the time from the fault to a person on it went.

MTTD runs from the first injection to the detection. When an alert detected the fault, the journal
holds three instants more than that: the alert's own start time (the monitoring's ``startsAt``,
journaled with the delivery, :class:`~gameday.model.events.AlertRow`), its arrival (the
``AlertReceived`` event) and the first acknowledgement by a person. Three parts, each between two
journaled instants:

* **condition lag** — first injection → the alert's start time: the monitoring noticing the condition
  (scrape interval, rule evaluation, ``for:``). Placed on the journal's clock through the arrival:
  ``(arrival.t − injection.t) − notification lag``.
* **notification lag** — the alert's start time → its webhook's arrival (the event's ``wall``): grouping,
  routing, paging (Alertmanager's ``group_wait``, a vendor's escalation).
* **human lag** — the arrival → the first acknowledgement by a person at or after the injection (0 if a
  person acknowledged before the alert arrived; a vendor's automation never counts).

With an alert detection, condition + notification = MTTD to the millisecond (the notification lag is
rounded, the condition lag is MTTD less it). A part that cannot be known is None with the reason: no alert
detected the fault; the alert carried no start time (or the journal predates alert times); its start is
before the injection (an alert already firing, or the monitoring's clock behind gameday's: then its
notification lag would count time before the fault, so both are unknown) or after its arrival (the
monitoring's clock ahead); the drill was paused in between (its clock stood still, the monitoring's did
not); the faults were simulated (tabletop, training); no person acknowledged (human lag). Condition and
notification lags compare the monitoring's clock with gameday's: they are as right as the two clocks agree (NTP).
"""

from __future__ import annotations

from dataclasses import dataclass

from gameday.analysis.clocks import on_incident_clock
from gameday.analysis.matching import EPS, Facts, r3, simulated_faults
from gameday.model.duration import human
from gameday.model.events import AlertReceived, AlertRow, ClockPaused, ClockResumed, Event
from gameday.model.instants import epoch_ns
from gameday.model.scorecard import DetectionLag, DetectionResult

CONDITION = "first fault injected → the detecting alert's own start time (startsAt): scrape, rule evaluation, for:"
NOTIFICATION = "the alert's start time → its webhook's arrival (AlertReceived): grouping, routing, paging"
HUMAN = "the alert's arrival → the first acknowledgement by a person after injection (0 if earlier)"

#: What usually shortens each part, for the postmortem's sentence.
SHORTENS = {
    "condition": "a shorter 'for' duration on the alerting rule, or a shorter scrape or rule-evaluation interval",
    "notification": "a smaller 'group_wait' on the alert's route, or a route that pages at once",
    "human": "a paging rule that reaches the on-call person directly (a shorter escalation timeout)",
}
PARTS = (("condition", "condition_lag", "the monitoring noticing the condition"),
         ("notification", "notification_lag", "the notification reaching gameday"),
         ("human", "human_lag", "a person acknowledging"))


@dataclass(frozen=True)
class Anatomy:
    """The three parts, and the detecting alert's start time as journaled."""

    condition: DetectionLag
    notification: DetectionLag
    human: DetectionLag
    starts_at: str | None = None


def _unknown(definition: str, why: str, from_seq: int | None = None, to_seq: int | None = None) -> DetectionLag:
    return DetectionLag(seconds=None, from_seq=from_seq, to_seq=to_seq, definition=definition, unknown=why)


def _detecting_alert(facts: Facts) -> tuple[Event[AlertReceived], AlertRow] | None:
    det = facts.detection
    if det is None or det.data.via != "alert" or det.data.alert_seq is None:
        return None
    event = next((e for e in facts.events if e.seq == det.data.alert_seq), None)
    if event is None or not isinstance(event.data, AlertReceived):
        return None
    row = next((r for r in event.data.alerts if r.matched), None)
    return (event, row) if row is not None else None  # type: ignore[return-value]  # narrowed by the isinstance


def _human(facts: Facts, arrival: Event[AlertReceived]) -> DetectionLag:
    acks = (a for a in facts.actions if a.action == "acknowledge" and not a.vendor and a.t >= facts.window_t - EPS)
    ack = next(acks, None)
    if ack is None:
        return _unknown(HUMAN, "no person acknowledged", arrival.seq)
    return DetectionLag(seconds=r3(max(0.0, ack.t - arrival.t)), from_seq=arrival.seq, to_seq=ack.seq, definition=HUMAN)


def detection_anatomy(facts: Facts) -> Anatomy:
    """The three parts of the detection's anatomy for a drill's facts (see the module's docstring)."""
    inj = facts.injection
    if inj is None:
        why = "no fault was injected"
        return Anatomy(_unknown(CONDITION, why), _unknown(NOTIFICATION, why), _unknown(HUMAN, why))
    found = _detecting_alert(facts)
    if found is None:
        why = "no alert detected the fault" if facts.detection is None or facts.detection.data.via == "alert" \
            else "a person detected the fault, not an alert"
        return Anatomy(_unknown(CONDITION, why, inj.seq), _unknown(NOTIFICATION, why), _unknown(HUMAN, why))
    arrival, row = found
    human = _human(facts, arrival)

    def both_unknown(why: str) -> Anatomy:
        return Anatomy(_unknown(CONDITION, why, inj.seq, arrival.seq), _unknown(NOTIFICATION, why, arrival.seq,
                                                                                arrival.seq), human, row.starts_at)

    if simulated_faults(facts.events):  # tabletop, training: t runs at the exercise's pace, alerts are simulated
        return both_unknown("the alerts are simulated: the exercise's scenario clock is not the monitoring's")
    if any(isinstance(e.data, (ClockPaused, ClockResumed)) and inj.seq < e.seq < arrival.seq for e in facts.events):
        return both_unknown("the drill was paused between the injection and the alert: its clock stood still, the "
                            "monitoring's did not")
    if "starts_at" not in row.model_fields_set and _mentions_start(arrival.data.payload):
        return both_unknown("the alert's start time is only in the journaled payload: the gameday that wrote this "
                            "journal did not keep alerts' own times")
    start_ns, arrived_ns = epoch_ns(row.starts_at), epoch_ns(arrival.wall)
    if start_ns is None or arrived_ns is None:
        return both_unknown("the detecting alert carried no start time (startsAt)")
    notified = (arrived_ns - start_ns) / 1e9
    if notified < 0:
        return both_unknown(f"the alert's start time is {-notified:.3f}s after its arrival: the monitoring's clock "
                            "runs ahead of gameday's")
    notification_s = r3(notified) or 0.0
    mttd = r3(arrival.t - inj.t) or 0.0  # the detection is journaled at the arrival's time: MTTD's end
    condition_s = round(mttd - notification_s, 3)  # so that condition + notification = MTTD, to the millisecond
    if -0.001 <= condition_s < 0:  # the start at the injection, to within the rounding of t and wall apart
        condition_s, notification_s = 0.0, mttd
    if condition_s < 0:
        return both_unknown(f"the alert started {-condition_s:.3f}s before the first injection (it was already "
                            "firing, or the monitoring's clock is behind gameday's): neither part is this fault's")
    notification = DetectionLag(seconds=notification_s, from_seq=arrival.seq, to_seq=arrival.seq, definition=NOTIFICATION)
    condition = DetectionLag(seconds=condition_s + 0.0, from_seq=inj.seq, to_seq=arrival.seq, definition=CONDITION)
    return Anatomy(condition, notification, human, row.starts_at)


START_KEYS = frozenset({"startsAt", "starts_at", "created_at", "createdAt"})


def _mentions_start(payload: object, depth: int = 0) -> bool:
    """Does a journaled payload carry a start time somewhere (a journal of a gameday that did not keep it)?"""
    if depth > 4:
        return False
    if isinstance(payload, dict):
        return any(k in START_KEYS for k in payload) or any(_mentions_start(v, depth + 1) for v in payload.values())
    if isinstance(payload, list):
        return any(_mentions_start(v, depth + 1) for v in payload[:50])
    return False


def dominant_sentence(detection: DetectionResult) -> str | None:
    """One sentence for the postmortem: which part took longest and what usually shortens it. It needs two
    parts known at least (None otherwise); an unknown part is named as unknown. ``'Of the time from the fault
    to a person on it (condition lag 3.0s, notification lag 2.0s, human lag 2.0s), the longest part was the
    monitoring noticing the condition; what usually shortens it: ...'``"""
    lags = [(part, what, getattr(detection, field)) for part, field, what in PARTS]
    known = [(lag.seconds, part, what) for part, what, lag in lags if lag is not None and lag.seconds is not None]
    if len(known) < 2 or known[0][1] != "condition":  # no claim without the split of MTTD itself
        return None
    _, part, what = max(known, key=lambda k: k[0])  # the first of equals: the earlier part
    figures = ", ".join(f"{p} lag {s:.1f}s" if lag is not None and (s := lag.seconds) is not None else f"{p} lag unknown"
                        for p, _, lag in lags)
    return (f"Of the time from the fault to a person on it ({figures}), the longest part was {what}; what usually "
            f"shortens it: {SHORTENS[part]}.")


def anatomy_rows(detection: DetectionResult, scale: float | None = None) -> list[dict[str, str]]:
    """The three parts as report rows: ``name``, ``value`` (``3.0s``, or ``unknown: why``; in a time-scaled drill
    with its ``scale``, the incident clock beside it), ``events`` (``#8 → #11``) and ``definition``; no rows when
    the scorecard has no anatomy (no injection)."""
    rows = []
    for part, field, _ in PARTS:
        lag = getattr(detection, field)
        if lag is None:
            continue
        value = human(lag.seconds) + on_incident_clock(lag.seconds, scale) if lag.seconds is not None \
            else f"unknown: {lag.unknown}"
        events = " → ".join(f"#{s}" for s in (lag.from_seq, lag.to_seq) if s is not None) or "—"
        rows.append({"name": f"{part} lag", "value": value, "events": events, "definition": lag.definition})
    return rows


def anatomy_context(detection: DetectionResult, scale: float | None = None) -> dict[str, object] | None:
    """What the postmortem lays out under "Where the detection time went"; None without rows."""
    rows = anatomy_rows(detection, scale)
    if not rows:
        return None
    started = f"The detecting alert's own start time: {detection.alert_starts_at}." if detection.alert_starts_at else ""
    return {"rows": rows, "sentence": dominant_sentence(detection) or "", "started": started}
