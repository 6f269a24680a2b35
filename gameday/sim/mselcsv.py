"""The MSEL in and out of spreadsheets: a scenario's ``injects:`` as CSV with HSEEP's column names.

Exercise planners live in spreadsheets. :func:`export_msel` writes one row per inject under
HSEEP's Master Scenario Events List columns, then gameday's own three; :func:`import_msel` reads
such a sheet back (export then import gives an equal list of injects)::

    Inject #  Scenario Time  Event Synopsis  Inject  From  To  Delivery Method
    Expected Player Action  Objective  Contingency  Notes   |  Subject  Alert  Panel

=======================  ======================  =========================================================
column                   inject field            written as
=======================  ======================  =========================================================
Inject #                 ``id``                  ``i-07`` (lower-cased on import)
Scenario Time            ``at``                  ``1h5m`` (also ``1h05m``, ``H:MM``, ``H:MM:SS``); blank:
                                                 contingency or facilitator only
Event Synopsis           ``synopsis``            free text, for controllers
Inject                   ``message``             free text, what the players read
From                     ``from``                the persona, free text
To                       ``to``                  a role, or ``everyone`` (blank, ``All``)
Delivery Method          ``channel``             ``Page``, ``Alert``, ``Chat``, ``Email``, ``Customer report``,
                                                 ``Vendor status``, ``Dashboard`` (any case, ``customer_report``)
Expected Player Action   ``expect``              one per line (or ``;``-separated): ``step:ID`` or
                                                 ``action:NAME@ROLE``, then `` - `` and the description
Objective                ``objective``           an objective id
Contingency              ``contingency``         ``after 10m: publish i-08``
Notes                    ``notes``               free text, for controllers and evaluators
Subject (gameday)        ``subject``             optional column: without it (or blank), the first line of
                                                 ``Inject`` is the subject and the rest the message
Alert (gameday)          ``alert``               JSON of the attachment; on import also ``AlertName key=value``
Panel (gameday)          ``panel``               JSON of the attachment
=======================  ======================  =========================================================

Import takes UTF-8 with or without a byte-order mark, a comma, semicolon or tab delimiter (read
from the header row) and quoted multi-line cells; a blank cell is no value, a blank row is
skipped. Every problem is collected and raised at once as :class:`MselError`, each located
``FILE:ROW:COLUMN: Column name: message`` (ROW as a spreadsheet numbers it, the header being 1;
COLUMN the column's position). Given the scenario the MSEL goes into, its references (steps,
roles, objectives, faults, times) are checked too, located in the sheet.

CSV injection (OWASP): on export a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return is prefixed with ``'`` so a spreadsheet shows it as text, never runs it as a
formula; import removes that one ``'`` (a value that itself starts with quotes and one of those
characters gets one more on export, so every value round-trips).

An expectation the readable form cannot carry exactly (a description with a line break or
surrounding spaces) is written as JSON in its cell, which import reads too. Each cell's reading and
writing is in :mod:`gameday.sim.mselcells`.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from gameday.errors import Problem, ScenarioError
from gameday.model.duration import format_duration
from gameday.model.exercise import EVERYONE, Inject
from gameday.sim.mselcells import (
    CHANNEL_LABELS,
    EVERYONE_WORDS,
    error_text,
    expectations_text,
    json_cell,
    neutralise_cell,
    parse_alert,
    parse_channel,
    parse_contingency,
    parse_expectations,
    parse_panel,
    parse_time,
    unneutralise_cell,
)

if TYPE_CHECKING:
    from gameday.model.scenario import Scenario

HSEEP_COLUMNS: tuple[str, ...] = ("Inject #", "Scenario Time", "Event Synopsis", "Inject", "From", "To", "Delivery Method",
                                  "Expected Player Action", "Objective", "Contingency", "Notes")
"""HSEEP's MSEL columns, in its order: all required on import."""
GAMEDAY_COLUMNS: tuple[str, ...] = ("Subject", "Alert", "Panel")
"""gameday's own columns, after HSEEP's: optional on import."""
COLUMNS: tuple[str, ...] = HSEEP_COLUMNS + GAMEDAY_COLUMNS


class MselError(ScenarioError):
    """An MSEL sheet has problems; ``problems`` lists every one, located ``FILE:ROW:COLUMN``."""


# ------------------------------------------------------------------------------ export


