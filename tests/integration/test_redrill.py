"""A real re-drill against the embedded demo: a failing ci drill records a finding, a fix is applied
(in a copy of the project), ``gameday redrill`` passes on that gap and closes it; a later failing drill
reopens it as a repeat, and a re-drill that still shows the gap leaves it open.

The gap is a real one: the incident commander's scripted responder acknowledges the page 7 s after
detection, past the step's 5 s deadline (``checkout-api-hang``, ``acknowledge: within 5s``); the fix
is the responder file acting on time again (1 s). Lateness is by the scenario's own margins (6 s
against 5 s, 1 s against 5 s), never by how fast this machine is. The copied scenario's fault comes at 1 s
(not 3 s) and the IC resolves 2 s (not 5 s) after recovery: nothing is judged on those waits. Four drills
of ~8 s each.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from drillkit import ROOT, SCENARIOS, Workspace, assert_no_demo_left  # on sys.path: tests/integration/conftest.py

from gameday.model.findings import fingerprint
from gameday.program.findings import read_findings

pytestmark = pytest.mark.integration

SCENARIO = "checkout-api-hang"
RESPONDERS = Path("scenarios/responders/checkout-api-hang.ci.yaml")
ON_TIME = "{as: alice, action: acknowledge, after: detection, delay: 1s}"
LATE = "{as: alice, action: acknowledge, after: detection, delay: 6s}"
#: Shorter idle waits in the copies (``(file, old, new)``): the fault sooner, the resolution sooner after recovery.
SHORTER = ((SCENARIOS / f"{SCENARIO}.yaml", "    at: 3s\n", "    at: 1s\n"),
           (SCENARIOS / f"{SCENARIO}.yaml", "  baseline: 2s\n", "  baseline: 1s\n"),
           (ROOT / RESPONDERS, "{as: alice, action: resolved, after: recovery, delay: 5s}",
            "{as: alice, action: resolved, after: recovery, delay: 2s}"))


def project_copy(cwd: Path) -> None:
    """The demo project's files this scenario needs, copied: the fix is made here, never in the repo."""
    shutil.copy(ROOT / "gameday.yaml", cwd / "gameday.yaml")
    shutil.copytree(ROOT / "experiments", cwd / "experiments", ignore=shutil.ignore_patterns("data", "__pycache__"))
    (cwd / RESPONDERS).parent.mkdir(parents=True)
    shutil.copy(SCENARIOS / f"{SCENARIO}.yaml", cwd / "scenarios" / f"{SCENARIO}.yaml")
    shutil.copy(ROOT / RESPONDERS, cwd / RESPONDERS)
    for source, old, new in SHORTER:
        path = cwd / source.relative_to(ROOT)
        text = path.read_text(encoding="utf-8")
        assert text.count(old) == 1, (path, old)
        path.write_text(text.replace(old, new), encoding="utf-8")


def acknowledge(cwd: Path, old: str, new: str) -> None:
    """Edit the responder file: the IC's acknowledgement from ``old`` to ``new``."""
    path = cwd / RESPONDERS
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_redrill_closes_a_fixed_finding_and_a_later_failure_reopens_it(workspace: Workspace) -> None:
    ws, cwd = workspace, workspace.cwd
    project_copy(cwd)
    fid = fingerprint(SCENARIO, "step:acknowledge")
    findings = cwd / "findings.yaml"

    acknowledge(cwd, ON_TIME, LATE)  # the gap: the page is acknowledged late
    failing = ws.run("run", f"scenarios/{SCENARIO}.yaml", "--mode", "ci")
    assert failing.returncode == 1, failing
    assert "Step 'acknowledge' (acknowledge) was done at" in failing.stdout
    assert f"findings:   1 new ({fid}) in {findings}" in failing.stdout, failing
    first = read_findings(findings).get(SCENARIO, "step:acknowledge")
    assert first is not None and first.id == fid and first.status == "open"
    assert first.scenario_path == f"scenarios/{SCENARIO}.yaml" and len(first.seen_in) == 1

    acknowledge(cwd, LATE, ON_TIME)  # the fix
    fixed = ws.run("redrill", fid)
    assert fixed.returncode == 0, fixed
    assert f"redrill {fid}: closed — re-drill {SCENARIO}-" in fixed.stdout
    assert "step acknowledge was on time" in fixed.stdout
    closed = read_findings(findings).get(SCENARIO, "step:acknowledge")
    assert closed is not None and closed.status == "closed" and closed.closed_by is not None
    redrill_id = closed.closed_by.drill
    assert (cwd / "reports" / redrill_id / "journal.jsonl").is_file()
    assert (cwd / "scorecards" / f"{redrill_id}.json").is_file()
    assert closed.seen_in == first.seen_in and closed.repeats == 0

    acknowledge(cwd, ON_TIME, LATE)  # it comes back
    again = ws.run("run", f"scenarios/{SCENARIO}.yaml", "--mode", "ci")
    assert again.returncode == 1, again
    assert f"1 reopened as a repeat ({fid})" in again.stdout, again
    reopened = read_findings(findings).get(SCENARIO, "step:acknowledge")
    assert reopened is not None and (reopened.status, reopened.repeats, reopened.closed_by) == ("reopened", 1, None)
    assert [h.status for h in reopened.history] == ["open", "closed", "reopened"]
    listed = ws.run("findings", "list", "--repeat")
    assert listed.returncode == 0 and listed.stdout.startswith(f"{fid}  reopened"), listed

    still = ws.run("redrill", fid)  # not fixed: the re-drill shows it again, it stays open
    assert still.returncode == 1, still
    assert f"redrill {fid}: stays reopened — re-drill {SCENARIO}-" in still.stdout and "still shows it" in still.stdout
    last = read_findings(findings).get(SCENARIO, "step:acknowledge")
    assert last is not None and last.status == "reopened" and len(last.seen_in) == 3
    assert ws.ledger_entries() == []
    assert_no_demo_left(ws)
