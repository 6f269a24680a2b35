"""Durations: '90s', '2m', '1h30m', '250ms'; bare numbers refused; canonical text round-trips."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gameday.model.duration import format_duration, human, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90.0), ("2m", 120.0), ("1h30m", 5400.0), ("250ms", 0.25), ("1.5s", 1.5), ("0s", 0.0),
     ("1h2m3s4ms", 3723.004), (" 2m 30s ", 150.0)],
)
def test_parse(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bare", [90, 1.5, 0, True])
def test_bare_numbers_are_refused(bare: object) -> None:
    with pytest.raises(ValueError, match="bare number"):
        parse_duration(bare)


@pytest.mark.parametrize("text", ["", "soon", "90", "s", "1x", "30s2m", "1m1m", "1h-5m", "5s trailing", "1e3s"])
def test_malformed_text_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="duration|units"):
        parse_duration(text)


@pytest.mark.parametrize("value", [None, [], {}, b"90s"])
def test_non_text_is_refused(value: object) -> None:
    with pytest.raises(ValueError, match="expected a duration"):
        parse_duration(value)


@pytest.mark.parametrize(("seconds", "text"), [(0, "0s"), (0.25, "250ms"), (90, "1m30s"), (5400, "1h30m"), (3723.004, "1h2m3s4ms")])
def test_format(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=10**10))
def test_round_trip_for_millisecond_multiples(ms: int) -> None:
    seconds = ms / 1000
    assert parse_duration(format_duration(seconds)) == seconds


def test_round_trip_small_millisecond_values_exhaustively() -> None:
    bad = [ms for ms in range(0, 20_000) if parse_duration(format_duration(ms / 1000)) != ms / 1000]
    assert bad == []


@pytest.mark.parametrize(("seconds", "text"), [(None, "—"), (5, "5.0s"), (65, "1m05s"), (3725, "1h02m")])
def test_human(seconds: float | None, text: str) -> None:
    assert human(seconds) == text


def test_durations_beyond_float_milliseconds_are_refused() -> None:
    # 1e308 seconds is a finite float, but not as milliseconds: format_duration would overflow.
    with pytest.raises(ValueError, match="out of range"):
        parse_duration("9" * 308 + "s")
