"""Findings followed through: gap keys and fingerprints over the golden journals, the merge rules
(new, seen again, closed by a re-drill, reopened as a repeat, idempotent), the file (round trip,
comments kept, located errors, never overwritten when malformed, concurrent writers), the judgment
of a re-drill, the hook after a drill's reports, and the CLI (list, assign, record, close)."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import re
import threading
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from gameday.analysis.findings import action_items
from gameday.analysis.scorecard import score_journal
from gameday.cli import main
from gameday.drill.reports import Outputs
from gameday.errors import ScenarioError
from gameday.journal import Journal, read_journal
from gameday.model.findings import DrillRef, FindingsFile, fingerprint
from gameday.program.findings import (
    DrillFindings,
    assign,
    drill_findings,
    merge,
    read_findings,
    record_after_reports,
    record_drills,
)
from gameday.program.findings_file import render_findings
from gameday.program.redrill import close_with_drill, judge

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "journals"
SCHEMA = Path(__file__).resolve().parents[2] / "schema" / "findings.schema.json"
NAMES = ["clean", "silent", "late", "aborted", "torn", "tabletop"]
SCENARIO = "checkout-db-primary-failure"


def golden(name: str) -> Journal:
    return read_journal(GOLDEN / f"{name}.jsonl")


def at(drill: DrillFindings, when: str, drill_id: str | None = None) -> DrillFindings:
    """The same drill's findings, as if it had started at ``when`` (and had the id ``drill_id``)."""
    return dataclasses.replace(drill, drill=DrillRef(drill=drill_id or drill.drill.drill, at=when))


def late_variant(tmp_path: Path, ack: float, drill_id: str) -> Journal:
    """The golden 'late' drill with the page acknowledged at ``ack`` seconds (other figures, same gaps)."""
    spec = importlib.util.spec_from_file_location("make_journals", GOLDEN.parent / "make_journals.py")
    assert spec and spec.loader
    maker: Any = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(maker)
    source = (GOLDEN.parent / "make_journals.py").read_text(encoding="utf-8")
    assert 'd.act(20.0, "alice", "incident-commander", "acknowledge")' in source
    path = tmp_path / f"{drill_id}.jsonl"
    d = maker.Drill(path, drill_id)
    d.prologue(maker.ROLES)
    d.at(4.3, maker.ImpactStarted(check=maker.CHECK, detail="connection refused"), "observer")
    d.detect(12.0, "checkout down", "CheckoutDown", d.alert(12.0, "CheckoutDown", "checkout down"))
    d.act(ack, "alice", "incident-commander", "acknowledge")
    d.act(21.0, "alice", "incident-commander", "declare_incident", severity="SEV2")
    d.act(25.0, "carol", "comms-lead", "post_update", audience="external", text="Some customers see checkout errors.")
    d.act(30.0, "alice", "incident-commander", "runbook_started", runbook="failover")
    d.act(35.0, "alice", "incident-commander", "set_severity", severity="SEV1")
    d.act(36.0, "alice", "incident-commander", "runbook_finished", runbook="failover", ok=True, error=None)
    d.recovered(40.0)
    d.act(58.0, "alice", "incident-commander", "resolved")
    d.epilogue(60.0)
    return read_journal(path)


# ------------------------------------------------------------------ gap keys and fingerprints


@pytest.mark.parametrize("name", NAMES)
def test_every_action_item_of_the_golden_journals_has_a_number_free_gap_key(name: str) -> None:
    journal = golden(name)
    items = action_items(score_journal(journal), journal)
    for item in items:
        assert re.fullmatch(r"[a-z][a-z-]*(:[a-z ]+)?", item.gap), (item.gap, item.title)
    assert len({i.gap for i in items}) == len(items)  # one item per gap in a drill


