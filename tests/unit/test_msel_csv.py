"""The MSEL in and out of spreadsheets (gameday/sim/mselcsv.py, `gameday msel export|import`):
round trips (by example and by property), HSEEP's columns, BOM and semicolons, CSV injection, and
every problem located FILE:ROW:COLUMN, all at once, exit 2, nothing written."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gameday.cli import main
from gameday.loader import load_scenario
from gameday.model.duration import format_duration
from gameday.model.exercise import CHANNELS, Inject
from gameday.model.scenario import ACTIONS, Scenario
from gameday.sim.mselcells import neutralise_cell, unneutralise_cell
from gameday.sim.mselcsv import COLUMNS, HSEEP_COLUMNS, MselError, export_msel, import_msel, msel_csv, read_msel_file

ROOT = Path(__file__).resolve().parents[2]
BASE = ROOT / "scenarios" / "checkout-db-primary-failure.yaml"

INJECTS = [
    {"id": "i-01", "at": "9s", "channel": "alert", "from": "Alertmanager", "subject": "FIRING: CheckoutErrorsHigh",
     "message": "Checkout errors above 5%\nsince 09:01", "synopsis": "The primary is gone; the alert fires",
     "alert": {"alertname": "CheckoutErrorsHigh", "labels": {"service": "checkout"}},
     "expect": [{"step": "acknowledge", "description": "The IC acknowledges the page"},
                {"action": "set_severity", "role": "incident-commander"}],
     "objective": "triage", "contingency": {"after": "1m", "publish": "i-03"}, "notes": "watch the IC"},
    {"id": "i-02", "at": "1m5s", "channel": "dashboard", "from": "Grafana", "to": "tech-lead", "subject": "Checkout panel",
     "panel": {"title": "checkout errors", "unit": "%", "series": [{"name": "5xx", "points": [["0s", 0.0], ["30s", 42.5]]}]}},
    {"id": "i-03", "channel": "customer_report", "from": "Customer support", "to": "comms-lead",
     "subject": "Customers cannot pay", "message": "Three tickets in five minutes.",
     "alert": {"format": "generic", "payload": {"alerts": [{"name": "x", "status": "firing"}], "n": 1.5}}},
]


def injects() -> list[Inject]:
    return [Inject.model_validate(d) for d in INJECTS]


def base_scenario() -> Scenario:
    data = yaml.safe_load(BASE.read_text(encoding="utf-8"))
    data["objectives"] = [{"id": "triage", "title": "Triage", "steps": ["acknowledge"]}]
    return Scenario.model_validate(data)


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def problems(text: str, scenario: Scenario | None = None, name: str = "plan.csv") -> list[str]:
    with pytest.raises(MselError) as info:
        import_msel(text, name, scenario)
    return str(info.value).splitlines()


def sheet(*body: list[str], header: tuple[str, ...] = COLUMNS) -> str:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(header)
    for r in body:
        w.writerow(r)
    return out.getvalue()


def row(**cells: str) -> list[str]:
    """A sheet row under COLUMNS: the given cells by column name (``Id`` for ``Inject #``), a valid
    minimal inject's elsewhere."""
    merged = {"Inject #": "i-01", "Delivery Method": "Chat", "From": "Support", "Subject": "Hello"}
    merged |= {("Inject #" if k == "Id" else k): v for k, v in cells.items()}
    return [merged.get(c, "") for c in COLUMNS]


# ------------------------------------------------------------------------------ round trips


def test_export_has_hseep_columns_then_gamedays() -> None:
    header = rows(msel_csv(injects()))[0]
    assert header == ["Inject #", "Scenario Time", "Event Synopsis", "Inject", "From", "To", "Delivery Method",
                      "Expected Player Action", "Objective", "Contingency", "Notes", "Subject", "Alert", "Panel"]
    assert tuple(header[:11]) == HSEEP_COLUMNS


def test_round_trip_by_example() -> None:
    text = msel_csv(injects())
    assert import_msel(text, "plan.csv") == injects()
    assert import_msel(text, "plan.csv", base_scenario()) == injects()
    second = rows(text)[1]
    assert second[1] == "9s" and second[6] == "Alert" and second[9] == "after 1m: publish i-03"
    assert second[7] == "step:acknowledge - The IC acknowledges the page\naction:set_severity@incident-commander"
    assert rows(text)[3][6] == "Customer report" and rows(text)[3][1] == ""  # unscheduled: blank time


def test_exported_text_is_stable() -> None:
    text = msel_csv(injects())
    assert msel_csv(import_msel(text, "plan.csv")) == text


_id = st.from_regex(r"[a-z0-9][a-z0-9_.-]{0,8}", fullmatch=True)
_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
_words = _text.filter(lambda s: s.strip() != "")
_ms = st.integers(0, 10 * 3600 * 1000).map(lambda ms: format_duration(ms / 1000))


@st.composite
def _expectation(draw: st.DrawFn) -> dict[str, object]:
    desc = draw(st.none() | _words)
    if draw(st.booleans()):
        out: dict[str, object] = {"step": draw(_id)}
    else:
        out = {"action": draw(st.sampled_from(ACTIONS)), "role": draw(st.none() | _id)}
    return {**out, "description": desc}


@st.composite
def _inject(draw: st.DrawFn, ids: list[str], i: int) -> Inject:
    expect = draw(st.lists(_expectation(), max_size=3))
    others = [x for x in ids if x != ids[i]]
    contingency = None
    if expect and others and draw(st.booleans()):
        contingency = {"after": draw(_ms.filter(lambda x: x != "0s")), "publish": draw(st.sampled_from(others))}
    alert = draw(st.none() | st.builds(lambda n, v: {"alertname": n, "labels": {"service": v}}, _words, _text)
                 | st.builds(lambda p: {"format": "generic", "payload": {"alerts": [{"name": p}]}}, _text))
    panel = draw(st.none() | st.builds(lambda t, f: {"title": t, "fault": f}, _words, _id))
    return Inject.model_validate({
        "id": ids[i], "at": draw(st.none() | _ms), "channel": draw(st.sampled_from(CHANNELS)), "from": draw(_words),
        "to": draw(st.just("everyone") | _id), "subject": draw(_words), "message": draw(_text),
        "synopsis": draw(st.none() | _words), "notes": draw(st.none() | _words), "objective": draw(st.none() | _id),
        "expect": expect, "contingency": contingency, "alert": alert, "panel": panel})


@st.composite
def _msel(draw: st.DrawFn) -> list[Inject]:
    ids = draw(st.lists(_id, min_size=1, max_size=4, unique=True))
    return [draw(_inject(ids, i)) for i in range(len(ids))]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_msel())
