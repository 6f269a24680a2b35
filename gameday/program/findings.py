"""Findings: what one drill shows (:func:`drill_findings`), merged into the findings file
(:func:`merge`, :func:`record_drills`, the hook after a drill's reports), owners and due dates.

``findings.yaml`` sits at the project root (the folder of ``gameday.yaml``, see
:func:`gameday.project.find_root`); the model and its state machine are
:mod:`gameday.model.findings`. What a drill contributes (:func:`drill_findings`) is a pure function
of its journal: the postmortem's action items (:func:`gameday.analysis.findings.action_items`,
each with its gap key), for a tabletop also the after-action report's objectives rated M or U
(``objective:ID``) and contingency injects that fired (``contingency:INJECT``), and for a training
drill the rubric items missed or partly met (``rubric:ITEM``, the training report's "what to
practise next"; a training drill's team is simulated, so its postmortem items are not findings).
The hot wash's free text is not a finding: it has no stable key.

Recording is idempotent per drill (a drill already in a finding's ``seen_in`` changes nothing) and,
for the sightings, independent of order: first and last seen are by the drills' start times,
``seen_in`` is sorted (a default drill id is the scenario id and the UTC time: time order); a closed
finding reopens only for a drill started after the re-drill that closed it.

The file itself (reading, its text, the lock) is :mod:`gameday.program.findings_file`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gameday.errors import ConfigError, ScenarioError
from gameday.model.findings import (
    ID_DIGITS,
    MAX_ID_DIGITS,
    DrillRef,
    Finding,
    FindingsFile,
    Source,
    StatusChange,
    fingerprint,
    timestamp,
)
from gameday.model.terms import Mode
from gameday.program.findings_file import FINDINGS_FILE, find_findings, read_findings, update_findings

if TYPE_CHECKING:
    from gameday.drill.reports import Outputs
    from gameday.journal import Journal
    from gameday.model.scorecard import Scorecard

__all__ = ["FINDINGS_FILE", "DrillFindings", "Merged", "Observation", "assign", "drill_findings", "find_finding",
           "find_findings", "merge", "read_findings", "record_after_reports", "record_drills", "update_findings"]


@dataclass(frozen=True)
class Observation:
    """One gap as one drill shows it."""

    gap: str
    title: str
    why: str
    owner_role: str
    source: Source = "postmortem"


@dataclass(frozen=True)
class DrillFindings:
    """What one drill says about its scenario's gaps: the drill, how it went, and each gap it showed."""

    drill: DrillRef
    scenario: str
    scenario_path: str | None
    mode: Mode
    outcome: str
    injected: bool
    observations: tuple[Observation, ...]


@dataclass(frozen=True)
class Merged:
    """What recording one drill changed: finding ids new, seen again (open), reopened as repeats, and
    seen by a drill older than the re-drill that closed them (status unchanged)."""

    drill: str
    shown: int = 0
    """How many gaps the drill showed."""
    new: tuple[str, ...] = ()
    seen: tuple[str, ...] = ()
    reopened: tuple[str, ...] = ()
    older: tuple[str, ...] = ()

    def summary(self) -> str:
        """``'2 new (F-1, F-2), 1 reopened as a repeat (F-3)'``; ``'no gap shown'``; ``'already recorded'``."""
        parts = [(self.new, "new"), (self.reopened, "reopened as a repeat"), (self.seen, "seen again"),
                 (self.older, "seen before the re-drill that closed it")]
        out = [f"{len(ids)} {what} ({', '.join(ids)})" for ids, what in parts if ids]
        return ", ".join(out) or ("already recorded" if self.shown else "no gap shown")


# ------------------------------------------------------------------ what a drill shows


def drill_findings(journal: Journal, card: Scorecard | None = None) -> DrillFindings:
    """The gaps one drill shows, from its journal (and its scorecard, computed when not given)."""
    from gameday.analysis.findings import action_items
    from gameday.analysis.scorecard import score_journal
    from gameday.model.events import TrainingStarted

    card = card if card is not None else score_journal(journal)
    started = journal.started.data
    obs: list[Observation] = []
    if card.mode == "training":  # no TrainingStarted (stopped before the trainee was journaled): nothing to judge
        obs += _rubric(journal) if journal.first(TrainingStarted) is not None else []
    else:
        obs += [Observation(i.gap, i.title, i.why, i.owner_role) for i in action_items(card, journal) if i.gap]
        if card.mode == "tabletop":
            obs += _aar(card, journal)
    unique = {o.gap: o for o in reversed(obs)}  # the first item of a gap wins
    return DrillFindings(
        drill=DrillRef(drill=card.drill_id, at=timestamp(card.started_at)), scenario=card.scenario_id,
        scenario_path=started.scenario_path, mode=started.mode, outcome=card.outcome,
        injected=any(f.status == "injected" for f in card.faults),
        observations=tuple(o for o in obs if unique[o.gap] is o))