def test_gap_keys_of_the_late_drill_and_the_fingerprints_are_pinned() -> None:
    drill = drill_findings(golden("late"))
    assert [o.gap for o in drill.observations] == [
        "step:executives", "step:acknowledge", "step:severity", "step:failover", "step:status", "severity",
        "comms-cadence", "ic-hands-on"]
    # the title says 30.1s (the policy scaled): the key does not
    assert any("30.1s" in o.title for o in drill.observations)
    assert fingerprint(SCENARIO, "step:acknowledge") == "F-0d498b9f"  # a change here renames every finding
    assert re.fullmatch(r"F-[0-9a-f]{8}", fingerprint(SCENARIO, "no-alert:checkout health"))


def test_silent_and_aborted_and_tabletop_keys() -> None:
    assert [o.gap for o in drill_findings(golden("silent")).observations] == [
        "no-alert:checkout health", "alerts-unmatched", "recovery"]
    assert [o.gap for o in drill_findings(golden("aborted")).observations] == ["executives", "drill-unfinished"]
    tabletop = drill_findings(golden("tabletop"))
    assert tabletop.mode == "tabletop" and "severity" in [o.gap for o in tabletop.observations]
    assert drill_findings(golden("clean")).observations == ()


def test_the_same_gap_with_other_figures_is_the_same_finding(tmp_path: Path) -> None:
    three = drill_findings(late_variant(tmp_path, 20.0, "late-3s"))
    nine = drill_findings(late_variant(tmp_path, 26.0, "late-9s"))
    ack3 = next(o for o in three.observations if o.gap == "step:acknowledge")
    ack9 = next(o for o in nine.observations if o.gap == "step:acknowledge")
    assert ack3.why != ack9.why  # 3.0s late, 9.0s late
    merged, first = merge(FindingsFile(), three)
    merged, second = merge(merged, at(nine, "2026-01-02T09:00:00Z"))
    f = merged.get(SCENARIO, "step:acknowledge")
    assert f is not None and f.id in first.new and f.id in second.seen
    assert f.seen_in == ["late-3s", "late-9s"] and f.why == ack9.why  # the latest drill's words


# ------------------------------------------------------------------ merge rules


def test_new_seen_closed_reopened_as_repeat_and_older_drills() -> None:
    late = at(drill_findings(golden("late")), "2026-01-01T09:00:00Z", "d1")
    ff, m1 = merge(FindingsFile(), late)
    assert len(m1.new) == 8 and all(f.status == "open" for f in ff.findings)
    again, m0 = merge(ff, late)
    assert again == ff and m0.summary() == "already recorded"  # idempotent per drill id
    ff, m2 = merge(ff, at(late, "2026-01-02T09:00:00Z", "d2"))
    assert len(m2.seen) == 8 and ff.findings[0].seen_in == ["d1", "d2"]

    target = ff.get(SCENARIO, "step:acknowledge")
    assert target is not None
    clean = golden("clean")
    card = score_journal(clean)
    redrill = at(drill_findings(clean, card), "2026-01-03T09:00:00Z", "r1")
    decision = judge(target, redrill, card, clean)
    assert decision.closed and decision.code == 0 and "step acknowledge was on time" in decision.why

    older = at(redrill, "2026-01-01T08:00:00Z", "r0")  # a drill from before the last sighting proves nothing
    assert judge(target, older, card, clean).code == 1


def test_close_then_reopen_as_repeat_through_the_file(tmp_path: Path) -> None:
    path = tmp_path / "findings.yaml"
    late = drill_findings(golden("late"))
    record_drills(path, [at(late, "2026-01-01T09:00:00Z", "d1")])
    clean = golden("clean")
    card = score_journal(clean)
    fid = fingerprint(SCENARIO, "step:acknowledge")
    done, decision = close_with_drill(path, fid, at(drill_findings(clean, card), "2026-01-02T09:00:00Z", "r1"),
                                      card, clean)
    assert decision.closed and done.status == "closed" and done.closed_by is not None
    assert [h.status for h in done.history] == ["open", "closed"]
    # a drill from before the re-drill (recorded late) changes seen_in only
    [older] = record_drills(path, [at(late, "2026-01-01T12:00:00Z", "d-old")])
    f = read_findings(path).get(SCENARIO, "step:acknowledge")
    assert f is not None and f.status == "closed" and fid in older.older and "d-old" in f.seen_in
    # a later drill that shows it: reopened, a repeat
    [later] = record_drills(path, [at(late, "2026-01-05T09:00:00Z", "d3")])
    f = read_findings(path).get(SCENARIO, "step:acknowledge")
    assert f is not None and fid in later.reopened
    assert (f.status, f.repeats, f.closed_by) == ("reopened", 1, None)
    assert [h.status for h in f.history] == ["open", "closed", "reopened"]
    # closing again, and a second comeback counts twice
    close_with_drill(path, fid, at(drill_findings(clean, card), "2026-01-06T09:00:00Z", "r2"), card, clean)
    record_drills(path, [at(late, "2026-01-07T09:00:00Z", "d4")])
    f = read_findings(path).get(SCENARIO, "step:acknowledge")
    assert f is not None and (f.status, f.repeats) == ("reopened", 2)


