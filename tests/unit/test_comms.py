"""Communication facts and drafts: a small journal in, facts and three audiences' drafts out."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gameday.clock import FakeClock
from gameday.comms import comms_facts, draft_update, load_interval
from gameday.comms.drafts import clock, money, percent, spoken_duration
from gameday.errors import ConfigError
from gameday.journal import JournalWriter
from gameday.model.events import (
    ActionRecorded,
    DetectionRecorded,
    DrillStarted,
    FaultInjected,
    Figures,
    ImpactEnded,
    ImpactStarted,
    LoadFailed,
    LoadStarted,
    LoadStats,
    Payload,
    RecoveryObserved,
    RoleAssigned,
)
from gameday.model.load import Business
from gameday.model.policy import DEFAULT_POLICY, SeverityPolicy
from gameday.model.scenario import Scenario
from gameday.model.terms import AUDIENCES
from gameday.notify.service import Update, slack_payload, teams_payload

XSS = "<script>alert(1)</script>"

SCENARIO: dict[str, Any] = {
    "apiVersion": "gameday/v1", "id": "db-failover", "title": "Primary database fails", "severity": "SEV1",
    "service": "checkout", "symptom": "customers can't complete a purchase",
    "target": {"url": "http://127.0.0.1:9"},
    "steady_state": [{"name": "checkout-health", "http": {"url": "{target.url}/health"}}],
    "faults": [{"id": "kill-db", "at": "10s", "activities": [{"type": "action"}], "rollbacks": [{"type": "action"}]}],
    "detection": {"within": "60s"}, "recovery": {"within": "5m"}, "abort": {"max_duration": "10m"},
}  # fmt: skip
POLICY = SeverityPolicy.model_validate({"levels": {
    "SEV1": {"description": "Complete outage.", "executives_within": "5m", "update_every": "30m"},
    "SEV2": {"description": "Degradation.", "executives_within": "30m", "update_every": "10m"},
    "SEV4": {"description": "Internal only."},
}})  # fmt: skip


def make_scenario(**changes: Any) -> Scenario:
    return Scenario.model_validate({**SCENARIO, **changes})


class Drill:
    """A journal written at chosen offsets with a fake clock (wall time starts 2026-01-01 09:00:00Z)."""

    def __init__(self, folder: Path, scenario: Scenario | None = None, policy: SeverityPolicy | None = None):
        self.scenario = scenario or make_scenario()
        self.clock = FakeClock()
        self.journal = JournalWriter(folder / "journal.jsonl", self.clock, fsync=False)
        recorded = policy or DEFAULT_POLICY.scaled(self.scenario.policy.scale)
        self.journal.append(DrillStarted(drill_id="db-failover-1", mode="gameday", scenario=self.scenario, policy=recorded),
                            "conductor")

    def at(self, t: float, payload: Payload, source: str = "conductor") -> None:
        self.clock.advance(max(0.0, t - self.journal.offset()))
        self.journal.append(payload, source)

    def act(self, t: float, who: str, action: str, **data: Any) -> None:
        self.at(t, ActionRecorded(action=action, author=who, **data), who)

    @property
    def events(self):
        return list(self.journal.events)

    def facts(self, now_t: float | None = None, **kw: Any):
        return comms_facts(self.events, self.scenario, kw.pop("policy", POLICY), now_t, **kw)

    def draft(self, audience: str, now_t: float | None = None, **kw: Any) -> str:
        return draft_update(audience, self.events, self.scenario, kw.pop("policy", POLICY), now_t, **kw)


@pytest.fixture
def drill(tmp_path: Path) -> Drill:
    """Injected at 10s, customers hit at 12s, detected at 30s by an alert; SEV1 declared at 40s."""
    d = Drill(tmp_path)
    d.at(1, RoleAssigned(person="alice", role="incident-commander", by="script"), "script")
    d.at(10, FaultInjected(fault="kill-db", kind="activities"), "injector")
    d.at(12, ImpactStarted(check="checkout-health", detail="HTTP 500"), "observer")
    d.at(30, DetectionRecorded(via="alert", signal="db-down", alertname="DatabaseDown"), "webhook")
    d.act(40, "alice", "declare_incident", severity="SEV1")
    return d


# ------------------------------------------------------------------ facts
def test_facts_before_anything_happened(tmp_path):
    d = Drill(tmp_path)
    f = d.facts(5.0)
    assert f.service == "checkout" and f.symptom == "customers can't complete a purchase"
    assert f.severity == "SEV1" and not f.severity_declared and f.severity_expected == "SEV1"
    assert f.started_t is None and f.started_from is None and not f.detected
    assert f.status == "investigating" and not f.impact_ongoing and f.impact_seconds == 0
    assert f.next_update_t is None  # nobody knows of an incident yet: no cadence
    assert f.eta_seconds is None and not f.eta_known
    assert f.now_at == "2026-01-01T09:00:05.000000Z"
    assert f.drill_id == "db-failover-1" and f.mode == "gameday"


def test_facts_during_the_incident(drill):
    f = drill.facts(60.0)
    assert f.severity == "SEV1" and f.severity_declared and f.declared
    assert (f.started_t, f.started_from, f.started_at) == (10.0, "injection", "2026-01-01T09:00:10.000000Z")
    assert f.detected and f.detected_t == 30.0 and f.detected_via == "alert" and f.detected_signal == "db-down"
    assert f.impact_ongoing and f.impact_since_t == 12.0 and f.impact_seconds == pytest.approx(48.0)
    assert f.failing_checks == ("checkout-health",)
    # next update: SEV1 cadence (30m) from detection, no update posted yet
    assert f.update_every == 1800 and f.next_update_t == pytest.approx(1830.0)
    assert f.next_update_at == "2026-01-01T09:30:30.000000Z" and f.next_update_in == pytest.approx(1770.0)
    assert not f.update_overdue and f.updates_posted == 0
    assert f.eta_seconds is None and not f.eta_known and f.status == "investigating"
    assert f.roles == {"incident-commander": "alice"}
    assert not f.load_measured and f.revenue_per_minute_lost is None and f.revenue_lost is None


def test_next_update_counts_from_the_last_update_and_follows_the_declared_severity(drill):
    drill.act(100, "alice", "post_update", audience="internal", text="Investigating")
    assert drill.facts(120).next_update_t == pytest.approx(1900.0)
    drill.act(200, "alice", "set_severity", severity="SEV2")  # downgraded: SEV2 asks every 10m
    f = drill.facts(250)
    assert f.severity == "SEV2" and f.severity_description == "Degradation."
    assert f.next_update_t == pytest.approx(700.0) and f.last_update_t == 100.0 and f.updates_posted == 1
    assert drill.facts(800).update_overdue


def test_a_level_without_cadence_has_no_next_update(drill):
    drill.act(50, "alice", "set_severity", severity="SEV4")
    assert drill.facts(60).next_update_t is None


def test_impact_is_the_union_of_failing_checks_after_injection(tmp_path):
    d = Drill(tmp_path)
    d.at(2, ImpactStarted(check="flaky", detail="baseline blip"), "observer")
    d.at(4, ImpactEnded(check="flaky"), "observer")  # before injection: not the incident's
    d.at(10, FaultInjected(fault="kill-db", kind="activities"), "injector")
    d.at(20, ImpactStarted(check="a"), "observer")
    d.at(25, ImpactStarted(check="b"), "observer")
    d.at(30, ImpactEnded(check="a"), "observer")
    d.at(40, ImpactEnded(check="b"), "observer")  # 20..40
    d.at(50, ImpactStarted(check="a"), "observer")
    f = d.facts(60)
    assert f.impact_seconds == pytest.approx(30.0) and f.impact_since_t == 20.0
    assert f.impact_ongoing and f.failing_checks == ("a",)


def test_recovery_makes_the_eta_known_and_resolution_ends_the_cadence(drill):
    drill.act(70, "bob", "runbook_started", runbook="failover")
    assert drill.facts(75).status == "mitigating"
    drill.at(90, ImpactEnded(check="checkout-health"), "observer")
    drill.at(90, RecoveryObserved(checks=["checkout-health"]), "observer")
    f = drill.facts(95)
    assert f.status == "monitoring" and f.recovered and f.eta_known and f.eta_seconds == 0
    assert f.impact_seconds == pytest.approx(78.0) and not f.impact_ongoing
    drill.act(100, "alice", "resolved")
    f = drill.facts(100)
    assert f.status == "resolved" and f.resolved_at == "2026-01-01T09:01:40.000000Z" and f.next_update_t is None


def test_impact_again_after_recovery_is_not_recovered(drill):
    drill.at(90, ImpactEnded(check="checkout-health"), "observer")
    drill.at(90, RecoveryObserved(checks=["checkout-health"]), "observer")
    drill.at(120, ImpactStarted(check="checkout-health"), "observer")
    f = drill.facts(130)
    assert not f.recovered and f.status == "investigating" and f.eta_seconds is None
    assert f.impact_seconds == pytest.approx(88.0)


def test_events_after_now_are_ignored(drill):
    drill.act(100, "alice", "resolved")
    f = drill.facts(50)
    assert not f.resolved and f.status == "investigating" and f.now_t == 50


def test_policy_defaults_to_the_one_the_drill_recorded_else_the_default_scaled(tmp_path):
    d = Drill(tmp_path / "a", policy=POLICY.scaled(0.1))
    d.at(30, DetectionRecorded(via="person", by="alice"), "webhook")
    assert comms_facts(d.events, d.scenario, None, 31).update_every == pytest.approx(180.0)
    e = Drill(tmp_path / "b", scenario=make_scenario(policy={"scale": 0.5}), policy=POLICY)
    e.at(30, DetectionRecorded(via="person", by="alice"), "webhook")
    assert comms_facts(e.events, e.scenario, None, 31).update_every == pytest.approx(1800.0)  # the recorded one
    # no DrillStarted among the events: the default policy, scaled by the scenario
    assert comms_facts(e.events[1:], e.scenario, None, 31).update_every == pytest.approx(
        DEFAULT_POLICY.levels["SEV1"].update_every * 0.5)
    # the scenario itself may come from the journal
    assert comms_facts(e.events).service == "checkout"


def _stats(t_from: float, t_to: float, checkout: tuple[int, int], browse: tuple[int, int]) -> LoadStats:
    """One LoadStats interval as the locust adapter journals it (``names`` and ``total``)."""
    return LoadStats(t_from=t_from, t_to=t_to, users_from=10, users=10,
                     names={"POST /checkout": Figures(requests=checkout[0], failures=checkout[1], p50=10, p95=20, p99=30),
                            "GET /": Figures(requests=browse[0], failures=browse[1], p50=5, p95=8, p99=9)},
                     total=Figures(requests=checkout[0] + browse[0], failures=checkout[1] + browse[1]))  # fmt: skip


def test_load_turns_impact_into_a_failure_rate_and_revenue(tmp_path):
    sc = make_scenario(business={"revenue_per_minute": 10000, "customer_facing": ["POST /checkout"]})
    d = Drill(tmp_path, scenario=sc)
    d.at(5, _stats(0, 5, (100, 0), (100, 0)), "load")  # before the incident: not counted
    d.at(10, FaultInjected(fault="kill-db", kind="activities"), "injector")
    d.at(15, _stats(10, 15, (100, 50), (100, 0)), "load")
    d.at(20, _stats(15, 20, (100, 80), (100, 0)), "load")
    f = d.facts(21)
    assert f.load_measured and f.requests == 200 and f.failures == 130
    assert f.failure_rate == pytest.approx(0.8) and f.failure_rate_overall == pytest.approx(0.65)
    assert f.revenue_per_minute == 10000 and f.revenue_per_minute_lost == pytest.approx(8000.0)
    # 5 s at 50% + 5 s at 80% of $10,000/min
    assert f.revenue_lost == pytest.approx(10000 * 5 / 60 * 0.5 + 10000 * 5 / 60 * 0.8, abs=0.01)
    # stale figures do not describe "now"
    assert d.facts(200).failure_rate is None and d.facts(200).revenue_per_minute_lost is None
    # the load tool died: impact unknown from here
    d.at(22, LoadFailed(error="locust exited", stage="run"), "load")
    assert d.facts(23).failure_rate is None and d.facts(23).revenue_lost is not None


def test_value_per_request_and_project_business(tmp_path):
    d = Drill(tmp_path)  # the scenario has no business context: the project's applies
    d.at(10, FaultInjected(fault="kill-db", kind="activities"), "injector")
    d.at(20, _stats(10, 20, (100, 30), (50, 10)), "load")
    f = d.facts(21, business=Business(value_per_request=2.5, currency="EUR"))
    assert f.failures == 40 and f.revenue_lost == pytest.approx(100.0)  # totals: no customer_facing names given
    assert f.revenue_per_minute_lost == pytest.approx(40 * 2.5 * 6) and f.currency == "EUR"
    sc = make_scenario(business={"revenue_per_minute": 600})
    assert comms_facts(d.events, sc, POLICY, 21, business=Business(value_per_request=2.5)).revenue_per_minute_lost == pytest.approx(
        600 * 40 / 150)


def test_load_interval_reads_the_named_requests_else_the_totals():
    stats = LoadStats(t_from=0.0, t_to=1.0, users_from=5, users=5,
                      names={"POST /checkout": Figures(requests=8, failures=6, p50=1, hist={"10": 8}),
                             "GET /": Figures(requests=2, failures=0, p50=1, hist={})},
                      total=Figures(requests=10, failures=6, p50=1))  # fmt: skip
    assert load_interval(stats) == (10, 6) and load_interval(stats, ["POST /checkout"]) == (8, 6)
    assert load_interval(stats, ["POST /checkout", "GET /"]) == (10, 6)
    assert load_interval(stats, ["POST /checkout", "missing"]) == (8, 6)
    assert load_interval(stats, ["missing"]) is None  # the names customers feel were not requested
    assert load_interval(LoadStats(t_from=0.0, t_to=1.0)) == (0, 0)  # an idle interval


# ------------------------------------------------------------------ drafts
def test_internal_draft_has_every_fact(drill):
    text = drill.draft("internal", 60)
    assert text.startswith("SEV1 outage: Primary database fails (investigating)\n")
    for piece in ("Service: checkout", "Customer impact: Customers can't complete a purchase.",
                  "Started: 09:00 UTC; detected 09:00 UTC by alert db-down",
                  "Impact: ongoing for 48 seconds; failing checks: checkout-health",
                  "Roles: incident-commander: alice", "Next update: by 09:30 UTC"):  # fmt: skip
        assert piece in text, piece
    assert "\n\n\n" not in text and text.endswith("\n") and not text.endswith("\n\n")


def test_internal_draft_says_when_severity_is_not_declared_yet(tmp_path):
    d = Drill(tmp_path)
    d.at(10, FaultInjected(fault="kill-db", kind="activities"), "injector")
    assert "Severity: SEV1 (not declared yet; the expected level)" in d.draft("internal", 11)


def test_external_draft_is_plain_words_without_internal_names(drill):
    drill.act(50, "alice", "post_update", audience="internal", text="db-primary is down, failing over")
    text = drill.draft("external", 60)
    assert "We're experiencing issues affecting checkout since 09:00 UTC. Customers can't complete a purchase." in text
    assert "We'll post another update by 09:30 UTC." in text
    for jargon in ("SEV", "checkout-health", "alice", "db-down", "DatabaseDown", "db-failover", "incident", "drill"):
        assert jargon not in text, jargon


def test_executive_draft_speaks_business(tmp_path):
    sc = make_scenario(business={"revenue_per_minute": 10000, "customer_facing": ["POST /checkout"]})
    d = Drill(tmp_path, scenario=sc)
    d.at(10, FaultInjected(fault="kill-db", kind="activities"), "injector")
    d.at(12, ImpactStarted(check="checkout-health"), "observer")
    d.at(20, _stats(10, 20, (100, 90), (10, 0)), "load")
    d.at(30, DetectionRecorded(via="alert", signal="db-down"), "webhook")
    text = d.draft("executive", 42)
    assert text.startswith("SEV1: checkout outage affecting customers (investigating)\n")
    assert "90% of customer requests are failing." in text
    assert "Estimated revenue impact: $9,000 per minute; $1,500 so far." in text
    assert "ETA to resolution: unknown; the team is investigating." in text
    assert "Started 09:00 UTC, ongoing for 30 seconds." in text and "Next update: by 09:30 UTC." in text
    assert "checkout-health" not in text and "db-down" not in text


def test_executive_draft_without_load_gives_revenue_at_risk_or_says_not_estimated(drill):
    assert "Revenue impact: not yet estimated." in drill.draft("executive", 60)
    at_risk = drill.draft("executive", 60, business=Business(revenue_per_minute=12000))
    assert "Revenue at risk: up to $12,000 per minute (normal revenue through checkout)" in at_risk


def test_drafts_follow_the_incident_to_resolution(drill):
    drill.at(90, ImpactEnded(check="checkout-health"), "observer")
    drill.at(90, RecoveryObserved(checks=["checkout-health"]), "observer")
    assert "ETA to resolution: restored; confirming stability." in drill.draft("executive", 95)
    assert "Checkout is working again as of 09:01 UTC." in drill.draft("external", 95)
    drill.act(120, "alice", "resolved")
    external = drill.draft("external", 120)
    assert external.startswith("Resolved: checkout is working normally again") and "another update" not in external
    assert "Resolved at 09:02 UTC. Postmortem to follow." in drill.draft("internal", 120)


def test_a_scaled_drill_writes_times_to_the_second(drill):
    text = drill.draft("internal", 60, policy=POLICY.scaled(1 / 60))  # updates every 30s
    assert "Started: 09:00:10 UTC; detected 09:00:30 UTC" in text and "Next update: by 09:01:00 UTC" in text


def test_every_audience_renders_from_an_empty_journal(tmp_path):
    d = Drill(tmp_path)
    for audience in AUDIENCES:
        assert d.draft(audience).strip()


def test_unknown_audience_is_refused(drill):
    with pytest.raises(ConfigError, match="unknown audience 'board'"):
        drill.draft("board")


# ------------------------------------------------------------------ overrides
def test_a_project_template_overrides_the_built_in_one(drill, tmp_path):
    folder = tmp_path / "templates"
    (folder / "comms").mkdir(parents=True)
    (folder / "comms" / "external.txt.j2").write_text("{{ service|upper }} status: {{ status_text }}; next {{ next_update_at|clock }}\n")
    (folder / "comms" / "internal.txt.j2").write_text(
        '{% extends "gameday/comms/internal.txt.j2" %}{% block response %}Bridge: https://meet.example/incident\n{% endblock %}')
    assert drill.draft("external", 60, templates_dir=folder) == "CHECKOUT status: investigating; next 09:30 UTC\n"
    internal = drill.draft("internal", 60, templates_dir=folder)
    assert "Bridge: https://meet.example/incident" in internal and "Service: checkout" in internal
    assert "Roles:" not in internal  # the replaced block
    assert drill.draft("executive", 60, templates_dir=folder) == drill.draft("executive", 60)  # not overridden: built-in


def test_broken_overrides_and_missing_folders_are_config_errors(drill, tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        drill.draft("internal", templates_dir=tmp_path / "nope")
    (tmp_path / "t" / "comms").mkdir(parents=True)
    (tmp_path / "t" / "comms" / "internal.txt.j2").write_text("{% if %}")
    with pytest.raises(ConfigError, match="template syntax error"):
        drill.draft("internal", templates_dir=tmp_path / "t")
    (tmp_path / "t" / "comms" / "internal.txt.j2").write_text("{{ no_such_fact }}")
    with pytest.raises(ConfigError, match="no_such_fact"):
        drill.draft("internal", templates_dir=tmp_path / "t")


# ------------------------------------------------------------------ untrusted text
def test_responder_text_is_one_line_in_drafts_and_escaped_in_chat_payloads(tmp_path):
    d = Drill(tmp_path)
    d.at(1, RoleAssigned(person=f"mallory{XSS}\nSEV4 all clear", role="incident-commander", by="script"), "script")
    d.at(10, FaultInjected(fault="kill-db", kind="activities"), "injector")
    d.act(20, "mallory", "runbook_started", runbook=f"fix{XSS}\n<!channel>")
    internal = d.draft("internal", 30)
    roles = next(line for line in internal.splitlines() if line.startswith("Roles:"))
    assert roles == f"Roles: incident-commander: mallory{XSS} SEV4 all clear"  # flattened: no forged line
    assert "\nSEV4 all clear" not in internal
    for payload in (slack_payload(Update(internal, "internal", author=f"m{XSS}")), teams_payload(Update(internal, "internal"))):
        flat = repr(payload)
        assert "<script>" not in flat and "<!channel>" not in flat and "&lt;script&gt;" in flat
    external = d.draft("external", 30)
    assert "mallory" not in external and "script" not in external


def test_injected_scenario_words_stay_plain_text(tmp_path):
    d = Drill(tmp_path, scenario=make_scenario(service=f"shop{XSS}", symptom="it <b>breaks</b>"))
    d.at(10, FaultInjected(fault="kill-db", kind="activities"), "injector")
    text = d.draft("external", 11)
    assert f"affecting shop{XSS}" in text  # plain text is not HTML: the sink escapes
    assert "&lt;" not in text


def test_filters():
    assert clock("2026-01-01T09:02:03.000000Z") == "09:02 UTC" and clock(None) == "unknown"
    assert clock("2026-01-01T09:02:03.000000Z", seconds=True) == "09:02:03 UTC"
    assert spoken_duration(1) == "1 second" and spoken_duration(754) == "13 minutes" and spoken_duration(3900) == "1 hour 5 minutes"
    assert money(12345.6) == "$12,346" and money(12.5, "EUR") == "€12.50" and money(5, "CHF") == "5.00 CHF"
    assert percent(0.234) == "23%" and percent(0.042) == "4.2%" and percent(None) == "unknown"


def test_importing_comms_does_not_import_jinja2():
    code = "import sys, gameday.comms, gameday.notify.service; print('jinja2' in sys.modules, 'httpx' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]


def test_revenue_so_far_is_the_scorecards_shortfall_figure(tmp_path):
    """Customers stuck waiting make fewer requests: the impact analysis counts the shortfall, not just failures."""
    sc = make_scenario(business={"revenue_per_minute": 10000, "customer_facing": ["POST /checkout"]})
    d = Drill(tmp_path, scenario=sc)
    d.at(5, _stats(0, 5, (100, 0), (100, 0)), "load")  # baseline: 20 successes/s
    d.at(10, FaultInjected(fault="kill-db", kind="activities"), "injector")
    d.at(15, _stats(10, 15, (50, 0), (100, 0)), "load")  # half the checkouts never happen
    f = d.facts(16)
    assert f.failure_rate == 0 and f.revenue_per_minute_lost == 0  # nothing fails right now…
    assert f.revenue_lost == pytest.approx(10000 / 60 / 20 * 50, abs=0.01)  # …but 50 purchases were lost
    assert not f.revenue_lost_is_lower_bound
    d.at(16, LoadFailed(error="locust died", stage="run"), "load")
    d.at(30, LoadStarted(users=10, spawn_rate=10, host="http://127.0.0.1:9", locustfile="locustfile.py"), "load")
    d.at(35, _stats(30, 35, (100, 0), (100, 0)), "load")
    f = d.facts(36)
    assert f.revenue_lost_is_lower_bound
    assert "at least $" in d.draft("executive", 36)


def test_milestones_before_the_injection_do_not_count_as_the_scorecard_has_it(tmp_path):
    d = Drill(tmp_path)
    d.at(2, DetectionRecorded(via="alert", signal="db-down", alertname="DatabaseDown"), "webhook")  # baseline noise
    d.at(3, RecoveryObserved(), "observer")
    before = d.facts(5)
    assert not before.detected and before.started_t is None and before.status == "investigating"
    d.at(10, FaultInjected(fault="kill-db", kind="activities"), "injector")
    d.at(20, DetectionRecorded(via="person", by="bob"), "bob")  # a person's word tells the team
    f = d.facts(25)
    assert f.started_t == 10.0 and f.started_from == "injection"
    assert f.detected and f.detected_t == 20.0 and f.detected_via == "person"
    assert f.status == "investigating"  # the recovery at 3 s was before the incident


def test_a_vendors_auto_resolve_does_not_close_the_incident(drill):
    """PagerDuty resolving by itself (its agent a service) is nobody's resolution: the comms stay open."""
    drill.act(90, "pagerduty", "resolved", via="pagerduty")
    f = drill.facts(95.0)
    assert not f.resolved and f.status != "resolved" and f.next_update_t is not None
    drill.act(100, "alice", "resolved")
    assert drill.facts(101.0).resolved_t == 100.0
