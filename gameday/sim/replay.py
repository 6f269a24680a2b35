"""A tabletop from a past drill: a live drill's journal replayed as an MSEL (``gameday msel from-journal``).

Preparing a realistic tabletop takes hours; a past game day already holds one. :func:`replay_scenario`
keeps the drill's scenario as it ran (from ``DrillStarted``: faults, detection, response steps,
recovery, objectives, so the tabletop scores the same way) and replaces its ``injects:`` with the
drill's real timeline, each at its real offset from drill start:

===============================  ===============================================================
journal event                    inject
===============================  ===============================================================
``AlertReceived``                ``alert-N``, channel ``alert``, carrying the webhook's format and
                                 payload as received (matched or not: the noise is replayed too), so it
                                 goes through the same intake and signal matching. Refused or
                                 unreadable deliveries (with an ``error``) are left out, and so
                                 are those that carried a responder's action (a PagerDuty
                                 acknowledge): replayed, they would do the players' part.
``ImpactStarted``                ``impact-N``, channel ``dashboard``: a panel of the failing check,
                                 drawn from the shadow of the fault injected last before it
``ActionRecorded post_update``   ``update-N``, channel ``chat``: the team's status update, from its
                                 author, as the channel showed it; **unscheduled** (no ``at``)
``ActionRecorded                 ``exec-N``, channel ``chat``: the team's executive notification;
notify_executives``              **unscheduled**
===============================  ===============================================================

The team's own words are the answers the players are to give: published at their real times they
would tell the players what to declare and say before they decide it. So they are in the MSEL
without a time, with the real one in their synopsis, for the facilitator to publish when it helps
(to compare, or to unblock); the alerts and the impact are the world, replayed on time.

Each response step the team did becomes an expectation (``expect: step``, the description saying who
did it when, and its verdict) of the last alert or dashboard inject published before they did it.
Events from ``abort.max_duration`` on are left out (the tabletop would abort first).

Only a live drill's journal (mode ``gameday`` or ``ci``) is taken; a tabletop's or training
drill's is refused, as is a malformed journal (:class:`~gameday.errors.JournalError`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

from gameday.errors import ConfigError
from gameday.journal import Journal
from gameday.model.duration import format_duration, human
from gameday.model.events import ActionRecorded, AlertReceived, DrillEnded, Event, FaultInjected, ImpactStarted, Payload
from gameday.model.exercise import Expectation, Inject, WebhookFormat
from gameday.model.scenario import Scenario

LIVE_MODES = ("gameday", "ci")
_SENDERS = {"alertmanager": "Alertmanager", "grafana": "Grafana", "pagerduty": "PagerDuty", "opsgenie": "Opsgenie",
            "generic": "Monitoring"}
_STIMULUS = ("alert", "dashboard")  # the channels whose injects carry the expectations


@dataclass
class Replay:
    """The tabletop scenario replayed from a journal, and what was left out (one line each)."""

    scenario: Scenario
    drill_id: str
    left_out: list[str] = field(default_factory=list)


def replay_scenario(journal: Journal) -> Replay:
    """The tabletop scenario that replays ``journal``'s timeline as injects (see the module docstring).

    Raises :class:`~gameday.errors.ConfigError` for a journal that is not a live drill's.
    """
    started = journal.started.data
    if started.mode not in LIVE_MODES:
        raise ConfigError(f"{journal.path}: a {started.mode} drill's journal: from-journal replays a live drill's "
                          f"(mode {' or '.join(LIVE_MODES)})")
    original = started.scenario
    limit = original.abort.max_duration
    events = _until_end(journal.events)
    left_out: list[str] = []
    injects: list[Inject] = []
    counters: dict[str, int] = {}

    def add(prefix: str, event: Event[Payload], fields: dict[str, Any], *, scheduled: bool = True) -> None:
        if scheduled and event.t >= limit:
            left_out.append(f"{event.kind} at {human(event.t)} (seq {event.seq}): at or after abort.max_duration")
            return
        counters[prefix] = counters.get(prefix, 0) + 1
        at = format_duration(event.t) if scheduled else None
        injects.append(Inject.model_validate({"id": f"{prefix}-{counters[prefix]}", "at": at, **fields}))

    acted = {e.data.alert_seq: e.data for e in journal.of(ActionRecorded) if e.data.alert_seq is not None}
    last_fault = original.faults[0].id
    for e in events:
        d = e.data
        if isinstance(d, FaultInjected):
            last_fault = d.fault if any(f.id == d.fault for f in original.faults) else last_fault
        elif isinstance(d, AlertReceived):
            fields = _alert_fields(d, started.drill_id, e.t)
            if e.seq in acted:  # a vendor's acknowledge or resolve: the players' to do, not the world's
                left_out.append(f"AlertReceived at {human(e.t)} (seq {e.seq}): it carried {acted[e.seq].author}'s "
                                f"{acted[e.seq].action} (via {d.format}): the players do that themselves")
            elif fields is None:
                left_out.append(f"AlertReceived at {human(e.t)} (seq {e.seq}): "
                                f"{d.error or 'not a webhook body gameday takes'}")
            else:
                add("alert", e, fields)
        elif isinstance(d, ImpactStarted):
            add("impact", e, {
                "channel": "dashboard", "from": "Dashboards", "subject": f"{d.check}: failing", "message": d.detail,
                "panel": {"title": d.check, "fault": last_fault},
                "synopsis": f"Customer impact began at {human(e.t)} in drill {started.drill_id} "
                            f"(the conductor's probes saw {d.check!r} fail{': ' + d.detail if d.detail else ''})"})
        elif isinstance(d, ActionRecorded) and d.action in ("post_update", "notify_executives") and d.text:
            who = f"{d.author} ({d.role})" if d.role else d.author
            what = "Executive notification" if d.action == "notify_executives" else (
                f"Status update ({d.audience})" if d.audience else "Status update")
            add("exec" if d.action == "notify_executives" else "update", e, {
                "channel": "chat", "from": who, "subject": what, "message": d.text,
                "synopsis": f"The team's {what.lower()}, posted at {human(e.t)} in drill {started.drill_id}. "
                            "Unscheduled: the players write their own; publish it to show what the team said then"},
                scheduled=False)
    if not injects:
        raise ConfigError(f"{journal.path}: nothing to replay: no alert, customer impact or status update "
                          f"before abort.max_duration ({format_duration(limit)})")
    injects = _with_expectations(injects, journal)
    scenario = _tabletop(original, started.drill_id, journal.path, injects)
    return Replay(scenario=scenario, drill_id=started.drill_id, left_out=left_out)


def _until_end(events: Sequence[Event[Payload]]) -> list[Event[Payload]]:
    out = []
    for e in events:
        out.append(e)
        if isinstance(e.data, DrillEnded):
            break
    return out


def _alert_fields(d: AlertReceived, drill_id: str, t: float) -> dict[str, Any] | None:
    """An alert inject's fields from one delivery, or None when it cannot be replayed."""
    if d.error is not None or not isinstance(d.payload, dict) or d.format not in get_args(WebhookFormat):
        return None
    names = list(dict.fromkeys(row.alertname or "alert" for row in d.alerts)) or ["alert"]
    status = "/".join(dict.fromkeys(row.status.upper() for row in d.alerts)) or "ALERT"
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    lines = []
    for row in d.alerts:
        labels = ", ".join(f"{k}={v}" for k, v in row.labels.items() if k != "alertname")
        lines.append(f"{row.alertname or 'alert'} ({row.status})" + (f": {labels}" if labels else ""))
    matched = f"matched the detection signal {d.signal!r}" if d.matched and d.signal else "matched no detection signal"
    return {"channel": "alert", "from": _SENDERS.get(d.format, d.format), "subject": f"{status}: {shown}",
            "message": "\n".join(lines),
            "alert": {"format": d.format, "payload": d.payload},
            "synopsis": f"The {d.format} webhook delivered at {human(t)} in drill {drill_id}; it {matched}"}


