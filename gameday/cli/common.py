"""What every command of the CLI shares: errors as one line and an exit code, output to stdout or a file."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click

from gameday.errors import GamedayError


def _guard(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn every GamedayError into its one-line message and exit code; no tracebacks."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except GamedayError as exc:
            from gameday.model.textsafe import for_terminal  # messages quote outside text: shown inert

            text = for_terminal(exc)
            click.echo(f"gameday: {text}" if "\n" not in text else text, err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("gameday: interrupted", err=True)
            sys.exit(3)

    return wrapper


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text, nl=not text.endswith("\n"))
        return
    from gameday.fsutil import atomic_write

    atomic_write(output, text)
