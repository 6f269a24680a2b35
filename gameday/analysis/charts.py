"""Charts of a drill with load: request rate, error rate and p95 latency over time (PNG).

Pure functions of a journal (matplotlib with the Agg backend, imported lazily; no clock,
no randomness; PNG metadata without a software version, so equal journals give equal
bytes on one machine). Each value is drawn from where it was measured, the end of its stats
interval, until the next measurement (never before what it counts). Each chart has vertical
markers for the first injection, the detection, each response action and the recovery (their
labels laid out in rows so that none overlaps another: :func:`label_rows`), a shaded impact
window, and hatched stretches where the load generator was not running (impact unknown); its
x axis spans all of them and the journal's end. A time-scaled drill's charts (``policy.scale`` below
1) have a second x axis at the top, on the incident clock (:func:`incident_axis`).

* :func:`chart_images` — ``[(file name, title, PNG bytes)]``; ``[]`` without stats (:func:`chart_figures`:
  the figures).
* :func:`render_charts` — writes them into a folder (beside ``postmortem.html``).
* :func:`new_figure`, :func:`png_bytes` — the figure and PNG conventions every chart shares
  (also :mod:`gameday.analysis.timeline_chart`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gameday.analysis.clocks import incident_scale
from gameday.analysis.impact import business_of, intervals, percentile, unknown_spans
from gameday.analysis.impact_windows import add_hist, request_counts
from gameday.analysis.matching import first_detection, first_injection, first_recovery
from gameday.journal import Journal
from gameday.model.events import ActionRecorded

CHARTS = (
    ("load-requests.png", "Request rate"),
    ("load-errors.png", "Error rate"),
    ("load-latency.png", "p95 latency"),
)
MARKER_COLORS = {"injection": "#c0392b", "detection": "#e67e22", "action": "#7f8c8d", "recovery": "#27ae60"}


def markers(journal: Journal) -> list[tuple[float, str, str]]:
    """``(t, kind, label)`` of the vertical markers: injection, detection, each action, recovery."""
    out: list[tuple[float, str, str]] = []
    inj = first_injection(journal.events)
    if inj is not None:
        out.append((inj.t, "injection", f"injected {inj.data.fault}".strip()))
    det = first_detection(journal.events, inj, people_count=True)  # any detection: a marker, not a verdict
    if det is not None:
        out.append((det.t, "detection", "detected"))
    for e in journal.of(ActionRecorded):
        action = e.data.action
        if action == "runbook_finished":
            continue
        label = f"{action} {e.data.runbook or ''}".strip().replace("_", " ")
        out.append((e.t, "action", label))
    rec = first_recovery(journal.events, inj)
    if rec is not None:
        out.append((rec.t, "recovery", "recovered"))
    return out


def series(journal: Journal) -> dict[str, Any]:
    """Per-interval series: t (interval ends; t0 the first start), requests/s, failures/s, error %,
    customer-facing error %, p95 ms."""
    items = intervals(journal.events)
    business = business_of(journal)
    facing = set(business.customer_facing) if business is not None else set()
    out: dict[str, Any] = {"t": [], "rps": [], "fps": [], "err": [], "cf_err": [], "p95": []}
    for iv in items:
        dt = iv.dt or 1.0
        req, fail = request_counts(iv, None)
        cf_req, cf_fail = request_counts(iv, facing or None)
        hist: Counter[float] = Counter()
        for f in iv.names.values():
            add_hist(hist, f)
        out["t"].append(iv.t_to)
        out["rps"].append(req / dt)
        out["fps"].append(fail / dt)
        out["err"].append(100 * fail / req if req else None)
        out["cf_err"].append(100 * cf_fail / cf_req if cf_req else None)
        out["p95"].append(percentile(hist, 0.95))
    out["facing"] = sorted(facing)
    out["t0"] = items[0].t_from if items else 0.0
    return out


def chart_images(journal: Journal) -> list[tuple[str, str, bytes]]:
    """The three charts as PNG bytes: ``[(file name, title, bytes)]``; ``[]`` when no stats were journaled."""
    return [(name, title, png_bytes(fig)) for name, title, fig in chart_figures(journal)]


def chart_figures(journal: Journal) -> list[tuple[str, str, Any]]:
    """The three charts as matplotlib figures: ``[(file name, title, Figure)]``; ``[]`` without stats."""
    data = series(journal)
    if not data["t"]:
        return []
    marks = markers(journal)
    scale = incident_scale(journal.events)
    unknown = [(s.from_t, s.to_t if s.to_t is not None else max(journal.events[-1].t, s.from_t))
               for s in unknown_spans(journal.events, intervals(journal.events))]
    inj = next((t for t, kind, _ in marks if kind == "injection"), None)
    rec = next((t for t, kind, _ in marks if kind == "recovery"), None)
    window = (inj, rec if rec is not None else data["t"][-1]) if inj is not None else None
    cf_label = "customer-facing (" + ", ".join(data["facing"]) + ")" if data["facing"] else None
    plots = {
        "load-requests.png": ([("requests/s", data["rps"], "#2c3e50"), ("failures/s", data["fps"], "#c0392b")], "per second"),
        "load-errors.png": ([("all requests", data["err"], "#c0392b")]
                            + ([(cf_label, data["cf_err"], "#8e44ad")] if cf_label else []), "% failed"),
        "load-latency.png": ([("p95, all requests", data["p95"], "#2980b9")], "milliseconds"),
    }
    out = []
    for name, title in CHARTS:
        lines, ylabel = plots[name]
        fig = new_figure(9, 3.2)
        ax = fig.add_subplot()
        edges = [*(t for t, _, _ in marks), *(t for span in unknown for t in span), *(window or ())]
        x0 = min([data["t0"], *edges])
        x1 = max([data["t"][-1], journal.events[-1].t, *edges])
        span = max(x1 - x0, 1e-3)
        ax.set_xlim(x0 - span * 0.01, x1 + span * 0.01)
        _decorate(ax, marks, window, unknown, (x0 - span * 0.01, x1 + span * 0.01))
        for label, values, color in lines:
            # each value from where it was measured, the end of its stats interval, until the next one: never
            # before what it counts (drawn from the interval's start, or joined to the value before by a
            # slope, errors after an injection showed up before it)
            ys = [float("nan") if v is None else v for v in values]
            ax.step(data["t"], ys, where="post", label=label, color=color, linewidth=1.6)
            ax.plot(data["t"], ys, linestyle="none", marker=".", markersize=3, color=color)
        ax.set_title(f"{title} over the drill")
        ax.set_xlabel("seconds from drill start" + (" (drill clock)" if scale else ""))
        if scale:
            incident_axis(ax, scale)
        ax.set_ylabel(ylabel)
        ax.set_ylim(bottom=0)
        ax.grid(True, alpha=0.25)
        ax.legend(loc="upper left", fontsize=8, framealpha=0.85)
        fig.tight_layout()
        out.append((name, title, fig))
    return out


def incident_axis(ax: Any, scale: float, seconds: float = 60.0, unit: str = "minutes") -> Any:
    """A second x axis at the top of ``ax`` (drill seconds from drill start) on the incident clock of a
    time-scaled drill: ``t ÷ scale``, in ``unit`` of ``seconds`` each (minutes by default)."""
    factor = 1 / (scale * seconds)
    sec = ax.secondary_xaxis("top", functions=(lambda t: t * factor, lambda x: x / factor))
    sec.set_xlabel(f"{unit} on the incident clock (1 s of this drill stands for {1 / scale:.3g} s)", fontsize=8)
    sec.tick_params(labelsize=8)
    return sec


def new_figure(width: float, height: float, **kwargs: Any) -> Any:
    """A matplotlib ``Figure`` (inches, 100 dpi) on the Agg backend, imported here, lazily (no pyplot:
    no global figure state). ``kwargs`` go to ``Figure`` (``layout="constrained"``...).

    Text is drawn literally: ``$`` in a runbook's, a check's or a person's name is a dollar sign, never
    the start of mathtext (which would draw something else, or fail to save the figure)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    matplotlib.rcParams["text.parse_math"] = False
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, **kwargs)


