"""What the supervisor's control API does: kill, stop, continue, restart, promote, reset...

:class:`DemoOps` holds the supervised :class:`~gameday.demo.proc.Child` processes and
serialises every operation with one lock. Errors are :class:`OpError` carrying the HTTP
status the control API answers with.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

from gameday.demo.db import ClusterFile
from gameday.demo.httpkit import HTTPFailure, request_json
from gameday.demo.proc import Child, signal_number
from gameday.fsutil import atomic_write

DB_NODES = ("db-a", "db-b")
ALIASES = ("db-primary", "db-replica")
READY_TIMEOUT = 10.0
BROKEN_CATALOG = '{"products": [{"sku": "KETTLE-01", "name": "Stovetop kettle", "price": '  # a truncated deploy


class OpError(Exception):
    """An operation the control API refuses or could not complete."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def good_catalog() -> str:
    return (Path(__file__).parent / "catalog.json").read_text()


class DemoOps:
    """The demo's processes and the operations on them."""

    def __init__(self, demo_dir: Path, children: dict[str, Child], webhook_urls: list[str]):
        self.demo_dir = demo_dir
        self.data_dir = demo_dir / "data"
        self.children = children
        self.webhook_urls = list(webhook_urls)
        self.cluster = ClusterFile(self.data_dir / "cluster.json")
        self.control_url = ""
        self.lock = threading.RLock()
        self.ready = False
        self.placement: dict[str, str] = {}  # cpus, cpus_setting, cpus_note: set by the supervisor
        self.runtime: dict[str, Any] = {"kind": "processes"}  # or docker, with docker_host, image, instance
        self._reported: set[int | None] = set()

    # --- life cycle -------------------------------------------------------------------------

    def start_all(self, timeout: float) -> None:
        """Write fresh data files, start every process in dependency order, wait until each answers."""
        nodes = {n: self.children[n].url for n in DB_NODES}
        self.cluster.write({"primary": "db-a", "epoch": 1, "nodes": nodes})
        atomic_write(self.data_dir / "catalog.json", good_catalog())
        with self.lock:
            for batch in (("db-a", "db-b", "checkout"), ("monitor", "traffic")):
                for name in batch:
                    self.children[name].start()
                for name in batch:
                    self.children[name].wait_ready(timeout)
            self.ready = True

    def stop_all(self) -> None:
        """Stop every child, traffic first and databases last; reap them all."""
        with self.lock:
            for child in reversed(list(self.children.values())):
                child.terminate()
                child.pid_file.unlink(missing_ok=True)
                child.close()

    def reap(self) -> None:
        """Notice children that died (and reap them) so pid probes from outside see them gone. Under the lock: an
        operation starting a child again never meets a look at its old state (a container's engine state)."""
        changed = False
        with self.lock:
            for child in self.children.values():
                if child.started() and not child.running() and child.pid not in self._reported:
                    self._reported.add(child.pid)
                    print(f"supervisor: {child.name} (pid {child.pid}) exited with code {child.exit_code}", flush=True)
                    changed = True
            if changed and self.ready:
                self.write_state()

    # --- views ------------------------------------------------------------------------------

    def primary(self) -> str:
        return str(self.cluster.read().get("primary") or "db-a")

    def role(self, name: str) -> str:
        if name in DB_NODES:
            return "primary" if name == self.primary() else "replica"
        return self.children[name].role

    def resolve(self, name: str) -> Child:
        if name == "db-primary":
            name = self.primary()
        elif name == "db-replica":
            name = next(n for n in DB_NODES if n != self.primary())
        child = self.children.get(name)
        if child is None:
            raise OpError(404, f"no such process {name!r}; known: {', '.join([*self.children, *ALIASES])}")
        return child

    def catalog_ok(self) -> bool:
        try:
            return isinstance(json.loads((self.data_dir / "catalog.json").read_text()).get("products"), list)
        except (OSError, ValueError, AttributeError):
            return False

    def state(self) -> dict[str, Any]:
        """The ``state.json`` document."""
        processes = {name: {**child.info(), "role": self.role(name)} for name, child in self.children.items()}
        return {
            "pid": os.getpid(),
            "control_url": self.control_url,
            "url": self.children["checkout"].url,
            "processes": processes,
            "webhook_urls": list(self.webhook_urls),
            "data_dir": str(self.data_dir),
            "state_dir": str(self.demo_dir.parent),
            **self.placement,
            "runtime": self.runtime,
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }

    def write_state(self) -> None:
        atomic_write(self.demo_dir / "state.json", json.dumps(self.state(), indent=2) + "\n")

    def status(self) -> dict[str, Any]:
        with self.lock:
            state = self.state()
            for name, child in self.children.items():
                entry = state["processes"][name]
                entry.update(state=child.state(), alive=child.running(), exit_code=child.exit_code, starts=child.starts)
            cluster = self.cluster.read()
            catalog = "ok" if self.catalog_ok() else "broken"
            state.update(primary=cluster.get("primary"), epoch=cluster.get("epoch"), catalog=catalog, ready=self.ready)
            state.pop("started_at", None)
            return state

    # --- faults and repairs ---------------------------------------------------------------------

    def kill(self, name: str, sig: str | int = "SIGKILL") -> dict[str, Any]:
        """Send ``sig`` (SIGKILL by default); waits up to 3 s for the process to exit."""
        try:
            signum = signal_number(sig)
        except ValueError as exc:
            raise OpError(400, str(exc)) from None
        with self.lock:
            child = self.resolve(name)
            role, pid = self.role(child.name), child.pid
            try:
                child.send(signum)
            except ProcessLookupError:
                raise OpError(409, f"{child.name} is not running") from None
            exited = child.wait_exit(3.0) if signum not in (signal.SIGSTOP, signal.SIGCONT) else False
            self.write_state()
            return {"killed": child.name, "pid": pid, "signal": signal.Signals(signum).name, "role": role, "exited": exited,
                    "exit_code": child.exit_code}

    def stop(self, name: str) -> dict[str, Any]:
        """SIGSTOP: the process hangs, its port still accepts connections."""
        with self.lock:
            child = self.resolve(name)
            try:
                child.send(signal.SIGSTOP)
            except ProcessLookupError:
                raise OpError(409, f"{child.name} is not running") from None
            return {"stopped": child.name, "pid": child.pid, "role": self.role(child.name)}

    def cont(self, name: str) -> dict[str, Any]:
        with self.lock:
            child = self.resolve(name)
            try:
                child.send(signal.SIGCONT)
            except ProcessLookupError:
                raise OpError(409, f"{child.name} is not running") from None
            return {"continued": child.name, "pid": child.pid, "role": self.role(child.name)}

    def restart(self, name: str) -> dict[str, Any]:
        """Stop the process if it runs (gracefully, SIGCONT first if stopped), start it, wait until it answers."""
        with self.lock:
            child = self.resolve(name)
            was = child.state()
            child.terminate()
            self._start(child)
            return {"restarted": child.name, "was": was, "pid": child.pid, "role": self.role(child.name)}

    def _start(self, child: Child) -> None:
        try:
            child.start()
            child.wait_ready(READY_TIMEOUT)
        except (RuntimeError, OSError) as exc:
            raise OpError(500, str(exc)) from None
        finally:
            self.write_state()

    def promote(self) -> dict[str, Any]:
        """Promote the current replica to primary: the real failover."""
        with self.lock:
            old = self.primary()
            replica = self.resolve("db-replica")
            if replica.state() != "running":
                raise OpError(409, f"replica {replica.name} is {replica.state()}: cannot promote it")
            result = self._call(replica, "POST", "/promote")
            self.write_state()
            return {"promoted": replica.name, "previous": old, "epoch": result.get("epoch"), "seq": result.get("seq")}

    def _call(self, child: Child, method: str, path: str, timeout: float = 3.0) -> dict[str, Any]:
        try:
            status, body = request_json(method, f"{child.url}{path}", timeout=timeout)
        except HTTPFailure as exc:
            raise OpError(502, f"{child.name} did not answer: {exc}") from None
        if status >= 300 or not isinstance(body, dict):
            raise OpError(502, f"{child.name} answered {status}: {body}")
        return body

    def break_catalog(self) -> dict[str, Any]:
        """Deploy a truncated catalog: ``/products`` fails, and nothing alerts."""
        atomic_write(self.data_dir / "catalog.json", BROKEN_CATALOG)
        return {"catalog": "broken"}

    def restore_catalog(self) -> dict[str, Any]:
        atomic_write(self.data_dir / "catalog.json", good_catalog())
        return {"catalog": "ok"}

    def set_webhooks(self, urls: Any) -> dict[str, Any]:
        if not isinstance(urls, list) or not all(isinstance(u, str) and u.startswith(("http://", "https://")) for u in urls):
            raise OpError(400, 'expected {"urls": ["http://...", ...]}')
        with self.lock:
            self.webhook_urls = list(urls)
            atomic_write(self.demo_dir / "webhooks.json", json.dumps({"urls": self.webhook_urls}) + "\n")
            self.write_state()
            return {"webhook_urls": self.webhook_urls}

    def reset(self) -> dict[str, Any]:
        """A clean slate: continue stopped processes, start dead ones, restore the catalog, db-a primary."""
        with self.lock:
            continued, started = [], []
            for name, child in self.children.items():
                if child.state() == "stopped":
                    child.send(signal.SIGCONT)
                    continued.append(name)
            for name, child in self.children.items():
                if not child.running():
                    self._start(child)
                    started.append(name)
            self.restore_catalog()
            failback = self.primary() != "db-a"
            if failback:
                self._catch_up("db-a", self.primary())
                self._call(self.children["db-a"], "POST", "/promote")
                self.write_state()
            return {"reset": True, "continued": continued, "started": started, "failed_back": failback, "primary": self.primary()}

    def _catch_up(self, replica: str, primary: str, timeout: float = 5.0) -> None:
        """Wait until ``replica`` has every entry of ``primary`` (so failing back loses nothing)."""
        deadline = time.monotonic() + timeout
        while True:
            want = self._call(self.children[primary], "GET", "/health").get("seq", 0)
            have = self._call(self.children[replica], "GET", "/health").get("seq", 0)
            if have >= want:
                return
            if time.monotonic() >= deadline:
                raise OpError(504, f"{replica} did not catch up with {primary} ({have} < {want} entries)")
            time.sleep(0.05)
