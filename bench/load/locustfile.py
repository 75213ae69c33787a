"""Locust users of the load test (bench/load/run.py starts locust with this file).

Customers (weight 10) pick a business, list its services, look at availability (most of their
requests) and now and then hold a free slot through the public API and pay for it the way the
booking widget does: the hold answers a PaymentIntent's client secret, the customer's browser
confirms it at (local) Stripe with the publishable key and the card typed in the Payment
Element (`stripe.confirmPayment`: POST /v1/payment_intents/<id>/confirm), then the widget polls
the booking until the webhook, processed by the Celery worker, has confirmed it (every 750 ms,
40 times at most). Staff (weight 1) use the back office: the calendar and the bookings list,
with a session of their business's owner. One probe user requests /healthz once a second: the
trivial baseline, measured in the same run under the same load.

The businesses come from the JSON file named by LOAD_TENANTS, written by run.py; local Stripe's
address and publishable key from LOAD_STRIPE_URL and LOAD_STRIPE_KEY.
"""

from __future__ import annotations

import json
import os
import random
import time
from datetime import date, timedelta
from urllib.parse import urlencode

from locust import FastHttpUser, between, constant, constant_pacing, events, task

TENANTS = json.loads(open(os.environ["LOAD_TENANTS"]).read())  # noqa: SIM115
STRIPE_URL = os.environ.get("LOAD_STRIPE_URL", "")
STRIPE_KEY = os.environ.get("LOAD_STRIPE_KEY", "")
POLLS, POLL_SECONDS = 40, 0.75  # static/widgets/book.js: waitForConfirmation
APP, OTHER = "app", "other"
TIMES: dict[str, list[float]] = {APP: [], OTHER: []}


def _kind(request_type: str, name: str) -> str:
    """The app's own requests (what the p95 < 300 ms limit is about), apart from local Stripe,
    the baseline and the pseudo-requests that time a whole payment."""
    if request_type == "PAY" or name.startswith("Stripe") or "baseline" in name:
        return OTHER
    return APP


@events.request.add_listener
def _record(request_type: str, name: str, response_time: float, **_kwargs: object) -> None:
    TIMES[_kind(request_type, name)].append(response_time)


@events.test_stop.add_listener
def _write_times(**_kwargs: object) -> None:
    """run.py reads the app's response times (every request, not locust's rounded buckets)."""
    if os.environ.get("LOAD_RESULTS"):
        with open(os.environ["LOAD_RESULTS"], "w") as results:
            json.dump(TIMES[APP], results)


def _days() -> tuple[str, str]:
    first = date.today() + timedelta(days=random.randint(1, 20))
    return first.isoformat(), (first + timedelta(days=6)).isoformat()


class _BusinessUser(FastHttpUser):
    """A user of one business: every request names its host (geventhttpclient, FastHttpUser,
    spends a fraction of requests' CPU on this machine, which the server under test shares)."""

    abstract = True

    def on_start(self) -> None:
        self.business = random.choice(TENANTS)
        self.headers = {"Host": f"{self.business['slug']}.localhost"}

    def get(self, path: str, **kwargs):
        return self.client.get(path, headers=self.headers, **kwargs)

    def post(self, path: str, **kwargs):
        return self.client.post(path, headers=self.headers, **kwargs)

    def _availability(self, service: int | None = None):
        start, end = _days()
        service = service or self.business["service"]
        return self.get(
            f"/api/v1/availability/?service={service}&start={start}&end={end}",
            name="GET availability",
        )


