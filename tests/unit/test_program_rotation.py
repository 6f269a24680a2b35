"""The rotation and the schedule, by property: over a year of game days with random rosters, absences,
prerequisites and closed days, every assignment is allowed, no one holds two roles a day, the incident
commander never serves twice in a row when someone else can, turns are fair, closed days never hold a
game day, and 14:00 Europe/Berlin stays 14:00 local across daylight saving."""

from __future__ import annotations

from datetime import UTC, date, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gameday.model.program_file import Member, ProgramFile, person_key
from gameday.program.choice import Candidate, Run, choose
from gameday.program.rotation import Turn, assign_day, rotate
from gameday.program.schedule import closed_reason, regular_dates, schedule

ROLES = ("incident-commander", "scribe", "tech-lead", "comms-lead")
IC = "incident-commander"
YEAR = [date(2027, 1, 7) + timedelta(weeks=2 * i) for i in range(26)]  # a game day every other week for a year
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def absences(draw: Any) -> list[dict[str, Any]]:
    out = []
    for _ in range(draw(st.integers(0, 2))):
        start = date(2027, 1, 1) + timedelta(days=draw(st.integers(0, 360)))
        out.append({"from": start, "to": start + timedelta(days=draw(st.integers(0, 40))), "reason": "away"})
    return out


@st.composite
def rosters(draw: Any) -> tuple[list[Member], dict[str, list[str]]]:
    n = draw(st.integers(2, 7))
    people = []
    for i in range(n):
        roles = draw(st.lists(st.sampled_from(ROLES), min_size=1, max_size=4, unique=True))
        people.append(Member.model_validate({
            "name": f"p{i}", "roles": roles, "absences": draw(absences()),
            "experience": draw(st.lists(st.sampled_from(ROLES), max_size=1))}))
    prerequisites = {IC: ["scribe"]} if draw(st.booleans()) else {}
    return people, prerequisites


@SETTINGS
@given(rosters())
def test_every_assignment_is_allowed_and_explained(roster: tuple[list[Member], dict[str, list[str]]]) -> None:
    people, prerequisites = roster
    by_key = {person_key(p.name): p for p in people}
    plan = rotate([(day, ROLES) for day in YEAR], people, prerequisites)
    turns: list[Turn] = []
    last_ic: str | None = None
    for day, assignments in zip(YEAR, plan, strict=True):
        assert [a.role for a in assignments] == list(ROLES)
        names = [a.person for a in assignments if a.person is not None]
        assert len(names) == len(set(names)), "no person twice on one day"
        for a in assignments:
            assert a.why
            if a.person is None:
                assert a.why.startswith("no one eligible")
                continue
            member = by_key[person_key(a.person)]
            assert a.role in member.roles
            assert member.absent(day) is None
            for need in prerequisites.get(a.role, []):
                assert need in member.experience or any(t.person == a.person and t.role == need for t in turns)
            assert a.why.startswith(f"{a.person}: ")
        ic = assignments[0]
        if ic.person is not None and last_ic == ic.person:  # again in a row: everyone else who may hold it could not
            others = [p.name for p in people if IC in p.roles and p.name != ic.person]
            assert all(any(line.startswith(f"{name}: ") for line in ic.passed_over) for name in others), ic
            assert "no one else is eligible" in ic.why
        if ic.person is not None:
            last_ic = ic.person
        turns += [Turn(a.person, a.role, day) for a in assignments if a.person is not None]


@SETTINGS
@given(st.lists(st.integers(1, 4), min_size=4, max_size=4), rosters())
def test_turns_are_fair_among_always_eligible_people(sizes: list[int], noise: tuple[list[Member], dict[str, list[str]]]) -> None:
    """People who may hold only one role, are never away and need no prerequisite: their turns in it
    differ by at most one, whoever else shares the role."""
    steady = [Member.model_validate({"name": f"s{role}{i}", "roles": [role]}) for role, k in zip(ROLES, sizes, strict=True)
              for i in range(k)]
    people = steady + noise[0]
    plan = rotate([(day, ROLES) for day in YEAR], people, {})
    for role in ROLES:
        counts = [sum(1 for day in plan for a in day if a.role == role and a.person == p.name)
                  for p in steady if p.roles == [role]]
        assert max(counts) - min(counts) <= 1, (role, counts)


