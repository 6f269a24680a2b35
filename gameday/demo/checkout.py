"""The demo shop's checkout API.

``python -m gameday.demo.checkout --port P --cluster-file F --nodes db-a=URL,db-b=URL --catalog FILE``

* ``GET /health`` — 200 iff the current primary database answers its ``/health`` within 300 ms,
  else 503 with a reason.
* ``GET /products`` — the catalog file (re-read when it changes); 500 if missing or corrupt.
* ``POST /cart`` — ``{"cart_id"?, "sku", "qty"?}``; carts live in memory.
* ``POST /checkout`` — ``{"cart_id"?, "items"?}``; writes an order to the primary named by
  ``cluster.json``; 503 if the primary does not answer or refuses.
* ``GET /metrics`` — ``checkout_requests_total{handler,code}`` and
  ``checkout_request_duration_seconds{handler}`` (Prometheus text).
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
import uuid
from collections import OrderedDict
from pathlib import Path
from typing import Any

from gameday.demo.db import ClusterFile
from gameday.demo.httpkit import Handler, HTTPFailure, Pool, add_common_args, serve, watch_parent

HEALTH_TIMEOUT = 0.3
WRITE_TIMEOUT = 0.8
MAX_CARTS = 10_000
HANDLERS = {"/health": "health", "/products": "products", "/cart": "cart", "/checkout": "checkout", "/metrics": "metrics"}


class Shop:
    """The checkout service's state: where the databases are, the catalog cache, the carts."""

    def __init__(self, cluster_file: Path, nodes: dict[str, str], catalog: Path):
        self.cluster = ClusterFile(cluster_file)
        self.pools = {name: Pool(url) for name, url in nodes.items()}
        self.catalog = catalog
        self._catalog_key: tuple[int, int, int] | None = None
        self._catalog_body: bytes | None = None
        self.carts: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()
        self.carts_lock = threading.Lock()

    def primary(self) -> tuple[str, Pool | None]:
        name = self.cluster.read().get("primary") or "?"
        return name, self.pools.get(name)

    def products(self) -> bytes:
        """The catalog as JSON bytes; raises ValueError (or OSError) if it is unusable."""
        st = os.stat(self.catalog)
        key = (st.st_mtime_ns, st.st_size, st.st_ino)
        if key != self._catalog_key:
            raw = self.catalog.read_bytes()
            data = json.loads(raw)
            if not isinstance(data, dict) or not isinstance(data.get("products"), list):
                raise ValueError("catalog has no product list")
            self._catalog_body, self._catalog_key = raw, key
        assert self._catalog_body is not None
        return self._catalog_body

    def add_to_cart(self, cart_id: str | None, sku: str, qty: int) -> tuple[str, list[dict[str, Any]]]:
        with self.carts_lock:
            cart_id = cart_id or uuid.uuid4().hex
            items = self.carts.setdefault(cart_id, [])
            items.append({"sku": sku, "qty": qty})
            self.carts.move_to_end(cart_id)
            while len(self.carts) > MAX_CARTS:
                self.carts.popitem(last=False)
            return cart_id, list(items)

    def take_cart(self, cart_id: str | None) -> list[dict[str, Any]] | None:
        if not cart_id:
            return None
        with self.carts_lock:
            return self.carts.pop(cart_id, None)


