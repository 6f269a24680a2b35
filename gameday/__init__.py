"""gameday: chaos engineering game days — scenarios, drills, journals, scorecards, postmortems.

The package is layered (see ARCHITECTURE.md):

* :mod:`gameday.model` — the frozen scenario, event, policy and scorecard types (pure).
* :mod:`gameday.loader` — YAML to model, every error with ``FILE:LINE:COL``.
* :mod:`gameday.journal` — the append-only JSON Lines event log of a drill.
* :mod:`gameday.clock` — the clock protocol, a system clock and a fake one for tests.
* :mod:`gameday.drill.conductor` — plays a scenario against a target.
* :mod:`gameday.analysis` — scorecard and postmortem, pure functions of journals.

Importing this package has no side effects and imports no heavy library.
"""

__version__ = "0.1.0"