def test_the_ic_rotates_and_says_why() -> None:
    people = [Member.model_validate({"name": n, "roles": [IC]}) for n in ("ann", "ben", "cat")]
    history = [Turn("ben", IC, date(2026, 12, 3), "drill d1")]
    first = assign_day(date(2027, 1, 7), [IC], people, {}, history)[0]
    assert first.person == "ann"
    assert first.why == ("ann: fewest incident-commander turns (0, tied with cat), last turn never like cat: then name "
                         "order; the last game day's incident commander passed over")
    assert "ben: incident commander last game day (never twice in a row)" in first.passed_over
    plan = rotate([(d, [IC]) for d in YEAR[:6]], people, {}, history)
    ics = [day[0].person for day in plan]
    assert ics == ["ann", "cat", "ben", "ann", "cat", "ben"]
    assert plan[2][0].why == ("ben: fewest incident-commander turns (1, tied with ann), longest since the last turn "
                              "(2026-12-03); the last game day's incident commander passed over")


def test_a_trainee_below_ic_is_not_given_incident_commander() -> None:
    people = [Member.model_validate({"name": n, "roles": [IC, "scribe"]}) for n in ("ann", "ben")]
    blocked = {"ann": "trainee on the scribe rung of the training ladder (below IC): not given incident-commander"}
    a = assign_day(date(2027, 1, 7), [IC, "scribe"], people, {}, [], blocked)
    assert (a[0].person, a[1].person) == ("ben", "ann")
    assert any(line.startswith("ann: trainee on the scribe rung") for line in a[0].passed_over)


# --- the schedule ---------------------------------------------------------------------------------
def _program(**extra: Any) -> ProgramFile:
    data: dict[str, Any] = {
        "apiVersion": "gameday/v1", "kind": "Program", "name": "p",
        "cadence": {"rrule": "FREQ=WEEKLY;BYDAY=MO,TH", "time": "14:00", "duration": "2h", "timezone": "Europe/Berlin",
                    "start": "2027-01-01"},
        "roster": {"people": [{"name": "ann", "roles": [IC]}]}, "scenarios": ["x.yaml"]}
    return ProgramFile.model_validate({**data, **extra})


closures = st.lists(st.builds(lambda start, span, kind: (kind, start, span), st.integers(0, 364), st.integers(0, 20),
                              st.sampled_from(["holidays", "blackouts"])), max_size=8)


@SETTINGS
@given(closures, st.sampled_from(["move", "skip"]), st.lists(st.sampled_from(["mon", "tue", "wed", "thu", "fri", "sat"]),
                                                             min_size=1, max_size=6, unique=True))
def test_closed_days_never_hold_a_game_day(spans: list[tuple[str, int, int]], when_closed: str, days: list[str]) -> None:
    extra: dict[str, Any] = {"holidays": [], "blackouts": [], "when_closed": when_closed,
                             "working_hours": {"days": days, "from": "09:00", "to": "17:00"}}
    for kind, start, span in spans:
        first = date(2027, 1, 1) + timedelta(days=start)
        extra[kind].append({"from": first, "to": first + timedelta(days=span), "reason": "closed"}
                           if span else {"date": first, "reason": "closed"})
    program = _program(**extra)
    slots, skips = schedule(program, date(2027, 1, 1), date(2027, 12, 31))
    regular = regular_dates(program, date(2027, 1, 1), date(2028, 1, 31))
    assert len(slots) + len(skips) == len([d for d in regular if d <= date(2027, 12, 31)])
    for slot in slots:
        assert closed_reason(slot.day, program) == ""
        later = [d for d in regular if d > slot.regular]
        assert slot.day >= slot.regular and (not later or slot.day < later[0])
        if slot.day != slot.regular:
            assert when_closed == "move" and slot.note.startswith(f"moved from {slot.regular}: ")
    for skip in skips:
        assert closed_reason(skip.regular, program)
    days_held = [s.day for s in slots]
    assert days_held == sorted(set(days_held))


