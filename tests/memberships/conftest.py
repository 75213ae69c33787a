"""Memberships fixtures: alpha's catalogue (tests/scheduling's builder), a customer, grants;
local Stripe (a server for the session, emptied before each test) and alpha's connected account
from tests/connect_payments."""

from datetime import timedelta

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from memberships.models import CreditSourceKind
from memberships.services.credits import credit_grant
from scheduling.services.customers import customer_upsert
from tenants.models import Tenant
from tests.connect_payments.conftest import (  # noqa: F401  (local Stripe, alpha's account)
    alpha_account,
    fee_plan,
    sdk,
    stripe_base_url,
    stripe_settings,
    webhooks,
)
from tests.scheduling.conftest import NOW, build_catalogue, truncate_tenant_tables

__all__ = ["NOW", "grant_credits"]


def grant_credits(customer, *, credits=10, services=(), key="pass-1", expires_at=None, **extra):
    return credit_grant(
        customer=customer,
        source_kind=extra.pop("source_kind", CreditSourceKind.PASS),
        source_id=extra.pop("source_id", key),
        credits=credits,
        expires_at=expires_at if expires_at is not None else NOW + timedelta(days=60),
        service_ids=[service.pk for service in services],
        idempotency_key=key,
        **extra,
    )


@pytest.fixture
def alpha_schema(tenant_alpha):
    with tenant_context(tenant_alpha):
        yield tenant_alpha


@pytest.fixture
def catalogue(alpha_schema):
    return build_catalogue()


@pytest.fixture
def customer(alpha_schema):
    return customer_upsert(name="Chloé Client", email="chloe@example.test", phone="+33612345678")


@pytest.fixture
def grant(catalogue, customer):
    return grant_credits(customer, services=[catalogue["service"]])


@pytest.fixture
def alpha_committed(committed_db):
    tenant = Tenant.objects.get(slug="alpha")
    truncate_tenant_tables(tenant.schema_name)
    yield tenant
    connection.set_schema_to_public()
    truncate_tenant_tables(tenant.schema_name)