def test_recording_is_idempotent_and_independent_of_order(tmp_path: Path) -> None:
    drills = [at(drill_findings(golden(n)), f"2026-01-0{i + 1}T09:00:00Z") for i, n in enumerate(["late", "silent", "aborted"])]
    late = drill_findings(golden("late"))
    drills += [at(late, "2026-01-09T09:00:00Z", "late-b"), at(late, "2026-01-05T09:00:00Z", "late-a")]
    one, two = tmp_path / "a.yaml", tmp_path / "b.yaml"
    record_drills(one, drills)
    for d in reversed(drills):
        record_drills(two, [d])
    assert one.read_bytes() == two.read_bytes()
    before = one.read_bytes()
    record_drills(one, drills)
    assert one.read_bytes() == before


def test_judge_refuses_what_proves_nothing() -> None:
    late = drill_findings(golden("late"))
    ff, _ = merge(FindingsFile(), at(late, "2025-12-01T09:00:00Z"))
    target = ff.get(SCENARIO, "step:acknowledge")
    assert target is not None
    aborted = golden("aborted")
    assert judge(target, drill_findings(aborted), score_journal(aborted), aborted).code == 3
    tabletop = golden("tabletop")
    other = judge(target, drill_findings(tabletop), score_journal(tabletop), tabletop)
    assert other.code == 2 and "scenario" in other.why
    journal = golden("late")
    same = judge(target, at(late, "2026-02-01T09:00:00Z", "x"), score_journal(journal), journal)
    assert same.code == 1 and "still shows it" in same.why


# ------------------------------------------------------------------ the file


def test_file_round_trip_is_stable_and_keeps_comments(tmp_path: Path) -> None:
    path = tmp_path / "findings.yaml"
    record_drills(path, [drill_findings(golden("late")), drill_findings(golden("silent"))])
    text = path.read_text(encoding="utf-8")
    assert render_findings(read_findings(path)) == text
    fid = fingerprint(SCENARIO, "recovery")
    path.write_text(text.replace(f"  - id: {fid}\n", f"  # ask the DBA team first\n  - id: {fid}\n"), encoding="utf-8")
    assign(path, fid, "Zoë", date(2027, 3, 1))
    after = path.read_text(encoding="utf-8")
    assert f"  # ask the DBA team first\n  - id: {fid}\n" in after
    assert '    owner: "Zoë"\n    due: 2027-03-01\n' in after
    assert after.startswith("# The findings of this project's drills")


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=80))
def test_any_text_round_trips_through_the_file(text: str) -> None:
    late = drill_findings(golden("late"))
    ff, _ = merge(FindingsFile(), late)
    f = ff.findings[0].model_copy(update={"notes": text, "title": text, "why": text})
    one = ff.model_copy(update={"findings": [f, *ff.findings[1:]]})
    rendered = render_findings(one)
    import yaml

    data = yaml.safe_load(rendered)
    assert FindingsFile.model_validate(data) == one