def test_round_trip_property(msel: list[Inject]) -> None:
    assert import_msel(msel_csv(msel), "plan.csv") == msel


@settings(max_examples=150, deadline=None)
@given(_text)
def test_neutralising_round_trips(value: str) -> None:
    cell = neutralise_cell(value)
    assert unneutralise_cell(cell) == value
    assert not cell or cell[0] not in "=+-@\t\r"


# ------------------------------------------------------------------------------ spreadsheets' ways


@pytest.mark.parametrize("value", ["=HYPERLINK(\"http://evil\")", "+1+2", "-2+3", "@SUM(A1)", "\tx", "\rx", "'=x", "''+y"])
def test_csv_injection_is_neutralised(value: str) -> None:
    inj = Inject.model_validate({"id": "x", "channel": "chat", "from": value, "subject": value, "message": value,
                                 "synopsis": value, "notes": value})
    text = msel_csv([inj])
    cells = dict(zip(COLUMNS, rows(text)[1], strict=True))
    for column in ("From", "Subject", "Inject", "Event Synopsis", "Notes"):
        assert cells[column] == "'" + value  # a spreadsheet shows it as text
    assert import_msel(text, "plan.csv") == [inj]


def test_bom_semicolons_and_tabs() -> None:
    text = msel_csv(injects())
    for delimiter in (";", "\t"):
        out = io.StringIO()
        csv.writer(out, delimiter=delimiter).writerows(rows(text))
        assert import_msel("\ufeff" + out.getvalue(), "plan.csv") == injects()


def test_bom_in_a_file_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "plan.csv"
    path.write_bytes(b"\xef\xbb\xbf" + msel_csv(injects()).encode("utf-8"))
    assert import_msel(read_msel_file(path), str(path)) == injects()


def test_a_plain_hseep_sheet() -> None:
    """No gameday columns: the first line of Inject is the subject; human spellings; H:MM times."""
    text = sheet(["1", "0:15", "DB primary dies", "Checkout is down\nCustomers call in", "Customer Support", "All",
                  "Customer report", "step:declare - Declare it; step:severity", "", "after 10m: publish 2", ""],
                 ["2", "1:05:30", "", "A vendor says so", "Vendor", "Comms Lead", "vendor-status", "", "", "", ""],
                 header=HSEEP_COLUMNS)
    one, two = import_msel(text, "plan.csv")
    assert (one.id, one.at, one.channel, one.to, one.subject, one.message) == (
        "1", 900.0, "customer_report", "everyone", "Checkout is down", "Customers call in")
    assert [(e.step, e.description) for e in one.expect] == [("declare", "Declare it"), ("severity", None)]
    assert one.contingency is not None and (one.contingency.after, one.contingency.publish) == (600.0, "2")
    assert (two.at, two.to, two.channel, two.subject, two.message) == (3930.0, "comms-lead", "vendor_status",
                                                                       "A vendor says so", "")


