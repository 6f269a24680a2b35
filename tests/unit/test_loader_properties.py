"""Property tests: whatever is done to a valid scenario, the loader answers with a model or a ScenarioError."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gameday.errors import ScenarioError
from gameday.loader import LoadedScenario, load_scenario
from gameday.model.duration import format_duration

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
BASE_TEXT = (FIXTURES / "scenarios" / "valid" / "full.yaml").read_text(encoding="utf-8")
BASE_DATA = yaml.safe_load(BASE_TEXT)
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def mutant(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where each example is written: a copy of the fixture tree, so references still resolve."""
    root = tmp_path_factory.mktemp("props")
    shutil.copytree(FIXTURES / "experiments", root / "experiments")
    shutil.copytree(FIXTURES / "scenarios" / "responders", root / "scenarios" / "responders")
    (root / "gameday.yaml").write_text("state_dir: .state\n")
    (root / "scenarios" / "valid").mkdir(parents=True)
    return root / "scenarios" / "valid" / "mutant.yaml"


def load_or_problems(path: Path) -> LoadedScenario | None:
    """Load; the only error allowed is ScenarioError, and each of its problems is located sanely."""
    try:
        return load_scenario(path)
    except ScenarioError as exc:
        assert exc.problems
        lines = path.read_bytes().count(b"\n") + 2
        for p in exc.problems:
            assert p.line >= 1 and p.column >= 1 and p.message
            if p.file == str(path):
                assert p.line <= lines
        return None


def paths_in(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out += paths_in(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += paths_in(value, (*prefix, i))
    return out


def get(node: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        node = node[part]
    return node


scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20),
    st.sampled_from(["90s", "0s", "-1s", "1h30m", "soon", "SEV1", "demo", "gameday/v1", "stop-worker", "kick", "detection"]),
)
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)), max_leaves=6)


@st.composite
def mutated_data(draw: st.DrawFn) -> Any:
    data = copy.deepcopy(BASE_DATA)
    for _ in range(draw(st.integers(1, 3))):
        paths = paths_in(data)
        path = draw(st.sampled_from(paths))
        if path and path[-1] == "module":  # chaoslib imports what python providers name: keep that to the fixture's
            continue
        op = draw(st.sampled_from(["delete", "replace", "insert"]))
        if not path:
            data = draw(values) if op == "replace" else data
            continue
        parent = get(data, path[:-1])
        if op == "delete":
            del parent[path[-1]]
        elif op == "replace":
            parent[path[-1]] = draw(values)
        else:
            target = get(data, path)
            if isinstance(target, dict):
                target[draw(st.one_of(st.text(max_size=10), st.sampled_from(["id", "at", "within", "experiment", "after"])))] = draw(values)
            elif isinstance(target, list):
                target.insert(draw(st.integers(0, len(target))), draw(values))
            else:
                parent[path[-1]] = [target, draw(values)]
    return data


@SETTINGS
@given(data=mutated_data())
def test_structural_mutations_never_crash(mutant: Path, data: Any) -> None:
    mutant.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    load_or_problems(mutant)


@st.composite
def mutated_text(draw: st.DrawFn) -> str:
    text = BASE_TEXT.replace("module: shutil", "module: shutil ")  # never mutated into another module name below
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["delete", "insert", "dup-line", "swap-lines", "indent"]))
        at = draw(st.integers(0, len(text)))
        if op == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 20)):]
        elif op == "insert":
            noise = draw(st.text(alphabet=st.sampled_from(list(":-[]{},&*!|>'\"#\n\t %@`?<=x1.")) | st.characters(), max_size=12))
            text = text[:at] + noise + text[at:]
        else:
            lines = text.split("\n")
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            if op == "dup-line":
                lines.insert(i, lines[i])
            elif op == "swap-lines":
                lines[i], lines[j] = lines[j], lines[i]
            else:
                lines[i] = " " * draw(st.integers(1, 4)) + lines[i]
            text = "\n".join(lines)
    return text


@SETTINGS
@given(text=mutated_text())
def test_text_mutations_never_crash(mutant: Path, text: str) -> None:
    if "module: shutil " not in text:  # the mutation touched the module line: skip rather than import a random name
        return
    mutant.write_text(text, encoding="utf-8", errors="surrogatepass")
    load_or_problems(mutant)


@SETTINGS
@given(raw=st.binary(max_size=200))
def test_arbitrary_bytes_never_crash(mutant: Path, raw: bytes) -> None:
    mutant.write_bytes(raw)
    load_or_problems(mutant)


ids = st.from_regex(r"[a-z0-9][a-z0-9_.-]{0,20}", fullmatch=True)
ms = st.integers(min_value=1, max_value=600_000)


@SETTINGS
@given(
    severity=st.sampled_from(["SEV1", "SEV2", "SEV3", "SEV4"]),
    title=st.text(st.characters(exclude_categories=["Cc", "Cs", "Zl", "Zp"]), min_size=1, max_size=40).filter(str.strip),
    tags=st.lists(st.text(st.characters(exclude_categories=["Cc", "Cs", "Zl", "Zp"]), max_size=10), max_size=3),
    fault_ids=st.lists(ids, min_size=3, max_size=3, unique=True),
    detection=ms,
    ack=ms,
)
def test_valid_variations_load(mutant: Path, severity: str, title: str, tags: list[str], fault_ids: list[str],
                               detection: int, ack: int) -> None:
    data = copy.deepcopy(BASE_DATA)
    data.update(severity=severity, title=title, tags=tags)
    data["detection"]["within"] = format_duration(detection / 1000)
    data["response"][0]["within"] = format_duration(ack / 1000)
    data["response"][1]["expect"] = severity
    for fault, fid in zip(data["faults"], fault_ids, strict=True):
        fault["id"] = fid
    mutant.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    loaded = load_scenario(mutant)
    assert loaded.scenario.title == title and loaded.scenario.severity == severity
    assert loaded.scenario.detection.within == pytest.approx(detection / 1000, abs=1e-9)
    assert list(loaded.fault_experiments) == [fault_ids[0]]


def test_dumped_model_loads_back_equal(mutant: Path) -> None:
    original = load_scenario(FIXTURES / "scenarios" / "valid" / "full.yaml").scenario
    mutant.write_text(yaml.safe_dump(original.model_dump(mode="json", by_alias=True), sort_keys=False), encoding="utf-8")
    assert load_scenario(mutant).scenario == original
