"""A whole tabletop in real Chromium (Playwright driving Debian's Chromium headless): a facilitator and three
participants, each in a browser context of their own, joined with their own link and role.

``gameday run tests/fixtures/tabletop_room/scenario.yaml --mode tabletop --pace 2m:1m`` in a subprocess
(seconds-long times, so the exercise runs in well under a minute of scenario). The facilitator invites
alice (incident commander), bob (tech lead) and carol (comms lead) and starts; alice gets her page and
acknowledges; the facilitator publishes the dashboard inject by hand and bob sees its panel drawn; carol
posts no external update, so the customers inject's contingency (a journalist's email) fires; the
facilitator pauses and resumes; bob records a decision; each participant writes their hot wash; the
facilitator ends. Then the journal (events present, in order, with their authors), the postmortem and
the after-action report are checked against it. All along, carol's page never shows an inject that was
not published to her (the scenario marks every such text with ``ZEBRA-7741``), and text written into
the room (a hot wash with script in it) runs nowhere.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "run"))
from drillkit import read_events
from test_controlroom_browser import ARTIFACTS, browser, page_for  # noqa: F401 - the browser fixture

pytestmark = pytest.mark.integration
SCENARIO = Path(__file__).resolve().parents[1] / "fixtures" / "tabletop_room" / "scenario.yaml"
MARKER = "ZEBRA-7741"
XSS = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'
DECISION = "Fail over to the replica now"
HOT_WASH = {
    "alice": ("the page was acknowledged at once", "declare sooner"),
    "bob": ("the dashboard made the case for failing over", "ask for graphs earlier"),
    "carol": (f"we kept calm {XSS}", "post the status page before the press calls"),
}


def carol_sees_nothing_hidden(page, subjects_not_hers: list[str]) -> None:
    """Carol's page (its text and its markup, the embedded page state included) holds no inject that did
    not reach her: neither the marker nor the subject of any unpublished or someone else's inject."""
    text, html = page.inner_text("body"), page.content()
    assert MARKER not in text and MARKER not in html
    for subject in subjects_not_hers:
        assert subject not in text and subject not in html, subject


