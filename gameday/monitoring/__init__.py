"""Detection from real monitoring: Prometheus, Alertmanager and the drill's silences.

The drill-service seam (:mod:`gameday.services`) calls :func:`service_for`; it returns a
:class:`~gameday.monitoring.service.MonitoringService` when the scenario drills against
real Prometheus/Alertmanager (``monitoring.kind: prometheus``), asks for a silence of
non-drill alerts, or has PromQL checks to bind — else None (the demo's built-in stand-in
needs nothing from here).

Modules: :mod:`.config` (generated prometheus.yml / alertmanager.yml, silence matchers;
pure), :mod:`.stack` (the two binaries on loopback; Alertmanager's API), :mod:`.service`
(the drill service), :mod:`.keeper` (``gameday demo up --monitoring prometheus``).
The shipped alert rules live in ``gameday/monitoring/rules/`` (package data).
"""

from __future__ import annotations

from typing import Any


def prom_checks(sc) -> list[Any]:
    """The scenario's steady-state checks that are PromQL queries."""
    return [c for c in sc.steady_state if c.prometheus is not None]


def needs_service(sc) -> bool:
    """Whether the drill needs the monitoring service (decided without importing it)."""
    mon = sc.monitoring
    return mon.kind == "prometheus" or mon.silence_other_alerts or bool(prom_checks(sc))


def service_for(ctx: Any):
    """The drill's monitoring service, or None when the scenario needs none."""
    if not needs_service(ctx.scenario):
        return None
    from gameday.monitoring.service import MonitoringService

    return MonitoringService(ctx)