class CheckoutHandler(Handler):
    """HTTP front of the :class:`Shop`, with request metrics."""

    server_version = "gameday-demo-checkout"
    code = 0

    def send_response(self, code: int, message: str | None = None) -> None:
        self.code = code
        super().send_response(code, message)

    def route(self, method: str, path: str, query: dict[str, str]) -> None:
        start = time.perf_counter()
        name, self.code = HANDLERS.get(path, "other"), 0
        try:
            self._route(method, path, query)
        except (ConnectionError, TimeoutError):
            raise
        except Exception as exc:  # noqa: BLE001 - count it as the 500 the client gets
            self.send_json(500, {"error": f"{type(exc).__name__}: {exc}"})
        finally:
            server: Any = self.server
            server.requests.labels(name, str(self.code)).inc()
            server.latency.labels(name).observe(time.perf_counter() - start)

    def _route(self, method: str, path: str, query: dict[str, str]) -> None:
        shop: Shop = self.server.shop  # type: ignore[attr-defined]
        if method == "GET" and path == "/products":
            try:
                self.send_bytes(200, shop.products(), "application/json")
            except (OSError, ValueError) as exc:
                self.send_json(500, {"error": f"catalog unavailable: {type(exc).__name__}"})
        elif method == "POST" and path == "/checkout":
            self._checkout(shop)
        elif method == "POST" and path == "/cart":
            self._cart(shop)
        elif method == "GET" and path == "/health":
            self._health(shop)
        elif method == "GET" and path == "/metrics":
            self.send_bytes(200, *self.server.render_metrics())  # type: ignore[attr-defined]
        else:
            super().route(method, path, query)

    def _health(self, shop: Shop) -> None:
        name, pool = shop.primary()
        if pool is None:
            self.send_json(503, {"status": "unavailable", "reason": f"unknown primary {name!r}"})
            return
        try:
            status, _ = pool.request("GET", "/health", timeout=HEALTH_TIMEOUT)
        except HTTPFailure as exc:
            self.send_json(503, {"status": "unavailable", "primary": name, "reason": f"primary {name} did not answer: {exc}"})
            return
        if status != 200:
            self.send_json(503, {"status": "unavailable", "primary": name, "reason": f"primary {name} answered {status}"})
        else:
            self.send_json(200, {"status": "ok", "primary": name})

    def _cart(self, shop: Shop) -> None:
        try:
            body = self.json_body()
            sku, qty = str(body["sku"]), int(body.get("qty", 1))
        except (ValueError, KeyError, TypeError, AttributeError):
            self.send_json(400, {"error": 'expected {"sku": ..., "qty": ...}'})
            return
        cart_id, items = shop.add_to_cart(body.get("cart_id"), sku, qty)
        self.send_json(200, {"cart_id": cart_id, "items": items})

    def _checkout(self, shop: Shop) -> None:
        try:
            body = self.json_body() or {}
            items = shop.take_cart(body.get("cart_id")) or body.get("items") or [{"sku": "MUG-02", "qty": 1}]
        except (ValueError, AttributeError):
            self.send_json(400, {"error": "expected a JSON object"})
            return
        name, pool = shop.primary()
        if pool is None:
            self.send_json(503, {"error": f"unknown primary {name!r}"})
            return
        order_id = uuid.uuid4().hex
        try:
            status, raw = pool.request("POST", "/orders", {"id": order_id, "order": {"items": items}}, timeout=WRITE_TIMEOUT)
        except HTTPFailure as exc:
            self.send_json(503, {"error": f"primary {name} unavailable: {exc}"})
            return
        if status == 201:
            result = json.loads(raw)
            self.send_json(201, {"order_id": order_id, "db": name, "seq": result.get("seq"), "epoch": result.get("epoch")})
        elif status == 409:
            self.send_json(503, {"error": f"{name} refused the write (failover in progress?)"})
        else:
            self.send_json(502, {"error": f"primary {name} answered {status}"})


def _metrics() -> tuple[Any, Any, Any]:
    """A private registry: ``(render, requests counter, latency histogram)``."""
    from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
    from prometheus_client.exposition import CONTENT_TYPE_LATEST

    registry = CollectorRegistry()
    requests = Counter("checkout_requests", "Checkout API requests", ["handler", "code"], registry=registry)
    latency = Histogram(
        "checkout_request_duration_seconds", "Checkout API latency", ["handler"], registry=registry,
        buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
    )
    return (lambda: (generate_latest(registry), CONTENT_TYPE_LATEST)), requests, latency


def parse_nodes(text: str) -> dict[str, str]:
    """``db-a=URL,db-b=URL`` → ``{"db-a": URL, "db-b": URL}``."""
    pairs = (item.split("=", 1) for item in text.split(",") if item.strip())
    return {name.strip(): url.strip() for name, url in pairs}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m gameday.demo.checkout", description=__doc__.splitlines()[0])
    parser.add_argument("--cluster-file", type=Path, required=True)
    parser.add_argument("--nodes", required=True, help="db-a=URL,db-b=URL")
    parser.add_argument("--catalog", type=Path, required=True)
    add_common_args(parser)
    args = parser.parse_args(argv)
    watch_parent(args.parent_pid, watch_pid=args.watch_pid)
    shop = Shop(args.cluster_file, parse_nodes(args.nodes), args.catalog)
    render, requests, latency = _metrics()
    server = serve(args.port, CheckoutHandler, shop=shop, render_metrics=render, requests=requests, latency=latency)
    server.serve_forever()


if __name__ == "__main__":
    main()
