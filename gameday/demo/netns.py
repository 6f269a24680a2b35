"""The demo's databases in network namespaces of their own (``gameday demo up --netns``), so network
faults have a real network between the demo's services to act on.

Each database node runs in its namespace ``gd-<instance>-db-a`` / ``-db-b`` (interface ``eth0``), and a
third namespace ``gd-<instance>-sw`` holds a bridge joining them and the host: one L2 segment on a
link-local /24, ``169.254.K.0/24`` (K from 100–199 but 169: the first no route of the host covers, from
one the instance gives), the host ``.1`` (interface
``gd<instance[:8]>``, the only thing added to the host's network), ``db-a`` ``.2``, ``db-b`` ``.3``. Nothing
is routed or forwarded: the checkout (on the host) reaches each node, and the replica the primary,
across the bridge; the addresses exist only on those interfaces. Inside its namespace a node listens
on :data:`PORT`, the same for both.

A network fault in a node's namespace (``target: {demo: netns, networks: {NAME: {netns: db-a}}}``) then
cuts, thins or resets exactly the traffic of that node: the checkout's writes, the replication, the
monitor's scrapes. Needs root and iproute2 (``ip``); the namespaces go when the demo stops, and a
supervisor that was killed leaves them for the next one to remove.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from gameday.demo.proc import Child

NODES = ("db-a", "db-b")
PORT = 5480
TIMEOUT = 10.0


class NetError(RuntimeError):
    """A namespace or link could not be made (the message says which command and why)."""


def _ip(*args: str, check: bool = True) -> None:
    try:
        done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL,
                              check=False)
    except FileNotFoundError:
        raise NetError("the 'ip' command is not installed (apt-get install iproute2)") from None
    except subprocess.TimeoutExpired:
        raise NetError(f"ip {' '.join(args)}: no answer within {TIMEOUT:g}s") from None
    if check and done.returncode != 0:
        raise NetError(f"ip {' '.join(args)}: {done.stderr.strip() or f'exit {done.returncode}'}")


class DemoNet:
    """The namespaces, bridge and links of one demo instance (see the module's docstring)."""

    def __init__(self, instance: str) -> None:
        self.instance = instance
        self.block = 100 + int(instance[:8], 16) % 100  # the first tried: create() takes the first free one from here
        self.switch = f"gd-{instance}-sw"
        self.host_if = f"gd{instance[:8]}"

    @property
    def host_address(self) -> str:
        return f"169.254.{self.block}.1"

    def _free_block(self) -> int:
        """The first /24 of 169.254.100–199 from ours that no route of the host covers (another demo's, anyone's);
        NetError if none is free. 169.254.169.0/24 holds many clouds' metadata address: never used."""
        for i in range(100):
            block = 100 + (self.block - 100 + i) % 100
            if block == 169:
                continue
            try:
                done = subprocess.run(["ip", "-4", "route", "show", "match", f"169.254.{block}.0/24"], capture_output=True,
                                      text=True, timeout=TIMEOUT, check=False)
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise NetError(f"ip route show: {exc}") from None
            if not any(f"169.254.{block}." in line for line in done.stdout.splitlines()):
                return block
        raise NetError("every /24 of 169.254.100.0-169.254.199.255 is in use on this host")

    def netns(self, node: str) -> str:
        return f"gd-{self.instance}-{node}"

    def address(self, node: str) -> str:
        return f"169.254.{self.block}.{2 + NODES.index(node)}"

    def names(self) -> dict[str, str]:
        """Node → its namespace, as ``state.json`` and a drill's network selections see them."""
        return {node: self.netns(node) for node in NODES}

    def create(self) -> None:
        """Make the switch, the host's link and each node's namespace; NetError (everything made removed) if not."""
        self.destroy()
        self.block = self._free_block()
        try:
            _ip("netns", "add", self.switch)
            _ip("-n", self.switch, "link", "set", "lo", "up")
            _ip("-n", self.switch, "link", "add", "br0", "type", "bridge")
            _ip("-n", self.switch, "link", "set", "br0", "up")
            _ip("link", "add", self.host_if, "type", "veth", "peer", "name", "host", "netns", self.switch)
            _ip("addr", "add", f"{self.host_address}/24", "dev", self.host_if)
            _ip("link", "set", self.host_if, "up")
            _ip("-n", self.switch, "link", "set", "host", "master", "br0", "up")
            for node in NODES:
                ns, port = self.netns(node), f"p-{node}"
                _ip("netns", "add", ns)
                _ip("-n", ns, "link", "set", "lo", "up")
                _ip("-n", self.switch, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns)
                _ip("-n", self.switch, "link", "set", port, "master", "br0", "up")
                _ip("-n", ns, "addr", "add", f"{self.address(node)}/24", "dev", "eth0")
                _ip("-n", ns, "link", "set", "eth0", "up")
        except NetError:
            self.destroy()
            raise

    def destroy(self) -> list[str]:
        """Remove every namespace and link of this instance that exists (their rules go with them); what is still
        there afterwards, by the kernel's own listings ([] when all went: e.g. not as root, nothing does). Never
        raises."""
        spaces = [*[self.netns(n) for n in NODES], self.switch]
        for ns in spaces:
            with contextlib.suppress(NetError):
                _ip("netns", "del", ns, check=False)
        with contextlib.suppress(NetError):
            _ip("link", "del", self.host_if, check=False)
        try:
            listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=TIMEOUT, check=False)
            link = subprocess.run(["ip", "link", "show", self.host_if], capture_output=True, text=True, timeout=TIMEOUT,
                                  check=False)
        except (OSError, subprocess.TimeoutExpired):
            return [*spaces, self.host_if]  # cannot tell: assume nothing went
        names = {line.split()[0] for line in listed.stdout.splitlines() if line.strip()}
        return [ns for ns in spaces if ns in names] + ([self.host_if] if link.returncode == 0 else [])


class NetnsChild(Child):
    """A database node in its namespace: started through ``ip netns exec`` (which execs: the pid is the
    service's, and its parent is still the supervisor), listening on the namespace's address."""

    def __init__(self, net: DemoNet, name: str, role: str, module: str, args: Callable[[Child], list[str]],
                 run_dir: Path, log_dir: Path, health: str | None = "/health", listens: bool = True):
        super().__init__(name, role, module, args, run_dir, log_dir, health=health, listens=False)
        self.net = net
        self.port = PORT
        self.url = f"http://{net.address(name)}:{PORT}"

    def interpreter(self) -> list[str]:
        return ["ip", "netns", "exec", self.net.netns(self.name), sys.executable]

    def service_argv(self) -> list[str]:
        return [*super().service_argv(), "--host", self.net.address(self.name)]

    def info(self) -> dict[str, object]:
        return {**super().info(), "netns": self.net.netns(self.name), "address": self.net.address(self.name)}


def spawner(net: DemoNet) -> Callable[..., Child]:
    """The supervisor's ``spawn``: database nodes in their namespaces, the other services as processes."""

    def spawn(name: str, *args: object, **kwargs: object) -> Child:
        if name in NODES:
            return NetnsChild(net, name, *args, **kwargs)  # type: ignore[arg-type]
        return Child(name, *args, **kwargs)  # type: ignore[arg-type]

    return spawn
