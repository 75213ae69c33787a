"""`/healthz` reads the pending refunds as the retry job last counted them (outbox/gauges.py),
instead of counting every business's refunds table on each probe: the probe's statements name no
tenant table, whatever the number of businesses, and the figure is the job's (real Redis)."""

import os

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from connect_payments.models import PaymentRefund, RefundOrigin, RefundStatus
from connect_payments.tasks import REFUNDS_PENDING_GAUGE, retry_pending_refunds_in_every_tenant
from outbox.gauges import GAUGE_PREFIX, _redis, gauge_read
from tests.factories import client_for

from .conftest import in_schema

REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"


@pytest.fixture
def redis_gauges(settings):
    settings.REDIS_URL = REDIS_URL
    _redis().delete(GAUGE_PREFIX + REFUNDS_PENDING_GAUGE)
    yield
    _redis().delete(GAUGE_PREFIX + REFUNDS_PENDING_GAUGE)


def pending_on_health(tenant) -> tuple[int | None, list[str]]:
    """The probe's refunds_pending and its statements; then back in the tenant's schema."""
    with CaptureQueriesContext(connection) as queries:
        body = client_for().get("/healthz").json()
    in_schema(tenant)
    return body["details"]["outbox"]["pending"]["refunds_pending"], [
        q["sql"] for q in queries.captured_queries
    ]


def test_health_reads_the_count_of_the_retry_job_not_every_schema(
    redis_gauges, paid, tenant_alpha, tenant_beta
):
    booking, payment = paid
    # A refund the job has given up sending (attempts spent): it stays pending.
    PaymentRefund.objects.create(
        payment=payment, amount_minor=500, status=RefundStatus.PENDING,
        origin=RefundOrigin.STAFF, idempotency_key="gauge-test-1", attempts=20,
    )  # fmt: skip
    counted, statements = pending_on_health(tenant_alpha)
    assert counted is None  # the job has not counted yet: unknown, not 0
    assert not [s for s in statements if PaymentRefund._meta.db_table in s]

    retry_pending_refunds_in_every_tenant()
    in_schema(tenant_alpha)
    gauge = gauge_read(REFUNDS_PENDING_GAUGE)
    assert gauge is not None and gauge.value == 1 and gauge.age_seconds < 60
    counted, statements = pending_on_health(tenant_alpha)
    assert counted == 1
    assert not [s for s in statements if PaymentRefund._meta.db_table in s]

    PaymentRefund.objects.filter(idempotency_key="gauge-test-1").update(status=RefundStatus.FAILED)
    retry_pending_refunds_in_every_tenant()
    in_schema(tenant_alpha)
    assert pending_on_health(tenant_alpha)[0] == 0


def test_without_redis_health_counts_the_schemas_itself(settings, paid, tenant_alpha):
    settings.REDIS_URL = ""
    booking, payment = paid
    PaymentRefund.objects.create(
        payment=payment, amount_minor=300, status=RefundStatus.PENDING,
        origin=RefundOrigin.STAFF, idempotency_key="gauge-test-2", attempts=20,
    )  # fmt: skip
    assert pending_on_health(tenant_alpha)[0] == 1
