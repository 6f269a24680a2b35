"""Load for the demo shop: customers browse the catalog, fill a cart and check out.

Run by locust (``locust -f gameday/demo/locustfile.py``), never imported by gameday itself:
locust monkey-patches the process with gevent on import. Scenarios name it ``locustfile:
demo`` (or by its path).

Request names (what ``business.customer_facing`` refers to): ``browse`` (``GET /products``),
``cart`` (``POST /cart``) and ``checkout`` (``POST /checkout``). A visit is about 5 browses,
2 cart additions and 1 checkout. Any answer other than 2xx, and any request without an
answer within 2 s, is a failure: a hung checkout is a failed checkout for a customer.

``GAMEDAY_DEMO_THINK`` (seconds, default 0.5) is a user's longest pause between two
requests (uniform from 0); ``0`` drives the shop as fast as it answers (the benchmark).
"""

from __future__ import annotations

import os
import random

from locust import FastHttpUser, constant, task

SKUS = ("KETTLE-01", "MUG-02", "GRINDER-03", "BEANS-04", "FILTER-05")
THINK = float(os.environ.get("GAMEDAY_DEMO_THINK", "0.5"))


def _think(user: ShopCustomer) -> float:
    return random.uniform(0, THINK) if THINK > 0 else 0.0


class ShopCustomer(FastHttpUser):
    """One customer of the demo shop, on a keep-alive connection."""

    wait_time = _think if THINK > 0 else constant(0)
    network_timeout = 2.0
    connection_timeout = 2.0
    cart_id: str | None = None

    @task(5)
    def browse(self) -> None:
        self.client.get("/products", name="browse")

    @task(2)
    def cart(self) -> None:
        body = {"cart_id": self.cart_id, "sku": random.choice(SKUS), "qty": random.randint(1, 3)}
        with self.client.post("/cart", json=body, name="cart", catch_response=True) as resp:
            if resp.status_code == 200:
                try:
                    self.cart_id = resp.json().get("cart_id")
                except ValueError:
                    resp.failure("cart answered with something that is not JSON")

    @task(1)
    def checkout(self) -> None:
        with self.client.post("/checkout", json={"cart_id": self.cart_id}, name="checkout", catch_response=True) as resp:
            self.cart_id = None
            if resp.status_code != 201:
                resp.failure(f"checkout answered {resp.status_code}")
