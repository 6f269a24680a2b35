"""Built-in network faults inside a Linux network namespace: iptables rules and a ``tc tbf`` qdisc, each
tagged so that its rollback (and ``gameday recover`` after a crash) removes exactly what it added.

Every iptables rule carries the comment ``gameday:<fault>:<token>`` (``token`` unique to the injector, in the
ledger before anything is added). The rollback reads the namespace's rules back (``iptables-save``) and
deletes each one carrying the tag — so rules half-added before a crash go too — and deletes the root qdisc
of each interface the fault shaped if it is the fault's ``tbf`` (handle ``7a7e:``). Commands run as
``ip netns exec NETNS ...`` (root). See :mod:`gameday.model.network` for the actions.
"""

from __future__ import annotations

import shlex
import subprocess
import time
import uuid
from pathlib import Path

from gameday.clock import Clock, SystemClock
from gameday.errors import InjectionError
from gameday.model.network import NetworkAction, NetworkSelector, rate_bits
from gameday.ports import ActivityPhase, ActivityRun, InjectionResult, LedgerSpec, NetworkRollback

NETNS_DIR = Path("/run/netns")
HANDLE = "7a7e:"  # the root qdisc a bandwidth fault adds: its rollback deletes only this one
TIMEOUT = 10.0


def _run(netns: str, argv: list[str]) -> str:
    """``ip netns exec NETNS ARGV``; its output, or InjectionError with the tool's first line of complaint."""
    try:
        done = subprocess.run(["ip", "netns", "exec", netns, *argv], capture_output=True, text=True, timeout=TIMEOUT,
                              stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise InjectionError("the 'ip' command (iproute2) is not installed") from None
    except subprocess.TimeoutExpired:
        raise InjectionError(f"{argv[0]} in namespace {netns} did not answer within {TIMEOUT:g}s") from None
    if done.returncode != 0:
        why = (done.stderr.strip() or done.stdout.strip() or f"exit {done.returncode}").splitlines()[0][:300]
        raise InjectionError(f"{' '.join(argv[:2])} in namespace {netns}: {why}")
    return done.stdout


class NetworkInjector:
    """One network fault: an :class:`~gameday.ports.Injector` and :class:`~gameday.ports.Targeting` (the
    namespace and interface are checked when the fault falls due, and at preflight)."""

    def __init__(self, target: str, selector: NetworkSelector, action: NetworkAction, *, owner: str = "",
                 peer: str | None = None, port: int | None = None, protocol: str = "all",
                 probability: float | None = None, rate: str | None = None, interface: str | None = None,
                 clock: Clock | None = None, token: str | None = None):
        self.target, self.selector, self.action, self.owner = target, selector, action, owner
        self.peer, self.port, self.protocol, self.probability = peer, port, protocol, probability
        self.rate, self.interface = rate, interface
        self.clock = clock or SystemClock()
        self.token = token or uuid.uuid4().hex[:12]

    @property
    def tag(self) -> str:
        return f"gameday:{self.owner}:{self.token}"[:250]

    @classmethod
    def from_spec(cls, spec: NetworkRollback, *, clock: Clock | None = None) -> NetworkInjector:
        """To roll back what a ledger entry records (``gameday recover``)."""
        selector = NetworkSelector(netns=spec.netns, interfaces=list(spec.interfaces))
        return cls(spec.target, selector, spec.action, owner=spec.owner, clock=clock, token=spec.token,  # type: ignore[arg-type]
                   interface=spec.interfaces[0] if spec.interfaces else None)

    # ------------------------------------------------------------------ the ledger
    def ledger_spec(self) -> LedgerSpec:
        shaped = [self.interface] if self.action == "bandwidth" and self.interface else []
        return NetworkRollback(owner=self.owner, netns=self.selector.netns, target=self.target, action=self.action,
                               token=self.token, interfaces=shaped)

    def preflight(self) -> str | None:
        try:
            self._check()
        except InjectionError as exc:
            return str(exc)
        return None

    def select(self) -> LedgerSpec:
        self._check()
        return self.ledger_spec()

    def _check(self) -> None:
        netns = self.selector.netns
        if not (NETNS_DIR / netns).exists():
            raise InjectionError(f"networks {self.target!r}: no network namespace {netns!r} (ip netns list): "
                                 "nothing injected")
        if self.action != "bandwidth":  # the rollback reads the rules back: it must be able to, before any is added
            _run(netns, ["iptables-save", "-t", "filter"])
        if self.action == "bandwidth":
            assert self.interface is not None
            if self.interface not in self.selector.interfaces:
                raise InjectionError(f"networks {self.target!r}: interface {self.interface!r} is not declared in its "
                                     "interfaces: refused, nothing injected")
            current = _run(netns, ["tc", "qdisc", "show", "dev", self.interface, "root"])
            if current.strip() and not any(q in current for q in ("noqueue", "pfifo_fast", "fq_codel", "mq ",
                                                                   f"tbf {HANDLE}")):
                raise InjectionError(f"networks {self.target!r}: {self.interface} already has its own root qdisc "
                                     f"({current.split(' ')[1] if ' ' in current else current.strip()}): refused, "
                                     "nothing injected")

    # ------------------------------------------------------------------ rules
    def _matches(self, chain: str) -> list[str]:
        """iptables match arguments for one chain (OUTPUT: packets to the peer, INPUT: packets from it); ``port``
        is the packets' destination port, either way."""
        args: list[str] = []
        if self.peer is not None:
            args += ["-d" if chain == "OUTPUT" else "-s", self.peer]
        protocol = "tcp" if self.action == "reset" else self.protocol
        if protocol != "all":
            args += ["-p", protocol]
            if self.port is not None:
                args += ["--dport", str(self.port)]
        return args

    def _rules(self) -> list[list[str]]:
        """The iptables commands this fault adds (inserted first in their chains), both ways."""
        tag = ["-m", "comment", "--comment", self.tag]
        if self.action == "reset":  # connections either way answered with a TCP reset
            verdict = ["-j", "REJECT", "--reject-with", "tcp-reset"]
        else:
            chance = ["-m", "statistic", "--mode", "random", "--probability", f"{self.probability:g}"] \
                if self.action == "loss" else []
            verdict = [*chance, "-j", "DROP"]
        return [["iptables", "-I", chain, *self._matches(chain), *tag, *verdict] for chain in ("OUTPUT", "INPUT")]

    def _shape(self) -> list[str]:
        assert self.rate is not None and self.interface is not None
        bits = rate_bits(self.rate)
        burst = max(1600, bits // 8 // 100)  # bytes: 10 ms at the rate, at least one full frame
        return ["tc", "qdisc", "replace", "dev", self.interface, "root", "handle", HANDLE, "tbf", "rate", f"{bits}bit",
                "burst", str(burst), "latency", "400ms"]

    def inject(self) -> InjectionResult:
        commands = [self._shape()] if self.action == "bandwidth" else self._rules()
        runs = []
        for argv in commands:
            run = self._step(" ".join(argv[:3]) + f" ({self.action})", "method", argv)
            runs.append(run)
            if run.status == "failed":
                return InjectionResult(ok=False, runs=runs, error=run.error, rollback=self.ledger_spec())
        return InjectionResult(ok=True, runs=runs, rollback=self.ledger_spec())

    def rollback(self) -> InjectionResult:
        netns = self.selector.netns
        if not (NETNS_DIR / netns).exists():
            return InjectionResult(ok=True, rollback=self.ledger_spec(), runs=[ActivityRun(
                f"remove {self.action} rules", "rollback", "netns", "succeeded", self.clock.now(), 0.0,
                f"namespace {netns} is gone: its rules went with it")])
        runs = []
        try:
            listing = (_run(netns, ["tc", "qdisc", "show", "dev", self.interface, "root"]) if self.interface else "") \
                if self.action == "bandwidth" else _run(netns, ["iptables-save", "-t", "filter"])
        except InjectionError as exc:  # what is in place cannot be read: the rollback has not happened
            return InjectionResult(ok=False, error=str(exc), rollback=self.ledger_spec(), runs=[ActivityRun(
                f"remove {self.action} rules", "rollback", "netns", "failed", self.clock.now(), 0.0, "", str(exc))])
        if self.action == "bandwidth":
            if self.interface and f"tbf {HANDLE}" in listing:
                runs.append(self._step(f"tc qdisc del dev {self.interface}", "rollback",
                                       ["tc", "qdisc", "del", "dev", self.interface, "root", "handle", HANDLE]))
        else:
            for line in listing.splitlines():
                if line.startswith("-A ") and self.tag in line:
                    argv = shlex.split(line)
                    runs.append(self._step(f"iptables -D {argv[1]}", "rollback", ["iptables", "-D", *argv[1:]]))
        failed = [r for r in runs if r.status == "failed"]
        if not runs:
            runs.append(ActivityRun(f"remove {self.action} rules", "rollback", "netns", "succeeded", self.clock.now(),
                                    0.0, "none left (never added, or already removed)"))
        return InjectionResult(ok=not failed, runs=runs, error="; ".join(r.error or "" for r in failed) or None,
                               rollback=self.ledger_spec())

    def _step(self, name: str, phase: ActivityPhase, argv: list[str]) -> ActivityRun:
        started, t = self.clock.now(), time.perf_counter()
        try:
            _run(self.selector.netns, argv)
            return ActivityRun(name, phase, "netns", "succeeded", started, time.perf_counter() - t,
                               " ".join(shlex.quote(a) for a in argv)[:2000])
        except InjectionError as exc:
            return ActivityRun(name, phase, "netns", "failed", started, time.perf_counter() - t, "", str(exc))
