"""Scenario texts the unit tests share (imported by name: pytest puts this folder on the path).

:func:`process_scenario` is the smallest complete scenario of a target of our own: one process fault,
one step, one runbook that restarts the process; a test adds the sections it is about (a simulation,
a training section) to it.
"""

from __future__ import annotations

from typing import Any

#: A simulation for :func:`process_scenario`: the worker breaks on the fault and restarts on the runbook;
#: a test adds the transition out of ``restarting`` it is about.
SIMULATION_HEAD = """\
simulation:
  initial: healthy
  states:
    healthy: {impact: false}
    broken: {severity: SEV2}
    restarting: {}
    recovered: {impact: false, recovered: true}
  transitions:
    - {from: healthy, to: broken, when: {fault: stop-worker}}
    - {from: broken, to: restarting, when: {runbook: restart}}
"""

#: The smallest scenario as data (a fault with nothing to undo): the training program tests build drills on it.
BASE_DATA: dict[str, Any] = {
    "apiVersion": "gameday/v1", "title": "A drill", "severity": "SEV3",
    "steady_state": [{"http": {"url": "{target.url}/health"}}],
    "faults": [{"id": "f", "at": "10s", "rollback": {"none": "nothing to undo"},
                "activities": [{"type": "action", "name": "x", "provider": {"type": "process", "path": "true"}}]}],
    "detection": {"within": "60s"}, "recovery": {"within": "5m"}, "abort": {"max_duration": "10m"},
}  # fmt: skip


def process_scenario(scenario_id: str, title: str, *, roles: bool = True) -> str:
    """A valid scenario's YAML: fault ``stop-worker`` at 1s, step ``ack``, runbook ``restart``."""
    listed = "roles: [incident-commander, tech-lead, comms-lead]\n" if roles else ""
    return f"""\
apiVersion: gameday/v1
id: {scenario_id}
title: {title}
severity: SEV3
{listed}target:
  url: http://127.0.0.1:9
  processes:
    worker: {{command: worker}}
steady_state:
  - http: {{url: "{{target.url}}/health"}}
faults:
  - id: stop-worker
    at: 1s
    process: {{target: worker, action: stop}}
detection:
  within: 30s
response:
  - {{id: ack, action: acknowledge, within: 1m}}
runbooks:
  restart: {{restart: worker}}
recovery:
  within: 1m
abort:
  max_duration: 2m
"""
