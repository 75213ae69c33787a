"""`migrate`: migrates the public schema, the template schema and every tenant schema.

One command migrates everything, including the template that new tenants are cloned from (a
template left behind would give new tenants missing columns while their django_migrations says
they are current).

Tenant schemas are migrated app by app, for the tenant apps only. django-tenants' default replays
every app's migrations in each schema (shared apps as no-ops); dj-stripe's history alone makes
that cost about 40 s of state rendering per schema. Migrating a tenant app pulls in only the
migrations it depends on. See docs/decisions/0002-template-schema.md.
"""

from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django_tenants.management.commands.migrate_schemas import MigrateSchemasCommand
from django_tenants.utils import schema_exists

from tenants.context import use_public_schema
from tenants.models import Tenant
from tenants.services import ensure_public_tenant


def tenant_app_labels() -> list[str]:
    """Labels of tenant apps that have migrations, in TENANT_APPS order."""
    labels = []
    for name in settings.TENANT_APPS:
        config = next(c for c in apps.get_app_configs() if c.name == name)
        if any(Path(config.path, "migrations").glob("0*.py")):
            labels.append(config.label)
    return labels


def migrate_tenant_schema(schema_name: str, *, verbosity: int) -> None:
    from django.db import connection

    if not schema_exists(schema_name):
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE SCHEMA "{schema_name}"')
    for label in tenant_app_labels():
        call_command(
            "migrate_schemas",
            label,
            schema_name=schema_name,
            tenant=True,
            interactive=False,
            verbosity=verbosity,
        )
    use_public_schema()


class Command(MigrateSchemasCommand):
    def handle(self, *args, **options):
        whole_run = not (
            options.get("app_label") or options.get("schema_name") or options.get("fake")
        )
        if not whole_run:
            return super().handle(*args, **options)
        verbosity = options.get("verbosity", 1)
        if not options.get("tenant"):
            call_command(
                "migrate_schemas",
                shared=True,
                interactive=False,
                verbosity=verbosity,
                run_syncdb=options.get("run_syncdb", False),
            )
            ensure_public_tenant()
        if not options.get("shared"):
            schemas = [settings.TENANT_BASE_SCHEMA] + list(
                Tenant.objects.exclude(schema_name=settings.PUBLIC_SCHEMA_NAME)
                .order_by("created_at")
                .values_list("schema_name", flat=True)
            )
            for schema_name in schemas:
                migrate_tenant_schema(schema_name, verbosity=verbosity)
