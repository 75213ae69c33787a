"""Citus readiness at the query level (docs/scaling.md, "Beyond one PostgreSQL"): no statement
sent on the main request paths names both a public table and a tenant table.

With Citus' schema-based sharding a tenant schema lives on one worker node and public tables
stay on the coordinator unless they become reference tables; a statement joining the two
(or a subquery of one inside the other) cannot run on the node. The foreign keys are checked in
tests/tenants/test_provisioning_public_links.py; this checks what is actually sent: every
statement of the customer's paths (services, availability, a paid hold through local Stripe,
the booking's status, the booking and manage pages) and of the back office's main pages,
captured with a connection execute wrapper. A public table is one that exists in `public` and
not in the template schema, a tenant table the reverse (names in both, like
django_migrations, are neither). REFERENCE_TABLES are the public tables chosen to be copied to
every node (the same choice as the foreign-key test), which tenant statements may join.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context

from scheduling.models import Booking
from tests.connect_payments.conftest import (  # noqa: F401  (fixtures: local Stripe)
    alpha_account,
    fee_plan,
    sdk,
    stripe_base_url,
    stripe_settings,
)
from tests.factories import host_of, member_client
from tests.scheduling.conftest import build_catalogue, paris

REFERENCE_TABLES = {"tenants_user"}
IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")
TEN_AM = paris(2030, 6, 4, 10)  # a Tuesday inside build_catalogue's working hours


def _tables(schema: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c WHERE c.relnamespace = %s::regnamespace "
            "AND c.relkind IN ('r', 'p', 'v', 'm')",
            [schema],
        )
        return {name for (name,) in cursor.fetchall()}


@pytest.fixture
def table_kinds(db) -> tuple[set[str], set[str]]:
    """(public-only tables, tenant-only tables), read from the catalog."""
    public, tenant = _tables("public"), _tables(settings.TENANT_BASE_SCHEMA)
    assert "tenants_tenant" in public and "scheduling_booking" in tenant
    return public - tenant - REFERENCE_TABLES, tenant - public


class MixedStatements:
    """Records the statements that name a public and a tenant table together."""

    def __init__(self, kinds: tuple[set[str], set[str]]) -> None:
        self.public, self.tenant = kinds
        self.statements = 0
        self.mixed: list[tuple[str, str, set[str], set[str]]] = []
        self.path = ""

    def __call__(self, execute, sql, params, many, context):
        self.statements += 1
        names = set(IDENTIFIER.findall(sql.lower()))
        public, tenant = names & self.public, names & self.tenant
        if public and tenant:
            self.mixed.append((self.path, sql, public, tenant))
        return execute(sql, params, many, context)

    @contextmanager
    def on(self, path: str) -> Iterator[None]:
        self.path = path
        with connection.execute_wrapper(self):
            yield


def test_the_checker_sees_a_statement_joining_public_and_tenant_tables(table_kinds, tenant_alpha):
    checker = MixedStatements(table_kinds)
    with tenant_context(tenant_alpha), checker.on("self-check"):
        list(Booking.objects.raw(
            "SELECT b.id FROM scheduling_booking b JOIN tenants_tenant t ON t.id = b.id LIMIT 0"
        ))  # fmt: skip
        Booking.objects.filter(status="held").count()
    [(_, _, public, tenant)] = checker.mixed
    assert (public, tenant) == ({"tenants_tenant"}, {"scheduling_booking"})
    assert checker.statements >= 2  # the two queries (and django-tenants' SET search_path)


def _ok(client: Client, checker: MixedStatements, method: str, path: str, **kwargs):
    with checker.on(f"{method} {path}"):
        response = getattr(client, method.lower())(path, **kwargs)
    assert response.status_code in (200, 201), (path, response.status_code)
    return response


@pytest.mark.usefixtures("alpha_account")  # the hold's PaymentIntent needs an account
def test_main_request_paths_send_no_statement_joining_public_and_tenant_tables(
    table_kinds, tenant_alpha, owner_alpha
):
    with tenant_context(tenant_alpha):
        catalogue = build_catalogue()  # paid online in full (45.00)
    connection.set_schema_to_public()
    service, ada = catalogue["service"], catalogue["ada"]
    checker = MixedStatements(table_kinds)
    customer = Client(HTTP_HOST=host_of(tenant_alpha))
    monday = date(2030, 6, 3)
    _ok(customer, checker, "GET", "/api/v1/services/")
    _ok(customer, checker, "GET", f"/api/v1/availability/?service={service.pk}&start={monday}"
                                  f"&end={monday + timedelta(days=6)}")  # fmt: skip
    _ok(customer, checker, "GET", "/book/")
    body = {"service": service.pk, "staff": ada.pk, "start": TEN_AM.isoformat(),
            "customer": {"name": "Joan Join", "email": "joan@example.test"}}  # fmt: skip
    held = _ok(customer, checker, "POST", "/api/v1/bookings/", content_type="application/json",
               data=body).json()  # fmt: skip
    assert held["payment"]["client_secret"]  # the PaymentIntent was created at local Stripe
    reference, token = held["reference"], held["manage_token"]
    _ok(customer, checker, "GET", f"/api/v1/bookings/{reference}/?token={token}")
    _ok(customer, checker, "GET", f"/manage/{reference}/?token={token}")

    office = member_client(tenant_alpha, owner_alpha, verified=True)
    for path in ("/", "/calendar/", "/bookings/", f"/bookings/{reference}/", "/services/",
                 "/staff/", "/payments/", "/team/"):  # fmt: skip
        _ok(office, checker, "GET", path)

    assert checker.statements > 50  # the wrapper saw the requests' statements
    assert checker.mixed == [], "\n\n".join(
        f"{path}: public {sorted(public)} with tenant {sorted(tenant)}:\n{sql[:400]}"
        for path, sql, public, tenant in checker.mixed
    )
