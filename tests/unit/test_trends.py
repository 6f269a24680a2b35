"""Trends across drills: reading rows (scorecard or scored, the cache), the analysis, the three files."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from gameday.cli import main
from gameday.model.trends import DrillRow, TrendsReport, Turn
from gameday.program.trends import analyse, decay, readiness
from gameday.program.trends_read import CACHE_NAME, read_rows
from gameday.program.trends_run import LAST_NAME, build_trends
from gameday.program.trends_write import csv_text, html_text

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "journals"
NAMES = ("clean", "late", "silent", "aborted", "tabletop")
AS_OF = date(2026, 3, 1)


def _project(tmp_path: Path, names: tuple[str, ...] = NAMES, *, cards: bool = True) -> Path:
    """A project with the golden journals as drills left them: reports/ID/journal.jsonl, scorecards/ID.json."""
    for name in names:
        drill = tmp_path / "reports" / name
        drill.mkdir(parents=True)
        shutil.copy(GOLDEN / f"{name}.jsonl", drill / "journal.jsonl")
        if cards:
            (tmp_path / "scorecards").mkdir(exist_ok=True)
            shutil.copy(GOLDEN / f"{name}.scorecard.json", tmp_path / "scorecards" / f"{_drill_id(drill)}.json")
    return tmp_path


def _drill_id(folder: Path) -> str:
    first = json.loads((folder / "journal.jsonl").read_bytes().split(b"\n", 1)[0])
    return str(first["data"]["drill_id"])


def _folders(root: Path) -> list[Path]:
    return [root / "reports", root / "scorecards"]


def row(**over: object) -> DrillRow:
    base: dict[str, object] = dict(
        journal="j", source="scored", drill_id="d1", scenario_id="s1", title="S1", mode="ci",
        started_at="2026-01-10T10:00:00Z", outcome="completed", verdict="passed", score=100.0, fault_injected=True,
        mttd=10.0, mtta=5.0, mttr=60.0, recovery=30.0, steps_due=4, steps_on_time=4, severity_judged=True,
        severity_correct=True, detection="on_time", detected_by="errors", signals=["errors", "down"], tags=[],
        turns=[], people=[])
    base.update(over)
    return DrillRow.model_validate(base)


# ------------------------------------------------------------------------------------------ reading
def test_rows_from_scorecards_equal_rows_scored_now(tmp_path: Path) -> None:
    """The narrow reading of a drill's scorecard gives the row the real analysis gives (the one truth)."""
    root = _project(tmp_path)
    from_cards = read_rows(_folders(root))
    scored = read_rows(_folders(root), rescore=True)
    assert [r.source for r in from_cards.rows] == ["scorecard"] * len(NAMES)
    assert [r.source for r in scored.rows] == ["scored"] * len(NAMES)
    assert [r.model_copy(update={"source": "x"}) for r in from_cards.rows] == \
        [r.model_copy(update={"source": "x"}) for r in scored.rows]
    clean = next(r for r in scored.rows if r.drill_id.endswith("clean"))
    card = json.loads((GOLDEN / "clean.scorecard.json").read_text())
    times = {m["name"]: m["seconds"] for m in card["times"]}
    assert (clean.mttd, clean.mtta, clean.mttr, clean.score) == (times["MTTD"], times["MTTA"], times["MTTR"],
                                                                 card["score"]["total"])
    assert clean.turns == [Turn(person="carol", role="comms-lead"), Turn(person="alice", role="incident-commander"),
                           Turn(person="bob", role="tech-lead")]
    silent = next(r for r in scored.rows if r.drill_id.endswith("silent"))
    assert silent.detection == "silent" and silent.mttd is None


def test_a_scorecard_older_than_its_journal_is_not_trusted(tmp_path: Path) -> None:
    root = _project(tmp_path, ("clean",))
    journal = root / "reports" / "clean" / "journal.jsonl"
    later = (root / "scorecards").glob("*.json").__next__().stat().st_mtime_ns + 10**9
    os.utime(journal, ns=(later, later))
    assert [r.source for r in read_rows(_folders(root)).rows] == ["scored"]


