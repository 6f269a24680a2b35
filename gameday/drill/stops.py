"""Stop conditions (``abort.when``): while a fault is in, a condition that holds for its ``for`` aborts the
drill and rolls every fault back, the reading that triggered it journaled first (``StopConditionMet``) —
AWS FIS's stop conditions, Chaos Mesh's ``abortWithStatusCheck``, Gremlin's halt, driven by the drill's own
measurements.

Two sources feed it: the conductor's probe rounds (:meth:`StopWatch.observations`: a ``check`` condition
holds while that steady-state check fails) and the journal's ``LoadStats`` (:meth:`StopWatch.on_event`, a
journal listener: ``error_rate`` per stats interval, ``failed_requests`` counted since the first injection).
It decides, and hands the decision back through two callbacks: ``emit`` journals the event, ``abort`` asks
the drill to stop. It takes no lock of the conductor's (the journal listener runs under the journal's).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence

from gameday.model.abort import StopCondition
from gameday.model.events import Event, LoadStats, Payload, StopConditionMet
from gameday.model.terms import format_offset
from gameday.ports import Observation


class StopWatch:
    """Watches ``conditions`` (see the module). ``active()``: a fault is in (conditions hold only then);
    ``injected_t()``: the first injection's offset (None before); ``emit(payload, t)`` journals at offset ``t``;
    ``abort(reason)`` stops the drill. Thread-safe; fires once."""

    def __init__(self, conditions: Sequence[StopCondition], *, active: Callable[[], bool],
                 injected_t: Callable[[], float | None], emit: Callable[[StopConditionMet, float], object],
                 abort: Callable[[str], None]):
        self.conditions = list(conditions)
        self._active, self._injected_t, self._emit, self._abort = active, injected_t, emit, abort
        self._lock = threading.Lock()
        self._since: dict[int, float] = {}
        self._failed = 0
        self.met: StopConditionMet | None = None

    # ------------------------------------------------------------------ sources
    def observations(self, observations: Iterable[tuple[Observation, float]]) -> None:
        """One probe round: each observation with its drill offset."""
        if not self._active():
            return
        for obs, t in observations:
            for i, cond in enumerate(self.conditions):
                if cond.check != obs.check:
                    continue
                if obs.ok:
                    with self._lock:
                        self._since.pop(i, None)
                    continue
                since = self._hold(i, t)
                if t - since >= cond.for_ - 1e-9:
                    reading = (f"{obs.check}: {obs.detail}, failing since {format_offset(since)}" if obs.detail
                               else f"{obs.check} failing since {format_offset(since)}")
                    self._fire(i, cond, reading, None, None, since, t)

    def on_event(self, event: Event[Payload]) -> None:
        """A journal listener: each ``LoadStats`` interval."""
        stats = event.data
        if not isinstance(stats, LoadStats) or not self._active():
            return
        injected = self._injected_t()
        if injected is None or stats.t_to <= injected:
            return
        for i, cond in enumerate(self.conditions):
            if cond.impact == "error_rate" and stats.total.requests:
                rate = stats.total.failures / stats.total.requests
                if rate > (cond.above or 0.0):
                    since = self._hold(i, stats.t_from)
                    if stats.t_to - since >= cond.for_ - 1e-9:
                        reading = (f"{rate * 100:.1f}% of requests failed ({stats.total.failures} of "
                                   f"{stats.total.requests}) in {format_offset(stats.t_from)}..{format_offset(stats.t_to)}")
                        self._fire(i, cond, reading, round(rate, 6), cond.above, since, stats.t_to)
                else:
                    with self._lock:
                        self._since.pop(i, None)
            elif cond.impact == "failed_requests":
                with self._lock:
                    self._failed += stats.total.failures if i == self._first_counting() else 0
                    failed = self._failed
                if failed > (cond.above or 0.0):
                    reading = f"{failed} requests failed since the first injection (by {format_offset(stats.t_to)})"
                    self._fire(i, cond, reading, float(failed), cond.above, injected, stats.t_to)

    # ------------------------------------------------------------------ deciding
    def _first_counting(self) -> int:
        """The index of the first failed_requests condition (the count is shared: added once per interval)."""
        return next(i for i, c in enumerate(self.conditions) if c.impact == "failed_requests")

    def _hold(self, i: int, t: float) -> float:
        with self._lock:
            return self._since.setdefault(i, t)

    def _fire(self, i: int, cond: StopCondition, reading: str, value: float | None, threshold: float | None,
              since: float, t: float) -> None:
        with self._lock:
            if self.met is not None:
                return
            self.met = StopConditionMet(condition=i, what=cond.describe(), reading=reading, value=value,
                                        threshold=threshold, since_t=round(since, 6))
        self._emit(self.met, t)
        self._abort(f"stop condition: {cond.describe()} ({reading})")
