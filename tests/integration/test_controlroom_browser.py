"""The control room in a real browser: Playwright (Python) driving Debian's Chromium headless.

A facilitator and two responders run the database-failure drill of the demo
(``gameday run ... --mode gameday`` in a subprocess): the facilitator invites them and
assigns roles in the lobby and starts the drill; alice (incident commander) acknowledges
and declares SEV1; bob (tech lead) runs the failover runbook and sees its result; the
facilitator, acting for carol (comms lead, on the phone), posts the external update and
the executive notice drafted from the comms templates; alice resolves. The scorecard
shows each of those actions on time, by the person who did it. On the way: script
injection in a name and a note runs nowhere, a reload mid-drill shows the same state,
and a screenshot of the control room mid-drill is kept in ``tests/artifacts/``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "run"))
from drillkit import SCENARIOS, assert_no_demo_left, read_events, sooner_copy  # noqa: E402

pytestmark = pytest.mark.integration
DB = SCENARIOS / "checkout-db-primary-failure.yaml"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
XSS_NOTE = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'
XSS_NAME = "<b onmouseover=window.__pwned=3>mallory</b>"


@pytest.fixture
def browser(need):
    chromium = need("chromium")
    from playwright import sync_api  # a dev dependency (pip install -e '.[dev]'): missing is a broken set-up, not a skip

    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def db_drill_copy(cwd: Path, responders: Path | None = None) -> Path:
    """``checkout-db-primary-failure.yaml``, its fault sooner (:func:`drillkit.sooner_copy`)."""
    return sooner_copy(DB, cwd, responders)


def page_for(browser, url: str, errors: list[str]):
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", lambda d: (errors.append(f"dialog: {d.message}"), d.dismiss()))
    page.goto(url)
    page.wait_for_url("**/room")
    return page


def rows(page) -> list[tuple[str, str]]:
    return page.eval_on_selector_all("#timeline li", "els => els.map(e => [e.dataset.seq, e.textContent])")


def test_facilitator_and_two_responders_run_the_database_drill(workspace, browser):
    from playwright.sync_api import expect

    ws = workspace
    proc = ws.spawn("run", str(db_drill_copy(ws.cwd)), "--mode", "gameday", "--out", "out")
    link = proc.wait_line("control room: ", timeout=40).split("control room: ", 1)[1].strip()
    errors: list[str] = []

    fac = page_for(browser, link, errors)
    expect(fac.locator("#status")).to_have_text("lobby")
    links = {}
    for person, role in (("alice", "incident-commander"), ("bob", "tech-lead"), ("carol", "comms-lead"),
                         (XSS_NAME, "")):
        fac.fill("#invite-person", person)
        fac.select_option("#invite-role", role)
        fac.click("#btn-invite")
        field = fac.locator(f'#links [data-link-for="{person}"] input')
        expect(field).to_have_count(1)
        links[person] = field.input_value()
    assert all(u.startswith(link.split("/join")[0] + "/join#") for u in links.values())
    expect(fac.locator('#roles tr[data-role="tech-lead"] td')).to_have_text("bob")

    alice = page_for(browser, links["alice"], errors)
    bob = page_for(browser, links["bob"], errors)
    mallory = page_for(browser, links[XSS_NAME], errors)
    assert "#" not in alice.url  # the token left the address bar
    expect(alice.locator("#viewer-roles")).to_have_text("incident-commander")
    expect(alice.locator("#facilitator")).to_have_count(0)  # no hidden expectations, no controls
    expect(alice.locator('[data-action="acknowledge"]')).to_be_disabled()  # not started yet

    fac.click("#btn-start")
    expect(alice.locator("#status")).to_have_text("running", timeout=10_000)
    # the team's monitoring fires: the detection reaches every page live
    expect(alice.locator('#incident dd[data-field="detected"]')).to_contain_text("via alert", timeout=30_000)
    alice.click('[data-action="acknowledge"]')
    alice.select_option("#severity", "SEV1")
    alice.click('[data-action="declare_incident"]')
    bob.click('[data-runbook="failover"]')
    expect(bob.locator('[data-result="failover"]')).to_contain_text("succeeded", timeout=20_000)

    fac.select_option("#act-as", "carol")
    for audience in ("external", "executive"):
        fac.select_option("#update-audience", audience)
        fac.click("#btn-draft")
        expect(fac.locator("#draft-note")).not_to_be_empty()
        draft = fac.input_value("#update-text")
        text = (draft or f"{audience} update: checkout is failing, we are failing over.") + "\n(edited by the facilitator)"
        fac.fill("#update-text", text)
        fac.click("#btn-send-update")
        expect(fac.locator("#flash")).to_contain_text("Update sent")
        expect(fac.locator("#update-text")).to_have_value("")

    mallory.fill("#note-text", XSS_NOTE)
    mallory.click("#btn-note")
    expect(alice.locator("#timeline")).to_contain_text(XSS_NOTE)  # shown as text, never run
    expect(fac.locator("#people")).to_contain_text(XSS_NAME)

    ARTIFACTS.mkdir(exist_ok=True)
    fac.screenshot(path=str(ARTIFACTS / "controlroom-mid-drill.png"), full_page=True)
    alice.screenshot(path=str(ARTIFACTS / "controlroom-responder-mid-drill.png"), full_page=True)

    # a reload rebuilds the same page from the journal
    before = rows(alice)
    roles_before = alice.inner_text("#roles")
    alice.reload()
    alice.wait_for_url("**/room")
    expect(alice.locator("#timeline li").first).to_be_visible()
    after = rows(alice)
    assert after[len(after) - len(before):] == before  # newest first: rows that arrived meanwhile come on top
    assert alice.inner_text("#roles") == roles_before
    expect(alice.locator("#viewer-roles")).to_have_text("incident-commander")

    expect(fac.locator("#timeline")).to_contain_text("Recovered", timeout=30_000)
    alice.click('[data-action="resolved"]')
    assert proc.wait(60) == 0, proc.output()

    for page in (fac, alice, bob, mallory):
        assert page.evaluate("window.__pwned") is None
    assert errors == []
    card = json.loads((ws.cwd / "out" / "scorecard.json").read_text())
    steps = {s["id"]: (s["verdict"], s["author"], s["author_role"]) for s in card["steps"]}
    assert steps == {
        "acknowledge": ("on_time", "alice", "incident-commander"),
        "declare": ("on_time", "alice", "incident-commander"),
        "severity": ("on_time", "alice", "incident-commander"),
        "failover": ("on_time", "bob", "tech-lead"),
        "executives": ("on_time", "carol", "comms-lead"),
        "status": ("on_time", "carol", "comms-lead"),
        "resolve": ("on_time", "alice", "incident-commander"),
    }, card["steps"]
    assert card["passed"] is True and card["roles"]["missing"] == [] and not card["roles"]["ic_did_technical_work"]
    events = read_events(ws.cwd / "out" / "journal.jsonl")
    joined = sorted(e["data"]["person"] for e in events if e["kind"] == "ResponderJoined")
    assert joined == sorted(["alice", "bob", XSS_NAME])
    postmortem = (ws.cwd / "out" / "postmortem.html").read_text()
    assert "<script>window.__pwned" not in postmortem and "&lt;script&gt;window.__pwned=2&lt;/script&gt;" in postmortem
    assert_no_demo_left(ws)
