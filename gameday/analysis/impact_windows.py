"""The load generator's stats intervals and the figures of a window over them (pure, plain Python).

Moved out of :mod:`gameday.analysis.impact`, which defines the windows (baseline, impact,
unknown; see its docstring) and assembles the :class:`~gameday.model.scorecard.ImpactResult`
from these pieces. Every name here is also importable from there, as before.

* :func:`intervals` — the journal's ``LoadStats`` events as :class:`Interval` objects;
  :func:`load_frame` the same as a pandas table, for trends and notebooks (pandas is
  imported inside it, never at import).
* :func:`unknown_spans`, :func:`load_end`, :func:`baseline_intervals` — where the windows lie.
* :func:`window`, :func:`percentile`, :func:`request_counts`, :func:`peak_rate`,
  :func:`degraded_seconds`, :func:`successes` — the figures of a window: requests,
  failures, exact percentiles of the merged response-time histograms, the worst interval,
  degraded seconds.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gameday.model.events import Event, Figures, LoadFailed, LoadStarted, LoadStats, LoadStopped, Payload
from gameday.model.scorecard import LoadWindow, RequestFigures, UnknownSpan

if TYPE_CHECKING:
    import pandas as pd

EPS = 1e-6


@dataclass(frozen=True)
class Interval:
    """One ``LoadStats`` event."""

    seq: int
    t_from: float
    t_to: float
    users_from: int
    users: int
    names: dict[str, Figures] = field(default_factory=dict)

    @property
    def dt(self) -> float:
        return max(0.0, self.t_to - self.t_from)

    @property
    def user_seconds(self) -> float:
        return (self.users_from + self.users) / 2 * self.dt


def intervals(events: Iterable[Event[Payload]]) -> list[Interval]:
    """The journal's stats intervals, in order."""
    return [Interval(e.seq, e.data.t_from, e.data.t_to, e.data.users_from, e.data.users, dict(e.data.names))
            for e in events if isinstance(e.data, LoadStats)]  # fmt: skip


def load_frame(items: Sequence[Interval]) -> pd.DataFrame:
    """A pandas DataFrame, one row per (interval, request name): seq, t_from, t_to, dt, user_s, name, requests, failures.

    For trends and notebooks across journals. The scorecard itself does not use it: its
    windows are a few hundred intervals, and :func:`~gameday.analysis.impact.measure_impact`
    also runs inside a live drill (stakeholder updates), where importing pandas would stall
    the conductor's threads.
    """
    import pandas as pd

    rows = [(iv.seq, iv.t_from, iv.t_to, iv.dt, iv.user_seconds, name, f.requests, f.failures)
            for iv in items for name, f in sorted(iv.names.items())]
    return pd.DataFrame(rows, columns=["seq", "t_from", "t_to", "dt", "user_s", "name", "requests", "failures"])


def overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    """Seconds that ``[a0, a1]`` and ``[b0, b1]`` share."""
    return max(0.0, min(a1, b1) - max(a0, b0))


def load_end(events: Sequence[Event[Payload]], items: Sequence[Interval]) -> float:
    """When the load stopped: LoadStopped/LoadFailed, else the last interval, else the drill's end."""
    stop = next((e.t for e in reversed(events) if isinstance(e.data, (LoadStopped, LoadFailed))), None)
    last = items[-1].t_to if items else None
    ends = [t for t in (stop, last) if t is not None]
    return max(ends) if ends else events[-1].t


def unknown_spans(events: Sequence[Event[Payload]], items: Sequence[Interval]) -> list[UnknownSpan]:
    """LoadFailed → the next LoadStarted (or the end), from the last interval before the failure."""
    spans: list[UnknownSpan] = []
    last_to: float | None = None
    started_t: float | None = None
    open_span: UnknownSpan | None = None
    for e in events:
        d = e.data
        if isinstance(d, LoadStats):
            last_to = d.t_to
        elif isinstance(d, LoadStarted):
            if open_span is not None:
                spans.append(open_span.model_copy(update={"to_t": round(e.t, 3)}))
                open_span = None
            started_t, last_to = e.t, None
        elif isinstance(d, LoadFailed) and open_span is None:
            begin = last_to if last_to is not None else (started_t if started_t is not None else e.t)
            reason = d.error or "the load generator failed"
            open_span = UnknownSpan(from_t=round(min(begin, e.t), 3), to_t=None, reason=reason, seq=e.seq)
    if open_span is not None:
        spans.append(open_span)
    return spans


