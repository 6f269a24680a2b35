"""Drilling your own small service with community Chaos Toolkit experiments that have no rollbacks.

The shipped example (``scenarios/own-file-service.yaml``, ``experiments/own-file-service/``) is
copied into a project in the test's folder, its timings shortened and its port made free; its
service runs as a real process. Drills run in this process (``run_drill``/``assemble``) with real
Chaos Toolkit activities (a python provider from a module beside the experiment, process
providers with relative paths), from the project root and from an unrelated folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml

from gameday.drill.assemble import Factories, assemble, run_drill
from gameday.drill.context import DrillOptions
from gameday.drill.injectors import FaultFiles, effects, injector_for_fault
from gameday.drill.ledger import FaultLedger
from gameday.drill.recover import read_recover_log
from gameday.errors import LedgerBusyError
from gameday.journal import read_journal
from gameday.loader import load_project, load_scenario
from gameday.model.events import (
    ActivityRan,
    FaultForgotten,
    FaultHypothesisChecked,
    FaultNotRolledBack,
    FaultRollbackFailed,
    FaultRolledBack,
)

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "fixtures" / "targets"))
from harness import free_port, kill_quietly, listening, wait_for  # noqa: E402

pytestmark = pytest.mark.integration
GAMEDAY = Path(sys.executable).parent / "gameday"
EXAMPLE = "experiments/own-file-service"
GOOD = '{"greeting": "hello"}\n'


def gameday(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    argv = [str(GAMEDAY), *args] if GAMEDAY.exists() else [sys.executable, "-m", "gameday", *args]
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})


class Project:
    """The example in a project of its own: ``root`` (with gameday.yaml), its service, its scenario."""

    def __init__(self, tmp_path: Path):
        self.root = tmp_path / "project"
        self.files = self.root / EXAMPLE
        shutil.copytree(ROOT / EXAMPLE, self.files, ignore=shutil.ignore_patterns("cache.json", "*.tmp", "__pycache__"))
        (self.root / "gameday.yaml").write_text("state_dir: .gameday\n")
        (self.root / "scenarios").mkdir()
        self.elsewhere = tmp_path / "elsewhere"
        self.elsewhere.mkdir()
        self.port = free_port()
        self.service = subprocess.Popen([sys.executable, str(self.files / "service.py"), "--port", str(self.port)],
                                        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert wait_for(lambda: listening(self.port) and (self.files / "data" / "cache.json").exists(), 15)

    @property
    def config(self) -> Path:
        return self.files / "data" / "config.json"

    @property
    def state(self) -> Path:
        return self.root / ".gameday"

    def scenario(self, name: str = "own.yaml", **changes: object) -> Path:
        """The example scenario with this project's port and drill-sized timings (``changes`` on top)."""
        data = yaml.safe_load((ROOT / "scenarios" / "own-file-service.yaml").read_text())
        url = f"http://127.0.0.1:{self.port}"
        data["target"] = {"url": url, "configuration": {"service_url": url}}
        data["faults"][0]["at"], data["faults"][1]["at"], data["faults"][1]["max_duration"] = "1s", "1500ms", "2s"
        data.update(detection={"within": "3s"}, response=[], runbooks={}, recovery={"within": "20s"},
                    abort={"max_duration": "40s"}, timing={"baseline": "500ms", "cooldown": "300ms", "probe_interval": "100ms"})
        data.update(changes)
        path = self.root / "scenarios" / name
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return path

    def stop(self) -> None:
        kill_quietly(self.service.pid)
        self.service.wait(10)


@pytest.fixture
def project(tmp_path):
    p = Project(tmp_path)
    yield p
    p.stop()


FACTORIES = Factories(effects=effects).without_services()


def drill(project: Project, scenario: Path, out: Path) -> int:
    return run_drill(scenario, DrillOptions(mode="ci", out=out), project=load_project(project.root),
                     factories=FACTORIES, echo=lambda line: None)


def by_fault(journal, kind):
    return {e.data.fault: e.data for e in journal.of(kind)}


