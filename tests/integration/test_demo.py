"""The embedded demo as real processes on loopback: lifecycle, faults, failover, alerts, reset."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from gameday.demo.control import DemoHandle, attach_demo, demo_down, demo_status, start_demo
from gameday.demo.proc import pid_alive, wait_gone
from gameday.errors import DemoError

pytestmark = pytest.mark.integration

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
GAMEDAY = Path(sys.executable).parent / "gameday"


# --- helpers and fixtures ---------------------------------------------------------------------------


class Receiver:
    """A tiny webhook receiver on loopback recording every JSON body it gets."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.cond = threading.Condition()
        outer = self

        class Handle(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with outer.cond:
                    outer.bodies.append(body)
                    outer.cond.notify_all()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handle)
        self.url = f"http://127.0.0.1:{self.server.server_port}/alerts"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, pred: Callable[[dict[str, Any]], bool], timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                found = next((b for b in self.bodies if pred(b)), None)
                if found is not None:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no matching webhook within {timeout}s; got {[summary(b) for b in self.bodies]}")
                self.cond.wait(left)

    def firing(self) -> list[str]:
        with self.cond:
            return [summary(b) for b in self.bodies if b["status"] == "firing"]


def summary(body: dict[str, Any]) -> str:
    return f"{body['groupLabels'].get('alertname')}:{body['status']}"


def alert(name: str | tuple[str, ...], status: str) -> Callable[[dict[str, Any]], bool]:
    names = (name,) if isinstance(name, str) else name
    return lambda b: b["status"] == status and b["groupLabels"].get("alertname") in names


def wait_until(pred: Callable[[], Any], timeout: float = 5.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what} not met within {timeout}s")
        time.sleep(0.05)


def all_pids(handle: DemoHandle) -> list[int]:
    """The supervisor and every child that ever ran (state.json has the current pids)."""
    try:
        procs = handle.status()["processes"]
    except DemoError:
        procs = handle.state["processes"]
    return [handle.pid, *(p["pid"] for p in procs.values() if p["pid"])]


def assert_gone(pids: list[int]) -> None:
    for pid in pids:
        assert wait_gone(pid, 5.0), f"pid {pid} survived the demo's stop"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


@pytest.fixture
def demo(tmp_path: Path, receiver: Receiver) -> Iterator[DemoHandle]:
    handle = start_demo(tmp_path / "state", webhook_urls=[receiver.url])
    pids = all_pids(handle)
    try:
        yield handle
    finally:
        pids += all_pids(handle)
        handle.stop()
        assert_gone(pids)
        assert not (tmp_path / "state" / "demo" / "state.json").exists()


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=2.0) as client:
        yield client


def db_url(demo: DemoHandle, name: str) -> str:
    return demo.state["processes"][name]["url"]


# --- lifecycle ----------------------------------------------------------------------------------------


def test_start_status_and_stop_through_the_api(demo: DemoHandle, http: httpx.Client, tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    state = json.loads((state_dir / "demo" / "state.json").read_text())
    assert state["pid"] == demo.pid and state["url"] == demo.url and state["control_url"] == demo.control_url
    assert set(state["processes"]) == {"checkout", "db-a", "db-b", "traffic", "monitor"}
    for name, pid_file in demo.processes.items():
        assert int(Path(pid_file).read_text()) == state["processes"][name]["pid"]
        assert pid_alive(state["processes"][name]["pid"])
    assert all(u.startswith("http://127.0.0.1:") for u in (demo.url, demo.control_url))
    assert http.get(f"{demo.url}/health").json() == {"status": "ok", "primary": "db-a"}
    assert http.get(f"{demo.url}/products").json()["products"]
    assert http.post(f"{demo.url}/checkout", json={}).status_code == 201

    text = demo_status(state_dir)
    assert re.search(r"db-a\s+\d+\s+running\s+primary", text) and re.search(r"db-b\s+\d+\s+running\s+replica", text)
    with pytest.raises(DemoError, match="already running"):
        start_demo(state_dir)
    attached = attach_demo(state_dir)
    assert attached is not None and attached.url == demo.url

    pids = all_pids(demo)
    demo.stop()
    demo.stop()  # idempotent
    assert_gone(pids)
    assert demo_status(state_dir) == "demo is not running"
    assert attach_demo(state_dir) is None


def test_cli_demo_up_status_down(tmp_path: Path) -> None:
    def gameday(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(GAMEDAY), "demo", *args], cwd=tmp_path, capture_output=True, text=True, timeout=30)

    state_dir = tmp_path / ".gameday"
    try:
        up = gameday("up", "--webhook-url", "http://127.0.0.1:9/alerts")
        assert up.returncode == 0, up.stderr
        assert re.match(r"demo up: checkout http://127\.0\.0\.1:\d+ +\(control http://127\.0\.0\.1:\d+\)", up.stdout)
        state = json.loads((state_dir / "demo" / "state.json").read_text())
        assert state["webhook_urls"] == ["http://127.0.0.1:9/alerts"]
        status = gameday("status")
        assert status.returncode == 0 and "db-a" in status.stdout and "primary" in status.stdout
        again = gameday("up")
        assert again.returncode == 3 and "already running" in again.stderr
        pids = [state["pid"], *(p["pid"] for p in state["processes"].values())]
        down = gameday("down")
        assert down.returncode == 0 and "demo stopped" in down.stdout
        assert_gone(pids)
        assert gameday("status").stdout.strip() == "demo is not running"
        assert gameday("down").stdout.strip() == "demo is not running"
    finally:
        demo_down(state_dir)


