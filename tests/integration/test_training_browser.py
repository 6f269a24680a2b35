"""A whole training drill in real Chromium (Playwright driving Debian's Chromium headless): the trainee,
alone with the simulated responders, and the facilitator (the coach) watching, each in a browser context
of their own, joined with the links ``gameday run`` printed.

``gameday run scenarios/training-2-checkout-db-failover.yaml --mode training --trainee dana --pace 15m:1m`` in
a subprocess. Dana starts the drill from her page (solo practice), waits for the page, takes command, gives
the roles and time-boxed tasks to Priya and Sam in the page, and sees their answers in the page's timeline;
she asks for strong objections to failing over, hears Priya's, and decides WRONG: to wait, with no failover.
Left unmitigated the simulation escalates (degraded -> outage after ten minutes, six in the test's copy of the
scenario, whose idle waits are shorter: a SEV1, the VP asks on chat); Dana recovers: SEV1, the executives
told, the failover runbook to her tech lead, and once Priya reports db-b primary she declares the incident
resolved. The drill ends on its own. All along her page never shows the simulation's state (the coach's does),
and text written into the room runs nowhere. What the page must show is waited for (generously); a state the
simulation passes through on its own is checked in the coach's list of changes, which keeps it, not in the
moment it lasts. Then the journal (events, authors, the escalation and the recovery in order) and the training
report (``training.md``: each rubric item's verdict, as :func:`gameday.analysis.rubric.score_training` gives
it on the journal; the evidence it cites, events of the journal) are checked.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "run"))
from drillkit import read_events
from test_controlroom_browser import ARTIFACTS, browser, page_for  # noqa: F401 - the browser fixture

pytestmark = pytest.mark.integration
SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "training-2-checkout-db-failover.yaml"
HIDDEN_STATES = ("degraded", "failing-over", "failing-over-after-outage")  # the trainee never sees these names
XSS = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'
WRONG = "We wait for db-a to come back: no failover, no orders lost."
LONG = 90_000  # ms: generous, for a slow machine (never a duration asserted)


def trainee_sees_no_state(page) -> None:
    """Dana's page (its text and its markup, the embedded page state included) names no simulation state."""
    html = page.content()
    assert page.locator("#sim-state").count() == 0
    for name in HIDDEN_STATES:
        assert name not in html, name


def give_task(page, to: str, kind: str, within: str, text: str, *, runbook: str | None = None,
              audience: str | None = None) -> None:
    from playwright.sync_api import expect

    page.select_option("#task-to", to)
    page.select_option("#task-kind", kind)
    if runbook:
        page.select_option("#task-runbook", runbook)
    if audience:
        page.select_option("#task-audience", audience)
    page.fill("#task-within", within)
    page.fill("#task-text", text)
    page.click("#btn-task")
    expect(page.locator("#flash")).to_contain_text(f"Task given to {to}")


def said(sc, to: str) -> str:
    """What the scenario's transition into ``to`` tells everyone."""
    assert sc.simulation is not None
    return next(t.say for t in sc.simulation.transitions if t.to == to and t.say)


