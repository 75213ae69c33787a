"""Prometheus metrics at `/metrics` (docs/operations.md): django-prometheus' request metrics, the
counters of holds and payment events, and what is read at scrape time — Celery queue depth,
the outbox and webhook backlogs and lag, the worker and beat heartbeats.

`/metrics` is not public: it answers only a request bearing `Authorization: Bearer
<METRICS_TOKEN>` (404 to anything else, and to everyone when no token is set), on any host,
before the host check and the tenant lookup (Prometheus scrapes each web replica by address).
Under gunicorn, set PROMETHEUS_MULTIPROC_DIR (deploy/gunicorn.conf.py) so a scrape sums the
counters of every worker process.
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Callable, Iterator
from typing import Any

import redis
from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models.signals import post_save
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from connect_payments.models import PaymentEvent, StripeEvent
from outbox.services import outbox_backlog
from scheduling.models import Booking, BookingStatus
from tenants.context import use_public_schema

from .health import _count_backlog
from .heartbeat import BEAT_KEY, WORKER_KEY, redis_client, seconds_since_mark

logger = logging.getLogger(__name__)

METRICS_PATHS = ("/metrics", "/metrics/")
# The queues the workers consume (Celery's default, unless CELERY_TASK_DEFAULT_QUEUE says else).
CELERY_QUEUES = ("celery",)

HOLDS = Counter("creneau_holds", "Bookings held (a slot reserved while the customer pays)")
PAYMENT_EVENTS = Counter(
    "creneau_payment_events",
    "Payment history entries by action (creneau.payment.succeeded: a payment received)",
    ["action"],
)


# Counted when the row is written (post_save), not on commit: an on_commit callback per hold
# would be a second after-commit action on every booking path. The rows are written last in
# their transactions, so a count for a rolled-back one is rare.
def _booking_saved(sender: Any, instance: Booking, created: bool, **kwargs: Any) -> None:
    if created and instance.status == BookingStatus.HELD:
        HOLDS.inc()


def _payment_event_saved(sender: Any, instance: PaymentEvent, created: bool, **kwargs: Any) -> None:
    if created:
        PAYMENT_EVENTS.labels(action=instance.action).inc()


def connect_counters() -> None:
    """Called from SaasPlatformConfig.ready()."""
    post_save.connect(_booking_saved, sender=Booking, dispatch_uid="metrics.holds")
    post_save.connect(_payment_event_saved, sender=PaymentEvent, dispatch_uid="metrics.payments")


# The scrape-time gauges: name, help, labels.
GAUGES = {
    "queue": (
        "creneau_celery_queue_length", "Messages waiting in a Celery queue", ["queue"]
    ),
    "unacked": (
        "creneau_celery_unacked",
        "Messages taken by a worker and not acknowledged yet (running, or a dead worker's)",
        [],
    ),
    "backlog": ("creneau_backlog", "Work accepted and not done yet, by kind", ["kind"]),
    "lag": (
        "creneau_webhook_lag_seconds",
        "Age of the oldest Stripe event received and not processed (0: none waiting)",
        [],
    ),
    "heartbeat": (
        "creneau_heartbeat_age_seconds",
        "Seconds since the worker ran, or beat published, the heartbeat",
        ["process"],
    ),
}  # fmt: skip


def _gauge(key: str) -> GaugeMetricFamily:
    name, documentation, labels = GAUGES[key]
    return GaugeMetricFamily(name, documentation, labels=labels)


class ScrapeTimeCollector(Collector):
    """Gauges read when Prometheus scrapes; a source that is down is left out (its absence is
    what alerts on `absent()` see), the rest is still reported."""

    def describe(self) -> Iterator[GaugeMetricFamily]:
        """The gauges' names for the registry, so that registering (at start-up, from
        `AppConfig.ready`) does not run `collect` and its database queries."""
        for key in GAUGES:
            yield _gauge(key)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield from self._celery()
        yield from self._database()
        yield from self._heartbeats()

    def _celery(self) -> Iterator[GaugeMetricFamily]:
        if not settings.REDIS_URL:
            return
        depth, unacked = _gauge("queue"), _gauge("unacked")
        try:
            client = redis_client()
            for queue in CELERY_QUEUES:
                depth.add_metric([queue], client.llen(queue))
            unacked.add_metric([], client.hlen("unacked"))
        except redis.RedisError:
            return
        yield depth
        yield unacked

    def _database(self) -> Iterator[GaugeMetricFamily]:
        use_public_schema()
        try:
            with transaction.atomic():
                backlog = _count_backlog()
                outbox = outbox_backlog()
                oldest = (
                    StripeEvent.objects.filter(processed_at__isnull=True)
                    .order_by("received_at")
                    .values_list("received_at", flat=True)
                    .first()
                )
        except DatabaseError:
            return
        counts = _gauge("backlog")
        for kind, value in backlog.items():
            if value is not None:
                counts.add_metric([kind], value)
        for kind in ("open", "given_up"):
            counts.add_metric([f"outbox_{kind}"], outbox[kind])
        yield counts
        lag = _gauge("lag")
        lag.add_metric([], (timezone.now() - oldest).total_seconds() if oldest else 0.0)
        yield lag

    def _heartbeats(self) -> Iterator[GaugeMetricFamily]:
        if not settings.REDIS_URL:
            return
        age = _gauge("heartbeat")
        try:
            client = redis_client()
            for process, key in (("worker", WORKER_KEY), ("beat", BEAT_KEY)):
                seconds = seconds_since_mark(client, key)
                if seconds is not None:
                    age.add_metric([process], seconds)
        except redis.RedisError:
            return
        yield age


SCRAPE_TIME = ScrapeTimeCollector()
MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
if not MULTIPROCESS:
    REGISTRY.register(SCRAPE_TIME)


def _registry() -> CollectorRegistry:
    if MULTIPROCESS:  # each scrape sums the files every gunicorn process writes
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(SCRAPE_TIME)
        return registry
    return REGISTRY


def _authorised(request: HttpRequest) -> bool:
    token = getattr(settings, "METRICS_TOKEN", "")
    given = request.headers.get("Authorization", "")
    return bool(token) and hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


def metrics(request: HttpRequest) -> HttpResponse:
    if not _authorised(request):
        return HttpResponse("Not found", status=404, content_type="text/plain")
    response = HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response


class MetricsMiddleware:
    """Right after the health middleware: `/metrics` on any host, before the host check and
    the tenant lookup."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info in METRICS_PATHS:
            return metrics(request)
        return self.get_response(request)
