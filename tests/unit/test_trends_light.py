"""``gameday trends`` with nothing changed stays light: where the project's files are is found without the
project model, the last run's record is read without pydantic — and both say what the full readers say."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gameday.errors import InputError
from gameday.model.policy import ProjectConfig
from gameday.program.trends_run import LAST_NAME, _Last
from gameday.project import DEFAULT_STATE_DIR, load_project, project_places

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "journals"


def test_the_default_state_folder_is_the_models() -> None:
    assert ProjectConfig().state_dir == DEFAULT_STATE_DIR


@pytest.mark.parametrize("text", [
    None, "state_dir: state\n", "state_dir: ''\n", "templates: my-templates\n",
    "state_dir: /tmp/elsewhere\ntemplates: t\n", "state_dir: .gameday\nbusiness: null\n",
])
def test_the_places_are_what_the_project_model_says(tmp_path: Path, text: str | None) -> None:
    if text is not None:
        (tmp_path / "gameday.yaml").write_text(text)
    (tmp_path / "sub").mkdir()
    places, project = project_places(tmp_path / "sub"), load_project(tmp_path / "sub")
    assert (places.root, places.state_path, places.templates_dir) == \
        (project.root, project.state_path, project.templates_dir)


@pytest.mark.parametrize("text", ["", "# nothing\n", "state_dir: a\nstate_dir: b\n", "templates: a\ntemplates: b\n",
                                  "state_dir: [a, b]\n", "- a list\n", "templates: 3\n",
                                  "state_dir: {unclosed\n"])
def test_a_file_the_light_reader_cannot_take_is_reported_located(tmp_path: Path, text: str) -> None:
    (tmp_path / "gameday.yaml").write_text(text)
    with pytest.raises(InputError) as caught:
        project_places(tmp_path)
    assert "gameday.yaml" in str(caught.value)


def test_only_the_two_places_are_read_the_rest_is_validated_when_there_is_work(tmp_path: Path) -> None:
    (tmp_path / "gameday.yaml").write_text("state_dir: st\npolicy: {}\n")  # a policy without levels: invalid
    assert project_places(tmp_path).state_path == (tmp_path / "st").resolve()
    with pytest.raises(InputError, match="policy.levels"):
        load_project(tmp_path)
    drill = tmp_path / "reports" / "clean"
    drill.mkdir(parents=True)
    shutil.copy(GOLDEN / "clean.jsonl", drill / "journal.jsonl")
    done = subprocess.run([sys.executable, "-m", "gameday", "trends"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2, done
    assert "policy.levels" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "reports" / "trends").exists() and not (tmp_path / "st").exists()  # nothing written


@pytest.mark.parametrize("raw", [
    b"", b"{torn", b"[]", b'{"inputs": "k"}', b"[" * 200_000,
    b'{"inputs": "k", "outputs": {}, "drills": "1", "journals": 1, "modes": {}, "skipped": []}',
    b'{"inputs": "k", "outputs": {"a": 1}, "drills": 1, "journals": 1, "modes": {}, "skipped": []}',
    b'{"inputs": "k", "outputs": {}, "drills": true, "journals": 1, "modes": {}, "skipped": []}',
    b'{"inputs": "k", "outputs": {}, "drills": 1, "journals": 1, "modes": {}, "skipped": [1]}',
    b'{"inputs": "k", "outputs": {}, "drills": 1, "journals": 1, "modes": {}, "skipped": [], "more": 1}',
])
def test_a_last_run_record_that_is_not_one_is_none(raw: bytes) -> None:
    assert _Last.parse(raw) is None


def test_a_last_run_record_reads_back() -> None:
    last = _Last("k", {"trends.csv": "ab"}, 3, 4, {"ci": 3}, ["x: skipped"])
    assert _Last.parse(last.dump().encode()) == last


def test_an_unchanged_run_imports_neither_pydantic_nor_pandas(tmp_path: Path) -> None:
    drill = tmp_path / "reports" / "clean"
    drill.mkdir(parents=True)
    shutil.copy(GOLDEN / "clean.jsonl", drill / "journal.jsonl")
    (tmp_path / "gameday.yaml").write_text("state_dir: .state\n")
    probe = (
        "import sys\n"
        "from gameday.cli import main\n"
        "try:\n"
        "    main(['trends', '--as-of', '2026-03-01'])\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "print(__import__('json').dumps(sorted(m for m in ('pydantic', 'pandas', 'numpy', 'yaml', 'jinja2')\n"
        "                                       if m in sys.modules)))\n"
    )
    first = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert "wrote" in first.stdout and "pandas" in first.stdout  # the first run does the work
    again = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert "nothing changed since the last run" in again.stdout
    assert json.loads(again.stdout.strip().splitlines()[-1]) == ["yaml"]  # gameday.yaml's two places: plain YAML
    assert (tmp_path / ".state" / LAST_NAME).is_file()
