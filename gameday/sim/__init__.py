"""The simulator: what stands in for the target in a tabletop (and training) drill.

It implements the ports the conductor already uses, so the conductor is the same in every
mode: :mod:`~gameday.sim.effects` injects and rolls back each fault's *simulated shadow*
(nothing on any target changes) and observes it (the steady-state checks fail while a shadow
lasts); :mod:`~gameday.sim.msel` plays the MSEL's injects on the scenario clock, delivering
their alert attachments through the webhook intake's parsing and the scenario's matching, and
takes the facilitator's controls; :mod:`~gameday.sim.shadow` derives an MSEL from a scenario
written for live drills (its faults, detection signals and steady-state checks);
:mod:`~gameday.sim.pace` reads ``--pace``; :mod:`~gameday.sim.parts` builds a drill's
simulation for the composition root; :mod:`~gameday.sim.panel` draws a dashboard panel.

Around the MSEL: :mod:`~gameday.sim.mselcsv` (with :mod:`~gameday.sim.mselcells`) takes it to and
from a spreadsheet with HSEEP's columns, :mod:`~gameday.sim.replay` turns a past live drill's
journal into a tabletop, and :mod:`~gameday.sim.scenario_out` writes the scenarios both make.
"""