def export_msel(scenario: Scenario) -> str:
    """The scenario's MSEL as CSV text (comma-separated, CRLF line ends, a header row).

    A scenario without ``injects:`` exports the MSEL its faults' simulated shadows imply
    (:func:`gameday.sim.shadow.derive_msel`).
    """
    injects = list(scenario.injects)
    if not injects:
        from gameday.sim.shadow import derive_msel

        injects = list(derive_msel(scenario))
    return msel_csv(injects)


def msel_csv(injects: Sequence[Inject]) -> str:
    """``injects`` as CSV text under :data:`COLUMNS` (see the module docstring for each column)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for inj in injects:
        cells = {
            "Inject #": inj.id,
            "Scenario Time": "" if inj.at is None else format_duration(inj.at),
            "Event Synopsis": inj.synopsis or "",
            "Inject": inj.message,
            "From": inj.from_,
            "To": inj.to,
            "Delivery Method": CHANNEL_LABELS[inj.channel],
            "Expected Player Action": expectations_text(inj.expect),
            "Objective": inj.objective or "",
            "Contingency": "" if inj.contingency is None else
            f"after {format_duration(inj.contingency.after)}: publish {inj.contingency.publish}",
            "Notes": inj.notes or "",
            "Subject": inj.subject,
            "Alert": "" if inj.alert is None else json_cell(inj.alert),
            "Panel": "" if inj.panel is None else json_cell(inj.panel),
        }
        writer.writerow([neutralise_cell(cells[c]) for c in COLUMNS])
    return out.getvalue()


# ------------------------------------------------------------------------------ import


_FIELD_COLUMN = {"id": "Inject #", "at": "Scenario Time", "synopsis": "Event Synopsis", "message": "Inject",
                 "from": "From", "from_": "From", "to": "To", "channel": "Delivery Method",
                 "expect": "Expected Player Action", "objective": "Objective", "contingency": "Contingency",
                 "notes": "Notes", "subject": "Subject", "alert": "Alert", "panel": "Panel"}


class _Sheet:
    """The rows of one sheet being read, and the problems found, located."""

    def __init__(self, name: str, header: list[str]):
        self.name = name
        self.problems: list[Problem] = []
        self.index: dict[str, int] = {}  # column name -> 0-based position
        self.ignored: set[int] = set()  # unnamed columns (Excel's trailing empties)
        self.ids: list[tuple[int, str]] = []  # (row, inject id) of every row that gave one, read or not
        self.publishes: list[tuple[int, str]] = []  # (row, the inject its contingency publishes)
        self._header(header)

    def problem(self, row: int, column: str | int, message: str) -> None:
        pos = column if isinstance(column, int) else self.index.get(column, self.index.get("Inject", 0))
        label = column if isinstance(column, str) else ""
        self.problems.append(Problem(self.name, row, pos + 1, label, message))

    def _header(self, header: list[str]) -> None:
        known = {c.casefold(): c for c in COLUMNS}
        for pos, raw in enumerate(header):
            cell = " ".join(unneutralise_cell(raw).split())
            if not cell:
                self.ignored.add(pos)
                continue
            name = known.get(cell.casefold())
            if name is None:
                close = difflib.get_close_matches(cell, COLUMNS, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else f" (columns: {', '.join(COLUMNS)})"
                self.problem(1, pos, f"unknown column {cell!r}{hint}")
            elif name in self.index:
                self.problem(1, pos, f"column {name!r} appears twice (also column {self.index[name] + 1})")
            else:
                self.index[name] = pos
        missing = [c for c in HSEEP_COLUMNS if c not in self.index]
        if missing:
            self.problem(1, 0, f"missing column{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))} "
                               f"(an MSEL has HSEEP's columns: {', '.join(HSEEP_COLUMNS)})")

    def cell(self, cells: list[str], column: str) -> str:
        pos = self.index.get(column)
        return unneutralise_cell(cells[pos]) if pos is not None and pos < len(cells) else ""

    def inject(self, row: int, cells: list[str]) -> Inject | None:
        """One row as an Inject, or None with its problems recorded."""
        for pos in self.ignored:
            if pos < len(cells) and cells[pos].strip():
                self.problem(row, pos, "a value in a column without a name (give the column a header, or clear it)")
        if len(cells) > len(self.index) + len(self.ignored):
            self.problem(row, len(cells) - 1, f"{len(cells)} cells, but the header names {len(self.index)} columns")
        before = len(self.problems)
        data: dict[str, Any] = {}

        def put(field: str, column: str, parse: Any, text: str) -> None:
            try:
                data[field] = parse(text)
            except ValueError as exc:
                for message in getattr(exc, "messages", None) or [str(exc)]:
                    self.problem(row, column, message)

        given = {c: self.cell(cells, c) for c in COLUMNS}
        blank = {c for c, v in given.items() if not v.strip()}
        if "Inject #" in blank:
            self.problem(row, "Inject #", "every inject needs an id")
        else:
            data["id"] = given["Inject #"].strip().lower()
        if "Scenario Time" not in blank:
            put("at", "Scenario Time", lambda t: format_duration(parse_time(t)), given["Scenario Time"])
        if "Delivery Method" in blank:
            self.problem(row, "Delivery Method", f"give the channel (one of: {', '.join(CHANNEL_LABELS.values())})")
        else:
            put("channel", "Delivery Method", parse_channel, given["Delivery Method"])
        if "From" in blank:
            self.problem(row, "From", "give the persona it comes from, e.g. 'Monitoring' or 'Customer support'")
        else:
            data["from"] = given["From"]
        if "To" not in blank:
            to = given["To"].strip()
            data["to"] = EVERYONE if to.casefold() in EVERYONE_WORDS else re.sub(r"\s+", "-", to.lower())
        self._subject(row, given, blank, data)
        for field, column in (("synopsis", "Event Synopsis"), ("notes", "Notes")):
            if column not in blank:
                data[field] = given[column]
        if "Objective" not in blank:
            data["objective"] = given["Objective"].strip().lower()
        for field, column, parse in (("expect", "Expected Player Action", parse_expectations),
                                     ("contingency", "Contingency", parse_contingency),
                                     ("alert", "Alert", parse_alert), ("panel", "Panel", parse_panel)):
            if column not in blank:
                put(field, column, parse, given[column])
        if "id" in data:
            self.ids.append((row, data["id"]))
        if "contingency" in data:
            self.publishes.append((row, data["contingency"]["publish"]))
        failed = {p.path for p in self.problems[before:]}
        try:
            inj = Inject.model_validate(data)
        except ValidationError as exc:  # what the cells' own reading did not catch (an id's pattern...)
            whole = "Contingency" if "contingency" in data else "Inject #"  # the model's own checks: the contingency's
            for err in exc.errors():
                loc = err["loc"]
                column = _FIELD_COLUMN.get(str(loc[0]), whole) if loc else whole
                column = column if column in self.index else "Inject"
                if err["type"] != "missing" and column not in failed:  # a missing value was said above, in words
                    self.problem(row, column, error_text({**err, "loc": loc[1:]}))
            return None
        return inj if len(self.problems) == before else None

    def _subject(self, row: int, given: dict[str, str], blank: set[str], data: dict[str, Any]) -> None:
        if "Subject" not in blank:
            data["subject"], data["message"] = given["Subject"], given["Inject"]
        elif "Inject" not in blank:  # a plain HSEEP sheet: the first line is the subject
            first, _, rest = given["Inject"].strip().partition("\n")
            data["subject"], data["message"] = first.strip(), rest.strip()
        else:
            self.problem(row, "Inject", "empty: give the inject's text (or its Subject)")


def _delimiter(text: str) -> str:
    header = text.split("\n", 1)[0]
    counts = {d: header.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def import_msel(csv_text: str, source_name: str, scenario: Scenario | None = None) -> list[Inject]:
    """Read an MSEL sheet (see the module docstring) into injects.

    ``source_name`` names the sheet in problems. With ``scenario`` (the one the injects go into),
    their references to its steps, roles, objectives and faults are checked as well. Raises
    :class:`MselError` listing every problem, each ``FILE:ROW:COLUMN: Column: message``.
    """
    text = csv_text.removeprefix("\ufeff")
    if not text.strip():
        raise MselError([Problem(source_name, 1, 1, "", f"empty: expected a header row ({', '.join(HSEEP_COLUMNS)})")])
    rows: list[tuple[int, list[str]]] = []
    syntax: Problem | None = None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    try:
        for number, cells in enumerate(reader, start=1):
            rows.append((number, cells))
    except csv.Error as exc:
        syntax = Problem(source_name, len(rows) + 1, 1, "", f"CSV syntax: {exc} (near line {reader.line_num})")
    if not rows:
        raise MselError([syntax] if syntax else [Problem(source_name, 1, 1, "", "no header row")])
    sheet = _Sheet(source_name, rows[0][1])
    if syntax is not None:
        sheet.problems.append(syntax)
    if any(p.line == 1 for p in sheet.problems):  # the columns are wrong: the rows cannot be read
        raise MselError(sheet.problems)
    injects: list[Inject] = []
    row_of: list[int] = []
    for number, cells in rows[1:]:
        if not any(c.strip() for c in cells):
            continue
        inj = sheet.inject(number, cells)
        if inj is not None:
            injects.append(inj)
            row_of.append(number)
    if not injects and not sheet.problems:
        sheet.problem(2, 0, "no injects: the sheet has a header and no rows")
    _references(sheet, injects, row_of, scenario)
    if sheet.problems:
        raise MselError(sheet.problems)
    return injects


def _references(sheet: _Sheet, injects: list[Inject], row_of: list[int], scenario: Scenario | None) -> None:
    """Checks between rows (every row that gave an id, read or not) and, given the scenario, against
    it (the rows that read), located at the row and column."""
    seen: dict[str, int] = {}
    for row, inject_id in sheet.ids:
        if inject_id in seen:
            sheet.problem(row, "Inject #", f"duplicate inject id {inject_id!r} (also row {seen[inject_id]})")
        seen.setdefault(inject_id, row)
    for row, target in sheet.publishes:
        if target not in seen:
            sheet.problem(row, "Contingency", f"no inject {target!r} in this MSEL")
    if scenario is None:
        return
    from gameday.model.crosscheck import cross_check

    for loc, message in cross_check(scenario.model_copy(update={"injects": injects})):
        if len(loc) < 3 or loc[0] != "injects" or not isinstance(loc[1], int) or loc[1] >= len(row_of):
            continue
        if loc[2] == "id" or loc[2:4] == ("contingency", "publish"):  # checked above, over every row
            continue
        column = _FIELD_COLUMN.get(str(loc[2]), "Inject #")
        sheet.problem(row_of[loc[1]], column if column in sheet.index else "Inject", message)


def read_msel_file(path: Path) -> str:
    """A CSV file's text: UTF-8 (a byte-order mark dropped), at most 1 MiB; MselError otherwise."""
    from gameday.yamlio.marks import MAX_FILE_BYTES

    name = str(path)

    def refuse(message: str, line: int = 1, column: int = 1) -> MselError:
        return MselError([Problem(name, line, column, "", message)])

    try:
        if path.is_dir():
            raise refuse("is a folder, not a file")
        with path.open("rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise refuse("file not found") from None
    except OSError as exc:
        raise refuse(f"cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise refuse(f"file too large (over {MAX_FILE_BYTES} bytes, 1 MiB)")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\0" in raw:
        raise refuse("not UTF-8 text (UTF-16, or binary): save the sheet as 'CSV UTF-8'")
    try:
        return raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        bad = raw[exc.start:exc.start + 1].hex()
        raise refuse(f"not UTF-8 text (byte 0x{bad}): save the sheet as 'CSV UTF-8'", line, col) from None


def import_into(csv_path: Path, base_path: Path, output: Path) -> list[Inject]:
    """``gameday msel import``: the sheet's injects replace ``base_path``'s ``injects:``, and the scenario
    is written to ``output`` (checked as ``gameday validate`` would, then written atomically; never over
    the sheet or the base). The files the base names are rewritten to resolve from ``output``'s folder."""
    from gameday.loader import load_scenario
    from gameday.sim.scenario_out import rebase_references, scenario_data, scenario_yaml, write_scenario

    text = read_msel_file(csv_path)
    base = load_scenario(base_path)
    injects = import_msel(text, str(csv_path), base.scenario)
    scenario = base.scenario.model_copy(update={"injects": injects})
    data = scenario_data(scenario, roles_declared="roles" in base.scenario.model_fields_set)
    rebase_references(data, [base.base_dir, base.project_root], output.parent)
    header = [f"{base_path} with the MSEL of {csv_path}, written by `gameday msel import`."]
    write_scenario(scenario_yaml(data, header), output, inputs=[csv_path, base_path])
    return injects
