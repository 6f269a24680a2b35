"""`gameday validate` and `gameday schema` through the real CLI: exit codes, output, no tracebacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from gameday.cli import main
from gameday.loader import json_schema_text

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
VALID = FIXTURES / "scenarios" / "valid"
INVALID = FIXTURES / "scenarios" / "invalid"
GAMEDAY = [sys.executable, "-m", "gameday"]


def invoke(*args: str):
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result


def test_valid_files_exit_0_and_say_ok() -> None:
    result = invoke("validate", str(VALID / "full.yaml"), str(VALID / "minimal.yaml"))
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [f"{VALID / 'full.yaml'}: ok (scenario)", f"{VALID / 'minimal.yaml'}: ok (scenario)"]
    assert result.stderr == ""


def test_quiet_prints_nothing_for_valid_files() -> None:
    result = invoke("validate", "--quiet", str(VALID))
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")


def test_a_folder_means_every_yaml_file_under_it() -> None:
    result = invoke("validate", str(VALID))
    assert result.exit_code == 0
    assert sorted(result.stdout.splitlines()) == sorted(f"{p}: ok (scenario)" for p in VALID.glob("*.yaml"))


def test_a_folder_does_not_search_subfolders(tmp_path: Path) -> None:
    (tmp_path / "scenario.yaml").write_text((VALID / "minimal.yaml").read_text().replace("../../experiments", str(FIXTURES / "experiments")))
    (tmp_path / "responders").mkdir()
    (tmp_path / "responders" / "scenario.ci.yaml").write_text("actions: []\n")  # not a scenario
    result = invoke("validate", str(tmp_path))
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout.splitlines() == [f"{tmp_path / 'scenario.yaml'}: ok (scenario)",
                                          f"{tmp_path}: subfolders not searched (add --recursive): responders/"]


@pytest.mark.parametrize("name", sorted(p.name for p in INVALID.glob("*.yaml")))
def test_each_invalid_fixture_exits_2_with_located_problems(name: str) -> None:
    result = invoke("validate", str(INVALID / name))
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines and all(":" in line and line.split(":")[1].isdigit() for line in lines)


def test_mixed_valid_and_invalid_exit_2_and_report_both() -> None:
    result = invoke("validate", str(VALID / "minimal.yaml"), str(INVALID / "unknown-key.yaml"))
    assert result.exit_code == 2
    assert result.stdout == f"{VALID / 'minimal.yaml'}: ok (scenario)\n"
    assert result.stderr.startswith(f"{INVALID / 'unknown-key.yaml'}:15:3: recovery.deadline: unknown key 'deadline'")


def test_invalid_folder_reports_every_file() -> None:
    result = invoke("validate", "-q", str(INVALID))
    assert result.exit_code == 2
    reported = {line.split(":")[0] for line in result.stderr.splitlines()}
    assert {str(p) for p in INVALID.glob("*.yaml")} <= reported


@pytest.mark.parametrize("content", [b"", b"\xff\xfe\x00b\x00i\x00n", b"key: [unclosed\n", b"- a\n- b\n"])
def test_bad_files_exit_2(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(content)
    result = invoke("validate", str(path))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{path}:")


def test_missing_path_and_empty_folder_exit_2(tmp_path: Path) -> None:
    result = invoke("validate", str(tmp_path / "nope.yaml"), str(tmp_path))
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"{tmp_path / 'nope.yaml'}:1:1: file not found",
        f"{tmp_path}:1:1: no gameday files (*.yaml, *.yml) in this folder",
    ]


def test_no_path_is_a_usage_error() -> None:
    assert invoke("validate").exit_code == 2


def test_schema_prints_the_shipped_schema() -> None:
    result = invoke("schema")
    assert result.exit_code == 0
    assert result.stdout == json_schema_text() + "\n"
    assert result.stdout == (REPO / "schema" / "scenario.schema.json").read_text(encoding="utf-8")


def test_real_process_exit_codes(tmp_path: Path) -> None:
    ok = subprocess.run([*GAMEDAY, "validate", str(VALID / "minimal.yaml")], capture_output=True, text=True, cwd=REPO)
    assert (ok.returncode, ok.stdout, ok.stderr) == (0, f"{VALID / 'minimal.yaml'}: ok (scenario)\n", "")
    bomb = subprocess.run([*GAMEDAY, "validate", str(INVALID / "alias-bomb.yaml"), str(tmp_path / "missing.yaml")],
                          capture_output=True, text=True, cwd=REPO, timeout=60)
    assert bomb.returncode == 2
    assert "Traceback" not in bomb.stderr
    assert bomb.stderr.splitlines() == [
        f"{INVALID / 'alias-bomb.yaml'}:2:50: aliases expand to more than 10000 nodes (an alias bomb?)",
        f"{tmp_path / 'missing.yaml'}:1:1: file not found",
    ]