def test_a_scorecard_that_does_not_read_means_scoring_the_journal(tmp_path: Path) -> None:
    root = _project(tmp_path, ("late",))
    next((root / "scorecards").glob("*.json")).write_text('{"drill_id": 3}')
    scan = read_rows(_folders(root))
    assert [r.source for r in scan.rows] == ["scored"] and not scan.skipped


def test_unreadable_files_are_skipped_with_a_line_naming_them(tmp_path: Path) -> None:
    root = _project(tmp_path, ("clean",), cards=False)
    (root / "reports" / "notes.jsonl").write_text('{"hello": "world"}\n')
    (root / "reports" / "empty.jsonl").write_bytes(b"")
    scan = read_rows([root / "reports"])
    assert [r.drill_id for r in scan.rows] == ["checkout-db-primary-failure-clean"]
    assert len(scan.skipped) == 2 and all("not a gameday journal" in s for s in scan.skipped)
    assert any("notes.jsonl" in s for s in scan.skipped)


def test_the_cache_reads_only_what_changed_and_survives_corruption(tmp_path: Path) -> None:
    root = _project(tmp_path, ("clean", "late"), cards=False)
    cache = tmp_path / ".gameday" / CACHE_NAME
    first = read_rows(_folders(root), cache=cache)
    assert (first.scored, first.from_cache) == (2, 0)
    second = read_rows(_folders(root), cache=cache)
    assert (second.scored, second.from_cache) == (0, 2) and second.rows == first.rows
    journal = root / "reports" / "late" / "journal.jsonl"
    journal.write_bytes(journal.read_bytes())  # touched: a new mtime
    os.utime(journal, ns=(journal.stat().st_mtime_ns + 10**9,) * 2)
    third = read_rows(_folders(root), cache=cache)
    assert (third.scored, third.from_cache) == (1, 1)
    cache.write_text("{not json")
    fourth = read_rows(_folders(root), cache=cache)
    assert (fourth.scored, fourth.from_cache) == (2, 0) and fourth.rows == first.rows


def test_many_journals_are_scored_in_worker_processes(tmp_path: Path) -> None:
    from gameday.program import trends_read

    root = tmp_path
    for i in range(trends_read.PARALLEL_FROM):
        name = ("clean", "late", "silent")[i % 3]
        drill = root / "reports" / f"{name}-{i}"
        drill.mkdir(parents=True)
        text = (GOLDEN / f"{name}.jsonl").read_text().replace(f"primary-failure-{name}", f"primary-failure-{name}-{i}")
        (drill / "journal.jsonl").write_text(text)
    scan = read_rows([root / "reports"], workers=2)
    assert scan.scored == trends_read.PARALLEL_FROM and not scan.skipped and len(scan.rows) == scan.scored
    assert {r.source for r in scan.rows} == {"scored"}


# ------------------------------------------------------------------------------------------ analysis
def test_readiness_follows_the_documented_formula() -> None:
    assert [decay(a) for a in (0, 30, 60, 90, 180)] == [1.0, 1.0, 0.875, 0.75, 0.375]
    passed = row(started_at="2026-01-01T00:00:00Z")
    assert readiness("s1", [passed], date(2026, 1, 20)).readiness == 100.0
    assert readiness("s1", [passed], date(2026, 4, 1)).readiness == 75.0  # 90 days: passed but stale
    failed = row(started_at="2026-01-01T00:00:00Z", verdict="not_passed", drill_id="d2", score=40.0)
    assert readiness("s1", [failed], date(2026, 1, 2)).readiness == 50.0
    assert readiness("s1", [], AS_OF).readiness == 0.0
    # a tabletop, a training drill, an aborted one, one that injected nothing: none proves the system
    others = [row(mode="tabletop"), row(mode="training"), row(outcome="aborted", verdict="aborted"),
              row(fault_injected=False)]
    assert readiness("s1", others, AS_OF).why.startswith("never run")
    # the latest real run decides
    both = [row(started_at="2026-01-01T00:00:00Z"), row(drill_id="d9", started_at="2026-02-01T00:00:00Z",
                                                       verdict="not_passed")]
    assert readiness("s1", both, date(2026, 2, 2)).last_run == "d9"


@given(st.integers(min_value=0, max_value=5000), st.integers(min_value=0, max_value=5000))
def test_decay_never_grows_with_age(a: int, b: int) -> None:
    lo, hi = sorted((a, b))
    assert 0 < decay(hi) <= decay(lo) <= 1