def _rubric(journal: Journal) -> list[Observation]:
    from gameday.analysis.rubric import score_training
    from gameday.model.terms import IC

    score = score_training(journal.events, path=journal.path)
    return [Observation(f"rubric:{i.id}", f"Practise: {i.title}", " ".join(p for p in (i.why, i.coaching) if p), IC,
                        "training")
            for i in score.items if i.verdict in ("missed", "partly")]  # fmt: skip


def _aar(card: Scorecard, journal: Journal) -> list[Observation]:
    from gameday.analysis.objectives import RATING_TEXT
    from gameday.analysis.timeline import one_line
    from gameday.model.events import InjectPublished
    from gameday.model.terms import IC, format_offset

    out = [Observation(f"objective:{o.id}", f"Meet objective {o.id} ({o.title})",
                       f"It was rated {o.rating}: {RATING_TEXT.get(o.rating or '', '')}.", IC, "aar")
           for o in card.objectives or [] if o.rating in ("M", "U")]  # fmt: skip
    for e in journal.of(InjectPublished):
        d = e.data
        if d.by == "contingency":
            of = f" backing inject {d.contingency_of}" if d.contingency_of else ""
            why = f"Contingency inject {d.inject}{of} was published at {format_offset(e.t)}: {one_line(d.subject, 160)}."
            out.append(Observation(f"contingency:{d.inject}", f"Act on the MSEL without contingency inject {d.inject}",
                                   why, IC, "aar"))
    return out


# ------------------------------------------------------------------ merging


def merge(findings: FindingsFile, drill: DrillFindings, root: Path | None = None) -> tuple[FindingsFile, Merged]:
    """``findings`` with ``drill``'s gaps merged in (pure): new gaps open, open ones seen again, closed
    ones reopened (a repeat) when the drill started after the re-drill that closed them."""
    by_gap = {(f.scenario, f.gap): f for f in findings.findings}
    ids = {f.id for f in findings.findings}
    new: list[str] = []
    seen: list[str] = []
    reopened: list[str] = []
    older: list[str] = []
    path = _relative(drill.scenario_path, root)
    ref = drill.drill
    for o in drill.observations:
        f = by_gap.get((drill.scenario, o.gap))
        if f is None:
            fid = _free_id(drill.scenario, o.gap, ids)
            ids.add(fid)
            f = Finding(id=fid, scenario=drill.scenario, scenario_path=path, gap=o.gap, source=o.source,
                        mode=drill.mode, title=o.title,
                        why=o.why, owner_role=o.owner_role, status="open", first_seen=ref, last_seen=ref,
                        seen_in=[ref.drill], history=[StatusChange(status="open", at=ref.at, drill=ref.drill,
                                                                   why="first seen")])
            new.append(fid)
        elif ref.drill in f.seen_in:
            continue
        else:
            update: dict[str, Any] = {"seen_in": sorted([*f.seen_in, ref.drill]),
                                      "first_seen": min(f.first_seen, ref, key=_order),
                                      "last_seen": max(f.last_seen, ref, key=_order)}
            if _order(ref) < _order(f.first_seen):  # an earlier first sighting (recorded late) opened it
                first = StatusChange(status="open", at=ref.at, drill=ref.drill, why="first seen")
                update["history"] = [first, *f.history[1:]]
            if _order(ref) >= _order(f.last_seen):  # the latest drill's words and file
                update.update(title=o.title, why=o.why, owner_role=o.owner_role, scenario_path=path or f.scenario_path)
            if f.status == "closed" and f.closed_by is not None and _order(ref) > _order(f.closed_by):
                change = StatusChange(status="reopened", at=ref.at, drill=ref.drill,
                                      why=f"seen again after re-drill {f.closed_by.drill} closed it")
                update.update(status="reopened", repeats=f.repeats + 1, closed_by=None,
                              history=[*update.get("history", f.history), change])
                reopened.append(f.id)
            else:
                (older if f.status == "closed" else seen).append(f.id)
            f = f.model_copy(update=update)
        by_gap[(drill.scenario, o.gap)] = f
    merged = Merged(ref.drill, len(drill.observations), tuple(new), tuple(seen), tuple(reopened), tuple(older))
    return FindingsFile(findings=sorted(by_gap.values(), key=lambda f: (f.scenario, f.gap))), merged


def _order(ref: DrillRef) -> tuple[str, str]:
    return ref.order


