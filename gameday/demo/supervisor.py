"""The demo supervisor: starts and owns the shop's processes and serves the control API.

``python -m gameday.demo.supervisor --state-dir DIR [--webhook-url URL ...] [--cpus auto|all|LIST]``

Files under ``DIR/demo/``: ``state.json`` (written atomically once every process answers),
``run/NAME.pid``, ``logs/NAME.log``, ``webhooks.json`` (read by the monitor), ``data/``
(``cluster.json``, ``catalog.json``, ``db-a/``, ``db-b/``; wiped at start-up) and
``supervisor.lock`` (one supervisor per folder).

It runs in its own session and survives the process that started it: only SIGTERM,
SIGINT or ``POST /shutdown`` stop it, and then it stops and reaps every child. Crashed
children are never restarted on their own: a dead database stays dead until someone acts.
Children exit by themselves if the supervisor dies (they watch their parent pid).

CPU placement (``--cpus``, default ``$GAMEDAY_DEMO_CPUS``, else ``auto``; see
:mod:`gameday.model.cpus`): with ``auto`` on a machine with two or more CPUs, the supervisor
pins itself — and so every child it starts or restarts — to every CPU it may use but the
lowest, which is left to the conductor (a drill's locust, ``load.cpus: auto``, goes to the same
CPUs). Under load the shop's processes are busy at normal priority; left on every CPU they
put the conductor's p99 detection error at several times its quiet value (bench/bench_load.py).
``all`` leaves the placement alone. The result is in ``state.json`` (``cpus``, ``cpus_note``).

Control API (JSON on loopback), see :class:`ControlHandler`.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from gameday.demo.containers import ContainerChild, Engine, instance_of
from gameday.demo.httpkit import Handler, HTTPFailure, serve
from gameday.demo.leftovers import clean_leftovers, record
from gameday.demo.netns import DemoNet, spawner
from gameday.demo.ops import DemoOps, OpError
from gameday.demo.proc import Child
from gameday.fsutil import atomic_write
from gameday.model import cpus as _cpus

START_TIMEOUT = 10.0


def place(setting: str) -> _cpus.Placement:
    """Pin this process (before it starts threads or children: they inherit it) as ``setting`` says."""
    getaffinity = getattr(os, "sched_getaffinity", None)
    try:
        available = frozenset(getaffinity(0)) if getaffinity else None
    except OSError:
        available = None
    placed = _cpus.resolve(setting, available, who="the demo")
    if placed.cpus:
        try:
            os.sched_setaffinity(0, placed.cpus)
        except OSError as exc:
            return _cpus.Placement(placed.setting, None, f"could not pin the demo to CPUs {placed.label}: {exc}", True)
    return placed


def build_children(demo_dir: Path, spawn: Callable[..., Child] = Child) -> dict[str, Child]:
    """The shop's processes, ports reserved, in start order; ``spawn`` makes each (:class:`Child`, or a
    :class:`~gameday.demo.containers.ContainerChild` bound to its engine)."""
    data, run, logs = demo_dir / "data", demo_dir / "run", demo_dir / "logs"
    cluster = str(data / "cluster.json")
    children: dict[str, Child] = {}

    def db(name: str) -> Child:
        return spawn(name, "replica", "gameday.demo.db", lambda c: ["--name", c.name, "--data-dir", str(data / c.name),
                                                                    "--cluster-file", cluster], run, logs)

    children["db-a"], children["db-b"] = db("db-a"), db("db-b")
    nodes = ",".join(f"{n}={children[n].url}" for n in ("db-a", "db-b"))
    children["checkout"] = spawn("checkout", "api", "gameday.demo.checkout",
                                 lambda c: ["--cluster-file", cluster, "--nodes", nodes, "--catalog", str(data / "catalog.json")],
                                 run, logs)
    checkout_url = str(children["checkout"].url)
    webhooks_file = str(demo_dir / "webhooks.json")
    children["monitor"] = spawn("monitor", "monitoring", "gameday.demo.monitor",
                                lambda c: ["--checkout", checkout_url, "--webhooks-file", webhooks_file], run, logs)
    children["traffic"] = spawn("traffic", "traffic", "gameday.demo.traffic", lambda c: ["--url", checkout_url], run, logs,
                                health=None, listens=False)
    return children


class ControlHandler(Handler):
    """The supervisor's control API.

    ``GET /status``; ``POST /kill/NAME`` (body ``{"signal": "SIGKILL"}``), ``/stop/NAME``,
    ``/cont/NAME``, ``/restart/NAME`` (NAME may be ``db-primary`` or ``db-replica``);
    ``POST /promote``, ``/catalog/break``, ``/catalog/restore``, ``/reset``, ``/shutdown``;
    ``PUT /webhooks`` (``{"urls": [...]}``). Errors answer ``{"error": ...}`` with 4xx/5xx.
    """

    server_version = "gameday-demo-supervisor"

    def route(self, method: str, path: str, query: dict[str, str]) -> None:
        ops: DemoOps = self.server.ops  # type: ignore[attr-defined]
        parts = [p for p in path.split("/") if p]
        try:
            body = self.json_body() if method in ("POST", "PUT") else {}
            if not isinstance(body, dict):
                raise OpError(400, "expected a JSON object")
        except ValueError:
            self.send_json(400, {"error": "malformed JSON body"})
            return
        try:
            if method == "GET" and parts == ["status"]:
                result = ops.status()
            elif method == "GET" and parts == ["health"]:
                result = {"status": "ok", "pid": os.getpid()}
            elif method == "POST" and len(parts) == 2 and parts[0] in ("kill", "stop", "cont", "restart"):
                result = self._process_op(ops, parts[0], parts[1], body)
            elif method == "POST" and parts == ["promote"]:
                result = ops.promote()
            elif method == "POST" and len(parts) == 2 and parts[0] == "catalog" and parts[1] in ("break", "restore"):
                result = ops.break_catalog() if parts[1] == "break" else ops.restore_catalog()
            elif method == "PUT" and parts == ["webhooks"]:
                result = ops.set_webhooks(body.get("urls"))
            elif method == "POST" and parts == ["reset"]:
                result = ops.reset()
            elif method == "POST" and parts == ["shutdown"]:
                self.send_json(200, {"stopping": True, "pid": os.getpid()})
                self.server.shutdown_requested.set()  # type: ignore[attr-defined]
                return
            else:
                super().route(method, path, query)
                return
        except OpError as exc:
            self.send_json(exc.status, {"error": str(exc)})
            return
        self.send_json(200, result)

    @staticmethod
    def _process_op(ops: DemoOps, op: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
        if op == "kill":
            return ops.kill(name, body.get("signal", "SIGKILL"))
        if op == "stop":
            return ops.stop(name)
        if op == "cont":
            return ops.cont(name)
        return ops.restart(name)


def prepare(demo_dir: Path, webhook_urls: list[str]) -> None:
    """Fresh data: wipe ``data/`` and stale pid files, write the catalog and webhooks file."""
    shutil.rmtree(demo_dir / "data", ignore_errors=True)
    shutil.rmtree(demo_dir / "run", ignore_errors=True)
    for sub in ("data", "run", "logs"):
        (demo_dir / sub).mkdir(parents=True, exist_ok=True)
    (demo_dir / "state.json").unlink(missing_ok=True)
    atomic_write(demo_dir / "webhooks.json", json.dumps({"urls": webhook_urls}) + "\n")


def lock(demo_dir: Path) -> int:
    """Hold ``supervisor.lock`` for our lifetime: one supervisor per state folder."""
    demo_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(demo_dir / "supervisor.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise SystemExit(f"supervisor: another demo supervisor owns {demo_dir}") from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd


def run(state_dir: Path, webhook_urls: list[str], cpus: str = _cpus.AUTO, docker_image: str | None = None,
        docker_host: str | None = None, netns: bool = False) -> int:
    """Start the demo, serve until asked to stop, stop everything. Returns the exit code. With ``docker_image``
    the services run as containers of that image on the engine at ``docker_host`` (default: ``DOCKER_HOST``,
    else the engine's default socket). With ``netns`` the databases run in network namespaces of their own
    (see :mod:`gameday.demo.netns`)."""
    demo_dir = state_dir.resolve() / "demo"
    placed = place(cpus)  # first: every thread and child started from here on inherits it
    print(f"supervisor: {placed.note}", flush=True)
    lock_fd = lock(demo_dir)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # our terminal going away is no reason to stop
    prepare(demo_dir, webhook_urls)
    code, ops, server = 0, None, None
    try:
        runtime, spawn = _make_runtime(demo_dir, docker_image, docker_host, netns)
        children = build_children(demo_dir, spawn)
        ops = DemoOps(demo_dir, children, webhook_urls)
        ops.placement = {"cpus": placed.label, "cpus_setting": placed.setting, "cpus_note": placed.note}
        ops.runtime = runtime
        server = serve(0, ControlHandler, ops=ops, shutdown_requested=stop)
        ops.control_url = f"http://127.0.0.1:{server.server_port}"
        threading.Thread(target=server.serve_forever, name="control", daemon=True).start()
        ops.start_all(START_TIMEOUT)
        ops.write_state()
        print(f"supervisor: demo ready, checkout {children['checkout'].url}, control {ops.control_url}", flush=True)
        while not stop.wait(0.1):
            ops.reap()
    except (RuntimeError, OSError, HTTPFailure) as exc:  # NetError and an engine that does not answer too
        print(f"supervisor: start-up failed: {exc}", file=sys.stderr, flush=True)
        code = 1
    finally:
        if ops is not None:
            ops.stop_all()  # the control thread is a daemon: it ends with us (a shutdown() would wait 0.5 s)
        if server is not None:
            server.server_close()
        (demo_dir / "state.json").unlink(missing_ok=True)
        os.close(lock_fd)
        # what is left of the containers and namespaces runtime.json names (a failed start-up's too), by the
        # engine's and the kernel's own listings; the record goes only when nothing is left
        for line in clean_leftovers(demo_dir):
            print(f"supervisor: {line}", flush=True)
        print(f"supervisor: stopped at {time.strftime('%H:%M:%S')}", flush=True)
    return code


def _make_runtime(demo_dir: Path, docker_image: str | None, docker_host: str | None,
                  netns: bool) -> tuple[dict[str, Any], Callable[..., Child]]:
    """How the services run (``state.json``'s ``runtime``), what makes each, and the namespaces if any. What is
    about to be made is recorded first (:mod:`gameday.demo.leftovers`): a killed supervisor's is removed later."""
    instance = instance_of(demo_dir)
    runtime: dict[str, Any] = {"kind": "docker" if docker_image else "processes", "instance": instance}
    if docker_image is not None:
        runtime.update(docker_host=docker_host, image=docker_image)
    if netns:
        runtime["netns"] = DemoNet(instance).names()
    record(demo_dir, runtime)
    spawn: Callable[..., Child] = Child
    engine: Engine | None = None
    if docker_image is not None:
        try:
            engine = Engine(docker_host, docker_image, demo_dir)
            stale = engine.remove_stale()
        except Exception as exc:  # noqa: BLE001 - docker.errors.DockerException: no engine answers there
            raise RuntimeError(f"the Docker engine did not answer: {exc}") from None
        if stale:
            print(f"supervisor: removed containers a previous demo left: {', '.join(stale)}", flush=True)
        spawn = partial(ContainerChild, engine)
    net: DemoNet | None = None
    if netns:
        net = DemoNet(instance)
        net.create()  # NetError (a RuntimeError), with whatever it made removed
        runtime.update(host_address=net.host_address, addresses={n: net.address(n) for n in runtime["netns"]})
        spawn = spawner(net)
    return runtime, spawn


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m gameday.demo.supervisor", description=__doc__.splitlines()[0])
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--webhook-url", action="append", default=[], help="monitoring receiver (repeatable)")
    parser.add_argument("--cpus", default=os.environ.get(_cpus.DEMO_CPUS_ENV) or _cpus.AUTO,
                        help=f"CPUs of the demo's processes: auto (all but the lowest, left to the conductor), all, or a "
                        f"list like 1-3 (default: ${_cpus.DEMO_CPUS_ENV}, else auto)")
    parser.add_argument("--docker-image", help="run the services as containers of this image (gameday demo up --docker)")
    parser.add_argument("--docker-host", help="the Docker engine (default: DOCKER_HOST, else its default socket)")
    parser.add_argument("--netns", action="store_true", help="run the databases in network namespaces of their own")
    args = parser.parse_args(argv)
    if args.netns and args.docker_image:
        parser.error("--netns runs the services as processes: not with --docker-image")
    try:
        cpus = _cpus.check_setting(args.cpus)
    except ValueError as exc:
        parser.error(f"--cpus (or ${_cpus.DEMO_CPUS_ENV}): {exc}")
    sys.exit(run(args.state_dir, args.webhook_url, cpus, args.docker_image, args.docker_host, args.netns))


if __name__ == "__main__":
    main()