def test_series_never_mix_modes_and_take_medians() -> None:
    rows = [row(drill_id="a", mttd=10.0), row(drill_id="b", mttd=30.0, started_at="2026-01-20T00:00:00Z"),
            row(drill_id="c", mttd=20.0), row(drill_id="d", mode="gameday", mttd=500.0),
            row(drill_id="e", mttd=None, detection="silent", verdict="not_passed", score=20.0,
                started_at="2026-02-03T00:00:00Z", steps_on_time=1, severity_correct=False)]
    report = analyse(rows, as_of=AS_OF, journals=5)
    by = {(s.mode, s.month): s for s in report.series}
    assert set(by) == {("ci", "2026-01"), ("ci", "2026-02"), ("gameday", "2026-01")}
    assert by[("ci", "2026-01")].mttd == 20.0 and by[("ci", "2026-01")].drills == 3
    assert by[("gameday", "2026-01")].mttd == 500.0
    feb = by[("ci", "2026-02")]
    assert (feb.mttd, feb.passed, feb.steps_on_time, feb.severity_accuracy) == (None, 0, 0.25, 0.0)
    assert [(f.month, f.mode, f.drills) for f in report.frequency] == [
        ("2026-01", "ci", 3), ("2026-01", "gameday", 1), ("2026-02", "ci", 1)]
    silent = {(c.signal): c for c in report.coverage}
    assert silent["errors"].exercised == 5 and silent["errors"].silent == 1 and silent["down"].detected_by_it == 0


def test_people_count_only_people_and_ic_experience_by_mode() -> None:
    ic, tech = "incident-commander", "tech-lead"
    rows = [
        row(drill_id="live", mode="gameday", turns=[Turn(person="Ada", role=ic), Turn(person="bob", role=tech)],
            people=["Ada", "bob"]),
        row(drill_id="tt", mode="tabletop", started_at="2026-02-01T00:00:00Z",
            turns=[Turn(person="ada", role=ic)], people=["ada"]),
        row(drill_id="ci", mode="ci", turns=[Turn(person="scripted", role=ic)], people=["scripted"]),
        row(drill_id="tr", mode="training", turns=[Turn(person="bob", role=ic), Turn(person="Priya", role=tech)],
            people=["Priya", "bob"]),
    ]
    people = {p.person: p for p in analyse(rows, as_of=AS_OF, journals=4).people}
    assert set(people) == {"Ada", "bob"}  # not the ci script, not the simulated Priya; Ada and ada are one person
    assert (people["Ada"].ic_turns, people["Ada"].drills, people["Ada"].last_ic) == (2, 2, "2026-02-01")
    assert (people["bob"].ic_turns, people["bob"].ic_training, people["bob"].roles) == (0, 1, {ic: 1, tech: 1})


def test_never_run_pool_scenarios_get_readiness_zero() -> None:
    report = analyse([row()], as_of=AS_OF, journals=1, scenarios=["s1", "never"])
    assert {r.scenario_id: r.readiness for r in report.readiness} == {"never": 0.0, "s1": 91.7}  # 50 days: 100 × (1 − 0.25 × 20/60)


# ------------------------------------------------------------------------------------------ files
HOSTILE = "<script>alert(1)</script> =cmd|' /C calc'!A0"


def test_people_text_is_data_in_csv_and_html() -> None:
    rows = [row(title=HOSTILE, scenario_id="<script>s1</script>", turns=[Turn(person="=HYPERLINK(1)", role="incident-commander")],
                people=["=HYPERLINK(1)"], mode="gameday")]
    report = analyse(rows, as_of=AS_OF, journals=1)
    cells = list(csv.reader(io.StringIO(csv_text(report))))
    assert cells[1][cells[0].index("incident_commander")] == "'=HYPERLINK(1)"
    assert cells[1][cells[0].index("title")] == HOSTILE  # a title not starting like a formula stays as written
    html = html_text(report, [])
    assert "<script>" not in html and "&lt;script&gt;s1&lt;/script&gt;" in html