def _free_id(scenario: str, gap: str, taken: set[str]) -> str:
    """The fingerprint with :data:`ID_DIGITS` digits, or the first longer one no other finding has."""
    for digits in range(ID_DIGITS, MAX_ID_DIGITS + 1, 4):
        fid = fingerprint(scenario, gap, digits)
        if fid not in taken:
            return fid
    raise ConfigError(f"no free id for gap {gap!r} of scenario {scenario!r}")  # a SHA-256 collision: never


def _relative(path: str | None, root: Path | None) -> str | None:
    """A scenario's file relative to the project root when it is under it (as the file keeps it); a
    relative path (from the folder the drill ran in) as it is."""
    if path is None or root is None or not Path(path).is_absolute():
        return path
    with contextlib.suppress(ValueError, OSError):
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    return path


def record_drills(path: Path, drills: Sequence[DrillFindings], root: Path | None = None) -> list[Merged]:
    """Merge ``drills`` (oldest first) into the findings file at ``path``, in one locked write."""
    ordered = sorted(drills, key=lambda d: d.drill.order)

    def change(current: FindingsFile) -> tuple[FindingsFile, list[Merged]]:
        out = []
        for drill in ordered:
            current, merged = merge(current, drill, root if root is not None else path.parent)
            out.append(merged)
        return current, out

    return update_findings(path, change)


def record_after_reports(outputs: Outputs, journal: Journal, card: Scorecard, echo: Callable[[str], None]) -> None:
    """After a drill's reports: merge its findings into the project's ``findings.yaml``, when the drill
    wrote to the project's default places (``reports/DRILL_ID/``, ``scorecards/``; a drill run with
    ``--out DIR`` is left out: record it with ``gameday findings record``). Never raises: the drill's
    reports and exit code stand; a problem is one ``findings:`` line."""
    from gameday.drill.reports import Outputs
    from gameday.model.textsafe import neutralise

    try:
        root = Path(outputs.journal).parent.parent.parent
        if outputs != Outputs.for_drill(root, card.drill_id, None):
            return
        drill = drill_findings(journal, card)
        path = root / FINDINGS_FILE
        if not drill.observations and not path.exists():
            return
        merged = record_drills(path, [drill], root)[0]
        line = f"findings:   {merged.summary()} in {path}"
    except ScenarioError as exc:
        first = exc.problems[0] if exc.problems else exc
        line = f"findings:   not recorded: {first} (gameday validate {FINDINGS_FILE}; then gameday findings record)"
    except Exception as exc:  # noqa: BLE001 - the drill's reports are written: its exit code must not be lost
        line = f"findings:   not recorded: {type(exc).__name__}: {exc}"
    echo(neutralise(line, keep=""))


# ------------------------------------------------------------------ finding one, assigning it


def find_finding(findings: FindingsFile, given: str, where: Path | str) -> Finding:
    """The finding ``given`` names: its id (``F-3a9c1e07``; case, the ``F-`` and trailing digits may be
    left out when the rest is unique). :class:`ConfigError` (exit 2, one line) naming the closest ids
    when none or several match."""
    import difflib

    text = given.strip().lower()
    wanted = "F-" + (text[2:] if text.startswith("f-") else text)
    ids = [f.id for f in findings.findings]
    exact = [f for f in findings.findings if f.id == wanted]
    found = exact or [f for f in findings.findings if f.id.startswith(wanted) and len(wanted) > 2]
    if len(found) == 1:
        return found[0]
    if found:
        raise ConfigError(f"{given!r} matches {len(found)} findings in {where}: {', '.join(f.id for f in found[:5])}; "
                          "give more digits")
    if not ids:
        raise ConfigError(f"no finding {given!r}: {where} has no findings yet")
    close = difflib.get_close_matches(wanted, ids, n=3, cutoff=0.3) or sorted(ids)[:3]
    raise ConfigError(f"no finding {given!r} in {where}; closest: {', '.join(close)} (gameday findings list)")


def assign(path: Path, given: str, owner: str | None, due: date | None) -> Finding:
    """Set the owner and/or due date of the finding ``given`` names (the file locked; unchanged values
    leave the file as it is). Returns the finding as written."""
    if owner is None and due is None:
        raise ConfigError("gameday findings assign: give --owner NAME, --due YYYY-MM-DD or both")

    def change(current: FindingsFile) -> tuple[FindingsFile, Finding]:
        f = find_finding(current, given, path)
        values = f.model_dump()
        values.update({k: v for k, v in (("owner", owner), ("due", due)) if v is not None})
        try:
            updated = Finding.model_validate(values)
        except ValueError as exc:
            raise ConfigError(f"{f.id}: {exc}") from None
        return _replace(current, updated), updated

    return update_findings(path, change)


def _replace(findings: FindingsFile, finding: Finding) -> FindingsFile:
    """``findings`` with ``finding`` in the place of the one with its id."""
    return findings.model_copy(update={"findings": [finding if f.id == finding.id else f for f in findings.findings]})
