"""The rubric's first five items, command and communication: took-command, delegated, severity,
executives, cadence. Each is a pure function of :class:`~gameday.analysis.rubric_facts.TrainingFacts`
returning an :class:`~gameday.model.rubric.ItemVerdict`; the rules are in :mod:`gameday.analysis.rubric`.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import pairwise

from gameday.analysis.clocks import incident_scale, on_incident_clock
from gameday.analysis.rubric_facts import EPS, RESET_WITHIN, TrainingFacts, count, evidence_of, off, quote, role_words
from gameday.analysis.severity import ExecutivesDue, executive_deadlines, notification_for
from gameday.journal import is_kind
from gameday.model.duration import human
from gameday.model.events import ActionRecorded, Event, Payload, RoleAssigned, TaskAssigned
from gameday.model.rubric import RUBRIC, ItemVerdict, RubricItemId, Verdict
from gameday.model.terms import IC, Severity


def verdict(item: RubricItemId, v: Verdict, why: str, coaching: str = "",
            evidence: list[Event[Payload] | None] | None = None) -> ItemVerdict:
    """An item's verdict (no coaching when met), its evidence in journal order."""
    return ItemVerdict(id=item, title=RUBRIC[item], verdict=v, why=why, coaching="" if v == "met" else coaching,
                       evidence=evidence_of(evidence or []))  # fmt: skip


def took_command(f: TrainingFacts) -> ItemVerdict:
    """Met: the trainee took command within ``training.command_within`` of detection (else of the first fault)."""
    at, label, anchor = f.alarm()
    within, cmd, me = f.scenario.training.command_within, f.command, f.trainee
    if cmd is None:
        return verdict("took-command", "missed", f"{me} never said they were taking command (no CommandTaken by them).",
                       f"As soon as you learn of the incident ({label}, {off(at)}), say out loud that you are the "
                       "incident commander: from then on everyone knows who decides.", [anchor])
    gap = cmd.t - at
    when = f"before {label} ({off(at)})" if gap < 0 else f"{human(gap)} after {label} ({off(at)})"
    if gap <= within + EPS:
        return verdict("took-command", "met", f"{me} took command at {off(cmd.t)}, {when}, within the {human(within)} "
                                              "allowed.", evidence=[anchor, cmd])
    return verdict("took-command", "partly", f"{me} took command at {off(cmd.t)}, {when}: later than the {human(within)} "
                                             "allowed.",
                   f"You took command at {off(cmd.t)}, {human(gap)} after {label}: take it within {human(within)}, "
                   "before anything else — \u201cI am the incident commander\u201d is the first thing the team should hear "
                   "from you.", [anchor, cmd])


