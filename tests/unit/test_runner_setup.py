"""The runner's set-up around an attached demo: bad input leaves it alone, and a reset in
flight is always waited for (the drill's lock outlives it). The demo is a fake handle here;
tests/integration/test_run_abort.py drives the real one."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import yaml

import gameday.demo.control as control
from gameday.drill.assemble import DrillOptions, Factories, run_drill
from gameday.errors import ConfigError, DemoError, InfrastructureError

ROOT = Path(__file__).resolve().parents[2]


class FakeDemo:
    url, control_url = "http://127.0.0.1:9", "http://127.0.0.1:9"

    def __init__(self, delay: float = 0.0, fail: bool = False):
        self.delay, self.fail = delay, fail
        self.resets_started = self.resets_done = 0
        self.webhooks: list[list[str]] = []

    def reset(self):
        self.resets_started += 1
        time.sleep(self.delay)
        if self.fail:
            raise DemoError("demo reset failed: db-b would not start")
        self.resets_done += 1
        return {}

    def set_webhooks(self, urls):
        self.webhooks.append(list(urls))


def scenario(folder: Path, **extra) -> Path:
    data = {
        "apiVersion": "gameday/v1", "id": "setup", "title": "Set-up", "severity": "SEV2", "target": "demo",
        "steady_state": [{"name": "health", "http": {"url": "{target.url}/health", "expect_status": 200}}],
        "faults": [{"id": "catalog", "at": "0s", "max_duration": "30s",
                    "experiment": str(ROOT / "experiments" / "break-catalog.yaml")}],
        "detection": {"within": "1s", "signals": [{"name": "catalog", "alert": {"alertname": "CatalogErrors"}}]},
        "recovery": {"within": "10s"}, "abort": {"max_duration": "60s"}, "timing": {"baseline": "0s", "cooldown": "0s"},
        **extra,
    }  # fmt: skip
    path = folder / "setup.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture
def demo(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.chdir(tmp_path)
    fake = FakeDemo()
    monkeypatch.setattr(control, "attach_demo", lambda state: fake)
    return fake


def test_a_config_error_leaves_the_attached_demo_untouched(demo: FakeDemo, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("GAMEDAY_TEST_UNSET_TOKEN", raising=False)
    path = scenario(tmp_path, monitoring={"auth": {"bearer_token_env": "GAMEDAY_TEST_UNSET_TOKEN"}})
    with pytest.raises(ConfigError, match="GAMEDAY_TEST_UNSET_TOKEN"):
        run_drill(path, DrillOptions(mode="ci", out=tmp_path / "out"), echo=lambda line: None)
    assert demo.resets_started == 0 and demo.webhooks == []


def test_a_taken_port_leaves_the_attached_demo_untouched(demo: FakeDemo, tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        with pytest.raises(InfrastructureError, match=f"cannot listen on 127.0.0.1:{port}"):
            run_drill(scenario(tmp_path), DrillOptions(mode="ci", out=tmp_path / "out", port=port), echo=lambda line: None)
    assert demo.resets_started == 0


def test_a_failed_set_up_waits_for_the_reset_in_flight(demo: FakeDemo, tmp_path: Path, monkeypatch) -> None:
    demo.delay = 0.3

    def broken_intake(*args, **kwargs):
        raise InfrastructureError("the webhook server did not start")

    with pytest.raises(InfrastructureError):
        run_drill(scenario(tmp_path), DrillOptions(mode="ci", out=tmp_path / "out"), factories=Factories(intake=broken_intake),
                  echo=lambda line: None)
    assert demo.resets_done == 1  # joined before the drill let go of its lock
    assert not [t for t in threading.enumerate() if t.name == "demo-reset"]


def test_a_failed_reset_stops_the_drill_before_anything_is_injected(demo: FakeDemo, tmp_path: Path) -> None:
    demo.fail = True
    with pytest.raises(DemoError, match="db-b would not start"):
        run_drill(scenario(tmp_path), DrillOptions(mode="ci", out=tmp_path / "out"), echo=lambda line: None)
    assert demo.webhooks == [] and not (tmp_path / "out" / "journal.jsonl").exists()