def test_fourteen_hundred_berlin_across_daylight_saving() -> None:
    program = _program(cadence={"rrule": "FREQ=WEEKLY;BYDAY=TH", "time": "14:00", "duration": "2h",
                                "timezone": "Europe/Berlin", "start": "2027-03-01"})
    slots, _ = schedule(program, date(2027, 3, 18), date(2027, 11, 4))
    by_day = {s.day: s for s in slots}
    for day, utc_hour in ((date(2027, 3, 25), 13), (date(2027, 4, 1), 12), (date(2027, 10, 28), 12), (date(2027, 11, 4), 13)):
        slot = by_day[day]
        assert (slot.start.hour, slot.start.minute) == (14, 0)
        assert slot.start_utc.hour == utc_hour and slot.start_utc.tzinfo == UTC
        assert slot.end_utc - slot.start_utc == timedelta(hours=2)
        assert slot.start.utcoffset() == timedelta(hours=15 - utc_hour - 1)


def test_the_scenario_choice_order() -> None:
    pool = [Candidate("a.yaml", "a", ("db",)), Candidate("b.yaml", "b", ("api",)), Candidate("c.yaml", "c", ("db", "dns"))]
    day = date(2027, 6, 1)
    runs = [Run("a", date(2027, 5, 1), "passed"), Run("b", date(2027, 5, 2), "not_passed", "d2"),
            Run("c", date(2027, 1, 2), "passed")]
    assert choose(day, pool, runs[:2]) == (2, "never run")
    assert choose(day, pool, runs) == (1, "did not pass last time (not passed, 2027-05-02, drill d2)")
    runs[1] = Run("b", date(2027, 5, 2), "passed")
    assert choose(day, pool, runs) == (2, "stale: last run 2027-01-02 (150 days before)")
    runs[2] = Run("c", date(2027, 5, 3), "passed")
    runs[0] = Run("a", date(2027, 5, 4), "passed")
    extra = [Run("a", date(2027, 5, 10), "passed"), Run("b", date(2027, 5, 11), "passed")]
    index, why = choose(day, [pool[0], pool[1], Candidate("c.yaml", "c", ("db", "dns", "tls"))], runs + extra)
    assert (index, why) == (2, "covers tags not exercised in the last 3 drills: dns, tls")


ZONES = ("Europe/Berlin", "America/New_York", "America/St_Johns", "Asia/Kathmandu", "Australia/Lord_Howe",
         "Pacific/Chatham", "America/Sao_Paulo", "Africa/Casablanca", "UTC")


@SETTINGS
@given(st.sampled_from(ZONES), st.integers(9 * 60, 15 * 60 - 1), st.sampled_from(["FREQ=WEEKLY;BYDAY=TH",
                                                                                   "FREQ=MONTHLY;BYDAY=1TH",
                                                                                   "FREQ=MONTHLY;BYMONTHDAY=15"]))
def test_the_local_time_holds_in_every_zone_all_year(zone: str, minute: int, rrule: str) -> None:
    """Whatever the zone's daylight-saving rules (30-minute shifts, southern summers, zones that changed
    their rules), every game day starts at the local time asked, lasts the elapsed duration asked, and its
    UTC instant maps back to that local time."""
    from zoneinfo import ZoneInfo

    at = f"{minute // 60:02d}:{minute % 60:02d}"
    program = _program(cadence={"rrule": rrule, "time": at, "duration": "2h", "timezone": zone, "start": "2027-01-01"},
                       working_hours={"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "from": "08:00",
                                      "to": "18:00"})
    slots, _ = schedule(program, date(2027, 1, 1), date(2027, 12, 31))
    assert slots
    offsets = set()
    for slot in slots:
        assert slot.start.strftime("%H:%M") == at and slot.start.date() == slot.day
        assert slot.end_utc - slot.start_utc == timedelta(hours=2)
        assert slot.start_utc.astimezone(ZoneInfo(zone)).strftime("%H:%M") == at
        offsets.add(slot.start.utcoffset())
    assert len(offsets) <= 2  # standard and summer time at most, within one year
