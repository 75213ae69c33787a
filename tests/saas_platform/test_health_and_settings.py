"""/healthz, and production settings passing `check --deploy`."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis
from celery.beat import Scheduler
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from connect_payments.models import StripeEvent
from saas_platform import health
from saas_platform.celery import app
from saas_platform.heartbeat import BEAT_KEY, WORKER_KEY, redis_client, redis_now
from saas_platform.tasks import heartbeat
from scheduling.models import StaffMember
from stripe_local.server import serve_in_thread
from tests.factories import client_for

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"


def free_port() -> int:
    """A port nothing listens on (bound then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def with_workers(settings):
    """Settings of a deployment with a broker: worker and beat are expected to be alive."""
    settings.REDIS_URL = REDIS_URL
    settings.CELERY_TASK_ALWAYS_EAGER = False
    client = redis_client()
    client.delete(WORKER_KEY, BEAT_KEY)
    yield client
    client.delete(WORKER_KEY, BEAT_KEY)


def mark_seconds_ago(client: redis.Redis, key: str, seconds: float) -> None:
    client.set(key, repr(redis_now(client) - seconds))


def test_healthz_reports_database_and_redis(db, settings):
    settings.REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    response = client_for().get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok" and body["redis"] == "ok" and body["status"] == "ok"


def test_healthz_is_down_when_redis_is_down(db, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client_for().get("/healthz")
    assert response.status_code == 503
    assert response.json()["redis"].startswith("error")
    assert response.json()["database"] == "ok"
    assert response.json()["status"] == "down"
    assert response["Retry-After"] == str(health.RETRY_AFTER_SECONDS)


def test_healthz_is_down_when_the_redis_server_dies(db, settings, tmp_path):
    port = free_port()
    server = subprocess.Popen(
        [shutil.which("redis-server") or "redis-server", "--port", str(port), "--save", "",
         "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"
        client = redis.Redis(port=port)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        assert client_for().get("/healthz").json()["redis"] == "ok"

        server.send_signal(signal.SIGKILL)
        server.wait(timeout=10)
        response = client_for().get("/healthz")
        assert response.status_code == 503
        assert response.json()["status"] == "down"
        assert response.json()["redis"].startswith("error")
        assert response["Retry-After"] == str(health.RETRY_AFTER_SECONDS)
        assert str(port) not in response.content.decode()  # no address in the body
    finally:
        server.kill()
        server.wait(timeout=10)


@pytest.mark.parametrize("host", ["nobody.localhost", "10.1.2.3:8000", "BETA.LOCALHOST"])
def test_healthz_answers_on_any_host_without_a_tenant_lookup(db, settings, host):
    settings.REDIS_URL = REDIS_URL
    with CaptureQueriesContext(connection) as queries:
        response = client_for().get("/healthz", HTTP_HOST=host)  # 10.1.2.3 is not allowed
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json()["status"] == "ok"
    assert not any("tenants_domain" in query["sql"] for query in queries.captured_queries)


def test_health_middleware_comes_before_the_host_check_and_the_tenant_lookup(settings):
    assert settings.MIDDLEWARE[0] == "saas_platform.health.HealthCheckMiddleware"
    assert settings.MIDDLEWARE.index("tenants.middleware.CreneauTenantMiddleware") > 0


def test_healthz_is_degraded_while_no_worker_or_beat_ever_reported(db, with_workers):
    response = client_for().get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["worker"], body["beat"]) == ("degraded", "missing", "missing")


def test_healthz_is_degraded_when_the_worker_heartbeat_is_older_than_a_minute(db, with_workers):
    mark_seconds_ago(with_workers, WORKER_KEY, 61)
    mark_seconds_ago(with_workers, BEAT_KEY, 1)
    body = client_for().get("/healthz").json()
    assert (body["status"], body["worker"], body["beat"]) == ("degraded", "stale", "ok")
    assert body["details"]["worker"]["seconds_since_heartbeat"] >= 61

    mark_seconds_ago(with_workers, WORKER_KEY, 59)
    body = client_for().get("/healthz").json()
    assert (body["status"], body["worker"], body["beat"]) == ("ok", "ok", "ok")


def test_healthz_is_degraded_when_beat_missed_two_heartbeats(db, with_workers, settings):
    interval = settings.CELERY_BEAT_SCHEDULE["heartbeat"]["schedule"]
    mark_seconds_ago(with_workers, WORKER_KEY, 1)
    mark_seconds_ago(with_workers, BEAT_KEY, 2 * interval + 1)
    response = client_for().get("/healthz")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["beat"]) == ("degraded", "stale")


@pytest.mark.celery_worker
def test_heartbeat_published_and_run_by_a_real_worker_makes_worker_and_beat_fresh(
    real_worker, with_workers, settings
):
    assert settings.CELERY_BEAT_SCHEDULE["heartbeat"]["task"] == heartbeat.name
    assert client_for().get("/healthz").json()["worker"] == "missing"

    # Published through beat's own code path (Scheduler.apply_async, as `celery beat` does on
    # each tick): the publication stamps beat, the worker's run stamps the worker.
    scheduler = Scheduler(app=app, lazy=True)
    entry = scheduler.Entry(name="heartbeat", app=app, **settings.CELERY_BEAT_SCHEDULE["heartbeat"])
    scheduler.apply_async(entry)
    assert with_workers.get(BEAT_KEY) is not None
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and with_workers.get(WORKER_KEY) is None:
        time.sleep(0.1)
    response = client_for().get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["worker"], body["beat"]) == ("ok", "ok", "ok")


def test_healthz_is_degraded_not_down_when_stripe_is_unreachable(db, settings):
    settings.REDIS_URL = REDIS_URL
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{free_port()}"  # closed port
    response = client_for().get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["stripe"], body["database"]) == ("degraded", "unreachable", "ok")
    assert settings.STRIPE_API_BASE not in response.content.decode()


