"""Detection from real monitoring: Prometheus, Alertmanager and the drill's silences.

The composition root (:mod:`gameday.drill.assemble`) calls :func:`service_for`; it returns a
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

from typing import TYPE_CHECKING

from gameday.monitoring.config import needs_service

if TYPE_CHECKING:
    from gameday.drill.context import DrillContext
    from gameday.monitoring.service import MonitoringService


def service_for(ctx: DrillContext) -> MonitoringService | None:
    """The drill's monitoring service, or None when the scenario needs none (decided without importing it)."""
    if not needs_service(ctx.scenario):
        return None
    from gameday.monitoring.service import MonitoringService

    return MonitoringService(ctx)
