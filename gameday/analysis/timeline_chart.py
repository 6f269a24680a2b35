"""The postmortem's timeline chart (PNG): the drill at a glance, one lane per thing that happened.

Not :mod:`gameday.analysis.timeline` (the postmortem's table of events): this is its picture.
Lanes, top to bottom: each fault from injection to rollback; each check's customer impact
(``ImpactStarted`` → ``ImpactEnded``) and the load generator's impact window; detection against
its deadline; each response step (its anchor → deadline as the allowed window, a marker when
it was done: on time, late, or a cross at the deadline when missed); recovery against its deadline.
The x axis is the journal's clock from drill start (``mm:ss``; a tabletop's scenario clock); a
time-scaled drill (``policy.scale`` below 1) has a second one at the top, on the incident clock.

A pure function of the journal and its scorecard (:func:`~gameday.analysis.scorecard.score_journal`):
no clock, no randomness; matplotlib (Agg) is imported lazily and the PNG carries no software
version (:func:`~gameday.analysis.charts.png_bytes`), so equal inputs give equal bytes on one machine.

* :func:`lanes` — what the chart draws, as plain values (testable without matplotlib).
* :func:`timeline_alt` — the chart in one sentence (alt text; unescaped).
* :func:`timeline_image` — the PNG bytes (:func:`timeline_figure`: the figure); :func:`render_timeline`
  writes ``timeline.png`` into a folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from gameday.analysis.clocks import incident_scale
from gameday.analysis.failures import fault_fates
from gameday.analysis.matching import first_injection, simulated_faults
from gameday.analysis.timeline import one_line
from gameday.journal import Journal
from gameday.model.duration import human
from gameday.model.events import DrillAborted, DrillStarted, ImpactEnded, ImpactStarted, PaceSet
from gameday.model.scorecard import Scorecard, headline
from gameday.model.textsafe import neutralise

__all__ = ["TIMELINE_FILE", "Lane", "lanes", "render_timeline", "timeline_alt", "timeline_figure", "timeline_image"]

TIMELINE_FILE = "timeline.png"
Style = Literal["fault", "fault_open", "impact", "impact_open", "load", "window"]
Mark = Literal["on_time", "late", "missed", "failed", "skipped"]
COLORS = {"fault": "#c0392b", "impact": "#8e44ad", "load": "#2980b9", "window": "#d6e4f0", "on_time": "#1e8449",
          "late": "#e67e22", "missed": "#c0392b", "failed": "#c0392b", "skipped": "#7f8c8d", "text": "#34495e"}
MARKERS = {"on_time": "o", "late": "D", "missed": "X", "failed": "X", "skipped": "s"}
_ANCHOR_NEVER = {"injection": "no fault was injected", "detection": "never detected", "recovery": "never recovered",
                 "start": "the drill never started"}


@dataclass(frozen=True)
class Lane:
    """One row of the chart: ``spans`` ``(from, to, style)``, an optional ``mark`` ``(t, kind)`` and a
    short ``note`` written beside them; ``group`` is fault, impact, detection, step or recovery."""

    group: str
    label: str
    spans: tuple[tuple[float, float, Style], ...] = ()
    mark: tuple[float, Mark] | None = None
    note: str = ""


def _text(value: object, limit: int) -> str:
    """Text from a scenario or the network, for the picture: one line, control characters shown, short."""
    return neutralise(one_line(value, limit), keep="")


def end_of(journal: Journal, card: Scorecard) -> float:
    """Where the drill ended: the scorecard's end, else the last event."""
    return card.end_t if card.end_t is not None else (journal.events[-1].t if journal.events else 0.0)