def delegated(f: TrainingFacts) -> ItemVerdict:
    """Met: the trainee gave every role but the incident commander's to someone else within ``training.roles_within``
    of taking command, and every task they gave names a person and a time box. A role someone else gave (a coach, a
    pre-assigned roster) does not earn it: partly at best."""
    roles, me = [r for r in f.scenario.roles if r != IC], f.trainee
    start, label = (f.command.t, "taking command") if f.command is not None else f.alarm()[:2]
    within = f.scenario.training.roles_within
    deadline = start + within
    mine: dict[str, Event[RoleAssigned]] = {}
    others: dict[str, Event[RoleAssigned]] = {}
    for e in f.events:
        if is_kind(e, RoleAssigned) and e.data.role in roles and e.data.person != me:
            (mine if e.data.by == me else others).setdefault(e.data.role, e)
    elsewhere = [others[r] for r in roles if r in others and r not in mine]
    missing = [r for r in roles if r not in mine and r not in others]
    late = [r for r in roles if r in mine and mine[r].t > deadline + EPS]
    tasks = [e for e in f.events if is_kind(e, TaskAssigned) and e.data.by == me]
    loose = [t for t in tasks if t.data.within is None or not t.data.to.strip()]
    shown: list[Event[Payload] | None] = [f.command, *mine.values(), *elsewhere, *(loose if loose else tasks)]
    why, coach = [], []
    if missing:
        why.append(f"the {_and(role_words(r) for r in missing)} role{'s were' if len(missing) > 1 else ' was'} never "
                   "given to anyone")
        coach.append(" ".join(f"Give the {role_words(r)} role to a named person"
                              + (f" ({f.persona(r)} was there for it)" if f.persona(r) else "")
                              + f" within {human(within)} of {label}." for r in missing))
    for e in elsewhere:
        who = f"by {e.data.by}" if e.data.by else "from a pre-assigned roster"
        why.append(f"the {role_words(e.data.role)} role was given to {e.data.person} {who}, not by {me}")
    if elsewhere:
        coach.append(f"Give every role yourself, out loud, within {human(within)} of {label}: the "
                     f"{_and(role_words(e.data.role) for e in elsewhere)} role{'s were' if len(elsewhere) > 1 else ' was'} "
                     "given by someone else, and as the incident commander you say who does what.")
    for r in late:
        e = mine[r]
        why.append(f"the {role_words(r)} role went to {e.data.person} only at {off(e.t)}")
    if late:
        first = mine[late[0]]
        coach.append(f"You gave the {role_words(late[0])} role at {off(first.t)}: give every role within "
                     f"{human(within)} of {label} ({off(start)}), before the work starts.")
    if not tasks:
        why.append(f"no task was given to anyone by {me}")
        name = f.holder("tech-lead") or f.persona("tech-lead")
        coach.append("Give each piece of work to a named person with a time box, e.g. \u201c"
                     + (f"{name}, c" if name and name != me else "C")
                     + "heck the database and report back in 5 minutes\u201d.")
    if loose:
        t = loose[0].data
        what = "had no time box" if all(x.data.to.strip() for x in loose) else "lacked a person or a time box"
        why.append(f"{len(loose)} of {count(len(tasks), 'task')} {what}")
        coach.append(f"Task {t.task} at {off(loose[0].t)} ({quote(t.text, 80)}) had no "
                     f"{'time box' if t.to.strip() else 'person'}: always say who and by when, e.g. \u201creport back "
                     "in 5 minutes\u201d.")
    if missing or not tasks:
        return verdict("delegated", "missed", _sentence("; ".join(why)), " ".join(coach), shown)
    if why:
        return verdict("delegated", "partly", _sentence("Every role was given, but " + "; ".join(why)), " ".join(coach),
                       shown)
    roles_text = (f"every role ({_and(role_words(r) for r in roles)}) was given by {me} to a named person within "
                  f"{human(within)} of {label}, and ") if roles else ""
    all_tasks = "the one task" if len(tasks) == 1 else f"all {len(tasks)} tasks"
    return verdict("delegated", "met", _sentence(f"{roles_text}{all_tasks} named a person and a time box"), evidence=shown)


def _severity_marks(f: TrainingFacts) -> list[Event[ActionRecorded]]:
    """The severity set (or declared with the incident), by anyone, while the trainee held command."""
    return [a for a in f.actions if a.data.severity is not None and a.data.action in ("set_severity", "declare_incident")
            and f.in_command(a)]


def severity(f: TrainingFacts) -> ItemVerdict:
    """Met: set to the right severity within the ``set_severity`` step's time (default 10 min) of detection, never to a
    wrong one, and re-set within 10 min of every change of the right severity while the incident is open."""
    step = next((s for s in f.scenario.response if s.action == "set_severity"), None)
    within = step.within if step is not None else 600.0
    at, label, anchor = f.alarm()
    marks = _severity_marks(f)
    if not marks and anchor is None:
        return verdict("severity", "n/a", "No fault began and nothing was detected, so there was no severity to set yet.")
    if not marks:
        right = f.right_severity(anchor.seq + 1) if anchor is not None else f.scenario.severity
        during = "during the drill" if f.gone is None else f"while {f.trainee} held command"
        return verdict("severity", "missed", f"No one set the severity {during}.",
                       f"Set the severity within {human(within)} of {label} ({off(at)}) — it was {right} then: it tells "
                       "everyone how big the incident is, and you can change it later.", [anchor])
    opened = f.opened()
    changes = f.severity_changes(opened.t, min(f.closed_t(opened.t), f.until_t)) if opened is not None else []
    good = next((m for m in marks if m.data.severity == f.right_severity(m.seq)), None)
    wrong = [m for m in marks if m.data.severity != f.right_severity(m.seq)]
    missed_resets = [c for c in changes if not _reset(f, c.seq, c.t, f.severity_after(c)) and c.t + RESET_WITHIN <= f.until_t]
    late = good is None or good.t > at + within + EPS
    shown: list[Event[Payload] | None] = [anchor, *marks, *changes]
    if not late and not wrong and not missed_resets:
        assert good is not None
        kept = " and re-set with every change of the situation" if changes else " and no one set a wrong one"
        return verdict("severity", "met", f"{good.data.author} set the severity to {good.data.severity} at {off(good.t)}, "
                                          f"within {human(within)} of {label} ({off(at)}),{kept}.", evidence=shown)
    why, coach = [], []
    if late:
        why.append(f"the right severity came only at {off(good.t)}" if good else "it never stood at the right severity")
    if late and not wrong:
        right = f.right_severity(anchor.seq + 1) if anchor is not None else f.scenario.severity
        coach.append(f"Set the severity within {human(within)} of {label} ({off(at)}): it was {right} then.")
    if wrong:
        m = wrong[0]
        right = f.right_severity(m.seq)
        why.append(f"it was set to {m.data.severity} at {off(m.t)} when {right} was right")
        desc = f.policy.levels[right].description if right in f.policy.levels else ""
        coach.append(f"At {off(m.t)} the severity was set to {m.data.severity} while the impact matched {right}"
                     + (f" ({quote(desc, 120)})" if desc else "") + ": check the policy's definitions before you set it.")
    if missed_resets:
        c = missed_resets[0]
        why.append(f"the situation became {f.severity_after(c)} at {off(c.t)} ({c.data.to_state}) and the severity was not "
                   f"re-set within {human(RESET_WITHIN)}")
        coach.append(f"When the situation changed at {off(c.t)} ({c.data.from_state} to {c.data.to_state}), re-set the "
                     f"severity to {f.severity_after(c)} within {human(RESET_WITHIN)}.")
    return verdict("severity", "partly", _sentence("The severity was set, but " + "; ".join(why)), " ".join(coach), shown)


