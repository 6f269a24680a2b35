"""Every problem at once: type errors and the checks between sections, in one run, sorted by line.

pydantic skips a model's ``mode="after"`` validator when a field fails, so the scenario's
cross checks (duplicate ids, dangling ``after``, a fault after ``abort``...) are asked over
what did validate (``Scenario.check_partial``) and added to the type errors.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from gameday.cli import main
from gameday.errors import ScenarioError
from gameday.loader import load_scenario
from gameday.model.crosscheck import CrossCheckError, ScenarioView, cross_check
from gameday.model.scenario import Scenario
from gameday.yamlio.marks import parse_yaml
from gameday.yamlio.modelerrors import validate_data

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

BASE = """\
apiVersion: gameday/v1
id: at-once
title: Errors at once
severity: SEV3
target:
  url: http://127.0.0.1:9
  processes:
    worker: {command: worker}
steady_state:
  - http: {url: "{target.url}/health"}
faults:
  - id: stop-worker
    at: 1s
    process: {target: worker, action: stop}
detection:
  within: 30s
response:
  - {id: ack, action: acknowledge, within: 1m}
recovery:
  within: 1m
abort:
  max_duration: 5m
"""

#: type errors (severity, detection.within, response[3].action) and cross-field problems
#: (a fault after abort, a duplicate fault id, a process that does not exist, a duplicate
#: step id, a dangling anchor), each line numbered for the assertions below
BOTH = """\
apiVersion: gameday/v1
id: at-once
title: Errors at once
severity: SEV9
target:
  url: http://127.0.0.1:9
  processes:
    worker: {command: worker}
steady_state:
  - http: {url: "{target.url}/health"}
faults:
  - id: stop-worker
    at: 10m
    process: {target: worker, action: stop}
  - id: stop-worker
    at: 1s
    process: {target: nobody, action: stop}
detection:
  within: soon
response:
  - {id: ack, action: acknowledge, within: 1m}
  - {id: ack, action: note, within: 1m}
  - {id: late, action: note, within: 1m, after: nowhere}
  - {id: bad, action: dance, within: 1m}
recovery:
  within: 1m
abort:
  max_duration: 5m
