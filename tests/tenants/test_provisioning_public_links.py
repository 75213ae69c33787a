"""Citus schema-based sharding readiness (docs/scaling.md): the only links from tenant tables to
public tables are the ones chosen to become Citus reference tables. A new foreign key from a
tenant table to a public table fails here, so someone decides whether that public table stays
small enough to be copied to every node or the link goes."""

from django.conf import settings
from django.db import connection

# (tenant table, public table): public tables that tenant rows point at, to become reference
# tables. tenants_user: staff members are people with one account across businesses.
ALLOWED_LINKS = {("scheduling_staffmember", "tenants_user")}


def test_tenant_tables_point_only_at_the_chosen_public_tables(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT r.relname, f.relname, fn.nspname FROM pg_constraint k "
            "JOIN pg_class r ON r.oid = k.conrelid JOIN pg_class f ON f.oid = k.confrelid "
            "JOIN pg_namespace fn ON fn.oid = f.relnamespace "
            "WHERE k.contype = 'f' AND k.connamespace = %s::regnamespace "
            "AND f.relnamespace <> k.connamespace",
            [settings.TENANT_BASE_SCHEMA],
        )
        links = cursor.fetchall()
    assert {schema for _, _, schema in links} == {"public"}
    assert {(table, target) for table, target, _ in links} == ALLOWED_LINKS