def test_build_writes_three_files_deterministically(tmp_path: Path) -> None:
    root = _project(tmp_path / "p")
    state = tmp_path / "state"
    run = build_trends(_folders(root), tmp_path / "out", as_of=AS_OF, state=state)
    paths = run.paths
    assert [p.name for p in paths] == ["trends.json", "trends.csv", "trends.html"] and not run.unchanged
    first = [p.read_bytes() for p in paths]
    report = TrendsReport.model_validate_json(first[0])
    assert first[2].count(b"<svg ") >= 4 and b"<img" not in first[2]
    assert {r.mode for r in report.drills} == {"gameday", "tabletop"} and run.modes == {"gameday": 4, "tabletop": 1}
    again = build_trends(_folders(root), tmp_path / "out", as_of=AS_OF, state=state)  # nothing changed: nothing done
    assert again.unchanged and (again.drills, again.modes) == (5, run.modes)
    assert [p.read_bytes() for p in paths] == first
    paths[1].write_text("edited")  # an output edited: everything again, from the rows' cache
    redo = build_trends(_folders(root), tmp_path / "out", as_of=AS_OF, state=state)
    assert not redo.unchanged and redo.from_cache == 5 and [p.read_bytes() for p in paths] == first
    later = build_trends(_folders(root), tmp_path / "out", as_of=date(2026, 6, 1), state=state)  # another day
    assert not later.unchanged and paths[0].read_bytes() != first[0]
    (state / LAST_NAME).write_text("{torn")
    assert not build_trends(_folders(root), tmp_path / "out", as_of=AS_OF, state=state).unchanged
    build_trends(_folders(root), tmp_path / "out2", as_of=AS_OF, state=None, rescore=True)
    assert (tmp_path / "out2" / "trends.html").read_bytes().replace(b"scored", b"") == \
        first[2].replace(b"scored", b"")
    shutil.copy(GOLDEN / "late.jsonl", root / "reports" / "copy.jsonl")  # the same drill, copied: counted once
    copied = build_trends(_folders(root), tmp_path / "out", as_of=AS_OF, state=state)
    assert copied.drills == 5 and any("the same drill as" in s for s in copied.skipped)
    clean = (GOLDEN / "clean.jsonl").read_text().replace("primary-failure-clean", "primary-failure-clean-2")
    (root / "reports" / "new.jsonl").write_text(clean)  # a new drill
    assert build_trends(_folders(root), tmp_path / "out", as_of=AS_OF, state=state).drills == 6