def _with_expectations(injects: list[Inject], journal: Journal) -> list[Inject]:
    """Each step the team did, as an expectation of the last alert or dashboard inject before it."""
    from gameday.analysis.scorecard import score_journal

    card = score_journal(journal)
    times = {e.seq: e.t for e in journal.events}
    expect: dict[str, list[Expectation]] = {}
    stimuli = [i for i in injects if i.channel in _STIMULUS] or injects
    for step in card.steps:
        if step.matched_seq is None or step.done_t is None:
            continue
        done = times.get(step.matched_seq, step.done_t)
        before = [i for i in stimuli if i.at is not None and i.at <= done]
        target = before[-1] if before else stimuli[0]
        who = f"{step.author} ({step.author_role})" if step.author and step.author_role else (step.author or "the team")
        text = f"In drill {card.drill_id}, {who} did it at {human(done)} ({step.verdict.replace('_', ' ')})"
        expect.setdefault(target.id, []).append(Expectation(step=step.id, description=text))
    return [i.model_copy(update={"expect": expect[i.id]}) if i.id in expect else i for i in injects]


def _tabletop(original: Scenario, drill_id: str, path: str, injects: list[Inject]) -> Scenario:
    tags = list(original.tags) + [t for t in ("tabletop", "replay") if t not in original.tags]
    note = f"A tabletop replay of drill {drill_id} (journal {Path(path).name}): its real alerts and timeline as injects."
    data = original.model_dump(mode="json", by_alias=True)
    data.update(id=f"{original.id}-replay"[:64], title=f"{original.title} (replay of {drill_id})",
                description=f"{original.description.rstrip()}\n\n{note}".lstrip(), tags=tags,
                injects=[i.model_dump(mode="json", by_alias=True) for i in injects])
    return Scenario.model_validate(data)


