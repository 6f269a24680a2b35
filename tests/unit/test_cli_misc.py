"""Exit codes of the smaller commands: --version, --help, postmortem, recover, demo status."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from gameday import __version__
from gameday.cli import main

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "journals"
GAMEDAY = Path(sys.executable).parent / "gameday"


def invoke(*args: str):
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_version_and_help_exit_0():
    code, out, _ = invoke("--version")
    assert code == 0 and __version__ in out
    code, out, _ = invoke("--help")
    assert code == 0 and "run" in out and "validate" in out


def test_help_imports_no_heavy_library():
    code = ("import sys, gameday.cli; heavy = [m for m in ('pandas', 'chaoslib', 'jinja2', 'fastapi', 'uvicorn', "
            "'matplotlib', 'locust') if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""


def test_postmortem_exit_0_for_md_and_html(tmp_path):
    code, out, _ = invoke("postmortem", str(GOLDEN / "late.jsonl"))
    assert code == 0 and "DRILL" in out and "What could improve" in out
    target = tmp_path / "pm.html"
    code, _, _ = invoke("postmortem", str(GOLDEN / "late.jsonl"), "--format", "html", "-o", str(target))
    assert code == 0 and target.read_text().lstrip().lower().startswith("<!doctype html")


def test_postmortem_exit_2_for_a_bad_journal_without_traceback(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"not": "an event"}\n{"also": "bad"}\n')
    proc = subprocess.run([str(GAMEDAY), "postmortem", str(bad)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1 and "bad.jsonl:1" in proc.stderr


def test_recover_with_a_clear_ledger_exit_0(tmp_path):
    proc = subprocess.run([str(GAMEDAY), "recover"], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0 and "ledger is clear" in proc.stdout


def test_demo_status_when_not_running_exit_0(tmp_path):
    proc = subprocess.run([str(GAMEDAY), "demo", "status"], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0 and "not running" in proc.stdout


def test_run_with_a_missing_scenario_exit_2(tmp_path):
    proc = subprocess.run([str(GAMEDAY), "run", str(tmp_path / "nope.yaml"), "--mode", "ci"], capture_output=True,
                          text=True, cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "nope.yaml" in proc.stderr


def test_demo_up_refuses_a_bad_cpu_setting_before_starting_anything(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["demo", "up", "--cpus", "3-1"])
    assert result.exit_code == 2
    assert "Invalid value for '--cpus'" in result.output and "runs backwards" in result.output
    assert not (tmp_path / ".gameday" / "demo").exists()