def test_a_facilitator_and_three_participants_play_a_whole_tabletop(workspace, browser):  # noqa: F811
    from playwright.sync_api import expect

    from gameday.loader import load_scenario

    sc = load_scenario(SCENARIO).scenario
    reaches_carol = {"i02-customers", "i02b-press"}  # to everyone; the others go to a role or never go out
    not_hers = [i.subject for i in sc.injects if i.id not in reaches_carol]

    ws = workspace
    proc = ws.spawn("run", str(SCENARIO), "--mode", "tabletop", "--pace", "2m:1m", "--out", "out")
    link = proc.wait_line("control room: ", timeout=40).split("control room: ", 1)[1].strip()
    errors: list[str] = []
    fac = page_for(browser, link, errors)
    expect(fac.locator("#status")).to_have_text("lobby")
    expect(fac.locator("#msel tbody tr")).to_have_count(len(sc.injects))
    expect(fac.locator("#pace-label")).to_have_text("2m:1m")
    links = {}
    for person, role in (("alice", "incident-commander"), ("bob", "tech-lead"), ("carol", "comms-lead")):
        fac.fill("#invite-person", person)
        fac.select_option("#invite-role", role)
        fac.click("#btn-invite")
        field = fac.locator(f'#links [data-link-for="{person}"] input')
        expect(field).to_have_count(1)
        links[person] = field.input_value()
    alice, bob, carol = (page_for(browser, links[p], errors) for p in ("alice", "bob", "carol"))
    for page in (alice, bob, carol):
        expect(page.locator("#console")).to_have_count(0)  # no MSEL, no controller fields, no controls
        expect(page.locator("#inbox")).to_be_visible()
    expect(carol.locator("#viewer-roles")).to_have_text("comms-lead")
    carol_sees_nothing_hidden(carol, not_hers)

    fac.click("#btn-start")
    expect(alice.locator("#status")).to_have_text("running", timeout=15_000)
    # the IC's page reaches alice only
    page_inject = alice.locator('#injects li[data-inject="i01-page"]')
    expect(page_inject).to_contain_text("Page: checkout errors", timeout=30_000)
    alice.click('[data-action="acknowledge"]')
    expect(alice.locator("#flash")).to_contain_text("Acknowledge")
    expect(carol.locator('#injects li[data-inject="i02-customers"]')).to_contain_text("Customers cannot pay", timeout=30_000)

    # the facilitator publishes the dashboard by hand: bob (tech lead) sees its panel drawn
    row = fac.locator('#msel tr[data-inject="i03-dashboard"]')
    expect(row.locator("td.state")).to_have_text("upcoming")
    fac.click('[data-inject-publish="i03-dashboard"]')
    expect(row.locator("td.state")).to_contain_text("published", timeout=15_000)
    panel = bob.locator('#injects li[data-inject="i03-dashboard"] img.panel')
    expect(panel).to_be_visible(timeout=15_000)
    bob.wait_for_function("() => { const i = document.querySelector('#injects img.panel'); "
                          "return i && i.complete && i.naturalWidth > 0; }")

    # carol posts no external update: the customers inject's contingency fires
    expect(carol.locator('#injects li[data-inject="i02b-press"]')).to_contain_text("A journalist asks for comment",
                                                                                   timeout=60_000)
    expect(fac.locator('#msel tr[data-inject="i02b-press"] td.state')).to_contain_text("contingency of i02-customers")
    carol_sees_nothing_hidden(carol, not_hers)

    # pause and resume: every page shows the game clock standing still, then running again
    fac.click("#btn-pause")
    for page in (alice, bob, carol):
        expect(page.locator("#status")).to_have_text("paused", timeout=15_000)
        expect(page.locator("#clock")).to_contain_text("(paused)")
    expect(carol.locator("#wall-clock")).to_contain_text("UTC")
    fac.click("#btn-resume")
    for page in (alice, bob, carol):
        expect(page.locator("#status")).to_have_text("running", timeout=15_000)

    # bob records a decision; everyone's log shows it
    expect(bob.locator("#decision-by")).to_have_value("bob")
    bob.fill("#decision-text", DECISION)
    bob.fill("#decision-options", "wait for the vendor\nfail over now")
    bob.fill("#decision-rationale", "the vendor gives no time to repair")
    bob.select_option("#decision-inject", "i03-dashboard")
    bob.click("#btn-decision")
    for page in (fac, alice, carol):
        expect(page.locator("#decisions")).to_contain_text(DECISION, timeout=15_000)
    expect(carol.locator("#decisions")).to_contain_text("decided by bob")

    # the hot wash, from each participant
    for person, page in (("alice", alice), ("bob", bob), ("carol", carol)):
        well, improve = HOT_WASH[person]
        page.fill("#hw-well", well)
        page.fill("#hw-improve", improve)
        page.click("#btn-hotwash")
        expect(page.locator("#flash")).to_contain_text("Added to the hot wash")
    expect(fac.locator("#hotwash-list li")).to_have_count(3, timeout=15_000)
    expect(fac.locator("#hotwash-list")).to_contain_text(XSS)  # shown as text, never run
    carol_sees_nothing_hidden(carol, not_hers)

    ARTIFACTS.mkdir(exist_ok=True)
    fac.screenshot(path=str(ARTIFACTS / "tabletop-facilitator.png"), full_page=True)
    carol.screenshot(path=str(ARTIFACTS / "tabletop-player.png"), full_page=True)

    fac.fill("#control-reason", "hot wash done")
    fac.click("#btn-end")
    for page in (fac, carol):  # the live feed says bye as the drill ends; the page says so
        expect(page.locator("#status")).to_have_text("ended", timeout=30_000)
        expect(page.locator("#banner")).to_contain_text("drill is over")
    code = proc.wait(90)
    assert code in (0, 1), proc.output()  # ended by the facilitator: scored (passed or not), never aborted
    for page in (fac, alice, bob, carol):
        assert page.evaluate("window.__pwned") is None
    assert errors == []

    # ---------------------------------------------------------------- the journal
    out = ws.cwd / "out"
    events = read_events(out / "journal.jsonl")
    kinds = [e["kind"] for e in events]
    assert kinds[0] == "DrillStarted" and events[0]["data"]["mode"] == "tabletop" and kinds[-1] == "DrillEnded"
    assert events[-1]["data"]["outcome"] == "completed" and "hot wash done" in events[-1]["data"]["reason"]

    def first(kind: str, **data: object) -> dict:
        return next(e for e in events if e["kind"] == kind and all(e["data"].get(k) == v for k, v in data.items()))

    joined = sorted(e["data"]["person"] for e in events if e["kind"] == "ResponderJoined")
    assert joined == ["alice", "bob", "carol"]
    page_ev = first("InjectPublished", inject="i01-page")
    ack = first("ActionRecorded", action="acknowledge")
    by_hand = first("InjectPublished", inject="i03-dashboard")
    customers = first("InjectPublished", inject="i02-customers")
    press = first("InjectPublished", inject="i02b-press")
    paused, resumed = first("ClockPaused"), first("ClockResumed")
    decision = first("DecisionRecorded")
    washes = [e for e in events if e["kind"] == "HotWashNoted"]
    assert (page_ev["data"]["by"], page_ev["source"], page_ev["data"]["to"]) == ("schedule", "simulator", "incident-commander")
    assert (ack["data"]["author"], ack["data"]["role"]) == ("alice", "incident-commander")
    assert (by_hand["data"]["by"], by_hand["source"]) == ("facilitator", "facilitator")
    assert by_hand["data"]["panel"] == "Checkout errors"
    assert (press["data"]["by"], press["data"]["contingency_of"]) == ("contingency", "i02-customers")
    assert (paused["data"]["by"], resumed["data"]["by"]) == ("facilitator", "facilitator")
    assert decision["source"] == "bob" and decision["data"] == {
        "decision": DECISION, "options": ["wait for the vendor", "fail over now"], "decided_by": "bob",
        "rationale": "the vendor gives no time to repair", "author": "bob", "inject": "i03-dashboard"}
    assert [(w["data"]["person"], w["data"]["author"], w["source"]) for w in washes] == [
        (p, p, p) for p in ("alice", "bob", "carol")]
    assert [(w["data"]["went_well"], w["data"]["to_improve"]) for w in washes] == [HOT_WASH[p] for p in ("alice", "bob", "carol")]
    seqs = [e["seq"] for e in (customers, press, paused, resumed, decision, *washes, events[-1])]
    assert seqs == sorted(seqs)  # in the order they were played
    assert press["t"] >= customers["t"] + 6.0 - 0.01  # the contingency's 6 s on the scenario clock
    assert not any(e["kind"] in ("FaultInjected",) and e["source"] != "simulator" for e in events)  # nothing was injected

    # ---------------------------------------------------------------- the postmortem, against the journal
    postmortem = (out / "postmortem.md").read_text()
    assert "tabletop" in postmortem.lower()
    assert DECISION in postmortem and "the vendor gives no time to repair" in postmortem
    for person in ("alice", "bob"):  # carol's has markup in it: escaped in the Markdown too
        well, improve = HOT_WASH[person]
        assert f"| {person} | {well} | {improve} |" in postmortem, person
    assert HOT_WASH["carol"][1] in postmortem and "<script>window.__pwned" not in postmortem
    for ev in (page_ev, by_hand, customers, press):
        assert ev["data"]["inject"] in postmortem
    html = (out / "postmortem.html").read_text()
    assert "<script>window.__pwned" not in html and "&lt;script&gt;window.__pwned=2&lt;/script&gt;" in html

    # ---------------------------------------------------------------- the after-action report (aar.md, aar.html)
    aar_md, aar_html = out / "aar.md", out / "aar.html"
    assert aar_md.is_file() and aar_html.is_file(), f"no after-action report in {sorted(p.name for p in out.iterdir())}"
    aar = aar_md.read_text()
    card = json.loads((out / "scorecard.json").read_text())
    ratings = {o["id"]: o["rating"] for o in card["objectives"]}
    assert set(ratings) == {o.id for o in sc.objectives}
    for o in sc.objectives:  # each objective's section, with the rating the scorecard gives it
        assert f"### Objective {o.id}: {o.title}" in aar, o.id
        section = aar.split(f"### Objective {o.id}:", 1)[1].split("\n### ", 1)[0]
        if ratings[o.id] is not None:
            assert f"**{ratings[o.id]}**" in section, (o.id, ratings[o.id])
    assert DECISION in aar and "Improvement Plan" in aar
    for person, (well, improve) in HOT_WASH.items():
        assert improve in aar, person
        assert person == "carol" or well in aar, person
    aar_page = aar_html.read_text()
    assert "<script>window.__pwned" not in aar_page
