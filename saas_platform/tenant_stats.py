"""Counts read across tenant schemas for the console: numbers only, never customer rows."""

from django.db import connection

from scheduling.models import Booking


def booking_counts(schema_names: list[str]) -> dict[str, int | None]:
    """Bookings per schema; None where the schema has no bookings table yet."""
    if not schema_names:
        return {}
    table = Booking._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_schema FROM information_schema.tables "
            "WHERE table_name = %s AND table_schema = ANY(%s)",
            [table, schema_names],
        )
        with_table = [row[0] for row in cursor.fetchall()]
        counts: dict[str, int | None] = dict.fromkeys(schema_names)
        for schema in with_table:
            # Schema and table names come from information_schema and the model, not a request.
            cursor.execute(f'SELECT count(*) FROM "{schema}"."{table}"')  # noqa: S608
            counts[schema] = cursor.fetchone()[0]
    return counts