def test_header_names_are_matched_loosely_and_blank_rows_skipped() -> None:
    header = (*tuple(c.upper() if i % 2 else f"  {c} " for i, c in enumerate(HSEEP_COLUMNS)), "")
    text = sheet(["x", "", "", "Hi", "Ops", "", "chat", "", "", "", "", ""], ["", "", "", "", "", "", "", "", "", "", ""],
                 header=header)
    assert [i.id for i in import_msel(text, "plan.csv")] == ["x"]


def test_alert_short_form_on_import() -> None:
    text = sheet(row(Alert="CheckoutErrorsHigh service=checkout severity=page"))
    (inj,) = import_msel(text, "plan.csv")
    assert inj.alert is not None and inj.alert.alertname == "CheckoutErrorsHigh"
    assert inj.alert.labels == {"service": "checkout", "severity": "page"}


def test_expectations_that_the_readable_form_cannot_carry_go_as_json() -> None:
    inj = Inject.model_validate({"id": "x", "channel": "chat", "from": "a", "subject": "b", "expect": [
        {"step": "declare", "description": "two\nlines"}, {"step": "s", "description": " padded "},
        {"step": "t", "description": "a; step:u"}]})
    text = msel_csv([inj])
    assert dict(zip(COLUMNS, rows(text)[1], strict=True))["Expected Player Action"].startswith("[")
    assert import_msel(text, "plan.csv") == [inj]


def test_derived_msel_for_a_scenario_without_injects() -> None:
    shadow = pytest.importorskip("gameday.sim.shadow", reason="gameday.sim.shadow (derive_msel) not written yet")
    scenario = load_scenario(BASE).scenario
    assert not scenario.injects
    derived = shadow.derive_msel(scenario)
    text = export_msel(scenario)
    assert import_msel(text, "derived.csv") == list(derived)


# ------------------------------------------------------------------------------ located problems


def test_unknown_duplicate_and_missing_columns() -> None:
    header = ("Inject #", "Scenario Time", "Event Synopsis", "Inject", "From", "To", "Delivery Method",
              "Expected Action", "Objective", "Notes", "Notes", "Colour")
    lines = problems(sheet(header=header))
    assert lines == [
        ("plan.csv:1:1: missing columns 'Expected Player Action', 'Contingency' (an MSEL has HSEEP's columns: "
        "Inject #, Scenario Time, Event Synopsis, Inject, From, To, Delivery Method, Expected Player Action, "
        "Objective, Contingency, Notes)"),
        "plan.csv:1:8: unknown column 'Expected Action' (did you mean 'Expected Player Action'?)",
        "plan.csv:1:11: column 'Notes' appears twice (also column 10)",
        ("plan.csv:1:12: unknown column 'Colour' (columns: Inject #, Scenario Time, Event Synopsis, Inject, From, To, "
        "Delivery Method, Expected Player Action, Objective, Contingency, Notes, Subject, Alert, Panel)"),
    ]


def test_every_cell_problem_at_once() -> None:
    text = sheet(
        row(**{"Scenario Time": "soon", "Delivery Method": "Fax"}),
        row(Id="i-02", **{"Expected Player Action": "Declare the incident\naction:dance\nstep:x@tech-lead"}),
        row(Id="i-03", Contingency="when it rains", Alert="{not json", Panel="[1]"),
        row(Id="i-04", Contingency="after 0s: publish i-01", **{"Expected Player Action": "step:declare"}),
        row(Id="I 05", From="", Subject="", Inject=""),
        row(Id="", **{"Delivery Method": ""}),
        row(Id="i-01", Contingency="after 5m: publish i-99", **{"Expected Player Action": "step:declare"}),
        row(Id="i-08", Contingency="after 5m: publish i-01"),
    )
    lines = problems(text)
    assert len(lines) == 17
    assert all(re.match(r"plan\.csv:\d+:\d+: ", line) for line in lines)
    wanted = [
        ("2:2", "Scenario Time: expected a scenario time like '15m', '1h05m' or '1:05', got 'soon'"),
        ("2:7", "Delivery Method: unknown delivery method 'Fax' (one of: Page, Alert, Chat, Email, Customer report"),
        ("3:8", "Expected Player Action: 'Declare the incident': expected 'step:ID' or 'action:NAME'"),
        ("3:8", "Expected Player Action: 'action:dance': unknown action 'dance'"),
        ("3:8", "Expected Player Action: 'step:x@tech-lead': a step names its own role"),
        ("4:10", "Contingency: expected 'after DURATION: publish INJECT'"),
        ("4:13", "Alert: not JSON: "),
        ("4:14", "Panel: expected a JSON object"),
        ("5:10", "Contingency: after: "),
        ("6:1", "Inject #: 'i 05' is not a valid id"),
        ("6:4", "Inject: empty: give the inject's text (or its Subject)"),
        ("6:5", "From: give the persona it comes from"),
        ("7:1", "Inject #: every inject needs an id"),
        ("7:7", "Delivery Method: give the channel"),
        ("8:10", "Contingency: no inject 'i-99' in this MSEL"),
        ("8:1", "Inject #: duplicate inject id 'i-01' (also row 2)"),
        ("9:10", "Contingency: a contingency fires when an expected action has not happened: give 'expect'"),
    ]
    for where, start in wanted:
        assert any(line.startswith(f"plan.csv:{where}: {start}") for line in lines), (where, start, lines)


