"""The Chaos Toolkit adapter against real chaoslib activities (python, process, http), off the main thread."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from gameday.adapters.chaostoolkit import ChaosToolkitInjector, ChaosToolkitRunner
from gameday.drill.injectors import injector_for_fault, injector_from_spec, runner_for_runbook
from gameday.errors import ConfigError
from gameday.model.scenario import Fault, Runbook
from gameday.ports import ChaosToolkitRollback

TARGETS = Path(__file__).resolve().parents[1] / "fixtures" / "targets"
pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _fixture_module_importable(monkeypatch):
    monkeypatch.syspath_prepend(str(TARGETS))


def py(name, func, **arguments):
    return {"type": "action", "name": name, "provider": {"type": "python", "module": "ctk_actions", "func": func, "arguments": arguments}}


def proc(name, path, *arguments):
    return {"type": "action", "name": name, "provider": {"type": "process", "path": path, "arguments": list(arguments)}}


def off_main_thread(fn):
    """Run ``fn`` in a worker thread, as the conductor does, and return its result."""
    box = {}
    worker = threading.Thread(target=lambda: box.update(value=fn()))
    worker.start()
    worker.join(30)
    assert not worker.is_alive()
    return box["value"]


@pytest.fixture
def http_server():
    class Handler(BaseHTTPRequestHandler):
        calls: list[str] = []

        def do_GET(self):
            Handler.calls.append(self.path)
            code = int(self.path.rsplit("/", 1)[-1]) if self.path.startswith("/status/") else 200
            body = json.dumps({"path": self.path}).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_POST = do_GET  # noqa: N815

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", Handler.calls
    server.shutdown()
    server.server_close()


def test_python_provider_injects_and_rolls_back_off_the_main_thread(tmp_path):
    marker = tmp_path / "marker"
    inj = ChaosToolkitInjector([py("write marker", "write_file", path=str(marker))], [py("delete marker", "delete_file", path=str(marker))],
                               owner="f1")  # fmt: skip
    result = off_main_thread(inj.inject)
    assert result.ok and marker.read_text() == "fault"
    (run,) = result.runs
    assert (run.name, run.phase, run.provider, run.status, run.error) == ("write marker", "method", "python", "succeeded", None)
    assert run.output == f"wrote {marker}" and run.duration >= 0
    assert isinstance(result.rollback, ChaosToolkitRollback)
    assert ChaosToolkitRollback.model_validate_json(result.rollback.model_dump_json()) == result.rollback

    back = off_main_thread(inj.rollback)
    assert back.ok and not marker.exists()
    assert [(r.name, r.phase, r.status) for r in back.runs] == [("delete marker", "rollback", "succeeded")]
    again = inj.rollback()  # idempotent: a second rollback after a good one does nothing
    assert again.ok and again.runs == []


def test_process_provider_nonzero_exit_fails_and_stops_the_method(tmp_path):
    marker = tmp_path / "touched"
    inj = ChaosToolkitInjector(
        [proc("touch", "touch", str(marker)), proc("fails", "false"), proc("never", "touch", str(tmp_path / "never"))],
        [proc("rm", "rm", "-f", str(marker))],
        owner="f2",
    )
    result = off_main_thread(inj.inject)
    assert not result.ok
    assert [(r.name, r.status) for r in result.runs] == [("touch", "succeeded"), ("fails", "failed")]
    assert result.runs[1].error.startswith("exit status 1") and result.runs[1].provider == "process"
    assert "fails" in result.error
    assert marker.exists() and not (tmp_path / "never").exists()
    assert off_main_thread(inj.rollback).ok and not marker.exists()


def test_http_provider_and_configuration_substitution(http_server):
    url, calls = http_server
    ok = {"type": "action", "name": "call ok", "provider": {"type": "http", "url": "${base}/fault", "method": "POST", "timeout": 2}}
    bad = {"type": "action", "name": "call 503", "provider": {"type": "http", "url": "${base}/status/503", "timeout": 2}}
    inj = ChaosToolkitInjector([ok], [bad], configuration={"base": url}, owner="f3")
    result = off_main_thread(inj.inject)
    assert result.ok and result.runs[0].provider == "http" and result.runs[0].output.startswith("HTTP 200")
    back = off_main_thread(inj.rollback)
    assert not back.ok and back.runs[0].error == "HTTP status 503"
    assert calls == ["/fault", "/status/503"]


def test_activity_failed_message_is_kept_plain():
    result = ChaosToolkitRunner([py("refuses", "refuse", message="control API did not answer")], owner="rb").run()
    assert not result.ok and result.runs[0].error == "control API did not answer"
    assert result.error == "refuses: control API did not answer"


def test_tolerance_decides_success():
    act = py("echo", "echo", value=3) | {"type": "probe", "tolerance": 4}
    run = ChaosToolkitRunner([act], owner="rb").run()
    assert not run.ok and "tolerance" in run.runs[0].error and run.runs[0].output == "3"


def test_rollback_runs_every_activity_even_if_one_fails(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    inj = ChaosToolkitInjector(
        [py("write a", "write_file", path=str(a)), py("write b", "write_file", path=str(b))],
        [py("delete a", "delete_file", path=str(a)), py("explodes", "boom", message="no luck"), py("delete b", "delete_file", path=str(b))],
        owner="f4",
    )
    assert off_main_thread(inj.inject).ok
    back = off_main_thread(inj.rollback)
    assert not back.ok
    assert [(r.name, r.status) for r in back.runs] == [("delete a", "succeeded"), ("explodes", "failed"), ("delete b", "succeeded")]
    assert back.runs[1].error == "RuntimeError: no luck"
    assert not a.exists() and not b.exists()
    assert len(inj.rollback().runs) == 3  # a failed rollback is retried in full


def test_python_provider_timeout_is_enforced():
    slow = py("sleeps", "sleep_for", seconds=3) | {"timeout": 0.3}
    inj = ChaosToolkitInjector([slow], [py("noop", "echo", value=1)], owner="f5")
    started = time.monotonic()
    result = off_main_thread(inj.inject)
    assert time.monotonic() - started < 1.5
    assert not result.ok and result.runs[0].error.startswith("timed out after 0.3s")


def test_pauses_are_honoured():
    act = py("echo", "echo", value="x") | {"pauses": {"before": 0.2, "after": "${pause}"}}
    started = time.monotonic()
    result = ChaosToolkitRunner([act], configuration={"pause": 0.2}, owner="rb").run()
    assert result.ok and time.monotonic() - started >= 0.4


def test_from_experiment_merges_configuration_secrets_and_refs(tmp_path, monkeypatch):
    monkeypatch.setenv("GAMEDAY_TEST_TOKEN", "s3cret")
    marker = tmp_path / "m"
    experiment = {
        "title": "write then delete",
        "configuration": {"path": "/nonexistent/overridden", "text": {"type": "env", "key": "GAMEDAY_TEST_TEXT", "default": "dflt"}},
        "secrets": {"auth": {"token": {"type": "env", "key": "GAMEDAY_TEST_TOKEN"}}},
        "steady-state-hypothesis": {"title": "x", "probes": [py("probe", "echo", value="${token}") | {"type": "probe", "tolerance": "s3cret"}]},
        "method": [py("write", "write_file", path="${path}", text="${text}"), {"ref": "probe"}],
        "rollbacks": [py("delete", "delete_file", path="${path}")],
    }
    inj = ChaosToolkitInjector.from_experiment(experiment, {"path": str(marker)}, owner="kill-primary")
    result = off_main_thread(inj.inject)
    assert result.ok, result.error
    assert [r.name for r in result.runs] == ["write", "probe"] and marker.read_text() == "dflt"
    spec = result.rollback
    assert isinstance(spec, ChaosToolkitRollback)
    assert spec.configuration["path"] == str(marker)
    assert spec.secrets == {"auth": {"token": {"type": "env", "key": "GAMEDAY_TEST_TOKEN"}}}  # never the resolved value
    assert "s3cret" not in spec.model_dump_json()
    back = off_main_thread(injector_from_spec(ChaosToolkitRollback.model_validate_json(spec.model_dump_json())).rollback)
    assert back.ok and not marker.exists()


def test_factory_builds_fault_and_runbook_injectors(tmp_path):
    marker = tmp_path / "f"
    fault = Fault(id="inline", at="1s", activities=[py("w", "write_file", path="${p}")], rollbacks=[py("d", "delete_file", path="${p}")])
    inj = injector_for_fault(fault, target={"configuration": {"p": "/nowhere"}}, configuration={"p": str(marker)})
    assert inj.inject().ok and marker.exists()
    assert inj.rollback().ok and not marker.exists()
    runner = runner_for_runbook(Runbook(activities=[py("w", "write_file", path=str(marker))]), name="fix")
    result = runner.run()
    assert result.ok and result.runs[0].phase == "runbook" and marker.exists()
    exp = {"title": "t", "method": [py("d", "delete_file", path=str(marker))], "rollbacks": [py("never", "boom")]}
    result = runner_for_runbook(Runbook(experiment="x.yaml"), name="fix", experiment=exp).run()
    assert result.ok and [r.name for r in result.runs] == ["d"] and not marker.exists()


def test_bad_faults_are_refused_at_construction():
    with pytest.raises(ConfigError, match="no rollbacks"):
        ChaosToolkitInjector([py("w", "echo", value=1)], [], owner="f")
    with pytest.raises(ConfigError, match="'nope' is invalid"):
        ChaosToolkitInjector([py("nope", "no_such_function")], [py("d", "echo", value=1)], owner="f")
    with pytest.raises(ConfigError, match="GAMEDAY_TEST_MISSING"):
        ChaosToolkitInjector([py("w", "echo", value=1)], [py("d", "echo", value=1)],
                             configuration={"x": {"type": "env", "key": "GAMEDAY_TEST_MISSING"}})  # fmt: skip


def test_importing_adapters_loads_no_heavy_library():
    code = (
        "import sys, gameday.cli, gameday.drill.injectors, gameday.drill.ledger, gameday.adapters.chaostoolkit, gameday.adapters.probes; "
        "heavy = [m for m in ('chaoslib', 'httpx', 'requests') if m in sys.modules]; assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