"""


def problems(text: str) -> list[str]:
    """Every problem of ``text`` as a scenario, ``LINE:COL: path: message`` (file name left out)."""
    data, marks, soft = parse_yaml(text, "s.yaml")
    assert soft == []
    model, found = validate_data(data, marks, Scenario, "s.yaml")
    assert model is None
    return [str(p).removeprefix("s.yaml:") for p in found]


def test_type_errors_and_cross_checks_come_together_sorted_by_line() -> None:
    assert problems(BOTH) == [
        "4:11: severity: expected 'SEV1', 'SEV2', 'SEV3' or 'SEV4', got 'SEV9'",
        "13:9: faults[0].at: scheduled at 10m, not before abort.max_duration 5m",
        "15:9: faults[1].id: duplicate fault id 'stop-worker'",
        "17:23: faults[1].process.target: no process named 'nobody' in target.processes",
        "19:11: detection.within: expected a duration like '90s' or '2m', got 'soon'",
        "22:10: response[1].id: duplicate step id 'ack'",
        "23:49: response[2].after: no anchor or step named 'nowhere' (anchors: start, injection, detection, recovery)",
        ("24:23: response[3].action: expected 'acknowledge', 'declare_incident', 'set_severity', 'assign_role',"
         " 'notify_executives', 'post_update', 'runbook', 'mark_detected', 'note' or 'resolved', got 'dance'"),
    ]


def test_the_loader_and_the_cli_report_both_in_one_run(tmp_path: Path) -> None:
    path = tmp_path / "both.yaml"
    path.write_text(BOTH)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    lines = [(p.line, p.path) for p in info.value.problems]
    assert lines == sorted(lines)
    assert (4, "severity") in lines and (13, "faults[0].at") in lines and (23, "response[2].after") in lines
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [str(p) for p in info.value.problems]


def test_a_scenario_with_only_cross_problems_reports_each_once() -> None:
    text = BASE.replace("  - {id: ack, action: acknowledge, within: 1m}",
                        "  - {id: ack, action: acknowledge, within: 1m}\n  - {id: ack, action: note, within: 1m, after: b}")
    assert problems(text) == [
        "19:10: response[1].id: duplicate step id 'ack'",
        "19:48: response[1].after: no anchor or step named 'b' (anchors: start, injection, detection, recovery)",
    ]


def test_a_step_that_failed_still_anchors_the_steps_after_it() -> None:
    text = BASE.replace("  - {id: ack, action: acknowledge, within: 1m}",
                        "  - {id: page, action: dance, within: 1m}\n  - {id: ack, action: acknowledge, within: 1m, after: page}")
    assert [line.split(": ")[1] for line in problems(text)] == ["response[0].action"]


def test_a_runbook_that_failed_is_still_known_by_name() -> None:
    text = BASE.replace("  - {id: ack, action: acknowledge, within: 1m}",
                        "  - {id: fix, action: runbook, runbook: failover, within: 1m}\n"
                        "  - {id: bad, action: note, within: 1m, after: nowhere}")
    text = text.replace("recovery:", "runbooks:\n  failover: {restart: worker, colour: red}\nrecovery:")
    assert [line.split(": ", 2)[1] for line in problems(text)] == ["response[1].after", "runbooks.failover.colour"]


def test_no_double_report_at_a_path_that_has_a_type_error() -> None:
    text = BASE.replace("  - {id: ack, action: acknowledge, within: 1m}",
                        "  - {id: Ack, action: acknowledge, within: 1m}\n  - {id: Ack, action: note, within: 1m}")
    found = problems(text)
    assert [line.split(": ")[1] for line in found] == ["response[0].id", "response[1].id"]
    assert all("does not match the pattern" in line for line in found)


def test_sections_that_failed_are_not_judged() -> None:
    # roles failed: a step's role is not judged; target failed: process names are not judged;
    # a fault failed: the first injection is unknown, so the recovery deadline is not judged
    text = BASE.replace("severity: SEV3", "severity: SEV3\nroles: [Bad Role, scribe]")
    text = text.replace("  - {id: ack, action: acknowledge, within: 1m}",
                        "  - {id: ack, action: acknowledge, role: scribe, within: 1m}")
    text = text.replace("    worker: {command: worker}", "    worker: {command: worker}\n  colour: red")
    text = text.replace("    at: 1s\n    process: {target: worker, action: stop}",
                        "    at: 30s\n    process: {target: nobody, action: stop}\n"
                        "  - {id: early, at: 90, process: {target: worker, action: stop}}")
    text = text.replace("abort:\n  max_duration: 5m", "abort:\n  max_duration: 2m").replace("recovery:\n  within: 1m",
                                                                                           "recovery:\n  within: 100s")
    assert "role: scribe" in text and "at: 30s" in text and "within: 100s" in text
    paths = [line.split(": ")[1] for line in problems(text)]
    assert paths == ["roles[0]", "target.colour", "faults[1].at"]


def test_sections_that_validated_are_judged_when_others_failed() -> None:
    text = BASE.replace("title: Errors at once", "title: ''")
    text = text.replace("  within: 30s", "  within: 0s").replace("recovery:\n  within: 1m", "recovery:\n  within: 10m")
    assert [line.split(": ")[1] for line in problems(text)] == ["title", "detection.within", "recovery.within"]


def test_the_partial_view_agrees_with_the_validator() -> None:
    for path in (FIXTURES / "scenarios" / "valid").glob("*.yaml"):
        data = yaml.safe_load(path.read_text())
        assert cross_check(ScenarioView.partial(data)) == []
        assert cross_check(Scenario.model_validate(data)) == []
    cross_only = yaml.safe_load(BOTH.replace("SEV9", "SEV3").replace("soon", "30s").replace("dance", "note"))
    with pytest.raises(Exception) as info:
        Scenario.model_validate(cross_only)
    nested = info.value.errors()[0]["ctx"]["error"]  # type: ignore[attr-defined]
    assert isinstance(nested, CrossCheckError)
    assert Scenario.check_partial(cross_only) == nested.problems
    assert len(nested.problems) == 5


def test_odd_input_never_crashes_the_partial_checks() -> None:
    for text in ("apiVersion: gameday/v1\nfaults: 5\nresponse: {a: 1}\nrunbooks: [1]\nroles: 7\ntarget: [x]\n",
                 "apiVersion: gameday/v1\nfaults: [1, null, {id: 5}]\nresponse: [[], {id: [1]}]\nrunbooks: {1: 2}\n",
                 "apiVersion: gameday/v1\ntiming: {probe_interval: 0s}\ndetection: {within: 0s}\n"):
        found = problems(text)
        assert found and all(line.split(":")[0].isdigit() for line in found)
    assert any("probe_interval: must be positive" in line for line in problems(
        "apiVersion: gameday/v1\ntiming: {probe_interval: 0s}\n"))


def test_an_items_own_one_of_rule_comes_with_its_type_errors() -> None:
    """A fault with a bad `at` and two kinds gets both problems; a runbook and a check likewise; an
    item whose only problem is the rule gets it once."""
    text = (BASE.replace("    at: 1s\n    process: {target: worker, action: stop}",
                         "    at: soon\n    process: {target: worker, action: stop}\n    experiment: x.yaml", 1)
            .replace('  - http: {url: "{target.url}/health"}', '  - {name: 1, http: {url: "{target.url}/health"}, '
                     'process: {process: worker}}', 1))
    found = problems(text)
    rule = "faults[0]: a fault needs exactly one of 'experiment', 'activities', 'process', 'docker' or 'network'"
    assert any(p.endswith(rule) for p in found), found
    assert any("faults[0].at: expected a duration" in p for p in found), found
    assert sum("steady_state[0]: a check needs exactly one of" in p for p in found) == 1, found


def test_a_responder_file_is_checked_by_itself_when_its_scenario_has_problems(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(BASE.replace("severity: SEV3", "severity: SEV9", 1) + "responders: r.yaml\n")
    (tmp_path / "r.yaml").write_text("people: {alice: incident-commander}\n"
                                     "actions:\n  - {as: alice, action: acknowledge, delay: soon}\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(tmp_path / "s.yaml")
    shown = [str(p) for p in caught.value.problems]
    assert any("s.yaml:4:11: severity:" in p for p in shown), shown
    assert any("r.yaml:3:45: actions[0].delay: expected a duration" in p for p in shown), shown


def test_an_integer_too_long_to_print_is_described_not_a_traceback(tmp_path: Path) -> None:
    """YAML reads 0xfff... of any length; Python refuses to turn it into text past 4,300 digits."""
    huge = "0x" + "f" * 5000
    text = BASE.replace("title: Errors at once", f"title: {huge}", 1).replace("  within: 30s", f"  within: {huge}", 1)
    found = problems(text)
    assert any("title: expected text, got an integer of 20000 bits" in p for p in found), found
    assert any("detection.within: expected a duration like '90s' or '2m', got the bare number a very large integer" in p
               for p in found), found
