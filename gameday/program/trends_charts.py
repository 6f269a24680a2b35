"""The trends page's charts, as inline SVG: a pure function of a :class:`~gameday.model.trends.TrendsReport`.

Why SVG drawn here and not matplotlib (which the postmortem's charts use): the trends page must be
written for 10,000 drills in a few seconds, and matplotlib costs ~0.5 s to import and ~0.2 s a
chart; these charts are a few rectangles and lines each (bars, a heatmap, two line charts), so
drawing them is string formatting — milliseconds — and the page stays one self-contained file
whose charts are crisp at any zoom, carry their values as tooltips (``<title>``), and whose text
is real text. Every piece of text is escaped (scenario ids and people's names are data).

* :func:`chart_svgs` — ``[Chart(name, title, caption, svg)]`` for the page, in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from markupsafe import Markup, escape

from gameday.model.trends import MODE_LABEL, FrequencyRow, PersonRow, ReadinessRow, SeriesRow, TrendsReport

__all__ = ["Chart", "chart_svgs"]

#: At most this many scenarios get a heatmap row (the most drilled), people a bar; month labels at most.
MAX_SCENARIOS, MAX_BARS, MAX_MONTH_LABELS = 30, 20, 18
MODE_COLORS = {"gameday": "#c0392b", "ci": "#2c3e50", "tabletop": "#8e44ad", "training": "#16a085"}
FONT = 'font-family="system-ui, sans-serif"'
WIDTH = 900


@dataclass(frozen=True)
class Chart:
    """One chart: its name (an id for the page), title, caption (plain text: the template escapes it) and SVG."""

    name: str
    title: str
    caption: str
    svg: Markup


def _svg(height: float, title: str, body: list[str]) -> Markup:
    return Markup(f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height:.0f}" width="100%" role="img" '
                  f'{FONT} font-size="11"><title>{escape(title)}</title>{"".join(body)}</svg>')


def _text(x: float, y: float, text: str, anchor: str = "start", extra: str = "") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" {extra}>{escape(text)}</text>'


def _nice(top: float) -> float:
    """A round axis maximum at or above ``top`` (1, 1.2, 1.6, 2, 2.4, 3, 4, 5, 6, 8 × 10^k: quarters stay round)."""
    if top <= 0:
        return 1.0
    import math

    base = 10 ** math.floor(math.log10(top))
    return next(m * base for m in (1, 1.2, 1.6, 2, 2.4, 3, 4, 5, 6, 8, 10) if m * base >= top)


def _month_axis(months: Sequence[str], x0: float, step: float, y: float) -> list[str]:
    every = max(1, -(-len(months) // MAX_MONTH_LABELS))
    return [_text(x0 + i * step, y, m, "end", f'transform="rotate(-45 {x0 + i * step:.1f} {y:.1f})" font-size="9"')
            for i, m in enumerate(months) if i % every == 0]


def _minutes(v: float | None) -> str:
    return "—" if v is None else f"{v / 60:.1f} min" if v >= 120 else f"{v:.1f} s"


def _speed(rows: Sequence[SeriesRow]) -> Chart:
    """Is the team getting faster? Monthly medians of MTTD and MTTR over every scenario, a line per mode."""
    months = sorted({r.month for r in rows})
    modes = [m for m in MODE_COLORS if any(r.mode == m for r in rows)]
    body: list[str] = []
    panel_w, top, plot_h = 370.0, 40.0, 170.0
    for p, (field, label) in enumerate((("mttd", "MTTD"), ("mttr", "MTTR"))):
        x0 = 60 + p * (panel_w + 80)
        values = [getattr(r, field) for r in rows if getattr(r, field) is not None]
        ymax = _nice(max(values) / 60) if values else 1.0  # minutes
        step = panel_w / max(1, len(months) - 1)
        body.append(_text(x0, 22, f"{label}: median of the month, minutes", extra='font-weight="600" font-size="12"'))
        for k in range(5):
            y = top + plot_h - plot_h * k / 4
            body.append(f'<line x1="{x0}" y1="{y:.1f}" x2="{x0 + panel_w}" y2="{y:.1f}" stroke="#e3e6ea"/>')
            body.append(_text(x0 - 6, y + 4, f"{ymax * k / 4:g}", "end"))
        for mode in modes:
            by_month = {r.month: getattr(r, field) for r in rows if r.mode == mode}
            points = [(x0 + i * step, top + plot_h - plot_h * min(1.0, by_month[m] / 60 / ymax), m)
                      for i, m in enumerate(months) if by_month.get(m) is not None]
            if len(points) > 1:
                path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in points)
                body.append(f'<polyline points="{path}" fill="none" stroke="{MODE_COLORS[mode]}" stroke-width="1.8"/>')
            for x, y, m in points:
                tip = f"{MODE_LABEL[mode]} {m}: {label} {_minutes(by_month[m])}"
                body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.6" fill="{MODE_COLORS[mode]}"><title>'
                            f'{escape(tip)}</title></circle>')
        body += _month_axis(months, x0, step, top + plot_h + 14)
    for i, mode in enumerate(modes):
        x = 60 + i * 110
        body.append(f'<rect x="{x}" y="282" width="12" height="12" fill="{MODE_COLORS[mode]}"/>')
        body.append(_text(x + 16, 292, MODE_LABEL[mode]))
    return Chart("speed", "Are we getting faster?", "Monthly medians of MTTD and MTTR over every scenario, one line per mode "
                 "(live and ci on the wall clock; tabletop and training on the scenario clock): lower is faster. "
                 "Hover a point for its value.", _svg(300, "MTTD and MTTR per month and mode", body))


def _color(score: float) -> str:
    """Red (0) through amber (50) to green (100)."""
    stops = ((0.0, (192, 57, 43)), (50.0, (243, 156, 18)), (100.0, (39, 174, 96)))
    for (a, ca), (b, cb) in pairwise(stops):
        if score <= b:
            f = (score - a) / (b - a)
            return "#" + "".join(f"{round(x + (y - x) * f):02x}" for x, y in zip(ca, cb, strict=True))
    return "#27ae60"


def _scores(mode: str, rows: Sequence[SeriesRow]) -> Chart:
    """A heatmap: scenarios down, months across, the month's median score as the colour (blank: not drilled)."""
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.scenario_id] = counts.get(r.scenario_id, 0) + r.drills
    shown = sorted(sorted(counts, key=lambda s: (-counts[s], s))[:MAX_SCENARIOS])
    months = sorted({r.month for r in rows})
    left = 20 + 6.2 * max((len(s) for s in shown), default=10)
    cell_w = (WIDTH - left - 20) / max(1, len(months))
    cell_h, top = 18.0, 30.0
    cells = {(r.scenario_id, r.month): r for r in rows}
    body = [_text(left, 18, f"{MODE_LABEL.get(mode, mode)} drills: median score per scenario and month",
                  extra='font-weight="600" font-size="12"')]
    for i, scenario in enumerate(shown):
        y = top + i * cell_h
        body.append(_text(left - 6, y + 13, scenario, "end"))
        for j, month in enumerate(months):
            cell = cells.get((scenario, month))
            if cell is None or cell.score is None:
                continue
            tip = f"{scenario} {month}: median score {cell.score:.1f} over {cell.drills} drill(s), {cell.passed} passed"
            body.append(f'<rect x="{left + j * cell_w:.1f}" y="{y:.1f}" width="{max(1.0, cell_w - 1):.1f}" '
                        f'height="{cell_h - 1:.0f}" fill="{_color(cell.score)}"><title>{escape(tip)}</title></rect>')
    bottom = top + len(shown) * cell_h
    body += _month_axis(months, left + cell_w / 2, cell_w, bottom + 14)
    left_out = len(counts) - len(shown)
    caption = (f"Median score of the {MODE_LABEL.get(mode, mode)} drills of each scenario per month: green 100, amber "
               "50, red 0; blank when not drilled that month or not scored. Hover a cell for its figures") + (
        f"; the {left_out} least drilled scenario(s) are in trends.csv only." if left_out else ".")
    return Chart(f"scores-{mode}", f"{MODE_LABEL.get(mode, mode)} drills: scores", caption,
                 _svg(bottom + 60, f"{MODE_LABEL.get(mode, mode)} scores per scenario and month", body))


