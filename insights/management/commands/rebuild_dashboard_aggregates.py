"""Recompute the dashboard's aggregate tables from the raw bookings, for every tenant or one.

manage.py rebuild_dashboard_aggregates [--schema NAME]
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import get_tenant_model, tenant_context

from insights.aggregates import rebuild


class Command(BaseCommand):
    help = "Recompute the dashboard's aggregates (first bookings, rebookings) from the bookings."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--schema", help="only this tenant's schema")

    def handle(self, *args, schema: str | None = None, **options) -> None:
        tenants = get_tenant_model().objects.exclude(schema_name="public")
        if schema is not None:
            tenants = tenants.filter(schema_name=schema)
            if not tenants.exists():
                raise CommandError(f"no tenant with schema {schema!r}")
        for tenant in tenants:
            started = time.perf_counter()
            with tenant_context(tenant):
                rebuild()
            elapsed = (time.perf_counter() - started) * 1000
            self.stdout.write(f"{tenant.schema_name}: rebuilt in {elapsed:.0f} ms")