def png_bytes(fig: Any) -> bytes:
    """The figure as PNG bytes, its metadata without a software version: equal figures, equal bytes on one machine."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


#: The annotation font (points) and the share of the figure's width the axes take, for laying labels out.
LABEL_PT, AXES_SHARE = 7.0, 0.86


def label_rows(marks: Sequence[tuple[float, str, str]], xlim: tuple[float, float], width_pt: float,
               font_pt: float = LABEL_PT) -> list[int]:
    """A row for each marker's label (in ``sorted(marks)`` order), so that no two labels of a row overlap:
    each goes to the first row whose last label ends before it starts (widths estimated from the font).
    Markers close together get rows of their own instead of writing over each other."""
    per_pt = width_pt / max(xlim[1] - xlim[0], 1e-9)
    ends: list[float] = []  # the right edge (points) of each row's last label
    rows = []
    for t, _, label in sorted(marks):
        left = (t - xlim[0]) * per_pt + 2  # the annotation's 2 pt offset
        right = left + len(label) * font_pt * 0.6 + 4
        row = next((r for r, end in enumerate(ends) if end <= left), len(ends))
        if row == len(ends):
            ends.append(right)
        else:
            ends[row] = right
        rows.append(row)
    return rows


def _decorate(ax: Any, marks: Sequence[tuple[float, str, str]], window: tuple[float, float] | None,
              unknown: Sequence[tuple[float, float]], xlim: tuple[float, float]) -> None:
    if window is not None:
        ax.axvspan(window[0], window[1], color="#c0392b", alpha=0.07, label="impact window")
    for a, b in unknown:
        ax.axvspan(a, b, facecolor="none", edgecolor="#7f8c8d", hatch="//", linewidth=0, label="load not running")
    width_pt = ax.figure.get_figwidth() * 72 * AXES_SHARE
    for (t, kind, label), row in zip(sorted(marks), label_rows(marks, xlim, width_pt), strict=True):
        ax.axvline(t, color=MARKER_COLORS[kind], linestyle="-" if kind != "action" else ":", linewidth=1.2)
        ax.annotate(label, xy=(t, 1), xycoords=("data", "axes fraction"), xytext=(2, -10 - 9 * row),
                    textcoords="offset points", fontsize=LABEL_PT, color=MARKER_COLORS[kind], rotation=0)


def render_charts(journal: Journal, out_dir: Path) -> list[Path]:
    """Write the charts as PNG files into ``out_dir`` (created if needed); return their paths ([] without load)."""
    images = chart_images(journal)
    if not images:
        return []
    from gameday.fsutil import atomic_write

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, _title, data in images:
        path = out_dir / name
        atomic_write(path, data)
        paths.append(path)
    return paths
