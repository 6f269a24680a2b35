"""The Python API of the demo: start, attach to, drive and stop it (used by the CLI and the conductor).

::

    handle = start_demo(state_dir, webhook_urls=["http://127.0.0.1:9000/alerts"])
    handle.url            # checkout base URL
    handle.kill("db-primary"); handle.promote(); handle.reset()
    handle.stop()         # idempotent; every process reaped

The supervisor runs in its own session with its output in ``state_dir/demo/logs/``, so it
survives the death of the process that started it (``gameday recover`` needs it after a
``kill -9`` of the conductor). :func:`attach_demo` finds a running demo again.
Failures raise :class:`~gameday.errors.DemoError`; a bad CPU setting (``cpus=``,
``$GAMEDAY_DEMO_CPUS``) raises :class:`~gameday.errors.ConfigError` before anything starts.
Standard library only.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gameday.adapters.pids import live_state
from gameday.demo.httpkit import HTTPFailure, request_json
from gameday.demo.leftovers import clean_leftovers
from gameday.demo.proc import child_env, pid_alive, wait_gone
from gameday.errors import ConfigError, DemoError, InfrastructureError
from gameday.model.cpus import DEMO_CPUS_ENV, check_setting

STOP_TIMEOUT = 10.0
SLOW_STOP_TIMEOUT = 30.0  # a demo of containers or namespaces: more to stop and remove


def _demo_dir(state_dir: Path | str) -> Path:
    return Path(state_dir).resolve() / "demo"


def read_state(state_dir: Path | str) -> dict[str, Any] | None:
    """The demo's ``state.json`` if a live supervisor wrote it; stale files are cleaned up."""
    demo_dir = _demo_dir(state_dir)
    state = live_state(demo_dir / "state.json", "gameday.demo.supervisor")
    if state is None:
        _clean_stale(demo_dir)
    return state


def _clean_stale(demo_dir: Path) -> None:
    """Remove what a dead supervisor left behind (state and pid files; logs and data stay)."""
    (demo_dir / "state.json").unlink(missing_ok=True)
    for pid_file in (demo_dir / "run").glob("*.pid"):
        pid_file.unlink(missing_ok=True)


