"""The demo's services as containers on a Docker engine (``gameday demo up --docker``).

A :class:`ContainerChild` is a :class:`~gameday.demo.proc.Child` whose process runs in a container:
the same ports, pid files, logs and operations, so the supervisor, the control API and every
scenario and experiment of the demo work unchanged. Each container

* shares the host's network (the services keep their loopback ports: the conductor, the monitor's
  webhooks and the checkout's database calls reach them as before) and its process namespace (the
  pid file holds the host's pid, and the service watches the supervisor with ``--watch-pid``: when
  the supervisor dies, its containers' services exit as its processes would);
* runs as the supervisor's user, with the demo's folder bind-mounted at the same path, and writes
  its output to the service's log file there;
* is named ``gameday-demo-<instance>-<service>`` and labelled ``gameday.demo.instance``,
  ``gameday.demo.service``, ``gameday.demo.role`` and ``gameday.demo.dir``: a drill's docker faults
  select the demo's containers by those labels (see :func:`instance_of`).

Containers are kept when their service exits (a killed database's container can be started again,
by the supervisor's restart or by a docker fault's rollback) and removed when the demo stops; a
supervisor that was killed leaves its containers exited, and the next one removes them first.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal as _signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gameday.adapters.pids import pid_alive
from gameday.demo.image import CODE_DIR
from gameday.demo.proc import Child

INSTANCE_LABEL = "gameday.demo.instance"
SERVICE_LABEL = "gameday.demo.service"
ROLE_LABEL = "gameday.demo.role"
DIR_LABEL = "gameday.demo.dir"
#: Run a service with its output appended to its log file: the image has no shell.
_LOGGED = ("import os, sys; fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644); "
           "os.dup2(fd, 1); os.dup2(fd, 2); os.execvp(sys.argv[2], sys.argv[2:])")
_WAKING = (_signal.SIGTERM, _signal.SIGINT, _signal.SIGHUP, _signal.SIGQUIT)  # a stopped service is woken to act on them
_RECHECK = 0.5  # seconds between inspections of a dead service's container (a rollback may start it again)


def instance_of(demo_dir: Path) -> str:
    """The demo's instance label for the folder ``demo_dir``: stable for a state folder, distinct across them."""
    return hashlib.sha256(str(Path(demo_dir).resolve()).encode()).hexdigest()[:10]


class Engine:
    """The Docker engine the demo's containers run on, and the image they run."""

    def __init__(self, host: str | None, image: str, demo_dir: Path) -> None:
        from gameday.adapters.docker import api_client, engine_host

        self.host, self.image, self.demo_dir = host, image, Path(demo_dir).resolve()
        self.api = api_client(engine_host(host))
        self.instance = instance_of(self.demo_dir)

    def listed(self) -> list[str]:
        """The names of this folder's demo containers the engine still has."""
        found = self.api.containers(all=True, filters={"label": f"{DIR_LABEL}={self.demo_dir}"})
        return [str(c["Names"][0]).lstrip("/") for c in found]

    def remove_stale(self) -> list[str]:
        """Remove the containers a previous supervisor of this folder left (it was killed); their names."""
        gone = []
        for c in self.api.containers(all=True, filters={"label": f"{DIR_LABEL}={self.demo_dir}"}):
            with contextlib.suppress(Exception):
                self.api.remove_container(c["Id"], force=True)
                gone.append(str(c["Names"][0]).lstrip("/"))
        return gone


