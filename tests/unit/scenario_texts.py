"""Scenario texts the unit tests share (imported by name: pytest puts this folder on the path).

:func:`process_scenario` is the smallest complete scenario of a target of our own: one process fault,
one step, one runbook that restarts the process; a test adds the sections it is about (a simulation,
a training section) to it.
"""

from __future__ import annotations


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
