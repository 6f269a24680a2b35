"""Network faults as drill targets: the network namespaces a drill may touch, and what a fault does there.
Pure models; the rules are applied by :mod:`gameday.adapters.netfaults` (iptables and tc inside the
namespace, each rule tagged so its rollback and ``gameday recover`` remove exactly those).

A scenario's ``target.networks`` names namespaces (``ip netns``) — the only ones a ``network`` fault may touch.
Actions: ``partition`` (drop every packet to and from ``peer``), ``loss`` (drop each packet to and from
``peer`` with ``probability``), ``reset`` (TCP connections between the namespace and ``peer``, either way,
answered with a reset: "connection refused") and
``bandwidth`` (``tc tbf`` on one of the namespace's declared ``interfaces``: traffic out of it at most
``rate``). There is no latency action: this kernel has no ``netem``, the only qdisc that delays packets; the
nearest real things are ``bandwidth`` (queueing delay once traffic exceeds the rate) and ``loss`` (each lost
TCP segment costs a retransmission timeout, 200 ms at least).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from gameday.model.scenario_base import Strict

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_IFNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,14}")  # Linux: at most 15 characters
_RATE = re.compile(r"([0-9]+(?:\.[0-9]+)?)(bit|kbit|mbit|gbit)", re.IGNORECASE)
_BITS = {"bit": 1, "kbit": 1000, "mbit": 1000**2, "gbit": 1000**3}


def rate_bits(text: str) -> int:
    """``'1mbit'`` → 1000000 bits per second (tc's units: bit, kbit, mbit, gbit). ValueError if not one."""
    m = _RATE.fullmatch(text.strip())
    if m is None:
        raise ValueError(f"expected a rate like '512kbit' or '10mbit', got {text!r}")
    return int(float(m.group(1)) * _BITS[m.group(2).lower()])


class NetworkSelector(Strict):
    """A network namespace of ``target.networks``: the only place a network fault may put rules."""

    netns: str = Field(description="the namespace's name (ip netns list)")
    interfaces: list[str] = Field(default_factory=list, description="its interfaces a bandwidth fault may shape")
    production: bool = Field(False, description="a production network: the drill needs --allow-production")

    @field_validator("netns")
    @classmethod
    def _netns(cls, value: str) -> str:
        if not _NAME.fullmatch(value):
            raise ValueError(f"{value!r} is not a namespace name (letters, digits, _ . -)")
        return value

    @field_validator("interfaces")
    @classmethod
    def _interfaces(cls, value: list[str]) -> list[str]:
        for name in value:
            if not _IFNAME.fullmatch(name):
                raise ValueError(f"{name!r} is not an interface name (at most 15 letters, digits, _ . @ -)")
        return value


NetworkAction = Literal["partition", "loss", "reset", "bandwidth"]


class NetworkFault(Strict):
    """A built-in network fault inside a declared namespace, with its rollback (its rules removed)."""

    target: str = Field(description="a name from target.networks")
    action: NetworkAction
    peer: str | None = Field(None, description="partition, loss, reset: the IPv4 address or network (CIDR) "
                             "affected (default: every address)")
    port: int | None = Field(None, ge=1, le=65535, description="only packets to this port (on either side)")
    protocol: Literal["tcp", "udp", "all"] = Field("all", description="partition, loss: the protocol affected")
    probability: float | None = Field(None, gt=0, le=1, description="loss: the share of packets dropped")
    rate: str | None = Field(None, description="bandwidth: at most this rate out of the interface, e.g. '1mbit'")
    interface: str | None = Field(None, description="bandwidth: one of the target's interfaces")

    @field_validator("peer")
    @classmethod
    def _peer(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            net = ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise ValueError(f"{value!r} is not an IPv4 address or network (CIDR)") from None
        if net.version != 4:
            raise ValueError("only IPv4 peers (iptables); IPv6 is not supported yet")
        return str(net)

    @model_validator(mode="after")
    def _arguments(self) -> NetworkFault:
        if (self.probability is not None) != (self.action == "loss"):
            raise ValueError("'probability' goes with action 'loss', which needs it")
        if self.action == "bandwidth":
            if self.rate is None or self.interface is None:
                raise ValueError("action 'bandwidth' needs 'rate' and 'interface'")
            if self.peer is not None or self.port is not None:
                raise ValueError("action 'bandwidth' shapes the whole interface: no 'peer' or 'port'")
            if rate_bits(self.rate) < 8000:
                raise ValueError(f"rate {self.rate!r} is below 8kbit")
        elif self.rate is not None or self.interface is not None:
            raise ValueError("'rate' and 'interface' go with action 'bandwidth'")
        if self.port is not None and self.protocol == "all" and self.action != "reset":
            raise ValueError("a 'port' needs 'protocol: tcp' or 'udp'")
        if self.action == "reset" and self.protocol == "udp":
            raise ValueError("a reset is TCP's: 'protocol' must be tcp (or left out)")
        return self
