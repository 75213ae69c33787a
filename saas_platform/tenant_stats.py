"""Counts read across tenant schemas for the console: numbers only, never customer rows.

Flat in the number of tenants: the console asks for one page of tenants (50 at most), and the
counts of that page come from one query, a `UNION ALL` of one `count(*)` per schema. Which
schemas have a bookings table is read from `pg_class` by name (an index lookup), not from
`information_schema`, whose views scan the catalog rows of every schema in the database. A
counter kept in public would need a write on every booking change through a port, for a figure
an operator reads on one page: not worth it at 50 schemas per page (docs/scaling.md).
"""

from django.db import connection
from psycopg import sql

from scheduling.models import Booking

# The console's page size; a caller asking for more schemas at once is a bug, not a page.
MAX_SCHEMAS_PER_QUERY = 100


def booking_counts(schema_names: list[str]) -> dict[str, int | None]:
    """Bookings per schema; None where the schema has no bookings table yet."""
    if not schema_names:
        return {}
    if len(schema_names) > MAX_SCHEMAS_PER_QUERY:
        raise ValueError(f"At most {MAX_SCHEMAS_PER_QUERY} schemas per call.")
    table = Booking._meta.db_table
    counts: dict[str, int | None] = dict.fromkeys(schema_names)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relname = %s AND c.relkind = 'r' AND n.nspname = ANY(%s)",
            [table, schema_names],
        )
        with_table = sorted(row[0] for row in cursor.fetchall())
        if not with_table:
            return counts
        cursor.execute(
            sql.SQL(" UNION ALL ").join(
                sql.SQL("SELECT {}, count(*) FROM {}.{}").format(
                    sql.Literal(schema), sql.Identifier(schema), sql.Identifier(table)
                )
                for schema in with_table
            )
        )
        counts.update(dict(cursor.fetchall()))
    return counts
