"""A trainee's progress across training sessions: their journals, the ladder, their profile.

Google SRE's Wheel of Misfortune keeps no score and no record from one session to the next;
here every training drill's journal is scored by the incident commander rubric
(:func:`gameday.analysis.rubric.score_training`) and the sessions are read together:

* :func:`find_training_journals` finds the journals of a folder (``reports/`` by default) and
  reads the training ones; :func:`sessions_of` scores a trainee's, oldest first.
* :func:`rung` places the trainee on the ladder (PagerDuty's incident commander training:
  shadow a drill, scribe, shadow the incident commander, then lead; see :data:`LADDER_RULE`).
* :func:`profile` follows each rubric item over the sessions and says what to practise next.

The next scenario is drawn by :mod:`gameday.program.wheel`. Everything here but the journal
finding is pure: the same journals give the same profile.

Names are compared as people write them: whitespace trimmed and collapsed, then without regard
to case or compatibility forms (the rule of :mod:`gameday.model.names`), so ``"  Ada  Lovelace"``
and ``"ada lovelace"`` are one trainee.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from gameday.errors import ConfigError, JournalError
from gameday.journal import Journal, first_of, read_journal
from gameday.model.names import person_key
from gameday.model.program import ItemHistory, ItemPoint, Practice, Profile, RoleHeld, SessionRow, Standing, Trend
from gameday.model.rubric import CRITICAL, POINTS, RUBRIC, TrainingScore

#: The ladder's thresholds (see :data:`LADDER_RULE`).
SHADOW_SESSIONS, SHADOW_SCORE = 2, 60.0
IC_SESSIONS, IC_SCORE, IC_SCENARIOS, IC_DIFFICULTY = 3, 80.0, 2, 3
#: How many recent sessions "what to practise next" looks at, and how many items it names at most.
RECENT, PRACTISE = 3, 3
#: A trend needs the later verdicts' average points this far from the earlier ones'.
TREND_STEP = 0.25

LADDER_RULE = f"""\
The ladder (lowest rung first); only completed training sessions count:

- observer: no completed training session yet.
- scribe: at least 1 completed training session, or a role held in a drill that was not a training
  drill (a RoleAssigned event naming the person in a journal of the same folder).
- shadow IC: at least {SHADOW_SESSIONS} completed sessions scoring {SHADOW_SCORE:g} or more, and the latest completed
  session met every critical item ({", ".join(CRITICAL)}).
- IC: at least {IC_SESSIONS} completed sessions scoring {IC_SCORE:g} or more, over at least {IC_SCENARIOS} different scenarios,
  one of them at difficulty {IC_DIFFICULTY} or more, and the latest two completed sessions met every critical item.
"""


#: A person's name as compared (:func:`gameday.model.names.person_key`).
name_key = person_key


# ------------------------------------------------------------------------------------- journals
@dataclass(frozen=True)
class JournalScan:
    """What :func:`find_training_journals` found in a folder."""

    folder: Path
    journals: list[Journal] = field(default_factory=list)
    """the training journals, read and valid (a torn last line is tolerated, as everywhere)"""
    roles: list[RoleHeld] = field(default_factory=list)
    """every role held in the folder's other drills (not training drills), by anyone"""
    warnings: list[str] = field(default_factory=list)
    """one line per journal skipped (unreadable, malformed): ``PATH:LINE: what``"""

    @property
    def paths(self) -> list[Path]:
        """The training journals' paths."""
        return [Path(j.path) for j in self.journals]


def journal_files(folder: Path) -> list[Path]:
    """The journals of a folder: each ``*/journal.jsonl`` (a drill's reports folder) and ``*.jsonl``, sorted."""
    try:
        found = {p for p in folder.glob("*/journal.jsonl") if p.is_file()}
        found |= {p for p in folder.glob("*.jsonl") if p.is_file()}
    except OSError as exc:
        raise ConfigError(f"{folder}: cannot list this folder: {exc.strerror or exc}") from None
    return sorted(found)