def _hbars(title: str, labels: Sequence[str], stacks: Sequence[Sequence[tuple[float, str, str]]], xmax: float,
           ticks: Sequence[float]) -> tuple[Markup, float]:
    """Horizontal bars: one row per label, each a stack of (value, colour, tooltip)."""
    left = 20 + 6.2 * max((len(s) for s in labels), default=10)
    width, bar_h, top = WIDTH - left - 30, 16.0, 30.0
    body = [_text(left, 18, title, extra='font-weight="600" font-size="12"')]
    for i, (label, stack) in enumerate(zip(labels, stacks, strict=True)):
        y = top + i * (bar_h + 4)
        body.append(_text(left - 6, y + 12, label, "end"))
        x = left
        for value, color, tip in stack:
            w = width * min(value, xmax) / xmax if xmax else 0
            if w > 0:
                body.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{bar_h:.0f}" fill="{color}">'
                            f'<title>{escape(tip)}</title></rect>')
            x += w
    bottom = top + len(labels) * (bar_h + 4)
    for t in ticks:
        x = left + width * t / xmax
        body.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{bottom}" stroke="#d0d4da" stroke-dasharray="2,3"/>')
        body.append(_text(x, bottom + 14, f"{t:g}", "middle"))
    return _svg(bottom + 24, title, body), bottom + 24