def test_a_step_expectation_takes_no_role_and_actions_are_known() -> None:
    lines = problems(sheet(row(**{"Expected Player Action": "action:dance"}),
                           row(Id="i-02", **{"Expected Player Action": "step:x@tech-lead - go"})))
    assert lines[0].startswith("plan.csv:2:8: Expected Player Action: 'action:dance': unknown action 'dance' (one of: ")
    assert lines[1] == ("plan.csv:3:8: Expected Player Action: 'step:x@tech-lead - go': a step names its own role: "
                        "'@ROLE' goes with 'action:NAME'")


def test_references_checked_against_the_scenario() -> None:
    text = sheet(
        row(To="night-shift", Objective="speed", **{"Scenario Time": "2m", "Expected Player Action": "step:declar"}),
        row(Id="i-02", Panel='{"title": "x", "fault": "no-such-fault"}',
            **{"Expected Player Action": "action:set_severity@ceo"}),
    )
    assert problems(text, base_scenario()) == [
        "plan.csv:2:2: Scenario Time: scheduled at 2m, not before abort.max_duration 2m",
        "plan.csv:2:6: To: 'night-shift' is neither one of the scenario's roles nor 'everyone'",
        "plan.csv:2:8: Expected Player Action: no response step named 'declar'",
        "plan.csv:2:9: Objective: no objective named 'speed'",
        "plan.csv:3:8: Expected Player Action: role 'ceo' is not one of the scenario's roles",
        "plan.csv:3:14: Panel: no fault named 'no-such-fault'",
    ]


def test_syntax_empty_and_header_only() -> None:
    assert problems("") == [("plan.csv:1:1: empty: expected a header row (Inject #, Scenario Time, Event Synopsis, "
                            "Inject, From, To, Delivery Method, Expected Player Action, Objective, Contingency, Notes)")]
    assert problems(sheet()) == ["plan.csv:2:1: no injects: the sheet has a header and no rows"]
    broken = sheet(row()) + 'i-02,,,"never closed\n'
    assert problems(broken)[0].startswith("plan.csv:3:1: CSV syntax: ")
    too_many = sheet([*row(), "surplus"])
    assert problems(too_many) == ["plan.csv:2:15: 15 cells, but the header names 14 columns"]


def test_problem_text_is_shown_inert() -> None:
    lines = problems(sheet(row(**{"Delivery Method": "\x1b[2Jfax"})))
    assert lines == [("plan.csv:2:7: Delivery Method: unknown delivery method '\\x1b[2Jfax' (one of: Page, Alert, Chat, "
                     "Email, Customer report, Vendor status, Dashboard)")]
    lines = problems(sheet(row(Id="i-\u202e01")))
    assert lines == ["plan.csv:2:1: Inject #: 'i-\\u202e01' is not a valid id (lower-case letters, digits, - _ .)"]


def test_files_that_are_not_utf8(tmp_path: Path) -> None:
    latin = tmp_path / "latin.csv"
    latin.write_bytes(sheet(row(From="Café")).encode("latin-1"))
    with pytest.raises(MselError, match=r"latin\.csv:2:\d+: not UTF-8 text \(byte 0xe9\): save the sheet as 'CSV UTF-8'"):
        read_msel_file(latin)
    utf16 = tmp_path / "utf16.csv"
    utf16.write_bytes(sheet(row()).encode("utf-16"))
    with pytest.raises(MselError, match=r"utf16\.csv:1:1: not UTF-8 text \(UTF-16, or binary\)"):
        read_msel_file(utf16)
    with pytest.raises(MselError, match=r"nope\.csv:1:1: file not found"):
        read_msel_file(tmp_path / "nope.csv")