def test_a_malformed_file_is_located_and_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "findings.yaml"
    record_drills(path, [drill_findings(golden("late"))])
    text = path.read_text(encoding="utf-8").replace("status: open\n", "status: done\n", 1)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        read_findings(path)
    line = text.splitlines().index("    status: done") + 1
    assert f"findings.yaml:{line}:13: findings[0].status: expected 'open', 'closed' or 'reopened'" in str(info.value)
    with pytest.raises(ScenarioError):
        record_drills(path, [drill_findings(golden("silent"))])
    assert path.read_text(encoding="utf-8") == text


@pytest.mark.parametrize(("edit", "message"), [
    (lambda t: t.replace("  - id: F-", "  - id: F-0", 1), "is not the fingerprint of scenario"),
    (lambda t: t.replace("repeats: 0", "repeats: 2", 1), "repeats is 2 but history reopens it 0 time(s)"),
    (lambda t: t.replace("findings:\n", "findings:\n  - [", 1), "YAML syntax"),
    (lambda t: t.replace("    gap: ", "    gap: x\n    gap: ", 1), "duplicate key"),
])
def test_invalid_files_name_where_and_what(tmp_path: Path, edit: Any, message: str) -> None:
    path = tmp_path / "findings.yaml"
    record_drills(path, [drill_findings(golden("late"))])
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        read_findings(path)
    assert message in str(info.value), str(info.value)
    assert all(re.match(r".*findings\.yaml:\d+:\d+: ", line) for line in str(info.value).splitlines())


def test_concurrent_writers_lose_no_update(tmp_path: Path) -> None:
    path = tmp_path / "findings.yaml"
    record_drills(path, [drill_findings(golden("late"))])
    ids = [f.id for f in read_findings(path).findings]
    errors: list[BaseException] = []

    def owner(i: int) -> None:
        try:
            assign(path, ids[i], f"person {i}", None)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=owner, args=(i,)) for i in range(len(ids))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(f.owner or "" for f in read_findings(path).findings) == sorted(f"person {i}" for i in range(len(ids)))


def test_published_schema_is_current() -> None:
    result = CliRunner().invoke(main, ["findings", "schema"])
    assert result.exit_code == 0
    assert SCHEMA.read_text(encoding="utf-8") == result.stdout, "run: gameday findings schema > schema/findings.schema.json"


# ------------------------------------------------------------------ the hook after a drill's reports


def test_drills_in_the_default_places_are_recorded_others_not(tmp_path: Path) -> None:
    journal = golden("late")
    card = score_journal(journal)
    lines: list[str] = []
    record_after_reports(Outputs.for_drill(tmp_path, card.drill_id, tmp_path / "elsewhere"), journal, card, lines.append)
    assert lines == [] and not (tmp_path / "findings.yaml").exists()
    record_after_reports(Outputs.for_drill(tmp_path, card.drill_id, None), journal, card, lines.append)
    assert len(lines) == 1 and re.fullmatch(rf"findings:   8 new \((F-[0-9a-f]{{8}}, ){{7}}F-[0-9a-f]{{8}}\) in "
                                            rf"{re.escape(str(tmp_path / 'findings.yaml'))}", lines[0]), lines
    assert len(read_findings(tmp_path / "findings.yaml").findings) == 8


def test_the_hook_never_raises_and_never_overwrites_a_broken_file(tmp_path: Path) -> None:
    (tmp_path / "findings.yaml").write_text("kind: Findings\nfindings: [1\n", encoding="utf-8")
    journal = golden("late")
    card = score_journal(journal)
    lines: list[str] = []
    record_after_reports(Outputs.for_drill(tmp_path, card.drill_id, None), journal, card, lines.append)
    assert len(lines) == 1 and lines[0].startswith("findings:   not recorded: ") and "findings.yaml:" in lines[0]
    assert (tmp_path / "findings.yaml").read_text(encoding="utf-8") == "kind: Findings\nfindings: [1\n"


