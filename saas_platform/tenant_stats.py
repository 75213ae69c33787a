"""Counts read across tenant schemas for the console: numbers only, never customer rows."""

from django.db import connection


def booking_counts(schema_names: list[str]) -> dict[str, int | None]:
    """Bookings per schema; None where the schema has no bookings table yet."""
    if not schema_names:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_schema FROM information_schema.tables "
            "WHERE table_name = 'scheduling_booking' AND table_schema = ANY(%s)",
            [schema_names],
        )
        with_table = [row[0] for row in cursor.fetchall()]
        counts: dict[str, int | None] = dict.fromkeys(schema_names)
        for schema in with_table:
            # Schema names come from information_schema, not from the request.
            cursor.execute(f'SELECT count(*) FROM "{schema}".scheduling_booking')  # noqa: S608
            counts[schema] = cursor.fetchone()[0]
    return counts
