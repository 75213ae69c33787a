"""Liveness marks of the Celery beat and worker, kept in Redis for `/healthz`.

Beat publishes `saas_platform.tasks.heartbeat` (CELERY_BEAT_SCHEDULE["heartbeat"]): the publication
itself stamps BEAT_KEY (in the beat process, `before_task_publish`), the run stamps WORKER_KEY (in
a worker). Times are Redis's clock, so web, beat and worker hosts need not agree on the time.
"""

from __future__ import annotations

import functools

import redis
from django.conf import settings

HEARTBEAT_TASK = "saas_platform.tasks.heartbeat"
BEAT_KEY = "creneau:health:beat"
WORKER_KEY = "creneau:health:worker"
# Longer than any freshness limit, so a mark disappears only long after it turned stale.
MARK_TTL_SECONDS = 24 * 60 * 60
SOCKET_TIMEOUT_SECONDS = 1.0


@functools.lru_cache(maxsize=4)
def _client_for(url: str) -> redis.Redis:
    return redis.Redis.from_url(
        url, socket_connect_timeout=SOCKET_TIMEOUT_SECONDS, socket_timeout=SOCKET_TIMEOUT_SECONDS
    )


def redis_client() -> redis.Redis:
    """A client of REDIS_URL with short timeouts (settings read at each call, for tests)."""
    return _client_for(settings.REDIS_URL)


def redis_now(client: redis.Redis) -> float:
    seconds, microseconds = client.time()
    return seconds + microseconds / 1_000_000


def mark_alive(key: str) -> None:
    client = redis_client()
    client.set(key, repr(redis_now(client)), ex=MARK_TTL_SECONDS)


def seconds_since_mark(client: redis.Redis, key: str) -> float | None:
    """Age of the mark in seconds, None when it was never written (or expired)."""
    value = client.get(key)
    if value is None:
        return None
    return max(0.0, redis_now(client) - float(value))
