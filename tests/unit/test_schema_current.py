"""The published JSON Schemas in schema/ are what the code generates now, and the journal's covers every event kind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from gameday.cli import main
from gameday.model.events import EVENT_KINDS

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schema"


def generated(*args: str) -> str:
    """What `gameday schema ARGS` prints, exactly as `make schema` writes it to a file."""
    result = CliRunner().invoke(main, ["schema", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize(("filename", "args"), [("scenario.schema.json", ()), ("journal.schema.json", ("--journal",))])
def test_published_schema_is_current(filename: str, args: tuple[str, ...]) -> None:
    path = SCHEMA_DIR / filename
    assert path.is_file(), f"schema/{filename} is missing: run `make schema`"
    command = " ".join(["gameday schema", *args])
    assert path.read_text(encoding="utf-8") == generated(*args), (
        f"schema/{filename} differs from what `{command}` generates now: run `make schema` and commit it"
    )


def test_journal_schema_is_a_union_over_every_event_kind() -> None:
    schema = json.loads(generated("--journal"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["discriminator"]["propertyName"] == "kind"
    mapping = schema["discriminator"]["mapping"]
    assert sorted(mapping) == sorted(EVENT_KINDS)
    assert len(EVENT_KINDS) == len(set(EVENT_KINDS))
    refs = [member["$ref"] for member in schema["oneOf"]]
    assert len(refs) == len(EVENT_KINDS)
    assert sorted(refs) == sorted(mapping.values())
    for kind, ref in mapping.items():
        assert ref.startswith("#/$defs/")
        member = schema["$defs"][ref.removeprefix("#/$defs/")]
        # each member fixes its kind, and carries the envelope around a typed payload
        assert member["properties"]["kind"]["const"] == kind
        assert {"v", "seq", "kind", "wall", "t", "source", "data"} <= set(member["properties"])
        assert {"seq", "kind", "wall", "t", "source", "data"} <= set(member["required"])
        assert member["additionalProperties"] is False


def test_scenario_schema_is_the_default() -> None:
    schema = json.loads(generated())
    assert schema["title"] == "gameday scenario (apiVersion gameday/v1)"
    assert "apiVersion" in schema["properties"]
    assert "discriminator" not in schema
