"""`/healthz`: whether the database and Redis answer, for load balancers and operators."""

import time

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # noqa: BLE001 - any failure means "down", reported as text
        return f"error: {error.__class__.__name__}"
    return "ok"


def _check_redis() -> str:
    if not settings.REDIS_URL:
        return "not configured (tasks run eagerly)"
    import redis

    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1
        )
        client.ping()
    except redis.RedisError as error:
        return f"error: {error.__class__.__name__}"
    return "ok"


def healthz(request: HttpRequest) -> JsonResponse:
    started = time.monotonic()
    database = _check_database()
    redis_status = _check_redis()
    healthy = database == "ok" and redis_status in ("ok", "not configured (tasks run eagerly)")
    return JsonResponse(
        {
            "status": "ok" if healthy else "degraded",
            "database": database,
            "redis": redis_status,
            "elapsed_ms": round((time.monotonic() - started) * 1000, 1),
        },
        status=200 if healthy else 503,
    )
