"""The trends across drills: pure functions of the drills' rows (pandas), no clock but ``as_of``.

* :func:`analyse` — the :class:`~gameday.model.trends.TrendsReport` of rows read by
  :func:`gameday.program.trends_read.read_rows`: per scenario and mode (live game days, ci,
  tabletop and training are never mixed) and month, the medians of MTTD, MTTA, MTTR, time to
  recovery and score, steps on time and severity accuracy; drills per month and mode;
  participation and incident-commander experience per person; detection coverage (which
  signals were exercised, which drills failed silent); readiness per scenario
  (:func:`readiness`, the formula in ``docs/readiness.md``); the repeat rate of findings.
* :func:`readiness` — one scenario's readiness from its last real run and its age.

The same rows and ``as_of`` give the same report, to the byte.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING

from gameday.model.names import person_key
from gameday.model.terms import IC
from gameday.model.trends import (
    CoverageRow,
    DrillRow,
    FrequencyRow,
    PersonRow,
    ReadinessRow,
    RepeatSummary,
    SeriesRow,
    TrendsReport,
)

if TYPE_CHECKING:
    import pandas as pd

    from gameday.model.findings import FindingsFile

__all__ = ["FRESH_DAYS", "STALE_DAYS", "analyse", "decay", "readiness", "repeat_summary"]

#: Readiness (docs/readiness.md): full credit for this many days after a run, 75 % at STALE_DAYS, then
#: halving every HALF_LIFE_DAYS.
FRESH_DAYS, STALE_DAYS, HALF_LIFE_DAYS = 30, 90, 90
#: The modes that inject real faults: their runs prove a scenario (tabletops and training drills do not).
REAL_MODES = ("gameday", "ci")
#: The modes whose roles are held by people (a ci drill's responders are scripted; a training drill's
#: other roles are simulated personas: only its trainee incident commander counts).
PEOPLE_MODES = ("gameday", "tabletop")
MEASURES = ("score", "mttd", "mtta", "mttr", "recovery")


def decay(age_days: int) -> float:
    """The staleness factor: 1 up to FRESH_DAYS, linear to 0.75 at STALE_DAYS, then halving every HALF_LIFE_DAYS."""
    if age_days <= FRESH_DAYS:
        return 1.0
    if age_days <= STALE_DAYS:
        return 1.0 - 0.25 * (age_days - FRESH_DAYS) / (STALE_DAYS - FRESH_DAYS)
    return 0.75 * 0.5 ** ((age_days - STALE_DAYS) / HALF_LIFE_DAYS)


def _day(iso: str) -> date:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).date()


def readiness(scenario_id: str, runs: Sequence[DrillRow], as_of: date) -> ReadinessRow:
    """``100 × result × decay(age)`` from the latest completed real run (live or ci, a fault injected)."""
    real = [r for r in runs if r.mode in REAL_MODES and r.outcome == "completed" and r.fault_injected]
    if not real:
        return ReadinessRow(scenario_id=scenario_id, readiness=0.0, result=0.0, decay=0.0, last_run=None,
                            last_verdict=None, age_days=None, why="never run live or in ci with a fault injected")
    last = max(real, key=lambda r: (r.started_at, r.drill_id))
    age = max(0, (as_of - _day(last.started_at)).days)
    result = 1.0 if last.verdict == "passed" else 0.5
    factor = decay(age)
    value = round(100 * result * factor, 1)
    word = "passed" if result == 1.0 else "did not pass"
    return ReadinessRow(scenario_id=scenario_id, readiness=value, result=result, decay=round(factor, 4),
                        last_run=last.drill_id, last_verdict=last.verdict, age_days=age,
                        why=f"last real run {age} day(s) ago {word} ({last.mode}): 100 × {result:g} × {factor:.3f}")


def _frame(rows: Sequence[DrillRow]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame({
        "scenario_id": [r.scenario_id for r in rows],
        "mode": [r.mode for r in rows],
        "month": [r.started_at[:7] for r in rows],
        "passed": [r.verdict == "passed" for r in rows],
        "score": pd.array([r.score for r in rows], dtype="Float64"),
        "mttd": pd.array([r.mttd for r in rows], dtype="Float64"),
        "mtta": pd.array([r.mtta for r in rows], dtype="Float64"),
        "mttr": pd.array([r.mttr for r in rows], dtype="Float64"),
        "recovery": pd.array([r.recovery for r in rows], dtype="Float64"),
        "steps_due": [r.steps_due for r in rows],
        "steps_on_time": [r.steps_on_time for r in rows],
        "sev_judged": [r.severity_judged for r in rows],
        "sev_correct": [r.severity_judged and r.severity_correct for r in rows],
    })


def _num(value: object) -> float | None:
    import pandas as pd

    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    return round(float(value), 3)  # type: ignore[arg-type]


ALL = "*"
"""The scenario id of the series over every scenario of a mode (``TrendsReport.overall``)."""


def _series(rows: Sequence[DrillRow], *, overall: bool = False) -> list[SeriesRow]:
    """Per scenario (or, ``overall``, over all scenarios: id :data:`ALL`), mode and month: the medians and rates."""
    if not rows:
        return []
    df = _frame(rows)
    if overall:
        df["scenario_id"] = ALL
    keys = ["scenario_id", "mode", "month"]
    grouped = df.groupby(keys, sort=True)
    table = grouped[list(MEASURES)].median().join(
        grouped[["steps_due", "steps_on_time", "sev_judged", "sev_correct", "passed"]].sum()).join(
        grouped.size().rename("drills")).reset_index()
    out = []
    for t in table.itertuples(index=False):
        out.append(SeriesRow(
            scenario_id=t.scenario_id, mode=t.mode, month=t.month, drills=int(t.drills), passed=int(t.passed),
            score=_num(t.score), mttd=_num(t.mttd), mtta=_num(t.mtta), mttr=_num(t.mttr), recovery=_num(t.recovery),
            steps_on_time=_num(t.steps_on_time / t.steps_due) if t.steps_due else None,
            severity_accuracy=_num(t.sev_correct / t.sev_judged) if t.sev_judged else None))
    return out


def _frequency(rows: Sequence[DrillRow]) -> list[FrequencyRow]:
    counts: dict[tuple[str, str], int] = {}
    for r in rows:
        counts[(r.started_at[:7], r.mode)] = counts.get((r.started_at[:7], r.mode), 0) + 1
    return [FrequencyRow(month=m, mode=mode, drills=n) for (m, mode), n in sorted(counts.items())]


def _people(rows: Sequence[DrillRow]) -> list[PersonRow]:
    names: dict[str, str] = {}
    drills: dict[str, set[str]] = {}
    roles: dict[str, dict[str, set[str]]] = {}
    days: dict[str, list[str]] = {}
    ic_live: dict[str, list[str]] = {}
    ic_training: dict[str, int] = {}
    for r in rows:
        if r.mode == "training":
            held = [t for t in r.turns if t.role == IC]
        elif r.mode in PEOPLE_MODES:
            held = list(r.turns)
        else:
            continue
        people = {t.person for t in held} | (set(r.people) if r.mode in PEOPLE_MODES else set())
        for person in people:
            key = person_key(person)
            names.setdefault(key, person)
            drills.setdefault(key, set()).add(r.drill_id)
            days.setdefault(key, []).append(r.started_at[:10])
        for t in held:
            key = person_key(t.person)
            roles.setdefault(key, {}).setdefault(t.role, set()).add(r.drill_id)
            if t.role == IC and r.mode == "training":
                ic_training[key] = ic_training.get(key, 0) + 1
            elif t.role == IC:
                ic_live.setdefault(key, []).append(r.started_at[:10])
    return [PersonRow(person=names[k], drills=len(drills[k]), ic_turns=len(ic_live.get(k, [])),
                      ic_training=ic_training.get(k, 0),
                      roles={role: len(ids) for role, ids in sorted(roles.get(k, {}).items())},
                      first=min(days[k]), last=max(days[k]), last_ic=max(ic_live[k]) if k in ic_live else None)
            for k in sorted(names)]


def _coverage(rows: Sequence[DrillRow]) -> list[CoverageRow]:
    stats: dict[tuple[str, str], list[int]] = {}
    last: dict[tuple[str, str], list[str | None]] = {}
    for r in rows:
        if r.mode not in REAL_MODES or not r.fault_injected:
            continue
        for signal in r.signals:
            key = (r.scenario_id, signal)
            s = stats.setdefault(key, [0, 0, 0])
            seen = last.setdefault(key, [None, None])
            s[0] += 1
            seen[0] = r.started_at[:10]
            if r.detected_by == signal:
                s[1] += 1
            if r.detection == "silent":
                s[2] += 1
                seen[1] = r.started_at[:10]
    return [CoverageRow(scenario_id=k[0], signal=k[1], exercised=s[0], detected_by_it=s[1], silent=s[2],
                        last_exercised=last[k][0], last_silent=last[k][1]) for k, s in sorted(stats.items())]


def repeat_summary(findings: FindingsFile) -> RepeatSummary:
    """The seed's repeat-incident rate from ``findings.yaml``: of the findings ever closed by a passing
    re-drill, the share that came back (status ``reopened`` at least once: ``repeats`` > 0)."""
    items = findings.findings
    ever_closed = [f for f in items if any(h.status == "closed" for h in f.history)]
    came_back = [f for f in ever_closed if f.repeats > 0]
    return RepeatSummary(findings=len(items), open=sum(f.status != "closed" for f in items),
                         closed=sum(f.status == "closed" for f in items), ever_closed=len(ever_closed),
                         repeats=sum(f.repeats for f in items),
                         repeat_rate=round(len(came_back) / len(ever_closed), 4) if ever_closed else None)


def analyse(rows: Sequence[DrillRow], *, as_of: date, journals: int, skipped: Iterable[str] = (),
            scenarios: Iterable[str] = (), repeats: RepeatSummary | None = None) -> TrendsReport:
    """The trends of ``rows`` (sorted by start) as they stood on ``as_of``: drills started after that day are left
    out (with a line in ``skipped``). ``scenarios``: ids known to the program that may never have run (they get
    readiness 0); ``repeats``: from the findings file, if there is one."""
    later = [r for r in rows if _day(r.started_at) > as_of]
    if later:  # the trends as they stood that day: a drill that had not happened yet is no part of them
        rows = [r for r in rows if _day(r.started_at) <= as_of]
        skipped = [*skipped, f"{len(later)} drill(s) started after {as_of.isoformat()} (--as-of): left out"]
    by_scenario: dict[str, list[DrillRow]] = {s: [] for s in scenarios}
    for r in rows:
        by_scenario.setdefault(r.scenario_id, []).append(r)
    return TrendsReport(
        as_of=as_of.isoformat(), journals=journals, skipped=list(skipped), drills=list(rows), series=_series(rows),
        overall=_series(rows, overall=True),
        frequency=_frequency(rows), people=_people(rows), coverage=_coverage(rows),
        readiness=[readiness(s, runs, as_of) for s, runs in sorted(by_scenario.items())], repeats=repeats)

