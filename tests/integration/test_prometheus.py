"""Detection from real monitoring: Debian's Prometheus and Alertmanager, driven for real.

* the generated configuration passes ``promtool check config`` / ``amtool check-config``,
  the shipped rules pass their ``promtool test rules`` unit tests (the catalog stays unwatched);
* a stack on loopback: PromQL probes against it, a killed target alerts through
  Alertmanager to the intake (with a bearer token), silences mute only non-drill alerts and
  are removed at the drill's end — also when it is aborted — everything stopped and removed after;
* whole drills through the CLI: the database failure detected Prometheus → Alertmanager →
  gameday (a forged delivery refused and journaled meanwhile), and the silent catalog
  failure reported silent against ``gameday demo up --monitoring prometheus``.

Without the binaries these tests skip locally (``need``) and fail in CI. About 70 s.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from gameday.adapters.intake_auth import IntakeVerifier
from gameday.adapters.promql import PromProbe, judge
from gameday.adapters.webhooks import make_intake_app
from gameday.model.scenario import Check, Signal
from gameday.monitoring.config import (
    DEMO_RULES,
    SHIPPED_RULES,
    ScrapeTarget,
    SilenceError,
    alertmanager_config,
    demo_targets,
    prometheus_config,
    re2_escape,
    silence_matchers,
)
from gameday.monitoring.stack import Alertmanager, MonitoringStack, free_port, http
from gameday.web.server import BackgroundServer

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "run"))
from drillkit import SCENARIOS, Workspace, assert_no_demo_left, first, kinds, pids_with_token, read_events

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def binaries(need):
    need("prometheus")
    need("prometheus-alertmanager")
    return {"promtool": need("promtool"), "amtool": need("amtool")}


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat[stat.rfind(")") + 2:][:1] in ("Z", "X")


# ------------------------------------------------------------------------------ pure parts
def test_judge_scalars_vectors_and_empty_results():
    vec = lambda *vals: {"resultType": "vector", "result": [  # noqa: E731
        {"metric": {"__name__": "up", "instance": f"i{i}"}, "value": [0, str(v)]} for i, v in enumerate(vals)]}
    assert judge(vec(1), "==", 1) == (True, "value 1")
    assert judge(vec(1, 1), "==", 1) == (True, "2 series, all == 1")
    ok, detail = judge(vec(1, 0, 0), "==", 1)
    assert not ok and detail == 'up{instance="i1"} = 0, want == 1 (+1 more)'
    assert judge(vec(), ">", 0) == (False, "no data")
    assert judge({"resultType": "scalar", "result": [0, "0.25"]}, "<", 0.5) == (True, "value 0.25")
    assert judge({"resultType": "scalar", "result": [0, "NaN"]}, "<", 0.5)[0] is False
    assert judge({"resultType": "matrix", "result": []}, ">", 0)[0] is False


def sig(name: str | None, **labels: str) -> Signal:
    alert = {"labels": labels} if name is None else {"alertname": name, "labels": labels}
    return Signal.model_validate({"alert": alert})


def test_silence_matchers_spare_every_signal():
    m = silence_matchers([sig("CheckoutErrorsHigh"), sig("~Checkout.*"), sig("a.b (c)")], {"team": "~shop|dba", "env": "drill"})
    assert m[0] == {"name": "alertname", "value": ".+", "isRegex": True, "isEqual": True}
    assert m[1] == {"name": "alertname", "value": r"(?:CheckoutErrorsHigh)|(?:Checkout.*)|(?:a\.b \(c\))",
                    "isRegex": True, "isEqual": False}
    assert m[2:] == [{"name": "env", "value": "drill", "isRegex": False, "isEqual": True},
                     {"name": "team", "value": "shop|dba", "isRegex": True, "isEqual": True}]
    assert re2_escape("a+b") == r"a\+b"
    with pytest.raises(SilenceError, match="signals\\[1\\] has no alertname"):
        silence_matchers([sig("A"), sig(None, severity="page")], {})


def test_generated_configuration_passes_promtool_and_amtool(binaries, tmp_path):
    state = {"processes": {"checkout": {"url": "http://127.0.0.1:8001"}, "db-a": {"url": "http://127.0.0.1:8002"},
                           "db-b": {"url": "http://127.0.0.1:8003"}, "traffic": {"url": None}}}
    targets = demo_targets(state) + [ScrapeTarget.from_url("http://127.0.0.1:9100/metrics")]
    assert [(t.job, t.address) for t in targets] == [("checkout", "127.0.0.1:8001"), ("db", "127.0.0.1:8002"),
                                                    ("db", "127.0.0.1:8003"), ("127_0_0_1_9100", "127.0.0.1:9100")]
    prom = tmp_path / "prometheus.yml"
    prom.write_text(prometheus_config(targets, [SHIPPED_RULES / DEMO_RULES], "127.0.0.1:9093"))
    token = tmp_path / "token"
    token.write_text("t0ken")
    am = tmp_path / "alertmanager.yml"
    am.write_text(alertmanager_config("http://127.0.0.1:8080/webhooks/alertmanager", token_file=token))
    silent = tmp_path / "silent.yml"
    silent.write_text(alertmanager_config(None))
    run = lambda *argv: subprocess.run(argv, capture_output=True, text=True, timeout=30)  # noqa: E731
    for done in (run(binaries["promtool"], "check", "config", str(prom)), run(binaries["amtool"], "check-config", str(am)),
                 run(binaries["amtool"], "check-config", str(silent))):
        assert done.returncode == 0, done.stdout + done.stderr
    doc = json.loads(prom.read_text().split("\n", 1)[1])
    assert doc["global"]["scrape_interval"] == "1s" and doc["global"]["evaluation_interval"] == "1s"
    route = json.loads(am.read_text().split("\n", 1)[1])["route"]
    assert (route["group_wait"], route["group_interval"]) == ("0s", "1s")


def test_shipped_rules_pass_their_unit_tests_and_leave_the_catalog_unwatched(binaries):
    rules = SHIPPED_RULES
    for argv in (["check", "rules", str(rules / DEMO_RULES)], ["test", "rules", "demo.rules.test.yml"]):
        done = subprocess.run([binaries["promtool"], *argv], cwd=rules, capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stdout + done.stderr
    assert 'handler="products"' not in (rules / DEMO_RULES).read_text().split("groups:", 1)[1]


# ------------------------------------------------------------------------------- a real stack
def test_silence_mutes_only_non_drill_alerts_and_is_removed(binaries):
    stack = MonitoringStack([], [], None).start(wait_targets=0)
    with stack:
        am = Alertmanager(stack.alertmanager_url)
        alerts = [{"labels": {"alertname": n, "team": t}} for n, t in
                  (("CheckoutErrorsHigh", "shop"), ("DatabaseNodeDown", "dba"), ("DiskFull", "infra"))]
        assert http("POST", f"{stack.alertmanager_url}/api/v2/alerts", alerts)[0] == 200
        matchers = silence_matchers([sig("CheckoutErrorsHigh"), sig("~CheckoutDown")], {"team": "~shop|dba"})
        sid = am.create_silence(matchers, 60, "test")

        def states() -> dict[str, str]:
            return {a["labels"]["alertname"]: a["status"]["state"] for a in am.alerts()}

        assert states() == {"CheckoutErrorsHigh": "active", "DatabaseNodeDown": "suppressed", "DiskFull": "active"}
        am.delete_silence(sid)
        assert am.silence(sid)["status"]["state"] == "expired"
        assert states()["DatabaseNodeDown"] == "active"
        pids, workdir = stack.pids, stack.workdir
    assert all(gone(p) for p in pids) and not workdir.exists()


def test_stack_probes_alerts_through_alertmanager_and_cleans_up(binaries, tmp_path):
    from prometheus_client import CollectorRegistry, Gauge, start_http_server

    registry = CollectorRegistry()
    Gauge("widget_ok", "1 while the widget works", registry=registry).set(1)
    port = free_port()
    target, _thread = start_http_server(port, addr="127.0.0.1", registry=registry)
    rules = tmp_path / "t.rules.yml"
    rules.write_text('groups: [{name: t, interval: 1s, rules: [{alert: TargetDown, expr: \'up{job="t"} == 0\', '
                     'for: 0s, labels: {severity: page}}]}]\n')
    got: list[tuple[float, dict]] = []
    arrived = threading.Event()

    def sink(fmt, payload, alerts, *, received_at=None, error=None):
        got.append((received_at, {"payload": payload, "error": error, "alerts": alerts}))
        if any(a.status == "firing" for a in alerts):
            arrived.set()

    intake = BackgroundServer(make_intake_app(sink, verifier=IntakeVerifier(bearer_token="am-token"))).start()
    stack = MonitoringStack([ScrapeTarget.from_url(f"http://127.0.0.1:{port}/metrics", "t")], [rules],
                            f"{intake.url}/webhooks/alertmanager", token="am-token")
    try:
        t0 = time.monotonic()
        stack.start(wait_targets=0)
        started = time.monotonic() - t0
        assert started < 2.0, f"Prometheus and Alertmanager took {started:.2f}s to answer /-/ready"
        assert stack.wait_scraped(15), "Prometheus never scraped its target"
        probe = lambda q, op="==", v=1.0: PromProbe(  # noqa: E731
            Check.model_validate({"prometheus": {"query": q, "op": op, "value": v}}), stack.prometheus_url).probe()
        assert probe('up{job="t"}').ok
        assert probe("widget_ok").detail == "value 1"
        assert probe('scalar(sum(up{job="t"}))', ">=", 1).ok
        assert probe('up{job="nope"}').detail == "no data"
        bad = probe("up{")
        assert not bad.ok and bad.detail.startswith("query failed (400)")
        unbound = PromProbe(Check.model_validate({"prometheus": {"query": "up"}}))
        assert not unbound.probe().ok and unbound.needs_url
        unbound.bind(stack.prometheus_url)
        assert unbound.probe().ok

        killed = time.monotonic()
        target.shutdown()
        target.server_close()
        assert arrived.wait(10), f"no firing webhook within 10s: {got}"
        delay = next(t for t, d in got if any(a.status == "firing" for a in d["alerts"])) - killed
        firing = next(d for _, d in got if d["alerts"])
        assert firing["error"] is None  # Alertmanager sent the bearer token
        assert firing["payload"]["version"] == "4" and firing["payload"]["receiver"] == "gameday"
        assert firing["alerts"][0].alertname == "TargetDown" and firing["alerts"][0].starts_at
        assert delay < 5.0, f"target down -> webhook took {delay:.2f}s"
    finally:
        stack.stop()
        intake.stop()
    assert all(gone(p) for p in stack.pids) and not stack.workdir.exists()


def test_external_monitoring_service_silences_journals_and_binds_promql(binaries, tmp_path):
    """kind external: the team's Alertmanager gets the drill's silence; PromQL checks use prometheus_url."""
    from types import SimpleNamespace

    from gameday.clock import SystemClock
    from gameday.drill.observing import ProbeSet
    from gameday.journal import JournalWriter, read_journal
    from gameday.model.events import DrillStarted, SilenceCreated, SilenceRemoved
    from gameday.model.policy import DEFAULT_POLICY
    from gameday.model.scenario import Scenario
    from gameday.monitoring import service_for

    stack = MonitoringStack([], [], None).start(wait_targets=0)
    with stack:
        sc = Scenario.model_validate({
            "apiVersion": "gameday/v1", "id": "ext", "title": "external", "severity": "SEV2",
            "target": {"url": "http://127.0.0.1:1"},
            "steady_state": [{"name": "am up", "prometheus": {"query": "vector(1)", "op": "==", "value": 1}}],
            "faults": [{"id": "f", "at": "1s", "activities": [{"type": "action", "name": "n", "provider": {
                "type": "process", "path": "true"}}], "rollbacks": [{"type": "action", "name": "n", "provider": {
                    "type": "process", "path": "true"}}]}],
            "detection": {"within": "10s", "signals": [{"alert": {"alertname": "CheckoutDown"}}]},
            "recovery": {"within": "20s"}, "abort": {"max_duration": "1m"},
            "monitoring": {"kind": "external", "alertmanager_url": stack.alertmanager_url,
                           "prometheus_url": "http://127.0.0.1:9", "silence_other_alerts": True,
                           "silence_matchers": {"env": "drill"}},
        })
        journal = JournalWriter(tmp_path / "j.jsonl", SystemClock())
        probes = ProbeSet([PromProbe(sc.steady_state[0])], 0.25)
        conductor = SimpleNamespace(probe=probes, phase_listeners=[])
        lines: list[str] = []
        ctx = SimpleNamespace(scenario=sc, conductor=conductor, journal=journal, options={}, drill_id="d1",
                              echo=lines.append, state_dir=tmp_path, target_url=None, probes=probes)
        service = service_for(ctx)
        assert service is not None
        service.start()
        assert probes.probes[0].url == "http://127.0.0.1:9"  # bound to monitoring.prometheus_url
        am = Alertmanager(stack.alertmanager_url)
        assert am.silence(service.silence_id)["status"]["state"] == "active"
        journal.append(DrillStarted(drill_id="d1", mode="ci", scenario=sc, policy=DEFAULT_POLICY), "conductor")
        for phase in ("preflight", "rollback"):
            for listener in conductor.phase_listeners:
                listener(phase)
        # lifted once no alert it covers still fires (here: none), from a thread
        deadline = time.monotonic() + 10
        while am.silence(service.silence_id)["status"]["state"] != "expired" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert am.silence(service.silence_id)["status"]["state"] == "expired"
        service.stop()
        service.stop()  # idempotent
        journal.close()
        events = read_journal(journal.path).events
        assert [e.kind for e in events] == ["DrillStarted", "SilenceCreated", "SilenceRemoved"]
        created, removed = events[1].data, events[2].data
        assert isinstance(created, SilenceCreated) and isinstance(removed, SilenceRemoved)
        assert created.id == removed.id == service.silence_id and created.alertmanager == stack.alertmanager_url
        assert [m.name for m in created.matchers] == ["alertname", "alertname", "env"] and created.matchers == removed.matchers
        assert created.text is not None and created.text.startswith("{alertname=~")
        assert any("silenced {alertname=~" in line for line in lines)


@pytest.mark.parametrize("lobby", [False, True])
def test_silence_is_removed_when_a_drill_is_aborted(binaries, tmp_path, monkeypatch, lobby):
    """A real conductor aborted mid-drill (as on SIGINT): the silence goes at the rollback, journaled.
    With ``lobby`` the drill starts "long" after the silence was made: it is renewed at the start."""
    from types import SimpleNamespace

    import gameday.monitoring.service as service_module
    from gameday.clock import SystemClock
    from gameday.drill.conductor import Conductor
    from gameday.drill.observing import ProbeSet
    from gameday.fakes import FakeInjector, FakeProbe
    from gameday.journal import JournalWriter, events_of, read_journal
    from gameday.model.events import SilenceCreated
    from gameday.model.scenario import Scenario
    from gameday.monitoring import service_for

    noop = [{"type": "action", "name": "n", "provider": {"type": "process", "path": "true"}}]
    stack = MonitoringStack([], [], None).start(wait_targets=0)
    with stack:
        sc = Scenario.model_validate({
            "apiVersion": "gameday/v1", "id": "abort", "title": "aborted", "severity": "SEV2",
            "target": {"url": "http://127.0.0.1:1"},
            "steady_state": [{"name": "h", "http": {"url": "{target.url}/"}}],
            "faults": [{"id": "f", "at": "0s", "activities": noop, "rollbacks": noop}],
            "detection": {"within": "1m", "signals": [{"alert": {"alertname": "CheckoutDown"}}]},
            "recovery": {"within": "1m"}, "abort": {"max_duration": "2m"},
            "monitoring": {"kind": "external", "alertmanager_url": stack.alertmanager_url, "silence_other_alerts": True},
        })
        clock = SystemClock()
        journal = JournalWriter(tmp_path / "j.jsonl", clock)
        conductor = Conductor(sc, journal, clock, mode="ci", drill_id="abort", injectors={"f": FakeInjector("f")},
                              probe=FakeProbe(clock))
        ctx = SimpleNamespace(scenario=sc, conductor=conductor, journal=journal, options={}, drill_id="abort",
                              echo=lambda line: None, state_dir=tmp_path, target_url=None, probes=ProbeSet([], 1.0))
        service = service_for(ctx)
        service.start()
        first_id = service.silence_id
        monkeypatch.setattr(service_module, "SILENCE_RENEW_AFTER", -1.0 if lobby else 30.0)
        thread = threading.Thread(target=conductor.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while "FaultInjected" not in [e.kind for e in list(journal.events)]:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        conductor.abort("signal: SIGINT")
        thread.join(10)
        service.stop()
        journal.close()
        events = read_journal(journal.path).events
        order = [e.kind for e in events]
        # removed after the abort and the rollback, once nothing it covers still fires (also after DrillEnded)
        assert order.index("SilenceCreated") < order.index("DrillAborted") < order.index("SilenceRemoved")
        am = Alertmanager(stack.alertmanager_url)
        assert am.silence(service.silence_id)["status"]["state"] == "expired"
        (created,) = events_of(events, SilenceCreated)
        assert created.data.id == service.silence_id
        assert (service.silence_id != first_id) is lobby
        assert am.silence(first_id)["status"]["state"] == "expired"


# ----------------------------------------------------------------------------- whole drills
def leftover_monitoring(ws: Workspace) -> list[int]:
    procs = []
    for pid in pids_with_token(ws.token):
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
        if b"prometheus" in cmd or b"alertmanager" in cmd or b"gameday.monitoring" in cmd:
            procs.append(pid)
    return procs


def scenario_copy(ws: Workspace, name: str, monitoring_extra: str = "", changes: tuple[tuple[str, str], ...] = ()) -> Path:
    """A shipped scenario written into the workspace, its paths made absolute (and its monitoring extended,
    and each ``(old, new)`` of ``changes`` made: each ``old`` must be there once)."""
    text = (SCENARIOS / name).read_text()
    text = text.replace("experiment: experiments/", f"experiment: {ROOT}/experiments/")
    text = text.replace("responders: responders/", f"responders: {SCENARIOS}/responders/")
    if monitoring_extra:
        text = text.replace("  kind: prometheus\n", "  kind: prometheus\n" + monitoring_extra, 1)
    for old, new in changes:
        assert text.count(old) == 1, (name, old)
        text = text.replace(old, new)
    path = ws.cwd / name
    path.write_text(text)
    return path


def test_db_failure_detected_through_prometheus_and_alertmanager(binaries, tmp_path, monkeypatch):
    monkeypatch.setenv("GD_INTAKE_TOKEN", "intake-token")
    monkeypatch.setenv("GD_INTAKE_HMAC", "intake-hmac")
    ws = Workspace(tmp_path)
    try:
        scenario = scenario_copy(ws, "checkout-db-primary-failure-prometheus.yaml",
                                 "  auth: {bearer_token_env: GD_INTAKE_TOKEN, hmac_secret_env: GD_INTAKE_HMAC}\n")
        drill = ws.spawn("run", str(scenario), "--mode", "ci", "--out", "out")
        url = drill.wait_line("alerts to ", timeout=40).rsplit("alerts to ", 1)[1].strip()
        drill.wait_line("FaultInjected", timeout=30)
        forged = json.dumps({"name": "CheckoutErrorsHigh"}).encode()
        refused = httpx.post(url.replace("/alertmanager", "/generic"), content=forged, trust_env=False, headers={
            "Content-Type": "application/json",
            "X-Gameday-Signature": "sha256=" + hmac.new(b"guessed", forged, hashlib.sha256).hexdigest()})
        assert refused.status_code == 401
        assert drill.wait(90) == 0, drill.output()
        events = read_events(ws.cwd / "out" / "journal.jsonl")
        forged_ev = first(events, "AlertReceived", format="generic")
        assert forged_ev["data"]["error"] == "unauthenticated: no Authorization header; bad signature in X-Gameday-Signature"
        assert forged_ev["data"]["matched"] is False and forged_ev["data"]["alerts"] == []
        det = first(events, "DetectionRecorded")
        alert = next(e for e in events if e["seq"] == det["data"]["alert_seq"])
        assert alert["data"]["format"] == "alertmanager" and alert["data"]["error"] is None  # AM's bearer token
        payload = alert["data"]["payload"]
        assert payload["version"] == "4" and payload["receiver"] == "gameday"
        assert det["data"]["alertname"] in ("CheckoutErrorsHigh", "CheckoutDown")
        assert payload["alerts"][0]["startsAt"] and payload["alerts"][0]["generatorURL"]
        injected = first(events, "FaultInjected")
        assert 0 < det["t"] - injected["t"] < 10
        # the database team's alerts were silenced for the drill, and the silence removed at its end
        created, removed = first(events, "SilenceCreated"), first(events, "SilenceRemoved")
        assert created["data"]["id"] == removed["data"]["id"]
        assert kinds(events).index("SilenceRemoved") > kinds(events).index("FaultRolledBack")  # lifted once quiet
        names = {a["alertname"] for e in events if e["kind"] == "AlertReceived" for a in e["data"]["alerts"]}
        assert not names & {"DatabaseNodeDown", "DatabaseNoPrimary"}, names
        assert any(a["status"] == "resolved" for e in events if e["kind"] == "AlertReceived" for a in e["data"]["alerts"])
        card = json.loads((ws.cwd / "out" / "scorecard.json").read_text())
        assert card["passed"] is True, card["failures"]
        assert_no_demo_left(ws)
        assert not leftover_monitoring(ws)
    finally:
        ws.cleanup()


def test_silent_failure_is_silent_with_real_monitoring_too(binaries, tmp_path):
    ws = Workspace(tmp_path)
    try:
        up = ws.run("demo", "up", "--monitoring", "prometheus", timeout=60)
        assert up.returncode == 0, up
        assert "monitoring: Prometheus http://127.0.0.1:" in up.stdout
        keeper = json.loads((ws.state_dir / "monitoring" / "state.json").read_text())
        config = Path(keeper["alertmanager_config"]).read_text()
        # the shipped drill with shorter idle waits: the demo's monitoring is already up and scraping, so the fault
        # comes at 2s (not 8s); the outage and the window in which no alert comes both last 6s (not 12s and 8s):
        # three times what the shipped rules (evaluated every second, for: 0s) take to page for the database
        # failure above (about 2 s from the fault to the webhook)
        scenario = scenario_copy(ws, "catalog-silent-failure-prometheus.yaml", changes=(
            ("    at: 8s\n", "    at: 2s\n"), ("    max_duration: 12s ", "    max_duration: 6s "),
            ("detection:\n  within: 8s\n", "detection:\n  within: 6s\n"), ("  baseline: 4s ", "  baseline: 1s ")))
        done = ws.run("run", str(scenario), "--mode", "ci", "--out", "out", timeout=90)
        assert done.returncode == 1, done
        assert "the running demo monitoring" in done.stdout
        card = json.loads((ws.cwd / "out" / "scorecard.json").read_text())
        assert card["detection"]["verdict"] == "silent", card["detection"]
        events = read_events(ws.cwd / "out" / "journal.jsonl")
        assert "DetectionRecorded" not in kinds(events)
        assert not [a for e in events if e["kind"] == "AlertReceived" for a in e["data"]["alerts"] if a["matched"]]
        postmortem = (ws.cwd / "out" / "postmortem.md").read_text()
        improve = postmortem.split("## What could improve", 1)[1]
        assert improve.lstrip().startswith("1. **Add an alert"), improve[:300]
        # the drill pointed the demo's Alertmanager at its intake, and put it back
        assert Path(keeper["alertmanager_config"]).read_text() == config
        down = ws.run("demo", "down", timeout=60)
        assert down.returncode == 0, down
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not all(gone(p) for p in (keeper["pid"], keeper["prometheus_pid"],
                                                                         keeper["alertmanager_pid"])):
            time.sleep(0.1)
        assert all(gone(p) for p in (keeper["pid"], keeper["prometheus_pid"], keeper["alertmanager_pid"]))
        assert not (ws.state_dir / "monitoring" / "state.json").exists()
        assert_no_demo_left(ws)
        assert not leftover_monitoring(ws)
    finally:
        ws.cleanup()
