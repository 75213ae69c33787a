"""Locust users of the load test (bench/load/run.py starts locust with this file).

Customers (weight 10) pick a business, list its services, look at availability (most of their
requests) and now and then book a free slot through the public API; staff (weight 1) read
their business's bookings through the staff API with its key. The businesses come from the
JSON file named by LOAD_TENANTS, written by run.py.
"""

from __future__ import annotations

import json
import os
import random
from datetime import date, timedelta

from locust import HttpUser, between, task

TENANTS = json.loads(open(os.environ["LOAD_TENANTS"]).read())  # noqa: SIM115


def _days() -> tuple[str, str]:
    first = date.today() + timedelta(days=random.randint(1, 20))
    return first.isoformat(), (first + timedelta(days=6)).isoformat()


class Customer(HttpUser):
    weight = 10
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.business = random.choice(TENANTS)
        self.client.headers["Host"] = f"{self.business['slug']}.localhost"

    @task(3)
    def services(self) -> None:
        self.client.get("/api/v1/services/", name="GET services")

    @task(8)
    def availability(self) -> None:
        start, end = _days()
        self.client.get(
            f"/api/v1/availability/?service={self.business['service']}&start={start}&end={end}",
            name="GET availability",
        )

    @task(2)
    def book(self) -> None:
        start, end = _days()
        found = self.client.get(
            f"/api/v1/availability/?service={self.business['service']}&start={start}&end={end}",
            name="GET availability",
        )
        slots = found.json().get("slots", []) if found.ok else []
        if not slots:
            return
        slot = random.choice(slots)
        number = random.randrange(10**9)
        body = {
            "service": self.business["service"], "staff": slot["staff_id"], "start": slot["start"],
            "customer": {"name": f"Load {number}", "email": f"load{number}@bench.test"},
        }  # fmt: skip
        with self.client.post(
            "/api/v1/bookings/", json=body, name="POST booking", catch_response=True
        ) as response:
            if response.status_code == 409:  # another customer took it first: the right answer
                response.success()


class Staff(HttpUser):
    weight = 1
    wait_time = between(2, 5)

    def on_start(self) -> None:
        self.business = random.choice(TENANTS)
        self.client.headers["Host"] = f"{self.business['slug']}.localhost"
        self.client.headers["Authorization"] = f"Bearer {self.business['key']}"

    @task
    def bookings(self) -> None:
        self.client.get("/api/v1/staff/bookings/", name="GET staff bookings")
