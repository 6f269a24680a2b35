"""CPU placement of the load and the demo (``load.cpus``, the demo's ``--cpus``): the setting's
parsing and validation (through the loader, one line naming the field), the CPU sets it
resolves to on machines of 1, 2 and more CPUs, and the command lines that apply them.

No locust and no timing here: the sets are computed from given CPU lists, never from the
machine (tests/integration/test_load_affinity.py checks real processes).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from gameday.adapters import locust as adapter
from gameday.errors import ScenarioError
from gameday.loader import load_scenario
from gameday.model.cpus import ALL, AUTO, DEMO_CPUS_ENV, check_setting, format_cpu_list, parse_cpu_list, resolve
from gameday.model.load import Load

SCENARIO = """\
apiVersion: gameday/v1
id: cpus
title: Load placement
severity: SEV3
target: {url: "http://127.0.0.1:9"}
steady_state:
  - {name: health, http: {url: "{target.url}/health"}}
faults:
  - id: noop
    at: 5s
    activities: [{type: action, name: noop, provider: {type: process, path: "true"}}]
    rollbacks: [{type: action, name: noop, provider: {type: process, path: "true"}}]
detection: {within: 30s}
recovery: {within: 1m}
abort: {max_duration: 2m}
load:
  locustfile: demo
  cpus: CPUS
