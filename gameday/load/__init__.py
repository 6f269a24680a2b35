"""Load during a drill: :mod:`.service` runs locust (in subprocesses, see
:mod:`gameday.adapters.locust`) from the baseline until rollback and journals its figures."""