def test_healthz_reports_stripe_reachable_and_keeps_the_answer_for_a_while(db, settings):
    settings.REDIS_URL = REDIS_URL
    base_url, stop = serve_in_thread()
    try:
        settings.STRIPE_API_BASE = base_url
        body = client_for().get("/healthz").json()
        assert (body["status"], body["stripe"]) == ("ok", "ok")
    finally:
        stop()
    # Cached (STRIPE_CACHE_SECONDS): a health poll does not cost a Stripe round trip each time.
    assert client_for().get("/healthz").json()["stripe"] == "ok"


def test_healthz_is_degraded_when_the_outbox_backlog_exceeds_its_limit(db, settings):
    settings.REDIS_URL = REDIS_URL
    settings.HEALTH_OUTBOX_BACKLOG_LIMIT = StripeEvent.objects.filter(
        processed_at__isnull=True
    ).count()
    body = client_for().get("/healthz").json()
    assert (body["status"], body["outbox"]) == ("ok", "ok")
    pending = body["details"]["outbox"]["pending"]
    assert set(pending) == {"outbox_overdue", "stripe_events_unprocessed", "refunds_pending"}

    StripeEvent.objects.create(
        event_id=f"evt_{uuid.uuid4().hex}", type="charge.refunded", payload={}
    )
    response = client_for().get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["outbox"]) == ("degraded", "backlog")
    counts = body["details"]["outbox"]["pending"]
    assert counts["stripe_events_unprocessed"] == pending["stripe_events_unprocessed"] + 1


def test_an_outbox_counter_whose_table_does_not_exist_is_null_not_an_error(
    db, settings, monkeypatch
):
    settings.REDIS_URL = REDIS_URL

    def count_not_yet_migrated_outbox() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM outbox_not_migrated_yet")
            return cursor.fetchone()[0]

    missing = health.BacklogCounter("emails_pending", count_not_yet_migrated_outbox)
    monkeypatch.setattr(health, "BACKLOG_COUNTERS", [*health.BACKLOG_COUNTERS, missing])
    response = client_for().get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["details"]["outbox"]["pending"]["emails_pending"] is None
    assert (body["status"], body["database"]) == ("ok", "ok")
    assert body["details"]["outbox"]["pending"]["stripe_events_unprocessed"] is not None


def test_rows_are_counted_across_every_business_schema(tenant_alpha, tenant_beta):
    name = f"Health {uuid.uuid4().hex[:6]}"
    for tenant in (tenant_alpha, tenant_beta):
        with tenant_context(tenant):
            StaffMember.objects.create(display_name=name)
    connection.set_schema_to_public()
    count = health.rows_in_every_tenant_schema(
        table=StaffMember._meta.db_table, condition="display_name = %s", params=[name]
    )
    assert count == 2
    assert (
        health.rows_in_every_tenant_schema(table="no_such_table", condition="true", params=[]) == 0
    )


def test_production_settings_pass_check_deploy():
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DJANGO_SETTINGS_MODULE": "saas_platform.settings.production",
        "DJANGO_SECRET_KEY": "p" * 20 + "RoDuCtIoN-sEcReT-0123456789-abcdefghijk",
        "DATABASE_URL": "postgres://creneau@db.internal:5432/creneau",
        "REDIS_URL": "redis://redis.internal:6379/0",
        "PLATFORM_DOMAIN": "creneau.example.com",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DJANGO_SETTINGS_MODULE": "saas_platform.settings.production",
        "DATABASE_URL": "postgres://creneau@db.internal:5432/creneau",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr
