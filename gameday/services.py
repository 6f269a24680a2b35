"""Drill services: parts that run beside the conductor for the length of a drill.

Load generation, real monitoring, the control room — each is a feature module with a
``service_for(ctx) -> DrillService | None`` function; the runner starts the services
after the conductor exists (before it runs) and stops them, in reverse order, when the
drill is over, whatever happened. A service journals through ``ctx.journal`` and reacts
to phases through ``ctx.conductor.phase_listeners``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol


@dataclass
class DrillContext:
    """Everything a service may need about the drill being run."""

    scenario: Any  # Scenario
    loaded: Any  # LoadedScenario
    project: Any  # Project
    mode: str
    drill_id: str
    state_dir: Path
    target_url: str | None
    target: Any  # runner.TargetInfo
    conductor: Any = None  # Conductor
    journal: Any = None  # JournalWriter
    options: dict[str, Any] = field(default_factory=dict)  # CLI options (host, port, ...)
    echo: Any = print


class DrillService(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None: ...


#: Feature modules consulted in order; each decides from the context whether it applies.
FEATURES = ("gameday.load", "gameday.monitoring", "gameday.web.controlroom", "gameday.notify")


def build_services(ctx: DrillContext) -> list[DrillService]:
    services = []
    for name in FEATURES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # the feature is not part of this build
                continue
            raise
        service = module.service_for(ctx)
        if service is not None:
            services.append(service)
    return services