class DemoHandle:
    """A running demo: its URLs, its state, and the operations of the control API."""

    def __init__(self, state_dir: Path, state: dict[str, Any], popen: subprocess.Popen[bytes] | None = None):
        self.state_dir = Path(state_dir)
        self.state = state
        self._popen = popen
        self._stopped = False
        #: what a stop that had to kill the supervisor removed (or could not) of its containers and namespaces
        self.notes: list[str] = []

    def __repr__(self) -> str:
        return f"DemoHandle(url={self.url!r}, control_url={self.control_url!r}, pid={self.pid})"

    def __enter__(self) -> DemoHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The checkout API's base URL."""
        return str(self.state["url"])

    @property
    def control_url(self) -> str:
        return str(self.state["control_url"])

    @property
    def pid(self) -> int:
        """The supervisor's pid."""
        return int(self.state["pid"])

    @property
    def processes(self) -> dict[str, str]:
        """Process name → pid file."""
        return {name: str(p["pid_file"]) for name, p in self.state["processes"].items()}

    def request(self, method: str, path: str, body: Any = None, timeout: float = 15.0) -> dict[str, Any]:
        """Call the control API; DemoError on failure."""
        try:
            status, result = request_json(method, f"{self.control_url}{path}", body, timeout=timeout)
        except HTTPFailure as exc:
            raise DemoError(f"demo control API did not answer: {exc}") from None
        if status >= 300:
            message = result.get("error") if isinstance(result, dict) else result
            raise DemoError(f"demo: {method} {path} failed ({status}): {message}")
        return result if isinstance(result, dict) else {"result": result}

    def status(self) -> dict[str, Any]:
        return self.request("GET", "/status")

    def refresh(self) -> dict[str, Any]:
        """Re-read ``state.json`` (pids change when processes restart)."""
        state = read_state(self.state_dir)
        if state is not None:
            self.state = state
        return self.state

    def kill(self, name: str, signal_name: str = "SIGKILL") -> dict[str, Any]:
        return self.request("POST", f"/kill/{name}", {"signal": signal_name})

    def stop_process(self, name: str) -> dict[str, Any]:
        return self.request("POST", f"/stop/{name}")

    def continue_process(self, name: str) -> dict[str, Any]:
        return self.request("POST", f"/cont/{name}")

    def restart(self, name: str) -> dict[str, Any]:
        return self.request("POST", f"/restart/{name}")

    def promote(self) -> dict[str, Any]:
        return self.request("POST", "/promote")

    def break_catalog(self) -> dict[str, Any]:
        return self.request("POST", "/catalog/break")

    def restore_catalog(self) -> dict[str, Any]:
        return self.request("POST", "/catalog/restore")

    def set_webhooks(self, urls: Iterable[str]) -> dict[str, Any]:
        """Where the demo's monitoring posts Alertmanager webhooks (replaces the list)."""
        result = self.request("PUT", "/webhooks", {"urls": list(urls)})
        self.state["webhook_urls"] = result.get("webhook_urls", [])
        return result

    def reset(self) -> dict[str, Any]:
        """A clean slate: everything running, catalog restored, db-a primary."""
        result = self.request("POST", "/reset", timeout=30.0)
        self.refresh()
        return result

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Stop the demo and wait until the supervisor (and with it every child) is gone. Idempotent."""
        if self._stopped:
            return
        pid = self.pid
        try:
            request_json("POST", f"{self.control_url}/shutdown", timeout=2.0)
        except HTTPFailure:
            if pid_alive(pid):
                _signal(pid, signal.SIGTERM)
        runtime = self.state.get("runtime") or {}
        if runtime.get("kind") == "docker" or runtime.get("netns"):
            timeout = max(timeout, SLOW_STOP_TIMEOUT)  # containers stop through the engine, one by one
        if not self._wait(pid, timeout):
            _signal(pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)  # children share the supervisor's process group
            self._wait(pid, 5.0)
        self.notes = clean_leftovers(_demo_dir(self.state_dir))  # what a killed or failing supervisor left, if any
        _clean_stale(_demo_dir(self.state_dir))
        self._stopped = True

    def _wait(self, pid: int, timeout: float) -> bool:
        if self._popen is not None and self._popen.pid == pid:
            try:
                self._popen.wait(timeout)
                return True
            except subprocess.TimeoutExpired:
                return False
        return wait_gone(pid, timeout)


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def attach_demo(state_dir: Path | str) -> DemoHandle | None:
    """A handle on the demo already running for ``state_dir``, or None."""
    state = read_state(state_dir)
    return DemoHandle(Path(state_dir), state) if state else None


@dataclass(frozen=True)
class DockerSettings:
    """``gameday demo up --docker``: the services run as containers. ``host``: the Docker engine (None:
    ``DOCKER_HOST``, else its default socket); ``image``: the image to run (None: built here from this
    machine's Python, see :mod:`gameday.demo.image`); ``python``: the interpreter that image is built from."""

    host: str | None = None
    image: str | None = None
    python: str | None = None


def engine_api(settings: DockerSettings) -> Any:
    """A ``docker.APIClient`` of the engine ``settings`` name that answered a ping. ConfigError without the Docker
    SDK or with an address it cannot parse; DemoError when no engine answers there."""
    try:
        from docker.errors import DockerException
    except ImportError:
        raise ConfigError("the demo's containers need the Docker SDK: pip install 'gameday[docker]'") from None
    from gameday.adapters.docker import api_client, engine_host
    from gameday.errors import InjectionError

    where = engine_host(settings.host)
    try:
        api = api_client(where)
        api.ping()
    except (DockerException, InjectionError) as exc:
        raise DemoError(f"no Docker engine answers at {where}: {exc}") from None
    except ValueError as exc:  # an address the SDK cannot parse (given, or in DOCKER_HOST)
        raise ConfigError(f"the Docker engine's address {where!r} is not one: {exc}") from None
    return api


def docker_image(settings: DockerSettings, echo: Callable[[str], None] | None = None) -> str:
    """The image the demo's containers run, ready on the engine: built here when none is named, pulled when
    the named one is missing (from the team's registry). ConfigError without the Docker SDK; DemoError when
    the engine does not answer or has no such image."""
    from docker.errors import DockerException, ImageNotFound

    from gameday.demo.image import ensure_image

    api = engine_api(settings)
    where = settings.host or os.environ.get("DOCKER_HOST") or "the default socket"
    if settings.image is None:
        try:
            return ensure_image(api, settings.python, echo)
        except InfrastructureError as exc:
            raise DemoError(str(exc)) from None
    try:
        api.inspect_image(settings.image)
    except ImageNotFound:
        try:
            api.pull(settings.image)
        except DockerException as exc:
            raise DemoError(f"the image {settings.image!r} is not on the engine at {where} and could not be pulled: "
                            f"{exc}") from None
    except DockerException as exc:
        raise DemoError(f"the Docker engine at {where} did not answer: {exc}") from None
    return settings.image


def start_demo(state_dir: Path | str, webhook_urls: Iterable[str] = (), detach: bool = False, timeout: float = 15,
               cpus: str | None = None, docker: DockerSettings | None = None,
               echo: Callable[[str], None] | None = None, netns: bool = False) -> DemoHandle:
    """Start the demo for ``state_dir`` and wait until every process answers.

    The supervisor always gets its own session; ``detach=True`` additionally lets go of it
    (the handle does not keep the child process object, as for ``gameday demo up``).
    ``cpus``: the demo's CPU placement (``auto``, ``all``, a CPU list; default
    ``$GAMEDAY_DEMO_CPUS``, else ``auto``: off the lowest CPU of this process, left to the
    conductor), see :mod:`gameday.demo.supervisor`; a bad one (given or from the variable) is a
    ConfigError (exit 2) before any folder or process is made. Refuses with DemoError if a demo
    already runs for ``state_dir``. ``docker``: run the services as containers (see
    :class:`DockerSettings`); the image is made ready first (``echo`` says when it is built). ``netns``: the
    databases in network namespaces of their own (:mod:`gameday.demo.netns`; needs root and iproute2).
    """
    cpus = _cpu_setting(cpus)
    state_dir = Path(state_dir).resolve()
    demo_dir = _demo_dir(state_dir)
    running = read_state(state_dir)
    if running:
        raise DemoError(f"a demo is already running for {state_dir} (supervisor pid {running['pid']}, checkout {running['url']})")
    for line in clean_leftovers(demo_dir):  # a killed supervisor's containers or namespaces
        if echo is not None:
            echo(f"demo: {line} (left by a demo that was killed)")
    log_dir = demo_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / "supervisor.log"
    argv = [sys.executable, "-m", "gameday.demo.supervisor", "--state-dir", str(state_dir)]
    for url in webhook_urls:
        argv += ["--webhook-url", url]
    if cpus is not None:
        argv += ["--cpus", cpus]
    if netns and docker is not None:
        raise ConfigError("the demo runs either in containers (--docker) or with its databases in namespaces (--netns)")
    if netns and os.geteuid() != 0:
        raise ConfigError("the demo's network namespaces (--netns) need root")
    if netns:
        argv += ["--netns"]
    if docker is not None:
        argv += ["--docker-image", docker_image(docker, echo)]
        engine = docker.host or os.environ.get("DOCKER_HOST")  # recorded as it is now: drills compare it
        argv += ["--docker-host", engine] if engine else []
    popen: subprocess.Popen[bytes] | None = None
    try:
        with _signals_held(), open(log_path, "ab") as log:  # a signal now is raised once ``popen`` is known
            popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                     env=child_env(), start_new_session=True, close_fds=True)
        handle = _wait_started(state_dir, popen, log_path, timeout)
    except BaseException:  # interrupted (SIGINT) or failed while starting: leave no demo behind
        if popen is None:
            raise
        _signal(popen.pid, signal.SIGTERM)
        try:
            popen.wait(SLOW_STOP_TIMEOUT)  # the supervisor finishes starting its children, then stops them all
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(popen.pid, signal.SIGKILL)  # its own session: the group is the whole demo
            popen.wait(5)
            clean_leftovers(demo_dir)
        raise
    if detach:
        handle._popen = None
    return handle


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM are noted, not acted on, while the supervisor is spawned, then raised again as the
    block ends: a signal arriving between the fork and the assignment of its ``Popen`` would otherwise
    interrupt the set-up with the supervisor running and nothing left to stop it. Off the main thread
    (where no Python signal handler runs) it does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    previous = {s: signal.signal(s, lambda signum, _frame: held.append(signum)) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        if held:
            signal.raise_signal(held[0])  # the handler the set-up had (e.g. raise KeyboardInterrupt) runs now


def _cpu_setting(cpus: str | None) -> str | None:
    """``cpus``, else ``$GAMEDAY_DEMO_CPUS`` (empty: unset, as the supervisor reads it), checked and
    canonical; None when neither is given (the supervisor's own default, ``auto``)."""
    source = "demo --cpus"
    if cpus is None:
        cpus, source = os.environ.get(DEMO_CPUS_ENV) or None, f"${DEMO_CPUS_ENV}"
        if cpus is None:
            return None
    try:
        return check_setting(cpus)
    except ValueError as exc:
        raise ConfigError(f"{source}: {exc}") from None


def _wait_started(state_dir: Path, popen: subprocess.Popen[bytes], log_path: Path, timeout: float) -> DemoHandle:
    deadline = time.monotonic() + timeout
    path = _demo_dir(state_dir) / "state.json"
    while time.monotonic() < deadline:
        if popen.poll() is not None:
            raise DemoError(f"the demo supervisor exited with code {popen.returncode}: {_tail(log_path)}")
        try:
            state = json.loads(path.read_text())
        except (OSError, ValueError):
            state = None
        if isinstance(state, dict) and state.get("pid") == popen.pid:
            handle = DemoHandle(state_dir, state, popen)
            if all(p["alive"] for p in handle.status()["processes"].values()):
                return handle
        time.sleep(0.02)
    _signal(popen.pid, signal.SIGTERM)
    try:
        popen.wait(SLOW_STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(popen.pid, signal.SIGKILL)
        popen.wait(5)
        clean_leftovers(_demo_dir(state_dir))
    raise DemoError(f"the demo did not start within {timeout:g}s: {_tail(log_path)}")


def _tail(path: Path, lines: int = 5) -> str:
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "(no log)"
    return " | ".join(text[-lines:]) + f" (log: {path})"


# --- the CLI's entry points -----------------------------------------------------------------------


def demo_up(state_dir: Path | str, webhook_url: str | None = None, cpus: str | None = None,
            docker: DockerSettings | None = None, echo: Callable[[str], None] | None = None,
            netns: bool = False) -> dict[str, Any]:
    """``gameday demo up``: start detached; returns the state (``url``, ``control_url``, ``processes``,
    ``cpus_note``, ``runtime``...). ``cpus``, ``docker``, ``netns``: see :func:`start_demo`."""
    handle = start_demo(state_dir, [webhook_url] if webhook_url else (), detach=True, cpus=cpus, docker=docker, echo=echo,
                        netns=netns)
    return handle.state


def demo_down(state_dir: Path | str) -> str:
    """``gameday demo down``: stop the demo; a one-line message."""
    handle = attach_demo(state_dir)
    if handle is None:
        left = clean_leftovers(_demo_dir(state_dir))  # a killed supervisor's containers or namespaces
        return "; ".join(["demo is not running", *left])
    handle.stop()
    return "; ".join([f"demo stopped (supervisor pid {handle.pid})", *handle.notes])


def runtime_lines(runtime: dict[str, Any]) -> list[str]:
    """How the demo runs, for people: its containers' engine and image, its namespaces (nothing for processes)."""
    lines = []
    if runtime.get("kind") == "docker":
        lines.append(f"containers on {runtime.get('docker_host') or 'the default Docker engine'}, image {runtime.get('image')}")
    if runtime.get("netns"):
        spaces = ", ".join(f"{node} {ns} ({(runtime.get('addresses') or {}).get(node)})"
                           for node, ns in runtime["netns"].items())
        lines.append(f"namespaces: {spaces}; the host {runtime.get('host_address')}")
    return lines


def demo_status(state_dir: Path | str) -> str:
    """``gameday demo status``: the processes, pids, states, roles and ports, as text."""
    handle = attach_demo(state_dir)
    if handle is None:
        return "demo is not running"
    try:
        status = handle.status()
    except DemoError as exc:
        return f"demo supervisor pid {handle.pid} is running but not answering: {exc}"
    lines = [
        f"demo running: supervisor pid {status['pid']}, checkout {status['url']}, control {status['control_url']}",
        (
            f"primary {status['primary']} (epoch {status['epoch']}), catalog {status['catalog']}, "
            f"webhooks {', '.join(status['webhook_urls']) or 'none'}"
        ),
        *([f"cpus: {handle.state['cpus_note']}"] if handle.state.get("cpus_note") else []),
        *runtime_lines(handle.state.get("runtime") or {}),
        f"{'NAME':<10} {'PID':>7}  {'STATE':<8} {'ROLE':<11} PORT",
    ]
    for name, p in status["processes"].items():
        box = f"  {p['container']}" if p.get("container") else ""
        lines.append(f"{name:<10} {p['pid'] or '-':>7}  {p['state']:<8} {p['role']:<11} {p['port'] or '-'}{box}")
    return "\n".join(lines)
