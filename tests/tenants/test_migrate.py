"""`manage.py migrate` across tenants with real schemas: up-to-date schemas are skipped after
one status query, a failing tenant does not stop the others, every failure is reported with a
non-zero exit, and a rerun finishes the job."""

import io

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import schema_exists

from saas_platform.management.commands.migrate import schemas_behind, tenant_migration_target
from tenants.models import Tenant

# Removing this record from a schema whose tables already have its columns makes re-applying
# it fail ("column already exists"): a tenant whose migration breaks.
LAST_SCHEDULING = ("scheduling", "0005_derived_link_tokens")


def forget(schema: str, app: str, name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f'DELETE FROM "{schema}".django_migrations WHERE app = %s AND name = %s', [app, name]
        )


def remember(schema: str, app: str, name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO "{schema}".django_migrations (app, name, applied) VALUES (%s, %s, now())',
            [app, name],
        )


def run_migrate() -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("migrate", tenant=True, interactive=False, verbosity=1, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_target_holds_every_tenant_apps_migrations():
    target = tenant_migration_target()
    assert "scheduling.0001_initial" in target and "widgets.0001_initial" in target
    assert ".".join(LAST_SCHEDULING) in target


def test_a_no_op_migrate_skips_every_current_schema(db, tenant_alpha, tenant_beta):
    target = tenant_migration_target()
    schemas = [settings.TENANT_BASE_SCHEMA, tenant_alpha.schema_name, tenant_beta.schema_name]
    assert schemas_behind(schemas, target) == []
    out, _ = run_migrate()
    assert "to migrate: 0" in out


def test_a_schema_missing_one_migration_is_found_behind(db, tenant_alpha, tenant_beta):
    forget(tenant_beta.schema_name, *LAST_SCHEDULING)
    behind = schemas_behind([tenant_alpha.schema_name, tenant_beta.schema_name], [
        *tenant_migration_target()
    ])  # fmt: skip
    assert behind == [tenant_beta.schema_name]
    assert schemas_behind(["t_no_such_schema"], tenant_migration_target()) == ["t_no_such_schema"]


def test_a_failing_tenant_does_not_stop_the_others_and_a_rerun_finishes(db, tenant_alpha):
    forget(tenant_alpha.schema_name, *LAST_SCHEDULING)  # re-applying it fails
    # A business whose schema was never created: migrate creates and migrates it.
    late = Tenant.objects.create(
        schema_name="t_migrate_late", name="Late", slug="migrate-late", country="FR",
        currency="EUR", time_zone="UTC",
    )  # fmt: skip
    assert not schema_exists(late.schema_name)

    with pytest.raises(CommandError, match=r"1 of 2 tenant schemas failed") as failed:
        run_migrate()
    assert tenant_alpha.schema_name in str(failed.value)
    assert schema_exists(late.schema_name)
    assert schemas_behind([late.schema_name], tenant_migration_target()) == []

    remember(tenant_alpha.schema_name, *LAST_SCHEDULING)  # the operator's fix
    out, err = run_migrate()
    assert "to migrate: 0" in out and err == ""


def test_schemas_behind_are_migrated_by_parallel_processes(committed_db):
    # Committed rows: the worker processes have their own connections.
    late = [
        Tenant.objects.create(
            schema_name=f"t_parallel_{index}",
            name=f"Parallel {index}",
            slug=f"parallel-{index}",
            country="FR",
            currency="EUR",
            time_zone="UTC",
        )  # fmt: skip
        for index in range(3)
    ]
    try:
        out = io.StringIO()
        call_command("migrate", tenant=True, interactive=False, verbosity=1, stdout=out,
                     tenant_processes=2)  # fmt: skip
        assert "to migrate: 3" in out.getvalue()
        assert all(f"{tenant.schema_name} ok" in out.getvalue() for tenant in late)
        behind = schemas_behind([t.schema_name for t in late], tenant_migration_target())
        assert behind == []
    finally:
        with connection.cursor() as cursor:
            for tenant in late:
                cursor.execute(f'DROP SCHEMA IF EXISTS "{tenant.schema_name}" CASCADE')
        Tenant.objects.filter(pk__in=[tenant.pk for tenant in late]).delete()
