"""`migrate`: migrates the public schema, the template schema and every tenant schema.

One command migrates everything, including the template that new tenants are cloned from (a
template left behind would give new tenants missing columns while their django_migrations says
they are current).

Tenant schemas are migrated app by app, for the tenant apps only. django-tenants' default replays
every app's migrations in each schema (shared apps as no-ops); dj-stripe's history alone makes
that cost about 40 s of state rendering per schema. Migrating a tenant app pulls in only the
migrations it depends on. See docs/decisions/0002-template-schema.md.

What grows with the number of tenants (issue #16, docs/scaling.md): one query reads every
tenant's recorded migrations and only the schemas behind the migrations on disk go through the
executor, so a no-op deploy costs one query, not one executor run per tenant. Schemas behind are
migrated in parallel processes (`--parallel`, template first, on its own), with a progress line
each; a failing tenant does not stop the others, every failure is listed at the end and the
command exits non-zero. Rerunning it finishes the job: what succeeded is recorded and skipped.
"""

import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.db.migrations.loader import MigrationLoader
from django_tenants.management.commands.migrate_schemas import MigrateSchemasCommand
from django_tenants.utils import schema_exists
from psycopg import sql

from tenants.context import use_public_schema
from tenants.models import Tenant
from tenants.services import ensure_public_tenant

# Schemas per status query: keeps one statement's text reasonable at thousands of tenants.
STATUS_CHUNK = 500


def tenant_app_labels() -> list[str]:
    """Labels of tenant apps that have migrations, in TENANT_APPS order."""
    labels = []
    for name in settings.TENANT_APPS:
        config = next(c for c in apps.get_app_configs() if c.name == name)
        if any(Path(config.path, "migrations").glob("0*.py")):
            labels.append(config.label)
    return labels


def tenant_migration_target() -> list[str]:
    """`app.name` of every migration a tenant schema records once migrated app by app: the
    tenant apps' migrations and those they depend on."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    labels = set(tenant_app_labels())
    target: set[tuple[str, str]] = set()
    for leaf in loader.graph.leaf_nodes():
        if leaf[0] in labels:
            target.update(loader.graph.forwards_plan(leaf))
    return sorted(f"{app}.{name}" for app, name in target)


def schemas_behind(schema_names: list[str], target: list[str]) -> list[str]:
    """The schemas, in the given order, that lack a schema, a migrations table or one of the
    `target` migrations: one query per STATUS_CHUNK schemas, whatever their number."""
    if not schema_names:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n.nspname FROM pg_namespace n JOIN pg_class c ON c.relnamespace = n.oid "
            "WHERE c.relname = 'django_migrations' AND n.nspname = ANY(%s)",
            [schema_names],
        )
        with_table = {row[0] for row in cursor.fetchall()}
        current: set[str] = set()
        present = [name for name in schema_names if name in with_table]
        for start in range(0, len(present), STATUS_CHUNK):
            parts = [
                sql.SQL(
                    "SELECT {name} FROM {schema}.django_migrations "
                    "WHERE app || '.' || name = ANY(%(target)s) "
                    "HAVING count(DISTINCT app || '.' || name) = %(size)s"
                ).format(name=sql.Literal(name), schema=sql.Identifier(name))
                for name in present[start : start + STATUS_CHUNK]
            ]
            cursor.execute(
                sql.SQL(" UNION ALL ").join(parts), {"target": target, "size": len(target)}
            )
            current.update(row[0] for row in cursor.fetchall())
    return [name for name in schema_names if name not in current]


def migrate_tenant_schema(schema_name: str, *, verbosity: int) -> None:
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


def _migrate_in_worker(schema_name: str, verbosity: int) -> tuple[str, str | None]:
    """One schema in a worker process: the error's text instead of the exception (it crosses
    a process boundary)."""
    try:
        migrate_tenant_schema(schema_name, verbosity=verbosity)
    except Exception as error:  # noqa: BLE001 -- any failure is reported by schema; the run goes on
        use_public_schema()
        return schema_name, f"{type(error).__name__}: {error}"
    return schema_name, None


class Command(MigrateSchemasCommand):
    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--tenant-processes",
            type=int,
            default=1,
            dest="tenant_processes",
            help="Tenant schemas migrated at once, each in its own process (default 1).",
        )

    def handle(self, *args, **options):
        whole_run = not (
            options.get("app_label") or options.get("schema_name") or options.get("fake")
        )
        if not whole_run:
            return super().handle(*args, **options)
        verbosity = self.verbosity = options.get("verbosity", 1)
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
            self.migrate_tenants(verbosity=verbosity, processes=options["tenant_processes"])

    def say(self, message: str) -> None:
        if self.verbosity >= 1:
            self.stdout.write(message)
            self.stdout.flush()

    def migrate_tenants(self, *, verbosity: int, processes: int) -> None:
        started = time.monotonic()
        target = tenant_migration_target()
        template = settings.TENANT_BASE_SCHEMA
        # The template first and on its own: new tenants are cloned from it.
        if schemas_behind([template], target):
            self.say(f"migrating the template schema {template}")
            migrate_tenant_schema(template, verbosity=verbosity)
        tenants = list(
            Tenant.objects.exclude(schema_name=settings.PUBLIC_SCHEMA_NAME)
            .order_by("created_at", "schema_name")
            .values_list("schema_name", flat=True)
        )
        behind = schemas_behind(tenants, target)
        self.say(
            f"tenant schemas: {len(tenants)}, up to date: {len(tenants) - len(behind)}, "
            f"to migrate: {len(behind)}"
        )
        failures: dict[str, str] = {}
        for done, (schema_name, error) in enumerate(
            self._run(behind, verbosity=verbosity, processes=processes), start=1
        ):
            if error:
                failures[schema_name] = error
            self.say(f"[{done}/{len(behind)}] {schema_name} {'FAILED' if error else 'ok'}")
        self.say(f"tenant migrations finished in {time.monotonic() - started:.1f} s")
        if failures:
            for schema_name, error in failures.items():
                self.stderr.write(f"{schema_name}: {error}")
            raise CommandError(
                f"{len(failures)} of {len(behind)} tenant schemas failed to migrate "
                f"({', '.join(failures)}); fix them and run migrate again: the others are "
                "recorded as done and skipped."
            )

    def _run(self, schema_names: list[str], *, verbosity: int, processes: int):
        if processes <= 1 or len(schema_names) <= 1:
            for schema_name in schema_names:
                yield _migrate_in_worker(schema_name, verbosity)
            return
        # Forked workers must not share the parent's connection: each opens its own.
        connections.close_all()
        with ProcessPoolExecutor(max_workers=processes, mp_context=get_context("fork")) as pool:
            futures = [
                pool.submit(_migrate_in_worker, schema_name, verbosity)
                for schema_name in schema_names
            ]
            for future in as_completed(futures):
                yield future.result()
        sys.stdout.flush()