def test_cli_trends(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _project(tmp_path)
    monkeypatch.chdir(root)
    result = CliRunner().invoke(main, ["trends", "--as-of", "2026-03-01"])
    assert result.exit_code == 0, result.output
    assert "5 drill(s) from 5 journal(s)" in result.output
    assert (root / "reports" / "trends" / "trends.html").is_file()
    assert (root / ".gameday" / CACHE_NAME).is_file()
    data = json.loads((root / "reports" / "trends" / "trends.json").read_text())
    assert data["drills"][0]["journal"].startswith("reports/")
    bad = CliRunner().invoke(main, ["trends", "--as-of", "yesterday"])
    assert bad.exit_code == 2 and "Traceback" not in bad.output


def test_chart_text_is_escaped_svg() -> None:
    """Names and ids land in the SVG as text, escaped; every chart is one well-formed SVG element."""
    import xml.etree.ElementTree as ET

    from gameday.program.trends_charts import chart_svgs

    rows = [row(mode="gameday", scenario_id="s&<1>", turns=[Turn(person="</svg><script>x", role="incident-commander")],
                people=["</svg><script>x"])]
    charts = chart_svgs(analyse(rows, as_of=AS_OF, journals=1))
    assert [c.name for c in charts] == ["speed", "scores-gameday", "frequency", "readiness", "people"]
    for chart in charts:
        root = ET.fromstring(str(chart.svg))
        assert root.tag.endswith("svg") and "<script>" not in str(chart.svg)
    texts = [t.text for c in charts for t in ET.fromstring(str(c.svg)).iter("{http://www.w3.org/2000/svg}text")]
    assert "</svg><script>x" in texts and "s&<1>" in texts


def test_the_repeat_rate_comes_from_the_findings_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Of the findings ever closed by a passing re-drill, the share that came back (the seed's repeat incidents)."""
    from dataclasses import replace

    from gameday.analysis.scorecard import score_journal
    from gameday.journal import read_journal
    from gameday.model.findings import DrillRef, fingerprint
    from gameday.program.findings import drill_findings, record_drills
    from gameday.program.findings_file import read_findings
    from gameday.program.redrill import close_with_drill
    from gameday.program.trends import repeat_summary

    root = _project(tmp_path, ("clean",))
    path = root / "findings.yaml"
    late = drill_findings(read_journal(GOLDEN / "late.jsonl"))
    record_drills(path, [replace(late, drill=DrillRef(drill="d1", at="2026-01-01T09:00:00Z"))])
    clean = read_journal(GOLDEN / "clean.jsonl")
    card = score_journal(clean)
    redrill = replace(drill_findings(clean, card), drill=DrillRef(drill="r1", at="2026-01-02T09:00:00Z"))
    scenario = "checkout-db-primary-failure"
    for gap in ("step:acknowledge", "step:severity"):
        close_with_drill(path, fingerprint(scenario, gap), redrill, card, clean)
    record_drills(path, [replace(late, drill=DrillRef(drill="d2", at="2026-01-05T09:00:00Z"))])  # both come back
    close_with_drill(path, fingerprint(scenario, "step:acknowledge"),
                     replace(redrill, drill=DrillRef(drill="r2", at="2026-01-06T09:00:00Z")), card, clean)
    summary = repeat_summary(read_findings(path))
    total = len(read_findings(path).findings)
    assert (summary.findings, summary.ever_closed, summary.repeats, summary.repeat_rate) == (total, 2, 2, 1.0)
    assert (summary.closed, summary.open) == (1, total - 1)
    monkeypatch.chdir(root)
    result = CliRunner().invoke(main, ["trends", "--as-of", "2026-03-01"])
    assert result.exit_code == 0, result.output
    page = (root / "reports" / "trends" / "trends.html").read_text()
    assert "2 time(s) a closed finding came back" in page and "100 % of the 2 ever closed" in page


def test_reading_in_worker_processes_gives_the_same_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gameday.program import trends_read

    root = _project(tmp_path)
    (root / "reports" / "notes.jsonl").write_text('{"not": "a journal"}\n')
    serial = read_rows(_folders(root), workers=1)
    monkeypatch.setattr(trends_read, "PARALLEL_READ_FROM", 2)
    parallel = read_rows(_folders(root), workers=2)
    assert parallel.rows == serial.rows and parallel.skipped == serial.skipped and len(serial.skipped) == 1


def test_bad_scorecards_are_not_used_and_bad_input_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A scorecard with an unknown mode, a time without a zone or a control character is no scorecard: the journal
    is scored instead; a partial copy of a journal never replaces the whole one; --as-of leaves later drills out;
    an --out that cannot be a folder is one line, exit 2."""
    root = _project(tmp_path, ("clean", "late", "silent"))
    cards = sorted((root / "scorecards").glob("*.json"))
    for card, (key, value) in zip(cards, [("mode", '"weird"'), ("started_at", '"2026-01-01T09:00:00"'),
                                          ("title", '"a\\u001b[2Jb"')], strict=True):
        data = json.loads(card.read_text())
        data[key] = json.loads(value)
        card.write_text(json.dumps(data))
    partial = root / "reports" / "a-partial"
    partial.mkdir()
    (partial / "journal.jsonl").write_text("".join((GOLDEN / "clean.jsonl").read_text().splitlines(True)[:12]))
    scan = read_rows(_folders(root))
    assert sorted(r.source for r in scan.rows) == ["scored"] * 3
    assert all("\x1b" not in r.title for r in scan.rows)
    assert next(r for r in scan.rows if r.drill_id.endswith("clean")).outcome == "completed"
    assert any("a-partial" in s and "the same drill as" in s for s in scan.skipped)
    report = analyse(scan.rows, as_of=date(2025, 12, 31), journals=3)
    assert report.drills == [] and report.skipped[-1] == "3 drill(s) started after 2025-12-31 (--as-of): left out"
    monkeypatch.chdir(root)
    (root / "file").write_text("x")
    result = CliRunner().invoke(main, ["trends", "--out", "file/trends"])
    assert result.exit_code == 2 and "cannot write the trends there" in result.output and "Traceback" not in result.output
