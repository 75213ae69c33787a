"""The dashboard's aggregate tables (insights/models.py): the trigger SQL that keeps them up to
date with each write to `scheduling_booking`, and the rebuild from the raw bookings.

The triggers are statement-level with transition tables, so a bulk write refreshes each affected
customer once. The functions live in `public` and take the booking table's schema from
`TG_TABLE_SCHEMA`, so they are shared by every tenant and survive django-tenants' schema cloning
(nothing in them names a tenant's schema). A write is counted in the same transaction: there is
no lag, and a rolled-back write leaves no trace.

The incremental path recomputes every affected customer's rows (cost: that customer's bookings,
through the customer index); the rebuild (`rebuild`) recomputes all customers with its own SQL.
"""

from __future__ import annotations

from django.db import connection

from scheduling.models import Booking

from .models import CompletedBookingRebooked, CustomerFirstBooking

BOOKING = Booking._meta.db_table
FIRST = CustomerFirstBooking._meta.db_table
REBOOKED = CompletedBookingRebooked._meta.db_table
COUNTED = "('confirmed', 'completed', 'no_show')"
REBOOK_WINDOW = "interval '60 days'"

# Tenant schemas migrate in parallel processes (`migrate --tenant-processes`), and two
# transactions replacing the same `public` function at once fail with "tuple concurrently updated"
# (seen in CI): each migration first takes this transaction-scoped advisory lock, so they queue.
SHARED_FUNCTIONS_LOCK = "SELECT pg_advisory_xact_lock(hashtext('insights.shared_functions'));"

REFRESH_FUNCTION_V1 = f"""
CREATE OR REPLACE FUNCTION public.insights_refresh_customers(target text, ids bigint[])
RETURNS void LANGUAGE plpgsql AS $body$
BEGIN
  IF ids IS NULL OR cardinality(ids) = 0 THEN RETURN; END IF;
  EXECUTE format('DELETE FROM %I.{FIRST} WHERE customer_id IN (SELECT unnest($1))', target)
    USING ids;
  EXECUTE format(
    'INSERT INTO %I.{FIRST} (customer_id, first_starts_at, first_created_at)
     SELECT customer_id, min(starts_at), min(created_at) FROM %I.{BOOKING}
      WHERE customer_id IN (SELECT unnest($1)) AND status IN {COUNTED.replace("'", "''")}
      GROUP BY customer_id', target, target) USING ids;
  EXECUTE format('DELETE FROM %I.{REBOOKED} WHERE customer_id IN (SELECT unnest($1))', target)
    USING ids;
  EXECUTE format(
    'INSERT INTO %I.{REBOOKED} (booking_id, customer_id, rebooked)
     SELECT b.id, b.customer_id, COALESCE(bool_or(again.id IS NOT NULL), false)
       FROM %I.{BOOKING} b
       LEFT JOIN %I.{BOOKING} again
         ON again.customer_id = b.customer_id AND again.id <> b.id
        AND again.status IN {COUNTED.replace("'", "''")} AND again.created_at > b.starts_at
        AND again.created_at <= b.starts_at + {REBOOK_WINDOW.replace("'", "''")}
      WHERE b.customer_id IN (SELECT unnest($1)) AND b.status = ''completed''
      GROUP BY b.id, b.customer_id',
    target, target, target) USING ids;
END
$body$;
"""  # noqa: S608 (fixed table names; values travel as parameters)

REFRESH_FUNCTION = (
    REFRESH_FUNCTION_V1.replace(
        "(booking_id, customer_id, rebooked)",
        "(booking_id, customer_id, rebooked, starts_at, service_id, staff_id)",
    )
    .replace(
        "COALESCE(bool_or(again.id IS NOT NULL), false)",
        "COALESCE(bool_or(again.id IS NOT NULL), false), b.starts_at, b.service_id, b.staff_id",
    )
    .replace("GROUP BY b.id, b.customer_id", "GROUP BY b.id")
)