@pytest.mark.parametrize("where", ["root", "elsewhere"])
def test_community_experiments_run_in_their_folder_wherever_gameday_runs(project, monkeypatch, where):
    scenario = project.scenario()
    monkeypatch.chdir(project.root if where == "root" else project.elsewhere)
    code = drill(project, scenario, project.root / "out")
    assert code in (0, 1)  # it ran to its end (no one detects in this ci drill: expectations may be unmet)

    j = read_journal(project.root / "out" / "journal.jsonl")
    checks = [(e.data.fault, e.data.stage, e.data.ok) for e in j.of(FaultHypothesisChecked)]
    assert checks == [("delete-cache", "before", True), ("delete-config", "before", True),
                      ("delete-config", "after", True), ("delete-cache", "after", True)], checks
    ran = {(e.data.owner, e.data.name, e.data.phase): e.data for e in j.of(ActivityRan)}
    assert ran[("delete-cache", "delete-cache-file", "method")].status == "succeeded"
    assert ran[("delete-config", "delete-config-file", "method")].status == "succeeded"  # python provider, module beside it
    assert ran[("delete-config", "restore-config-file", "rollback")].status == "succeeded"  # the paired experiment's method
    assert by_fault(j, FaultRolledBack) == {"delete-config": FaultRolledBack(fault="delete-config", reason="max_duration")}
    assert by_fault(j, FaultNotRolledBack)["delete-cache"] == FaultNotRolledBack(
        fault="delete-cache", reason="end", why="the service rebuilds its cache file by itself within a second")
    assert project.config.read_text() == GOOD and (project.files / "data" / "cache.json").exists()
    assert FaultLedger(project.state).open_entries() == []
    assert not list(project.elsewhere.iterdir())  # nothing was written where gameday happened to run
    postmortem = (project.root / "out" / "postmortem.md").read_text()
    assert "with no rollback: the service rebuilds its cache file by itself within a second" in postmortem
    assert "rolled back by the method of experiment experiments/own-file-service/restore-config.yaml" in postmortem
    assert ("Its own check, its experiment's steady-state hypothesis 'the service answers healthy', held before "
            "injection and held after the rollback.") in postmortem


def test_a_drill_aborted_mid_fault_rolls_back_the_paired_rollback_and_records_none(project, monkeypatch):
    faults = yaml.safe_load((ROOT / "scenarios" / "own-file-service.yaml").read_text())["faults"]
    faults[0]["at"], faults[1]["at"], faults[1]["max_duration"] = "500ms", "800ms", "30s"
    scenario = project.scenario(faults=faults)
    monkeypatch.chdir(project.elsewhere)
    loaded = load_scenario(scenario)
    with assemble(load_project(project.root), loaded, DrillOptions(mode="ci", out=project.root / "out"),
                  factories=FACTORIES, echo=lambda line: None) as assembled:
        box: dict[str, object] = {}
        runner = threading.Thread(target=lambda: box.update(result=assembled.play()))
        runner.start()
        method_ran = lambda: any(isinstance(e.data, ActivityRan) and e.data.owner == "delete-config"  # noqa: E731
                                 for e in assembled.journal.events)
        assert wait_for(method_ran, 20), "the config fault was not injected"
        assert not project.config.exists()  # the fault is in
        assembled.conductor.abort("the facilitator stopped the drill")
        runner.join(30)
        assert not runner.is_alive()
    assert box["result"].outcome == "aborted"
    j = read_journal(project.root / "out" / "journal.jsonl")
    assert by_fault(j, FaultRolledBack) == {"delete-config": FaultRolledBack(fault="delete-config", reason="abort")}
    assert by_fault(j, FaultNotRolledBack)["delete-cache"].reason == "abort"
    assert project.config.read_text() == GOOD
    assert FaultLedger(project.state).open_entries() == []


