"""`/healthz`: what a load balancer and an operator need to know, answered before tenant routing.

Down (HTTP 503, `Retry-After`): the database or Redis does not answer, requests would fail.
Degraded (HTTP 200): requests are served but background work is not keeping up, namely the worker or
beat heartbeat is stale, the outbox backlog is over its limit, or Stripe cannot be reached (online
payment fails; everything else works). The body names each check's state, never a host or secret.
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse

from connect_payments.models import PaymentRefund, RefundStatus, StripeEvent
from connect_payments.tasks import REFUNDS_PENDING_GAUGE
from outbox.gauges import gauge_read
from outbox.services import outbox_due
from tenants.context import use_public_schema
from tenants.models import Tenant

from .heartbeat import BEAT_KEY, WORKER_KEY, redis_client, seconds_since_mark

HEALTH_PATHS = ("/healthz", "/healthz/")
OK, DEGRADED, DOWN = "ok", "degraded", "down"
EAGER = "not configured (tasks run eagerly)"
RETRY_AFTER_SECONDS = 5
DATABASE_STATEMENT_TIMEOUT_MS = 2000
WORKER_FRESH_SECONDS = 60.0
STRIPE_DEFAULT_API_BASE = "https://api.stripe.com"
STRIPE_TIMEOUT_SECONDS = 2.0
STRIPE_CACHE_SECONDS = 30.0


# ---------------------------------------------------------------------------
# Outbox backlog: work accepted by a request and left to a task after commit
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class BacklogCounter:
    """One kind of pending work; `count` runs on the public schema inside a transaction."""

    name: str
    count: Callable[[], int | None]


def rows_in_every_tenant_schema(*, table: str, condition: str, params: list[Any]) -> int:
    """Rows matching `condition` in `table` of every business's schema, in two queries whatever
    the number of businesses; a schema without that table (not migrated yet) counts 0.

    `table` and `condition` come from the code (BACKLOG_COUNTERS), never from a request."""
    quote = connection.ops.quote_name
    tenants_table = f"{quote(settings.PUBLIC_SCHEMA_NAME)}.{quote(Tenant._meta.db_table)}"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"  # noqa: S608
            f" WHERE c.relname = %s AND n.nspname IN (SELECT schema_name FROM {tenants_table})"
            " AND n.nspname <> %s",
            [table, settings.PUBLIC_SCHEMA_NAME],
        )
        schemas = [row[0] for row in cursor.fetchall()]
        if not schemas:
            return 0
        counts = " UNION ALL ".join(
            f"SELECT count(*) AS n FROM {quote(schema)}.{quote(table)} WHERE {condition}"  # noqa: S608
            for schema in schemas
        )
        sql = f"SELECT coalesce(sum(n), 0) FROM ({counts}) AS counts"  # noqa: S608
        cursor.execute(sql, params * len(schemas))
        return int(cursor.fetchone()[0])


def _unprocessed_stripe_events() -> int:
    return StripeEvent.objects.filter(processed_at__isnull=True).count()


def _pending_refunds() -> int | None:
    """As last counted by the refund retry job (outbox/gauges.py: one Redis read, whatever the
    number of businesses); None before its first run. Without Redis (development, eager tasks)
    there is no job to count them: counted here, across the few local schemas."""
    if not settings.REDIS_URL:
        return rows_in_every_tenant_schema(
            table=PaymentRefund._meta.db_table,
            condition="status = %s",
            params=[RefundStatus.PENDING],
        )
    gauge = gauge_read(REFUNDS_PENDING_GAUGE)
    return None if gauge is None else gauge.value


# Add a counter per outbox; a counter whose table does not exist yet is reported as null.
BACKLOG_COUNTERS: list[BacklogCounter] = [
    # After-commit tasks the sweep has yet to hand again (broker refused them, or a worker
    # took them and never finished): outbox/services.py.
    BacklogCounter("outbox_overdue", lambda: outbox_due().count()),
    BacklogCounter("stripe_events_unprocessed", _unprocessed_stripe_events),
    BacklogCounter("refunds_pending", _pending_refunds),
]


def _count_backlog() -> dict[str, int | None]:
    counts: dict[str, int | None] = {}
    for counter in BACKLOG_COUNTERS:
        try:
            with transaction.atomic():  # a missing table fails this savepoint only
                counts[counter.name] = counter.count()
        except DatabaseError:
            counts[counter.name] = None
    return counts


# ---------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------
def _check_database() -> tuple[str, dict[str, int | None] | None]:
    """SELECT 1 and the backlog counts, under a statement timeout (the connect timeout is
    DATABASES' `connect_timeout`)."""
    use_public_schema()  # no tenant middleware has run before us
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL statement_timeout = {DATABASE_STATEMENT_TIMEOUT_MS}")
                cursor.execute("SELECT 1")
                cursor.fetchone()
            backlog = _count_backlog()
    except DatabaseError as error:
        return f"error: {error.__class__.__name__}", None
    return OK, backlog


def _check_redis() -> str:
    if not settings.REDIS_URL:
        return EAGER
    try:
        redis_client().ping()
    except redis.RedisError as error:
        return f"error: {error.__class__.__name__}"
    return OK


def _check_heartbeat(key: str, fresh_seconds: float, redis_state: str) -> tuple[str, float | None]:
    if settings.CELERY_TASK_ALWAYS_EAGER or not settings.REDIS_URL:
        return EAGER, None
    if redis_state != OK:
        return "unknown", None
    try:
        age = seconds_since_mark(redis_client(), key)
    except redis.RedisError:
        return "unknown", None
    if age is None:
        return "missing", None
    return (OK if age <= fresh_seconds else "stale"), round(age, 1)


_stripe_probes: dict[str, tuple[float, str]] = {}
_stripe_probes_lock = threading.Lock()


def _probe_stripe(base: str) -> str:
    if not base.startswith(("https://", "http://")):
        return "unreachable"
    try:
        # An http(s) URL from settings (checked above), not from a request.
        with urllib.request.urlopen(base + "/", timeout=STRIPE_TIMEOUT_SECONDS):  # noqa: S310
            return OK
    except urllib.error.HTTPError as error:
        # Unauthenticated, Stripe answers 4xx: it is reachable. 5xx: it is failing.
        return OK if error.code < 500 else "unreachable"
    except (OSError, ValueError):  # refused, timed out, DNS, TLS; ValueError: a malformed URL
        return "unreachable"


def _check_stripe() -> str:
    """Whether the Stripe API answers HTTP, probed at most every STRIPE_CACHE_SECONDS per
    process (the key is never sent)."""
    if not (settings.STRIPE_API_BASE or settings.STRIPE_SECRET_KEY):
        return "not configured"
    base = settings.STRIPE_API_BASE.rstrip("/") or STRIPE_DEFAULT_API_BASE
    now = time.monotonic()
    with _stripe_probes_lock:
        cached = _stripe_probes.get(base)
    if cached is not None and now - cached[0] < STRIPE_CACHE_SECONDS:
        return cached[1]
    state = _probe_stripe(base)
    with _stripe_probes_lock:
        _stripe_probes[base] = (now, state)
    return state


# ---------------------------------------------------------------------------
# The endpoint
# ---------------------------------------------------------------------------
def healthz(request: HttpRequest) -> JsonResponse:
    started = time.monotonic()
    database, backlog = _check_database()
    redis_state = _check_redis()
    worker, worker_age = _check_heartbeat(WORKER_KEY, WORKER_FRESH_SECONDS, redis_state)
    # Beat publishes the heartbeat every `schedule` seconds: two missed in a row is stale.
    beat_fresh_seconds = 2 * float(settings.CELERY_BEAT_SCHEDULE["heartbeat"]["schedule"])
    beat, beat_age = _check_heartbeat(BEAT_KEY, beat_fresh_seconds, redis_state)
    stripe_state = _check_stripe()
    limit = settings.HEALTH_OUTBOX_BACKLOG_LIMIT
    if backlog is None:
        outbox = "unknown"
    elif any(count is not None and count > limit for count in backlog.values()):
        outbox = "backlog"
    else:
        outbox = OK

    if database != OK or redis_state not in (OK, EAGER):
        status = DOWN
    elif (
        worker not in (OK, EAGER)
        or beat not in (OK, EAGER)
        or outbox != OK
        or stripe_state == "unreachable"
    ):
        status = DEGRADED
    else:
        status = OK
    response = JsonResponse(
        {
            "status": status,
            "database": database,
            "redis": redis_state,
            "worker": worker,
            "beat": beat,
            "outbox": outbox,
            "stripe": stripe_state,
            "details": {
                "worker": {
                    "seconds_since_heartbeat": worker_age,
                    "fresh_within": WORKER_FRESH_SECONDS,
                },
                "beat": {"seconds_since_heartbeat": beat_age, "fresh_within": beat_fresh_seconds},
                "outbox": {"pending": backlog, "limit": limit},
            },
            "elapsed_ms": round((time.monotonic() - started) * 1000, 1),
        },
        status=503 if status == DOWN else 200,
    )
    response["Cache-Control"] = "no-store"
    if status == DOWN:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class HealthCheckMiddleware:
    """First in MIDDLEWARE: `/healthz` on any host, with no host check and no tenant lookup
    (which needs the database this endpoint reports on)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info in HEALTH_PATHS:
            return healthz(request)
        return self.get_response(request)
