"""The business whose schema the connection is on: the one way to ask, with two named behaviours.

django-tenants sets `connection.tenant` to the Tenant row in a request (TenantMainMiddleware)
and `tenant_context`, but `schema_context` (tasks, commands) leaves a nameless stand-in with only
a schema name. Both functions below read the row in that case.
"""

from __future__ import annotations

from typing import Any, Protocol, cast

from django.conf import settings
from django.db import connection

from .models import Tenant


class TenantConnection(Protocol):
    """What django-tenants' database backend adds to Django's connection (it ships no types)."""

    schema_name: str
    tenant: Any

    def set_schema_to_public(self) -> None: ...

    def set_tenant(self, tenant: Tenant, include_public: bool = True) -> None: ...


def tenant_connection() -> TenantConnection:
    """The default connection, typed with django-tenants' additions."""
    return cast(TenantConnection, connection)


def active_schema() -> str:
    """The schema the connection is on (`public` on the platform host)."""
    return tenant_connection().schema_name


def use_public_schema() -> None:
    tenant_connection().set_schema_to_public()


class NotInTenantSchema(RuntimeError):
    """Code that belongs to one business ran on the public schema."""


def current_tenant_or_none() -> Tenant | None:
    """The business of the active schema, or None on the public schema (the platform's pages)."""
    schema = active_schema()
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