def find_training_journals(folder: Path) -> JournalScan:
    """Read the journals of ``folder`` (:func:`journal_files`): those whose first event is a
    ``DrillStarted`` of mode ``training`` are read whole; of the others only the ``RoleAssigned``
    events are kept (the ladder's scribe rung counts roles held in real drills). A journal that
    cannot be read is skipped with a one-line warning in :attr:`JournalScan.warnings`, never raised.
    :class:`~gameday.errors.ConfigError` only if the folder is not one."""
    if not folder.is_dir():
        raise ConfigError(f"{folder}: no such folder")
    journals: list[Journal] = []
    roles: list[RoleHeld] = []
    warnings: list[str] = []
    for path in journal_files(folder):
        try:
            mode, drill_id = _first_line(path)
            if mode == "training":
                journals.append(read_journal(path))
            else:
                roles += _roles_in(path, drill_id, mode)
        except JournalError as exc:
            warnings.append(str(exc))
    return JournalScan(folder, journals, roles, warnings)


def _first_line(path: Path) -> tuple[str, str]:
    """The mode and drill id of a journal's first event (DrillStarted), reading that line only."""
    from gameday.journal import parse_lines
    from gameday.limits import MAX_LINE

    try:
        with path.open("rb") as fh:
            line = fh.readline(MAX_LINE + 1)
    except OSError as exc:
        raise JournalError(str(path), 0, f"cannot read: {exc.strerror}") from None
    journal = parse_lines(str(path), [line if line.endswith(b"\n") else line + b"\n"])  # torn: a malformed line
    started = journal.started.data
    return started.mode, started.drill_id


def _roles_in(path: Path, drill_id: str, mode: str) -> list[RoleHeld]:
    """The ``RoleAssigned`` events of a journal that is not a training drill's. Only lines that name
    the kind are decoded (a journal line is compact JSON, ``"kind":"RoleAssigned"``); one that does
    not decode is left out (the journal's own reader reports it where the journal is scored)."""
    from gameday.model.eventio import decode_line
    from gameday.model.events import RoleAssigned

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise JournalError(str(path), 0, f"cannot read: {exc.strerror}") from None
    out: list[RoleHeld] = []
    for raw in data.splitlines():
        if b'"RoleAssigned"' not in raw:
            continue
        try:
            event = decode_line(raw.decode("utf-8"))
        except ValueError:
            continue
        if isinstance(event.data, RoleAssigned):
            out.append(RoleHeld(person=event.data.person, role=event.data.role, drill_id=drill_id, mode=mode,
                                journal=str(path)))
    return out


def roles_of(name: str, roles: Iterable[RoleHeld]) -> list[RoleHeld]:
    """The roles ``name`` held (names compared by :func:`name_key`)."""
    key = name_key(name)
    return [r for r in roles if name_key(r.person) == key]


def _when(wall: str) -> datetime | None:
    try:
        return datetime.fromisoformat(wall)
    except ValueError:
        return None


def _order(s: TrainingScore) -> tuple[str, str, str]:
    when = _when(s.started_wall)
    if when is not None and when.tzinfo is not None:
        when = when.astimezone(UTC)
    return (when.isoformat() if when is not None else s.started_wall, s.started_wall, s.drill_id)


def sessions_of(name: str, journals: Iterable[Journal], warnings: list[str] | None = None) -> list[TrainingScore]:
    """The training sessions of ``name`` (the trainee of the journal's ``TrainingStarted``, names
    compared by :func:`name_key`), each scored by the rubric, oldest first (by ``DrillStarted``'s wall
    time, then drill id). With ``warnings``, a journal the rubric cannot score is left out with a
    line appended there instead of raising."""
    from gameday.analysis.rubric import score_training
    from gameday.errors import GamedayError
    from gameday.model.training_events import TrainingStarted

    key = name_key(name)
    out: list[TrainingScore] = []
    for journal in journals:
        started = first_of(journal.events, TrainingStarted)
        if started is None or name_key(started.data.trainee) != key:
            continue
        try:
            out.append(score_training(journal.events, path=journal.path))
        except (GamedayError, ValueError) as exc:
            if warnings is None:
                raise
            warnings.append(f"{journal.path}: cannot be scored: {exc}")
    return sorted(out, key=_order)


