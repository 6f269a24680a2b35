"""`gameday score`: formats, output file, and one-line errors (exit 2, no traceback) for bad journals."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from gameday.cli import main

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "journals"
GAMEDAY = Path(sys.executable).parent / "gameday"


def score(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["score", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("folder", [GOLDEN, GOLDEN / "release-0.1"], ids=["current", "release-0.1"])
def test_json_is_the_golden_scorecard(folder: Path) -> None:
    code, out, err = score(str(folder / "late.jsonl"))
    assert (code, err) == (0, "")
    assert out == (folder / "late.scorecard.json").read_text(encoding="utf-8")


def test_markdown() -> None:
    code, out, _ = score(str(GOLDEN / "silent.jsonl"), "--format", "md")
    assert code == 0
    assert out.startswith("# Scorecard: Primary database fails during checkout peak\n")
    assert "**NOT PASSED — score 30.0/100**" in out  # the headline every report shares (docs/scoring.md)
    assert "Detection was silent: impact started at +4.2s" in out
    assert "| steps | 30 | excluded | — |" in out


def test_html(tmp_path: Path) -> None:
    target = tmp_path / "card.html"
    code, out, _ = score(str(GOLDEN / "clean.jsonl"), "--format", "html", "-o", str(target))
    assert (code, out) == (0, "")
    page = target.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and page.rstrip().endswith("</html>")
    assert "PASSED — score 100.0/100" in page and "Every expectation was met." in page


def test_malformed_journal_is_one_line_exit_2(tmp_path: Path) -> None:
    lines = (GOLDEN / "clean.jsonl").read_bytes().splitlines(keepends=True)
    lines[2] = b"not json\n"
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b"".join(lines))
    proc = subprocess.run([str(GAMEDAY), "score", str(bad)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == f"gameday: {bad}:3: not JSON: Expecting value at column 1\n"


def test_missing_file_is_one_line_exit_2(tmp_path: Path) -> None:
    missing = tmp_path / "nope.jsonl"
    code, out, err = score(str(missing))
    assert (code, out) == (2, "")
    assert err.startswith(f"gameday: {missing}:0: cannot read") and err.count("\n") == 1 and "Traceback" not in err


def test_malformed_drill_started_is_one_line_exit_2(tmp_path: Path) -> None:
    lines = (GOLDEN / "clean.jsonl").read_bytes().splitlines(keepends=True)
    lines[0] = lines[0].replace(b'"severity":"SEV1"', b'"severity":"SEV9"', 1)
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b"".join(lines))
    code, _, err = score(str(bad))
    assert code == 2
    assert err.startswith(f"gameday: {bad}:1: DrillStarted.data.scenario.severity: Input should be") and err.count("\n") == 1


def test_untrusted_text_is_escaped(tmp_path: Path) -> None:
    xss = "<script>alert(1)</script>|x"
    text = (GOLDEN / "late.jsonl").read_text(encoding="utf-8").replace('"alice"', '"' + xss.replace("<", "\\u003c") + '"')
    journal = tmp_path / "xss.jsonl"
    journal.write_text(text, encoding="utf-8")
    _, html, _ = score(str(journal), "--format", "html")
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;|x" in html
    _, md, _ = score(str(journal), "--format", "md")
    assert "<script>" not in md and "&lt;script&gt;alert(1)&lt;/script&gt;\\|x" in md