def _reset(f: TrainingFacts, seq: int, t: float, sev: Severity) -> bool:
    """The severity stood at ``sev`` at some moment within RESET_WITHIN after event ``seq``."""
    marks = _severity_marks(f)
    before = [m for m in marks if m.seq < seq]
    if before and before[-1].data.severity == sev:
        return True
    return any(m.seq > seq and m.t <= t + RESET_WITHIN + EPS and m.data.severity == sev for m in marks)


def executives(f: TrainingFacts) -> ItemVerdict:
    """Met: executives told (notify_executives, or an update to them) by every deadline the policy sets: the level right at
    the declaration (else detection), from then; each escalation to a stricter level that asks for it, from the
    escalation (told after it). The worst deadline decides; those not yet due when the trainee's command ended are
    left out."""
    anchor = f.declared or f.detection
    if anchor is None:
        return verdict("executives", "n/a", "No incident was declared or detected, so no executive had to be told.")
    since = "the declaration" if f.declared is not None else "detection"
    close = f.closed_t(anchor.t)
    told_all = [a for a in f.actions if a.data.action == "notify_executives"
                or (a.data.action == "post_update" and a.data.audience == "executive")]
    scale = incident_scale(f.events)  # a time-scaled drill: the policy's durations with the incident clock beside them
    deadlines = executive_deadlines(f.policy, f.timeline, anchor, f"{since} ({off(anchor.t)})", close, scale)
    if not deadlines:
        return verdict("executives", "n/a", f"The policy asked for no executive notification ({f.right_severity(anchor.seq + 1)}"
                                            f", open from {off(anchor.t)} to {off(close)}).",
                       evidence=[anchor, told_all[0] if told_all else None])
    judged: list[tuple[str, ExecutivesDue, Event[ActionRecorded] | None]] = []
    for d in deadlines:
        n = notification_for(d, told_all)
        if (n is None or n.t > d.due + EPS) and d.due > f.until_t + EPS:
            continue  # not due yet when the drill ended (or command left the trainee)
        judged.append(("missed" if n is None else "met" if n.t <= d.due + EPS else "partly", d, n))
    if not judged:
        d = deadlines[0]
        return verdict("executives", "n/a", f"Executives were not yet due when {f.until_words()} (due by {off(d.due)}; "
                                            f"{d.rule}).", evidence=[anchor, d.cause])
    status, bad, told = min(reversed(judged), key=lambda j: ("missed", "partly", "met").index(j[0]))
    if status == "missed" and not any(n for _, _, n in judged):
        status, bad, told = judged[0]
    shown: list[Event[Payload] | None] = [anchor, *(d.cause for _, d, _ in judged), *(n for _, _, n in judged)]
    comms = f.someone("comms-lead", told.seq if told else None)
    if status == "met":
        if len(judged) == 1:
            assert told is not None
            return verdict("executives", "met", f"{told.data.author} notified the executives at {off(told.t)}, by the "
                                                f"deadline {off(bad.due)} ({bad.rule}).", evidence=shown)
        each = "; ".join(f"{d.rule}, told at {off(n.t)}" for _, d, n in judged if n is not None)
        return verdict("executives", "met", f"The executives were told in time for every deadline ({each}).",
                       evidence=shown)
    others = [f"of the {d.severity} at {off(n.t)}" for _, d, n in judged if n is not None and d is not bad and n is not told]
    before = f"The executives were told {_and(others)}, but " if others else ""
    if status == "missed":
        at = bad.trigger_t if bad.trigger_t is not None else anchor.t
        if not others:
            return verdict("executives", "missed", f"Executives were never told; the policy wanted them told by "
                                                   f"{off(bad.due)} ({bad.rule}).",
                           f"Executives needed to hear by {off(bad.due)}: ask {comms} to notify them as soon as the severity "
                           "calls for it, and check that it was done.", shown)
        return verdict("executives", "missed", f"{before}not of the {bad.severity} at {off(at)} (due by {off(bad.due)}; "
                                               f"{bad.rule}).",
                       f"The situation became {bad.severity} at {off(at)} and no one told the executives after that: tell "
                       f"them within {human(bad.within)}{on_incident_clock(bad.within, scale)} of an escalation \u2014 ask "
                       f"{comms} to notify them, and check that it was done.", shown)
    assert told is not None
    late_by = human(told.t - bad.due) + on_incident_clock(told.t - bad.due, scale)
    late = f"{late_by} after the deadline {off(bad.due)} ({bad.rule})"
    why = (f"{before}of the {bad.severity} only at {off(told.t)}, {late}." if others else
           f"{told.data.author} notified the executives at {off(told.t)}, {late}.")
    return verdict("executives", "partly", why,
                   f"Executives heard at {off(told.t)}, {late_by} late: as soon as the severity calls for "
                   f"it, ask {comms} to tell them, with a deadline.", shown)