# ------------------------------------------------------------------------------------- the ladder
def critical_missed(session: TrainingScore) -> list[str]:
    """The critical items a session did not meet (an item the rubric left out counts as not met)."""
    out = []
    for item_id in CRITICAL:
        item = session.item(item_id)
        if item is None or item.verdict != "met":
            out.append(item_id)
    return out


def critical_unmet(session: TrainingScore) -> list[str]:
    """The critical items a session did not meet, each with its verdict: ``'resolution (n/a)'``, ``'hands-off
    (partly)'`` — an item judged n/a was not missed, it did not come up (and is not met either)."""
    out = []
    for item_id in critical_missed(session):
        item = session.item(item_id)
        out.append(f"{item_id} ({item.verdict if item is not None else 'not scored'})")
    return out


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def rung(sessions: Sequence[TrainingScore], roles_held_elsewhere: Sequence[RoleHeld] = ()) -> Standing:
    """The trainee's rung on the ladder (:data:`LADDER_RULE`), why, and what the next rung asks for.
    ``sessions`` oldest first (as :func:`sessions_of` gives them)."""
    completed = [s for s in sessions if s.outcome == "completed"]
    latest = completed[-1] if completed else None

    # IC
    strong = [s for s in completed if s.score >= IC_SCORE]
    scenarios = sorted({s.scenario_id for s in strong})
    hardest = max((s.difficulty or 0 for s in strong), default=0)
    last_two = completed[-2:]
    last_two_missed = sorted({m for s in last_two for m in critical_unmet(s)})
    for_ic = []
    if len(strong) < IC_SESSIONS:
        for_ic.append(f"{IC_SESSIONS} completed sessions scoring {IC_SCORE:g} or more ({len(strong)} so far)")
    if len(scenarios) < IC_SCENARIOS:
        for_ic.append(f"those over {IC_SCENARIOS} different scenarios ({len(scenarios)} so far)")
    if hardest < IC_DIFFICULTY:
        for_ic.append(f"one of them at difficulty {IC_DIFFICULTY} or more")
    if len(last_two) < 2 or last_two_missed:
        missed = f" (not met: {', '.join(last_two_missed)})" if last_two_missed else ""
        for_ic.append(f"the latest two completed sessions meeting every critical item{missed}")
    if not for_ic:
        return Standing(rung="IC", next="", reason=(
            f"{_plural(len(strong), 'completed session')} scored {IC_SCORE:g} or more over {len(scenarios)} scenarios "
            f"(hardest: difficulty {hardest}), and the latest two met every critical item"))

    # shadow IC
    good = [s for s in completed if s.score >= SHADOW_SCORE]
    latest_missed = critical_unmet(latest) if latest is not None else list(CRITICAL)
    for_shadow = []
    if len(good) < SHADOW_SESSIONS:
        for_shadow.append(f"{SHADOW_SESSIONS} completed sessions scoring {SHADOW_SCORE:g} or more ({len(good)} so far)")
    if latest is None or latest_missed:
        missed = f" (not met: {', '.join(latest_missed)})" if latest is not None else ""
        for_shadow.append(f"the latest completed session meeting every critical item{missed}")
    if not for_shadow:
        return Standing(rung="shadow IC", next="for IC: " + "; ".join(for_ic), reason=(
            f"{_plural(len(good), 'completed session')} scored {SHADOW_SCORE:g} or more, and the latest "
            f"({latest.drill_id if latest else ''}) met every critical item"))

    # scribe
    if latest is not None:
        return Standing(rung="scribe", next="for shadow IC: " + "; ".join(for_shadow), reason=(
            f"{_plural(len(completed), 'completed training session')} (the latest, {latest.drill_id}, "
            f"scored {latest.score:g})"))
    if roles_held_elsewhere:
        held = roles_held_elsewhere[-1]
        more = len(roles_held_elsewhere) - 1
        return Standing(rung="scribe", next="for shadow IC: " + "; ".join(for_shadow), reason=(
            f"held the {held.role} role in drill {held.drill_id} ({held.mode})"
            + (f" and {_plural(more, 'other role')} in drills" if more else "") + "; no completed training session yet"))

    unfinished = len(sessions)
    return Standing(rung="observer", reason="no completed training session yet" + (
        f" ({_plural(unfinished, 'session')} aborted or unfinished)" if unfinished else ""),
        next="for scribe: complete a training session (gameday run SCENARIO --mode training --trainee NAME), "
             "or hold a role in a drill")