class ContainerChild(Child):
    """One demo service in a container of ``engine`` (see the module's docstring)."""

    def __init__(self, engine: Engine, name: str, role: str, module: str, args: Callable[[Child], list[str]],
                 run_dir: Path, log_dir: Path, health: str | None = "/health", listens: bool = True):
        super().__init__(name, role, module, args, run_dir, log_dir, health=health, listens=listens)
        self.engine = engine
        self.container_name = f"gameday-demo-{engine.instance}-{name}"
        self.container_id: str | None = None
        self._pid: int | None = None
        self._checked = 0.0

    @property
    def pid(self) -> int | None:
        return self._pid

    def started(self) -> bool:
        return self.container_id is not None

    def _inspect(self) -> dict[str, Any] | None:
        from docker.errors import NotFound

        if self.container_id is None:
            return None
        try:
            state: dict[str, Any] = self.engine.api.inspect_container(self.container_id)["State"]
            return state
        except NotFound:
            return None

    def _follow(self, state: dict[str, Any] | None) -> bool:
        """Take the engine's view: alive or not, the pid, the exit code; True if the service runs."""
        self._checked = time.monotonic()
        if state is not None and state.get("Running") and state.get("Pid"):
            if state["Pid"] != self._pid:  # started again, by us or by someone else (a docker fault's rollback)
                self._pid, self.exit_code, self.stopped = int(state["Pid"]), None, False
                self.write_pid(self._pid)
            return True
        if self.exit_code is None or self.stopped:
            self.exit_code = int(state.get("ExitCode", -1)) if state is not None else -1
            self.stopped = False
            self.pid_file.unlink(missing_ok=True)
        return False

    def running(self) -> bool:
        """Alive (running, stopped or paused): the pid's liveness, and the engine's word when it looks dead."""
        if self.container_id is None:
            return False
        if self._pid is not None and self.exit_code is None and pid_alive(self._pid):
            return True
        if self.exit_code is not None and time.monotonic() - self._checked < _RECHECK:
            return False
        return self._follow(self._inspect())

    def state(self) -> str:
        state = self._inspect()
        alive = self._follow(state)
        if alive and (self.stopped or (state or {}).get("Paused")):
            return "stopped"
        return "running" if alive else "dead"

    def start(self) -> None:
        """Create the container the first time (or if someone removed it), start it (again) after; its host pid
        goes to the pid file. RuntimeError (the control API's 500) if the engine refuses."""
        from docker.errors import DockerException, NotFound

        try:
            if self.container_id is None:
                self._create()
            assert self.container_id is not None
            with open(self.log_file, "ab") as log:
                log.write(f"--- start {time.strftime('%Y-%m-%dT%H:%M:%S')} container {self.container_name}\n".encode())
            try:
                self.engine.api.start(self.container_id)
            except NotFound:  # removed behind our back (docker rm): made again
                self._create()
                self.engine.api.start(self.container_id)
        except DockerException as exc:
            raise RuntimeError(f"{self.name}: the Docker engine did not start its container: {exc}") from None
        self.stopped, self.exit_code, self._pid = False, None, None
        self.starts += 1
        if not self._follow(self._inspect()):
            self.exit_code = self.exit_code if self.exit_code is not None else -1

    def _create(self) -> None:
        api = self.engine.api
        argv = ["python3", *self.service_argv(), "--watch-pid", str(os.getpid())]
        demo = str(self.engine.demo_dir)
        cpus: set[int] = getattr(os, "sched_getaffinity", lambda _pid: set())(0)  # the supervisor's placement, as a child's
        host_config = api.create_host_config(network_mode="host", pid_mode="host", binds={demo: {"bind": demo, "mode": "rw"}},
                                             cpuset_cpus=",".join(map(str, sorted(cpus))) or None)
        labels = {INSTANCE_LABEL: self.engine.instance, SERVICE_LABEL: self.name, ROLE_LABEL: self.role, DIR_LABEL: demo}
        created = api.create_container(
            self.engine.image, ["python3", "-c", _LOGGED, str(self.log_file), *argv], name=self.container_name,
            labels=labels, host_config=host_config, user=f"{os.getuid()}:{os.getgid()}", working_dir="/",
            environment={"PYTHONPATH": CODE_DIR, "PYTHONUNBUFFERED": "1"}, stop_signal="SIGTERM")
        self.container_id = str(created["Id"])
        with open(self.log_file, "ab") as log:
            log.write(f"--- container {self.container_name} ({self.engine.image}): {' '.join(argv)}\n".encode())

    def send(self, signum: int) -> None:
        """The signal through the engine (``docker kill --signal``), as :meth:`Child.send` does it: SIGCONT also
        unpauses a paused container, and any other signal reaches a stopped or paused service awake."""
        if not self.running() or self.container_id is None:
            raise ProcessLookupError(self.name)
        api = self.engine.api
        try:
            if signum != _signal.SIGSTOP and (self._inspect() or {}).get("Paused"):
                api.unpause(self.container_id)
            api.kill(self.container_id, signal=int(signum))
            if self.stopped and signum in _WAKING:
                api.kill(self.container_id, signal=int(_signal.SIGCONT))
        except Exception as exc:  # noqa: BLE001 - docker.errors.APIError: the container is not running
            raise ProcessLookupError(f"{self.name}: {exc}") from None
        if signum == _signal.SIGSTOP:
            self.stopped = True
        elif signum == _signal.SIGCONT or signum in _WAKING:
            self.stopped = False

    def wait_exit(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.running():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)
            self._checked = 0.0
        return True

    def terminate(self, grace: float = 2.0) -> None:
        """``docker stop`` (after unpausing and SIGCONT): SIGTERM, then SIGKILL after ``grace``."""
        if not self.running() or self.container_id is None:
            return
        with contextlib.suppress(Exception):
            if (self._inspect() or {}).get("Paused"):
                self.engine.api.unpause(self.container_id)
            if self.stopped:
                self.engine.api.kill(self.container_id, signal=int(_signal.SIGCONT))
            self.engine.api.stop(self.container_id, timeout=max(1, round(grace)))
        self._checked = 0.0
        self.wait_exit(5.0)

    def info(self) -> dict[str, Any]:
        return {**super().info(), "container": self.container_name, "container_id": self.container_id}

    def close(self) -> None:
        """Remove the container, then let go of the reserved port."""
        if self.container_id is not None:
            with contextlib.suppress(Exception):
                self.engine.api.remove_container(self.container_id, force=True)
        super().close()