# ------------------------------------------------------------------ the CLI


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "gameday.yaml").write_text("state_dir: .gameday\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_record_list_assign_from_the_command_line(project: Path) -> None:
    code, out, err = cli("findings", "record", str(GOLDEN / "late.jsonl"), str(GOLDEN / "silent.jsonl"))
    assert code == 0, err
    assert "drill checkout-db-primary-failure-late: 8 new" in out and f"findings: {project / 'findings.yaml'}" in out
    code, again, _ = cli("findings", "record", str(GOLDEN / "late.jsonl"))
    assert code == 0 and "already recorded" in again
    fid = fingerprint(SCENARIO, "recovery")
    past = (date.today() - timedelta(days=3)).isoformat()
    code, out, err = cli("findings", "assign", fid[:6].lower(), "--owner", "dana", "--due", past)
    assert code == 0, err
    assert out.startswith(f"{fid}: owner dana, due {past}")
    code, out, _ = cli("findings", "list", "--overdue")
    assert code == 0 and out.splitlines()[0].startswith(f"{fid}  open  due {past} (OVERDUE)  owner dana (tech-lead)")
    code, out, _ = cli("findings", "list", "--json")
    listed = json.loads(out)
    assert len(listed) == 11 and listed[0]["id"] == fid and listed[0]["overdue"] is True
    code, out, _ = cli("findings", "list", "--repeat")
    assert code == 0 and out.startswith("no findings match")
    code, out, _ = cli("validate", "findings.yaml")
    assert code == 0 and "findings.yaml: ok (findings file)" in out


def test_unknown_ids_and_bad_dates_exit_2_with_one_line(project: Path) -> None:
    cli("findings", "record", str(GOLDEN / "late.jsonl"))
    before = (project / "findings.yaml").read_bytes()
    code, _, err = cli("findings", "assign", "F-0d498b00", "--owner", "dana")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert err.startswith("gameday: no finding 'F-0d498b00' in ") and "closest: F-0d498b9f" in err
    code, _, err = cli("findings", "assign", "F-0d498b9f", "--due", "2027-02-30")
    assert code == 2 and "--due" in err
    code, _, err = cli("findings", "assign", "F-0d498b9f", "--owner", "automation")
    assert code == 2 and "reserved" in err
    code, _, err = cli("findings", "assign", "F-0d498b9f")
    assert code == 2 and "--owner" in err
    assert (project / "findings.yaml").read_bytes() == before


def test_a_broken_file_or_journal_exits_2_and_writes_nothing(project: Path, tmp_path: Path) -> None:
    (project / "findings.yaml").write_text("kind: Findings\nfindings: {}\n", encoding="utf-8")
    code, _, err = cli("findings", "list")
    assert code == 2 and "findings.yaml:2:11: findings:" in err
    code, _, err = cli("findings", "record", str(GOLDEN / "late.jsonl"))
    assert code == 2 and (project / "findings.yaml").read_text(encoding="utf-8") == "kind: Findings\nfindings: {}\n"
    (project / "findings.yaml").unlink()
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"not": "a journal"}\n', encoding="utf-8")
    code, _, err = cli("findings", "record", str(GOLDEN / "late.jsonl"), str(bad))
    assert code == 2 and not (project / "findings.yaml").exists()


def test_text_from_files_is_escaped_for_the_terminal(project: Path) -> None:
    cli("findings", "record", str(GOLDEN / "late.jsonl"))
    path = project / "findings.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('title: "Bring step acknowledge', 'title: "\\u001b[31mRED\\u001b[0m Bring step acknowledge'),
                    encoding="utf-8")
    code, out, err = cli("findings", "list")
    assert code == 0, err
    assert "\x1b" not in out and "RED" in out


def test_close_with_a_drill_journal(project: Path) -> None:
    cli("findings", "record", str(GOLDEN / "late.jsonl"))
    code, out, _ = cli("findings", "close", "F-0d498b9f", "--drill", str(GOLDEN / "aborted.jsonl"))
    assert code == 3 and "stays open" in out and "aborted" in out
    code, out, _ = cli("findings", "close", "F-0d498b9f", "--drill", str(GOLDEN / "tabletop.jsonl"))
    assert code == 2
    # the golden clean drill started at the same second as the late one: ordered by drill id, it is older
    code, out, _ = cli("findings", "close", "F-0d498b9f", "--drill", str(GOLDEN / "clean.jsonl"))
    assert code == 1 and "started before drill checkout-db-primary-failure-late" in out