def baseline_intervals(items: Sequence[Interval], injection_t: float | None) -> list[Interval]:
    """The baseline window's intervals: before the injection, after the ramp-up (see :mod:`gameday.analysis.impact`)."""
    before = [iv for iv in items if injection_t is None or iv.t_to <= injection_t + EPS]
    if not before:
        return []
    top = max(iv.users for iv in before)
    steady = [iv for iv in before if iv.users_from == top and iv.users == top and top > 0]
    return steady or before


def _hist(items: Iterable[Interval], names: set[str] | None) -> tuple[int, int, Counter[float]]:
    req, fail, hist = 0, 0, Counter[float]()
    for iv in items:
        for name, f in iv.names.items():
            if names is not None and name not in names:
                continue
            req += f.requests
            fail += f.failures
            add_hist(hist, f)
    return req, fail, hist


def add_hist(hist: Counter[float], figures: Figures) -> None:
    """Add one interval's response-time histogram (``{"12": 3}``: 3 responses of 12 ms) to ``hist``;
    a key that is not a number is skipped."""
    for k, v in (figures.hist or {}).items():
        try:
            hist[float(k)] += v
        except ValueError:
            continue


def percentile(hist: Counter[float], p: float) -> float | None:
    """Nearest-rank percentile (0 < p ≤ 1) of a {milliseconds: count} histogram."""
    count = sum(hist.values())
    if count <= 0:
        return None
    rank, seen = max(1, math.ceil(round(p * count, 9))), 0
    for value in sorted(hist):
        seen += hist[value]
        if seen >= rank:
            return value
    return max(hist)


def _figures(name: str, items: Sequence[Interval], names: set[str] | None) -> RequestFigures:
    req, fail, hist = _hist(items, names)
    return RequestFigures(name=name, requests=req, failures=fail, failure_rate=round(fail / req, 4) if req else None,
                          p50_ms=percentile(hist, 0.50), p95_ms=percentile(hist, 0.95), p99_ms=percentile(hist, 0.99))


def window(items: Sequence[Interval], cf: set[str], from_t: float | None, to_t: float | None) -> LoadWindow:
    """The figures of a window (all requests, customer-facing ``cf``, each name); bounds default to the intervals'."""
    names = sorted({n for iv in items for n in iv.names})
    return LoadWindow(
        from_t=round(from_t if from_t is not None else items[0].t_from, 3),
        to_t=round(to_t if to_t is not None else items[-1].t_to, 3),
        intervals=len(items), seconds=round(sum(iv.dt for iv in items), 3),
        total=_figures("all requests", items, None), customer_facing=_figures("customer-facing", items, cf),
        by_name=[_figures(n, items, {n}) for n in names],
    )  # fmt: skip


def request_counts(iv: Interval, names: set[str] | None) -> tuple[int, int]:
    """(requests, failures) of one interval, over ``names`` (None: every request)."""
    rows = [f for n, f in iv.names.items() if names is None or n in names]
    return sum(f.requests for f in rows), sum(f.failures for f in rows)


def peak_rate(items: Sequence[Interval], counts: dict[int, tuple[int, int]]) -> tuple[float | None, float | None]:
    """(t, rate) of the interval with the highest failures / requests (first of equals)."""
    best: tuple[float | None, float | None] = (None, None)
    for iv in items:
        req, fail = counts[iv.seq]
        if req <= 0:
            continue
        rate = round(fail / req, 4)
        if best[1] is None or rate > best[1]:
            best = (round(iv.t_to, 3), rate)
    return best


def degraded_seconds(items: Sequence[Interval], totals: dict[int, tuple[int, int]], cf_totals: dict[int, tuple[int, int]],
                     base_rate: float | None, threshold: float, w0: float, w1: float) -> float | None:
    """Degraded seconds of the window ``[w0, w1]``; None without a baseline failure rate to compare with."""
    if base_rate is None:
        return None
    seconds = 0.0
    for iv in items:
        req, _ = totals[iv.seq]
        cf_req, cf_fail = cf_totals[iv.seq]
        silent = req == 0 and max(iv.users_from, iv.users) > 0
        if silent or (cf_req > 0 and cf_fail / cf_req > base_rate + threshold + EPS):
            seconds += overlap(iv.t_from, iv.t_to, w0, w1)
    return seconds


def successes(items: Iterable[Interval], cf: set[str]) -> int:
    """Requests answered without failure, over the request names ``cf``."""
    req, fail, _ = _hist(items, cf)
    return req - fail
