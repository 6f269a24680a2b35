"""One clock in time-scaled drills (issue 16): a scenario's ``policy.scale`` declares that 1 s of the drill
stands for 1/scale s of an incident. Revenue is priced on that incident clock, measures and impact minutes
carry it beside the drill's, reports show both, charts get a second axis — and a drill with scale 1 is
unchanged. Journals go through the real scoring path (``write_journal`` → ``score_journal`` → renderers)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gameday.analysis.charts import chart_figures
from gameday.analysis.clocks import incident_scale, on_incident_clock, to_incident
from gameday.analysis.impact import impact_text, measure_impact
from gameday.analysis.postmortem import render_postmortem
from gameday.analysis.render import render_scorecard
from gameday.analysis.scorecard import score_journal
from gameday.analysis.timeline_chart import timeline_figure
from gameday.comms.facts import comms_facts
from gameday.fakes import write_journal
from gameday.journal import Journal, read_journal
from gameday.model.events import (
    ActionRecorded,
    DetectionRecorded,
    DrillEnded,
    DrillStarted,
    FaultInjected,
    Figures,
    LoadStarted,
    LoadStats,
    LoadStopped,
    Payload,
    RecoveryObserved,
)
from gameday.model.load import Business
from gameday.model.policy import DEFAULT_POLICY
from gameday.model.scenario import Scenario

IC = "incident-commander"
SCALE = 1 / 60  # 1 s of drill stands for a minute of incident
BUSINESS = {"revenue_per_minute": 10000, "currency": "USD", "customer_facing": ["checkout"]}
#: Keys a scaled drill adds to the scorecard JSON, which an unscaled one never carries.
SCALED_KEYS = ("incident_seconds", "lost_drill_clock", "degraded_minutes_incident_clock", '"scale"', '"clocks"')


def scenario(scale: float, business: dict[str, Any] | None = None) -> Scenario:
    return Scenario.model_validate({
        "apiVersion": "gameday/v1", "id": "db-load", "title": "Primary database fails under load", "severity": "SEV1",
        "target": {"url": "http://127.0.0.1:9"},
        "steady_state": [{"name": "checkout health", "http": {"url": "{target.url}/health"}}],
        "faults": [{"id": "kill-db", "at": "5s", "activities": [
            {"type": "action", "name": "noop", "provider": {"type": "process", "path": "true"}}],
            "rollbacks": [{"type": "action", "name": "noop", "provider": {"type": "process", "path": "true"}}]}],
        "detection": {"within": "30s", "signals": [{"name": "errors", "alert": {"alertname": "CheckoutErrorsHigh"}}]},
        "recovery": {"within": "1m"}, "abort": {"max_duration": "5m"}, "timing": {"baseline": "5s"},
        "response": [{"id": "ack", "action": "acknowledge", "role": IC, "after": "detection", "within": "2s"}],
        "load": {"locustfile": "demo", "users": 10}, "business": business or BUSINESS,
        "policy": {"scale": scale},
    })  # fmt: skip


def stats(t_from: float, t_to: float, **names: tuple[int, int]) -> LoadStats:
    """A LoadStats payload of 10 steady users: names map to (requests, failures)."""
    figures = {n: Figures(requests=r, failures=f, hist={"4": r}) for n, (r, f) in names.items()}
    total = Figures(requests=sum(r for r, _ in names.values()), failures=sum(f for _, f in names.values()))
    return LoadStats(t_from=t_from, t_to=t_to, users_from=10, users=10, names=figures, total=total)


def load_started(business: dict[str, Any]) -> LoadStarted:
    return LoadStarted(tool="locust", users=10, spawn_rate=10, workers=0, host="http://127.0.0.1:9", locustfile="demo",
                       business=Business.model_validate(business))


def drill(folder: Path, scale: float, business: dict[str, Any] | None = None) -> Journal:
    """A drill whose checkouts all fail for 2 s: baseline [2,5] at 5 checkouts/s; injection at 5.0, recovery at 7.0
    → impact window [5,7], no checkout answered (a shortfall of 10, the whole window degraded)."""
    business = business or BUSINESS
    script: list[tuple[float, Payload]] = [
        (0.5, load_started(business)),
        (3.0, stats(2, 3, browse=(20, 0), checkout=(5, 0))),
        (4.0, stats(3, 4, browse=(20, 0), checkout=(5, 0))),
        (5.0, stats(4, 5, browse=(20, 0), checkout=(5, 0))),
        (5.0, FaultInjected(fault="kill-db", kind="activities")),
        (5.5, DetectionRecorded(via="alert", signal="errors", alertname="CheckoutErrorsHigh")),
        (6.0, stats(5, 6, browse=(20, 0), checkout=(5, 5))),
        (6.5, ActionRecorded(action="acknowledge", author="alice", role=IC)),
        (7.0, stats(6, 7, browse=(20, 0), checkout=(5, 5))),
        (7.0, RecoveryObserved(checks=["checkout health"])),
        (8.0, stats(7, 8, browse=(20, 0), checkout=(5, 0))),
        (8.1, LoadStopped(reason="rollback", totals={})),
        (8.5, ActionRecorded(action="resolved", author="alice", role=IC)),
        (9.0, DrillEnded(outcome="completed", reason=None)),
    ]
    started = DrillStarted(drill_id=f"db-load-{scale:g}", mode="ci", scenario=scenario(scale, business),
                           policy=DEFAULT_POLICY.scaled(scale))
    return write_journal(folder / f"journal-{scale:g}.jsonl", started,
                         [(t, p, "load" if isinstance(p, (LoadStarted, LoadStats, LoadStopped)) else "conductor")
                          for t, p in script])


@pytest.fixture
def scaled(tmp_path: Path) -> Journal:
    return drill(tmp_path, SCALE)


@pytest.fixture
def unscaled(tmp_path: Path) -> Journal:
    return drill(tmp_path, 1.0)


# ---------------------------------------------------------------------------------------------- revenue


def test_revenue_is_priced_on_the_incident_clock_with_the_drills_figure_beside_it(scaled: Journal) -> None:
    r = measure_impact(scaled).revenue
    # value = 10000 ÷ 60 ÷ 5 checkouts/s = 33.33 a checkout; shortfall 10 → 333.33 over the drill's 2 s,
    # which stand for 2 minutes of incident: 2 × 10000
    assert r.lost_drill_clock == pytest.approx(333.33) and r.lost == pytest.approx(20000.0)
    assert r.per_minute == pytest.approx(10000.0)  # the same on both clocks
    assert r.scale == SCALE and r.shortfall == 10.0
    assert "on the incident clock" in r.formula and "lost = the drill's loss ÷ scale" in r.formula
    assert "lost on the drill's clock = 33.3333 × 10.00 = 333.33 USD" in r.computation
    assert "lost on the incident clock = 333.33 ÷ 0.0166667 = 20000.00 USD" in r.computation


def test_value_per_request_is_stretched_to_the_incident_too(tmp_path: Path) -> None:
    business = {"value_per_request": 12.5, "currency": "EUR", "customer_facing": ["checkout"]}
    r = measure_impact(drill(tmp_path, SCALE, business)).revenue
    assert (r.basis, r.lost_drill_clock, r.lost) == ("value_per_request", 125.0, 7500.0)


def test_unscaled_revenue_has_one_clock(unscaled: Journal) -> None:
    r = measure_impact(unscaled).revenue
    assert (r.lost, r.lost_drill_clock, r.scale) == (pytest.approx(333.33), None, None)
    assert "incident" not in r.formula + r.computation


def test_impact_minutes_on_both_clocks(scaled: Journal, unscaled: Journal) -> None:
    impact = measure_impact(scaled)
    assert impact.degraded_minutes == round(2 / 60, 3) and impact.degraded_minutes_incident_clock == 2.0
    assert measure_impact(unscaled).degraded_minutes_incident_clock is None
    text = impact_text(impact)
    assert "customer-facing minutes degraded: 0.033 (2 on the incident clock)" in text["customers"]
    assert text["revenue"] == ("Estimated revenue lost: $20,000.00 on the incident clock ($333.33 over the drill's 2s) — "
                               "$10,000.00 per minute over 2m00s of the impact window on the incident clock.")


def test_a_stakeholder_update_quotes_the_scorecards_incident_clock_figure(scaled: Journal, unscaled: Journal) -> None:
    facts = comms_facts(scaled.events)
    assert facts.revenue_lost == measure_impact(scaled).revenue.lost == pytest.approx(20000.0)
    assert comms_facts(unscaled.events).revenue_lost == pytest.approx(333.33)


def test_the_live_estimate_before_the_analysis_can_tell_is_on_the_incident_clock_too(scaled: Journal) -> None:
    from gameday.comms.loadfacts import load_facts

    no_baseline = [e for e in scaled.events if not (isinstance(e.data, LoadStats) and e.data.t_to <= 5.0)]
    facts = load_facts(no_baseline, Business.model_validate(BUSINESS), 5.5, 7.0)
    # no baseline, so no scorecard figure: the failure-rate estimate, 10000 a minute × 100 % over the intervals
    # [5,6] and [6,7] that end after the incident began (2 s of drill, 2 minutes of incident)
    assert facts.money_lost_drill_clock == pytest.approx(333.33) and facts.money_lost == pytest.approx(20000.0)
    assert facts.scale == SCALE


# ---------------------------------------------------------------------------------------------- measures


def test_measures_carry_incident_seconds_only_when_scaled(scaled: Journal, unscaled: Journal) -> None:
    card = score_journal(scaled)
    times = {m.name: m for m in card.times}
    assert (times["MTTD"].seconds, times["MTTD"].incident_seconds) == (0.5, 30.0)
    assert (times["time_to_recovery"].seconds, times["time_to_recovery"].incident_seconds) == (2.0, 120.0)
    assert all(m.incident_seconds == to_incident(m.seconds, SCALE) for m in card.times)
    assert card.scale == SCALE and card.clocks is not None and "1 s of this drill stands for 1m00s" in card.clocks
    plain = score_journal(unscaled)
    assert all(m.incident_seconds is None for m in plain.times) and plain.scale is None and plain.clocks is None


def test_unscaled_scorecard_json_has_no_second_clock(unscaled: Journal) -> None:
    text = render_scorecard(score_journal(unscaled), "json")
    assert not [k for k in SCALED_KEYS if k in text]
    assert "incident clock" not in render_scorecard(score_journal(unscaled), "md")


def test_scaled_scorecard_json_says_which_clock(scaled: Journal) -> None:
    data = json.loads(render_scorecard(score_journal(scaled), "json"))
    assert data["scale"] == SCALE and "incident clock" in data["clocks"]
    assert data["impact"]["revenue"]["lost"] == 20000.0 and data["impact"]["revenue"]["lost_drill_clock"] == 333.33
    assert data["times"][0]["incident_seconds"] == 30.0
    assert "(30m00s on the incident clock)" in data["policy_rules"][2]  # updates every 30 s of drill


def test_rescoring_gives_the_same_bytes(scaled: Journal) -> None:
    again = read_journal(scaled.path)
    for fmt in ("json", "md", "html"):
        assert render_scorecard(score_journal(scaled), fmt) == render_scorecard(score_journal(again), fmt)  # type: ignore[arg-type]
    for pm in ("md", "html"):
        assert render_postmortem(scaled, score_journal(scaled), pm) == render_postmortem(again, score_journal(again), pm)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------- reports


def test_scorecard_markdown_shows_both_clocks(scaled: Journal) -> None:
    md = render_scorecard(score_journal(scaled), "md")
    assert "| measure | drill clock | incident clock | events | definition |" in md
    assert "| MTTD | 0.5s | 30.0s |" in md
    assert "| time_to_recovery | 2.0s | 2m00s |" in md
    assert "deadline (incident clock)" in md and "+7.5s (+7m30s)" in md  # ack: detection +5.5 + 2 s
    assert "deadline +65.0s" not in md and "deadline +1m05s (+1h05m on the incident clock)" in md  # recovery
    assert "Estimated revenue lost: $20,000.00 on the incident clock ($333.33 over the drill's 2s)" in md
    assert "lost on the incident clock = 333.33" in md


def test_scorecard_html_shows_both_clocks(scaled: Journal) -> None:
    page = render_scorecard(score_journal(scaled), "html")
    assert "<th>drill clock</th><th>incident clock</th>" in page
    assert "<td>MTTD</td><td>0.5s</td><td>30.0s</td>" in page
    assert "<th>deadline (incident clock)</th>" in page and "+7.5s (+7m30s)" in page
    assert "required every 30.1s (30m00s on the incident clock)" not in page  # SEV1 at 1/60: 30 s exactly
    assert "required every 30.0s (30m00s on the incident clock)" in page


def test_postmortem_shows_both_clocks(scaled: Journal, unscaled: Journal) -> None:
    card = score_journal(scaled)
    for fmt in ("md", "html"):
        text = render_postmortem(scaled, card, fmt)  # type: ignore[arg-type]
        assert "1 s of this drill stands for 1m00s of an incident" in text
        assert "Estimated revenue lost: $20,000.00 on the incident clock ($333.33 over the drill&#39;s 2s)" in text \
            or "Estimated revenue lost: $20,000.00 on the incident clock ($333.33 over the drill's 2s)" in text
        assert "Time to recovery: 2.0s (2m00s on the incident clock)" in text
        assert "0.5s (30.0s on the incident clock)" in text  # MTTD in the scorecard section
        assert "by +7.5s (2.0s after detection; by +7m30s, 2m00s after it, on the incident clock)" in text
    for fmt in ("md", "html"):
        assert "incident clock" not in render_postmortem(unscaled, score_journal(unscaled), fmt)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------- charts


def _secondary(fig: Any) -> list[Any]:
    from matplotlib.axes._secondary_axes import SecondaryAxis

    return [a for ax in fig.axes for a in ax.child_axes if isinstance(a, SecondaryAxis)]


def test_load_charts_have_an_incident_axis_only_when_scaled(scaled: Journal, unscaled: Journal) -> None:
    figures = chart_figures(scaled)
    assert len(figures) == 3
    for _, _, fig in figures:
        [sec] = _secondary(fig)
        assert "minutes on the incident clock" in sec.get_xlabel()
        assert sec._functions[0](120.0) == pytest.approx(120.0)  # 120 s of drill = 120 minutes of incident
    assert all(not _secondary(fig) for _, _, fig in chart_figures(unscaled))


def test_timeline_chart_has_an_incident_axis_only_when_scaled(scaled: Journal, unscaled: Journal) -> None:
    fig = timeline_figure(scaled, score_journal(scaled))
    [sec] = _secondary(fig)
    assert sec.get_xlabel().startswith("incident clock (")
    assert sec._functions[0](9.0) == pytest.approx(540.0)
    labels = [t.get_text() for t in sec.get_xticklabels()]
    assert "05:00" in labels  # ticks at round minutes of the incident clock
    assert not _secondary(timeline_figure(unscaled, score_journal(unscaled)))


# ---------------------------------------------------------------------------------------------- helpers


def test_clock_helpers(scaled: Journal, unscaled: Journal) -> None:
    assert incident_scale(scaled.events) == SCALE and incident_scale(unscaled.events) is None
    assert on_incident_clock(12.0, SCALE) == " (12m00s on the incident clock)"
    assert on_incident_clock(30.0, SCALE, offset=True, short=True) == " (+30m00s)"
    assert on_incident_clock(12.0, None) == "" and on_incident_clock(None, SCALE) == ""
    assert to_incident(None, SCALE) is None and to_incident(2.0, None) == 2.0


# ---------------------------------------------------------------------------------------------- judged in incident time


def slow_drill(folder: Path, scale: float) -> Journal:
    """A drill that misses every rule it can: detection 5 s late (+40 against +35), the ack 1 s late, one update at
    +44 and none after it (a 38 s gap to the end at +82), executives never told (due 5 s of drill after detection),
    recovery 5 s late (+70 against +65). No load: the comms know the incident clock without revenue."""
    from gameday.model.events import ImpactEnded, ImpactStarted

    script: list[tuple[float, Payload]] = [
        (5.0, FaultInjected(fault="kill-db", kind="activities")),
        (5.2, ImpactStarted(check="checkout health")),
        (40.0, DetectionRecorded(via="alert", signal="errors", alertname="CheckoutErrorsHigh")),
        (43.0, ActionRecorded(action="acknowledge", author="alice", role=IC)),
        (44.0, ActionRecorded(action="post_update", author="alice", role=IC, audience="internal")),
        (70.0, ImpactEnded(check="checkout health")),
        (70.0, RecoveryObserved(checks=["checkout health"])),
        (82.0, DrillEnded(outcome="completed", reason=None)),
    ]
    started = DrillStarted(drill_id=f"slow-{scale:g}", mode="ci", scenario=scenario(scale),
                           policy=DEFAULT_POLICY.scaled(scale))
    return write_journal(folder / f"slow-{scale:g}.jsonl", started, [(t, p, "conductor") for t, p in script])


@pytest.fixture
def slow(tmp_path: Path) -> Journal:
    return slow_drill(tmp_path, SCALE)


@pytest.fixture
def slow_unscaled(tmp_path: Path) -> Journal:
    return slow_drill(tmp_path, 1.0)


EXECUTIVES_RULE = "SEV1: within 5.0s (5m00s on the incident clock) of detection"


def test_the_executives_policy_is_stated_on_the_incident_clock_too(slow: Journal) -> None:
    card = score_journal(slow)
    assert (card.executives.verdict, card.executives.note) == ("missed", EXECUTIVES_RULE)
    assert f"Executives were not notified (policy {EXECUTIVES_RULE}, by +45.0s)" in card.failures
    assert f"\n{EXECUTIVES_RULE}\n" in render_scorecard(card, "md")
    assert f"<small>{EXECUTIVES_RULE}</small>" in render_scorecard(card, "html")


def test_a_late_notification_quotes_the_policy_on_both_clocks(tmp_path: Path) -> None:
    journal = slow_drill(tmp_path, SCALE)
    told = ActionRecorded(action="notify_executives", author="bob", role="comms-lead")
    late = write_journal(tmp_path / "late-told.jsonl", journal.started.data,  # type: ignore[arg-type]
                         [(e.t, e.data, e.source) for e in journal.events[1:] if e.t < 50.0]
                         + [(50.0, told, "conductor")]
                         + [(e.t, e.data, e.source) for e in journal.events[1:] if e.t >= 50.0])
    card = score_journal(late)
    assert card.executives.verdict == "late"
    assert (f"Executives were notified at +50.0s, 5.0s (5m00s on the incident clock) after the policy deadline +45.0s "
            f"({EXECUTIVES_RULE})") in card.failures


def test_contributing_gaps_give_the_judged_durations_on_the_incident_clock(slow: Journal) -> None:
    from gameday.analysis.lessons import contributing_gaps

    gaps = contributing_gaps(score_journal(slow), slow)
    assert "Detection came 5.0s (5m00s on the incident clock) after its deadline." in gaps
    assert "Step ack (acknowledge the page) was done 1.0s (1m00s on the incident clock) after its deadline." in gaps
    assert "Stakeholder updates came less often than every 30.0s (30m00s on the incident clock)." in gaps


def test_action_items_give_the_judged_durations_on_the_incident_clock(slow: Journal) -> None:
    from gameday.analysis.findings import action_items

    items = {i.gap: i for i in action_items(score_journal(slow), slow)}
    comms = items["comms-cadence"]
    assert comms.title == "Post stakeholder updates at least every 30.0s (30m00s on the incident clock)"
    assert comms.why == "1 update(s) were posted; the longest gap was 38.0s (38m00s on the incident clock)."
    assert items["executives"].title == "Notify executives within 5.0s (5m00s on the incident clock) for a SEV1 incident"
    detection = items["detection-late:errors"].why
    assert detection == "Detection came at +40.0s, 5.0s (5m00s on the incident clock) after its deadline."
    assert items["step:ack"].why == "It was done at +43.0s, 1.0s (1m00s on the incident clock) after its deadline (+42.0s)."
    assert "5.0s (5m00s on the incident clock) after its deadline" in items["recovery"].why


def test_the_incident_clock_is_display_only_never_a_findings_identity(slow: Journal) -> None:
    """A finding's id hashes its gap key (gameday.model.findings): the clock's words change the titles, not the keys."""
    from gameday.analysis.findings import action_items

    card = score_journal(slow)
    one_clock = card.model_copy(update={"scale": None})
    scaled, plain = action_items(card, slow), action_items(one_clock, slow)
    assert [i.gap for i in scaled] == [i.gap for i in plain]
    assert all(not any(c.isdigit() for c in i.gap) for i in scaled)
    assert [i.title for i in scaled] != [i.title for i in plain]  # only the words shown differ


def test_postmortem_detection_row_has_both_clocks_like_the_others(slow: Journal) -> None:
    text = render_postmortem(slow, score_journal(slow), "md")
    assert ("| Detection | by +35.0s (+35m00s on the incident clock) | +40.0s (+40m00s on the incident clock) via alert "
            "errors | 5.0s (5m00s on the incident clock) after its deadline |") in text
    assert "| Recovery | by +1m05s (+1h05m on the incident clock) |" in text


def test_updates_give_the_ongoing_duration_on_the_incident_clock(slow: Journal) -> None:
    from gameday.comms.drafts import draft_update

    assert comms_facts(slow.events).clock_scale == SCALE  # without load, too
    executive = draft_update("executive", slow.events, now_t=7.0)
    assert "Started 09:00:05 UTC, ongoing for 2 seconds (2 minutes on the incident clock)." in executive
    internal = draft_update("internal", slow.events, now_t=7.0)
    assert "Impact: ongoing for 2 seconds (2 minutes on the incident clock); failing checks: checkout health" in internal
    after = draft_update("internal", slow.events, now_t=75.0)  # 64.8 s of impact, then recovery
    assert "Impact: 1 minute (1 hour 5 minutes on the incident clock) so far; no check failing now" in after
    assert "incident clock" not in draft_update("external", slow.events, now_t=7.0)  # customers: no drill jargon


def test_an_unscaled_drill_judged_late_shows_one_clock(slow_unscaled: Journal) -> None:
    from gameday.analysis.findings import action_items
    from gameday.analysis.lessons import contributing_gaps
    from gameday.comms.drafts import draft_update

    card = score_journal(slow_unscaled)
    assert card.executives.note == "not required: the drill ended before executives were due (SEV1: within 5m00s of detection)"
    assert "Detection came 5.0s after its deadline." in contributing_gaps(card, slow_unscaled)
    texts = [f"{i.title} {i.why}" for i in action_items(card, slow_unscaled)]
    assert "Make the alert behind signal errors fire sooner Detection came at +40.0s, 5.0s after its deadline." in texts
    assert "| Detection | by +35.0s | +40.0s via alert errors | 5.0s after its deadline |" in render_postmortem(
        slow_unscaled, card, "md")
    reports = [render_scorecard(card, "md"), render_scorecard(card, "html"), *card.failures,
               *(render_postmortem(slow_unscaled, card, f) for f in ("md", "html")),  # type: ignore[arg-type]
               *(draft_update(a, slow_unscaled.events, now_t=t) for a in ("internal", "executive") for t in (7.0, 75.0))]
    assert not [r for r in reports if "incident clock" in r]
    assert comms_facts(slow_unscaled.events).clock_scale is None


def test_late_by_gives_the_incident_clock_only_for_a_positive_figure() -> None:
    from gameday.analysis.findings import late_by

    assert late_by(30.0, 27.0, SCALE) == "3.0s (3m00s on the incident clock)"
    assert late_by(30.0, 27.0) == "3.0s" and late_by(None, 27.0, SCALE) == "—"
    assert "incident clock" not in late_by(25.0, 27.0, SCALE)  # a cadence step done early is not late by a time
