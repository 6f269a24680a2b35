"""A demo database node: an HTTP order store with primary/replica replication.

``python -m gameday.demo.db --name db-a --port P --data-dir D --cluster-file F``

State lives in files, so a killed node comes back with its data:

* ``D/orders.jsonl`` — this node's log, one entry a line ``{"seq", "epoch", "id", "ts", "order"}``,
  appended and fsynced (group commit: one fsync covers every concurrent writer).
* ``F`` (shared ``cluster.json``) — ``{"primary": "db-a", "epoch": 1, "nodes": {name: url}}``, written
  atomically. Every request re-reads it when its mtime changes, so a node always knows its role:
  an old primary restarted after a failover comes back as a replica.

The primary accepts ``POST /orders``; a replica refuses writes (409) and polls the primary's
``GET /log?since=N&check=ID`` every 100 ms. If its log diverged from the primary's (writes the
old primary took that never reached the new one), it resyncs from scratch and keeps the lost
entries in ``orders.diverged.jsonl``. ``POST /promote`` on a replica makes it the primary.
Also ``GET /health``, ``GET /orders/ID`` and ``GET /metrics`` (Prometheus text).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from gameday.demo.httpkit import Handler, HTTPFailure, Pool, add_common_args, serve, watch_parent
from gameday.fsutil import atomic_write

REPLICATION_INTERVAL = 0.1
PAGE = 5000


class ClusterFile:
    """The shared ``cluster.json``, re-read only when the file changes."""

    def __init__(self, path: Path):
        self.path = path
        self._key: tuple[int, int, int] | None = None
        self._data: dict[str, Any] = {"primary": None, "epoch": 0, "nodes": {}}
        self._lock = threading.Lock()

    def read(self) -> dict[str, Any]:
        try:
            st = os.stat(self.path)
        except OSError:
            return self._data
        key = (st.st_mtime_ns, st.st_size, st.st_ino)
        if key != self._key:
            with self._lock:
                try:
                    self._data = json.loads(self.path.read_text())
                    self._key = key
                except (OSError, ValueError):
                    pass  # keep the last good view; atomic writers make this rare
        return self._data

    def write(self, data: dict[str, Any]) -> None:
        atomic_write(self.path, json.dumps(data, indent=2) + "\n")
        self._key = None


class OrderLog:
    """An append-only, fsynced JSON Lines log of orders, mirrored in memory."""

    def __init__(self, path: Path):
        self.path = path
        self.entries: list[dict[str, Any]] = []
        self.by_id: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._sync_lock = threading.Lock()
        self._written = self._synced = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            for line in path.read_text().splitlines():
                try:
                    self._remember(json.loads(line))
                except ValueError:
                    break  # a torn last line from a crash
        self._fh = open(path, "ab")  # noqa: SIM115 - kept open for the node's lifetime

    @property
    def seq(self) -> int:
        return len(self.entries)

    def _remember(self, entry: dict[str, Any]) -> None:
        self.entries.append(entry)
        self.by_id[entry["id"]] = entry

    def _write(self, entries: list[dict[str, Any]]) -> None:
        data = b"".join(json.dumps(e, separators=(",", ":")).encode() + b"\n" for e in entries)
        self._fh.write(data)
        self._fh.flush()
        self._written += 1

    def _fsync(self, upto: int) -> None:
        """Group commit: whoever gets here first syncs everything written so far."""
        with self._sync_lock:
            if self._synced >= upto:
                return
            mark = self._written
            os.fsync(self._fh.fileno())
            self._synced = mark

    def append(self, order_id: str, order: Any, epoch: int) -> dict[str, Any]:
        """Append a new order (primary); returns the durable entry."""
        with self._lock:
            entry = {"seq": self.seq + 1, "epoch": epoch, "id": order_id, "ts": time.time(), "order": order}
            self._write([entry])
            self._remember(entry)
            upto = self._written
        self._fsync(upto)
        return entry

    def extend(self, entries: list[dict[str, Any]]) -> None:
        """Append entries replicated from the primary (they continue our sequence)."""
        with self._lock:
            fresh = [e for e in entries if e["seq"] > self.seq]
            if not fresh or fresh[0]["seq"] != self.seq + 1:
                return
            self._write(fresh)
            for e in fresh:
                self._remember(e)
            upto = self._written
        self._fsync(upto)

    def replace(self, entries: list[dict[str, Any]]) -> int:
        """Replace the whole log (after divergence); lost entries go to ``orders.diverged.jsonl``."""
        with self._lock:
            keep = {e["id"] for e in entries}
            lost = [e for e in self.entries if e["id"] not in keep]
            if lost:
                with open(self.path.with_name("orders.diverged.jsonl"), "a") as fh:
                    fh.writelines(json.dumps(e) + "\n" for e in lost)
            atomic_write(self.path, "".join(json.dumps(e, separators=(",", ":")) + "\n" for e in entries))
            self._fh.close()
            self._fh = open(self.path, "ab")  # noqa: SIM115
            self.entries, self.by_id = [], {}
            for e in entries:
                self._remember(e)
            return len(lost)

    def since(self, seq: int, limit: int = PAGE) -> list[dict[str, Any]]:
        return self.entries[seq : seq + limit]

    def id_at(self, seq: int) -> str | None:
        return self.entries[seq - 1]["id"] if 0 < seq <= self.seq else None


class Node:
    """One database node: its log, its view of the cluster, its replication loop."""

    def __init__(self, name: str, data_dir: Path, cluster_file: Path):
        self.name = name
        self.cluster = ClusterFile(cluster_file)
        self.log = OrderLog(data_dir / "orders.jsonl")
        self.pools: dict[str, Pool] = {}
        self.repl_lock = threading.Lock()
        self.last_sync = 0.0
        self.lost = 0

    def role(self) -> str:
        return "primary" if self.cluster.read().get("primary") == self.name else "replica"

    def primary_pool(self) -> tuple[str, Pool] | None:
        cluster = self.cluster.read()
        primary = cluster.get("primary")
        url = (cluster.get("nodes") or {}).get(primary)
        if not primary or primary == self.name or not url:
            return None
        pool = self.pools.get(url)
        if pool is None:
            pool = self.pools[url] = Pool(url, size=4)
        return primary, pool

    def sync_once(self, timeout: float = 0.5) -> bool:
        """Pull new entries from the primary; resync if our logs diverged. True if in sync."""
        target = self.primary_pool()
        if target is None:
            return False
        _, pool = target
        with self.repl_lock:
            for _ in range(100):  # bounded: a flapping primary must not pin us here
                seq = self.log.seq
                check = self.log.id_at(seq) or ""
                status, raw = pool.request("GET", f"/log?since={seq}&check={check}", timeout=timeout)
                if status != 200:
                    return False
                page = json.loads(raw)
                if page.get("diverged"):
                    self.lost += self.log.replace(self._fetch_all(pool, timeout))
                    continue
                self.log.extend(page["entries"])
                if self.log.seq >= page["seq"]:
                    self.last_sync = time.time()
                    return True
            return False

    def _fetch_all(self, pool: Pool, timeout: float) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = []
        while True:
            status, raw = pool.request("GET", f"/log?since={len(entries)}", timeout=timeout)
            if status != 200:
                raise HTTPFailure(f"resync failed: HTTP {status}")
            page = json.loads(raw)
            entries.extend(page["entries"])
            if len(entries) >= page["seq"] or not page["entries"]:
                return entries

    def replicate_forever(self) -> None:
        while True:
            if self.role() == "replica":
                # primary down or hung: keep trying; the drill decides what happens
                with contextlib.suppress(HTTPFailure, ValueError, KeyError):
                    self.sync_once()
            time.sleep(REPLICATION_INTERVAL)

    def promote(self) -> dict[str, Any]:
        """Make this node the primary (bump the epoch), after a last best-effort sync."""
        if self.role() == "primary":
            cluster = self.cluster.read()
            return {"primary": self.name, "epoch": cluster.get("epoch", 0), "already": True}
        with contextlib.suppress(HTTPFailure, ValueError, KeyError):  # the old primary is gone: promote with what we have
            self.sync_once(timeout=0.2)
        cluster = dict(self.cluster.read())
        cluster["primary"], cluster["epoch"] = self.name, int(cluster.get("epoch", 0)) + 1
        self.cluster.write(cluster)
        return {"primary": self.name, "epoch": cluster["epoch"], "seq": self.log.seq}


class DBHandler(Handler):
    """HTTP front of a :class:`Node`."""

    server_version = "gameday-demo-db"

    @property
    def node(self) -> Node:
        return self.server.node  # type: ignore[attr-defined]

    def route(self, method: str, path: str, query: dict[str, str]) -> None:
        node = self.node
        if method == "GET" and path == "/health":
            cluster = node.cluster.read()
            self.send_json(200, {"status": "ok", "name": node.name, "role": node.role(), "primary": cluster.get("primary"),
                                 "epoch": cluster.get("epoch"), "seq": node.log.seq})
        elif method == "POST" and path == "/orders":
            self._write_order()
        elif method == "GET" and path == "/log":
            since = int(query.get("since", "0") or 0)
            check = query.get("check", "")
            diverged = since > node.log.seq or (since > 0 and node.log.id_at(since) != check)
            entries = [] if diverged else node.log.since(since, int(query.get("limit", PAGE)))
            self.send_json(200, {"node": node.name, "seq": node.log.seq, "diverged": diverged, "entries": entries})
        elif method == "GET" and path.startswith("/orders/"):
            entry = node.log.by_id.get(path.removeprefix("/orders/"))
            self.send_json(200 if entry else 404, entry or {"error": "no such order"})
        elif method == "POST" and path == "/promote":
            self.send_json(200, node.promote())
        elif method == "GET" and path == "/metrics":
            self.send_bytes(200, *self.server.metrics())  # type: ignore[attr-defined]
        else:
            super().route(method, path, query)

    def _write_order(self) -> None:
        node = self.node
        cluster = node.cluster.read()
        if cluster.get("primary") != node.name:
            self.server.writes.labels("refused").inc()  # type: ignore[attr-defined]
            self.send_json(409, {"error": f"{node.name} is a replica", "primary": cluster.get("primary")})
            return
        try:
            body = self.json_body()
            order_id = str(body.get("id") or os.urandom(8).hex())
        except (ValueError, AttributeError):
            self.send_json(400, {"error": "expected a JSON object"})
            return
        entry = node.log.append(order_id, body.get("order", body), int(cluster.get("epoch", 0)))
        self.server.writes.labels("ok").inc()  # type: ignore[attr-defined]
        self.send_json(201, {"id": entry["id"], "seq": entry["seq"], "node": node.name, "epoch": entry["epoch"]})


def _metrics(node: Node) -> tuple[Any, Any]:
    """A private registry for the node; returns ``(render, writes counter)``."""
    from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
    from prometheus_client.exposition import CONTENT_TYPE_LATEST

    registry = CollectorRegistry()
    writes = Counter("db_writes", "Order writes by result", ["result"], registry=registry)
    Gauge("db_log_entries", "Entries in this node's order log", registry=registry).set_function(lambda: node.log.seq)
    Gauge("db_is_primary", "1 if this node is the primary", registry=registry).set_function(lambda: node.role() == "primary")
    last_sync = Gauge("db_last_sync_timestamp_seconds", "Last time a replica was in sync", registry=registry)
    last_sync.set_function(lambda: node.last_sync)
    return (lambda: (generate_latest(registry), CONTENT_TYPE_LATEST)), writes


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m gameday.demo.db", description=__doc__.splitlines()[0])
    parser.add_argument("--name", required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--cluster-file", type=Path, required=True)
    add_common_args(parser)
    args = parser.parse_args(argv)
    watch_parent(args.parent_pid, watch_pid=args.watch_pid)
    node = Node(args.name, args.data_dir, args.cluster_file)
    render, writes = _metrics(node)
    server = serve(args.port, DBHandler, host=args.host, node=node, metrics=render, writes=writes)
    threading.Thread(target=node.replicate_forever, name="replicate", daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
