"""The embedded demo shop the default scenarios drill against.

Separate processes on loopback, each started as ``python -m gameday.demo.<module>``:

* :mod:`~gameday.demo.supervisor` — owns the others, serves the control API, writes ``state.json``.
* :mod:`~gameday.demo.db` — ``db-a`` and ``db-b``: a primary/replica order store with real replication.
* :mod:`~gameday.demo.checkout` — the shop's HTTP API (products, cart, checkout, health, metrics).
* :mod:`~gameday.demo.traffic` — a few simulated customers (~10 req/s).
* :mod:`~gameday.demo.monitor` — scrapes checkout, evaluates alert rules, posts Alertmanager webhooks.

:mod:`~gameday.demo.control` is the Python API (used by the CLI and the conductor) and
:mod:`~gameday.demo.chaos` holds the Chaos Toolkit activities the ``experiments/`` use.
Importing this package has no side effects.
"""
