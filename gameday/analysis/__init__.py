"""Analysis: pure functions of drill journals.

* :mod:`gameday.analysis.matching` — the facts of a journal (injection, detection,
  recovery, actions, role holders) and the matching of recorded actions against the
  scenario's expected steps; usable on a partial journal by the live conductor.
* :mod:`gameday.analysis.scorecard` — :func:`~gameday.analysis.scorecard.score_journal`,
  the measured drill and its score (formula in that module and in ``docs/scoring.md``).
* :mod:`gameday.analysis.render` — the scorecard as JSON, Markdown or HTML.

Nothing here reads a clock or the file system; importing this package imports nothing.
"""
