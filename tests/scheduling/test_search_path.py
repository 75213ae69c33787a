"""Direct connections send django-tenants' `SET search_path` once per tenant switch
(TENANT_LIMIT_SET_CALLS), and the path it remembers is always the one the session has: after
a request, after a signup's schema clone, after a signup that failed half-way."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tenants.models import Tenant
from tenants.services import tenant_provision
from tenants.signals import tenant_created
from tests.factories import PASSWORD, client_for

from .conftest import build_catalogue


def _session_path() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('search_path')")
        return cursor.fetchone()[0].replace('"', "")


def _remembered() -> str:
    return ", ".join(connection._get_cursor_search_paths())


def _provision(slug: str) -> Tenant:
    return tenant_provision(
        slug=slug, owner_email=f"owner@{slug}.test", owner_name="Owner", owner_password=PASSWORD,
        name=slug.title(), country="FR", currency="EUR", time_zone="Europe/Paris",
    )  # fmt: skip


@pytest.mark.django_db
def test_an_availability_request_sets_the_search_path_once(tenant_alpha, alpha_schema):
    catalogue = build_catalogue()
    connection.set_schema_to_public()
    client = client_for(tenant_alpha)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(
            "/api/v1/availability/",
            {"service": catalogue["service"].pk, "start": "2030-06-03", "end": "2030-06-09"},
        )
    assert response.status_code == 200, response.content
    sets = [q["sql"] for q in queries if q["sql"].startswith("SET search_path")]
    # One for the tenant's schema; the public one django-tenants' middleware starts on may
    # cost one more. Without the setting every cursor sent its own (5 here).
    assert 1 <= len(sets) <= 2, sets
    assert sets[-1] == f'SET search_path = "{tenant_alpha.schema_name}","public"'


@pytest.mark.django_db
def test_after_a_signup_the_session_path_is_the_remembered_one():
    _provision("path-after-clone")
    assert _session_path() == _remembered() == "public"


def test_after_a_signup_that_failed_half_way_the_session_path_is_the_remembered_one(
    committed_db,
):
    def fail(sender, tenant, **kwargs):
        # After the clone (its SET search_path done and put back) and inside its transaction.
        raise RuntimeError("a receiver failed")

    connection.set_schema_to_public()
    _session_path()  # the path is remembered now
    tenant_created.connect(fail)
    try:
        with pytest.raises(RuntimeError):
            _provision("path-after-failure")
    finally:
        tenant_created.disconnect(fail)
    assert not Tenant.objects.filter(slug="path-after-failure").exists()
    assert _session_path() == _remembered() == "public"
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_namespace WHERE nspname LIKE '%path_after%'")
        assert cursor.fetchone()[0] == 0
