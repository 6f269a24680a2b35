"""Steady-state probes against real loopback servers and processes."""

from __future__ import annotations

import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from gameday.adapters.probes import HttpProbe, ProcessProbe, build_probes
from gameday.errors import ConfigError
from gameday.model.scenario import Check

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "targets"))
from harness import free_port, kill_quietly, read_pid, start_tiny, wait_for  # noqa: E402

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server():
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True
        connections: set[int] = set()

        def do_GET(self):  # noqa: N802
            Handler.connections.add(self.client_address[1])
            if self.path.startswith("/slow"):
                time.sleep(1.0)
            code = 503 if self.path == "/down" else 200
            body = b"all good: checkout ok" if code == 200 else b"down"
            self.send_response(code)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_HEAD = do_GET  # noqa: N815

        def log_message(self, *args):
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request, client_address):  # a timed-out probe hangs up: not news
            pass

    srv = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}", Handler.connections
    srv.shutdown()
    srv.server_close()


def http_check(url, **kw):
    return Check(name="c", http={"url": url, **kw})


def test_ok_reuses_one_keepalive_connection(server):
    url, connections = server
    probe = HttpProbe(http_check("{target.url}/health"), url + "/")
    assert probe.url == f"{url}/health"
    connections.clear()
    observations = [probe.probe() for _ in range(20)]
    assert all(o.ok and o.detail == "status 200" and o.check == "c" for o in observations)
    assert len(connections) == 1
    probe.close()


def test_status_mismatch_and_body_contains(server):
    url, _ = server
    assert HttpProbe(http_check(f"{url}/down"), None).probe().detail == "status 503"
    assert HttpProbe(http_check(f"{url}/down", expect_status=503), None).probe().ok
    assert HttpProbe(http_check(f"{url}/", body_contains="checkout ok"), None).probe().ok
    missing = HttpProbe(http_check(f"{url}/", body_contains="nope"), None).probe()
    assert not missing.ok and missing.detail == "status 200 but body lacks 'nope'"


def test_connection_refused_and_timeout(server):
    url, _ = server
    refused = HttpProbe(http_check(f"http://127.0.0.1:{free_port()}/"), None).probe()
    assert not refused.ok and refused.detail == "connection refused"
    started = time.monotonic()
    slow = HttpProbe(http_check(f"{url}/slow", timeout="200ms"), None).probe()
    assert not slow.ok and slow.detail == "timeout after 0.2s"
    assert time.monotonic() - started < 0.9


def test_probing_is_cheap_and_thread_safe(server):
    url, _ = server
    probe = HttpProbe(http_check(f"{url}/health"), None)
    results, started = [], time.monotonic()

    def worker():
        for _ in range(25):
            results.append(probe.probe().ok)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 100 and all(results)
    assert time.monotonic() - started < 2.5  # far above 4 Hz per check
    probe.close()


def test_process_probe(server, tmp_path):
    url, _ = server
    port, pid_file = free_port(), tmp_path / "p.pid"
    proc = start_tiny(port, pid_file)
    try:
        checks = [http_check(f"{url}/health"), Check(process={"process": "web"})]
        probes = build_probes(checks, url, {"web": {"pid_file": str(pid_file)}})
        assert isinstance(probes[1], ProcessProbe)
        first = [p.probe() for p in probes]
        assert [o.ok for o in first] == [True, True] and first[1].check == "process web"
        assert first[1].detail == f"pid {proc.pid} running"
        proc.send_signal(19)  # SIGSTOP: delivered asynchronously
        assert wait_for(lambda: not probes[1].probe().ok, 3)
        stopped = probes[1].probe()
        assert not stopped.ok and stopped.detail == f"pid {proc.pid} stopped"
        kill_quietly(read_pid(pid_file))
        gone = probes[1].probe()
        assert not gone.ok and gone.detail.startswith("no process matches pid file")
        for p in probes:
            p.close()
    finally:
        kill_quietly(proc.pid)


def test_configuration_errors():
    with pytest.raises(ConfigError, match="target has no url"):
        HttpProbe(http_check("{target.url}/x"), None)
    with pytest.raises(ConfigError, match="no process named 'db'"):
        ProcessProbe(Check(process={"process": "db"}), {})
