"""Chaos Toolkit python-provider functions shipped beside the experiments (a community extension
would be a package; these live in the experiment's folder, which gameday puts on the module path)."""

from __future__ import annotations

from pathlib import Path


def remove_file(path: str) -> str:
    """Delete ``path`` (relative paths: from the folder the activity runs in)."""
    Path(path).unlink()
    return f"removed {path}"
