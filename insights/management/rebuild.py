"""The two rebuild commands' loop: each tenant's schema (or one), timed."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import get_tenant_model, tenant_context


class RebuildCommand(BaseCommand):
    def rebuild(self) -> None:  # the current tenant's schema
        raise NotImplementedError

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
                self.rebuild()
            elapsed = (time.perf_counter() - started) * 1000
            self.stdout.write(f"{tenant.schema_name}: rebuilt in {elapsed:.0f} ms")


def rebuild_command(help_text: str, rebuild: Callable[[], None]) -> type[RebuildCommand]:
    return type("Command", (RebuildCommand,), {"help": help_text, "rebuild": staticmethod(rebuild)})
