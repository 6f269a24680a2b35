"""The JUnit report: one testcase per expectation, parseable, escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from gameday.analysis.junit import junit_xml
from gameday.model.scorecard import (
    CommsResult,
    DetectionResult,
    ExecutiveResult,
    Measure,
    RecoveryResult,
    RoleResult,
    Score,
    Scorecard,
    SeverityResult,
    StepResult,
)

HOSTILE = "<script>alert(1)</script> ]]> & \"quotes\" 'apos' \x1b[31m"


def step(id: str, verdict: str, done: float | None, note: str = "") -> StepResult:
    return StepResult(id=id, action="acknowledge", role="incident-commander", anchor="detection", anchor_t=30.0, deadline_t=60.0,
                      done_t=done, verdict=verdict, author="alice" if done is not None else None, note=note)  # fmt: skip


def card(**update: Any) -> Scorecard:
    base = Scorecard(
        drill_id="d1", scenario_id="db-failover", title="DB fails", mode="ci", outcome="completed",
        started_at="2026-01-01T09:00:00.000000Z", ended_at="2026-01-01T09:02:00.500000Z", policy="default", expected_severity="SEV1",
        times=[Measure(name="MTTD", seconds=20.0, definition="d"), Measure(name="time_to_recovery", seconds=75.25, definition="r")],
        detection=DetectionResult(verdict="on_time", deadline_t=70.0, detected_t=30.0, via="alert", signal="db-down"),
        steps=[step("ack", "on_time", 40.0), step("failover", "on_time", 50.0)],
        severity=SeverityResult(expected="SEV1", first_declared="SEV1", final="SEV1", correct=True),
        executives=ExecutiveResult(required=False, within=None, notified_t=None, verdict="not_required"),
        comms=CommsResult(updates=0, required_every=None, longest_gap=None, verdict="not_required"),
        roles=RoleResult(required=[], holders={}, missing=[], distinct_people=True, ic_did_technical_work=False),
        recovery=RecoveryResult(verdict="on_time", deadline_t=310.0, recovered_t=85.0), impact_seconds=74.0,
        score=Score(total=100.0, components=[], formula="f"), passed=True, failures=[],
    )  # fmt: skip
    return base.model_copy(update=update)


def parse(c: Scorecard) -> tuple[ET.Element, dict[str, ET.Element]]:
    root = ET.fromstring(junit_xml(c).encode("utf-8"))
    suite = root.find("testsuite")
    assert suite is not None
    return root, {tc.get("name"): tc for tc in suite.findall("testcase")}


def counts(root: ET.Element) -> dict[str, int]:
    suite = root.find("testsuite")
    return {k: int(suite.get(k)) for k in ("tests", "failures", "errors", "skipped")}  # type: ignore[union-attr, arg-type]


def test_clean_pass() -> None:
    root, cases = parse(card())
    assert root.tag == "testsuites" and root.find("testsuite").get("name") == "gameday.db-failover"  # type: ignore[union-attr]
    assert list(cases) == ["detection", "step.ack", "step.failover", "recovery", "drill"]
    assert counts(root) == {"tests": 5, "failures": 0, "errors": 0, "skipped": 0}
    assert all(len(tc.findall("failure")) + len(tc.findall("error")) + len(tc.findall("skipped")) == 0 for tc in cases.values())
    assert {tc.get("classname") for tc in cases.values()} == {"gameday.db-failover"}
    assert (cases["detection"].get("time"), cases["step.ack"].get("time"), cases["recovery"].get("time"), cases["drill"].get("time")) == (
        "20.000", "10.000", "75.250", "120.500")
    props = {p.get("name"): p.get("value") for p in root.iter("property")}
    assert props["drill_id"] == "d1" and props["passed"] == "true" and props["score"] == "100.0"
    assert root.find("testsuite").get("timestamp") == "2026-01-01T09:00:00.000000Z"  # type: ignore[union-attr]


def test_silent_late_missed_and_not_applicable() -> None:
    c = card(detection=DetectionResult(verdict="silent", deadline_t=70.0, detected_t=None),
             steps=[step("ack", "late", 100.0, note=HOSTILE), step("failover", "missed", None), step("later", "not_applicable", None)],
             recovery=RecoveryResult(verdict="never", deadline_t=310.0, recovered_t=None), passed=False,
             failures=["Detection was silent.", f"Step 'ack' was late {HOSTILE}"])  # fmt: skip
    root, cases = parse(c)
    assert counts(root) == {"tests": 6, "failures": 5, "errors": 0, "skipped": 1}
    assert root.get("tests") == "6" and root.get("failures") == "5"
    det = cases["detection"].find("failure")
    assert det is not None and det.get("type") == "silent" and det.get("message", "").startswith("Nothing detected the fault by its deadline (+1m10s)")
    late = cases["step.ack"].find("failure")
    assert late is not None and late.get("message") == "Step ack (acknowledge) was done 40.0s after its deadline (+1m40s, deadline +1m00s)."
    clean_hostile = HOSTILE.replace("\x1b", "<U+001B>")  # shown visibly, not dropped
    assert late.text is not None and late.text.endswith("note: " + clean_hostile)
    assert cases["step.failover"].find("failure").get("type") == "missed"  # type: ignore[union-attr]
    assert cases["step.later"].find("skipped") is not None
    assert cases["recovery"].find("failure").get("type") == "never"  # type: ignore[union-attr]
    drill = cases["drill"].find("failure")
    assert drill is not None and clean_hostile in drill.get("message", "") and "Detection was silent; Step" in drill.get("message", "")
    for tc in cases.values():
        for el in tc:
            assert not any(w in (el.get("message") or "").lower() for w in ("failed to", "fault of", "blame"))


def test_aborted_is_an_error_and_unmet_detection_not_applicable_is_skipped() -> None:
    c = card(outcome="aborted", abort_reason="guardrail <max> & co", ended_at=None, passed=False,
             detection=DetectionResult(verdict="not_applicable", deadline_t=None, detected_t=None),
             recovery=RecoveryResult(verdict="not_applicable", deadline_t=None, recovered_t=None), failures=["The drill was aborted"])  # fmt: skip
    root, cases = parse(c)
    assert counts(root) == {"tests": 5, "failures": 0, "errors": 1, "skipped": 2}
    err = cases["drill"].find("error")
    assert err is not None and err.get("type") == "aborted" and err.get("message") == "The drill was aborted: guardrail <max> & co."
    assert cases["drill"].get("time") == "0.000"
    incomplete = parse(card(outcome="incomplete", passed=False))[1]["drill"].find("error")
    assert incomplete is not None and incomplete.get("type") == "incomplete"


def test_completed_but_not_passed_fails_the_drill_case() -> None:
    root, cases = parse(card(passed=False, failures=["Severity was classified SEV3; the scenario's ground truth is SEV1"]))
    assert counts(root)["failures"] == 1
    assert cases["drill"].find("failure").get("message") == (  # type: ignore[union-attr]
        "The drill did not meet its pass criteria (score 100.0/100): Severity was classified SEV3; the scenario's ground truth is SEV1.")


def test_escaped() -> None:
    c = card(steps=[step("ack", "on_time", 40.0, note=HOSTILE)], title=HOSTILE)
    xml = junit_xml(c)
    assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites')
    assert "<script>" not in xml and "&lt;script&gt;" in xml and "\x1b" not in xml
    _, cases = parse(c)
    assert cases["step.ack"].find("system-out").text.endswith("note: " + HOSTILE.replace("\x1b", "<U+001B>"))  # type: ignore[union-attr]