# ------------------------------------------------------------------ training drills: the rubric's findings


def training_journal(folder: Path, drill_id: str, good: bool) -> Journal:
    """A training drill of scenario 's1' (scripted events): run well, or with the trainee idle."""
    from scenario_texts import BASE_DATA

    from gameday.fakes import write_journal
    from gameday.model.events import (
        ActionRecorded,
        CommandTaken,
        DetectionRecorded,
        DrillEnded,
        DrillStarted,
        FaultInjected,
        RecoveryObserved,
        RoleAssigned,
        TaskAssigned,
        TrainingStarted,
    )
    from gameday.model.policy import SeverityPolicy
    from gameday.model.scenario import Scenario

    ic, tl, cl, me = "incident-commander", "tech-lead", "comms-lead", "dana"
    policy = SeverityPolicy.model_validate({"name": "default", "levels": {"SEV3": {"description": "Degraded."}}})
    started = DrillStarted(drill_id=drill_id, mode="training", policy=policy,
                           scenario=Scenario.model_validate({**BASE_DATA, "id": "s1", "title": "S1"}))
    head = [(0.0, TrainingStarted(trainee=me, seed=1), "conductor"), (0.1, RoleAssigned(person=me, role=ic, by="training"),
                                                                      "training"),
            (10.0, FaultInjected(fault="f", kind="activities"), "injector")]
    well = [(20.0, DetectionRecorded(via="person", by=me), me),
            (25.0, CommandTaken(person=me, text="I am the incident commander"), me),
            (30.0, RoleAssigned(person="Priya", role=tl, by=me), me), (31.0, RoleAssigned(person="Sam", role=cl, by=me), me),
            (35.0, ActionRecorded(action="declare_incident", author=me, role=ic, severity="SEV3"), me),
            (36.0, ActionRecorded(action="set_severity", author=me, role=ic, severity="SEV3"), me),
            (40.0, TaskAssigned(task="t1", to="Priya", role=tl, kind="investigate", text="look", within=120, by=me), me),
            (60.0, ActionRecorded(action="post_update", author="Sam", role=cl, audience="internal", text="on it"), "Sam"),
            (120.0, RecoveryObserved(), "conductor"),
            (140.0, ActionRecorded(action="resolved", author=me, role=ic), me)]
    end = [(150.0, DrillEnded(outcome="completed"), "conductor")]
    return write_journal(folder / f"{drill_id}.jsonl", started, head + (well if good else []) + end)


def test_a_training_drill_gives_rubric_findings_closed_only_by_a_training_drill(tmp_path: Path) -> None:
    weak = training_journal(tmp_path, "s1-weak", good=False)
    drill = drill_findings(weak)
    gaps = [o.gap for o in drill.observations]
    assert "rubric:took-command" in gaps and all(g.startswith("rubric:") for g in gaps)
    assert {o.source for o in drill.observations} == {"training"}
    path = tmp_path / "findings.yaml"
    record_drills(path, [drill])
    fid = fingerprint("s1", "rubric:took-command")
    from gameday.errors import ConfigError
    from gameday.program.redrill import run_redrill

    with pytest.raises(ConfigError, match="is a training finding: a ci drill cannot show it fixed"):
        run_redrill(path, fid, None, print)
    good = training_journal(tmp_path, "s1-good", good=True)
    card = score_journal(good)
    done, decision = close_with_drill(path, fid, at(drill_findings(good, card), "2027-01-01T09:00:00Z"), card, good)
    assert decision.closed and done.status == "closed", decision.why
    assert "rubric item took-command: met" in decision.why


