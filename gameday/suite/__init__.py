"""CI suites: ``gameday run DIR --mode ci`` plays a folder of scenarios in one process, one drill after
another against one start-up of the target, with one JUnit file and one exit code.

:mod:`gameday.suite.plan` finds the scenarios of the paths given and says, before anything starts,
which run, which are skipped (another mode's scenario) and which are invalid, and holds the exit-code
rule; :mod:`gameday.suite.runner` runs them (:func:`~gameday.suite.runner.run_suite`);
:mod:`gameday.suite.signals` is the suite's signal policy. Each drill is played exactly as a single
``gameday run`` plays it (:func:`gameday.drill.assemble.play_loaded`) and writes the same files.
The suite sits above :mod:`gameday.drill` and below the CLI.
"""