def test_recover_after_a_crash_runs_the_rollback_in_its_folder_from_anywhere(project, monkeypatch):
    scenario = project.scenario()
    monkeypatch.chdir(project.elsewhere)
    loaded = load_scenario(scenario)
    ledger = FaultLedger(project.state)
    injectors = {}
    for fault in loaded.scenario.faults:  # as the conductor does: ledger first, then inject; then it "crashes"
        injectors[fault.id] = inj = injector_for_fault(fault, files=FaultFiles.of(loaded, fault.id),
                                                       target=loaded.scenario.target)
        ledger.record("crashed", fault.id, inj.ledger_spec(), None)
        result = inj.inject()
        assert result.ok, result.error
        ledger.mark_injected("crashed", fault.id, result.rollback)
        inj.close()
    assert not project.config.exists()

    done = gameday("recover", cwd=project.root / "scenarios")  # the project is found above; the folder is the spec's
    assert done.returncode == 0, done.stderr
    assert "cleared delete-cache of drill crashed: nothing to undo (the service rebuilds its cache file by itself" in done.stdout
    assert "rolled back delete-config of drill crashed: restore-config-file succeeded" in done.stdout
    assert project.config.read_text() == GOOD and ledger.open_entries() == []
    assert [(r.fault_id, r.outcome) for r in read_recover_log(project.state)] == [
        ("delete-cache", "nothing_to_undo"), ("delete-config", "rolled_back")]


def test_a_rollback_that_never_succeeds_blocks_until_forgotten(project, monkeypatch):
    faults = yaml.safe_load((ROOT / "scenarios" / "own-file-service.yaml").read_text())["faults"]
    faults[1]["rollback"] = {"activities": [{"type": "action", "name": "restore-from-backup", "provider": {
        "type": "process", "path": "cp", "arguments": ["/nonexistent/backup.json", "config.json"]}}]}
    faults[0]["at"], faults[1]["at"], faults[1]["max_duration"] = "500ms", "800ms", "1s"
    broken = project.scenario("broken.yaml", faults=faults, recovery={"within": "3s"}, abort={"max_duration": "5s"})
    monkeypatch.chdir(project.root)
    drill(project, broken, project.root / "out-1")
    j = read_journal(project.root / "out-1" / "journal.jsonl")
    assert "restore-from-backup" in by_fault(j, FaultRollbackFailed)["delete-config"].error
    (entry,) = FaultLedger(project.state).open_entries()
    assert (entry.fault_id, entry.status) == ("delete-config", "rollback_failed")

    with pytest.raises(LedgerBusyError) as blocked:
        drill(project, project.scenario(), project.root / "out-2")
    assert "'gameday recover --forget FAULT --reason TEXT' (FAULT: delete-config)" in str(blocked.value)
    retried = gameday("recover", cwd=project.root)
    assert retried.returncode == 3 and "strike it off with 'gameday recover --forget FAULT --reason TEXT'" in retried.stderr

    shutil.copy(project.files / "data" / "config.good.json", project.config)  # restored by hand
    done = gameday("recover", "--forget", "delete-config", "--reason", "copied config.good.json back by hand",
                   "--by", "sam", cwd=project.root)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("forgot delete-config of drill ")
    assert FaultLedger(project.state).open_entries() == []
    forgotten = read_journal(project.root / "out-1" / "journal.jsonl").of(FaultForgotten)[-1]
    assert (forgotten.data.by, forgotten.data.reason, forgotten.data.status) == (
        "sam", "copied config.good.json back by hand", "rollback_failed")
    assert [r.outcome for r in read_recover_log(project.state)] == ["rollback_failed", "forgotten"]
    assert drill(project, project.scenario(), project.root / "out-3") in (0, 1)  # no longer blocked


def test_gameday_run_from_another_folder(project):
    scenario = project.scenario()
    done = gameday("run", str(scenario), "--mode", "ci", "--out", str(project.root / "out"), cwd=project.elsewhere)
    assert done.returncode in (0, 1), done.stdout + done.stderr
    j = read_journal(project.root / "out" / "journal.jsonl")
    assert by_fault(j, FaultRolledBack)["delete-config"].reason == "max_duration"
    assert [e.data.ok for e in j.of(FaultHypothesisChecked)] == [True, True, True, True]
    assert project.config.read_text() == GOOD
    assert [p.name for p in project.elsewhere.iterdir()] in ([], [".gameday"])
