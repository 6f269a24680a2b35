"""CI suites (``gameday run DIR --mode ci``), the parts that need no drill: the JUnit merge, the
exit-code rule, which scenarios of a folder run, and what a suite refuses before anything starts.
The real suites (a demo, drills, SIGINT) are in tests/integration/test_ci_suite.py."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from scenario_texts import process_scenario
from test_junit import HOSTILE, card

from gameday.analysis.junit import junit_xml, merge_junit, placeholder_junit
from gameday.drill.context import DrillOptions
from gameday.errors import ConfigError
from gameday.loader import load_project
from gameday.suite.plan import EXIT_ORDER, ci_skip_reason, plan_suite, suite_exit_code
from gameday.suite.runner import check_suite_options, run_suite, suite_folder

# ------------------------------------------------------------------ the exit-code rule


@pytest.mark.parametrize(
    ("codes", "expected"),
    [
        ([], 0),
        ([0, 0, 0], 0),
        ([0, 1, 0], 1),
        ([1, 2, 0], 2),
        ([2, 1], 2),
        ([0, 3, 1, 2], 3),
        ([3, 0], 3),
    ],
)
def test_the_worst_exit_code_wins(codes: list[int], expected: int) -> None:
    assert suite_exit_code(codes) == expected


def test_exit_order_is_aborted_then_invalid_then_not_met_then_passed() -> None:
    assert EXIT_ORDER == (3, 2, 1, 0)
    for code in EXIT_ORDER:  # any code with a worse one is the worse one, in either order
        for worse in EXIT_ORDER[: EXIT_ORDER.index(code)]:
            assert suite_exit_code([code, worse]) == suite_exit_code([worse, code]) == worse


def test_an_unknown_exit_code_is_refused() -> None:
    with pytest.raises(ValueError, match="not a gameday exit code"):
        suite_exit_code([0, 4])


# ------------------------------------------------------------------ the JUnit merge


def _parse(text: str) -> ET.Element:
    return ET.fromstring(text.encode("utf-8"))


def test_merge_keeps_each_drill_suite_unchanged_and_sums_the_totals() -> None:
    passed = junit_xml(card())
    failed = junit_xml(card(drill_id="d2", scenario_id="checkout-hang", passed=False, failures=["Detection was silent."]))
    merged = _parse(merge_junit([passed, failed]))
    suites = merged.findall("testsuite")
    assert [s.get("name") for s in suites] == ["gameday.db-failover", "gameday.checkout-hang"]
    for suite, doc in zip(suites, (passed, failed), strict=True):  # each suite as the drill's own file has it
        own = _parse(doc).find("testsuite")
        assert own is not None
        assert ET.tostring(suite).strip() == ET.tostring(own).strip()
    for key in ("tests", "failures", "errors", "skipped"):
        assert int(merged.get(key, "-1")) == sum(int(s.get(key, "0")) for s in suites)
    assert int(merged.get("failures", "0")) >= 1
    assert float(merged.get("time", "0")) == pytest.approx(sum(float(s.get("time", "0")) for s in suites), abs=0.002)


def test_merge_is_deterministic_and_takes_a_lone_testsuite() -> None:
    doc = junit_xml(card())
    lone = ET.tostring(_parse(doc).find("testsuite"), encoding="unicode")  # type: ignore[arg-type]
    assert merge_junit([doc, lone]) == merge_junit([doc, lone])
    assert [s.get("name") for s in _parse(merge_junit([doc, lone])).findall("testsuite")] == ["gameday.db-failover"] * 2


def test_merge_of_nothing_is_an_empty_valid_document() -> None:
    root = _parse(merge_junit([]))
    assert root.tag == "testsuites" and root.get("tests") == "0" and root.findall("testsuite") == []


@pytest.mark.parametrize("doc", ["not xml <", "<html><body/></html>"])
def test_merge_refuses_what_is_not_junit(doc: str) -> None:
    with pytest.raises(ValueError, match="document 2"):
        merge_junit([junit_xml(card()), doc])


def test_placeholders_are_one_drill_case_skipped_or_error_with_escaped_text() -> None:
    skipped = _parse(placeholder_junit("gameday.tabletop", "skipped", "skipped: a tabletop exercise",
                                       properties=[("file", "ci/t.yaml")]))
    case = skipped.find("testsuite/testcase")
    assert case is not None and case.get("name") == "drill" and case.find("skipped") is not None
    assert skipped.get("skipped") == "1" and skipped.get("errors") == "0"
    error = _parse(placeholder_junit("gameday.bad", "error", HOSTILE, kind="invalid", text=f"line 1\n{HOSTILE}"))
    element = error.find("testsuite/testcase/error")
    assert element is not None and element.get("type") == "invalid"
    assert "<script>" in (element.get("message") or "") and "\x1b" not in (element.get("message") or "")
    assert error.get("errors") == "1"
    with pytest.raises(ValueError):
        placeholder_junit("gameday.x", "failure", "no")


# ------------------------------------------------------------------ which scenarios run

TRAINING = "difficulty: 1\n"
TABLETOP = "objectives:\n  - {id: ack-fast, title: Acknowledge fast, steps: [ack]}\n"


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def suite_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "ci"
    folder.mkdir()
    _write(folder, "b-second.yaml", process_scenario("second", "Second"))
    _write(folder, "a-first.yaml", process_scenario("first", "First"))
    _write(folder, "c-training.yaml", process_scenario("trained", "Training") + TRAINING)
    _write(folder, "d-tabletop.yaml", process_scenario("table", "Tabletop") + TABLETOP)
    _write(folder, "e-broken.yaml", process_scenario("broken", "Broken").replace("within: 30s", "within: soon"))
    _write(folder, "f-same-id.yaml", process_scenario("first", "A copy"))
    _write(folder, "people.yaml", "people: {alice: incident-commander}\nactions: []\n")
    (folder / "responders").mkdir()
    _write(folder / "responders", "x.yaml", "people: {}\n")
    return folder


def test_a_folder_runs_its_scenarios_sorted_and_says_what_it_leaves_out(suite_dir: Path) -> None:
    plan = plan_suite([suite_dir])
    shown = [(e.file.name, e.status) for e in plan.entries]
    assert shown == [("a-first.yaml", "run"), ("b-second.yaml", "run"), ("c-training.yaml", "skipped"),
                     ("d-tabletop.yaml", "skipped"), ("e-broken.yaml", "invalid"), ("f-same-id.yaml", "invalid")]
    assert [e.scenario_id for e in plan.runnable] == ["first", "second"]
    notes = "\n".join(plan.notes)
    assert "people.yaml: not a scenario (responder file)" in notes
    assert "subfolders not searched" in notes and "responders/" in notes
    by_name = {e.file.name: e for e in plan.entries}
    assert "--mode training" in by_name["c-training.yaml"].reason and "difficulty:" in by_name["c-training.yaml"].reason
    assert "--mode tabletop" in by_name["d-tabletop.yaml"].reason and "objectives:" in by_name["d-tabletop.yaml"].reason


def test_an_invalid_scenario_carries_its_located_problems(suite_dir: Path) -> None:
    by_name = {e.file.name: e for e in plan_suite([suite_dir]).entries}
    broken = by_name["e-broken.yaml"]
    assert broken.problems and all(p.file.endswith("e-broken.yaml") for p in broken.problems)
    assert any(p.path == "detection.within" and p.line > 1 for p in broken.problems), broken.problems
    assert broken.reason == str(broken.problems[0]) and broken.suite_name == "gameday.e-broken"
    same = by_name["f-same-id.yaml"]
    (problem,) = same.problems
    assert problem.path == "id" and (problem.line, problem.column) == (2, 5)
    assert "a-first.yaml" in problem.message and same.suite_name == "gameday.f-same-id"


def test_several_paths_keep_their_order_and_a_file_runs_once(suite_dir: Path) -> None:
    plan = plan_suite([suite_dir / "b-second.yaml", suite_dir / "a-first.yaml", suite_dir / "./b-second.yaml"])
    assert [e.scenario_id for e in plan.entries] == ["second", "first"]


def test_a_named_file_that_is_not_a_scenario_is_invalid(suite_dir: Path) -> None:
    (entry,) = plan_suite([suite_dir / "people.yaml"]).entries
    assert entry.status == "invalid" and "not a scenario (responder file)" in entry.reason


def test_a_path_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such scenario file or folder"):
        plan_suite([tmp_path / "nowhere"])


def test_a_plain_live_scenario_runs_in_ci() -> None:
    from gameday.loader import load_scenario

    root = Path(__file__).resolve().parents[2] / "scenarios"
    assert ci_skip_reason(load_scenario(root / "checkout-api-hang.yaml").scenario) is None
    assert "tabletop" in (ci_skip_reason(load_scenario(root / "tabletop-checkout-db-outage.yaml").scenario) or "")
    assert "training" in (ci_skip_reason(load_scenario(root / "training-1-checkout-api-hang.yaml").scenario) or "")


# ------------------------------------------------------------------ refused before anything starts


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (DrillOptions(mode="gameday"), "add --mode ci"),
        (DrillOptions(mode="tabletop"), "add --mode ci"),
        (DrillOptions(mode="ci", responders=Path("r.yaml")), "--responders"),
        (DrillOptions(mode="ci", drill_id="x"), "--drill-id"),
        (DrillOptions(mode="ci", pace="instant", live=True), "--pace, --live"),
    ],
)
def test_options_for_one_drill_are_refused(options: DrillOptions, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        check_suite_options(options)
    check_suite_options(DrillOptions(mode="ci", host="127.0.0.1", port=0))


def test_a_folder_with_nothing_to_run_in_ci_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    folder = tmp_path / "ci"
    folder.mkdir()
    _write(folder, "t.yaml", process_scenario("trained", "Training") + TRAINING)
    _write(folder, "bad.yaml", "apiVersion: gameday/v1\nid: bad\n")
    lines: list[str] = []
    with pytest.raises(ConfigError, match=r"no scenario to run in ci mode \(1 skipped, 1 invalid\)"):
        run_suite([folder], DrillOptions(mode="ci", out=tmp_path / "out"), project=load_project(tmp_path),
                  echo=lines.append)
    assert not (tmp_path / "out").exists()
    assert any(line.startswith("skipped ") for line in lines)
    assert any(str(folder / "bad.yaml") in line and "required key" in line for line in lines)


def test_the_suite_folder_is_dated_under_reports_or_the_one_given(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    project = load_project(tmp_path)
    at = datetime(2026, 3, 5, 14, 0, 7, tzinfo=UTC)
    assert suite_folder(project, None, at) == project.root / "reports" / "suites" / "20260305T140007Z"
    assert suite_folder(project, tmp_path / "out", at) == tmp_path / "out"


# ------------------------------------------------------------------ the suite's signal policy


def test_the_suite_sees_a_signal_whichever_handler_took_it() -> None:
    import signal

    from gameday.suite.signals import SuiteSignals

    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    with SuiteSignals() as signals:
        assert signals.stopped() is None
        seen: list[int] = []
        drill_handler = signal.signal(signal.SIGTERM, lambda signum, _frame: seen.append(signum))  # a drill's own
        try:
            signal.raise_signal(signal.SIGTERM)
        finally:
            signal.signal(signal.SIGTERM, drill_handler)
        assert seen == [signal.SIGTERM]  # the drill's handler took it ...
        assert signals.stopped() == "SIGTERM"  # ... and the suite knows
        signal.raise_signal(signal.SIGINT)  # between drills: the suite's own handler notes it, raises nothing
        assert signals.stopped() == "SIGTERM"  # the first one is the one told
    assert {s: signal.getsignal(s) for s in before} == before