TRIGGER_FUNCTIONS_V1 = """
CREATE OR REPLACE FUNCTION public.insights_booking_inserted() RETURNS trigger
LANGUAGE plpgsql AS $body$
BEGIN
  PERFORM public.insights_refresh_customers(
    TG_TABLE_SCHEMA, ARRAY(SELECT DISTINCT customer_id FROM new_rows));
  RETURN NULL;
END
$body$;

CREATE OR REPLACE FUNCTION public.insights_booking_deleted() RETURNS trigger
LANGUAGE plpgsql AS $body$
BEGIN
  PERFORM public.insights_refresh_customers(
    TG_TABLE_SCHEMA, ARRAY(SELECT DISTINCT customer_id FROM old_rows));
  RETURN NULL;
END
$body$;

-- Only rows whose customer, status, start or booked time changed touch the aggregates.
CREATE OR REPLACE FUNCTION public.insights_booking_updated() RETURNS trigger
LANGUAGE plpgsql AS $body$
BEGIN
  PERFORM public.insights_refresh_customers(TG_TABLE_SCHEMA, ARRAY(
    SELECT o.customer_id FROM old_rows o JOIN new_rows n ON n.id = o.id
     WHERE (o.customer_id, o.status, o.starts_at, o.created_at)
           IS DISTINCT FROM (n.customer_id, n.status, n.starts_at, n.created_at)
    UNION
    SELECT n.customer_id FROM old_rows o JOIN new_rows n ON n.id = o.id
     WHERE (o.customer_id, o.status, o.starts_at, o.created_at)
           IS DISTINCT FROM (n.customer_id, n.status, n.starts_at, n.created_at)));
  RETURN NULL;
END
$body$;
"""

# Since insights 0004 the rebooked rows carry the booking's service and staff member too.
TRIGGER_FUNCTIONS = TRIGGER_FUNCTIONS_V1.replace(
    "(o.customer_id, o.status, o.starts_at, o.created_at)",
    "(o.customer_id, o.status, o.starts_at, o.created_at, o.service_id, o.staff_id)",
).replace(
    "(n.customer_id, n.status, n.starts_at, n.created_at)",
    "(n.customer_id, n.status, n.starts_at, n.created_at, n.service_id, n.staff_id)",
)

TRIGGERS = f"""
CREATE TRIGGER insights_booking_inserted AFTER INSERT ON {BOOKING}
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION public.insights_booking_inserted();
CREATE TRIGGER insights_booking_updated AFTER UPDATE ON {BOOKING}
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION public.insights_booking_updated();
CREATE TRIGGER insights_booking_deleted AFTER DELETE ON {BOOKING}
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION public.insights_booking_deleted();
"""

DROP_TRIGGERS = f"""
DROP TRIGGER IF EXISTS insights_booking_inserted ON {BOOKING};
DROP TRIGGER IF EXISTS insights_booking_updated ON {BOOKING};
DROP TRIGGER IF EXISTS insights_booking_deleted ON {BOOKING};
"""

# The rebuild: every customer from the raw bookings, in the current tenant's schema.
REBUILD_V1 = [
    f"DELETE FROM {FIRST}",  # noqa: S608 (fixed table names)
    f"""INSERT INTO {FIRST} (customer_id, first_starts_at, first_created_at)
        SELECT customer_id, min(starts_at), min(created_at) FROM {BOOKING}
         WHERE status IN {COUNTED} GROUP BY customer_id""",  # noqa: S608 (fixed SQL)
    f"DELETE FROM {REBOOKED}",  # noqa: S608 (fixed table names)
    f"""INSERT INTO {REBOOKED} (booking_id, customer_id, rebooked)
        SELECT b.id, b.customer_id, COALESCE(bool_or(again.id IS NOT NULL), false)
          FROM {BOOKING} b
          LEFT JOIN {BOOKING} again
            ON again.customer_id = b.customer_id AND again.id <> b.id
           AND again.status IN {COUNTED} AND again.created_at > b.starts_at
           AND again.created_at <= b.starts_at + {REBOOK_WINDOW}
         WHERE b.status = 'completed' GROUP BY b.id, b.customer_id""",  # noqa: S608 (fixed SQL)
]


REBUILD = [
    REBUILD_V1[0],
    REBUILD_V1[1],
    REBUILD_V1[2],
    REBUILD_V1[3]
    .replace(
        "(booking_id, customer_id, rebooked)",
        "(booking_id, customer_id, rebooked, starts_at, service_id, staff_id)",
    )
    .replace(
        "COALESCE(bool_or(again.id IS NOT NULL), false)",
        "COALESCE(bool_or(again.id IS NOT NULL), false), b.starts_at, b.service_id, b.staff_id",
    )
    .replace("GROUP BY b.id, b.customer_id", "GROUP BY b.id"),
]


def rebuild() -> None:
    """Recompute the current tenant's aggregates from its bookings and money (one transaction):
    the customer tables above and the per-day tables (insights/daily/)."""
    from django.db import transaction

    from .daily.triggers import REBUILD as REBUILD_DAYS

    with transaction.atomic(), connection.cursor() as cursor:
        for statement in REBUILD:
            cursor.execute(statement)
        cursor.execute(REBUILD_DAYS)