def test_supervisor_survives_the_death_of_its_starter(tmp_path: Path, http: httpx.Client) -> None:
    state_dir = tmp_path / "state"
    code = "import sys, json, time\nfrom gameday.demo.control import start_demo\n" \
           "h = start_demo(sys.argv[1])\nprint(json.dumps(h.state), flush=True)\ntime.sleep(60)\n"
    starter = subprocess.Popen([sys.executable, "-c", code, str(state_dir)], stdout=subprocess.PIPE, text=True)
    try:
        state = json.loads(starter.stdout.readline())  # type: ignore[union-attr]
        starter.send_signal(signal.SIGKILL)
        starter.wait(5)
        time.sleep(0.6)  # children watch their parent every 0.5 s: they must not mistake this for it
        assert http.get(f"{state['url']}/health").status_code == 200
        handle = attach_demo(state_dir)
        assert handle is not None and handle.pid == state["pid"]
        assert all(p["alive"] for p in handle.status()["processes"].values())
    finally:
        starter.kill()
        starter.wait()
        msg = demo_down(state_dir)
    assert msg.startswith("demo stopped")
    assert_gone([state["pid"], *(p["pid"] for p in state["processes"].values())])


def test_stale_state_is_cleaned_up(tmp_path: Path) -> None:
    demo_dir = tmp_path / "state" / "demo"
    (demo_dir / "run").mkdir(parents=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (demo_dir / "state.json").write_text(json.dumps({"pid": dead.pid, "url": "x", "control_url": "y", "processes": {}}))
    (demo_dir / "run" / "db-a.pid").write_text(f"{dead.pid}\n")
    assert demo_status(tmp_path / "state") == "demo is not running"
    assert not (demo_dir / "state.json").exists() and not (demo_dir / "run" / "db-a.pid").exists()


# --- faults, failover, alerts -----------------------------------------------------------------------------


def test_primary_kill_alerts_and_failover_restores_checkout(demo: DemoHandle, receiver: Receiver, http: httpx.Client) -> None:
    before = [http.post(f"{demo.url}/checkout", json={"items": [{"sku": "MUG-02", "qty": i}]}).json() for i in range(1, 6)]
    assert {o["db"] for o in before} == {"db-a"}
    replica = db_url(demo, "db-b")
    wait_until(lambda: http.get(f"{replica}/orders/{before[-1]['order_id']}").status_code == 200, 3, "replication")

    killed = demo.kill("db-primary")
    assert killed["killed"] == "db-a" and killed["role"] == "primary" and killed["exited"]
    health = http.get(f"{demo.url}/health")
    assert health.status_code == 503 and "db-a" in health.json()["reason"]
    for _ in range(4):
        assert http.post(f"{demo.url}/checkout", json={}).status_code == 503

    fired = receiver.wait(alert(("CheckoutErrorsHigh", "CheckoutDown"), "firing"), timeout=6)
    name = fired["groupLabels"]["alertname"]
    assert fired["version"] == "4" and fired["receiver"] == "gameday" and fired["truncatedAlerts"] == 0
    assert fired["groupKey"] == f'{{}}:{{alertname="{name}"}}'
    assert fired["externalURL"].startswith("http://127.0.0.1:")
    (a,) = fired["alerts"]
    assert a["status"] == "firing" and a["labels"]["alertname"] == name and a["labels"]["service"] == "checkout"
    assert a["labels"]["severity"] and a["annotations"]["summary"] and a["annotations"]["description"]
    assert RFC3339.match(a["startsAt"]) and a["endsAt"] == "0001-01-01T00:00:00Z"
    assert re.fullmatch(r"[0-9a-f]{16}", a["fingerprint"]) and a["generatorURL"].startswith(fired["externalURL"])
    assert fired["commonLabels"] == a["labels"] and fired["commonAnnotations"] == a["annotations"]

    promoted = demo.promote()
    assert promoted["promoted"] == "db-b" and promoted["previous"] == "db-a"
    assert http.get(f"{demo.url}/health").json() == {"status": "ok", "primary": "db-b"}
    after = [http.post(f"{demo.url}/checkout", json={}) for _ in range(40)]
    assert all(r.status_code == 201 and r.json()["db"] == "db-b" for r in after)
    for order in before:  # written before the failover, replicated, still there
        assert http.get(f"{replica}/orders/{order['order_id']}").json()["order"]["items"]

    resolved = receiver.wait(alert(name, "resolved"), timeout=8)
    (r,) = resolved["alerts"]
    assert r["fingerprint"] == a["fingerprint"] and r["startsAt"] == a["startsAt"] and RFC3339.match(r["endsAt"])


def test_hung_checkout_fires_checkout_down_until_continued(demo: DemoHandle, receiver: Receiver, http: httpx.Client) -> None:
    second = Receiver()  # PUT /webhooks takes effect at once
    demo.set_webhooks([receiver.url, second.url])
    stopped = demo.stop_process("checkout")
    assert stopped["stopped"] == "checkout"
    assert demo.status()["processes"]["checkout"]["state"] == "stopped"
    with pytest.raises(httpx.TimeoutException):
        http.get(f"{demo.url}/health", timeout=0.5)
    receiver.wait(alert("CheckoutDown", "firing"), timeout=4)
    second.wait(alert("CheckoutDown", "firing"), timeout=1)
    demo.continue_process("checkout")
    assert http.get(f"{demo.url}/health").status_code == 200
    receiver.wait(alert("CheckoutDown", "resolved"), timeout=4)
    second.wait(alert("CheckoutDown", "resolved"), timeout=1)
    second.server.shutdown()


def test_broken_catalog_fails_silently(demo: DemoHandle, receiver: Receiver, http: httpx.Client) -> None:
    assert demo.break_catalog() == {"catalog": "broken"}
    assert http.get(f"{demo.url}/products").status_code == 500
    assert http.get(f"{demo.url}/health").status_code == 200
    assert http.post(f"{demo.url}/checkout", json={}).status_code == 201
    assert demo.status()["catalog"] == "broken"
    time.sleep(4)
    assert receiver.firing() == []  # the gap the silent-failure scenario drills
    demo.restore_catalog()
    assert http.get(f"{demo.url}/products").status_code == 200


def test_old_primary_restarts_as_a_replica_and_catches_up(demo: DemoHandle, http: httpx.Client) -> None:
    demo.kill("db-a")
    demo.promote()
    orders = [http.post(f"{demo.url}/checkout", json={}).json()["order_id"] for _ in range(5)]
    restarted = demo.restart("db-a")
    assert restarted["restarted"] == "db-a" and restarted["was"] == "dead" and restarted["role"] == "replica"
    old = db_url(demo, "db-a")
    assert http.get(f"{old}/health").json()["role"] == "replica"
    assert http.post(f"{old}/orders", json={"order": {}}).status_code == 409
    wait_until(lambda: all(http.get(f"{old}/orders/{o}").status_code == 200 for o in orders), 3, "catch-up")
    status = demo.status()
    assert status["primary"] == "db-b" and status["processes"]["db-a"]["role"] == "replica"
    assert int(Path(demo.processes["db-a"]).read_text()) == restarted["pid"]
    demo.kill("db-a")
    with pytest.raises(DemoError, match="not running"):
        demo.kill("db-a")


def test_reset_gives_a_clean_slate(demo: DemoHandle, http: httpx.Client) -> None:
    demo.kill("db-primary")
    demo.promote()
    during = http.post(f"{demo.url}/checkout", json={}).json()
    assert during["db"] == "db-b"
    demo.kill("traffic")
    demo.stop_process("monitor")
    demo.break_catalog()
    result = demo.reset()
    assert result["primary"] == "db-a" and result["failed_back"]
    assert set(result["started"]) == {"db-a", "traffic"} and result["continued"] == ["monitor"]
    status = demo.status()
    assert status["primary"] == "db-a" and status["catalog"] == "ok"
    assert all(p["state"] == "running" for p in status["processes"].values())
    assert http.get(f"{demo.url}/products").status_code == 200
    assert http.get(f"{demo.url}/health").json()["primary"] == "db-a"
    assert http.get(f"{db_url(demo, 'db-a')}/orders/{during['order_id']}").status_code == 200  # fail-back lost nothing
    assert http.post(f"{demo.url}/checkout", json={}).json()["db"] == "db-a"


def test_control_api_edge_cases(demo: DemoHandle, http: httpx.Client) -> None:
    monitor = demo.stop_process("monitor")
    restarted = demo.restart("monitor")  # a hung process is continued, stopped and started again
    assert restarted["was"] == "stopped" and restarted["pid"] != monitor["pid"]
    assert http.get(f"{demo.state['processes']['monitor']['url']}/health").status_code == 200
    with pytest.raises(DemoError, match="no such process"):
        demo.kill("nope")
    with pytest.raises(DemoError, match="unknown signal"):
        demo.kill("traffic", "SIGNOPE")
    with pytest.raises(DemoError, match="urls"):
        demo.set_webhooks(["not-a-url"])
    assert demo.set_webhooks(["http://127.0.0.1:9/x"])["webhook_urls"] == ["http://127.0.0.1:9/x"]
    assert demo.refresh()["webhook_urls"] == ["http://127.0.0.1:9/x"]
