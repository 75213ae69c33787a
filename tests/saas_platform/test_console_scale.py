"""The console's tenant list costs the same number of queries however many tenants exist: one
page of tenants and one query of their booking counts, from the platform activity in public
(insights.platform), never from the tenants' schemas."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from insights.platform import bookings_per_tenant
from scheduling.services.customers import customer_upsert
from tenants.services import tenant_provision
from tests.factories import PASSWORD, client_for, make_user, signed_in
from tests.scheduling.conftest import build_catalogue
from tests.scheduling.test_calendar_files import make_booking


@pytest.fixture
def console(db):
    operator = make_user(name="Olga Operator", is_operator=True)
    return signed_in(client_for(), operator, schema="public", verified=True)


def list_queries(console) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        page = console.get("/console/")
    assert page.status_code == 200
    return len(queries), len(page.context["rows"])


def test_tenant_list_queries_do_not_grow_with_the_number_of_tenants(console, tenant_alpha):
    queries_before, rows_before = list_queries(console)
    for index in range(4):
        tenant_provision(
            name=f"Extra {index}", slug=f"extra-{index}", owner_email=f"o{index}@extra.test",
            owner_name="Extra Owner", owner_password=PASSWORD, country="FR", currency="EUR",
            time_zone="UTC",
        )  # fmt: skip
    queries_after, rows_after = list_queries(console)
    assert rows_after == rows_before + 4
    assert queries_after == queries_before


def test_booking_counts_are_per_tenant(db, tenant_alpha, tenant_beta):
    with tenant_context(tenant_alpha):
        catalogue = build_catalogue()
        customer = customer_upsert(name="Chloé Client", email="chloe@example.test", phone="")
        make_booking(catalogue, customer, starts_at=datetime(2030, 1, 7, 9, tzinfo=UTC))
        make_booking(catalogue, customer, starts_at=datetime(2030, 1, 7, 11, tzinfo=UTC))
        make_booking(catalogue, customer, starts_at=datetime(2030, 1, 7, 13, tzinfo=UTC),
                     status="held")  # fmt: skip
    connection.set_schema_to_public()
    assert bookings_per_tenant([tenant_alpha.pk, tenant_beta.pk]) == {tenant_alpha.pk: 2}


def test_the_tenant_list_shows_each_tenants_count(console, tenant_alpha, tenant_beta):
    with tenant_context(tenant_beta):
        catalogue = build_catalogue()
        customer = customer_upsert(name="Bea", email="bea@example.test", phone="")
        make_booking(catalogue, customer, starts_at=datetime(2030, 1, 7, 9, tzinfo=UTC))
    connection.set_schema_to_public()
    rows = dict(console.get("/console/").context["rows"])
    assert rows[tenant_beta] == 1 and rows[tenant_alpha] == 0
