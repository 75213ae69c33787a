"""The business whose schema the connection is on: the one way to ask, with two named behaviours.

django-tenants sets `connection.tenant` to the Tenant row in a request (TenantMainMiddleware)
and `tenant_context`, but `schema_context` (tasks, commands) leaves a nameless stand-in with only
a schema name. Both functions below read the row in that case.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection

from .models import Tenant


class NotInTenantSchema(RuntimeError):
    """Code that belongs to one business ran on the public schema."""


def current_tenant_or_none() -> Tenant | None:
    """The business of the active schema, or None on the public schema (the platform's pages)."""
    schema = connection.schema_name
    if not schema or schema == settings.PUBLIC_SCHEMA_NAME:
        return None
    tenant = getattr(connection, "tenant", None)
    if isinstance(tenant, Tenant) and tenant.schema_name == schema:
        return tenant
    return Tenant.objects.get(schema_name=schema)


def current_tenant() -> Tenant:
    """The business of the active schema; raises NotInTenantSchema on the public schema."""
    tenant = current_tenant_or_none()
    if tenant is None:
        raise NotInTenantSchema("This runs in a business's schema, not the public one.")
    return tenant
