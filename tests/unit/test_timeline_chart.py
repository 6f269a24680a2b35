"""The postmortem's timeline chart: lanes from the journal and scorecard, the PNG (deterministic), and the
postmortem (Markdown links ``timeline.png``, HTML embeds it) with hostile text escaped where it lands."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from gameday.analysis.postmortem import render_postmortem
from gameday.analysis.scorecard import score_journal
from gameday.analysis.timeline_chart import TIMELINE_FILE, lanes, render_timeline, timeline_alt, timeline_image
from gameday.cli import main
from gameday.drill.reports import Outputs, write_reports
from gameday.fakes import ScriptedEvent, write_journal
from gameday.journal import Journal, read_journal
from gameday.model.events import (
    ActionRecorded,
    DetectionRecorded,
    DrillAborted,
    DrillEnded,
    DrillStarted,
    FaultInjected,
    FaultRolledBack,
    ImpactEnded,
    ImpactStarted,
    PhaseChanged,
    RecoveryObserved,
    SteadyStateChecked,
)
from gameday.model.policy import SeverityPolicy
from gameday.model.scenario import Scenario
from gameday.model.scorecard import Scorecard

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "journals"
PNG = b"\x89PNG\r\n\x1a\n"
XSS = "<script>alert(1)</script>"
HOSTILE = f'{XSS} $\\frac{{1}}{{0}}$ ]( [x](javascript:alert(1)) "><img src=x onerror=alert(1)> *bold* _u_ | `c`'


def scenario(title: str = "Primary database fails", response: list[dict[str, Any]] | None = None,
             check: str = "checkout") -> Scenario:
    steps = [{"id": "ack", "action": "acknowledge", "within": "30s"},
             {"id": "update", "action": "post_update", "within": "90s"}] if response is None else response
    return Scenario.model_validate({
        "apiVersion": "gameday/v1", "id": "db-failover", "title": title, "severity": "SEV1",
        "target": {"url": "http://127.0.0.1:9", "processes": {"db": {"command": "postgres"}}},
        "steady_state": [{"name": check, "http": {"url": "{target.url}/health"}}],
        "faults": [{"id": "kill-db", "at": "10s", "process": {"target": "db", "action": "kill"}}],
        "detection": {"within": "60s", "signals": [{"name": "db-down", "alert": {"alertname": "DatabaseDown"}}]},
        "response": steps, "recovery": {"within": "5m"}, "abort": {"max_duration": "10m"},
    })  # fmt: skip


def journal(folder: Path, script: list[ScriptedEvent], sc: Scenario | None = None, drill_id: str = "db-failover-1") -> Journal:
    started = DrillStarted(drill_id=drill_id, mode="gameday", scenario=sc or scenario(),
                           policy=SeverityPolicy.model_validate({"name": "default", "levels": {"SEV1": {"description": "x"}}}))
    return write_journal(folder / "journal.jsonl", started, script)


def drill(check: str = "checkout", fault: str = "kill-db") -> list[ScriptedEvent]:
    """Injected at 10, detected at 30, acknowledged at 45 (on time), no update (missed), recovered at 85."""
    return [(0.0, PhaseChanged(phase="inject"), "conductor"), (10.0, FaultInjected(fault=fault, kind="process"), "injector"),
            (11.0, ImpactStarted(check=check, detail="HTTP 503"), "observer"),
            (30.0, DetectionRecorded(via="person", by="alice"), "alice"),
            (45.0, ActionRecorded(action="acknowledge", author="alice"), "alice"),
            (85.0, ImpactEnded(check=check), "observer"), (85.0, RecoveryObserved(checks=[]), "observer"),
            (200.0, FaultRolledBack(fault=fault, reason="end"), "injector"),
            (201.0, DrillEnded(outcome="completed"), "conductor")]  # fmt: skip


def scored(j: Journal) -> tuple[Journal, Scorecard]:
    return j, score_journal(j)


@pytest.mark.parametrize("name", ["clean", "late", "silent", "aborted", "tabletop", "torn"])
def test_a_chart_for_every_golden_journal(name: str, tmp_path: Path) -> None:
    j, card = scored(read_journal(GOLDEN / f"{name}.jsonl"))
    path = render_timeline(j, card, tmp_path / "out")
    assert path == tmp_path / "out" / TIMELINE_FILE and path.read_bytes().startswith(PNG)
    rows = lanes(j, card)
    assert [r.label for r in rows if r.group == "step"] == [f"step {s.id}" for s in card.steps]
    assert rows[0].label == "fault kill-primary" and rows[0].spans[0][2] == "fault"  # injected → rolled back
    assert timeline_alt(j, card).startswith(f"Timeline of drill {card.drill_id}: fault windows (kill-primary)")


def test_lanes_show_each_step_against_its_deadline() -> None:
    j, card = scored(read_journal(GOLDEN / "late.jsonl"))
    rows = {r.label: r for r in lanes(j, card)}
    ack = rows["step acknowledge"]
    assert ack.spans == ((12.0, 17.0, "window"),) and ack.mark == (20.0, "late") and ack.note == "late by 3.0s"
    assert rows["step declare"].mark == (21.0, "on_time") and rows["step declare"].note == ""
    assert rows["step executives"].mark == (36.0, "missed") and rows["step executives"].note == "missed: not done"
    assert rows["step status"].note == "late: a gap between repeats too long"  # a recurring step, first done in time
    assert rows["detection"].spans == ((4.0, 19.0, "window"),) and rows["detection"].mark == (12.0, "on_time")
    assert rows["impact: checkout health"].spans == ((4.3, 40.0, "impact"),)
    assert rows["recovery"].mark == (40.0, "on_time")
    assert "(2 on time, 4 late, 1 missed)" in timeline_alt(j, card)


def test_same_journal_same_bytes_also_in_another_process() -> None:
    j, card = scored(read_journal(GOLDEN / "late.jsonl"))
    first = timeline_image(j, card)
    assert timeline_image(*scored(read_journal(GOLDEN / "late.jsonl"))) == first
    code = ("import sys; from gameday.journal import read_journal; from gameday.analysis.scorecard import score_journal; "
            "from gameday.analysis.timeline_chart import timeline_image; j = read_journal(sys.argv[1]); "
            "sys.stdout.buffer.write(timeline_image(j, score_journal(j)))")
    out = subprocess.run([sys.executable, "-c", code, str(GOLDEN / "late.jsonl")], capture_output=True, check=True).stdout
    assert out == first
    assert b"Software" not in first and b"Matplotlib" not in first  # no version in the metadata


def test_aborted_drill_steps_not_due_are_said_so() -> None:
    j, card = scored(read_journal(GOLDEN / "aborted.jsonl"))
    rows = {r.label: r for r in lanes(j, card)}
    assert rows["step failover"].mark is None and rows["step failover"].note == "not due before the drill ended"
    assert rows["step acknowledge"].mark == (12.0, "on_time")
    assert timeline_image(j, card).startswith(PNG)
    assert "3 on time, 0 late, 0 missed, 4 not applicable or not due" in timeline_alt(j, card)


def test_silent_drill_detection_missed_and_steps_without_anchor() -> None:
    j, card = scored(read_journal(GOLDEN / "silent.jsonl"))
    rows = {r.label: r for r in lanes(j, card)}
    assert rows["detection"].mark == (19.0, "missed") and rows["detection"].note == "silent: not detected"
    assert rows["step acknowledge"].spans == () and rows["step acknowledge"].note == "not applicable: never detected"
    assert rows["recovery"].mark == (66.0, "late")


def test_drill_aborted_before_any_injection_gets_a_smaller_true_chart(tmp_path: Path) -> None:
    j, card = scored(journal(tmp_path, [
        (0.2, SteadyStateChecked(stage="preflight", ok=False, checks=[]), "conductor"),
        (0.3, DrillAborted(reason="steady state did not hold"), "conductor"),
        (0.4, DrillEnded(outcome="aborted", reason="steady state did not hold"), "conductor")]))  # fmt: skip
    rows = lanes(j, card)
    assert [(r.label, r.note) for r in rows if r.group in ("fault", "impact")] == [
        ("fault kill-db", "not injected"), ("customer impact", "none measured by the probes")]
    assert not any(r.group in ("detection", "recovery") for r in rows)  # nothing to detect or recover from
    assert all(r.mark is None and r.note.startswith("not applicable") for r in rows if r.group == "step")
    assert timeline_image(j, card).startswith(PNG)
    alt = timeline_alt(j, card)
    assert "fault kill-db not injected" in alt and "fault windows" not in alt and "no customer impact measured" in alt


def test_drill_without_steps(tmp_path: Path) -> None:
    j, card = scored(journal(tmp_path, drill(), sc=scenario(response=[])))
    rows = lanes(j, card)
    assert [r.group for r in rows] == ["fault", "impact", "detection", "recovery"]
    assert timeline_image(j, card).startswith(PNG) and "response step" not in timeline_alt(j, card)


def test_fault_never_rolled_back_and_impact_open_at_the_end(tmp_path: Path) -> None:
    j, card = scored(journal(tmp_path, [*drill()[:3], (50.0, DrillEnded(outcome="completed"), "conductor")]))
    rows = {r.label: r for r in lanes(j, card)}
    assert rows["fault kill-db"].spans == ((10.0, 50.0, "fault_open"),) and rows["fault kill-db"].note == "no rollback recorded"
    assert rows["impact: checkout"].spans == ((11.0, 50.0, "impact_open"),)
    assert rows["impact: checkout"].note == "still failing at drill end"
    assert timeline_image(j, card).startswith(PNG)


def test_markdown_links_the_chart_and_html_embeds_it(tmp_path: Path) -> None:
    j, card = scored(read_journal(GOLDEN / "late.jsonl"))
    path = render_timeline(j, card, tmp_path)
    alt = timeline_alt(j, card)
    md = render_postmortem(j, card, "md", timeline=path)
    assert f"![{alt}](timeline.png)" in md
    assert md.index("## What happened") < md.index("](timeline.png)") < md.index("| Offset |")
    html = render_postmortem(j, card, "html", timeline=path)
    uri = re.search(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)" alt="([^"]*)"', html)
    assert uri is not None and uri.group(2) == alt
    assert base64.b64decode(uri.group(1)) == path.read_bytes()
    assert '<a href="timeline.png">timeline.png</a>' in html
    in_memory = render_postmortem(j, card, "html", timeline=path.read_bytes())  # `gameday postmortem` to stdout
    assert in_memory.count("data:image/png;base64,") == 1 and 'href="timeline.png"' not in in_memory
    assert "timeline.png" not in render_postmortem(j, card, "md", timeline=path.read_bytes())  # no file to link
    assert "timeline.png" not in render_postmortem(j, card, "md") and "data:image" not in render_postmortem(j, card, "html")


def test_hostile_texts_do_not_break_the_chart_or_the_reports(tmp_path: Path) -> None:
    j, card = scored(journal(tmp_path, drill(check=HOSTILE, fault=HOSTILE), sc=scenario(title=HOSTILE), drill_id=HOSTILE))
    # a hand-built scorecard may carry any step id: it lands in the picture as text, never as mathtext
    card = card.model_copy(update={"steps": [s.model_copy(update={"id": HOSTILE + s.id}) for s in card.steps]})
    path = render_timeline(j, card, tmp_path / "out")
    assert path.read_bytes().startswith(PNG)
    assert any(r.label.startswith("impact: <script>") for r in lanes(j, card))
    html = render_postmortem(j, card, "html", timeline=path)
    assert XSS not in html and "onerror=alert(1)>" not in html
    alt = re.search(r'<img src="data:image/png;base64,[A-Za-z0-9+/=]+" alt="([^"]*)"', html)
    assert alt is not None and "&lt;script&gt;" in alt.group(1)
    md = render_postmortem(j, card, "md", timeline=path)
    line = next(x for x in md.splitlines() if x.endswith("](timeline.png)"))
    assert line.startswith("![Timeline of drill &lt;script&gt;") and XSS not in line
    assert "\\[x\\](javascript:alert(1))" in line
    assert len(re.findall(r"(?<!\\)\]\(", line)) == 1  # every other bracket is escaped: only the image's own link


def test_write_reports_puts_the_chart_beside_the_postmortem(tmp_path: Path) -> None:
    out = tmp_path / "drill"
    out.mkdir()
    shutil.copy(GOLDEN / "late.jsonl", out / "journal.jsonl")
    outputs = Outputs.for_drill(tmp_path, "late", out)
    write_reports(outputs, "gameday", lambda line: None, "completed", None, None)
    png = out / TIMELINE_FILE
    j = read_journal(out / "journal.jsonl")
    assert png.read_bytes() == timeline_image(j, score_journal(j))
    assert "](timeline.png)" in outputs.postmortem_md.read_text(encoding="utf-8")
    assert 'href="timeline.png"' in outputs.postmortem_html.read_text(encoding="utf-8")


def test_ci_drills_leave_the_chart_out_and_say_nothing_of_it(tmp_path: Path) -> None:
    shutil.copy(GOLDEN / "late.jsonl", tmp_path / "journal.jsonl")
    outputs = Outputs.for_drill(tmp_path, "late", tmp_path)
    write_reports(outputs, "ci", lambda line: None, "completed", None, None)
    assert not (tmp_path / TIMELINE_FILE).exists() and outputs.junit.is_file()
    assert "timeline.png" not in outputs.postmortem_md.read_text(encoding="utf-8")
    assert "Timeline of drill" not in outputs.postmortem_html.read_text(encoding="utf-8")


def test_cli_postmortem_writes_the_chart_beside_its_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "review" / "postmortem.html"
    result = CliRunner().invoke(main, ["postmortem", str(GOLDEN / "late.jsonl"), "--format", "html", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert (target.parent / TIMELINE_FILE).read_bytes().startswith(PNG)
    assert 'href="timeline.png"' in target.read_text(encoding="utf-8")
    stdout = CliRunner().invoke(main, ["postmortem", str(GOLDEN / "late.jsonl"), "--format", "html"])
    assert stdout.exit_code == 0 and stdout.output.count("data:image/png;base64,") == 1


def test_a_drill_that_ended_before_its_detection_deadline_shows_no_miss_there(tmp_path: Path) -> None:
    """Silent until the drill ended at 40 s, detection due at 70 s: no cross at a deadline the drill never reached."""
    script = [*drill()[:3], (40.0, DrillEnded(outcome="completed"), "conductor")]
    j, card = scored(journal(tmp_path, script))
    assert card.detection.verdict == "silent" and card.detection.deadline_t == 70.0
    row = next(r for r in lanes(j, card) if r.group == "detection")
    assert row.mark is None and row.note == "not detected before the drill ended"
