"""Customer impact from load stats: windows, the revenue formula against a hand computation,
unknown stretches, and the charts and postmortem sections built on them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gameday.analysis.charts import CHARTS, chart_figures, chart_images, label_rows, markers, render_charts, series
from gameday.analysis.impact import impact_markdown, impact_text, intervals, load_frame, measure_impact, money, percentile
from gameday.analysis.postmortem import render_postmortem
from gameday.analysis.render import render_scorecard
from gameday.analysis.scorecard import score_journal
from gameday.fakes import write_journal
from gameday.journal import Journal, read_journal
from gameday.model.events import (
    ActionRecorded,
    DetectionRecorded,
    DrillEnded,
    DrillStarted,
    FaultInjected,
    Figures,
    LoadFailed,
    LoadStarted,
    LoadStats,
    LoadStopped,
    Payload,
    RecoveryObserved,
)
from gameday.model.load import Business
from gameday.model.policy import SeverityPolicy
from gameday.model.scenario import Scenario

IC = "incident-commander"
BUSINESS = {"revenue_per_minute": 10000, "currency": "USD", "customer_facing": ["checkout"]}


def scenario(load: bool = True, business: dict[str, Any] | None = None) -> Scenario:
    data: dict[str, Any] = {
        "apiVersion": "gameday/v1", "id": "db-load", "title": "Primary database fails under load", "severity": "SEV1",
        "target": {"url": "http://127.0.0.1:9"},
        "steady_state": [{"name": "checkout health", "http": {"url": "{target.url}/health"}}],
        "faults": [{"id": "kill-db", "at": "5s", "activities": [
            {"type": "action", "name": "noop", "provider": {"type": "process", "path": "true"}}],
            "rollbacks": [{"type": "action", "name": "noop", "provider": {"type": "process", "path": "true"}}]}],
        "detection": {"within": "30s", "signals": [{"name": "errors", "alert": {"alertname": "CheckoutErrorsHigh"}}]},
        "recovery": {"within": "1m"}, "abort": {"max_duration": "5m"}, "timing": {"baseline": "5s"},
        "roles": [],
    }  # fmt: skip
    if load:
        data["load"] = {"locustfile": "demo", "users": 10}
    if business is not None:
        data["business"] = business
    return Scenario.model_validate(data)


def stats(t_from: float, t_to: float, users_from: int, users: int, **names: tuple[int, int, dict[str, int]]) -> LoadStats:
    """A LoadStats payload: names map to (requests, failures, histogram)."""
    figures = {n: Figures(requests=r, failures=f, hist=h) for n, (r, f, h) in names.items()}
    total = Figures(requests=sum(r for r, _, _ in names.values()), failures=sum(f for _, f, _ in names.values()))
    return LoadStats(t_from=t_from, t_to=t_to, users_from=users_from, users=users, names=figures, total=total)


def ok(n: int, ms: int = 1) -> tuple[int, int, dict[str, int]]:
    return (n, 0, {str(ms): n})


Script = list[tuple[float, Payload]]  # (t, payload)
LOAD_KINDS = (LoadStarted, LoadStats, LoadFailed, LoadStopped)


def write(folder: Path, script: Script, *, sc: Scenario | None = None, name: str = "journal.jsonl") -> Journal:
    started = DrillStarted(drill_id="db-load-1", mode="ci", scenario=sc or scenario(business=BUSINESS),
                           policy=SeverityPolicy(name="default", levels={}))
    return write_journal(folder / name, started,
                         [(at, p, "load" if isinstance(p, LOAD_KINDS) else "conductor") for at, p in script])


def load_started(business: dict[str, Any] | None = BUSINESS) -> LoadStarted:
    return LoadStarted(tool="locust", users=10, spawn_rate=10, workers=0, host="http://127.0.0.1:9", locustfile="demo",
                       business=None if business is None else Business.model_validate(business))  # fmt: skip


def with_business(script: Script, business: dict[str, Any] | None) -> Script:
    """``script`` with its LoadStarted carrying ``business``."""
    return [(t, load_started(business) if isinstance(d, LoadStarted) else d) for t, d in script]


def without_stats_from(script: Script, t_from: float) -> Script:
    """``script`` without the stats intervals that start at or after ``t_from``."""
    return [(t, d) for t, d in script if not (isinstance(d, LoadStats) and d.t_from >= t_from)]


#: The drill every hand computation below refers to (see the module docstring of gameday.analysis.impact).
#: baseline (steady, after the ramp [1,2]): [2,3] [3,4] [4,5] — 5 checkouts/s, all fine, 10 users
#: injection at 5.0, recovery at 7.5 → impact window intervals [5,6] [6,7] [7,8]
DRILL: Script = [
    (0.5, load_started()),
    (2.0, stats(1, 2, 0, 10, browse=ok(10), checkout=ok(2, 4))),
    (3.0, stats(2, 3, 10, 10, browse=ok(20), checkout=ok(5, 4))),
    (4.0, stats(3, 4, 10, 10, browse=ok(20), checkout=ok(5, 4))),
    (5.0, stats(4, 5, 10, 10, browse=ok(20), checkout=ok(5, 4))),
    (5.0, FaultInjected(fault="kill-db", kind="activities")),
    (5.4, DetectionRecorded(via="alert", signal="errors", alertname="CheckoutErrorsHigh")),
    (6.0, stats(5, 6, 10, 10, browse=ok(20), checkout=(6, 6, {"2": 6}))),
    (6.2, ActionRecorded(action="acknowledge", author="alice", role=IC)),
    (7.0, stats(6, 7, 10, 10, browse=ok(20), checkout=(5, 4, {"2": 4, "5": 1}))),
    (7.5, RecoveryObserved(checks=["checkout health"])),
    (8.0, stats(7, 8, 10, 10, browse=(18, 1, {"1": 18}), checkout=(5, 0, {"5": 5}))),
    (9.0, stats(8, 9, 10, 10, browse=ok(20), checkout=ok(5, 4))),
    (9.1, LoadStopped(reason="rollback", totals={})),
    (9.2, DrillEnded(outcome="completed", reason=None)),
]
INJECTED = (5.0, FaultInjected(fault="kill-db", kind="activities"))
ENDED = (6.0, DrillEnded(outcome="completed"))


@pytest.fixture
def drill(tmp_path: Path) -> Journal:
    return write(tmp_path, DRILL)


def test_no_load_no_impact(tmp_path: Path) -> None:
    journal = write(tmp_path, [INJECTED, ENDED], sc=scenario(load=False))
    assert measure_impact(journal) is None
    assert score_journal(journal).impact is None


def test_revenue_matches_the_hand_computation(drill: Journal) -> None:
    impact = measure_impact(drill)
    assert impact is not None and impact.status == "measured" and impact.note == ""
    # baseline: [2,3] [3,4] [4,5] (the ramp [1,2] is left out): 15 successful checkouts in 3 s, 30 user-seconds
    per_user_s, per_s = 15 / 30, 15 / 3
    value = 10000 / 60 / per_s  # 33.33 per successful checkout
    # window [5.0, 7.5] → intervals [5,6] [6,7] [7,8]: 30 user-seconds, successes 0 + 1 + 5
    expected, actual = per_user_s * 30, 6
    lost = value * (expected - actual)
    r = impact.revenue
    assert r is not None and r.basis == "revenue_per_minute" and not r.lower_bound
    assert r.expected_successes == pytest.approx(expected) and r.actual_successes == actual
    assert r.shortfall == pytest.approx(9.0)
    assert r.value_per_success == pytest.approx(value, abs=1e-6)
    assert r.lost == pytest.approx(round(lost, 2)) == 300.0
    assert r.per_minute == pytest.approx(300.0 / (3 / 60))
    assert "33.3333 × 9.00 = 300.00 USD" in r.computation
    assert "revenue_per_minute ÷ 60" in r.formula


def test_window_figures(drill: Journal) -> None:
    impact = measure_impact(drill)
    base, during = impact.baseline, impact.during
    assert (base.intervals, base.seconds, base.from_t, base.to_t) == (3, 3.0, 2.0, 5.0)
    assert base.customer_facing.requests == 15 and base.customer_facing.failure_rate == 0.0
    assert (during.intervals, during.from_t, during.to_t) == (3, 5.0, 7.5)
    cf = during.customer_facing
    assert (cf.requests, cf.failures, cf.failure_rate) == (16, 10, 0.625)
    assert (cf.p50_ms, cf.p95_ms, cf.p99_ms) == (2.0, 5.0, 5.0)  # merged histogram {2: 10, 5: 6}
    assert during.total.requests == 16 + 58 and during.total.failures == 11
    assert [f.name for f in during.by_name] == ["browse", "checkout"]
    assert impact.peak_error_rate == round(6 / 26, 4) and impact.peak_error_t == 6.0
    assert impact.peak_customer_facing_error_rate == 1.0
    # degraded: [5,6] (100 %) and [6,7] (80 %) exceed 0 % + 5 points; [7,8] (0 %) does not
    assert impact.degraded_seconds == 2.0 and impact.degraded_minutes == round(2 / 60, 3)
    assert impact.customer_facing == ["checkout"] and impact.unseen_names == [] and impact.unknown == []


def test_value_per_request_basis(tmp_path: Path) -> None:
    business = {"value_per_request": 12.5, "currency": "EUR", "customer_facing": ["checkout"]}
    r = measure_impact(write(tmp_path, with_business(DRILL, business), sc=scenario(business=business))).revenue
    assert r.basis == "value_per_request" and r.lost == 112.5 and r.currency == "EUR"
    assert money(r.lost, r.currency) == "EUR 112.50" and money(1234.5, "USD") == "$1,234.50"


def test_project_business_comes_from_load_started(tmp_path: Path) -> None:
    """The scenario has no business: the effective one (gameday.yaml's) is journaled with LoadStarted."""
    journal = write(tmp_path, DRILL, sc=scenario(business=None))
    assert measure_impact(journal).revenue.lost == 300.0


def test_scenario_business_applies_when_load_started_has_none(tmp_path: Path) -> None:
    business = {"revenue_per_minute": 600, "customer_facing": ["checkout"], "degraded_threshold": 0.9}
    impact = measure_impact(write(tmp_path, with_business(DRILL, None), sc=scenario(business=business)))
    assert impact.degraded_seconds == 1.0 and "by more than 90 percentage points" in impact.degraded_definition  # [5,6] only
    assert impact.revenue.lost == 18.0  # 600 / 60 / 5 checkouts per second = 2 per checkout, × a shortfall of 9


def test_no_business_means_no_revenue_and_every_request_is_customer_facing(tmp_path: Path) -> None:
    impact = measure_impact(write(tmp_path, with_business(DRILL, None), sc=scenario(business=None)))
    assert impact.revenue is None and impact.customer_facing == []
    assert impact.during.customer_facing.requests == impact.during.total.requests


def test_unseen_customer_facing_name(tmp_path: Path) -> None:
    business = {**BUSINESS, "customer_facing": ["checkout", "pay"]}
    assert measure_impact(write(tmp_path, with_business(DRILL, business), sc=scenario(business=business))).unseen_names == ["pay"]


def test_load_failure_mid_window_is_partial_and_a_lower_bound(tmp_path: Path) -> None:
    script = without_stats_from(DRILL, 6)
    script += [(6.5, LoadFailed(error="locust (standalone) was killed by SIGKILL", exit_code=-9, stage="run")),
               (7.2, load_started()),
               (8.3, stats(7.3, 8.3, 10, 10, browse=ok(20), checkout=ok(5, 4)))]
    script.sort(key=lambda e: e[0])
    impact = measure_impact(write(tmp_path, script))
    assert impact.status == "partial"
    [span] = impact.unknown
    assert (span.from_t, span.to_t) == (6.0, 7.2) and "SIGKILL" in span.reason
    assert "missing for 1.2s" in impact.note
    assert impact.revenue.lower_bound and "lower bound" in impact.revenue.note
    assert "at least" in impact_text(impact)["revenue"]


def test_load_dead_before_injection_means_impact_unknown(tmp_path: Path) -> None:
    script = [(t, d) for t, d in without_stats_from(DRILL, 3) if not isinstance(d, LoadStopped)]
    script.append((3.5, LoadFailed(error="locust (standalone) was killed by SIGKILL", stage="run")))
    script.sort(key=lambda e: e[0])
    impact = measure_impact(write(tmp_path, script))
    assert impact.status == "unknown" and impact.revenue is None and impact.during is None
    assert impact.unknown[0].from_t == 3.0 and impact.unknown[0].to_t is None
    assert "not running during the impact window" in impact.note
    assert impact_text(impact)["customers"].startswith("Customers affected and revenue impact: unknown")


def test_load_that_never_started(tmp_path: Path) -> None:
    script: Script = [(0.5, LoadFailed(error="host http://127.0.0.1:9 does not answer: Connection refused", stage="start")),
                      INJECTED, (9.0, DrillEnded(outcome="completed"))]
    impact = measure_impact(write(tmp_path, script))
    assert impact.status == "unknown" and impact.baseline is None
    assert impact.unknown[0].reason.startswith("host http://127.0.0.1:9 does not answer")


def test_percentile_is_nearest_rank() -> None:
    from collections import Counter

    hist = Counter({1.0: 50, 10.0: 45, 100.0: 5})
    assert (percentile(hist, 0.5), percentile(hist, 0.95), percentile(hist, 0.99)) == (1.0, 10.0, 100.0)
    assert percentile(Counter(), 0.5) is None


def test_scorecard_json_is_the_same_from_the_replayed_file_and_carries_the_impact(drill: Journal, tmp_path: Path) -> None:
    first = render_scorecard(score_journal(drill), "json")
    again = render_scorecard(score_journal(read_journal(drill.path)), "json")
    assert first == again
    data = json.loads(first)["impact"]
    assert data["status"] == "measured" and data["revenue"]["lost"] == 300.0


def test_impact_markdown_for_the_scorecard(drill: Journal) -> None:
    lines = impact_markdown(measure_impact(drill))
    text = "\n".join(lines)
    assert lines[0] == "## Impact (load)"
    assert "10 of 16 customer-facing requests (checkout) failed" in text
    assert "$300.00" in text and "$6,000.00 per minute" in text
    assert impact_markdown(None) == []


def test_chart_markers_and_images(drill: Journal, tmp_path: Path) -> None:
    kinds = [(t, kind) for t, kind, _ in markers(drill)]
    assert kinds == [(5.0, "injection"), (5.4, "detection"), (6.2, "action"), (7.5, "recovery")]
    images = chart_images(drill)
    assert [name for name, _, _ in images] == [name for name, _ in CHARTS]
    assert all(data.startswith(b"\x89PNG\r\n\x1a\n") for _, _, data in images)
    paths = render_charts(drill, tmp_path / "out")
    assert [p.name for p in paths] == [name for name, _ in CHARTS] and all(p.stat().st_size > 1000 for p in paths)


def test_each_value_is_drawn_where_it_was_measured(drill: Journal) -> None:
    """At its interval's end: the errors of the interval [5, 6] (the fault came at 5.0) are at 6.0, never
    before the injection (drawn from the interval's start, they showed up at 5.0 and, with a stats interval
    straddling the injection, before it)."""
    assert series(drill)["t"] == [2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]  # the intervals' ends
    figures = {name: fig for name, _, fig in chart_figures(drill)}
    assert _first_error_x(figures["load-errors.png"]) == 6.0  # after the injection (5.0), where they were counted


def _first_error_x(fig: Any) -> float:
    """Where the 'all requests' line of an error chart first leaves zero (its drawn path, steps included)."""
    for line in fig.axes[0].get_lines():
        if line.get_label() == "all requests":
            path = line.get_path().vertices  # the drawn polyline, after matplotlib's step expansion
            return min(float(x) for x, y in path if y > 0)
    raise AssertionError("no 'all requests' line in the error chart")


def test_an_interval_straddling_the_injection_draws_nothing_before_it(tmp_path: Path) -> None:
    """Stats at 4.6 and 5.6, the fault at 5.0: the errors counted in [4.6, 5.6] show from 5.6, not from 4.6."""
    script: Script = [
        (0.5, load_started()),
        (3.6, stats(2.6, 3.6, 0, 10, browse=ok(10), checkout=ok(2, 4))),
        (4.6, stats(3.6, 4.6, 10, 10, browse=ok(20), checkout=ok(5, 4))),
        (5.0, FaultInjected(fault="kill-db", kind="activities")),
        (5.6, stats(4.6, 5.6, 10, 10, browse=ok(20), checkout=(6, 6, {"2": 6}))),
        (6.6, stats(5.6, 6.6, 10, 10, browse=ok(20), checkout=ok(5, 4))),
        (7.0, DrillEnded(outcome="completed", reason=None)),
    ]
    figures = {name: fig for name, _, fig in chart_figures(write(tmp_path, script))}
    assert _first_error_x(figures["load-errors.png"]) == pytest.approx(5.6)


def test_the_x_axis_reaches_the_journals_end(tmp_path: Path) -> None:
    """Stats stop at 7.0 but the drill runs to 30 s (a load generator gone for good: its 'load not running'
    span runs to the end): the charts show all of it."""
    journal = write(tmp_path, [*DRILL[:8], (30.0, DrillEnded(outcome="completed", reason=None))])
    for _, _, fig in chart_figures(journal):
        assert fig.axes[0].get_xlim()[1] >= 30.0


def test_marker_labels_close_together_get_rows_of_their_own() -> None:
    marks = [(5.0, "injection", "injected kill-db"), (5.05, "detection", "detected"), (5.1, "action", "acknowledge"),
             (30.0, "action", "resolved"), (5.2, "action", "declare incident")]
    rows = label_rows(marks, (0.0, 40.0), 550)
    by_label = {label: row for (_, _, label), row in zip(sorted(marks), rows, strict=True)}
    assert len({by_label[x] for x in ("injected kill-db", "detected", "acknowledge", "declare incident")}) == 4
    assert by_label["resolved"] == 0  # far from the others: the first row has room


@given(st.lists(st.tuples(st.floats(0, 100), st.sampled_from(["action", "detection"]), st.text(min_size=1, max_size=30)),
                max_size=25))
def test_no_two_labels_of_a_row_overlap(marks: list[tuple[float, str, str]]) -> None:
    width, xlim = 600.0, (0.0, 100.0)
    per_pt = width / 100
    placed: dict[int, list[tuple[float, float]]] = {}
    for (t, _, label), row in zip(sorted(marks), label_rows(marks, xlim, width), strict=True):
        left = t * per_pt + 2
        right = left + len(label) * 7 * 0.6 + 4
        assert all(right <= a or left >= b for a, b in placed.get(row, [])), (row, label)
        placed.setdefault(row, []).append((left, right))


def test_no_stats_no_charts(tmp_path: Path) -> None:
    journal = write(tmp_path, [INJECTED], sc=scenario(load=False))
    assert chart_images(journal) == [] and render_charts(journal, tmp_path / "out") == []
    assert not (tmp_path / "out").exists()


def test_postmortem_impact_section_with_charts(drill: Journal, tmp_path: Path) -> None:
    card = score_journal(drill)
    charts = render_charts(drill, tmp_path)
    md = render_postmortem(drill, card, "md", charts=charts)
    assert "not measured in this drill" not in md
    assert "Customers affected: 10 of 16 customer-facing requests (checkout) failed" in md
    assert "Estimated revenue lost: $300.00" in md
    assert "![Request rate over the drill](load-requests.png)" in md
    assert "LoadStats" not in md  # per-second stats stay out of the timeline
    html = render_postmortem(drill, card, "html", charts=charts)
    assert html.count("data:image/png;base64,") == 3 and 'href="load-errors.png"' in html
    assert "img-src data:" in html
    alone = render_postmortem(drill, card, "html")  # `gameday postmortem`: charts rendered in memory, no files to link
    assert alone.count("data:image/png;base64,") == 3 and 'href="load-errors.png"' not in alone


def test_postmortem_without_load_keeps_its_sentence(tmp_path: Path) -> None:
    journal = write(tmp_path, [INJECTED, ENDED], sc=scenario(load=False))
    md = render_postmortem(journal, score_journal(journal), "md")
    assert "not measured in this drill (no load configured)" in md and "data:image" not in md


def test_findings_name_the_load_gap_and_the_good_news(tmp_path: Path) -> None:
    from gameday.analysis.lessons import contributing_gaps, went_well

    script = [(t, d) for t, d in without_stats_from(DRILL, 3) if not isinstance(d, LoadStopped)]
    script.append((3.5, LoadFailed(error="locust (standalone) was killed by SIGKILL", stage="run")))
    script.sort(key=lambda e: e[0])
    journal = write(tmp_path, script)
    gaps = contributing_gaps(score_journal(journal), journal)
    assert any(g.startswith("The load generator was not running from +3.0s (locust (standalone) was killed by SIGKILL)")
               for g in gaps), gaps
    calm = [(t, stats(d.t_from, d.t_to, 10, 10, browse=ok(20), checkout=ok(5)) if isinstance(d, LoadStats) else d)
            for t, d in DRILL]
    journal = write(tmp_path, calm, name="calm.jsonl")
    assert any(w.startswith("No customer-facing request failed during the impact window")
               for w in went_well(score_journal(journal), journal))


def test_load_frame_for_trends(drill: Journal) -> None:
    frame = load_frame(intervals(drill.events))
    assert list(frame.columns) == ["seq", "t_from", "t_to", "dt", "user_s", "name", "requests", "failures"]
    by_name = frame.groupby("name")[["requests", "failures"]].sum()
    assert int(by_name.loc["checkout", "requests"]) == 2 + 5 * 3 + 6 + 5 + 5 + 5
    assert int(by_name.loc["checkout", "failures"]) == 10