def _judged(group: str, label: str, start: float | None, deadline: float | None, done: float | None, verdict: str,
            never: str, not_applicable: str) -> Lane:
    """A lane judged against a deadline: the allowed window, then the done marker or the miss (a cross at the
    deadline, ``never`` beside it); ``not_applicable`` is the note when the verdict does not apply."""
    spans: tuple[tuple[float, float, Style], ...] = ((start, deadline, "window"),) if None not in (start, deadline) else ()  # type: ignore[assignment]
    if done is not None:
        if verdict != "late":
            return Lane(group, label, spans, (done, "on_time"))
        by = f" by {human(done - deadline)}" if deadline is not None and done > deadline else ": a gap between repeats too long"
        return Lane(group, label, spans, (done, "late"), "late" + by)  # done in time, yet late: a recurring step
    if verdict in ("missed", "silent", "never"):
        return Lane(group, label, spans, (deadline, "missed") if deadline is not None else None, never)
    return Lane(group, label, spans, None, not_applicable)


def lanes(journal: Journal, card: Scorecard) -> list[Lane]:
    """The chart's rows, top to bottom (see the module docstring); times on the journal's clock."""
    start = journal.first(DrillStarted)
    scenario = start.data.scenario if start is not None else None
    end = end_of(journal, card)
    out: list[Lane] = []
    for fate in fault_fates(journal.events, [f.id for f in scenario.faults] if scenario is not None else ()):
        label = f"fault {_text(fate.fault, 30)}"
        if fate.status == "injected" and fate.t is not None:
            closed = fate.rollback == "rolled_back" and fate.rollback_t is not None
            span: tuple[float, float, Style] = (fate.t, fate.rollback_t, "fault") if closed else (fate.t, end, "fault_open")  # type: ignore[assignment]
            note = "" if closed else {"rollback_failed": "rollback did not complete", "not_needed": "it has no rollback"}.get(
                fate.rollback, "no rollback recorded")
            out.append(Lane("fault", label, (span,), None, note))
        elif fate.status == "injection_failed" and fate.t is not None:
            out.append(Lane("fault", label, (), (fate.t, "failed"), "injection did not succeed"))
        elif fate.status == "skipped" and fate.t is not None:
            out.append(Lane("fault", label, (), (fate.t, "skipped"), "skipped"))
        else:
            out.append(Lane("fault", label, (), None, "not injected"))
    impact: dict[str, list[tuple[float, float, Style]]] = {}
    opened: dict[str, float] = {}
    for e in journal.of(ImpactStarted, ImpactEnded):
        check = getattr(e.data, "check", "") or "?"
        if isinstance(e.data, ImpactStarted) and check not in opened:
            opened[check] = e.t
            impact.setdefault(check, [])
        elif isinstance(e.data, ImpactEnded) and check in opened:
            impact[check].append((opened.pop(check), e.t, "impact"))
    for check, t in opened.items():
        impact[check].append((t, end, "impact_open"))
    for check, spans in impact.items():
        still = "still failing at drill end" if any(style == "impact_open" for _, _, style in spans) else ""
        out.append(Lane("impact", f"impact: {_text(check, 28)}", tuple(spans), None, still))
    during = card.impact.during if card.impact is not None else None
    if during is not None and during.from_t is not None and during.to_t is not None:
        out.append(Lane("impact", "impact window (load)", ((during.from_t, during.to_t, "load"),)))
    if not out or out[-1].group != "impact":
        out.append(Lane("impact", "customer impact", (), None, "none measured by the probes"))
    inj = first_injection(journal.events)
    det = card.detection
    if det.deadline_t is not None:  # else no fault went in: nothing to detect
        lane = _judged("detection", "detection", inj.t if inj else None, det.deadline_t, det.detected_t, det.verdict,
                       "silent: not detected", "not applicable: the probes saw no impact")
        if det.verdict == "silent" and det.deadline_t > end:  # the drill ended first: no cross at a deadline never reached
            lane = Lane(lane.group, lane.label, lane.spans, None, "not detected before the drill ended")
        out.append(lane)
    for s in card.steps:
        why = _ANCHOR_NEVER.get(s.anchor, f"step {_text(s.anchor, 30)} not done") if s.anchor_t is None else None
        out.append(_judged("step", f"step {_text(s.id, 30)}", s.anchor_t, s.deadline_t, s.done_t, s.verdict,
                           "missed: not done", f"not applicable: {why}" if why else "not due before the drill ended"))
    rec = card.recovery
    if rec.deadline_t is not None:
        lane = _judged("recovery", "recovery", inj.t if inj else None, rec.deadline_t, rec.recovered_t, rec.verdict,
                       "not recovered", "not applicable: the probes saw no impact")
        if rec.verdict == "never" and rec.deadline_t > end:  # not due yet when the drill ended: no cross at the deadline
            lane = Lane(lane.group, lane.label, lane.spans, None, "not recovered before the drill ended")
        out.append(lane)
    return out


