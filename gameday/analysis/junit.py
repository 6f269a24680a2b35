"""A drill's scorecard as a JUnit XML report, for CI dashboards.

One ``<testsuite name="gameday.<scenario_id>">`` with one ``<testcase>`` per expectation:
``detection``, ``step.<id>`` for each expected step, ``recovery``, and ``drill`` (an
``<error>`` when the drill was aborted or is incomplete; a ``<failure>`` when it completed
but did not pass — a pass gate fell short, or no fault was injected — naming every
expectation not met; a pass otherwise, its output listing any practice gap). Unmet
expectations are ``<failure>`` elements with human, blameless messages; expectations that
did not apply are ``<skipped>``, saying why. ``time`` attributes are measured seconds: MTTD for
detection, anchor → done for a step, time to recovery, the drill's duration. The ``drill``
case and the ``verdict``/``score`` properties use the scorecard's one headline
(:func:`~gameday.model.scorecard.headline`): an aborted drill shows no score.

A suite of drills (``gameday run DIR --mode ci``) gets one document: :func:`merge_junit` puts
each drill's ``<testsuite>`` (as :func:`junit_xml` wrote it) under one ``<testsuites>`` with the
totals summed, and :func:`placeholder_junit` stands for a scenario that has no report of its own
(skipped, invalid, not started).

Built with :mod:`xml.etree.ElementTree`, so untrusted text (step notes, names, reasons)
is escaped; characters XML 1.0 cannot carry are dropped. Deterministic: the same
scorecard gives the same text.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import datetime

from gameday.analysis.findings import measure, silent_why, via_text
from gameday.model.duration import human
from gameday.model.scorecard import Scorecard, StepResult, fault_injected, headline, score_text, verdict_reason
from gameday.model.terms import format_offset
from gameday.model.textsafe import neutralise

_XML_INVALID = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_COUNTER = {"failure": "failures", "error": "errors", "skipped": "skipped"}


def _clean(text: object) -> str:
    """Text for XML: control and formatting characters (bidi overrides, NUL) shown as ``<U+XXXX>``
    (:mod:`gameday.model.textsafe`), then anything XML 1.0 cannot hold dropped."""
    return _XML_INVALID.sub("", neutralise(text))


def _secs(value: float | None) -> str:
    return f"{max(value, 0.0):.3f}" if value is not None else "0.000"


def _diff(a: float | None, b: float | None) -> float | None:
    return a - b if a is not None and b is not None else None


def _elapsed(card: Scorecard) -> float | None:
    if not card.ended_at:
        return None
    try:
        start = datetime.fromisoformat(card.started_at.replace("Z", "+00:00"))
        end = datetime.fromisoformat(card.ended_at.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (end - start).total_seconds()


class _Suite:
    """Collects test cases and their counts."""

    def __init__(self, card: Scorecard):
        self.name = f"gameday.{card.scenario_id}"
        self.cases: list[ET.Element] = []
        self.counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}

    def case(self, name: str, seconds: float | None, outcome: str = "passed", message: str = "", *,
             kind: str = "", text: str = "", out: str = "") -> None:  # fmt: skip
        """Add a test case; ``outcome`` is passed, failure, error or skipped."""
        el = ET.Element("testcase", {"classname": self.name, "name": _clean(name), "time": _secs(seconds)})
        if outcome != "passed":
            child = ET.SubElement(el, outcome, {"message": _clean(message)})
            if kind and outcome != "skipped":
                child.set("type", kind)
            if text:
                child.text = _clean(text)
            self.counts[_COUNTER[outcome]] += 1
        if out:
            ET.SubElement(el, "system-out").text = _clean(out)
        self.counts["tests"] += 1
        self.cases.append(el)


def junit_xml(card: Scorecard) -> str:
    """The scorecard as JUnit XML: a ``<testsuites>`` document holding one ``<testsuite>``."""
    suite = _Suite(card)
    _detection(suite, card)
    for step in card.steps:
        _step(suite, step)
    _recovery(suite, card)
    _drill(suite, card)

    elapsed = _secs(_elapsed(card))
    counts = {k: str(v) for k, v in suite.counts.items()}
    root = ET.Element("testsuites", {"name": "gameday", **counts, "time": elapsed})
    attrs = {"name": suite.name, **counts, "time": elapsed, "timestamp": _clean(card.started_at)}
    ts = ET.SubElement(root, "testsuite", attrs)
    props = ET.SubElement(ts, "properties")
    for key, value in (
        ("drill_id", card.drill_id),
        ("scenario", card.scenario_id),
        ("title", card.title),
        ("mode", card.mode),
        ("outcome", card.outcome),
        ("policy", card.policy),
        ("expected_severity", card.expected_severity),
        ("score", score_text(card).removesuffix("/100")),
        ("verdict", card.verdict),
        ("passed", "true" if card.passed else "false"),
    ):
        ET.SubElement(props, "property", {"name": key, "value": _clean(value)})
    ts.extend(suite.cases)
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _detection(suite: _Suite, card: Scorecard) -> None:
    d = card.detection
    mttd = measure(card, "mttd", "timetodetect", "timetodetection")
    deadline = format_offset(d.deadline_t)
    out = f"detected at {format_offset(d.detected_t)}{via_text(d.via, d.signal)}; deadline {deadline}"
    if d.verdict == "on_time":
        suite.case("detection", mttd, out=out)
    elif d.verdict == "late":
        late = human(_diff(d.detected_t, d.deadline_t))
        message = f"Detection came {late} after its deadline ({format_offset(d.detected_t)}, deadline {deadline})."
        suite.case("detection", mttd, "failure", message, kind="late", out=out)
    elif d.verdict == "silent":
        suite.case("detection", None, "failure", silent_why(card), kind="silent")
    else:
        suite.case("detection", None, "skipped", f"Detection was not applicable: {_why_not_applicable(card)}.")


def _why_not_applicable(card: Scorecard) -> str:
    """Why detection or recovery did not apply (both follow the same facts)."""
    if not fault_injected(card):
        return "no fault was injected"
    return "the conductor's probes saw no customer impact and nothing was detected"


def _step(suite: _Suite, s: StepResult) -> None:
    name, label, deadline = f"step.{s.id}", f"Step {s.id} ({s.action})", format_offset(s.deadline_t)
    who = (f" by {s.author}" + (f" ({s.author_role})" if s.author_role else "")) if s.author else ""
    expected = s.action + (f" by {s.role}" if s.role else "") + f", due {deadline} (after {s.anchor})"
    out = f"{expected}; done {format_offset(s.done_t)}{who}" + (f"\nnote: {s.note}" if s.note else "")
    if s.verdict == "on_time":
        suite.case(name, _diff(s.done_t, s.anchor_t), out=out)
    elif s.verdict == "late" and s.done_t is not None and s.deadline_t is not None and s.done_t <= s.deadline_t:
        # a recurring step done by its deadline, late for its cadence: never "done -2.0s after its deadline"
        message = (f"{label} was done by its deadline ({format_offset(s.done_t)}, deadline {deadline}) but not at its "
                   "cadence" + (f": {s.note}." if s.note else "."))
        suite.case(name, _diff(s.done_t, s.anchor_t), "failure", message, kind="late", text=out)
    elif s.verdict == "late":
        late = human(_diff(s.done_t, s.deadline_t))
        message = f"{label} was done {late} after its deadline ({format_offset(s.done_t)}, deadline {deadline})."
        suite.case(name, _diff(s.done_t, s.anchor_t), "failure", message, kind="late", text=out)
    elif s.verdict == "missed":
        message = f"{label} was not done during the drill (deadline {deadline})."
        suite.case(name, None, "failure", message, kind="missed", text=out)
    else:
        message = f"{label} did not apply: its anchor ({s.anchor}) did not happen or the drill ended before it was due."
        suite.case(name, None, "skipped", message, out=out)


def _recovery(suite: _Suite, card: Scorecard) -> None:
    r = card.recovery
    ttr = measure(card, "timetorecovery", "ttr")
    deadline = format_offset(r.deadline_t)
    out = f"recovered {format_offset(r.recovered_t)}; deadline {deadline}"
    if r.verdict == "on_time":
        suite.case("recovery", ttr, out=out)
    elif r.verdict == "late":
        late = human(_diff(r.recovered_t, r.deadline_t))
        message = f"The steady state held again {late} after its deadline ({format_offset(r.recovered_t)}, deadline {deadline})."
        suite.case("recovery", ttr, "failure", message, kind="late", out=out)
    elif r.verdict == "never":
        message = f"The steady state did not hold again before the drill ended (deadline {deadline})."
        suite.case("recovery", None, "failure", message, kind="never", out=out)
    else:
        suite.case("recovery", None, "skipped", f"Recovery was not applicable: {_why_not_applicable(card)}.")


def _drill(suite: _Suite, card: Scorecard) -> None:
    elapsed = _elapsed(card)
    unmet = "\n".join(f"- {f}" for f in card.failures)
    out = "\n".join([f"{headline(card)}: {verdict_reason(card)}", *card.warnings, f"formula: {card.score.formula}"])
    text = score_text(card)
    shown = f"score {text}" if text[0].isdigit() else text
    if card.outcome == "aborted":
        message = "The drill was aborted" + (f": {card.abort_reason}" if card.abort_reason else "") + "."
        suite.case("drill", elapsed, "error", message, kind="aborted", text=unmet, out=out)
    elif card.outcome == "incomplete":
        message = "The drill's journal ends before the drill did (incomplete)."
        suite.case("drill", elapsed, "error", message, kind="incomplete", text=unmet, out=out)
    elif not card.passed:
        unmet_line = "; ".join(f.rstrip(".") for f in card.failures) if card.failures else "see the scorecard"
        message = f"The drill did not meet its pass criteria ({shown}): {unmet_line}."
        suite.case("drill", elapsed, "failure", message, kind="not_passed", text=unmet, out=out)
    else:
        suite.case("drill", elapsed, out="\n".join([out, unmet]) if unmet else out)


# ------------------------------------------------------------------ suites (``gameday run DIR --mode ci``)

_TOTALS = ("tests", "failures", "errors", "skipped")


def placeholder_junit(suite_name: str, outcome: str, message: str, *, kind: str = "", text: str = "",
                      properties: Sequence[tuple[str, str]] = ()) -> str:
    """A one-case JUnit document for a scenario of a suite that produced no drill report of its own:
    one ``<testsuite name=suite_name>`` holding one ``drill`` case, ``outcome`` ``skipped`` (not run:
    another mode's scenario, or the suite stopped first) or ``error`` (an invalid scenario, a drill
    whose set-up failed), with ``message``, the ``type`` ``kind`` and the body ``text`` (an error's),
    and ``properties`` in the order given. All text is escaped as :func:`junit_xml`'s is."""
    if outcome not in ("skipped", "error"):
        raise ValueError(f"outcome must be 'skipped' or 'error', not {outcome!r}")
    case = ET.Element("testcase", {"classname": _clean(suite_name), "name": "drill", "time": _secs(None)})
    child = ET.SubElement(case, outcome, {"message": _clean(message)})
    if kind and outcome == "error":
        child.set("type", _clean(kind))
    if text:
        child.text = _clean(text)
    counts = {"tests": "1", "failures": "0", "errors": "1" if outcome == "error" else "0",
              "skipped": "1" if outcome == "skipped" else "0"}
    root = ET.Element("testsuites", {"name": "gameday", **counts, "time": _secs(None)})
    suite = ET.SubElement(root, "testsuite", {"name": _clean(suite_name), **counts, "time": _secs(None)})
    if properties:
        props = ET.SubElement(suite, "properties")
        for key, value in properties:
            ET.SubElement(props, "property", {"name": _clean(key), "value": _clean(value)})
    suite.append(case)
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def merge_junit(documents: Sequence[str], name: str = "gameday") -> str:
    """One JUnit document from several: every ``<testsuite>`` of each document (a ``<testsuites>`` as
    :func:`junit_xml` and :func:`placeholder_junit` write it, or a lone ``<testsuite>``), in the order
    given, unchanged, under one ``<testsuites name=name>`` whose ``tests``, ``failures``, ``errors``,
    ``skipped`` and ``time`` are the sums of its suites'. Deterministic: the same documents give the
    same text. ``ValueError`` for a document that is not JUnit XML (the caller's own files only: this
    parses with :mod:`xml.etree`, which is not hardened against hostile XML)."""
    suites: list[ET.Element] = []
    for i, doc in enumerate(documents):
        try:
            top = ET.fromstring(doc.encode("utf-8"))
        except ET.ParseError as exc:
            raise ValueError(f"document {i + 1}: not XML: {exc}") from None
        if top.tag == "testsuite":
            suites.append(top)
        elif top.tag == "testsuites":
            suites.extend(top.findall("testsuite"))
        else:
            raise ValueError(f"document {i + 1}: not JUnit XML (its root is <{top.tag}>)")
    totals = dict.fromkeys(_TOTALS, 0)
    seconds = 0.0
    for suite in suites:
        for key in _TOTALS:
            totals[key] += _int(suite.get(key))
        seconds += _float(suite.get("time"))
    root = ET.Element("testsuites", {"name": _clean(name), **{k: str(v) for k, v in totals.items()},
                                     "time": _secs(seconds)})
    for suite in suites:
        suite.tail = None
        root.append(suite)
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _int(text: str | None) -> int:
    try:
        return max(int(text or "0"), 0)
    except ValueError:
        return 0


def _float(text: str | None) -> float:
    try:
        value = float(text or "0")
    except ValueError:
        return 0.0
    return value if math.isfinite(value) and value > 0 else 0.0
