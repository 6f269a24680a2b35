"""The simulator: what stands in for the target in a tabletop (and training) drill.

It implements the ports the conductor already uses, so the conductor is the same in every
mode: :mod:`~gameday.sim.effects` injects and rolls back each fault's *simulated shadow*
(nothing on any target changes) and observes it (the steady-state checks fail while a shadow
lasts); :mod:`~gameday.sim.msel` plays the MSEL's injects on the scenario clock, delivering
their alert attachments through the webhook intake's parsing and the scenario's matching, and
takes the facilitator's controls; :mod:`~gameday.sim.shadow` derives an MSEL from a scenario
written for live drills (its faults, detection signals and steady-state checks);
:mod:`~gameday.sim.pace` reads ``--pace``.
"""
