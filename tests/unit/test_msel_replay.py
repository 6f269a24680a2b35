"""`gameday msel from-journal` (gameday/sim/replay.py): a past live drill's journal as a tabletop
scenario. On the golden journals the result validates, keeps the drill's scenario (so it scores the
same way), and its alert injects replay the real webhook payloads through the same parsing and
matching; a tabletop's or a malformed journal is one line, exit 2, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from gameday.adapters.webhooks import PARSERS
from gameday.cli import main
from gameday.fakes import write_journal
from gameday.journal import read_journal
from gameday.loader import load_scenario
from gameday.model.alerts import match_delivery
from gameday.model.duration import format_duration, parse_duration
from gameday.model.events import ActionRecorded, AlertReceived, AlertRow, DrillStarted, ImpactStarted
from gameday.model.policy import DEFAULT_POLICY
from gameday.model.scenario import Scenario
from gameday.sim.replay import replay_file, replay_scenario

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "fixtures" / "journals"
JOURNALS = ["clean", "silent", "late", "aborted", "torn"]


def from_journal(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["msel", "from-journal", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("name", JOURNALS)
def test_golden_journal_replays_as_a_valid_tabletop(name: str, tmp_path: Path) -> None:
    journal = read_journal(GOLDEN / f"{name}.jsonl")
    out = tmp_path / "tables" / f"{name}.yaml"
    code, stdout, stderr = from_journal(str(GOLDEN / f"{name}.jsonl"), "-o", str(out), "--project", str(ROOT))
    assert (code, stdout) == (0, ""), stderr
    loaded = load_scenario(out)  # what `gameday validate` checks, experiments and responder file included
    assert CliRunner().invoke(main, ["validate", str(out)]).exit_code == 0
    original = journal.started.data.scenario
    tabletop = loaded.scenario
    for section in ("detection", "response", "recovery", "abort", "timing", "severity", "roles", "policy", "scoring",
                    "objectives", "steady_state", "target", "monitoring", "service", "symptom"):
        assert getattr(tabletop, section) == getattr(original, section), section
    # the same faults and runbooks, their experiments named from the new file's folder
    assert [f.model_copy(update={"experiment": None}) for f in tabletop.faults] == [
        f.model_copy(update={"experiment": None}) for f in original.faults]
    assert tabletop.faults[0].experiment == str(ROOT / "experiments" / "kill-db-primary.yaml")  # outside its project
    assert tabletop.runbooks["failover"].model_copy(update={"experiment": None}) == original.runbooks[
        "failover"].model_copy(update={"experiment": None})
    assert tabletop.id == "checkout-db-primary-failure-replay" and "tabletop" in tabletop.tags
    assert loaded.fault_experiments["kill-primary"] == ROOT / "experiments" / "kill-db-primary.yaml"
    assert loaded.responders_path == ROOT / "scenarios" / "responders" / "checkout-db-primary-failure.ci.yaml"


@pytest.mark.parametrize("name", JOURNALS)
def test_alert_injects_replay_the_real_payloads(name: str) -> None:
    journal = read_journal(GOLDEN / f"{name}.jsonl")
    replay = replay_scenario(journal)
    alerts = [i for i in replay.scenario.injects if i.channel == "alert"]
    received = journal.of(AlertReceived)
    assert len(alerts) == len(received) > 0
    signals = replay.scenario.detection.signals
    for inj, event in zip(alerts, received, strict=True):
        assert inj.at == parse_duration(format_duration(event.t))
        assert inj.alert is not None and inj.alert.format == event.data.format
        assert inj.alert.body() == event.data.payload  # the body as the vendor sent it
        again, _ = match_delivery(signals, inj.alert.format, inj.alert.body(), PARSERS[inj.alert.format](inj.alert.body()))
        assert (again.matched, again.signal, again.alerts) == (event.data.matched, event.data.signal, event.data.alerts)


@pytest.mark.parametrize("name", JOURNALS)
def test_impact_is_a_dashboard_inject_and_updates_are_unscheduled(name: str) -> None:
    journal = read_journal(GOLDEN / f"{name}.jsonl")
    injects = replay_scenario(journal).scenario.injects
    impacts = journal.of(ImpactStarted)
    panels = [i for i in injects if i.channel == "dashboard"]
    assert [(i.at, i.panel.title if i.panel else None, i.panel.fault if i.panel else None) for i in panels] == [
        (parse_duration(format_duration(e.t)), e.data.check, "kill-primary") for e in impacts]
    texts = [e.data.text for e in journal.of(ActionRecorded) if e.data.action in ("post_update", "notify_executives")]
    chats = [i for i in injects if i.channel == "chat"]
    assert [i.message for i in chats] == texts
    assert all(i.at is None and i.from_.endswith("(comms-lead)") for i in chats)


def test_what_the_team_did_becomes_expectations() -> None:
    replay = replay_scenario(read_journal(GOLDEN / "clean.jsonl"))
    by_id = {i.id: i for i in replay.scenario.injects}
    assert [e.step for e in by_id["alert-1"].expect] == [
        "acknowledge", "declare", "severity", "failover", "executives", "status", "resolve"]
    assert by_id["alert-1"].expect[0].description == (
        "In drill checkout-db-primary-failure-clean, alice (incident-commander) did it at 11.0s (on time)")
    assert not by_id["impact-1"].expect
    late = replay_scenario(read_journal(GOLDEN / "late.jsonl")).scenario.injects
    assert any("(late)" in (e.description or "") for i in late for e in i.expect)


def test_silent_drill_replays_its_noise_and_expects_nothing() -> None:
    injects = replay_scenario(read_journal(GOLDEN / "silent.jsonl")).scenario.injects
    (alert,) = [i for i in injects if i.channel == "alert"]
    assert alert.subject == "FIRING: DiskSpaceLow" and "matched no detection signal" in (alert.synopsis or "")
    assert all(not i.expect for i in injects)


# ------------------------------------------------------------------------------ refusals


def scenario(**changes: object) -> Scenario:
    data = yaml.safe_load((GOLDEN / "checkout.scenario.yaml").read_text(encoding="utf-8"))
    data.update(changes)
    return Scenario.model_validate(data)


def started(mode: str = "gameday", **changes: object) -> DrillStarted:
    return DrillStarted(drill_id="d1", mode=mode, scenario=scenario(**changes),  # type: ignore[arg-type]
                        scenario_path=str(ROOT / "scenarios" / "checkout-db-primary-failure.yaml"), policy=DEFAULT_POLICY)


def alert(name: str) -> AlertReceived:
    labels = {"alertname": name}
    return AlertReceived(format="alertmanager", matched=False, alerts=[AlertRow(status="firing", alertname=name, labels=labels)],
                         payload={"version": "4", "status": "firing", "alerts": [{"status": "firing", "labels": labels}]})


@pytest.mark.parametrize("mode", ["tabletop", "training"])
def test_a_tabletop_journal_is_refused(mode: str, tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    write_journal(path, started(mode), [(9.0, alert("X"), "simulator")])
    out = tmp_path / "out.yaml"
    code, stdout, stderr = from_journal(str(path), "-o", str(out))
    assert (code, stdout) == (2, "")
    assert stderr == (f"gameday: {path}: a {mode} drill's journal: from-journal replays a live drill's "
                      "(mode gameday or ci)\n")
    assert not out.exists()


def test_a_malformed_journal_is_one_line(tmp_path: Path) -> None:
    lines = (GOLDEN / "clean.jsonl").read_bytes().splitlines(keepends=True)
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b"".join([lines[0], b"not json\n", *lines[2:]]))
    out = tmp_path / "out.yaml"
    code, _, stderr = from_journal(str(bad), "-o", str(out))
    assert code == 2 and stderr.count("\n") == 1 and stderr.startswith(f"gameday: {bad}:2: not JSON")
    assert not out.exists()
    code, _, stderr = from_journal(str(tmp_path / "none.jsonl"), "-o", str(out))
    assert code == 2 and stderr.count("\n") == 1 and "cannot read" in stderr


def test_nothing_to_replay_and_the_abort_limit(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    write_journal(empty, started(), [])
    code, _, stderr = from_journal(str(empty), "-o", str(tmp_path / "out.yaml"))
    assert code == 2 and stderr == (f"gameday: {empty}: nothing to replay: no alert, customer impact or status "
                                    "update before abort.max_duration (2m)\n")
    path = tmp_path / "journal.jsonl"
    write_journal(path, started(), [(9.0, alert("Early"), "webhook"), (130.0, alert("TooLate"), "webhook")])
    out = tmp_path / "out.yaml"
    code, _, stderr = from_journal(str(path), "-o", str(out), "--project", str(ROOT))
    assert code == 0
    assert stderr.splitlines() == ["gameday: left out: AlertReceived at 2m10s (seq 2): at or after abort.max_duration",
                                   f"{out}: 1 inject replayed from drill d1"]
    assert [i.subject for i in load_scenario(out).scenario.injects] == ["FIRING: Early"]


def test_refuses_to_overwrite_the_journal(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    path.write_bytes((GOLDEN / "clean.jsonl").read_bytes())
    code, _, stderr = from_journal(str(path), "-o", str(path), "--project", str(ROOT))
    assert code == 2 and stderr == f"gameday: {path}: is this command's input: write the scenario to another file\n"
    assert path.read_bytes() == (GOLDEN / "clean.jsonl").read_bytes()


def test_an_experiment_that_cannot_be_found_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    faults = [{"id": "kill-primary", "at": "4s", "experiment": "experiments/nowhere.yaml", "max_duration": "1m"}]
    write_journal(path, started(faults=faults, responders=None), [(9.0, alert("X"), "webhook")])
    out = tmp_path / "out.yaml"
    code, _, stderr = from_journal(str(path), "-o", str(out))
    assert code == 2 and stderr.count("\n") == 1
    assert stderr.startswith(f"gameday: {path}: the drill's scenario names a file that is not where it was: experiment of "
                             "fault 'kill-primary' 'experiments/nowhere.yaml' not found (looked in ")
    assert stderr.endswith("; give --project, the folder the drill ran in\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["journal.jsonl"]


def test_a_scenario_that_does_not_load_where_it_lands_writes_nothing(tmp_path: Path) -> None:
    """The output is checked as a file in its folder before it is written: a broken experiment there fails it."""
    (tmp_path / "experiments").mkdir()
    (tmp_path / "experiments" / "broken.yaml").write_text("title: no method\n", encoding="utf-8")
    (tmp_path / "gameday.yaml").write_text("{}\n", encoding="utf-8")
    path = tmp_path / "journal.jsonl"
    faults = [{"id": "kill-primary", "at": "4s", "experiment": "experiments/broken.yaml", "max_duration": "1m"}]
    write_journal(path, started(faults=faults, responders=None), [(9.0, alert("X"), "webhook")])
    out = tmp_path / "tables" / "out.yaml"
    code, _, stderr = from_journal(str(path), "-o", str(out), "--project", str(tmp_path))
    assert code == 2 and "experiments/broken.yaml" in stderr and "Traceback" not in stderr
    assert not out.exists() and not (tmp_path / "tables").exists()  # no output, no temporary file, no new folder


def test_library_replay_keeps_left_out_deliveries(tmp_path: Path) -> None:
    refused = AlertReceived(format="alertmanager", matched=False, error="unauthenticated: no token", payload="{...")
    path = tmp_path / "journal.jsonl"
    write_journal(path, started(), [(5.0, refused, "webhook"), (9.0, alert("Real"), "webhook")])
    out = tmp_path / "sub" / "t.yaml"
    replay = replay_file(path, out, project=ROOT)
    assert replay.left_out == ["AlertReceived at 5.0s (seq 1): unauthenticated: no token"]
    assert [i.id for i in replay.scenario.injects] == ["alert-1"]
    assert out.read_text(encoding="utf-8").startswith("# A tabletop replay of drill d1, written by `gameday msel")


def test_a_delivery_that_carried_a_responders_action_is_not_replayed(tmp_path: Path) -> None:
    """A PagerDuty acknowledgement webhook recorded the responder's acknowledge: replayed, it would
    acknowledge for the players. It is left out, and named."""
    ack = AlertReceived(format="pagerduty", matched=False, payload={"event": {"event_type": "incident.acknowledged"}})
    path = tmp_path / "journal.jsonl"
    write_journal(path, started(), [
        (9.0, alert("CheckoutErrorsHigh"), "webhook"),
        (11.0, ack, "webhook"),
        (11.0, ActionRecorded(action="acknowledge", author="pat", via="pagerduty", alert_seq=2), "pat"),
    ])
    replay = replay_file(path, tmp_path / "t.yaml", project=ROOT)
    assert replay.left_out == [("AlertReceived at 11.0s (seq 2): it carried pat's acknowledge (via pagerduty): "
                               "the players do that themselves")]
    assert [i.id for i in replay.scenario.injects] == ["alert-1"]


@pytest.mark.parametrize("name", ["clean"])
def test_the_replay_plays_as_a_tabletop_with_the_drills_detection(name: str, tmp_path: Path) -> None:
    """End to end: the replayed scenario, run as a headless tabletop (scripted participants, instant
    pace), detects through its replayed alert exactly when and how the live drill did."""
    import json
    import subprocess
    import sys

    gameday = Path(sys.executable).parent / "gameday"
    out = tmp_path / "replay.yaml"
    code, _, stderr = from_journal(str(GOLDEN / f"{name}.jsonl"), "-o", str(out), "--project", str(ROOT))
    assert code == 0, stderr
    responders = ROOT / "scenarios" / "responders" / "checkout-db-primary-failure.ci.yaml"
    run = subprocess.run([str(gameday), "run", str(out), "--mode", "tabletop", "--pace", "instant", "--responders",
                          str(responders), "--out", str(tmp_path / "drill")], capture_output=True, text=True, timeout=120,
                         cwd=tmp_path)
    assert run.returncode in (0, 1), run.stderr
    card = json.loads(subprocess.run([str(gameday), "score", str(tmp_path / "drill" / "journal.jsonl")],
                                     capture_output=True, text=True, check=True, timeout=120).stdout)
    live = json.loads((GOLDEN / f"{name}.scorecard.json").read_text(encoding="utf-8"))
    assert card["mode"] == "tabletop"
    keys = ("verdict", "via", "signal", "detected_t", "deadline_t", "alerts_received")
    assert {k: card["detection"][k] for k in keys} == {k: live["detection"][k] for k in keys}
