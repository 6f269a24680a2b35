"""Clocks: FakeClock's virtual time, and PausableClock (drill time that stands still while paused) on top of it.

Every value is exact (binary fractions), and nothing sleeps: FakeClock jumps.
"""

from __future__ import annotations

import queue
import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest

from gameday.clock import FakeClock, PausableClock, iso

WALL0 = datetime(2026, 1, 1, 9, 0, 0, tzinfo=UTC)  # FakeClock's default wall origin


def inbox(*items: object) -> queue.Queue[object]:
    q: queue.Queue[object] = queue.Queue()
    for item in items:
        q.put(item)
    return q


# --- FakeClock ---------------------------------------------------------------------------


def test_fake_clock_starts_at_its_origin() -> None:
    clock = FakeClock()
    assert clock.now() == 1000.0
    assert clock.wall() == WALL0
    custom = FakeClock(start=5.0, wall=datetime(2030, 6, 1, tzinfo=UTC))
    assert custom.now() == 5.0
    assert custom.wall() == datetime(2030, 6, 1, tzinfo=UTC)


def test_fake_clock_advance_moves_now_and_wall_together() -> None:
    clock = FakeClock()
    clock.advance(2.5)
    clock.advance(0.25)
    assert clock.now() == 1002.75
    assert clock.wall() == WALL0 + timedelta(seconds=2.75)


def test_fake_clock_returns_a_queued_item_at_once() -> None:
    clock = FakeClock()
    q = inbox("first", "second")
    assert clock.next_input(q, deadline=1060.0) == "first"
    assert clock.now() == 1000.0  # no time passed
    assert clock.next_input(q, deadline=None) == "second"
    assert clock.now() == 1000.0
    assert q.empty()


def test_fake_clock_empty_inbox_jumps_to_the_deadline() -> None:
    clock = FakeClock()
    assert clock.next_input(inbox(), deadline=1060.0) is None
    assert clock.now() == 1060.0
    assert clock.wall() == WALL0 + timedelta(seconds=60)


def test_fake_clock_past_deadline_returns_none_without_going_back() -> None:
    clock = FakeClock()
    clock.advance(10.0)
    assert clock.next_input(inbox(), deadline=1005.0) is None
    assert clock.now() == 1010.0


def test_fake_clock_waiting_forever_on_nothing_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="waiting forever"):
        FakeClock().next_input(inbox(), deadline=None)


def test_fake_clock_delivers_a_scheduled_item_at_its_time() -> None:
    clock = FakeClock()
    clock.schedule(1030.0, "ack")
    assert clock.next_input(inbox(), deadline=1060.0) == "ack"
    assert clock.now() == 1030.0
    # nothing left: the next wait runs to its deadline
    assert clock.next_input(inbox(), deadline=1060.0) is None
    assert clock.now() == 1060.0


def test_fake_clock_keeps_an_item_scheduled_after_the_deadline() -> None:
    clock = FakeClock()
    clock.schedule(1090.0, "late")
    assert clock.next_input(inbox(), deadline=1060.0) is None
    assert clock.now() == 1060.0
    assert clock.next_input(inbox(), deadline=None) == "late"
    assert clock.now() == 1090.0


def test_fake_clock_item_scheduled_exactly_at_the_deadline_is_delivered() -> None:
    clock = FakeClock()
    clock.schedule(1060.0, "on time")
    assert clock.next_input(inbox(), deadline=1060.0) == "on time"
    assert clock.now() == 1060.0


def test_fake_clock_schedule_order_is_by_time_then_insertion() -> None:
    clock = FakeClock()
    clock.schedule(1020.0, "c")
    clock.schedule(1010.0, "a")
    clock.schedule(1010.0, "b")
    got = [(clock.next_input(inbox(), None), clock.now()) for _ in range(3)]
    assert got == [("a", 1010.0), ("b", 1010.0), ("c", 1020.0)]


def test_fake_clock_inbox_comes_before_the_schedule() -> None:
    clock = FakeClock()
    clock.schedule(1001.0, "scheduled")
    assert clock.next_input(inbox("queued"), deadline=None) == "queued"
    assert clock.now() == 1000.0


def test_fake_clock_item_scheduled_in_the_past_does_not_move_time_back() -> None:
    clock = FakeClock()
    clock.advance(50.0)
    clock.schedule(1010.0, "overdue")
    assert clock.next_input(inbox(), deadline=None) == "overdue"
    assert clock.now() == 1050.0


def test_fake_clock_sleep_advances_and_reports_stop() -> None:
    clock = FakeClock()
    assert clock.sleep(1.5) is False
    assert clock.now() == 1001.5
    stop = threading.Event()
    assert clock.sleep(1.0, stop) is False
    stop.set()
    assert clock.sleep(2.0, stop) is True
    assert clock.now() == 1004.5
    assert clock.sleep(-3.0) is False  # negative sleeps are no sleep
    assert clock.now() == 1004.5


def test_iso_is_utc_with_microseconds_and_z() -> None:
    assert iso(WALL0) == "2026-01-01T09:00:00.000000Z"
    assert iso(WALL0 + timedelta(microseconds=250)) == "2026-01-01T09:00:00.000250Z"
    plus2 = timezone(timedelta(hours=2))
    assert iso(datetime(2026, 1, 1, 11, 0, 0, tzinfo=plus2)) == "2026-01-01T09:00:00.000000Z"


# --- PausableClock -----------------------------------------------------------------------


def pausable() -> tuple[FakeClock, PausableClock]:
    inner = FakeClock()
    return inner, PausableClock(inner)


def test_unpaused_clock_follows_the_inner_clock() -> None:
    inner, clock = pausable()
    assert clock.paused is False
    assert clock.now() == 1000.0
    inner.advance(12.5)
    assert clock.now() == 1012.5


