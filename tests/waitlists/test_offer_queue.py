"""Offers are made off the cancelling request, on a Celery queue of their own (`offers`), so
they never wait behind the default queue's emails: the cancellation commits an outbox row, the
broker holds it on the offers queue, and a worker consuming that queue offers the seat. Every
worker command of the repository consumes the queue (a forgotten one would offer nothing): the
general workers `celery,offers`, the waitlist's own worker (docker-compose, bench) `offers`."""

from __future__ import annotations

import os
import re
import time
import uuid
from pathlib import Path

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django_tenants.utils import tenant_context

from saas_platform.celery import app
from scheduling.actors import CUSTOMER
from scheduling.services.bookings import booking_cancel
from tests.processes import app_on_broker
from tests.saas_platform.conftest import private_routes
from waitlists.models import FreedPlace, OfferStatus, WaitlistOffer
from waitlists.services.entries import entry_join

from .conftest import build_yoga, fill
from .test_races import alpha_committed  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[2]
OFFER_TASKS = (
    "waitlists.tasks.open_freed_place",
    "waitlists.tasks.open_places_for_new_hours",
    "waitlists.tasks.send_offer_email",
    "waitlists.tasks.book_automatically",
)


def test_the_offer_tasks_are_routed_to_the_offers_queue():
    assert {name: settings.CELERY_TASK_ROUTES[name]["queue"] for name in OFFER_TASKS} == {
        name: "offers" for name in OFFER_TASKS
    }


@pytest.mark.parametrize("path", ["docker-compose.yml", "scripts/dev.py", "bench/waitlist.py"])
def test_every_worker_command_consumes_the_offers_queue(path):
    """The general workers consume both queues; a dedicated one (compose, bench) only offers."""
    text = (ROOT / path).read_text()
    end = "\n" if path.endswith(".yml") else "]"  # a compose line, or a Python argument list
    commands = [
        text[found.end() :].split(end, 1)[0]
        for found in re.finditer(r'saas_platform"?,?\s*"?worker\b', text)
    ]
    assert commands, f"no worker command found in {path}"
    for command in commands:
        flat = " ".join(re.sub(r"[\s\"',]+", " ", command).split())  # -Q celery offers
        assert "-Q celery offers" in flat or re.search(r"-Q offers( |$)", flat), (path, command)
    general = [c for c in commands if "celery,offers" in c]
    assert general, f"no worker of {path} consumes the default queue with the offers"


@pytest.mark.celery_worker
def test_a_cancellation_leaves_its_seat_to_a_worker_of_the_offers_queue(alpha_committed):  # noqa: F811
    """No worker at first: the cancelling call returns with no place made (it is not in the
    request any more) and the broker holds the task on the (test's private) offers queue; a
    worker consuming only that queue then offers the seat."""
    redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    queue = f"test-{uuid.uuid4().hex[:8]}"
    routes = private_routes(queue)
    offers_queue = routes["waitlists.tasks.open_freed_place"]["queue"]
    broker = redis.Redis.from_url(redis_url)
    tenant = alpha_committed
    with tenant_context(tenant):
        yoga = build_yoga(seats=2)
        seats = fill(yoga["session"])
        first = entry_join(service=yoga["service"], name="First", email="first@example.test",
                           occurrence=yoga["session"])  # fmt: skip
    try:
        with app_on_broker(app, redis_url, queue, task_routes=routes):
            with tenant_context(tenant):
                booking_cancel(booking=seats[0], actor=CUSTOMER, by_business=False)  # commits
                assert not FreedPlace.objects.exists()  # nothing offered inside the request
            assert broker.llen(offers_queue) == 1  # the outbox handed it to the offers queue
            with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING",
                              queues=[offers_queue]):  # fmt: skip
                deadline = time.monotonic() + 30
                with tenant_context(tenant):
                    offered = WaitlistOffer.objects.filter(entry=first, status=OfferStatus.PENDING)
                    while time.monotonic() < deadline and not offered.exists():
                        time.sleep(0.05)
                    assert offered.exists(), "the offers queue's worker did not offer the seat"
                    assert FreedPlace.objects.count() == 1
    finally:
        broker.delete(queue, *{route["queue"] for route in routes.values()})
