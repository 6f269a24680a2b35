"""Fixtures for the integration tests that run real drills (``test_run_*.py``).

The helpers live in ``tests/fixtures/run/drillkit.py`` (see its docstring); here are the
fixtures: a fresh working folder per test, and module-scoped ones for drills that run
once and are read by several tests. Each cleans up (demo down, processes killed) even
when a test fails. Nothing here is autouse: other integration modules are unaffected.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

RUN_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "run"
if str(RUN_FIXTURES) not in sys.path:
    sys.path.insert(0, str(RUN_FIXTURES))

from drillkit import Workspace, open_workspace  # noqa: E402


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    """A fresh tmp working folder for one test; cleaned up (demo down, processes killed) even on failure."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    with open_workspace(cwd) as ws:
        yield ws


@pytest.fixture(scope="module")
def module_workspace_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], Workspace]]:
    """Make workspaces shared by a module's tests (a slow drill runs once); all cleaned up at module end."""
    made: list[Workspace] = []

    def make(name: str) -> Workspace:
        ws = Workspace(tmp_path_factory.mktemp(name))
        made.append(ws)
        return ws

    try:
        yield make
    finally:
        for ws in made:
            ws.cleanup()


@pytest.fixture(scope="module")
def engine() -> Iterator[Any]:
    """A real Docker engine of the module's own (tests/fixtures/run/dockerd.py: own data root and socket, no
    bridge, no iptables), with the busybox test image; every container removed and the engine stopped after."""
    from dockerd import start_engine

    eng = start_engine()
    try:
        yield eng
    finally:
        eng.remove_all()
        eng.stop()
