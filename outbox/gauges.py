"""Figures a periodic job counts across every business and `/healthz` or the metrics read back.

Counting rows in every tenant schema on each health probe costs one statement part per schema
(a `UNION ALL` of 2,000 tables, and as many locks, at 2,000 businesses) on the busiest path a
load balancer has. The job that already visits every schema (the pending-refunds retry) counts
what is left as it goes and stores the total here, in Redis, with the time it was counted; the
probe reads one key. The figure is as old as the job's period (5 minutes), which is what a
backlog alert needs.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

GAUGE_PREFIX = "creneau:gauge:"
# Kept a few periods: a figure older than that is not a figure any more (the job stopped).
GAUGE_TTL_SECONDS = 3600


@dataclass(frozen=True)
class Gauge:
    value: int
    age_seconds: float


def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)


def gauge_record(name: str, value: int) -> None:
    """Store the figure; without Redis (development, eager tasks) there is nowhere to keep it."""
    if not settings.REDIS_URL:
        return
    try:
        _redis().set(
            GAUGE_PREFIX + name,
            json.dumps({"value": value, "at": time.time()}),
            ex=GAUGE_TTL_SECONDS,
        )
    except redis.RedisError as error:
        logger.warning("gauge.unrecorded", extra={"gauge": name, "error": type(error).__name__})


def gauge_read(name: str) -> Gauge | None:
    """The last figure recorded, None if none is (never counted, expired, or Redis is down)."""
    if not settings.REDIS_URL:
        return None
    try:
        raw = _redis().get(GAUGE_PREFIX + name)
    except redis.RedisError:
        return None
    if raw is None:
        return None
    data = json.loads(raw)
    return Gauge(int(data["value"]), max(0.0, time.time() - float(data["at"])))