def timeline_alt(journal: Journal, card: Scorecard) -> str:
    """The chart in one sentence, for alt text (unescaped: the templates escape it)."""
    rows = lanes(journal, card)
    windows = [r.label.removeprefix("fault ") for r in rows if r.group == "fault" and r.spans]
    others = [f"{r.label.removeprefix('fault ')} {r.note}" for r in rows if r.group == "fault" and not r.spans]
    steps = [r for r in rows if r.group == "step"]
    counts = {k: sum(1 for r in steps if r.mark is not None and r.mark[1] == k) for k in ("on_time", "late", "missed")}
    parts = ([f"fault windows ({', '.join(windows)})"] if windows else []) + [f"fault {x}" for x in others]
    parts.append("customer impact" if any(r.spans for r in rows if r.group == "impact") else "no customer impact measured")
    if any(r.group == "detection" for r in rows):
        parts.append("detection against its deadline")
    if steps:
        rest = len(steps) - sum(counts.values())
        parts.append(f"{len(steps)} response step{'s' if len(steps) != 1 else ''} against their deadlines "
                     f"({counts['on_time']} on time, {counts['late']} late, {counts['missed']} missed"
                     + (f", {rest} not applicable or not due)" if rest else ")"))
    if any(r.group == "recovery" for r in rows):
        parts.append("recovery against its deadline")
    return f"Timeline of drill {card.drill_id}: " + ", ".join(parts) + "."


def _clock(t: float, hours: bool) -> str:
    s = max(0, round(t))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if hours else f"{s // 60:02d}:{s % 60:02d}"


