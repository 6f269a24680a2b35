"""How the timeline (live view, control room, postmortem) says each event kind of a training drill."""

from __future__ import annotations

from gameday.model import events
from gameday.model.duration import human

_STATUS = {"acknowledged": "", "question": " (asks)", "finding": " (finding)", "done": " (done)",
           "failed": " (failed)", "unable": " (cannot do it)"}
_TASKS = {"investigate": "investigate", "runbook": "run a runbook", "update": "post an update",
          "notify_executives": "notify the executives", "other": "a task"}


def describe_training(d: events.Payload) -> str | None:
    """The sentence for a training kind, or None when ``d`` is not one."""
    match d:
        case events.TrainingStarted():
            crew = ", ".join(f"{p.name} ({p.role})" for p in d.responders) or "none"
            how = "live faults" if d.live else "simulated faults"
            return f"Training started: {d.trainee} is the incident commander; simulated responders: {crew}; {how}"
        case events.CommandTaken():
            return f"{d.person} took command" + (f": {d.text}" if d.text else "")
        case events.TaskAssigned():
            what = f"run the {d.runbook} runbook" if d.kind == "runbook" and d.runbook else (
                f"post an {d.audience} update" if d.kind == "update" and d.audience else _TASKS[d.kind])
            box = f", within {human(d.within)}" if d.within is not None else ", no time box"
            text = f": {d.text}" if d.text else ""
            return f"Task {d.task} for {d.to} from {d.by}: {what}{box}{text}"
        case events.TaskReported():
            return f"{d.by} on task {d.task}{_STATUS[d.status]}: {d.text}"
        case events.ObjectionsCalled():
            box = f" (time box {human(d.within)})" if d.within is not None else " (no time box)"
            return f"{d.by} asked for strong objections to: {d.proposal}{box}"
        case events.ObjectionVoiced():
            return f"{d.by} {'objects' if d.strong else 'has no objection'} ({d.call})" + (
                f": {d.text}" if d.strong else "")
        case events.CommandHandedOver():
            return f"{d.outgoing} handed command to {d.incoming}: {d.briefing or '(no briefing)'}"
        case events.HintGiven():
            return f"Hint for {d.to} (costs {d.cost:g} points): {d.text}"
        case events.StateChanged():
            where = f"from {d.from_state} to {d.to_state}" if d.from_state else f"starts in {d.to_state}"
            said = f" — {d.message}" if d.message else ""
            return f"Simulation {where} ({d.trigger}){said}"
    return None
