"""Run a real Prometheus and Alertmanager on loopback for a drill, and talk to Alertmanager's API v2.

::

    stack = MonitoringStack(targets, rule_files, webhook_url).start()   # ready, targets scraped
    stack.prometheus_url, stack.alertmanager_url
    stack.stop()                                                        # idempotent; tmp dir removed

The binaries are Debian's (``prometheus``, ``prometheus-alertmanager``; ``alertmanager``
elsewhere), run directly with generated configuration in a fresh temporary folder, on
free loopback ports, with clustering off (``--cluster.listen-address=``). They run in their
own session (a Ctrl-C of the terminal is the drill's to handle, not theirs) and get
SIGTERM from the kernel if the thread that started them dies (``PR_SET_PDEATHSIG``), so a
``kill -9`` of gameday never leaves them behind.

Errors are :class:`~gameday.errors.InfrastructureError` (exit 3) with the binary's last
log lines.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from gameday.errors import InfrastructureError
from gameday.monitoring.config import ScrapeTarget, alertmanager_config, prometheus_config

READY_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0
START_ATTEMPTS = 3


def find_binary(*names: str) -> str | None:
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    return None


def prometheus_binary() -> str | None:
    return find_binary("prometheus")


def alertmanager_binary() -> str | None:
    return find_binary("prometheus-alertmanager", "alertmanager")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pdeathsig_setter():
    """A preexec function that makes the child get SIGTERM when its parent thread dies (Linux), or None.

    libc is loaded here, in the parent: only the prctl call itself runs between fork and exec.
    """
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux: the stack's stop() still ends them
        return None
    prctl.restype = ctypes.c_int
    term = int(signal.SIGTERM)

    def set_pdeathsig() -> None:
        prctl(1, term, 0, 0, 0)  # PR_SET_PDEATHSIG

    return set_pdeathsig


def http(method: str, url: str, body: Any = None, timeout: float = 2.0, token: str | None = None) -> tuple[int, Any]:
    """A small JSON HTTP call (standard library: this runs inside ``demo up`` too). (status, parsed body or text)."""
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"} if data is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(req, timeout=timeout) as resp:
            raw, status = resp.read(), resp.status
    except urllib.error.HTTPError as exc:
        raw, status = exc.read(), exc.code
    text = raw.decode("utf-8", errors="replace")
    try:
        return status, json.loads(text) if text.strip() else None
    except ValueError:
        return status, text


@dataclass
class _Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    url: str

    def tail(self, lines: int = 6) -> str:
        try:
            text = self.log.read_text(errors="replace").strip().splitlines()
        except OSError:
            return "(no log)"
        return " | ".join(text[-lines:]) + f" (log: {self.log})"


class MonitoringStack:
    """A Prometheus scraping ``targets`` and evaluating ``rule_files``, alerting an Alertmanager that posts to ``webhook_url``."""

    def __init__(self, targets: Sequence[ScrapeTarget], rule_files: Iterable[Path | str], webhook_url: str | None, *,
                 token: str | None = None, workdir: Path | None = None, keep_workdir: bool = False,
                 env: dict[str, str] | None = None):
        self.targets = list(targets)
        self.rule_files = [Path(p).resolve() for p in rule_files]
        self.webhook_url = webhook_url
        self.token = token
        self._given_workdir = workdir
        self._keep = keep_workdir
        self.env = env
        self.workdir: Path | None = None
        self.prometheus: _Proc | None = None
        self.alertmanager: _Proc | None = None
        self._stopped = False

    # ------------------------------------------------------------------ life cycle
    @property
    def prometheus_url(self) -> str:
        assert self.prometheus is not None, "stack not started"
        return self.prometheus.url

    @property
    def alertmanager_url(self) -> str:
        assert self.alertmanager is not None, "stack not started"
        return self.alertmanager.url

    @property
    def alertmanager_config_path(self) -> Path:
        assert self.workdir is not None
        return self.workdir / "alertmanager.yml"

    def start(self, wait_targets: float = 15.0) -> MonitoringStack:
        """Write the configuration, start both binaries, wait until both answer ``/-/ready``, then (unless
        ``wait_targets`` is 0) until Prometheus monitors for real (:meth:`wait_scraped`; InfrastructureError if not)."""
        if self.prometheus is not None or self._stopped:
            raise InfrastructureError("this monitoring stack was already started")
        prom_bin, am_bin = prometheus_binary(), alertmanager_binary()
        missing = [n for n, b in (("prometheus", prom_bin), ("prometheus-alertmanager", am_bin)) if b is None]
        if missing:
            raise InfrastructureError(f"{' and '.join(missing)} not found on PATH (Debian: apt-get install "
                                      "prometheus prometheus-alertmanager)")
        for f in self.rule_files:
            if not f.is_file():
                raise InfrastructureError(f"alert rule file {f} does not exist")
        self.workdir = self._given_workdir or Path(tempfile.mkdtemp(prefix="gameday-monitoring-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        try:
            self.alertmanager = self._launch("alertmanager", lambda port: [
                str(am_bin), f"--config.file={self.write_alertmanager_config(self.webhook_url)}",
                f"--storage.path={self.workdir / 'alertmanager-data'}", f"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=", "--log.level=info"])
            am_address = self.alertmanager.url.split("//", 1)[1]
            prom_config = self.workdir / "prometheus.yml"
            prom_config.write_text(prometheus_config(self.targets, self.rule_files, am_address))
            self.prometheus = self._launch("prometheus", lambda port: [
                str(prom_bin), f"--config.file={prom_config}", f"--storage.tsdb.path={self.workdir / 'prometheus-data'}",
                f"--web.listen-address=127.0.0.1:{port}", "--web.enable-lifecycle", "--storage.tsdb.retention.time=1d",
                "--log.level=info"])
            if wait_targets > 0 and not self.wait_scraped(wait_targets):
                raise InfrastructureError(f"Prometheus {self.prometheus_url} did not scrape its targets (or find its "
                                          f"Alertmanager) within {wait_targets:g}s: {self.prometheus.tail()}")
        except BaseException:
            self.stop()
            raise
        return self

    def write_alertmanager_config(self, webhook_url: str | None, receiver: str = "gameday") -> Path:
        """(Re)write ``alertmanager.yml`` for ``webhook_url`` (the bearer token, if any, in a 0600 file beside it)."""
        assert self.workdir is not None
        token_file = None
        if self.token and webhook_url:
            token_file = self.workdir / "webhook-token"
            fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(self.token)
        path = self.workdir / "alertmanager.yml"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(alertmanager_config(webhook_url, receiver=receiver, token_file=token_file))
        os.replace(tmp, path)
        return path

    def _launch(self, name: str, argv_for_port) -> _Proc:
        """Start one binary on a free port (retrying on a lost race for the port) and wait until ``/-/ready``."""
        assert self.workdir is not None
        last = ""
        preexec = _pdeathsig_setter()
        for _ in range(START_ATTEMPTS):
            port = free_port()
            log = self.workdir / f"{name}.log"
            with open(log, "ab") as out:
                popen = subprocess.Popen(argv_for_port(port), cwd=self.workdir, stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=preexec,
                                         env=self.env)
            proc = _Proc(name, popen, log, f"http://127.0.0.1:{port}")
            if self._wait_ready(proc):
                return proc
            last = proc.tail()
            _terminate(proc.popen)
            if "address already in use" not in last:
                break
        raise InfrastructureError(f"{name} did not become ready within {READY_TIMEOUT:g}s: {last}")

    def _wait_ready(self, proc: _Proc) -> bool:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if proc.popen.poll() is not None:
                return False
            try:
                if http("GET", f"{proc.url}/-/ready", timeout=0.5)[0] == 200:
                    return True
            except OSError:
                pass
            time.sleep(0.02)
        return False

    def wait_scraped(self, timeout: float) -> bool:
        """Wait until Prometheus monitors for real: every target scraped once, every rule group evaluated,
        and its notifier knows the Alertmanager.

        Prometheus 2.42 hands new targets (and Alertmanagers) from discovery to the scrape
        manager (and notifier) on a 5 s tick, so this takes about 6 s after start-up.
        """
        return _wait_monitoring(self.prometheus_url, len(self.targets), timeout)
    def stop(self) -> None:
        """SIGTERM both (SIGKILL after a while), reap them, remove the temporary folder. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        procs = [p for p in (self.prometheus, self.alertmanager) if p is not None]
        for p in procs:
            if p.popen.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    p.popen.send_signal(signal.SIGTERM)
        for p in procs:
            _terminate(p.popen)
        if self.workdir is not None and not self._keep and self._given_workdir is None:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> MonitoringStack:
        return self if self.prometheus is not None else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def pids(self) -> list[int]:
        return [p.popen.pid for p in (self.prometheus, self.alertmanager) if p is not None]