def _step(x_max: float) -> int:
    """Seconds between ticks: a round step giving at most ten ticks."""
    return next((s for s in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200)
                 if x_max / s <= 10), 86400 * (1 + int(x_max // 864000)))


def timeline_image(journal: Journal, card: Scorecard) -> bytes:
    """The timeline chart as PNG bytes (see the module docstring)."""
    from gameday.analysis.charts import png_bytes

    return png_bytes(timeline_figure(journal, card))


def timeline_figure(journal: Journal, card: Scorecard) -> Any:
    """The timeline chart as a matplotlib ``Figure`` (see the module docstring)."""
    from gameday.analysis.charts import new_figure

    rows = lanes(journal, card)
    end = end_of(journal, card)
    ts = [end] + [t for r in rows for a, b, _ in r.spans for t in (a, b) if t <= max(end, 1.0) * 1.25]
    x_max = max(max(ts + [r.mark[0] for r in rows if r.mark is not None]) * 1.04, 1.0)
    hours = x_max >= 3600
    n = len(rows)
    fig = new_figure(10, 4)  # sized and laid out below, by hand: constrained layout would cost more than the drawing
    ax = fig.add_subplot()
    used: set[str] = set()
    dues: dict[int, str] = {}
    for i, r in enumerate(rows):
        if i % 2 == 0:
            ax.axhspan(n - 1 - i - 0.5, n - 1 - i + 0.5, color="#f4f6f8", zorder=0, linewidth=0)
        lane_used, dues[n - 1 - i] = _draw_lane(ax, n - 1 - i, r, x_max, hours)
        used |= lane_used
        if i and r.group != rows[i - 1].group:
            ax.axhline(n - i - 0.5, color="#bdc3c7", linewidth=0.8, zorder=1)
    if any(b > end for r in rows for _, b, _ in r.spans):
        ax.axvspan(end, x_max, facecolor="#eceff1", edgecolor="#d5dbdf", hatch="..", linewidth=0, zorder=0.5)
        used.add("after")
    inj, aborted = first_injection(journal.events), journal.first(DrillAborted)
    simulated = simulated_faults(journal.events)
    lines = [(inj.t if inj else None, "#c0392b", "--", "first simulated fault began" if simulated else "first fault injected"),
             (aborted.t if aborted else None, "#2c3e50", "-.", "drill aborted"), (end, "#2c3e50", "-", "drill ended")]
    for t, color, style, _ in lines:
        if t is not None:
            ax.axvline(t, color=color, linestyle=style, linewidth=1.0, zorder=3)
    ax.set_yticks(range(n), [r.label for r in reversed(rows)], fontsize=8.5, parse_math=False)
    ax.set_ylim(-0.6, n - 0.4)
    for y, due in ((y, d) for y, d in dues.items() if d):  # deadlines past the chart's end, in the right margin
        ax.annotate(due, xy=(1, y), xycoords=("axes fraction", "data"), xytext=(4, 0), textcoords="offset points",
                    ha="left", va="center", fontsize=7.5, color=COLORS["text"], annotation_clip=False)
    step = _step(x_max)
    ticks = [k * step for k in range(int(x_max // step) + 1)]
    ax.set_xticks(ticks, [_clock(t, hours) for t in ticks], fontsize=8)
    ax.set_xlim(0, x_max)
    scale = incident_scale(journal.events)
    clock = "scenario clock" if journal.first(PaceSet) is not None else "drill clock" if scale is not None else "time"
    ax.set_xlabel(f"{clock} from drill start ({'h:mm:ss' if hours else 'mm:ss'})", fontsize=9)
    if scale is not None:
        _incident_axis(ax, x_max, scale)
    ax.grid(True, axis="x", alpha=0.3, zorder=0)
    ax.tick_params(axis="y", length=0)
    ax.spines[["top", "right", "left"]].set_visible(False)
    kind = {"tabletop": "Exercise", "training": "Training drill"}.get(card.mode, "Drill")
    ax.set_title(_text(f"{card.scenario_id} · drill {_text(card.drill_id, 50)} · {headline(card)}", 130), fontsize=8.5,
                 color="#5d6d7e", parse_math=False)
    handles = _legend(used, simulated, [(c, s, label) for t, c, s, label in lines if t is not None])
    # margins in inches, from the longest texts (DejaVu Sans: at most about 0.068 in a character at 8.5 pt)
    left = 0.25 + 0.068 * max(len(r.label) for r in rows)
    right = 0.2 + 0.055 * max((len(d) for d in dues.values()), default=0)
    bottom, top = 0.5 + 0.17 * -(-len(handles) // 4), 0.62 + (0.42 if scale is not None else 0.0)
    height = top + bottom + 0.4 * n
    fig.set_size_inches(10, height)
    fig.subplots_adjust(left=left / 10, right=1 - right / 10, bottom=bottom / height, top=1 - top / height)
    fig.suptitle(f"{kind} timeline: {_text(card.title, 64)}", fontsize=12, fontweight="bold", y=1 - 0.08 / height,
                 va="top", parse_math=False)
    fig.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 0.02 / height), ncol=4, fontsize=7.5,
               frameon=False)
    return fig


def _incident_axis(ax: Any, x_max: float, scale: float) -> Any:
    """A second x axis at the top on a time-scaled drill's incident clock (drill t ÷ scale), ticked like the first."""
    top = x_max / scale
    hours = top >= 3600
    step = _step(top)
    sec = ax.secondary_xaxis("top", functions=(lambda t: t / scale, lambda x: x * scale))
    ticks = [k * step for k in range(int(top // step) + 1)]
    sec.set_ticks(ticks, [_clock(t, hours) for t in ticks], fontsize=8)
    sec.set_xlabel(f"incident clock ({'h:mm:ss' if hours else 'mm:ss'}; 1 s of this drill stands for {1 / scale:.3g} s)",
                   fontsize=9)
    return sec


def _draw_lane(ax: Any, y: float, lane: Lane, x_max: float, hours: bool) -> tuple[set[str], str]:
    """Draw one lane at height ``y``; return the legend entries it used and its deadline past the chart's end."""
    used: set[str] = set()
    right, due = 0.0, ""
    for a, b, style in lane.spans:
        shown, kind = min(b, x_max), style.removesuffix("_open")
        if style == "window":
            ax.broken_barh([(a, shown - a)], (y - 0.22, 0.44), facecolor=COLORS["window"], edgecolor="#7fa7c9",
                           linewidth=0.8, zorder=1)
        else:
            ax.broken_barh([(a, shown - a)], (y - 0.3, 0.6), facecolor=COLORS[kind], alpha=0.5 if kind == "load" else 0.85,
                           hatch="//" if style != kind else None, edgecolor="white", linewidth=0, zorder=2)
        used |= {kind, "open"} if style != kind else {kind}
        if b > x_max:
            due = f"due {_clock(b, hours)} ›"
        right = max(right, shown)
    if lane.mark is not None:
        t, mark = lane.mark
        deadline = next((b for _, b, style in lane.spans if style == "window"), None)
        if mark == "late" and deadline is not None and t > deadline:  # how late, as a line from the deadline
            ax.plot([deadline, t], [y, y], color=COLORS["late"], linewidth=2, solid_capstyle="butt", zorder=4)
        ax.plot([t], [y], marker=MARKERS[mark], color=COLORS[mark], markersize=10 if mark == "missed" else 8,
                markeredgecolor="white", markeredgewidth=0.8, linestyle="none", zorder=7)
        used.add(mark)
        right = max(right, t)
    if lane.note:
        kind = lane.mark[1] if lane.mark is not None else ""
        color = COLORS[kind] if kind in ("late", "missed", "failed") else COLORS["text"]
        inside = right > x_max * 0.62  # no room on the right: end the text at the lane's last element
        ax.annotate(lane.note, xy=(right, y), xytext=(-9 if inside else 9, 0), textcoords="offset points",
                    ha="right" if inside else "left", va="center", fontsize=8, color=color, zorder=6, parse_math=False,
                    bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.85})
    return used, due


def _legend(used: set[str], simulated: bool, lines: list[tuple[str, Any, str]]) -> list[Any]:
    """Legend entries for what the chart shows, in a fixed order; ``lines``: the vertical lines' (colour, style, label)."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    patches = {"fault": Patch(facecolor=COLORS["fault"], alpha=0.85, label="fault simulated (began → ended)" if simulated
                              else "fault active (injected → rolled back)"),
               "impact": Patch(facecolor=COLORS["impact"], alpha=0.85, label="customer impact (failing check)"),
               "load": Patch(facecolor=COLORS["load"], alpha=0.5, label="impact window (load generator)"),
               "open": Patch(facecolor="white", edgecolor="#7f8c8d", hatch="//", label="still open at drill end"),
               "window": Patch(facecolor=COLORS["window"], edgecolor="#7fa7c9", label="allowed window (anchor → deadline)"),
               "after": Patch(facecolor="#eceff1", edgecolor="#d5dbdf", hatch="..", label="after the drill ended")}
    marks = {"on_time": "done on time", "late": "done late", "missed": "missed (at its deadline)",
             "failed": "injection did not succeed", "skipped": "fault skipped"}
    out: list[Any] = [patch for key, patch in patches.items() if key in used]
    out += [Line2D([], [], marker=MARKERS[k], color=COLORS[k], markeredgecolor="white", linestyle="none", markersize=7,
                   label=label) for k, label in marks.items() if k in used]
    return out + [Line2D([], [], color=c, linestyle=s, linewidth=1.0, label=label) for c, s, label in lines]


def render_timeline(journal: Journal, card: Scorecard, out_dir: Path) -> Path:
    """Write the chart as ``timeline.png`` into ``out_dir`` (created if needed, written atomically); return its path.
    Raises :class:`~gameday.errors.ConfigError` naming the file when it cannot be written."""
    from gameday.fsutil import atomic_write

    path = Path(out_dir) / TIMELINE_FILE
    atomic_write(path, timeline_image(journal, card))
    return path

