"""The one per-tenant loop: sweeps, reminders, reconciliation and console figures use it."""

from __future__ import annotations

from collections.abc import Iterator

from django.conf import settings
from django.db.models import QuerySet
from django_tenants.utils import tenant_context

from .context import use_public_schema
from .models import Tenant


def each_tenant(tenants: QuerySet[Tenant] | None = None) -> Iterator[Tenant]:
    """Yield every business (the public schema left out), ordered by schema name, with the
    connection on that business's schema while the caller's loop body runs.

    The list is read before the first schema switch. The connection is back on the public
    schema afterwards, also when the loop body raises or breaks out early.
    """
    rows = list(
        (tenants if tenants is not None else Tenant.objects.all())
        .exclude(schema_name=settings.PUBLIC_SCHEMA_NAME)
        .order_by("schema_name")
    )
    try:
        for tenant in rows:
            with tenant_context(tenant):
                yield tenant
    finally:
        use_public_schema()