class Customer(_BusinessUser):
    weight = 10
    wait_time = between(1, 3)

    @task(3)
    def services(self) -> None:
        self.get("/api/v1/services/", name="GET services")

    @task(8)
    def availability(self) -> None:
        self._availability()

    @task(1)
    def book_and_pay(self) -> None:
        found = self._availability()
        slots = found.json().get("slots", []) if found.ok else []
        if not slots:
            return
        slot = random.choice(slots)
        number = random.randrange(10**9)
        body = {
            "service": self.business["service"], "staff": slot["staff_id"], "start": slot["start"],
            "customer": {"name": f"Load {number}", "email": f"load{number}@bench.test"},
        }  # fmt: skip
        with self.post(
            "/api/v1/bookings/", json=body, name="POST booking (hold)", catch_response=True
        ) as response:
            if response.status_code == 409:  # another customer took it first: the right answer
                response.success()
                return
            if response.status_code != 201:
                return
            booking = response.json()
        payment = booking.get("payment") or {}
        if not payment.get("client_secret"):
            events.request.fire(request_type="PAY", name="hold without a client secret",
                                response_time=0, response_length=0,
                                exception=RuntimeError(payment.get("message")))  # fmt: skip
            return
        if self._confirm_at_stripe(payment["client_secret"]):
            self._wait_for_confirmation(booking["reference"], booking["manage_token"])

    def _confirm_at_stripe(self, client_secret: str) -> bool:
        """What stripe.js's confirmPayment sends for a card typed in the Payment Element."""
        intent = client_secret.split("_secret_")[0]
        form = {
            "client_secret": client_secret,
            "use_stripe_sdk": "true",
            "payment_method_data[type]": "card",
            "payment_method_data[card][number]": "4242424242424242",
            "payment_method_data[card][exp_month]": "12",
            "payment_method_data[card][exp_year]": str(date.today().year + 3),
            "payment_method_data[card][cvc]": "123",
        }
        with self.client.post(
            f"{STRIPE_URL}/v1/payment_intents/{intent}/confirm", data=urlencode(form),
            headers={"Authorization": f"Bearer {STRIPE_KEY}", "Host": STRIPE_URL.split("//")[1],
                     "Content-Type": "application/x-www-form-urlencoded"},
            name="Stripe confirm (local Stripe)", catch_response=True,
        ) as response:  # fmt: skip
            if response.ok and response.json().get("status") != "succeeded":
                response.failure(f"PaymentIntent {response.json().get('status')}")
            return response.ok

    def _wait_for_confirmation(self, reference: str, token: str) -> None:
        started = time.perf_counter()
        for _ in range(POLLS):
            answer = self.get(f"/api/v1/bookings/{reference}/?token={token}",
                              name="GET booking (payment pending)")  # fmt: skip
            if answer.ok and answer.json().get("status") == "confirmed":
                events.request.fire(request_type="PAY", name="paid → confirmed (webhook)",
                                    response_time=(time.perf_counter() - started) * 1000,
                                    response_length=0, exception=None)  # fmt: skip
                return
            time.sleep(POLL_SECONDS)
        events.request.fire(request_type="PAY", name="paid → confirmed (webhook)",
                            response_time=(time.perf_counter() - started) * 1000,
                            response_length=0,
                            exception=RuntimeError("not confirmed after 30 s"))  # fmt: skip


class Staff(_BusinessUser):
    weight = 1
    wait_time = between(2, 5)

    def on_start(self) -> None:
        super().on_start()
        self.headers["Cookie"] = f"sessionid={self.business['session']}"

    def _page(self, path: str, name: str) -> None:
        with self.get(path, name=name, allow_redirects=False,
                      catch_response=True) as response:  # fmt: skip
            if response.status_code != 200:  # a redirect to the login page is a failure here
                response.failure(f"{response.status_code} {response.headers.get('Location')}")

    @task(2)
    def calendar(self) -> None:
        self._page("/calendar/", "GET back office calendar")

    @task(1)
    def bookings(self) -> None:
        self._page("/bookings/", "GET back office bookings")


class IssueMix(_BusinessUser):
    """The issue's measurement (#16: "near 48 requests per second"): clients that never wait,
    80 % of requests availability lookups, 20 % bookings of a free service: the hold, then the
    widget's confirmation of a booking that needs no payment (7 lookups a booking: 8 of 10
    requests are lookups). run.py --issue-mix runs these alone."""

    wait_time = constant(0)

    @task(7)
    def availability(self) -> None:
        self._availability(self.business["free_service"])

    @task(1)
    def book(self) -> None:
        found = self._availability(self.business["free_service"])
        slots = found.json().get("slots", []) if found.ok else []
        if not slots:
            return
        slot = random.choice(slots)
        number = random.randrange(10**9)
        body = {
            "service": self.business["free_service"], "staff": slot["staff_id"],
            "start": slot["start"],
            "customer": {"name": f"Mix {number}", "email": f"mix{number}@bench.test"},
        }  # fmt: skip
        with self.post("/api/v1/bookings/", json=body, name="POST booking (free: hold)",
                       catch_response=True) as response:  # fmt: skip
            if response.status_code == 409:  # taken meanwhile: the right answer
                response.success()
                return
            if response.status_code != 201:
                return
            booking = response.json()
        self.post(f"/widget/bookings/{booking['reference']}/confirm/",
                  json={"token": booking["manage_token"]},
                  name="POST booking (free: confirm)")  # fmt: skip


class Probe(FastHttpUser):
    """The trivial baseline: /healthz (no tenant, a Redis ping, a database ping)."""

    fixed_count = 1
    wait_time = constant_pacing(1)

    @task
    def health(self) -> None:
        self.client.get("/healthz", name="GET /healthz (baseline)")


class Saturate(FastHttpUser):
    """run.py's capacity baseline, run on its own: /healthz as fast as the server answers."""

    wait_time = constant_pacing(0)

    @task
    def health(self) -> None:
        self.client.get("/healthz", name="GET /healthz (saturated)")
