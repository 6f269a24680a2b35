"""Detection anatomy (issue 16): the alert's own times journaled in UTC without losing a digit, and MTTD split
into condition, notification and human lag, each traced to events, unknown with the reason."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gameday.adapters.alerts import PayloadError, parse_alertmanager
from gameday.adapters.formats import parse_generic, parse_pagerduty
from gameday.analysis.anatomy import dominant_sentence
from gameday.analysis.postmortem import render_postmortem
from gameday.analysis.render import render_scorecard
from gameday.analysis.scorecard import score_journal
from gameday.journal import read_journal
from gameday.model.alerts import match_delivery
from gameday.model.instants import epoch_ns, utc_instant
from gameday.model.scenario import Signal
from gameday.model.scorecard import DetectionLag, DetectionResult

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "journals"


# ------------------------------------------------------------------------------ instants
@pytest.mark.parametrize("sent, utc", [
    ("2026-01-01T10:00:00.123456789+01:00", "2026-01-01T09:00:00.123456789Z"),
    ("2026-01-01T00:30:00-05:30", "2026-01-01T06:00:00Z"),
    ("2025-12-31T23:59:59.5-01:00", "2026-01-01T00:59:59.5Z"),
    ("2026-03-01T00:00:00.000000001+00:00", "2026-03-01T00:00:00.000000001Z"),
    ("2026-01-01t09:00:00z", "2026-01-01T09:00:00Z"),
])
def test_times_are_normalised_to_utc_with_every_fraction_digit(sent, utc):
    assert utc_instant(sent) == utc
    assert epoch_ns(sent) == epoch_ns(utc)


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00Z", "", "yesterday", "2026-13-01T00:00:00Z",
                                   "2026-01-01T09:00:00", "2026-01-01T09:00:00.1234567890Z", 1767258000, None])
def test_zero_time_and_anything_not_rfc3339_is_no_time(value):
    assert utc_instant(value) is None and epoch_ns(value) is None


@given(st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1)),
       st.integers(-14 * 60, 14 * 60), st.integers(0, 999))
def test_nanoseconds_agree_with_datetime_whatever_the_offset(when, offset_min, extra_ns):
    tz = timedelta(minutes=offset_min)
    local = when.replace(tzinfo=UTC) + tz
    sign, off = ("+" if offset_min >= 0 else "-"), abs(offset_min)
    text = local.strftime("%Y-%m-%dT%H:%M:%S") + f".{when.microsecond:06d}{extra_ns:03d}{sign}{off // 60:02d}:{off % 60:02d}"
    expected = (when.replace(tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1) * 1000 + extra_ns
    assert epoch_ns(text) == expected
    assert epoch_ns(utc_instant(text)) == expected


# ------------------------------------------------------------------------------ parsing
def test_alertmanager_times_identity_and_source_are_kept():
    [alert] = parse_alertmanager({"alerts": [{
        "status": "firing", "labels": {"alertname": "CheckoutDown"}, "startsAt": "2026-12-06T23:03:21.123456789+01:00",
        "endsAt": "0001-01-01T00:00:00Z", "fingerprint": "a1b2", "generatorURL": "http://prom:9090/graph?g0.expr=up"}]})
    assert (alert.starts_at, alert.ends_at) == ("2026-12-06T22:03:21.123456789Z", None)
    assert (alert.fingerprint, alert.source_url) == ("a1b2", "http://prom:9090/graph?g0.expr=up")
    received, _ = match_delivery([Signal.model_validate({"alert": {"alertname": "CheckoutDown"}})], "alertmanager",
                                 None, [alert])
    row = received.alerts[0]
    assert (row.starts_at, row.ends_at, row.fingerprint, row.source_url) == (
        "2026-12-06T22:03:21.123456789Z", None, "a1b2", "http://prom:9090/graph?g0.expr=up")


def test_a_resolved_alertmanager_alert_has_its_end_and_a_bad_time_loses_only_itself():
    [ok, odd] = parse_alertmanager({"alerts": [
        {"status": "resolved", "labels": {"alertname": "A"}, "startsAt": "2026-01-01T09:00:00Z",
         "endsAt": "2026-01-01T09:05:00.5Z"},
        {"status": "firing", "labels": {"alertname": "B"}, "startsAt": "soon"}]})
    assert ok.ends_at == "2026-01-01T09:05:00.5Z"
    assert odd.starts_at is None and odd.labels["alertname"] == "B"  # the alert still counts


def test_generic_times_in_any_offset_and_a_bad_one_is_refused_naming_the_field():
    [alert] = parse_generic({"name": "X", "starts_at": "2026-01-01T10:00:00+01:00", "ends_at": "2026-01-01T09:01:00Z",
                             "source_url": "https://mon.example/x"})
    assert (alert.starts_at, alert.ends_at, alert.source_url) == ("2026-01-01T09:00:00Z", "2026-01-01T09:01:00Z",
                                                                  "https://mon.example/x")
    with pytest.raises(PayloadError, match=r"^alerts\[1\]\.starts_at: expected an RFC 3339 time"):
        parse_generic({"alerts": [{"name": "X"}, {"name": "Y", "starts_at": "tomorrow"}]})


def test_pagerduty_incident_start_end_and_link():
    body = {"event": {"event_type": "incident.resolved", "occurred_at": "2026-01-01T09:10:00.000Z",
                      "agent": {"type": "service_reference", "summary": "Checkout API"},
                      "data": {"type": "incident", "id": "Q1", "title": "Checkout errors",
                               "created_at": "2026-01-01T10:00:00+01:00", "html_url": "https://x.pagerduty.com/incidents/Q1"}}}
    [alert] = parse_pagerduty(body)
    assert (alert.starts_at, alert.ends_at, alert.source_url) == (
        "2026-01-01T09:00:00Z", "2026-01-01T09:10:00.000Z", "https://x.pagerduty.com/incidents/Q1")
    assert alert.actor is None and alert.action == "resolved"


# ------------------------------------------------------------------------------ the three lag shapes
def card(name: str):
    return score_journal(read_journal(GOLDEN / f"{name}.jsonl"))


@pytest.mark.parametrize("name", ["lags", "lags-no-start", "lags-no-person"])
def test_lag_golden_journals_score_to_their_scorecards(name):
    assert render_scorecard(card(name), "json") == (GOLDEN / f"{name}.scorecard.json").read_text(encoding="utf-8")


def test_all_three_known_add_up_to_mttd_and_trace_to_events():
    c = card("lags")
    d, times = c.detection, {m.name: m for m in c.times}
    assert (d.condition_lag.seconds, d.notification_lag.seconds, d.human_lag.seconds) == (3.0, 2.0, 2.0)
    assert d.condition_lag.seconds + d.notification_lag.seconds == times["MTTD"].seconds
    assert d.condition_lag.from_seq == times["MTTD"].from_seq  # the injection
    assert d.condition_lag.to_seq == d.notification_lag.from_seq == d.notification_lag.to_seq == d.human_lag.from_seq
    assert d.human_lag.to_seq == times["MTTA"].to_seq
    assert d.alert_starts_at == "2026-01-01T09:00:07.000000001Z"  # sent as 10:00:07.000000001+01:00


def test_condition_unknown_when_the_alert_started_before_the_injection():
    """Its notification lag would count time from before the fault: unknown too, and no claim is made."""
    c = card("lags-no-start")
    d = c.detection
    assert d.condition_lag.seconds is None and "before the first injection" in d.condition_lag.unknown
    assert d.notification_lag.seconds is None and d.notification_lag.unknown == d.condition_lag.unknown
    assert d.human_lag.seconds == 2.0
    assert dominant_sentence(d) is None
    post = render_postmortem(read_journal(GOLDEN / "lags-no-start.jsonl"), c, "md")
    assert "the longest part" not in post


def _maker():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_journals", GOLDEN.parent / "make_journals.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MAKER = _maker()


@settings(max_examples=40, deadline=None)
@given(st.integers(4_001, 30_000), st.integers(0, 3_000_000))
def test_condition_plus_notification_is_mttd_to_the_millisecond(tmp_path_factory, arrival_ms, before_us):
    """Whatever the instants (microseconds apart, rounded separately), the two parts add up to MTTD exactly."""
    arrival = arrival_ms / 1000 + 0.0005  # half a millisecond: where rounding each part apart would go wrong
    start = max(4.0, arrival - before_us / 1e6)
    path = tmp_path_factory.mktemp("j") / "j.jsonl"
    d = MAKER.Drill(path, "prop")
    d.prologue(MAKER.ROLES)
    wall = datetime(2026, 1, 1, 9, 0, tzinfo=UTC) + timedelta(seconds=start)
    seq = d.alert(arrival, "CheckoutErrorsHigh", "checkout errors", wall.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    d.detect(arrival, "checkout errors", "CheckoutErrorsHigh", seq)
    d.epilogue(arrival + 1)
    c = score_journal(read_journal(path))
    mttd = next(m for m in c.times if m.name == "MTTD").seconds
    cond, note = c.detection.condition_lag.seconds, c.detection.notification_lag.seconds
    assert cond is not None and note is not None
    assert round(cond + note, 3) == mttd and cond >= 0 and note >= 0


def test_a_pause_between_the_injection_and_the_alert_leaves_both_parts_unknown(tmp_path):
    from gameday.model.events import ClockPaused, ClockResumed

    d = MAKER.Drill(tmp_path / "j.jsonl", "paused")
    d.prologue(MAKER.ROLES)
    d.at(5.0, ClockPaused(by="dana"), "dana")
    d.at(6.0, ClockResumed(by="dana"), "dana")
    seq = d.alert(9.0, "CheckoutErrorsHigh", "checkout errors", "2026-01-01T09:00:07Z")
    d.detect(9.0, "checkout errors", "CheckoutErrorsHigh", seq)
    d.epilogue(10.0)
    det = score_journal(read_journal(tmp_path / "j.jsonl")).detection
    assert det.condition_lag.seconds is None and "paused" in det.condition_lag.unknown
    assert det.notification_lag.seconds is None


def test_an_older_journal_with_the_start_only_in_its_payload_says_so(tmp_path):
    lines = (GOLDEN / "lags.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    older = []
    for line in lines:
        obj = json.loads(line)
        if obj["kind"] == "AlertReceived":
            for row in obj["data"]["alerts"]:
                for key in ("starts_at", "ends_at", "fingerprint", "source_url"):
                    row.pop(key)
            line = json.dumps(obj, separators=(",", ":")) + "\n"
        older.append(line)
    (tmp_path / "older.jsonl").write_text("".join(older), encoding="utf-8")
    det = score_journal(read_journal(tmp_path / "older.jsonl")).detection
    assert "did not keep alerts' own times" in det.condition_lag.unknown


def test_human_unknown_when_only_a_vendor_acknowledged():
    c = card("lags-no-person")
    d = c.detection
    assert (d.condition_lag.seconds, d.notification_lag.seconds) == (2.25, 2.75)  # sent at -05:00
    assert d.human_lag.seconds is None and d.human_lag.unknown == "no person acknowledged"
    assert next(m for m in c.times if m.name == "MTTA").seconds is None


def test_without_a_start_time_or_an_alert_the_parts_say_why():
    clean, silent = card("clean").detection, card("silent").detection
    assert clean.condition_lag.unknown == clean.notification_lag.unknown == \
        "the detecting alert carried no start time (startsAt)"
    assert clean.human_lag.seconds == 2.0
    assert silent.condition_lag.unknown == silent.human_lag.unknown == "no alert detected the fault"


def lag(seconds, why=None):
    return DetectionLag(seconds=seconds, definition="d", unknown=why)


def test_the_postmortem_sentence_names_the_longest_part_and_needs_the_split():
    base = {"verdict": "on_time", "deadline_t": 10.0, "detected_t": 5.0}
    d = DetectionResult(**base, condition_lag=lag(1.0), notification_lag=lag(4.0), human_lag=lag(None, "no person"))
    sentence = dominant_sentence(d)
    assert sentence.startswith("Of the time from the fault to a person on it (condition lag 1.0s, notification lag "
                               "4.0s, human lag unknown), the longest part was the notification reaching gameday")
    assert "group_wait" in sentence
    one = DetectionResult(**base, condition_lag=lag(None, "x"), notification_lag=lag(None, "x"), human_lag=lag(9.0))
    assert dominant_sentence(one) is None  # nothing to compare: no claim
    no_split = DetectionResult(**base, condition_lag=lag(None, "x"), notification_lag=lag(3.0), human_lag=lag(9.0))
    assert dominant_sentence(no_split) is None  # MTTD's split is not known: no claim about where the time went


def test_reports_show_the_anatomy():
    c, journal = card("lags"), read_journal(GOLDEN / "lags.jsonl")
    md = render_scorecard(c, "md")
    assert "| condition lag | 3.0s (3m00s on the incident clock) | #8 → #11 |" in md  # the golden drill is time-scaled
    html = render_scorecard(c, "html")
    assert "<td>notification lag</td><td>2.0s (2m00s on the incident clock)</td>" in html
    post = render_postmortem(journal, c, "md")
    assert "### Where the detection time went" in post
    assert "the longest part was the monitoring noticing the condition" in post


@pytest.mark.parametrize("text", ["２０２６-01-01T00:00:00Z", "2026-01-01T00:00:00.١٢٣Z", "2026-01-01T00:00:00+99:99",
                                  "2026-01-01T00:00:00+00:60", "0002-01-01T00:30:00+14:00"])
def test_no_unicode_digits_impossible_offsets_or_years_before_1000(text):
    assert utc_instant(text) is None and epoch_ns(text) is None


def test_generic_zero_time_is_no_time_and_both_spellings_are_refused():
    [alert] = parse_generic({"name": "X", "starts_at": "2026-01-01T09:00:00Z", "ends_at": "0001-01-01T00:00:00Z"})
    assert alert.ends_at is None
    with pytest.raises(PayloadError, match=r"^body: give 'starts_at' or 'startsAt', not both$"):
        parse_generic({"name": "X", "starts_at": None, "startsAt": "zz"})


def test_opsgenie_details_named_like_its_namespaced_labels_all_survive():
    from gameday.adapters.formats import parse_opsgenie

    [alert] = parse_opsgenie({"action": "Create", "alert": {"message": "m", "source": "own",
                                                            "details": {"source": "d-src", "detail_source": "clash"}}})
    assert (alert.labels["source"], alert.labels["detail_source"], alert.labels["detail_detail_source"]) == (
        "own", "d-src", "clash")
