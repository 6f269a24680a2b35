"""A signal while the demo's supervisor is being spawned is held until the spawn is known, then raised:
the set-up can always stop what it started (a race seen once under a loaded CI run)."""

from __future__ import annotations

import os
import signal

import pytest

from gameday.demo.control import _signals_held


def test_a_signal_during_the_spawn_is_raised_after_it() -> None:
    reached = []
    with pytest.raises(KeyboardInterrupt):
        with _signals_held():
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(1000):  # the handler would have run by now
                pass
            reached.append("the spawn finished")
    assert reached == ["the spawn finished"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handler is the set-up's again


def test_no_signal_no_interruption() -> None:
    with _signals_held():
        pass
    assert signal.getsignal(signal.SIGTERM) is not None
