"""Two tenants' traffic at once through a real PgBouncer in transaction pooling mode: no request
ever sees the other tenant's rows (issue #16; docs/decisions/0012-pgbouncer-search-path.md).

A private `pgbouncer` with two server connections for many clients forces every server
connection to serve both tenants in turn; gunicorn (2 processes x 4 threads) serves the app
through it with DATABASE_POOLING=transaction.
"""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django_tenants.utils import tenant_context

from scheduling.models import Service
from tenants.models import Tenant
from tests.processes import gunicorn, pgbouncer

REQUESTS_PER_TENANT = 150


@pytest.fixture
def one_service_each(committed_db) -> Iterator[dict[str, str]]:
    """A committed service with a unique name in alpha and in beta, removed afterwards."""
    names, created = {}, []
    for slug in ("alpha", "beta"):
        with tenant_context(Tenant.objects.get(slug=slug)):
            service = Service.objects.create(
                name=f"{slug}-only-{uuid.uuid4().hex[:6]}", duration_minutes=30, price_minor=0,
                payment_mode="free",
            )  # fmt: skip
            names[slug] = service.name
            created.append((slug, service.pk))
    connection.set_schema_to_public()
    yield names
    for slug, pk in created:
        with tenant_context(Tenant.objects.get(slug=slug)):
            Service.objects.filter(pk=pk).delete()
    connection.set_schema_to_public()


def _test_database_url(port: int) -> str:
    return f"postgres://postgres@127.0.0.1:{port}/{settings.DATABASES['default']['NAME']}"


def _services(base_url: str, slug: str) -> tuple[int, list[str]]:
    request = urllib.request.Request(
        f"{base_url}/api/v1/services/", headers={"Host": f"{slug}.localhost"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, [s["name"] for s in json.load(response)]
    except urllib.error.HTTPError as error:
        return error.code, []


def test_two_tenants_through_pgbouncer_never_see_each_others_rows(one_service_each):
    with pgbouncer(pool_size=2) as port:
        env = {
            "DJANGO_SETTINGS_MODULE": "saas_platform.settings.test",
            "DATABASE_URL": _test_database_url(port),
            "DATABASE_POOLING": "transaction",
        }
        with gunicorn(env) as base_url, ThreadPoolExecutor(max_workers=12) as pool:
            slugs = ["alpha", "beta"] * REQUESTS_PER_TENANT
            answers = list(pool.map(lambda slug: (slug, *_services(base_url, slug)), slugs))
        # The server connections really were shared: PgBouncer's own count says two at most.
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/pgbouncer",
                             autocommit=True) as admin:  # fmt: skip
            pools = admin.execute("SHOW POOLS").fetchall()
    statuses = {status for _, status, _ in answers}
    assert statuses == {200}, statuses
    for slug, _, names in answers:
        other = "beta" if slug == "alpha" else "alpha"
        assert one_service_each[slug] in names
        assert one_service_each[other] not in names, f"{slug} saw {other}'s rows"
    assert pools  # the admin console answered: this was a real PgBouncer


def test_the_pooled_backend_sends_the_search_path_with_each_statement(db, tenant_alpha):
    """In-process, no PgBouncer: the statement as PostgreSQL receives it (pg_stat_activity
    shows the running query text) starts with the tenant's SET LOCAL."""
    from django.db import connections
    from django.db.utils import ConnectionHandler

    config = {**connections.databases["default"], "ENGINE": "saas_platform.pooled_postgresql"}
    config["DISABLE_SERVER_SIDE_CURSORS"] = True
    handler = ConnectionHandler({"default": config})
    pooled = handler["default"]
    try:
        pooled.set_tenant(tenant_alpha)
        with pooled.cursor() as cursor:
            cursor.execute("SELECT current_setting('search_path'), current_query()")
            search_path, query = cursor.fetchone()
            assert search_path == "t_alpha, public"
            assert query.startswith('SET LOCAL search_path TO "t_alpha", "public"; SELECT')
            cursor.execute("SHOW search_path")  # a new implicit transaction: nothing left
        pooled.set_schema_to_public()
        with pooled.cursor() as cursor:
            cursor.execute("SELECT current_setting('search_path')")
            assert cursor.fetchone() == ("public",)
    finally:
        pooled.close()


def test_statements_refused_in_a_transaction_go_out_without_the_prefix(committed_db, tenant_alpha):
    """CREATE DATABASE, VACUUM and the like fail inside a transaction block, and a prefixed
    statement is one implicit transaction: the backend sends them alone (they name their schemas).
    Before the fix each of these raised "cannot run inside a transaction block"."""
    from django.db.utils import ConnectionHandler

    config = {**connection.settings_dict, "ENGINE": "saas_platform.pooled_postgresql"}
    config["DISABLE_SERVER_SIDE_CURSORS"] = True
    pooled = ConnectionHandler({"default": config})["default"]
    name = f"test_pooled_{uuid.uuid4().hex[:8]}"
    try:
        pooled.set_tenant(tenant_alpha)
        with pooled.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
            cursor.execute(f'DROP DATABASE "{name}"')
            cursor.execute('VACUUM (ANALYZE) "t_alpha"."scheduling_service"')
            cursor.execute("SELECT current_setting('search_path')")  # still prefixed after them
            assert cursor.fetchone() == ("t_alpha, public",)
    finally:
        pooled.close()
        with psycopg.connect(f"dbname=postgres user={config['USER']} host={config['HOST']} "
                             f"port={config['PORT']}", autocommit=True) as admin:  # fmt: skip
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
