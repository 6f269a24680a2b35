"""The project: ``gameday.yaml`` (optional) and where state lives (loaded by :func:`gameday.loader.load_project`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gameday.model.policy import ProjectConfig

PROJECT_FILE = "gameday.yaml"
#: ``state_dir`` when gameday.yaml does not say (:class:`~gameday.model.policy.ProjectConfig`'s default).
DEFAULT_STATE_DIR = ".gameday"


@dataclass(frozen=True)
class Project:
    root: Path
    config: ProjectConfig

    @property
    def state_path(self) -> Path:
        """Folder for the fault ledger and demo state (``.gameday/`` by default)."""
        return (self.root / self.config.state_dir).resolve()

    @property
    def templates_dir(self) -> Path | None:
        return (self.root / self.config.templates) if self.config.templates else None


def find_root(start: Path) -> Path:
    """The nearest folder at or above ``start`` holding gameday.yaml, else ``start``."""
    for folder in (start, *start.parents):
        if (folder / PROJECT_FILE).is_file():
            return folder
    return start


@dataclass(frozen=True)
class ProjectPlaces:
    """Where a project's files are: its root, state folder and templates folder (None: the built-in ones)."""

    root: Path
    state_path: Path
    templates_dir: Path | None


def project_places(start: Path) -> ProjectPlaces:
    """The :class:`ProjectPlaces` of the project at or above ``start``. Without a gameday.yaml nothing is
    parsed (no YAML reader, no pydantic: ``gameday trends`` with nothing changed needs only this)."""
    root = find_root(start.resolve())
    file = root / PROJECT_FILE
    if not file.is_file():
        return ProjectPlaces(root, (root / DEFAULT_STATE_DIR).resolve(), None)
    places = _places_of(file)  # the two keys read as plain YAML; anything unusual: the whole file validated
    if places is not None:
        state_dir, templates = places
        return ProjectPlaces(root, (root / state_dir).resolve(), root / templates if templates else None)
    project = load_project(root)
    return ProjectPlaces(project.root, project.state_path, project.templates_dir)


def _places_of(file: Path) -> tuple[str, str | None] | None:
    """``state_dir`` and ``templates`` of gameday.yaml, read by gameday's YAML reader (its limits, encoding
    and duplicate-key checks, as :func:`load_project` reads) without the project model (~0.15 s of imports
    less); None when the reader finds a problem, the file is not a mapping, or either value is not a
    non-empty string, so that :func:`load_project` reports it, located. The rest of the file is not checked
    here: ``gameday trends`` validates the whole file whenever it has work to do."""
    from gameday.errors import ScenarioError
    from gameday.yamlio.marks import parse_yaml, read_text

    try:
        data, _, problems = parse_yaml(read_text(file, str(file)), str(file))
    except ScenarioError:
        return None
    if problems or not isinstance(data, dict):  # an empty file too: load_project says what it expects
        return None
    state_dir, templates = data.get("state_dir", DEFAULT_STATE_DIR), data.get("templates")
    if not (isinstance(state_dir, str) and state_dir) or not (templates is None or (isinstance(templates, str) and templates)):
        return None
    return state_dir, templates


def load_project(start: Path) -> Project:
    """The project at or above ``start``: ``gameday.yaml`` if there is one (errors located like scenario errors).

    Only the YAML reader and the project model are imported (not the scenario loader): commands that need the
    project but no scenario (``gameday trends``) start ~0.3 s sooner."""
    from gameday.model.policy import ProjectConfig
    from gameday.yamlio.files import load_model

    root = find_root(start.resolve())
    file = root / PROJECT_FILE
    return Project(root=root, config=load_model(file, ProjectConfig) if file.is_file() else ProjectConfig())