def cadence(f: TrainingFacts) -> ItemVerdict:
    """Met: from the incident's opening to its close (resolved, else the drill's end) no gap between updates (and from
    the opening to the first) is longer than the policy's ``update_every`` of the severity right during the gap."""
    opened = f.opened()
    if opened is None:
        return verdict("cadence", "n/a", "No incident was declared or detected, so no update was due.")
    close = max(opened.t, min(f.closed_t(opened.t), f.until_t))
    updates = [a for a in f.actions if a.data.action == "post_update" and opened.t - EPS <= a.t <= close + EPS]
    points: list[tuple[float, int]] = [(opened.t, opened.seq), *((u.t, u.seq) for u in updates), (close, 1 << 62)]
    over: list[tuple[float, float, float, Severity]] = []
    required: list[tuple[float, Severity]] = []
    for (a, seq_a), (b, _seq_b) in pairwise(points):
        sevs = [f.right_severity(seq_a + 1), *(f.severity_after(c) for c in f.severity_changes(a + EPS, b))]
        rules = [(lvl.update_every, s) for s in sevs if (lvl := f.policy.levels.get(s)) and lvl.update_every is not None]
        if not rules:
            continue
        every, sev = min(rules)
        required.append((every, sev))
        if b - a > every + EPS:
            over.append((a, b, every, sev))
    shown: list[Event[Payload] | None] = [opened, *updates]
    window = f"from {off(opened.t)} to {off(close)}"
    if not required:
        return verdict("cadence", "n/a", f"The policy asked for no update cadence while the incident was open ({window}).",
                       evidence=shown)
    every, sev = min(required)
    comms = f.someone("comms-lead")
    if not over:
        if not updates:
            return verdict("cadence", "n/a", f"No update fell due while the incident was open ({window}; {sev}: every "
                                             f"{human(every)}).", evidence=shown)
        longest = max(b - a for (a, _), (b, _) in pairwise(points))
        return verdict("cadence", "met", f"{count(len(updates), 'update')} went out while the incident was open ({window}); the "
                                         f"longest gap was {human(longest)}, within the {human(every)} the policy asks "
                                         f"for {sev}.", evidence=shown)
    a, b, gap_every, gap_sev = max(over, key=lambda g: g[1] - g[0])
    coach = (f"No update went out between {off(a)} and {off(b)} ({human(b - a)}; {gap_sev} asks for one every "
             f"{human(gap_every)}): have {comms} post on a timer, even when there is no news.")
    if not updates:
        return verdict("cadence", "missed", f"No update was posted while the incident was open ({window}); the policy asks "
                                            f"for one every {human(gap_every)} for {gap_sev}.", coach, shown)
    if len(over) == 1:
        return verdict("cadence", "partly", f"One gap between updates was too long: {human(b - a)} from {off(a)} to "
                                            f"{off(b)}, over the {human(gap_every)} the policy asks for {gap_sev}.", coach,
                       shown)
    return verdict("cadence", "missed", f"{len(over)} gaps between updates were longer than the policy's cadence (the "
                                        f"longest {human(b - a)}, from {off(a)} to {off(b)}).", coach, shown)


def _and(words: Iterable[str]) -> str:
    items = list(words)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _sentence(text: str) -> str:
    return (text[:1].upper() + text[1:]).rstrip(".") + "."
