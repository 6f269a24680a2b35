"""The locust adapter without locust: command lines, the plugin's stats lines, locust's totals,
request names from a locustfile's AST, and the loader's checks of ``load:``/``business:``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from gameday.adapters import locust as adapter
from gameday.errors import ScenarioError
from gameday.loader import load_scenario
from gameday.model.events import Figures, LoadStats, Totals

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "load"


# ------------------------------------------------------------------------------------ commands


def test_standalone_plan(tmp_path: Path) -> None:
    plan = adapter.plan(locustfile=Path("/x/locustfile.py"), host="http://127.0.0.1:8080", users=10, spawn_rate=5,
                        out_dir=tmp_path / "load", run_time=180.2, parent_pid=4242, executable="/venv/bin/locust",
                        base_env={"PATH": "/bin"})
    [proc] = plan.procs
    argv = proc.argv
    assert proc.role == "standalone" and argv[0] == "/venv/bin/locust" and (tmp_path / "load").is_dir()
    assert argv[argv.index("-f") + 1] == f"/x/locustfile.py,{adapter.PLUGIN}"
    for flag, value in (("-u", "10"), ("-r", "5"), ("-H", "http://127.0.0.1:8080"), ("-t", "181s"),
                        ("--csv", str(tmp_path / "load" / "locust")), ("--json-file", str(tmp_path / "load" / "totals"))):
        assert argv[argv.index(flag) + 1] == value, flag
    assert "--headless" in argv and "--csv-full-history" in argv and "--master" not in argv
    assert plan.env["GAMEDAY_LOAD_STATS"] == str(tmp_path / "load" / "stats.jsonl")
    assert plan.env["GAMEDAY_LOAD_PARENT"] == "4242" and plan.env["PATH"] == "/bin"
    assert json.loads(plan.env["GAMEDAY_LOAD_STAGES"]) == []
    assert plan.json_path == tmp_path / "load" / "totals.json"  # locust appends .json


def test_distributed_plan_with_stages_and_priority(tmp_path: Path) -> None:
    plan = adapter.plan(locustfile=Path("/x/l.py"), host="http://h:1", users=4, spawn_rate=2, out_dir=tmp_path, workers=2,
                        stages=[(10.0, 8, None), (20.0, 2, 1.0)], executable="locust", master_port=5599, priority="low",
                        base_env={})
    assert [p.role for p in plan.procs] == ["master", "worker-1", "worker-2"]
    master, worker = plan.procs[0].argv, plan.procs[1].argv
    prefix = adapter.priority_prefix("low")
    assert master[: len(prefix)] == prefix == worker[: len(prefix)]
    assert master[len(prefix)] == "locust" and worker[len(prefix)] == "locust"
    for flag, value in (("--master-bind-host", "127.0.0.1"), ("--master-bind-port", "5599"), ("--expect-workers", "2"),
                        ("--expect-workers-max-wait", str(adapter.WORKER_WAIT))):
        assert master[master.index(flag) + 1] == value
    assert "--worker" in worker and worker[worker.index("--master-port") + 1] == "5599" and "-u" not in worker
    assert "-t" not in master and plan.master_port == 5599
    assert json.loads(plan.env["GAMEDAY_LOAD_STAGES"]) == [[10.0, 8, None], [20.0, 2, 1.0]]
    assert "GAMEDAY_LOAD_PARENT" not in plan.env


def test_priority_prefixes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(adapter.shutil, "which", lambda name: f"/usr/bin/{name}")
    assert adapter.priority_prefix("idle") == ["/usr/bin/chrt", "--idle", "0"]
    assert adapter.priority_prefix("low") == ["/usr/bin/nice", "-n", "10"]
    assert adapter.priority_prefix("normal") == []
    monkeypatch.setattr(adapter.shutil, "which", lambda name: None if name == "chrt" else f"/usr/bin/{name}")
    assert adapter.priority_prefix("idle") == ["/usr/bin/nice", "-n", "19"]  # no chrt: the lowest niceness


def test_plugin_is_never_imported_by_gameday() -> None:
    """Importing locust monkey-patches the process: the plugin is only ever a path for locust."""
    assert adapter.PLUGIN.is_file() and adapter.DEMO_LOCUSTFILE.is_file()
    assert "locust" not in sys.modules and "gameday.adapters.locust_plugin" not in sys.modules
    assert "gevent" not in sys.modules


# --------------------------------------------------------------------------------------- stats


def test_plugin_lines_from_a_real_distributed_run() -> None:
    lines = (FIXTURES / "plugin-stats.jsonl").read_text().splitlines()
    recs = [adapter.parse_stats_line(line) for line in lines]
    assert recs[-1] is None  # the torn last line of a file still being written
    kinds = [r["type"] for r in recs[:-1]]
    assert kinds.count("final") == 1 and kinds[-1] == "final" and set(kinds[:-1]) == {"interval"}
    intervals = [r for r in recs[:-1] if r["type"] == "interval"]
    final = recs[-2]
    for name in ("browse", "cart", "checkout"):  # the intervals add up to the final totals
        assert sum(r["names"].get(name, {}).get("requests", 0) for r in intervals) == final["names"][name]["requests"]
    assert final["errors"][0]["name"] == "checkout" and final["errors"][0]["occurrences"] == 4


def test_journal_stats_maps_onto_the_drill_clock() -> None:
    rec = {"type": "interval", "mono_from": 1000.25, "mono_to": 1001.2504, "users_from": 0, "users": 8,
           "names": {"checkout": {"requests": 4, "failures": 1, "p50": 3, "p95": 9, "p99": 9, "max": 9,
                                  "hist": {"3": 3, "9": 1}}, "bad": "x"},
           "total": {"requests": 4, "failures": 1, "p50": 3, "p95": 9, "p99": 9, "max": 9, "hist": {"3": 3, "9": 1}}}
    data = adapter.journal_stats(rec, t0=990.0)
    assert isinstance(data, LoadStats)
    assert (data.t_from, data.t_to, data.users_from, data.users) == (10.25, 11.25, 0, 8)
    assert data.names == {"checkout": Figures(requests=4, failures=1, p50=3, p95=9, p99=9, max=9, hist={"3": 3, "9": 1})}
    assert data.total.hist is None and (data.total.requests, data.total.failures, data.total.p95) == (4, 1, 9)


@pytest.mark.parametrize("line", ["", "not json", "[]", '{"type": "other"}', '{"type": "interval", "mono_from": 1}',
                                  '{"type": "interval", "mono_from": 1, "mono_to": 2, "names": [], "total": {}}'])
def test_malformed_lines_are_skipped(line: str) -> None:
    assert adapter.parse_stats_line(line) is None


def test_read_totals(tmp_path: Path) -> None:
    assert adapter.read_totals(FIXTURES / "locust-totals.json") == {
        "browse": Totals(requests=265, failures=0), "cart": Totals(requests=114, failures=0),
        "checkout": Totals(requests=47, failures=4)}
    assert adapter.read_totals(tmp_path / "missing.json") is None
    (tmp_path / "bad.json").write_text("{")
    assert adapter.read_totals(tmp_path / "bad.json") is None


# --------------------------------------------------------------------------------- locustfiles


def test_request_names_of_the_demo_locustfile() -> None:
    found = adapter.request_names(adapter.DEMO_LOCUSTFILE.read_text())
    assert found.names == {"browse", "cart", "checkout"} and found.complete


def test_request_names_by_name_by_url_and_computed() -> None:
    found = adapter.request_names((FIXTURES / "names.py").read_text())
    assert found.names == {"browse", "/products/1", "checkout", "empty cart"}
    assert not found.complete  # f"product {i}" cannot be known without running it


def test_request_names_syntax_error() -> None:
    with pytest.raises(SyntaxError):
        adapter.request_names((FIXTURES / "syntax-error.py").read_text())


# ------------------------------------------------------------------------------------- loader


def problems(name: str) -> list[str]:
    with pytest.raises(ScenarioError) as exc:
        load_scenario(FIXTURES / "invalid" / name)
    return [f"{Path(p.file).name}:{p.line}:{p.column}: {p.path}: {p.message}" for p in exc.value.problems]


def test_missing_locustfile_is_located() -> None:
    [p] = problems("missing-locustfile.yaml")
    assert p.startswith("missing-locustfile.yaml:19:15: load.locustfile: locustfile 'nowhere/locustfile.py' not found")


def test_locustfile_that_does_not_compile() -> None:
    found = problems("syntax-locustfile.yaml")
    assert "syntax-error.py:8:21: : Python syntax: expected ':'" in found
    assert any(p.startswith("syntax-locustfile.yaml:19:15: load.locustfile: locustfile '../syntax-error.py' does not compile")
               for p in found)


def test_unknown_customer_facing_request_name() -> None:
    assert problems("unknown-request.yaml") == [
        "unknown-request.yaml:22:31: business.customer_facing[1]: no request named 'chekout' in locustfile 'demo' "
        "(its request names: browse, cart, checkout)"]


def test_model_problems_of_load_and_business() -> None:
    found = problems("bad-load.yaml")
    assert any("load.host: expected a base URL like 'http://127.0.0.1:8080', got '127.0.0.1:8080'" in p for p in found)
    assert any("give 'revenue_per_minute' or 'value_per_request', not both" in p for p in found)


def test_valid_load_sections() -> None:
    loaded = load_scenario(FIXTURES / "names-ok.yaml")  # computed names: the customer-facing check is skipped
    assert loaded.locustfile == (FIXTURES / "names.py").resolve()
    assert loaded.scenario.load.host == "http://127.0.0.1:9" and loaded.scenario.load.priority == "idle"
    shipped = load_scenario(Path(__file__).resolve().parents[2] / "scenarios" / "checkout-db-primary-failure-load.yaml")
    assert shipped.locustfile == adapter.DEMO_LOCUSTFILE
    assert shipped.scenario.business.revenue_per_minute == 10000 and shipped.scenario.business.customer_facing == ["checkout"]
