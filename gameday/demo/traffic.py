"""Background traffic: a few simulated customers browsing, filling carts and checking out.

``python -m gameday.demo.traffic --url CHECKOUT [--rate 10] [--customers 3]``

About ``--rate`` requests per second in all: half browse ``/products``, a fifth add to a
cart, the rest check out. Every request times out after 0.5 s, so a hung checkout never
stalls a customer for longer. A one-line summary goes to stdout every 10 s.
"""

from __future__ import annotations

import argparse
import json
import random
import threading
import time
from collections import Counter

from gameday.demo.httpkit import HTTPFailure, Pool, watch_parent

TIMEOUT = 0.5
SKUS = ["KETTLE-01", "MUG-02", "GRINDER-03", "BEANS-04", "FILTER-05"]


def visit(pool: Pool, rng: random.Random, cart_id: str | None) -> tuple[str, int, str | None]:
    """One request of a customer's visit: ``(handler, status, cart id to keep)``."""
    pick = rng.random()
    if pick < 0.5:
        return "products", pool.request("GET", "/products", timeout=TIMEOUT)[0], cart_id
    if pick < 0.7:
        body = {"cart_id": cart_id, "sku": rng.choice(SKUS), "qty": rng.randint(1, 3)}
        status, raw = pool.request("POST", "/cart", body, timeout=TIMEOUT)
        return "cart", status, (json.loads(raw).get("cart_id") if status == 200 else cart_id)
    return "checkout", pool.request("POST", "/checkout", {"cart_id": cart_id}, timeout=TIMEOUT)[0], None


def customer(url: str, rate: float, seed: int, stats: Counter[str], lock: threading.Lock) -> None:
    """One customer's endless visit: browse, maybe add to the cart, sometimes check out."""
    rng = random.Random(seed)
    pool = Pool(url, size=2)
    cart_id: str | None = None
    while True:
        try:
            name, status, cart_id = visit(pool, rng, cart_id)
            outcome = "ok" if status < 500 else "error"
        except (HTTPFailure, ValueError):
            name, outcome, cart_id = "request", "failed", None
        with lock:
            stats[f"{name}.{outcome}"] += 1
        time.sleep(min(rng.expovariate(rate), 2.0))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m gameday.demo.traffic", description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="checkout base URL")
    parser.add_argument("--rate", type=float, default=10.0, help="requests per second in all")
    parser.add_argument("--customers", type=int, default=3)
    parser.add_argument("--parent-pid", type=int, default=0)
    parser.add_argument("--watch-pid", type=int, default=0)
    args = parser.parse_args(argv)
    watch_parent(args.parent_pid, watch_pid=args.watch_pid)
    stats: Counter[str] = Counter()
    lock = threading.Lock()
    per_customer = args.rate / max(args.customers, 1)
    for i in range(args.customers):
        threading.Thread(target=customer, args=(args.url, per_customer, i, stats, lock), daemon=True).start()
    while True:
        time.sleep(10)
        with lock:
            summary = " ".join(f"{k}={v}" for k, v in sorted(stats.items()))
        print(f"traffic: {summary}", flush=True)


if __name__ == "__main__":
    main()
