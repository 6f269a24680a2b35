"""The plan as an iCalendar file (RFC 5545), written with the ``icalendar`` library.

One ``VEVENT`` per game day: ``DTSTART``/``DTEND`` in the program's time zone (``TZID``, with the
``VTIMEZONE`` built from ``zoneinfo`` for the plan's years), a stable ``UID`` (from the program's
name and the cadence's date: importing a new export updates each event rather than adding a
second), ``SUMMARY`` with the scenario's title, ``DESCRIPTION`` with the scenario, why it was
chosen, each role's person and why, ``CATEGORIES`` with the scenario's tags. People's names and
titles are text: the library escapes them (commas, semicolons, newlines); control characters
are shown as ``<U+XXXX>``. ``DTSTAMP`` is ``now`` (given, so an export can be reproduced).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from gameday.model.program_plan import GameDay, Plan
from gameday.model.textsafe import neutralise, one_line

__all__ = ["PRODID", "describe", "plan_to_ics"]

PRODID = "-//gameday//game-day program//EN"


def describe(day: GameDay) -> str:
    """A game day in plain text: the scenario and why, each role's person and why, a moved date's note."""
    lines = [f"Scenario: {day.scenario.title} ({day.scenario.path})", f"Why this scenario: {day.scenario.why}"]
    if day.note:
        lines.append(f"Note: {day.note}")
    lines += ["", "Roles:"]
    for a in day.roles:
        lines.append(f"- {a.role}: {a.person or 'OPEN'} ({a.why})")
    lines += ["", f"UTC: {day.start_utc} to {day.end_utc}", "Agenda: gameday program next"]
    return neutralise("\n".join(lines))


def plan_to_ics(plan: Plan, now: datetime) -> bytes:
    """The plan's game days as an iCalendar file (bytes, CRLF lines as RFC 5545 asks)."""
    from icalendar import Calendar, Event, vCalAddress

    zone = ZoneInfo(plan.timezone)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", one_line(plan.program))
    cal.add("x-wr-timezone", plan.timezone)
    for day in plan.game_days:
        event = Event()
        event.add("uid", day.uid)
        event.add("dtstamp", now)
        event.add("dtstart", datetime.fromisoformat(day.start_local).astimezone(zone))
        event.add("dtend", datetime.fromisoformat(day.end_local).astimezone(zone))
        event.add("summary", one_line(f"Game day: {day.scenario.title}"))
        event.add("description", describe(day))
        if day.scenario.tags:
            event.add("categories", [one_line(t) for t in day.scenario.tags])
        for a in day.roles:
            if a.person is None:
                continue
            attendee = vCalAddress("urn:gameday:person:" + _urn(a.person))  # no e-mail on the roster: a name only
            attendee.params["cn"] = one_line(a.person)
            attendee.params["role"] = "CHAIR" if a.role == "incident-commander" else "REQ-PARTICIPANT"
            event.add("attendee", attendee, encode=False)
        cal.add_component(event)
    if plan.game_days:
        cal.add_missing_timezones(first_date=plan.first - timedelta(days=1), last_date=plan.last + timedelta(days=366))
    data: bytes = cal.to_ical()
    return data


def _urn(name: str) -> str:
    from urllib.parse import quote

    return quote(one_line(name), safe="")
