"""The next game day's agenda, in Markdown: when, the scenario, who holds which role, and the
facilitator's checklist (before, during, after). Every name, title and reason is people's text,
escaped for Markdown (:func:`gameday.analysis.render.md`)."""

from __future__ import annotations

from gameday.analysis.render import md
from gameday.model.program_plan import GameDay, Plan

__all__ = ["agenda_md"]


def _when(day: GameDay) -> str:
    from datetime import datetime

    start, end = datetime.fromisoformat(day.start_local), datetime.fromisoformat(day.end_local)
    return (f"{start:%A %d %B %Y, %H:%M}-{end:%H:%M} {md(day.timezone)} (UTC{start:%z}); "
            f"UTC {day.start_utc[11:16]}-{day.end_utc[11:16]}")


def agenda_md(plan: Plan, day: GameDay) -> str:
    """The agenda of ``day`` (a game day of ``plan``) as Markdown."""
    sc = day.scenario
    lines = [f"# Game day: {md(sc.title)}", "", f"{md(plan.program)}, game day {day.number} of this plan.", "",
             f"- **When:** {_when(day)}"]
    if day.note:
        lines.append(f"- **Note:** {md(day.note)}")
    lines += [f"- **Scenario:** {md(sc.scenario_id)} ({md(sc.path)})",
              f"- **Why this scenario:** {md(sc.why)}"]
    if sc.tags:
        lines.append(f"- **Tags:** {', '.join(md(t) for t in sc.tags)}")
    if sc.description.strip():
        lines += ["", "## The scenario", "", md(" ".join(sc.description.split()))]
    lines += ["", "## Roles", "", "| Role | Person | Why |", "|---|---|---|"]
    for a in day.roles:
        lines.append(f"| {md(a.role)} | {md(a.person) if a.person else '**OPEN**'} | {md(a.why)} |")
    open_roles = [a.role for a in day.roles if a.person is None]
    path = md(sc.path)
    lines += ["", "## Facilitator's checklist", "", "### Before", "",
              ("- [ ] Announce the game day to the team and the people around it (when, scenario, roles above); "
              "agree who can call it off."),
              ("- [ ] Check the target: `gameday demo up` for the demo shop (or your own system's steady state); "
              f"check the scenario with `gameday validate` {path}."),
              "- [ ] Check the fault ledger is clear: `gameday recover`.",
              (f"- [ ] Start the drill, `gameday run` {path}: it prints the control room's link for you; invite each "
              "responder with their own link (in the control room, or `gameday act . invite PERSON ROLE`).")]
    if open_roles:
        lines.append(f"- [ ] Find someone for the open role{'s' if len(open_roles) > 1 else ''}: "
                     f"{', '.join(md(r) for r in open_roles)}.")
    lines += ["", "### During", "",
              "- [ ] Press start in the control room once everyone has joined.",
              ("- [ ] Watch the guardrails: the steady state, the abort limit, customer impact; abort if it is real "
              "(`gameday act . abort REASON`)."),
              "- [ ] Keep the incident commander off technical work; note decisions and timestamps.",
              "", "### After", "",
              ("- [ ] Hold the blameless postmortem from the draft the drill wrote (`postmortem.md` in its reports "
              "folder)."),
              "- [ ] Turn each \"what could improve\" into a finding with an owner and a due date.",
              "- [ ] Plan again (`gameday program plan`): this drill's roles and result count from now on.", ""]
    return "\n".join(lines)
