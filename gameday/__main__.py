"""``python -m gameday`` and the ``gameday`` command's entry point (:func:`run`)."""

from __future__ import annotations

import sys


def run() -> None:
    """The ``gameday`` command. A Ctrl-C that lands while the CLI is still being imported ends it
    quietly (exit 3, nothing was started), never with a traceback."""
    try:
        from gameday.cli import main
    except KeyboardInterrupt:
        sys.stderr.write("gameday: interrupted\n")
        raise SystemExit(3) from None
    main()


if __name__ == "__main__":  # pragma: no cover
    run()