def monitoring_ready(prometheus_url: str, expected_targets: int) -> bool:
    """True once every target was scraped, every rule group evaluated, and an Alertmanager is known."""
    try:
        status, body = http("GET", f"{prometheus_url}/api/v1/targets?state=active", timeout=1.0)
        active = body["data"]["activeTargets"] if status == 200 else []
        if len(active) < expected_targets or any(t.get("health") == "unknown" for t in active):
            return False
        status, body = http("GET", f"{prometheus_url}/api/v1/rules", timeout=1.0)
        if status != 200 or any(g["lastEvaluation"].startswith("0001") for g in body["data"]["groups"]):
            return False
        status, body = http("GET", f"{prometheus_url}/api/v1/alertmanagers", timeout=1.0)
        return status == 200 and bool(body["data"]["activeAlertmanagers"])
    except (OSError, KeyError, TypeError, ValueError, AttributeError):
        return False


def _wait_monitoring(prometheus_url: str, expected_targets: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if monitoring_ready(prometheus_url, expected_targets):
            return True
        time.sleep(0.05)
    return False


def _terminate(popen: subprocess.Popen[bytes]) -> None:
    if popen.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            popen.send_signal(signal.SIGTERM)
    try:
        popen.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        popen.kill()
        popen.wait(STOP_TIMEOUT)


# ------------------------------------------------------------------------------- Alertmanager API
class Alertmanager:
    """The parts of Alertmanager's API the drill uses: reload, silences (v2), alerts (v2)."""

    def __init__(self, url: str, timeout: float = 3.0):
        self.url = url.rstrip("/")
        self.timeout = timeout

    def reload(self) -> None:
        status, body = http("POST", f"{self.url}/-/reload", timeout=self.timeout)
        if status != 200:
            raise InfrastructureError(f"Alertmanager {self.url} refused to reload its configuration ({status}): {body}")

    def create_silence(self, matchers: list[dict[str, Any]], duration: float, comment: str, created_by: str = "gameday") -> str:
        now = datetime.now(UTC)
        body = {"matchers": matchers, "startsAt": _rfc3339(now), "endsAt": _rfc3339(now + timedelta(seconds=duration)),
                "createdBy": created_by, "comment": comment}
        try:
            status, answer = http("POST", f"{self.url}/api/v2/silences", body, timeout=self.timeout)
        except OSError as exc:
            raise InfrastructureError(f"cannot create a silence in Alertmanager {self.url}: {exc}") from None
        if status != 200 or not isinstance(answer, dict) or "silenceID" not in answer:
            raise InfrastructureError(f"Alertmanager {self.url} refused the drill's silence ({status}): {answer}")
        return str(answer["silenceID"])

    def delete_silence(self, silence_id: str) -> None:
        status, answer = http("DELETE", f"{self.url}/api/v2/silence/{silence_id}", timeout=self.timeout)
        if status not in (200, 404):
            raise InfrastructureError(f"Alertmanager {self.url} did not remove silence {silence_id} ({status}): {answer}")

    def silence(self, silence_id: str) -> dict[str, Any] | None:
        status, answer = http("GET", f"{self.url}/api/v2/silence/{silence_id}", timeout=self.timeout)
        return answer if status == 200 and isinstance(answer, dict) else None

    def alerts(self) -> list[dict[str, Any]]:
        status, answer = http("GET", f"{self.url}/api/v2/alerts", timeout=self.timeout)
        return answer if status == 200 and isinstance(answer, list) else []


def _rfc3339(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
