"""Adapters: the real things behind the ports of :mod:`gameday.ports`.

* :mod:`gameday.adapters.chaostoolkit` — Chaos Toolkit activities (inject, roll back, runbooks,
  an experiment's own steady-state hypothesis), judged by :mod:`gameday.adapters.activities` and
  run one by one in their file's folder by a helper process (:mod:`gameday.adapters.activity_host`).
* :mod:`gameday.adapters.process` — built-in local process faults (kill with restart,
  SIGSTOP/SIGCONT) and the process restart runbook.
* :mod:`gameday.adapters.probes` — the conductor's own steady-state probes (HTTP, process).

Only the conductor (through :mod:`gameday.drill.injectors`) imports these modules; heavy
libraries (chaoslib, httpx) are imported inside functions, never at import time.
"""
