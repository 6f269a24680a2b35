"""The signal policy at the two ends of a `gameday run` process, and numbers that must be finite."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from gameday.drill.play import ProcessSignals, SetupSignals


@pytest.fixture
def restore_handlers():
    saved = {s: signal.getsignal(s) for s in SetupSignals.SIGNALS}
    drained = SetupSignals.drained
    yield
    for s, h in saved.items():
        signal.signal(s, h)
    SetupSignals.drained = drained


def test_before_the_drill_a_signal_interrupts_after_its_reports_it_is_noted(restore_handlers, capsys):
    SetupSignals.drained = False
    signals = ProcessSignals().install()
    with pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), signal.SIGTERM)  # the handler runs in this thread as soon as kill returns
    signals.reports_written()
    os.kill(os.getpid(), signal.SIGTERM)  # noted and ignored: the exit code stays the verdict's
    os.kill(os.getpid(), signal.SIGINT)
    assert capsys.readouterr().err.count("ignored") == 2


def test_the_drills_handlers_hand_back_to_the_process_policy(restore_handlers):
    signals = ProcessSignals().install()
    with SetupSignals():
        SetupSignals.drain()  # rolled back: from here on nothing may cut the reports short
    assert signal.getsignal(signal.SIGTERM) == signals._handle
    os.kill(os.getpid(), signal.SIGTERM)  # drained: ignored even before reports_written()


def test_a_ctrl_c_while_the_cli_is_imported_ends_quietly_with_exit_3():
    code = textwrap.dedent("""
        import builtins, sys
        real = builtins.__import__
        def interrupted(name, *args, **kwargs):
            if name == "gameday.cli":
                raise KeyboardInterrupt
            return real(name, *args, **kwargs)
        builtins.__import__ = interrupted
        from gameday.__main__ import run
        run()
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 3 and done.stderr == "gameday: interrupted\n", done.stderr


def test_yaml_infinities_and_nans_are_refused_in_every_number_of_a_scenario():
    from pydantic import ValidationError

    from gameday.model.scenario import PolicyOverride, Weights

    for bad in (float("inf"), float("nan")):
        with pytest.raises(ValidationError, match="finite"):
            Weights(detection=bad)
        with pytest.raises(ValidationError):
            PolicyOverride(scale=bad)
