"""A dashboard panel attachment drawn as a chart (SVG), as the players see it when its inject is published.

The series are the inject's own (``panel.series``: points on the scenario clock) or the ones its
fault's simulated shadow implies (:func:`gameday.sim.shadow.implied_series`, from the journal);
either way only what is known up to ``until`` (the inject's publication) is drawn: a panel never
shows the future.

Pure and deterministic: the same scenario, inject, events and ``until`` give the same bytes
(matplotlib with the Agg backend, imported lazily, the object API rather than pyplot; the SVG's
ids are salted with a constant and it carries no date). Text in it (the title, series names, the
unit) is people's text: matplotlib escapes it as XML character data.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from gameday.model.events import Event, Payload
from gameday.model.exercise import Inject, Series
from gameday.model.scenario import Scenario
from gameday.model.terms import format_offset
from gameday.sim.shadow import implied_series

#: What the SVG's ids are salted with (matplotlib would use a random salt: different bytes each time).
HASH_SALT = "gameday-panel"
COLORS = ("#2456c9", "#c0392b", "#067647", "#b54708", "#7f56d9", "#667085")


class NoPanel(ValueError):
    """The inject has no dashboard panel attachment."""


def panel_series(scenario: Scenario, inject: Inject, events: Sequence[Event[Payload]], until: float) -> list[Series]:
    """The lines of ``inject``'s panel as known at scenario time ``until`` (points after it are left out)."""
    panel = inject.panel
    if panel is None:
        raise NoPanel(f"inject {inject.id} has no dashboard panel")
    if panel.fault is not None:
        return implied_series(scenario, panel.fault, events, until)
    out: list[Series] = []
    for s in panel.series or []:
        points = [(t, v) for t, v in s.points if t <= until]
        later = next(((t, v) for t, v in s.points if t > until), None)
        if points and later is not None and points[-1][0] < until:  # the line as far as ``until``, no further
            (t0, v0), (t1, v1) = points[-1], later
            points.append((until, v0 + (v1 - v0) * (until - t0) / (t1 - t0)))
        if points:  # a line with nothing known yet is not drawn
            out.append(s.model_copy(update={"points": points}))  # validated points, fewer of them
    return out


def render_panel(scenario: Scenario, inject: Inject, events: Sequence[Event[Payload]], until: float) -> str:
    """The panel of ``inject`` at scenario time ``until`` as SVG text (see the module)."""
    series = panel_series(scenario, inject, events, until)
    assert inject.panel is not None  # panel_series refused otherwise
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    end = max(until, max((t for s in series for t, _ in s.points), default=0.0), 1.0)
    with matplotlib.rc_context({"svg.hashsalt": HASH_SALT, "svg.fonttype": "none", "font.size": 9}):
        fig = Figure(figsize=(6.4, 2.6), dpi=100)
        ax = fig.add_subplot(1, 1, 1)
        for n, s in enumerate(series):
            xs = [t for t, _ in s.points]
            ys = [v for _, v in s.points]
            ax.plot(xs, ys, label=s.name, color=COLORS[n % len(COLORS)], linewidth=1.8)
        ax.set_xlim(0.0, end)
        ax.set_title(inject.panel.title, loc="left", fontsize=10)
        if inject.panel.unit:
            ax.set_ylabel(inject.panel.unit)
        ax.set_xlabel("scenario time")
        ax.xaxis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 3, 5, 6, 10]))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda t, _pos: format_offset(float(t))))
        ax.grid(True, color="#dde1e7", linewidth=0.6)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        if series:
            ax.legend(loc="lower left", fontsize=8, frameon=False)
        fig.tight_layout()
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None})
    return buf.getvalue()