"""


def scenario_file(tmp_path: Path, cpus: str) -> Path:
    path = tmp_path / "cpus.yaml"
    path.write_text(SCENARIO.replace("CPUS", cpus))
    return path


# ------------------------------------------------------------------------------ the setting


@pytest.mark.parametrize(("text", "cpus"), [("0", {0}), ("1-3", {1, 2, 3}), ("1,3", {1, 3}), ("0-1,4", {0, 1, 4}),
                                             ("3,1-2", {1, 2, 3}), ("1, 3", {1, 3}), ("2-2", {2})])
def test_parse_cpu_list(text: str, cpus: set[int]) -> None:
    assert parse_cpu_list(text) == cpus


@pytest.mark.parametrize(("cpus", "text"), [({0}, "0"), ({1, 2, 3}, "1-3"), ({1, 3}, "1,3"), ({0, 1, 4, 6, 7}, "0-1,4,6-7")])
def test_format_cpu_list_is_the_kernels_notation(cpus: set[int], text: str) -> None:
    assert format_cpu_list(cpus) == text
    assert parse_cpu_list(text) == cpus


@pytest.mark.parametrize(("value", "canonical"), [("auto", AUTO), ("all", ALL), (" all ", ALL), (1, "1"), (0, "0"),
                                                   ("3,1-2", "1-3"), ("1,3", "1,3")])
def test_check_setting_canonical_forms(value: object, canonical: str) -> None:
    assert check_setting(value) == canonical


@pytest.mark.parametrize(("value", "message"), [
    ("x", "expected 'auto', 'all' or a CPU list like '1-3' or '1,3', got 'x'"),
    ("", "expected 'auto', 'all' or a CPU list like '1-3' or '1,3', got ''"),
    ("AUTO", "got 'AUTO'"),
    ("1-", "got '1-'"),
    ("-1", "got '-1'"),
    ("1;2", "got '1;2'"),
    ("3-1", "CPU range '3-1' runs backwards (write '1-3')"),
    ("99999", "CPU 99999 is out of range (0-8191)"),
    (-1, "got -1"),
    (True, "got True"),
    (1.5, "got 1.5"),
    ([1, 2], "got [1, 2]"),
])
def test_bad_settings(value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        check_setting(value)


def test_the_default_is_auto_and_the_model_keeps_the_canonical_form() -> None:
    assert Load(locustfile="demo").cpus == "auto"
    assert Load(locustfile="demo", cpus=2).cpus == "2"
    assert Load(locustfile="demo", cpus="3,1-2").cpus == "1-3"


@pytest.mark.parametrize(("cpus", "message"), [
    ("soon", "expected 'auto', 'all' or a CPU list like '1-3' or '1,3', got 'soon'"),
    ('"4-2"', "CPU range '4-2' runs backwards (write '2-4')"),
    ("yes", "expected 'auto', 'all' or a CPU list like '1-3' or '1,3', got True"),
    ("[1, 2]", "expected 'auto', 'all' or a CPU list like '1-3' or '1,3', got [1, 2]"),
])
def test_a_bad_value_is_one_located_line_naming_the_field(tmp_path: Path, cpus: str, message: str) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(scenario_file(tmp_path, cpus))
    [problem] = info.value.problems
    line = f"{Path(problem.file).name}:{problem.line}:{problem.column}: {problem.path}: {problem.message}"
    assert line == f"cpus.yaml:18:9: load.cpus: {message}"
    assert "\n" not in line and "Value error" not in line


def test_gameday_validate_reports_it_on_one_line(tmp_path: Path) -> None:
    from gameday.cli import main

    result = CliRunner().invoke(main, ["validate", str(scenario_file(tmp_path, "soon"))])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.stderr.splitlines()[0] == (f"{tmp_path / 'cpus.yaml'}:18:9: load.cpus: expected 'auto', 'all' or "
                                             "a CPU list like '1-3' or '1,3', got 'soon'")


@pytest.mark.parametrize(("cpus", "expected"), [("auto", "auto"), ("all", "all"), ("1", "1"), ('"1-3"', "1-3"),
                                                ('"2,0"', "0,2")])
def test_valid_values_load(tmp_path: Path, cpus: str, expected: str) -> None:
    assert load_scenario(scenario_file(tmp_path, cpus)).scenario.load.cpus == expected


def test_the_shipped_load_scenario_says_where_locust_runs() -> None:
    shipped = load_scenario(Path(__file__).resolve().parents[2] / "scenarios" / "checkout-db-primary-failure-load.yaml")
    assert shipped.scenario.load.cpus == "auto"


# ------------------------------------------------------------------------------ the CPU sets


def test_auto_leaves_the_lowest_cpu_to_the_conductor() -> None:
    two = resolve("auto", {0, 1})
    assert two.cpus == {1} and not two.warning and two.label == "1"
    assert two.note == "locust on CPU 1; CPU 0 left to the conductor"
    eight = resolve("auto", set(range(8)))
    assert eight.cpus == set(range(1, 8)) and eight.note == "locust on CPUs 1-7; CPU 0 left to the conductor"
    confined = resolve("auto", {2, 3, 5})  # a conductor already confined (taskset, a cgroup): its set minus one
    assert confined.cpus == {3, 5} and "CPU 2 left to the conductor" in confined.note


def test_auto_on_one_cpu_changes_nothing_and_says_so() -> None:
    one = resolve("auto", {0})
    assert one.cpus is None and one.warning and one.label == "all"
    assert one.note.startswith("only one CPU (0): locust shares it with the conductor")
    assert resolve("auto", {3}, who="the demo").note.startswith("only one CPU (3): the demo shares it")


def test_all_changes_nothing() -> None:
    for have in ({0}, {0, 1}, set(range(16))):
        placed = resolve("all", have)
        assert placed.cpus is None and not placed.warning and placed.label == "all"


def test_an_explicit_list_within_reach() -> None:
    placed = resolve("1-2", {0, 1, 2, 3})
    assert placed.cpus == {1, 2} and not placed.warning and placed.note == "locust on CPUs 1-2"
    every = resolve("1-3", {1, 2, 3, 4, 5}, who="the demo")
    assert every.cpus == {1, 2, 3} and every.note == "the demo on CPUs 1-3; CPU 1 shared with the conductor"


def test_an_explicit_list_with_the_conductors_cpu_says_it_is_shared() -> None:
    """``auto`` would leave the lowest CPU to the conductor; a list naming it is obeyed, and the note says so."""
    one = resolve("0", {0, 1})
    assert one.cpus == {0} and not one.warning and one.note == "locust on CPU 0; CPU 0 shared with the conductor"
    every = resolve("0-1", {0, 1})
    assert every.cpus is None and not every.warning  # every CPU there is: nothing to set
    assert every.note == "locust may use every CPU (0-1); CPU 0 shared with the conductor"
    assert resolve("0", {0}).note == "locust may use every CPU (0); CPU 0 shared with the conductor"
    assert "shared" not in resolve("1", {0, 1}).note and "shared" not in resolve("all", {0, 1}).note


def test_an_explicit_list_beyond_the_machine() -> None:
    partly = resolve("1-3", {0, 1})
    assert partly.cpus == {1} and partly.warning and partly.note == "locust on CPU 1; CPUs 2-3 of 1-3 are not available here"
    assert resolve("1-2", {0, 1}).note == "locust on CPU 1; CPU 2 of 1-2 is not available here"
    covering = resolve("0-3", {0, 1})  # every CPU this process has, and more: nothing to set, but say what is missing
    assert covering.cpus is None and covering.label == "all" and covering.warning
    assert covering.note == ("locust may use every CPU (0-1); CPU 0 shared with the conductor; "
                             "CPUs 2-3 of 0-3 are not available here")
    assert resolve("1-3", {1, 2}).cpus is None
    none = resolve("4-7", {0, 1})
    assert none.cpus is None and none.warning
    assert none.note == "none of CPUs 4-7 is available here (this process may use 0-1): locust runs on every CPU"


def test_a_platform_without_cpu_affinity() -> None:
    placed = resolve("auto", None)
    assert placed.cpus is None and placed.warning and "not supported on this platform" in placed.note
    assert not resolve("all", None).warning


def _no_demo_started(monkeypatch: pytest.MonkeyPatch) -> None:
    """Starting the supervisor fails the test (the setting must be refused before)."""
    from gameday.demo import control

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"a process was started: {args}")

    monkeypatch.setattr(control.subprocess, "Popen", refuse)


def test_the_demo_refuses_a_bad_setting_before_starting_anything(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gameday.demo.control import start_demo
    from gameday.errors import ConfigError

    monkeypatch.delenv(DEMO_CPUS_ENV, raising=False)
    _no_demo_started(monkeypatch)
    with pytest.raises(ConfigError, match=r"^demo --cpus: expected 'auto', 'all' or a CPU list like '1-3' or '1,3', "
                       r"got 'x'$") as info:
        start_demo(tmp_path / "state", cpus="x")
    assert info.value.exit_code == 2
    assert not (tmp_path / "state").exists()


@pytest.mark.parametrize(("value", "message"), [
    ("x", "expected 'auto', 'all' or a CPU list like '1-3' or '1,3', got 'x'"),
    ("2-1", "CPU range '2-1' runs backwards (write '1-2')"),
])
def test_the_demo_refuses_a_bad_variable_before_starting_anything(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  value: str, message: str) -> None:
    """``$GAMEDAY_DEMO_CPUS`` is checked here, in-process: exit 2 with one line, not the supervisor's usage text."""
    from gameday.demo.control import demo_up, start_demo
    from gameday.errors import ConfigError

    monkeypatch.setenv(DEMO_CPUS_ENV, value)
    _no_demo_started(monkeypatch)
    for start in (lambda: start_demo(tmp_path / "state"), lambda: demo_up(tmp_path / "state")):
        with pytest.raises(ConfigError) as info:
            start()
        assert str(info.value) == f"$GAMEDAY_DEMO_CPUS: {message}" and info.value.exit_code == 2
    assert not (tmp_path / "state").exists()


