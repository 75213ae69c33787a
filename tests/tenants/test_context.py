"""The one "current tenant" and the one per-tenant loop (tenants.context, tenants.iteration)."""

import pytest
from django.db import connection
from django_tenants.utils import schema_context, tenant_context

from tenants.context import (
    NotInTenantSchema,
    active_schema,
    current_tenant,
    current_tenant_or_none,
)
from tenants.iteration import each_tenant
from tenants.models import Tenant


def test_on_the_public_schema_there_is_no_current_tenant(db):
    connection.set_schema_to_public()
    assert current_tenant_or_none() is None
    with pytest.raises(NotInTenantSchema):
        current_tenant()


def test_tenant_context_gives_the_row_it_was_given(tenant_alpha):
    with tenant_context(tenant_alpha):
        assert current_tenant() is tenant_alpha
        assert active_schema() == tenant_alpha.schema_name


def test_schema_context_stand_in_is_read_as_the_tenant_row(tenant_beta):
    # schema_context (tasks, commands) leaves a nameless stand-in on the connection.
    with schema_context(tenant_beta.schema_name):
        assert not isinstance(getattr(connection, "tenant", None), Tenant)
        tenant = current_tenant()
        assert isinstance(tenant, Tenant)
        assert tenant.pk == tenant_beta.pk
        assert current_tenant_or_none().pk == tenant_beta.pk


def test_each_tenant_visits_every_business_in_its_own_schema(tenant_alpha, tenant_beta):
    seen = [(tenant.slug, active_schema()) for tenant in each_tenant()]
    assert ("alpha", tenant_alpha.schema_name) in seen
    assert ("beta", tenant_beta.schema_name) in seen
    assert all(schema != "public" for _slug, schema in seen)
    assert [slug for slug, _schema in seen] == sorted(
        (slug for slug, _schema in seen),
        key=lambda slug: Tenant.objects.get(slug=slug).schema_name,
    )
    assert active_schema() == "public"


def test_each_tenant_is_back_on_public_when_the_loop_body_raises(tenant_alpha):
    with pytest.raises(ZeroDivisionError):
        for _tenant in each_tenant(Tenant.objects.filter(pk=tenant_alpha.pk)):
            assert active_schema() == tenant_alpha.schema_name
            1 / 0  # noqa: B018
    assert active_schema() == "public"


def test_each_tenant_is_back_on_public_after_an_early_break(tenant_alpha, tenant_beta):
    for _tenant in each_tenant():
        break
    assert active_schema() == "public"
