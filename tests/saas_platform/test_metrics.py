"""Operators can see it: `/metrics` for Prometheus only, the platform's own metrics in it, and
JSON log lines with the tenant schema and the request id (issue #16)."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context
from prometheus_client.parser import text_string_to_metric_families

from connect_payments.models import StripeEvent
from outbox.services import outbox_enqueue
from saas_platform.metrics import HOLDS
from saas_platform.structured_logs import REQUEST_ID_HEADER, JsonFormatter, request_id
from scheduling.services.customers import customer_upsert
from tests.scheduling.conftest import build_catalogue
from tests.scheduling.test_notifications import TEN_AM, hold

TOKEN = "metrics-test-token-0123456789"


def scrape(host: str = "localhost", token: str | None = TOKEN, path: str = "/metrics"):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token is not None else {}
    return Client().get(path, HTTP_HOST=host, **headers)


def samples(response) -> dict[tuple[str, tuple], float]:
    found = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


@pytest.mark.parametrize(
    ("token_setting", "sent"),
    [("", None), ("", ""), (TOKEN, None), (TOKEN, "wrong-token"), (TOKEN, TOKEN[:-1])],
)
def test_metrics_are_not_public(db, settings, token_setting, sent):
    settings.METRICS_TOKEN = token_setting
    for host in ("localhost", "alpha.localhost", "10.0.0.7:8000"):
        response = scrape(host=host, token=sent)
        assert response.status_code == 404
        assert b"creneau_" not in response.content and b"django_http" not in response.content


@pytest.mark.parametrize("host", ["localhost", "alpha.localhost", "10.0.0.7:8000"])
def test_prometheus_with_the_token_reads_them_on_any_host(db, settings, host):
    settings.METRICS_TOKEN = TOKEN
    scrape(token="wrong-token")  # a request for django-prometheus to count
    response = scrape(host=host)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    names = {name for name, _ in samples(response)}
    assert "django_http_requests_before_middlewares_total" in names  # django-prometheus
    assert {"creneau_celery_queue_length", "creneau_celery_unacked", "creneau_backlog",
            "creneau_webhook_lag_seconds", "creneau_holds_total"} <= names  # fmt: skip


def test_outbox_backlog_and_webhook_lag_are_reported(db, settings):
    settings.METRICS_TOKEN = TOKEN
    before = samples(scrape())
    outbox_enqueue("saas_platform.tasks.heartbeat", schema_name="public")  # never dispatched:
    StripeEvent.objects.create(  # the test transaction never commits
        event_id="evt_metrics_lag", type="account.updated", payload={},
        received_at=timezone.now() - timedelta(minutes=3),
    )  # fmt: skip
    after = samples(scrape())
    open_key = ("creneau_backlog", (("kind", "outbox_open"),))
    assert after[open_key] == before[open_key] + 1
    unprocessed = ("creneau_backlog", (("kind", "stripe_events_unprocessed"),))
    assert after[unprocessed] == before[unprocessed] + 1
    assert after[("creneau_webhook_lag_seconds", ())] >= 180


def test_each_hold_is_counted_when_written(tenant_alpha):
    with tenant_context(tenant_alpha):
        catalogue = build_catalogue()
        customer = customer_upsert(name="Metric", email="metric@example.test")
        before = HOLDS._value.get()
        hold(catalogue, customer, TEN_AM)
        assert HOLDS._value.get() == before + 1
        hold(catalogue, customer, TEN_AM.replace(hour=14))
    assert HOLDS._value.get() == before + 2


def test_requests_get_an_id_echoed_and_a_sane_given_one_is_kept(db):
    response = Client().get("/signup/", HTTP_HOST="localhost")
    assert len(response[REQUEST_ID_HEADER]) == 32
    given = "proxy-req-0123456789"
    assert (
        Client().get("/signup/", HTTP_HOST="localhost", HTTP_X_REQUEST_ID=given)[REQUEST_ID_HEADER]
        == given
    )
    forged = "x\r\nSet-Cookie: a=b"  # not an id: replaced, never echoed
    echoed = Client().get("/signup/", HTTP_HOST="localhost", HTTP_X_REQUEST_ID=forged)
    assert echoed[REQUEST_ID_HEADER] != forged


def test_json_log_lines_carry_the_tenant_schema_and_the_request_id(tenant_alpha):
    formatter = JsonFormatter()
    token = request_id.set("req-abc-12345678")
    try:
        with tenant_context(tenant_alpha):
            record = logging.getLogger("creneau.test").makeRecord(
                "creneau.test", logging.INFO, __file__, 1, "booking.confirmed", (), None,
                extra={"booking": 42},
            )  # fmt: skip
            line = json.loads(formatter.format(record))
    finally:
        request_id.reset(token)
    assert line["event"] == "booking.confirmed"
    assert line["tenant"] == tenant_alpha.schema_name
    assert line["request_id"] == "req-abc-12345678"
    assert line["booking"] == 42 and line["level"] == "INFO"