# ------------------------------------------------------------------------------------- the profile
def _mean(points: Sequence[float]) -> float | None:
    return round(sum(points) / len(points), 3) if points else None


def trend(points: Sequence[float]) -> Trend:
    """Where an item is going, from its applicable verdicts' points (oldest first): the later
    ones (the last half, at most 3) against the up to 3 before them; a difference of
    :data:`TREND_STEP` or more is improving or slipping. Fewer than two verdicts: steady."""
    n = len(points)
    if n < 2:
        return "steady"
    recent_n = min(math.ceil(n / 2), RECENT)
    recent, earlier = points[n - recent_n:], points[max(0, n - recent_n - RECENT):n - recent_n]
    diff = sum(recent) / len(recent) - sum(earlier) / len(earlier)
    if diff >= TREND_STEP - 1e-9:
        return "improving"
    if diff <= -TREND_STEP + 1e-9:
        return "slipping"
    return "steady"


def _points(session: TrainingScore, item_id: str) -> float | None:
    item = session.item(item_id)
    return None if item is None else POINTS.get(item.verdict)


def weakest(sessions: Sequence[TrainingScore], limit: int = PRACTISE) -> list[Practice]:
    """What to practise next: the items with the lowest average points over the last
    :data:`RECENT` sessions (ties in rubric order), at most ``limit``, leaving out items met every
    time and items that did not apply; each with the latest coaching line the rubric gave for it."""
    recent = list(sessions)[-RECENT:]
    ranked: list[tuple[float, int, str]] = []
    for index, item_id in enumerate(RUBRIC):
        points = [p for s in recent if (p := _points(s, item_id)) is not None]
        mean = _mean(points)
        if mean is not None and mean < 1.0:
            ranked.append((mean, index, item_id))
    out = []
    for mean, _, item_id in sorted(ranked)[:limit]:
        coaching, source = "", None
        for s in reversed(sessions):
            item = s.item(item_id)
            if item is not None and item.coaching.strip():
                coaching, source = item.coaching, s.drill_id
                break
        out.append(Practice(id=item_id, title=RUBRIC[item_id], recent_mean=mean, coaching=coaching,  # type: ignore[arg-type]
                            coaching_from=source))
    return out


def profile(name: str, sessions: Sequence[TrainingScore], roles_held_elsewhere: Sequence[RoleHeld] = ()) -> Profile:
    """A trainee's profile: their sessions, each rubric item over time (verdicts, trend, average),
    their rung and why, what to practise next. ``sessions`` oldest first (:func:`sessions_of`)."""
    rows = [SessionRow(drill_id=s.drill_id, scenario_id=s.scenario_id, scenario_title=s.scenario_title,
                       difficulty=s.difficulty, started_wall=s.started_wall, outcome=s.outcome, score=s.score,
                       hints=len(s.hints)) for s in sessions]
    items = []
    for item_id, title in RUBRIC.items():
        verdicts = [ItemPoint(drill_id=s.drill_id, started_wall=s.started_wall, verdict=i.verdict)
                    for s in sessions if (i := s.item(item_id)) is not None]
        points = [POINTS[v.verdict] for v in verdicts if v.verdict in POINTS]
        items.append(ItemHistory(id=item_id, title=title, verdicts=verdicts, trend=trend(points),  # type: ignore[arg-type]
                                 mean=_mean(points)))
    shown = sessions[-1].trainee if sessions else " ".join(name.split())
    return Profile(trainee=shown, sessions=rows, items=items, standing=rung(sessions, roles_held_elsewhere),
                   practise=weakest(sessions), roles_elsewhere=list(roles_held_elsewhere))


__all__ = ["LADDER_RULE", "JournalScan", "critical_missed", "critical_unmet", "find_training_journals", "journal_files",
           "name_key", "profile", "roles_of", "rung", "sessions_of", "trend", "weakest"]
