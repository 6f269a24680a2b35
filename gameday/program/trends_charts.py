"""The trends page's charts (PNG, matplotlib with the Agg backend, imported lazily).

Each chart is a pure function of part of a :class:`~gameday.model.trends.TrendsReport`; equal
data give equal bytes (no software version in the PNG's metadata). :func:`chart_images` keeps
rendered charts in a folder keyed by a digest of their data, so a run whose data did not change
for a chart reuses it instead of drawing it again (matplotlib costs ~50 ms a chart).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from gameday.model.trends import MODE_LABEL, FrequencyRow, PersonRow, ReadinessRow, SeriesRow, TrendsReport

__all__ = ["Chart", "chart_images"]

#: At most this many scenarios get a line in a measures chart (the most drilled), people a bar.
MAX_LINES, MAX_BARS = 8, 20
MODE_COLORS = {"gameday": "#c0392b", "ci": "#2c3e50", "tabletop": "#8e44ad", "training": "#16a085"}
LINE_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")


class Chart:
    """One rendered chart: its file name, title, caption (plain text: the template escapes it) and PNG bytes."""

    def __init__(self, name: str, title: str, caption: str, png: bytes) -> None:
        self.name, self.title, self.caption, self.png = name, title, caption, png


def _figure(height: float) -> Any:
    from gameday.analysis.charts import new_figure

    return new_figure(9, height)


def _png(fig: Any) -> bytes:
    from gameday.analysis.charts import png_bytes

    fig.tight_layout()
    return png_bytes(fig)


def _minutes(seconds: float | None) -> float:
    return float("nan") if seconds is None else seconds / 60


def _measures(mode: str, rows: Sequence[SeriesRow]) -> tuple[bytes, str]:
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.scenario_id] = counts.get(r.scenario_id, 0) + r.drills
    shown = sorted(counts, key=lambda s: (-counts[s], s))[:MAX_LINES]
    months = sorted({r.month for r in rows})
    fig = _figure(7.5)
    panels = (("mttd", "MTTD (minutes)", _minutes), ("mttr", "MTTR (minutes)", _minutes),
              ("score", "score (0-100)", lambda v: float("nan") if v is None else v))
    for i, (field, label, scale) in enumerate(panels):
        ax = fig.add_subplot(3, 1, i + 1)
        for j, scenario in enumerate(sorted(shown)):
            by_month = {r.month: getattr(r, field) for r in rows if r.scenario_id == scenario}
            ax.plot(range(len(months)), [scale(by_month.get(m)) for m in months], marker="o", markersize=3,
                    linewidth=1.4, color=LINE_COLORS[j % len(LINE_COLORS)], label=scenario)
        ax.set_ylabel(label)
        ax.set_ylim(bottom=0, top=105 if field == "score" else None)
        ax.grid(True, alpha=0.25)
        ax.set_xticks(range(len(months)), months if i == 2 else [""] * len(months), fontsize=7, rotation=45)
        if i == 0:
            ax.set_title(f"{MODE_LABEL.get(mode, mode)} drills: monthly medians per scenario")
            ax.legend(loc="upper left", fontsize=7, framealpha=0.85, ncol=2)
    left_out = len(counts) - len(shown)
    caption = f"Monthly medians of {MODE_LABEL.get(mode, mode)} drills, one line per scenario" + (
        f"; the {left_out} least drilled scenario(s) are in the table only." if left_out else ".")
    return _png(fig), caption


def _frequency(rows: Sequence[FrequencyRow]) -> tuple[bytes, str]:
    months = sorted({r.month for r in rows})
    fig = _figure(3.2)
    ax = fig.add_subplot()
    bottom = [0] * len(months)
    for mode in MODE_COLORS:
        counts = {r.month: r.drills for r in rows if r.mode == mode}
        if not counts:
            continue
        values = [counts.get(m, 0) for m in months]
        ax.bar(range(len(months)), values, bottom=bottom, color=MODE_COLORS[mode], label=MODE_LABEL[mode])
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_xticks(range(len(months)), months, fontsize=7, rotation=45)
    ax.set_ylabel("drills")
    ax.set_title("Drills per month, by mode")
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(True, axis="y", alpha=0.25)
    return _png(fig), "Drills per month, stacked by mode."


def _readiness(rows: Sequence[ReadinessRow]) -> tuple[bytes, str]:
    ordered = sorted(rows, key=lambda r: (r.readiness, r.scenario_id))
    fig = _figure(max(2.0, 0.32 * len(ordered) + 1))
    ax = fig.add_subplot()
    colors = ["#27ae60" if r.readiness >= 75 else "#f39c12" if r.readiness >= 50 else "#c0392b" for r in ordered]
    ax.barh(range(len(ordered)), [r.readiness for r in ordered], color=colors)
    ax.set_yticks(range(len(ordered)), [r.scenario_id for r in ordered], fontsize=7)
    ax.set_xlim(0, 100)
    ax.axvline(75, color="#7f8c8d", linestyle=":", linewidth=1)
    ax.set_xlabel("readiness (0-100)")
    ax.set_title("Readiness per scenario (decays when not re-run)")
    return _png(fig), "Readiness per scenario: green at 75 or more, amber at 50 or more, red below (docs/readiness.md)."


def _people(rows: Sequence[PersonRow]) -> tuple[bytes, str]:
    ordered = sorted(rows, key=lambda r: (-(r.ic_turns + r.ic_training), -r.drills, r.person))[:MAX_BARS][::-1]
    fig = _figure(max(2.0, 0.3 * len(ordered) + 1))
    ax = fig.add_subplot()
    ys = range(len(ordered))
    ax.barh(ys, [r.ic_turns for r in ordered], color="#c0392b", label="incident commander (live, tabletop)")
    ax.barh(ys, [r.ic_training for r in ordered], left=[r.ic_turns for r in ordered], color="#16a085",
            label="incident commander in training")
    ax.set_yticks(list(ys), [r.person for r in ordered], fontsize=7)
    ax.set_xlabel("drills")
    ax.set_title("Incident-commander experience per person")
    ax.legend(loc="lower right", fontsize=7)
    more = len(rows) - len(ordered)
    return _png(fig), "Incident-commander turns per person" + (f"; {more} more in the table." if more else ".")


def _digest(name: str, data: object) -> str:
    text = json.dumps([name, data], sort_keys=True, default=lambda m: m.model_dump(mode="json"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def chart_images(report: TrendsReport, cache_dir: Path | None = None) -> list[Chart]:
    """The page's charts, drawn or (when ``cache_dir`` holds the same data's chart) reused."""
    plans: list[tuple[str, str, object, Callable[[], tuple[bytes, str]]]] = []
    for mode in MODE_COLORS:
        rows = [r for r in report.series if r.mode == mode]
        if rows:
            plans.append((f"measures-{mode}.png", f"{MODE_LABEL[mode]} drills over time", rows,
                          lambda rows=rows, mode=mode: _measures(mode, rows)))  # type: ignore[misc]
    if report.frequency:
        plans.append(("frequency.png", "Drill frequency", report.frequency, lambda: _frequency(report.frequency)))
    if report.readiness:
        plans.append(("readiness.png", "Readiness", report.readiness, lambda: _readiness(report.readiness)))
    if any(p.ic_turns or p.ic_training for p in report.people):
        plans.append(("people.png", "Incident-commander experience", report.people, lambda: _people(report.people)))
    charts = []
    keys = set()
    for name, title, data, draw in plans:
        key = _digest(name, data)
        keys.add(key)
        cached = _cached(cache_dir, key)
        if cached is None:
            png, caption = draw()
            _store(cache_dir, key, png, caption)
        else:
            png, caption = cached
        charts.append(Chart(name, title, caption, png))
    _prune(cache_dir, keys)
    return charts


def _prune(cache_dir: Path | None, keep: set[str]) -> None:
    """Drop the cached charts this run did not use (the folder holds one trends' charts, not a history)."""
    if cache_dir is None:
        return
    try:
        for path in cache_dir.iterdir():
            if path.suffix in (".png", ".txt") and len(path.stem) == 32 and path.stem not in keep:
                path.unlink(missing_ok=True)
    except OSError:
        pass


def _cached(cache_dir: Path | None, key: str) -> tuple[bytes, str] | None:
    if cache_dir is None:
        return None
    try:
        return (cache_dir / f"{key}.png").read_bytes(), (cache_dir / f"{key}.txt").read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _store(cache_dir: Path | None, key: str, png: bytes, caption: str) -> None:
    if cache_dir is None:
        return
    from gameday.fsutil import atomic_write

    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        atomic_write(cache_dir / f"{key}.txt", caption)
        atomic_write(cache_dir / f"{key}.png", png)
    except OSError:
        pass