# ------------------------------------------------------------------------------ the CLI


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["msel", *args])
    return result.exit_code, result.stdout, result.stderr


def write_base(tmp_path: Path) -> Path:
    """A copy of the live scenario with one objective, beside the repository's files (so its paths resolve)."""
    data = yaml.safe_load(BASE.read_text(encoding="utf-8"))
    data["objectives"] = [{"id": "triage", "title": "Triage", "steps": ["acknowledge"]}]
    data["faults"][0]["experiment"] = str(ROOT / "experiments" / "kill-db-primary.yaml")
    data["runbooks"]["failover"]["experiment"] = str(ROOT / "experiments" / "promote-replica.yaml")
    data["responders"] = str(ROOT / "scenarios" / "responders" / "checkout-db-primary-failure.ci.yaml")
    path = tmp_path / "base.yaml"
    path.write_text("# the base\n" + yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_cli_export_import_round_trip(tmp_path: Path) -> None:
    base = write_base(tmp_path)
    plan = tmp_path / "plan.csv"
    plan.write_text(msel_csv(injects()), encoding="utf-8", newline="")
    out = tmp_path / "sub" / "tabletop.yaml"
    code, stdout, stderr = run("import", str(plan), "--into", str(base), "-o", str(out))
    assert (code, stdout) == (0, ""), stderr
    assert stderr == f"{out}: 3 injects from {plan}\n"
    loaded = load_scenario(out).scenario
    assert list(loaded.injects) == injects() and loaded.objectives == base_scenario().objectives
    result = CliRunner().invoke(main, ["msel", "export", str(out)])
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout_bytes == msel_csv(injects()).encode("utf-8")
    code, _, _ = run("export", str(out), "-o", str(tmp_path / "again.csv"), "--bom")
    assert code == 0
    assert (tmp_path / "again.csv").read_bytes() == b"\xef\xbb\xbf" + msel_csv(injects()).encode("utf-8")
    validated = CliRunner().invoke(main, ["validate", str(out)])
    assert validated.exit_code == 0, validated.output


def test_cli_import_problems_exit_2_and_write_nothing(tmp_path: Path) -> None:
    base = write_base(tmp_path)
    plan = tmp_path / "plan.csv"
    plan.write_text(sheet(row(**{"Scenario Time": "soon"}), row(Id="i-02", **{"Expected Player Action": "step:nope"})),
                    encoding="utf-8")
    out = tmp_path / "tabletop.yaml"
    code, stdout, stderr = run("import", str(plan), "--into", str(base), "-o", str(out))
    assert (code, stdout) == (2, "")
    assert stderr.splitlines() == [
        f"{plan}:2:2: Scenario Time: expected a scenario time like '15m', '1h05m' or '1:05', got 'soon'",
        f"{plan}:3:8: Expected Player Action: no response step named 'nope'",
    ]
    assert "Traceback" not in stderr and not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["base.yaml", "plan.csv"]


def test_cli_refuses_to_overwrite_its_inputs(tmp_path: Path) -> None:
    base = write_base(tmp_path)
    plan = tmp_path / "plan.csv"
    plan.write_text(msel_csv(injects()), encoding="utf-8")
    before = (plan.read_bytes(), base.read_bytes())
    for target in (plan, base):
        code, _, stderr = run("import", str(plan), "--into", str(base), "-o", str(target))
        assert code == 2 and stderr == f"gameday: {target}: is this command's input: write the scenario to another file\n"
    code, _, stderr = run("export", str(base), "-o", str(base))
    assert code == 2 and "is this command's input" in stderr
    assert (plan.read_bytes(), base.read_bytes()) == before


def test_cli_import_needs_into_and_a_valid_base(tmp_path: Path) -> None:
    plan = tmp_path / "plan.csv"
    plan.write_text(msel_csv(injects()), encoding="utf-8")
    code, _, stderr = run("import", str(plan), "-o", str(tmp_path / "x.yaml"))
    assert code == 2 and "Missing option '--into'" in stderr
    code, _, stderr = run("import", str(plan), "--into", str(tmp_path / "none.yaml"), "-o", str(tmp_path / "x.yaml"))
    assert code == 2 and stderr == f"gameday: {tmp_path / 'none.yaml'}:1:1: file not found\n"


def test_cli_export_of_an_invalid_scenario_is_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: gameday/v1\n", encoding="utf-8")
    code, stdout, stderr = run("export", str(bad))
    assert code == 2 and stdout == "" and stderr.startswith(f"{bad}:")