def test_colliding_ids_get_a_longer_fingerprint_and_duplicates_in_a_file_are_refused(tmp_path: Path) -> None:
    from gameday.program.findings import _free_id

    short = fingerprint(SCENARIO, "severity")
    longer = _free_id(SCENARIO, "severity", {short})
    assert longer == fingerprint(SCENARIO, "severity", 12) and longer.startswith(short)
    late = drill_findings(golden("late"))
    ff, _ = merge(FindingsFile(), late)
    f = ff.get(SCENARIO, "severity")
    assert f is not None
    FindingsFile(findings=[f.model_copy(update={"id": longer})])  # a longer id of the same key is valid
    path = tmp_path / "findings.yaml"
    record_drills(path, [late])
    text = path.read_text(encoding="utf-8")
    block = text[text.index(f"  - id: {f.id}"):].split("\n\n")[0]
    path.write_text(text + "\n" + block + "\n", encoding="utf-8")  # the same finding twice
    with pytest.raises(ScenarioError) as info:
        read_findings(path)
    assert f"id {f.id} is also finding" in str(info.value) and "one per gap" in str(info.value)


def test_a_redrill_that_could_not_show_the_gap_does_not_close_it(tmp_path: Path) -> None:
    """A silent drill's 'alerts matched no signal' is not shown fixed by a drill in which no alert fired at all;
    nor is a runbook's failure by a drill in which the runbook never ran."""
    silent = drill_findings(golden("silent"))
    ff, _ = merge(FindingsFile(), at(silent, "2026-01-01T09:00:00Z", "s1"))
    target = ff.get(SCENARIO, "alerts-unmatched")
    assert target is not None and target.mode == "gameday"
    from gameday.fakes import write_journal
    from gameday.model.events import AlertReceived, DrillStarted

    events = golden("silent").events
    assert isinstance(events[0].data, DrillStarted)
    journal = write_journal(tmp_path / "quiet.jsonl", events[0].data, [
        (e.t, e.data, e.source) for e in events[1:] if not isinstance(e.data, AlertReceived)])
    card = score_journal(journal)
    decision = judge(target, at(drill_findings(journal, card), "2026-01-05T09:00:00Z", "s2"), card, journal)
    assert not decision.closed and decision.code == 1 and "no alert fired" in decision.why
    runbook = target.model_copy(update={"gap": "runbook-failed:failover"})
    decision = judge(runbook, at(drill_findings(journal, card), "2026-01-05T09:00:00Z", "s2"), card, journal)
    assert not decision.closed and "runbook failover did not run" in decision.why
    unknown = target.model_copy(update={"gap": "something-new:x"})
    assert "no test that shows a gap of kind something-new" in judge(
        unknown, at(drill_findings(journal, card), "2026-01-05T09:00:00Z", "s2"), card, journal).why


def test_who_can_judge_a_finding_follows_the_drill_that_showed_it() -> None:
    """People's gaps of a live game day are shown fixed by a live game day (not a ci drill's script); a tabletop's
    findings by a tabletop; a training drill's by a training drill; the system's gaps by ci or live."""
    from gameday.program.redrill import judging_modes

    late = drill_findings(golden("late"))
    ff, _ = merge(FindingsFile(), at(late, "2026-01-01T09:00:00Z", "d1"))
    step = ff.get(SCENARIO, "step:acknowledge")
    assert step is not None and step.mode == "gameday" and judging_modes(step) == ("gameday",)
    assert judging_modes(step.model_copy(update={"mode": "ci"})) == ("ci", "gameday")
    assert judging_modes(step.model_copy(update={"gap": "runbook-failed:x"})) == ("ci", "gameday")
    assert judging_modes(step.model_copy(update={"mode": "tabletop"})) == ("tabletop",)
    clean = golden("clean")
    card = score_journal(clean)
    ci_drill = dataclasses.replace(at(drill_findings(clean, card), "2026-01-03T09:00:00Z", "r1"), mode="ci")
    decision = judge(step, ci_drill, card, clean)
    assert not decision.closed and decision.code == 2 and "a ci drill cannot show gap step:acknowledge" in decision.why
    tabletop = drill_findings(golden("tabletop"))
    tt, _ = merge(FindingsFile(), at(tabletop, "2026-01-01T09:00:00Z", "t1"))
    assert all(judging_modes(f) == ("tabletop",) for f in tt.findings)
