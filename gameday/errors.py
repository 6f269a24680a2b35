"""The gameday error tree.

Every error gameday raises on purpose derives from :class:`GamedayError`; the CLI maps
each class to an exit code and prints its one-line message, never a traceback::

    GamedayError                      exit 2 unless stated
    ├── InputError                    bad user input (exit 2)
    │   ├── ScenarioError             a scenario failed to load; carries every Problem
    │   ├── JournalError              a journal is malformed (path, line)
    │   ├── ConfigError               gameday.yaml, a flag, a secret's variable, an unwritable path
    │   ├── DrillNotStarted           (conductor) an input arrived before DrillStarted
    │   └── RefusedError              (client) the control room refused a request (4xx)
    ├── LedgerBusyError               open faults in the ledger refuse a new drill (exit 3)
    ├── InfrastructureError           the world did not cooperate (exit 3)
    │   ├── SteadyStateError          steady state not met before injection
    │   ├── InjectionError            an injector failed to inject or roll back
    │   └── DemoError                 the embedded demo system failed
    └── DrillAborted                  the drill was aborted (signal, guardrail) (exit 3)
"""

from __future__ import annotations

from dataclasses import dataclass

EXIT_OK = 0
EXIT_EXPECTATIONS_NOT_MET = 1
EXIT_INVALID_INPUT = 2
EXIT_ABORTED = 3


class GamedayError(Exception):
    """Root of every error gameday raises on purpose."""

    exit_code = EXIT_INVALID_INPUT


class InputError(GamedayError):
    """Bad input from the user: a file, a flag, a request."""


@dataclass(frozen=True)
class Problem:
    """One problem found in an input file, located as precisely as we can."""

    file: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        """``file:line:col: path: message`` on one line: a newline or control character quoted from the
        input is shown as ``<U+XXXX>`` (:mod:`gameday.model.textsafe`)."""
        from gameday.model.textsafe import neutralise

        where = f"{self.file}:{self.line}:{self.column}"
        text = f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"
        return neutralise(text, keep="")


class ScenarioError(InputError):
    """A scenario (or a file it references) is invalid. ``problems`` lists every one."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda p: (p.file, p.line, p.column, p.path))
        super().__init__("\n".join(str(p) for p in self.problems))


class JournalError(InputError):
    """A journal line is malformed (not the torn last line, which is tolerated)."""

    def __init__(self, path: str, line: int, message: str):
        self.path, self.line = path, line
        super().__init__(f"{path}:{line}: {message}")


class ConfigError(InputError):
    """``gameday.yaml``, a responder script or a command-line value is malformed."""


class DrillNotStarted(InputError):
    """An input reached the conductor before ``DrillStarted`` was journaled."""


class LedgerBusyError(GamedayError):
    """The fault ledger still holds open faults from an earlier drill."""

    exit_code = EXIT_ABORTED


class InfrastructureError(GamedayError):
    """The system or the tooling around the drill failed."""

    exit_code = EXIT_ABORTED


class SteadyStateError(InfrastructureError):
    """The steady state did not hold before injection."""


class InjectionError(InfrastructureError):
    """An injector failed to inject or to roll back."""


class DemoError(InfrastructureError):
    """The embedded demo system could not be started or controlled."""


class DrillAborted(GamedayError):
    """The drill was aborted: a signal, a guardrail, or the facilitator."""

    exit_code = EXIT_ABORTED