def _frequency(rows: Sequence[FrequencyRow]) -> Chart:
    months = sorted({r.month for r in rows})
    totals = {m: sum(r.drills for r in rows if r.month == m) for m in months}
    ymax = _nice(max(totals.values(), default=1))
    left, top, plot_h = 50.0, 30.0, 160.0
    step = (WIDTH - left - 20) / max(1, len(months))
    body = [_text(left, 18, "Drills per month, by mode", extra='font-weight="600" font-size="12"')]
    for k in range(5):
        y = top + plot_h - plot_h * k / 4
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{WIDTH - 20}" y2="{y:.1f}" stroke="#e3e6ea"/>')
        body.append(_text(left - 6, y + 4, f"{ymax * k / 4:g}", "end"))
    for j, month in enumerate(months):
        y = top + plot_h
        for mode in MODE_COLORS:
            n = sum(r.drills for r in rows if r.month == month and r.mode == mode)
            if not n:
                continue
            h = plot_h * n / ymax
            y -= h
            body.append(f'<rect x="{left + j * step + 1:.1f}" y="{y:.1f}" width="{max(1.0, step - 2):.1f}" height="{h:.1f}" '
                        f'fill="{MODE_COLORS[mode]}"><title>{escape(f"{month}: {n} {MODE_LABEL[mode]} drill(s)")}</title></rect>')
    body += _month_axis(months, left + step / 2, step, top + plot_h + 14)
    for i, mode in enumerate(m for m in MODE_COLORS if any(r.mode == m for r in rows)):
        body.append(f'<rect x="{left + i * 110}" y="{top + plot_h + 56}" width="12" height="12" fill="{MODE_COLORS[mode]}"/>')
        body.append(_text(left + i * 110 + 16, top + plot_h + 66, MODE_LABEL[mode]))
    return Chart("frequency", "Drill frequency", "Drills per month, stacked by mode.",
                 _svg(top + plot_h + 76, "Drills per month by mode", body))


def _readiness(rows: Sequence[ReadinessRow]) -> Chart:
    ordered = sorted(rows, key=lambda r: (r.readiness, r.scenario_id))
    colors = ["#27ae60" if r.readiness >= 75 else "#f39c12" if r.readiness >= 50 else "#c0392b" for r in ordered]
    svg, _ = _hbars("Readiness per scenario (decays when not re-run)", [r.scenario_id for r in ordered],
                    [[(r.readiness, c, f"{r.scenario_id}: {r.readiness:.1f} — {r.why}")] for r, c in zip(ordered, colors,
                                                                                               strict=True)],
                    100.0, (0, 25, 50, 75, 100))
    return Chart("readiness", "Readiness", "Readiness per scenario: green at 75 or more, amber at 50 or more, red below "
                 "(docs/readiness.md). Hover a bar for why.", svg)


def _people(rows: Sequence[PersonRow]) -> Chart:
    ordered = sorted(rows, key=lambda r: (-(r.ic_turns + r.ic_training), -r.drills, r.person))[:MAX_BARS]
    xmax = _nice(max((r.ic_turns + r.ic_training for r in ordered), default=1))
    svg, _ = _hbars("Incident-commander experience per person", [r.person for r in ordered],
                    [[(r.ic_turns, "#c0392b", f"{r.person}: incident commander in {r.ic_turns} live game day(s) or tabletop(s)"),
                      (r.ic_training, "#16a085", f"{r.person}: incident commander in {r.ic_training} training drill(s)")]
                     for r in ordered], xmax, [xmax * k / 4 for k in range(5)])
    more = len(rows) - len(ordered)
    return Chart("people", "Incident-commander experience", "Incident-commander turns per person: red in live game days "
                 "and tabletops, green in training" + (f"; {more} more in the table." if more else "."), svg)


def chart_svgs(report: TrendsReport) -> list[Chart]:
    """The page's charts, in order; a chart with nothing to show is left out."""
    charts = [_speed(report.overall)] if report.overall else []
    for mode in MODE_COLORS:
        rows = [r for r in report.series if r.mode == mode]
        if rows:
            charts.append(_scores(mode, rows))
    if report.frequency:
        charts.append(_frequency(report.frequency))
    if report.readiness:
        charts.append(_readiness(report.readiness))
    if any(p.ic_turns or p.ic_training for p in report.people):
        charts.append(_people(report.people))
    return charts
