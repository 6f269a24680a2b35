"""Faults from community experiments without rollbacks: the scenario's own rollback, 'rollback: none',
the experiment's steady-state hypothesis as the fault's own check, and where activities run.

The conductor runs on a fake clock; the faults are real Chaos Toolkit activities (process and python
providers) on real files in the test's folder.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import yaml

from gameday.adapters.chaostoolkit import ChaosToolkitInjector
from gameday.analysis.postmortem import render_postmortem
from gameday.analysis.scorecard import score_journal as score
from gameday.clock import FakeClock
from gameday.drill.conductor import Conductor
from gameday.drill.injectors import FaultFiles, injector_for_fault, injector_from_spec
from gameday.errors import ConfigError, ScenarioError
from gameday.fakes import FakeLedger, FakeProbe
from gameday.journal import JournalWriter, read_journal
from gameday.loader import load_scenario
from gameday.model.events import (
    DrillAborted,
    FaultHypothesisChecked,
    FaultInjected,
    FaultNotRolledBack,
    FaultRolledBack,
)
from gameday.model.scenario import Fault, Scenario
from gameday.ports import ChaosToolkitRollback, NoRollback

ROOT = Path(__file__).resolve().parents[2]
BASIC = ROOT / "tests" / "fixtures" / "conductor" / "basic.yaml"


def proc(name: str, path: str, *args: str, probe: bool = False) -> dict:
    act = {"type": "probe" if probe else "action", "name": name, "provider": {"type": "process", "path": path, "arguments": list(args)}}
    return act | ({"tolerance": 0} if probe else {})


MODULES = itertools.count()


def community_experiment(folder: Path, *, hypothesis_file: str = "data/state.txt") -> Path:
    """A community-style experiment: deletes a file (relative path) with a python provider from a module
    beside it (named afresh each time: a module once imported stays in ``sys.modules``), no rollbacks, a
    hypothesis on a file."""
    module = f"own_faults_{next(MODULES)}_{folder.parent.name.replace('-', '_')}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "data").mkdir(exist_ok=True)
    (folder / "data" / "state.txt").write_text("ok\n")
    (folder / "data" / "keep.txt").write_text("kept\n")
    (folder / f"{module}.py").write_text(
        "from pathlib import Path\n\n\ndef remove(path):\n    Path(path).unlink()\n    return 'removed ' + path\n")
    exp = {
        "version": "1.0.0", "title": "Delete the state file", "description": "community style: no rollbacks",
        "steady-state-hypothesis": {"title": "the state file exists", "probes": [
            proc("state-file-exists", "test", "-f", hypothesis_file, probe=True)]},
        "method": [{"type": "action", "name": "delete-state", "provider": {
            "type": "python", "module": module, "func": "remove", "arguments": {"path": "data/state.txt"}}}],
    }
    path = folder / "delete-state.yaml"
    path.write_text(yaml.safe_dump(exp, sort_keys=False))
    return path


def scenario_data(**fault) -> dict:
    data = yaml.safe_load(BASIC.read_text())
    data["faults"] = [{"id": "delete-state", "at": "5s", "max_duration": "10s", **fault}]
    data["response"], data["runbooks"] = [], {}
    return data


# ------------------------------------------------------------------------------ the model
def test_fault_rollback_forms_and_their_errors():
    none = Fault(id="f", at="1s", experiment="x.yaml", rollback={"none": "the service recreates the file itself"})
    assert none.no_rollback == "the service recreates the file itself"
    assert Fault(id="f", at="1s", experiment="x.yaml", rollback={"experiment": "y.yaml"}).no_rollback is None
    inline = Fault(id="f", at="1s", activities=[proc("a", "true")], rollback={"none": "idempotent"})
    assert inline.rollbacks is None and inline.no_rollback == "idempotent"
    bad = [
        ({"experiment": "x.yaml", "rollbacks": [proc("r", "true")]}, "'rollbacks' go with inline 'activities'; pair an experiment"),
        ({"experiment": "x.yaml", "rollback": {"none": "  "}}, "'none' takes the reason"),
        ({"experiment": "x.yaml", "rollback": {"none": "x", "experiment": "y.yaml"}}, "exactly one of 'activities', 'experiment' or 'none'"),
        ({"experiment": "x.yaml", "rollback": {"activities": []}}, "'activities' must not be empty"),
        ({"process": {"target": "web", "action": "kill"}, "rollback": {"none": "x"}}, "a process, docker or network fault's rollback is built in"),
        ({"activities": [proc("a", "true")], "rollbacks": [proc("r", "true")], "rollback": {"none": "x"}}, "not both"),
        ({"activities": [proc("a", "true")]}, "or 'rollback: {none: REASON}'"),
    ]
    for fields, message in bad:
        with pytest.raises(ValueError, match=message.replace("(", r"\(").replace("{", r"\{")):
            Fault(id="f", at="1s", **fields)


# ------------------------------------------------------------------------------ the loader
def write_scenario(tmp_path: Path, **fault) -> Path:
    path = tmp_path / "scenarios" / "own.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(yaml.safe_dump(scenario_data(**fault), sort_keys=False))
    return path


def test_experiment_without_rollbacks_needs_the_scenario_to_pair_it(tmp_path):
    community_experiment(tmp_path / "experiments")
    with pytest.raises(ScenarioError) as err:
        load_scenario(write_scenario(tmp_path, experiment="../experiments/delete-state.yaml"))
    text = str(err.value)
    assert "faults[0].experiment: experiment '../experiments/delete-state.yaml' has no 'rollbacks', and every fault is " \
           "paired with its rollback: give the fault its own in the scenario" in text
    assert "'rollback:' with 'activities', 'experiment', or 'none'" in text

    loaded = load_scenario(write_scenario(tmp_path, experiment="../experiments/delete-state.yaml",
                                          rollback={"none": "the service recreates it"}))
    assert loaded.scenario.faults[0].no_rollback == "the service recreates it"


def test_a_rollback_experiment_is_loaded_and_checked_like_the_fault_experiment(tmp_path):
    community_experiment(tmp_path / "experiments")
    restore = tmp_path / "experiments" / "restore.yaml"
    restore.write_text(yaml.safe_dump({"title": "restore", "description": "d", "method": [
        proc("restore-state", "cp", "data/good.txt", "data/state.txt")]}))
    loaded = load_scenario(write_scenario(tmp_path, experiment="../experiments/delete-state.yaml",
                                          rollback={"experiment": "../experiments/restore.yaml"}))
    assert loaded.fault_rollback_experiments == {"delete-state": restore.resolve()}
    assert str(restore.resolve()) in loaded.experiments

    path = write_scenario(tmp_path, experiment="../experiments/delete-state.yaml",
                          rollback={"experiment": "../experiments/nowhere.yaml"})
    with pytest.raises(ScenarioError, match=r"faults\[0\].rollback.experiment: experiment '../experiments/nowhere.yaml' not found"):
        load_scenario(path)
    path = write_scenario(tmp_path, experiment="../experiments/delete-state.yaml",
                          rollback={"activities": [{"type": "action", "name": "x", "provider": {"type": "shell"}}]})
    with pytest.raises(ScenarioError, match=r"faults\[0\].rollback.activities\[0\].provider: activity 'x': unknown provider"):
        load_scenario(path)


def test_activities_are_validated_as_seen_from_their_folder(tmp_path, monkeypatch):
    folder = tmp_path / "experiments"
    community_experiment(folder)
    script = folder / "scripts" / "undo.sh"
    script.parent.mkdir()
    script.write_text("#!/bin/sh\ntouch data/undone\n")
    script.chmod(0o755)
    path = write_scenario(tmp_path, experiment="../experiments/delete-state.yaml",
                          rollback={"experiment": "../experiments/undo.yaml"})
    (folder / "undo.yaml").write_text(yaml.safe_dump({"title": "undo", "description": "d",
                                                      "method": [proc("undo", "./scripts/undo.sh")]}))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # ./scripts/undo.sh and the python provider's module are the experiment's folder's
    loaded = load_scenario(path)
    assert loaded.fault_experiments["delete-state"] == (folder / "delete-state.yaml").resolve()


def test_the_shipped_examples_validate():
    loaded = load_scenario(ROOT / "scenarios" / "own-file-service.yaml")
    faults = {f.id: f for f in loaded.scenario.faults}
    assert faults["delete-cache"].no_rollback and faults["delete-config"].rollback.experiment
    assert set(loaded.fault_rollback_experiments) == {"delete-config"}
    inline = load_scenario(ROOT / "scenarios" / "own-file-service-inline.yaml").scenario.faults[0]
    assert [a["name"] for a in inline.rollback.activities] == ["restore-config-file"]


# ------------------------------------------------------------------------------ injectors and ledger specs
def test_injectors_run_in_their_files_folders_and_the_spec_carries_the_folder(tmp_path, monkeypatch):
    exp_dir = tmp_path / "experiments"
    community_experiment(exp_dir)
    (exp_dir / "data" / "good.txt").write_text("restored\n")
    sc_dir = tmp_path / "scenarios"
    sc_dir.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    experiment = yaml.safe_load((exp_dir / "delete-state.yaml").read_text())
    fault = Fault(id="delete-state", at="1s", experiment="x.yaml", rollback={"activities": [
        proc("restore", "cp", "../experiments/data/good.txt", "../experiments/data/state.txt")]})
    inj = injector_for_fault(fault, files=FaultFiles(experiment=experiment, experiment_dir=exp_dir, scenario_dir=sc_dir))
    try:
        assert inj.check_hypothesis().ok
        assert inj.inject().ok and not (exp_dir / "data" / "state.txt").exists()
        after = inj.check_hypothesis()
        assert not after.ok and after.probes[0].detail.startswith("output not within tolerance 0: got status 1")
        spec = inj.ledger_spec()
        assert isinstance(spec, ChaosToolkitRollback) and spec.folder == str(sc_dir.resolve())
        back = injector_from_spec(ChaosToolkitRollback.model_validate_json(spec.model_dump_json()))  # as recover does
        assert back.rollback().ok
        assert (exp_dir / "data" / "state.txt").read_text() == "restored\n"
        assert not list(elsewhere.iterdir())  # nothing ran in gameday's own folder
    finally:
        inj.close()


def test_rollback_none_is_a_spec_that_recover_never_runs(tmp_path):
    community_experiment(tmp_path)
    experiment = yaml.safe_load((tmp_path / "delete-state.yaml").read_text())
    fault = Fault(id="delete-state", at="1s", experiment="x.yaml", rollback={"none": "recreated by the service"})
    inj = injector_for_fault(fault, files=FaultFiles(experiment=experiment, experiment_dir=tmp_path))
    assert inj.ledger_spec() == NoRollback(owner="delete-state", reason="recreated by the service")
    assert inj.rollback().ok and inj.rollback().runs == []
    with pytest.raises(ConfigError, match="has nothing to roll back"):
        injector_from_spec(inj.ledger_spec())
    with pytest.raises(ConfigError, match="no rollbacks: every fault needs a way back"):
        ChaosToolkitInjector([proc("a", "true")], [], owner="f")


def test_a_rollback_experiment_runs_its_method_in_its_own_folder_with_its_configuration(tmp_path):
    exp_dir, back_dir = tmp_path / "faults", tmp_path / "repairs"
    community_experiment(exp_dir)
    back_dir.mkdir()
    back = {"title": "repair", "configuration": {"text": "from the repair"},
            "method": [proc("repair", "sh", "-c", "echo ${text} > marker")]}
    experiment = yaml.safe_load((exp_dir / "delete-state.yaml").read_text())
    fault = Fault(id="f", at="1s", experiment="x.yaml", rollback={"experiment": "repair.yaml"})
    with pytest.raises(ConfigError, match="rollback experiment 'repair.yaml' was not loaded"):
        injector_for_fault(fault, files=FaultFiles(experiment=experiment, experiment_dir=exp_dir))
    inj = injector_for_fault(fault, files=FaultFiles(experiment=experiment, experiment_dir=exp_dir,
                                                     rollback_experiment=back, rollback_dir=back_dir))
    result = inj.rollback()
    assert result.ok, result.error
    assert (back_dir / "marker").read_text() == "from the repair\n"
    assert inj.ledger_spec().folder == str(back_dir.resolve())


# ------------------------------------------------------------------------------ the conductor
class Drill:
    """A conductor on a fake clock whose fault is a real Chaos Toolkit injector in ``folder``."""

    def __init__(self, tmp_path: Path, folder: Path, **fault):
        self.sc = Scenario.model_validate(scenario_data(experiment="delete-state.yaml", **fault))
        self.clock = FakeClock()
        self.ledger = FakeLedger()
        self.probe = FakeProbe(self.clock)
        experiment = yaml.safe_load((folder / "delete-state.yaml").read_text())
        self.injector = injector_for_fault(self.sc.faults[0], files=FaultFiles(
            experiment=experiment, experiment_dir=folder, scenario_dir=folder))
        self.journal = JournalWriter(tmp_path / "journal.jsonl", self.clock, fsync=False)
        self.conductor = Conductor(self.sc, self.journal, self.clock, mode="ci", drill_id="d1",
                                   injectors={"delete-state": self.injector}, probe=self.probe, ledger=self.ledger,
                                   spawn=lambda fn: fn())

    def run(self):
        try:
            result = self.conductor.run()
        finally:
            self.injector.close()
        self.journal.close()
        return result, read_journal(self.journal.path)


def test_hypothesis_checked_before_and_after_and_rollback_none_is_journaled(tmp_path):
    folder = tmp_path / "exp"
    community_experiment(folder, hypothesis_file="data/keep.txt")  # a file the fault leaves: the hypothesis holds throughout
    drill = Drill(tmp_path, folder, rollback={"none": "the service recreates the file itself"})
    result, j = drill.run()
    assert result.outcome == "completed"
    checks = [(e.data.stage, e.data.ok, e.data.title) for e in j.of(FaultHypothesisChecked)]
    assert checks == [("before", True, "the state file exists"), ("after", True, "the state file exists")]
    kinds = [e.kind for e in j.events]
    assert kinds.index("FaultHypothesisChecked") < kinds.index("FaultInjected")
    (nothing,) = j.of(FaultNotRolledBack)
    assert nothing.data == FaultNotRolledBack(fault="delete-state", reason="max_duration", why="the service recreates the file itself")
    assert not j.of(FaultRolledBack) and not (folder / "data" / "state.txt").exists()  # truly nothing was undone
    assert ("clear", "delete-state") in drill.ledger.history and drill.ledger.open == {}
    text = render_postmortem(j, score(j), "md")
    assert "with no rollback: the service recreates the file itself" in text
    assert "not rolled back at +15.0s: it has no rollback (the service recreates the file itself)" in text
    assert ("Its own check, its experiment's steady-state hypothesis 'the state file exists', held before injection "
            "and held after the rollback.") in text


def test_a_failed_before_check_keeps_the_fault_out_and_aborts(tmp_path):
    folder = tmp_path / "exp"
    community_experiment(folder, hypothesis_file="data/missing.txt")
    drill = Drill(tmp_path, folder, rollback={"none": "nothing to undo"})
    result, j = drill.run()
    assert result.outcome == "aborted"
    assert result.reason.startswith("fault delete-state not injected: its experiment's steady-state hypothesis "
                                    "'the state file exists' did not hold before injection (state-file-exists: output not within")
    (check,) = j.of(FaultHypothesisChecked)
    assert check.data.stage == "before" and not check.data.ok
    assert not j.of(FaultInjected) and not j.of(FaultNotRolledBack)
    assert (folder / "data" / "state.txt").exists()  # the method never ran
    assert j.first(DrillAborted) is not None and drill.ledger.open == {}
    text = render_postmortem(j, score(j), "md")
    assert "not injected: its experiment's steady-state hypothesis 'the state file exists' did not hold before injection" in text


def test_a_failed_after_check_is_journaled_and_reported(tmp_path):
    folder = tmp_path / "exp"
    community_experiment(folder)  # the hypothesis is on the very file the fault deletes; nothing restores it
    drill = Drill(tmp_path, folder, rollback={"none": "we pretend the service recreates it"})
    _, j = drill.run()
    before, after = j.of(FaultHypothesisChecked)
    assert (before.data.stage, before.data.ok, after.data.stage, after.data.ok) == ("before", True, "after", False)
    assert after.t >= j.first(FaultNotRolledBack).t
    text = render_postmortem(j, score(j), "md")
    assert "held before injection and did not hold after the rollback (state-file-exists: output not within tolerance 0" in text
