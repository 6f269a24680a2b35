"""The plan as iCalendar, parsed back by the icalendar library: one event per game day, in the program's
time zone (with its VTIMEZONE), UIDs stable across exports, assignments and people's text intact."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from icalendar import Calendar
from program_texts import PROGRAM

from gameday.program.history import History
from gameday.program.ics import plan_to_ics
from gameday.program.plan import make_plan
from gameday.program.programfile import load_program

HOSTILE = 'Eve "<b>x</b>"; a, b \\ [bold]y[/bold]'


def _plan(tmp_path: Path, text: str = PROGRAM) -> tuple[bytes, bytes, int]:
    path = tmp_path / "program.yaml"
    path.write_text(text, encoding="utf-8")
    plan = make_plan(load_program(path), History(), date(2027, 1, 1), date(2027, 12, 31))
    one = plan_to_ics(plan, datetime(2027, 1, 1, tzinfo=UTC))
    two = plan_to_ics(plan, datetime(2027, 2, 1, tzinfo=UTC))
    return one, two, len(plan.game_days)


def test_events_time_zone_and_stable_uids(tmp_path: Path) -> None:
    one, two, count = _plan(tmp_path)
    cal = Calendar.from_ical(one)
    events = cal.walk("VEVENT")
    assert len(events) == count == 12  # April's holiday and November's blackout move the game day, none is skipped
    assert [str(z["TZID"]) for z in cal.walk("VTIMEZONE")] == ["Europe/Berlin"]
    for event in events:
        start, end = event.decoded("DTSTART"), event.decoded("DTEND")
        assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
        assert (start.hour, start.minute) == (14, 0) and end - start == timedelta(hours=2)
        assert str(event["SUMMARY"]).startswith("Game day: ")
        assert "incident-commander: " in str(event["DESCRIPTION"])
    april = next(e for e in events if e.decoded("DTSTART").month == 4)
    assert april.decoded("DTSTART").date() == date(2027, 4, 2)
    assert "moved from 2027-04-01: holiday 2027-04-01 (offsite)" in str(april["DESCRIPTION"])
    uids = [str(e["UID"]) for e in events]
    assert len(set(uids)) == len(uids)
    assert uids == [str(e["UID"]) for e in Calendar.from_ical(two).walk("VEVENT")]
    assert str(april["UID"]).startswith("20270401-")  # from the regular date: a moved game day keeps its event


def test_people_text_survives_escaping(tmp_path: Path) -> None:
    text = PROGRAM.replace("{name: carol,", "{name: '" + HOSTILE.replace("'", "''") + "',").replace(
        "name: Test game days", "name: 'Team; with, commas'")
    one, _, _ = _plan(tmp_path, text)
    cal = Calendar.from_ical(one)
    assert str(cal["X-WR-CALNAME"]) == "Team; with, commas"
    described = "\n".join(str(e["DESCRIPTION"]) for e in cal.walk("VEVENT"))
    assert HOSTILE in described
    names = {str(a.params["CN"]) for e in cal.walk("VEVENT") for a in
             (e["ATTENDEE"] if isinstance(e["ATTENDEE"], list) else [e["ATTENDEE"]])}
    assert HOSTILE in names
