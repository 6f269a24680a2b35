"""The fuzz suite's hypothesis profiles, and the live drill fixture (see ``livedrill.py``).

Profiles (selected by ``GAMEDAY_FUZZ``; each test takes its own with :func:`strategies.budget`, so the
other suites' hypothesis settings are left alone):

* ``gameday-fuzz-short`` (default, ``make test``): deterministic (``derandomize=True``) so CI is
  reproducible; a few dozen examples per property; no example database.
* ``gameday-fuzz-long`` (``GAMEDAY_FUZZ=long``, ``make fuzz``): random, ``LONG_FACTOR`` times the
  examples; failing examples kept in a database under the system's temp folder (never in the tree),
  so the next ``make fuzz`` tries them first.

``live_drill`` is a started :class:`livedrill.LiveDrill` shared by a module's properties.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.database import DirectoryBasedExampleDatabase
from livedrill import LiveDrill

_COMMON: dict[str, Any] = {
    "deadline": None,  # no "must finish in N ms" on a shared 2-CPU machine
    # no explain phase: it reruns a failing example dozens of times (a minute for a slow property)
    "phases": (Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink),
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
                              HealthCheck.large_base_example, HealthCheck.function_scoped_fixture],
}
settings.register_profile("gameday-fuzz-short", max_examples=20, derandomize=True, database=None, print_blob=False, **_COMMON)
settings.register_profile(
    "gameday-fuzz-long", max_examples=500, derandomize=False, print_blob=True,
    database=DirectoryBasedExampleDatabase(os.path.join(tempfile.gettempdir(), "gameday-fuzz-examples")), **_COMMON,
)  # fmt: skip


@pytest.fixture(scope="module")
def live_drill(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveDrill]:
    """A started drill, shared by a module's properties (closed, i.e. aborted, at the module's end)."""
    drill = LiveDrill(tmp_path_factory.mktemp("live-drill"))
    try:
        drill.start()
        yield drill
    finally:
        drill.close()
