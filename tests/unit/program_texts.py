"""A small program file for the program's unit tests (pool: the repo's own scenarios, absolute paths)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HANG = ROOT / "scenarios" / "checkout-api-hang.yaml"
DB = ROOT / "scenarios" / "checkout-db-primary-failure.yaml"

PROGRAM = f"""\
apiVersion: gameday/v1
kind: Program
name: Test game days
cadence:
  rrule: "FREQ=MONTHLY;BYDAY=1TH"
  time: "14:00"
  duration: 2h
  timezone: Europe/Berlin
  start: 2027-01-01
holidays:
  - {{date: 2027-04-01, reason: offsite}}
blackouts:
  - {{from: 2027-11-01, to: 2027-11-05, reason: freeze}}
roster:
  people:
    - {{name: alice, roles: [incident-commander, tech-lead, comms-lead]}}
    - {{name: bob, roles: [incident-commander, tech-lead, comms-lead]}}
    - {{name: carol, roles: [tech-lead, comms-lead]}}
    - {{name: dan, roles: [tech-lead, comms-lead, incident-commander]}}
scenarios:
  - {HANG}
  - {DB}
"""
