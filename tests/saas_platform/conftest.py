"""Fixtures of the platform tests: a real Celery worker on the real Redis broker."""

import os
import uuid

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings as django_settings

from saas_platform.celery import app
from tests.processes import reset_broker_pool


def private_routes(queue: str) -> dict[str, dict[str, str]]:
    """settings.CELERY_TASK_ROUTES with each named queue made private to one test (`offers` →
    `<queue>-offers`), so a test's worker never takes another run's messages."""
    return {
        name: {**route, "queue": f"{queue}-{route['queue']}"}
        for name, route in django_settings.CELERY_TASK_ROUTES.items()
    }


@pytest.fixture
def real_worker(committed_db, settings):
    """A Celery worker thread consuming private queues on the real Redis broker: the default
    queue and the routed ones (the waitlist's offers), as every deployed worker does."""
    redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    queue = f"test-{uuid.uuid4().hex[:8]}"
    routes = private_routes(queue)
    previous = {
        key: app.conf[key]
        for key in (
            "task_always_eager", "broker_url", "result_backend", "task_default_queue",
            "task_routes",
        )
    }  # fmt: skip
    app.conf.update(
        task_always_eager=False,
        broker_url=redis_url,
        result_backend=redis_url,
        task_default_queue=queue,
        task_routes=routes,
    )
    reset_broker_pool(app)
    queues = sorted({queue, *(route["queue"] for route in routes.values())})
    try:
        with start_worker(
            app, pool="solo", perform_ping_check=False, loglevel="WARNING", queues=queues
        ) as worker:
            yield worker
    finally:
        app.conf.update(previous)
        reset_broker_pool(app)