def replay_file(journal_path: Path, output: Path, *, project: Path | None = None) -> Replay:
    """``gameday msel from-journal``: read the journal, replay it, and write the tabletop scenario to
    ``output`` (validated where it lands, atomically). The files the scenario names are found as the
    drill found them: from its scenario's folder, then that folder's project root (a relative
    ``scenario_path`` is tried under ``project``, the journal's project and the working folder),
    then in those three folders themselves; they are named from ``output``'s folder."""
    from gameday.journal import read_journal
    from gameday.project import find_root
    from gameday.sim.scenario_out import rebase_references, scenario_data, scenario_yaml, write_scenario

    journal = read_journal(journal_path)
    replay = replay_scenario(journal)
    started = journal.started.data
    bases = [b.resolve() for b in (project, find_root(journal_path.resolve().parent), Path.cwd()) if b is not None]
    sources: list[Path] = []
    if started.scenario_path:  # absolute as the conductor writes it; a relative one, from where the drill ran
        folder = Path(started.scenario_path).parent
        for base in ([Path("/")] if folder.is_absolute() else bases):
            sources += [(base / folder).resolve(), find_root((base / folder).resolve())]
    for base in bases:
        sources += [base, find_root(base)]
    data = scenario_data(replay.scenario, roles_declared=started.roles_declared)
    missing = rebase_references(data, list(dict.fromkeys(sources)), output.parent)
    replay.left_out += [line for key, line in missing if key == "responders"]  # optional: a tabletop runs without it
    needed = [line for key, line in missing if key != "responders"]
    if needed:
        raise ConfigError(f"{journal_path}: the drill's scenario names a file that is not where it was: {needed[0]}; "
                          "give --project, the folder the drill ran in")
    header = [f"A tabletop replay of drill {replay.drill_id}, written by `gameday msel from-journal {journal_path}`.",
              "Play it: gameday run THIS_FILE --mode tabletop"]
    write_scenario(scenario_yaml(data, header), output, inputs=[journal_path])
    return replay