def test_paused_time_stands_still() -> None:
    inner, clock = pausable()
    inner.advance(10.0)
    assert clock.pause() is True
    assert clock.paused is True
    inner.advance(30.0)
    assert clock.now() == 1010.0
    inner.advance(600.0)
    assert clock.now() == 1010.0


def test_resume_continues_from_where_it_stopped() -> None:
    inner, clock = pausable()
    inner.advance(10.0)
    clock.pause()
    inner.advance(30.0)
    assert clock.resume() is True
    assert clock.paused is False
    assert clock.now() == 1010.0  # no jump over the pause
    inner.advance(5.0)
    assert clock.now() == 1015.0
    assert inner.now() == 1045.0


def test_pauses_add_up() -> None:
    inner, clock = pausable()
    for _ in range(3):
        inner.advance(10.0)
        clock.pause()
        inner.advance(20.0)
        clock.resume()
    assert inner.now() == 1090.0
    assert clock.now() == 1030.0  # 3 x 10 s of drill, 3 x 20 s paused


def test_double_pause_and_resume_when_not_paused_return_false() -> None:
    inner, clock = pausable()
    assert clock.resume() is False  # not paused
    assert clock.pause() is True
    inner.advance(7.0)
    assert clock.pause() is False  # already paused: the first pause's instant stands
    inner.advance(3.0)
    assert clock.now() == 1000.0
    assert clock.resume() is True
    assert clock.resume() is False
    assert clock.now() == 1000.0  # the 10 s paused count once
    inner.advance(1.0)
    assert clock.now() == 1001.0


def test_wall_agrees_with_now_until_a_pause_and_keeps_running_through_it() -> None:
    inner, clock = pausable()
    inner.advance(4.0)
    assert clock.wall() == inner.wall() == WALL0 + timedelta(seconds=clock.now() - 1000.0)
    clock.pause()
    inner.advance(30.0)
    # wall time is real time (the journal's wall stamps): it does not pause
    assert clock.wall() == WALL0 + timedelta(seconds=34)
    assert clock.now() == 1004.0
    clock.resume()
    inner.advance(1.0)
    # after the pause, wall is ahead of drill time by exactly the time spent paused
    assert clock.wall() - (WALL0 + timedelta(seconds=clock.now() - 1000.0)) == timedelta(seconds=30)


def test_deadline_is_in_drill_time_after_a_pause() -> None:
    inner, clock = pausable()
    clock.pause()
    inner.advance(30.0)
    clock.resume()
    assert clock.now() == 1000.0
    assert clock.next_input(inbox(), deadline=1010.0) is None
    assert clock.now() == 1010.0  # exactly the drill deadline
    assert inner.now() == 1040.0  # the inner clock: 30 s later


def test_unpaused_next_input_returns_a_queued_item_at_once() -> None:
    _, clock = pausable()
    assert clock.next_input(inbox("ack"), deadline=1060.0) == "ack"
    assert clock.now() == 1000.0


def test_unpaused_next_input_delivers_a_scheduled_item_before_the_deadline() -> None:
    inner, clock = pausable()
    clock.pause()
    inner.advance(100.0)
    clock.resume()  # drill 1000 == inner 1100
    inner.schedule(1105.0, "note")
    assert clock.next_input(inbox(), deadline=1010.0) == "note"
    assert clock.now() == 1005.0
    inner.schedule(1120.0, "after the deadline")  # drill 1020
    assert clock.next_input(inbox(), deadline=1010.0) is None
    assert clock.now() == 1010.0


def test_a_deadline_already_passed_returns_at_once() -> None:
    inner, clock = pausable()
    inner.advance(20.0)
    assert clock.next_input(inbox(), deadline=1005.0) is None
    assert clock.now() == 1020.0


def test_unpaused_wait_without_deadline_is_the_inner_clocks_wait() -> None:
    inner, clock = pausable()
    inner.schedule(1003.0, "x")
    assert clock.next_input(inbox(), deadline=None) == "x"
    assert clock.now() == 1003.0
    with pytest.raises(RuntimeError, match="waiting forever"):
        clock.next_input(inbox(), deadline=None)


def test_while_paused_no_deadline_falls_due() -> None:
    inner, clock = pausable()
    clock.pause()
    # the drill deadline is 5 s away, but paused: the wait returns without moving time
    assert clock.next_input(inbox(), deadline=1005.0) is None
    assert clock.now() == 1000.0
    assert inner.now() == 1000.0
    # a deadline long past would be due at once if running; paused, still nothing moves
    assert clock.next_input(inbox(), deadline=900.0) is None
    assert inner.now() == 1000.0
    # no RuntimeError for "waiting forever" either: paused waits are bounded by now
    assert clock.next_input(inbox(), deadline=None) is None


def test_while_paused_inputs_still_arrive() -> None:
    inner, clock = pausable()
    clock.pause()
    assert clock.next_input(inbox("resume please"), deadline=1005.0) == "resume please"
    inner.schedule(1000.0, "due now")
    inner.schedule(1050.0, "later")
    assert clock.next_input(inbox(), deadline=None) == "due now"
    # an input scheduled in the future is not pulled forward while paused
    assert clock.next_input(inbox(), deadline=None) is None
    assert inner.now() == 1000.0
    clock.resume()
    assert clock.next_input(inbox(), deadline=None) == "later"
    assert clock.now() == 1050.0


def test_sleep_while_paused_moves_only_the_inner_clock() -> None:
    inner, clock = pausable()
    clock.pause()
    assert clock.sleep(8.0) is False
    assert inner.now() == 1008.0
    assert clock.now() == 1000.0
    stop = threading.Event()
    stop.set()
    assert clock.sleep(1.0, stop) is True
