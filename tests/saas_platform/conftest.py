"""Fixtures of the platform tests: a real Celery worker on the real Redis broker."""

import os
import uuid

import pytest
from celery.contrib.testing.worker import start_worker

from saas_platform.celery import app
from tests.processes import reset_broker_pool


@pytest.fixture
def real_worker(committed_db, settings):
    """A Celery worker thread consuming a private queue on the real Redis broker."""
    redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    queue = f"test-{uuid.uuid4().hex[:8]}"
    previous = {
        key: app.conf[key]
        for key in ("task_always_eager", "broker_url", "result_backend", "task_default_queue")
    }
    app.conf.update(
        task_always_eager=False,
        broker_url=redis_url,
        result_backend=redis_url,
        task_default_queue=queue,
    )
    reset_broker_pool(app)
    try:
        with start_worker(
            app, pool="solo", perform_ping_check=False, loglevel="WARNING", queues=[queue]
        ) as worker:
            yield worker
    finally:
        app.conf.update(previous)
        reset_broker_pool(app)