def test_an_explicit_setting_wins_over_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A good ``cpus=`` is used, canonical, whatever the variable says; an empty variable counts as unset."""
    from gameday.demo import control

    started: list[list[str]] = []

    class Started(Exception):
        pass

    def popen(argv: list[str], **kwargs: object) -> None:
        started.append(argv)
        raise Started

    monkeypatch.setattr(control.subprocess, "Popen", popen)
    monkeypatch.setenv(DEMO_CPUS_ENV, "nonsense")
    with pytest.raises(Started):
        control.start_demo(tmp_path / "a", cpus="3,1-2")
    monkeypatch.setenv(DEMO_CPUS_ENV, "2,1")
    with pytest.raises(Started):
        control.start_demo(tmp_path / "b")
    monkeypatch.setenv(DEMO_CPUS_ENV, "")
    with pytest.raises(Started):
        control.start_demo(tmp_path / "c")
    assert [argv[argv.index("--cpus") + 1] if "--cpus" in argv else None for argv in started] == ["1-3", "1-2", None]


def test_gameday_demo_up_with_a_bad_variable_is_one_line_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gameday.cli import main

    (tmp_path / "gameday.yaml").write_text("state_dir: .gameday\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(DEMO_CPUS_ENV, "soon")
    _no_demo_started(monkeypatch)
    result = CliRunner().invoke(main, ["demo", "up"])
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    assert result.stderr.strip().splitlines() == [
        "gameday: $GAMEDAY_DEMO_CPUS: expected 'auto', 'all' or a CPU list like '1-3' or '1,3', got 'soon'"]
    assert not (tmp_path / ".gameday").exists()


def test_the_demo_supervisor_option_names_itself(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path: Path) -> None:
    from gameday.demo import supervisor

    monkeypatch.setenv(DEMO_CPUS_ENV, "2-1")
    with pytest.raises(SystemExit) as info:
        supervisor.main(["--state-dir", str(tmp_path)])
    assert info.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1].endswith(
        "error: --cpus (or $GAMEDAY_DEMO_CPUS): CPU range '2-1' runs backwards (write '1-2')")
    assert not (tmp_path / "demo").exists()


# ------------------------------------------------------------------------------ command lines


def test_plan_confines_every_locust_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(adapter.shutil, "which", lambda name: f"/usr/bin/{name}")
    plan = adapter.plan(locustfile=Path("/x/l.py"), host="http://h:1", users=4, spawn_rate=2, out_dir=tmp_path, workers=2,
                        executable="locust", master_port=5599, priority="idle", cpus="auto", available=frozenset({0, 1}),
                        base_env={})
    assert plan.placement is not None and plan.placement.cpus == {1}
    shim = adapter.cpu_prefix(frozenset({1}))
    for proc in plan.procs:
        assert proc.argv[:len(shim) + 4] == [*shim, "/usr/bin/chrt", "--idle", "0", "locust"], proc.role


def test_plan_with_all_or_one_cpu_has_no_cpu_prefix(tmp_path: Path) -> None:
    for cpus, have in (("all", frozenset({0, 1})), ("auto", frozenset({0}))):
        plan = adapter.plan(locustfile=Path("/x/l.py"), host="http://h:1", users=1, spawn_rate=1, out_dir=tmp_path,
                            executable="locust", priority="normal", cpus=cpus, available=have, base_env={})
        assert plan.procs[0].argv[0] == "locust" and plan.placement.cpus is None
    assert plan.placement.warning  # one CPU: the load service echoes the note


def test_plan_defaults_to_the_conductors_own_cpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(adapter, "available_cpus", lambda: frozenset({4, 5, 6}))
    plan = adapter.plan(locustfile=Path("/x/l.py"), host="http://h:1", users=1, spawn_rate=1, out_dir=tmp_path,
                        executable="locust", priority="normal", cpus="auto", base_env={})
    assert plan.placement.cpus == {5, 6}
    assert plan.procs[0].argv[:6] == [*adapter.cpu_prefix(frozenset({5, 6})), "locust"]


def test_cpu_prefix_is_a_python_exec_shim_on_every_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """One code path: no taskset (it refuses to start the program when the affinity cannot be set)."""
    assert adapter.cpu_prefix(None) == [] and adapter.cpu_prefix(frozenset()) == []
    for which in (lambda name: f"/usr/bin/{name}", lambda name: None):
        monkeypatch.setattr(adapter.shutil, "which", which)
        prefix = adapter.cpu_prefix(frozenset({3, 1}))
        assert prefix[:4] == [sys.executable, "-I", "-S", "-c"] and len(prefix) == 5
        assert "os.sched_setaffinity(0, {1, 3})" in prefix[4] and "except OSError" in prefix[4]
        assert "os.execvp(sys.argv[1], sys.argv[1:])" in prefix[4]


_SHOW = "import os, sys; print(sorted(os.sched_getaffinity(0)), os.getpid(), sys.argv[1:])"


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="this platform has no CPU affinity")
def test_cpu_prefix_really_confines_the_program() -> None:
    """The shim execs the program with the affinity set (the one CPU we run on: valid on any machine); the pid is the
    program's own, its arguments pass untouched."""
    cpu = min(os.sched_getaffinity(0))
    proc = subprocess.Popen([*adapter.cpu_prefix(frozenset({cpu})), sys.executable, "-c", _SHOW, "-c", "a b"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate(timeout=30)
    assert (proc.returncode, err) == (0, "")
    assert out.strip() == f"[{cpu}] {proc.pid} ['-c', 'a b']"


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="this platform has no CPU affinity")
def test_cpu_prefix_starts_the_program_when_the_affinity_is_refused() -> None:
    """The kernel refuses a CPU it does not have (as seccomp or a cpuset would refuse any): the program still starts,
    unconfined, and the reason is one line on its stderr (locust's log)."""
    ours = sorted(os.sched_getaffinity(0))
    proc = subprocess.Popen([*adapter.cpu_prefix(frozenset({8191})), sys.executable, "-c", _SHOW],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0 and out.strip() == f"{ours} {proc.pid} []"
    [line] = err.splitlines()
    assert line.startswith("gameday: could not confine locust to CPU 8191 (") and "Invalid argument" in line
    assert line.endswith("); it runs on every CPU it may use")
