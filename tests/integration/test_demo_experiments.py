"""The demo's Chaos Toolkit experiments: valid for chaoslib, and really run by the ``chaos`` CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from gameday.demo import chaos
from gameday.demo.control import DemoHandle, start_demo
from gameday.demo.proc import wait_gone

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
EXPERIMENTS = sorted((ROOT / "experiments").glob("*.yaml"))
CHAOS = Path(sys.executable).parent / "chaos"
EXPECTED = {"kill-db-primary", "promote-replica", "hang-checkout", "restart-checkout", "break-catalog"}


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[DemoHandle]:
    handle = start_demo(tmp_path / "state")
    try:
        yield handle
    finally:
        pids = [handle.pid, *(p["pid"] for p in handle.status()["processes"].values() if p["pid"])]
        handle.stop()
        for pid in pids:
            assert wait_gone(pid, 5.0), f"pid {pid} survived"


def config(demo: DemoHandle) -> dict[str, Any]:
    return {"demo_control_url": demo.control_url, "checkout_url": demo.url}


def run_chaos(demo: DemoHandle, name: str, tmp_path: Path) -> dict[str, Any]:
    """``chaos run --rollback-strategy always`` on one experiment; its journal."""
    journal = tmp_path / f"{name}.journal.json"
    env = {**os.environ, "GAMEDAY_DEMO_CONTROL_URL": demo.control_url, "GAMEDAY_CHECKOUT_URL": demo.url}
    proc = subprocess.run(
        [str(CHAOS), "--no-version-check", "--no-log-file", "run", "--rollback-strategy", "always",
         "--journal-path", str(journal), str(ROOT / "experiments" / f"{name}.yaml")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(journal.read_text())


def outputs(journal: dict[str, Any], phase: str) -> list[Any]:
    runs = journal[phase]
    assert all(r["status"] == "succeeded" for r in runs), runs
    return [r["output"] for r in runs]


def test_every_experiment_is_valid_for_chaoslib() -> None:
    from chaoslib.experiment import ensure_experiment_is_valid

    assert {p.stem for p in EXPERIMENTS} >= EXPECTED
    for path in EXPERIMENTS:
        experiment = yaml.safe_load(path.read_text())
        ensure_experiment_is_valid(experiment)
        assert experiment["version"] == "1.0.0"
        assert {"demo_control_url", "checkout_url"} <= set(experiment["configuration"])
        assert experiment["configuration"]["demo_control_url"]["type"] == "env"
        if path.stem in ("kill-db-primary", "hang-checkout", "break-catalog"):
            assert experiment["rollbacks"], f"{path.name}: a fault needs its rollback"


def test_chaos_run_kill_primary_then_rollback_restores_the_demo(demo: DemoHandle, tmp_path: Path) -> None:
    journal = run_chaos(demo, "kill-db-primary", tmp_path)
    assert journal["status"] == "completed"
    (killed,) = outputs(journal, "run")
    assert killed["killed"] == "db-a" and killed["role"] == "primary"
    (restored,) = outputs(journal, "rollbacks")
    assert restored["restarted"] == ["db-a"] and restored["primary"] == "db-a"
    status = demo.status()
    assert status["processes"]["db-a"]["starts"] == 2 and status["processes"]["db-a"]["pid"] != killed["pid"]
    assert all(p["state"] == "running" for p in status["processes"].values())
    assert httpx.get(f"{demo.url}/health").status_code == 200
    assert httpx.post(f"{demo.url}/checkout", json={}).status_code == 201


def test_chaos_run_every_other_experiment(demo: DemoHandle, tmp_path: Path) -> None:
    hang = run_chaos(demo, "hang-checkout", tmp_path)
    assert outputs(hang, "run")[0]["stopped"] == "checkout" and outputs(hang, "rollbacks")[0]["continued"] == "checkout"
    assert httpx.get(f"{demo.url}/health").status_code == 200

    broken = run_chaos(demo, "break-catalog", tmp_path)
    assert outputs(broken, "run") == [{"catalog": "broken"}] and outputs(broken, "rollbacks") == [{"catalog": "ok"}]
    assert httpx.get(f"{demo.url}/products").status_code == 200

    old_pid = demo.status()["processes"]["checkout"]["pid"]
    restarted = outputs(run_chaos(demo, "restart-checkout", tmp_path), "run")[0]
    assert restarted["restarted"] == "checkout" and restarted["pid"] != old_pid
    assert httpx.get(f"{demo.url}/health").status_code == 200

    demo.kill("db-primary")
    promoted = outputs(run_chaos(demo, "promote-replica", tmp_path), "run")[0]
    assert promoted["promoted"] == "db-b"
    assert httpx.post(f"{demo.url}/checkout", json={}).json()["db"] == "db-b"


def test_restore_primary_after_a_failover_brings_the_old_primary_back_as_replica(demo: DemoHandle) -> None:
    cfg = config(demo)
    assert chaos.kill_service("db-primary", configuration=cfg)["killed"] == "db-a"
    chaos.promote_replica(configuration=cfg)
    result = chaos.restore_primary(configuration=cfg)
    assert result == {"restarted": ["db-a"], "continued": [], "primary": "db-b"}
    assert demo.status()["processes"]["db-a"]["role"] == "replica"
    assert chaos.reset(configuration=cfg)["primary"] == "db-a"


def test_activities_fail_as_chaos_toolkit_expects(demo: DemoHandle) -> None:
    from chaoslib.exceptions import ActivityFailed

    with pytest.raises(ActivityFailed, match="demo_control_url"):
        chaos.kill_service("db-a", configuration={})
    with pytest.raises(ActivityFailed, match="did not answer"):
        chaos.reset(configuration={"demo_control_url": "http://127.0.0.1:1"})
    with pytest.raises(ActivityFailed, match="no such process"):
        chaos.kill_service("nope", configuration=config(demo))
    chaos.stop_service("checkout", configuration=config(demo))
    chaos.continue_service("checkout", configuration=config(demo))
    assert chaos.kill_service("traffic", configuration=config(demo))["killed"] == "traffic"
    with pytest.raises(ActivityFailed, match="not running"):
        chaos.kill_service("traffic", configuration=config(demo))


def test_activities_run_through_chaoslib(demo: DemoHandle) -> None:
    from chaoslib.activity import run_activity

    experiment = yaml.safe_load((ROOT / "experiments" / "break-catalog.yaml").read_text())
    for activity in experiment["method"] + experiment["rollbacks"]:
        run_activity(activity, config(demo), {})
    assert demo.status()["catalog"] == "ok"
