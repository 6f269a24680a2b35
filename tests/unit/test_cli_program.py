"""``gameday program plan`` / ``next`` from the command line: the table, --json, --ics, the agenda,
history read from reports/ and scorecards/, a missing or broken program file (one line, exit 2),
people's text printed literally and escaped in Markdown."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from icalendar import Calendar
from program_texts import PROGRAM, ROOT

from gameday.cli import main

HOSTILE = "[bold]Mal[/bold] <script>x</script>"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "gameday.yaml").write_text("state_dir: .gameday\n", encoding="utf-8")
    (tmp_path / "program.yaml").write_text(PROGRAM, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["program", *args])
    return result.exit_code, result.stdout, result.stderr


def test_plan_table_json_and_ics(project: Path) -> None:
    code, out, err = _run("plan", "--from", "2027-01-01", "--months", "4", "--ics", "plan.ics")
    assert code == 0, err
    assert "Test game days" in out and "2027-01-07" in out and "UTC 13:00-15:00" in out
    assert "moved from 2027-04-01" in out.replace("\n", " ").replace("│", " ") or "2027-04-02" in out
    cal = Calendar.from_ical((project / "plan.ics").read_bytes())
    assert len(cal.walk("VEVENT")) == 4
    code, out, _ = _run("plan", "--from", "2027-01-01", "--months", "2", "--json")
    data = json.loads(out)
    assert [d["date"] for d in data["game_days"]] == ["2027-01-07", "2027-02-04"]
    first = data["game_days"][0]
    assert first["start_utc"] == "2027-01-07T13:00:00Z" and first["start_local"] == "2027-01-07T14:00:00+01:00"
    assert {a["role"] for a in first["roles"]} == {"incident-commander", "tech-lead", "comms-lead"}
    assert first["scenario"]["why"] == "never run"


def test_history_from_reports_and_scorecards(project: Path) -> None:
    (project / "reports" / "tabletop").mkdir(parents=True)
    journals = ROOT / "tests" / "fixtures" / "journals"  # tracked fixtures: a fresh clone has no reports/ of its own
    shutil.copy(journals / "tabletop.jsonl", project / "reports" / "tabletop" / "journal.jsonl")
    (project / "scorecards").mkdir()
    shutil.copy(journals / "clean.scorecard.json", project / "scorecards" / "db.json")
    (project / "scorecards" / "broken.json").write_text("{not json", encoding="utf-8")
    code, out, err = _run("plan", "--from", "2027-01-01", "--months", "1", "--json")
    assert code == 0
    assert "skipped scorecard" in err and "broken.json" in err
    day = json.loads(out)["game_days"][0]
    ic = next(a for a in day["roles"] if a["role"] == "incident-commander")
    assert ic["person"] != "alice"  # alice was the incident commander of the last drill (the tabletop journal)
    assert "alice: incident commander last game day (never twice in a row)" in ic["passed_over"]
    assert day["scenario"]["path"].endswith("checkout-api-hang.yaml")  # the db scenario ran (scorecard): hang never did


def test_next_prints_the_agenda(project: Path) -> None:
    code, out, _ = _run("next", "--from", "2027-01-08")
    assert code == 0
    assert out.startswith("# Game day: ")
    assert "Thursday 04 February 2027, 14:00-16:00 Europe/Berlin" in out
    for heading in ("## Roles", "### Before", "### During", "### After"):
        assert heading in out
    assert "| incident-commander | " in out


def test_a_missing_program_file_is_one_line(project: Path) -> None:
    (project / "program.yaml").unlink()
    code, out, err = _run("plan")
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1
    assert str(project / "program.yaml") in err and "README" in err


def test_a_broken_program_file_is_one_located_line(project: Path) -> None:
    (project / "program.yaml").write_text(PROGRAM.replace("Europe/Berlin", "Europe/Nowhere"), encoding="utf-8")
    code, _, err = _run("next")
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].endswith("program.yaml:8:13: cadence.timezone: unknown time zone 'Europe/Nowhere': expected an IANA "
                             "name like Europe/Berlin or America/New_York")


def test_hostile_names_literal_in_the_table_escaped_in_markdown(project: Path) -> None:
    text = PROGRAM.replace("{name: carol,", '{name: "' + HOSTILE + '",').replace(
        "{name: dan, roles: [tech-lead, comms-lead, incident-commander]}", "{name: dan, roles: [incident-commander]}")
    (project / "program.yaml").write_text(text, encoding="utf-8")
    code, out, _ = _run("plan", "--from", "2027-01-01", "--months", "3", "--json")
    assert code == 0
    people = {a["person"] for d in json.loads(out)["game_days"] for a in d["roles"]}
    assert HOSTILE in people
    code, out, _ = _run("plan", "--from", "2027-01-01", "--months", "3")
    assert "[bold]Mal[/bold]" in out.replace("\n", "")
    agendas = _run("next", "--from", "2027-01-01")[1] + _run("next", "--from", "2027-02-05")[1]  # she holds a role in one
    assert "\\[bold\\]Mal\\[/bold\\] &lt;script&gt;x&lt;/script&gt;" in agendas
    assert "<script>" not in agendas and "[bold]" not in agendas