def drill_scenario(ws) -> Path:
    """The shipped scenario with shorter waits, written into the workspace (same states, texts and triggers).

    Only the stretches where the drill waits for its clock and nobody acts are cut: the baseline before the
    fault (2m -> 30s), the responders' delays (45s/30s -> 15s/10s), the failover (2m -> 30s) and the cooldown
    (1m -> 10s; the drill still waits for the trainee's resolution). The escalation still comes from the
    time running out in ``degraded``, after 6m instead of 10m: still about five times what the trainee needs
    there (her answers, mostly the responders' delays, take about 1m of scenario time at this pace), as with
    the shipped timings (10m against about 2m).
    """
    import yaml

    data = yaml.safe_load(SCENARIO.read_text(encoding="utf-8"))
    data["timing"] = {**data["timing"], "baseline": "30s", "cooldown": "10s"}
    (fault,) = data["faults"]
    fault["at"] = "30s"
    fault["experiment"] = str(SCENARIO.parents[1] / fault["experiment"])
    for runbook in data["runbooks"].values():
        runbook["experiment"] = str(SCENARIO.parents[1] / runbook["experiment"])
    for inject, at in (("i01-dashboard", "1m"), ("i02-customers", "3m")):  # still before the outage, as in the story
        next(i for i in data["injects"] if i["id"] == inject)["at"] = at
    shortened = {("degraded", "outage"): "6m", ("failing-over|failing-over-after-outage", "recovered"): "30s"}
    for transition in data["simulation"]["transitions"]:
        froms = transition["from"]
        key = (froms if isinstance(froms, str) else "|".join(froms), transition["to"])
        if "after" in transition:
            transition["after"] = shortened.pop(key)
    assert not shortened, shortened
    delays = {"Priya": "15s", "Sam": "10s"}
    for persona in data["training"]["responders"]:
        persona["delay"] = delays.pop(persona["name"])
    assert not delays, delays
    path = ws.cwd / SCENARIO.name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_a_trainee_decides_wrong_escalates_recovers_and_is_scored(workspace, browser):  # noqa: F811
    from playwright.sync_api import expect

    from gameday.analysis.rubric import score_training
    from gameday.journal import read_journal
    from gameday.loader import load_scenario

    ws = workspace
    scenario = drill_scenario(ws)
    sc = load_scenario(scenario).scenario
    assert sc.simulation is not None
    objection = sc.simulation.states["degraded"].objection
    assert objection is not None
    proc = ws.spawn("run", str(scenario), "--mode", "training", "--trainee", "dana", "--pace", "15m:1m", "--seed", "7",
                    "--out", "out")
    coach_link = proc.wait_line("control room: ", timeout=40).split("control room: ", 1)[1].strip()
    dana_link = proc.wait_line("trainee (dana): ", timeout=10).split("trainee (dana): ", 1)[1].strip()
    errors: list[str] = []
    coach = page_for(browser, coach_link, errors)
    dana = page_for(browser, dana_link, errors)
    expect(dana.locator("#status")).to_have_text("lobby")
    expect(dana.locator("#training-trainee")).to_have_text("dana")
    expect(dana.locator("#pace-label")).to_have_text("15m:1m")
    expect(coach.locator("#sim-state")).to_have_count(1)

    # solo practice: the trainee starts; she holds incident-commander from the start
    dana.click("#btn-training-start")
    expect(dana.locator("#status")).to_have_text("running", timeout=15_000)
    expect(dana.locator("#viewer-roles")).to_have_text("incident-commander")
    # the page: the alert reaches her timeline (the simulation's state does not; the coach's page shows it)
    expect(dana.locator("#timeline")).to_contain_text("CheckoutErrorsHigh", timeout=LONG)
    expect(coach.locator("#sim-changes")).to_contain_text("healthy → degraded", timeout=LONG)

    dana.fill("#command-text", "This is Dana: I am the incident commander.")
    dana.click("#btn-command")
    expect(dana.locator("#timeline")).to_contain_text("dana took command")
    dana.select_option("#severity", "SEV2")
    dana.click('[data-action="set_severity"]')
    for person, role in (("Priya", "tech-lead"), ("Sam", "comms-lead")):
        dana.fill("#assign-person", person)
        dana.select_option("#assign-role", role)
        dana.click("#btn-assign")
        expect(dana.locator(f'#training-responders tr[data-responder="{person}"] td.holds')).to_have_text(role)
    give_task(dana, "Priya", "investigate", "2m", f"Why does checkout fail? The database first. {XSS}")
    give_task(dana, "Sam", "update", "5m", "Status page: some orders fail; next update in 30 minutes.", audience="external")
    # the simulated responders answer, in the timeline and under each task
    t1 = dana.locator('#tasks li[data-task="t1"]')
    expect(t1.locator('.reports li[data-status="finding"]')).to_contain_text("db-", timeout=LONG)  # what she found
    expect(dana.locator("#timeline")).to_contain_text("Priya on task t1 (finding)")
    expect(dana.locator('#tasks li[data-task="t2"] .status')).to_contain_text("done", timeout=LONG)
    expect(dana.locator("#timeline")).to_contain_text("Sam on task t2 (done)")
    expect(t1).to_contain_text(XSS)  # shown as text, never run

    # strong objections, then the WRONG decision: wait
    dana.fill("#objection-proposal", "Fail over to the replica now.")
    dana.fill("#objection-within", "2m")
    dana.click("#btn-objections")
    expect(dana.locator('#calls li[data-call="o1"] .answers li.strong')).to_contain_text(objection.text, timeout=LONG)
    expect(dana.locator('#calls li[data-call="o1"] .answers > li')).to_have_count(2, timeout=LONG)  # she hears everyone out
    dana.fill("#training-decision", WRONG)
    dana.fill("#training-rationale", "Priya objects: failing over loses the last orders.")
    dana.click("#btn-training-decision")
    expect(dana.locator("#training-decisions")).to_contain_text(WRONG)
    trainee_sees_no_state(dana)

    # unmitigated, the simulation escalates: the outage (a SEV1), told to everyone, and the VP asks Dana
    expect(coach.locator("#sim-state")).to_have_text("outage", timeout=LONG)
    expect(dana.locator("#timeline")).to_contain_text(said(sc, "outage"), timeout=LONG)
    expect(dana.locator("#timeline")).to_contain_text("CheckoutDown")
    trainee_sees_no_state(dana)

    # she recovers: SEV1, the executives told, the failover to her tech lead
    dana.select_option("#severity", "SEV1")
    dana.click('[data-action="set_severity"]')
    give_task(dana, "Sam", "notify_executives", "5m", "SEV1: checkout is down for everyone; failover under way.")
    give_task(dana, "Priya", "runbook", "2m", "Run the failover now; tell me when db-b is primary.", runbook="failover")
    expect(coach.locator("#sim-state")).to_have_text("recovered", timeout=LONG)
    expect(coach.locator("#sim-changes")).to_contain_text("outage → failing-over-after-outage (runbook failover started "
                                                          "by Priya)")
    expect(dana.locator("#timeline")).to_contain_text(said(sc, "recovered"), timeout=LONG)
    trainee_sees_no_state(dana)
    dana.click("#btn-hint")
    expect(dana.locator("#hints li")).to_have_count(1)
    expect(dana.locator("#hints-cost")).to_have_text("hints so far cost 5 points")
    ARTIFACTS.mkdir(exist_ok=True)
    dana.screenshot(path=str(ARTIFACTS / "training-trainee.png"), full_page=True)
    coach.screenshot(path=str(ARTIFACTS / "training-coach.png"), full_page=True)
    dana.click('[data-action="resolved"]')
    for page in (dana, coach):  # the drill ends on its own once resolved (after its cooldown)
        expect(page.locator("#status")).to_have_text("ended", timeout=LONG)
    code = proc.wait(90)
    assert code in (0, 1), proc.output()  # completed and scored (passed or not), never aborted
    for page in (dana, coach):
        assert page.evaluate("window.__pwned") is None
    assert errors == []

    # ---------------------------------------------------------------- the journal
    out = ws.cwd / "out"
    events = read_events(out / "journal.jsonl")
    assert events[0]["kind"] == "DrillStarted" and events[0]["data"]["mode"] == "training"
    assert events[-1]["kind"] == "DrillEnded" and events[-1]["data"]["outcome"] == "completed"

    def first(event_kind: str, /, **data: object) -> dict:
        return next(e for e in events if e["kind"] == event_kind and all(e["data"].get(k) == v for k, v in data.items()))

    taken = first("CommandTaken", person="dana")
    decision = first("DecisionRecorded", decision=WRONG)
    outage = first("StateChanged", to_state="outage")
    failover = first("TaskAssigned", kind="runbook")
    started = first("ActionRecorded", action="runbook_started")
    after = first("StateChanged", to_state="failing-over-after-outage")
    recovered = first("StateChanged", to_state="recovered")
    resolved = first("ActionRecorded", action="resolved")
    assert (taken["source"], decision["data"]["decided_by"], decision["data"]["author"]) == ("dana", "dana", "dana")
    assert outage["data"]["from_state"] == "degraded" and outage["data"]["severity"] == "SEV1"
    assert "in degraded" in outage["data"]["trigger"]  # the time ran out: nobody failed over
    assert (failover["data"]["to"], failover["data"]["by"], failover["data"]["runbook"]) == ("Priya", "dana", "failover")
    assert (started["data"]["author"], started["data"]["role"]) == ("Priya", "tech-lead")
    assert after["data"]["cause_seq"] == started["seq"]
    assert resolved["data"]["author"] == "dana"
    seqs = [e["seq"] for e in (taken, outage, failover, started, after, recovered, resolved)]
    assert seqs == sorted(seqs)  # escalated, then recovered, then resolved
    assert taken["seq"] < decision["seq"]
    assert not any(e["kind"] == "StateChanged" and e["data"]["to_state"] == "failing-over" for e in events)
    reports = [e for e in events if e["kind"] == "TaskReported"]
    assert {r["data"]["by"] for r in reports} == {"Priya", "Sam"}
    hints = [e for e in events if e["kind"] == "HintGiven"]
    assert [(h["data"]["to"], h["data"]["cost"]) for h in hints] == [("dana", 5.0)]

    # ---------------------------------------------------------------- the training report, against the journal
    score = score_training(read_journal(out / "journal.jsonl").events)
    verdicts = {i.id: i.verdict for i in score.items}
    assert verdicts["took-command"] == "met" and verdicts["hands-off"] == "met"
    assert verdicts["decisions"] == "met"  # objections asked, with a time box, before the (wrong) decision
    assert verdicts["resolution"] == "met" and verdicts["handover"] == "n/a"
    by_seq = {e["seq"]: e for e in events}
    for item in score.items:  # every piece of evidence is an event of the journal, of the kind it says
        for ev in item.evidence:
            assert by_seq[ev.seq]["kind"] == ev.kind, (item.id, ev)
    assert [h.cost for h in score.hints] == [5.0]
    report = out / "training.md"
    assert report.is_file(), sorted(p.name for p in out.iterdir())  # helper A's report hook
    md = report.read_text()
    for item in score.items:
        assert f"### {item.title}: {item.verdict}" in md, item.id
    assert f"{score.score:g}" in md
    assert "<script>window.__pwned" not in md and "<script>window.__pwned" not in (out / "training.html").read_text()
