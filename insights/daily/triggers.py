"""The per-day aggregates' SQL: statement-level triggers that add each write's *delta* to
`insights_bookingday` and `insights_moneyday`, the rebuild from the raw tables, and the rebuild
when a business changes its time zone.

Each row's contribution is a function of the row (and of the booking it belongs to), keyed by
the business's local day: `((at) AT TIME ZONE zone)::date`, the zone read from the tenant's row
by `TG_TABLE_SCHEMA` (a DST day is the wall-clock day, 23 or 25 hours long). A statement adds
the contribution of its new rows minus that of its old rows (transition tables), upserted
per key (basis, day, service, staff) in key order: a rolled-back write leaves nothing, and there
is no lag. A key whose figures all come back to zero keeps its row of zeros (a rebuild writes no
such row; readers sum, so it changes nothing).

A booking moved to another start, service or staff member moves its money with it (its payments,
refunds and fees are re-keyed in the booking's own trigger). A business that changes its time
zone gets its per-day rows rebuilt in the same transaction (the trigger on `tenants_tenant`):
every local day changes.

The functions live in `public` like insights/aggregates.py's and name tables unqualified: the
triggers run with the tenant's search path, the rebuild sets it to its target schema.
"""

from __future__ import annotations

from ..models import BookingDay, CustomerDay, MoneyDay
from ..statement_triggers import drop_statement_triggers, statement_triggers
from .moves import (
    BOOKING,
    FEE,
    MOMENT,
    MOVE,
    PASS,
    PASS_REFUND,
    PAYMENT,
    PERIOD,
    REFUND,
    all_moves,
    fee_moves,
    pass_moves,
    pass_refund_moves,
    payment_moves,
    period_moves,
    refund_moves,
)

BOOKING_DAY = BookingDay._meta.db_table
CUSTOMER_DAY = CustomerDay._meta.db_table
MONEY_DAY = MoneyDay._meta.db_table
COUNTED = "('confirmed', 'completed', 'no_show')"
BOOKING_FIGURES = ("bookings", "no_shows", "attended", "completed", "cancelled", "value_minor",
                   "occupied_seconds")  # fmt: skip
MONEY_FIGURES = ("gross_minor", "refunds_minor", "fees_minor")
KEY = "basis, day, service_id, staff_id"
# A booking's columns its per-day rows depend on; and those its money's keys depend on.
BOOKING_COLUMNS = ("status", "starts_at", "ends_at", "created_at", "service_id", "staff_id",
                   "price_minor", "occurrence_id", "customer_id")  # fmt: skip
MONEY_KEY_COLUMNS = ("starts_at", "service_id", "staff_id")

ZONE = """zone := COALESCE((SELECT t.time_zone FROM public.tenants_tenant t
                          WHERE t.schema_name = TG_TABLE_SCHEMA), 'UTC');"""


def local_day(column: str) -> str:
    return f"(({column}) AT TIME ZONE zone)::date"


def booking_contribution(rows: str, sign: int) -> str:
    counted = f"r.status IN {COUNTED}"
    return f"""
        SELECT v.basis, v.day, r.service_id, r.staff_id,
               {sign} * ({counted})::int, {sign} * (r.status = 'no_show')::int,
               {sign} * (r.status IN ('completed', 'no_show'))::int,
               {sign} * (r.status = 'completed')::int, {sign} * (r.status = 'cancelled')::int,
               {sign} * (CASE WHEN {counted} THEN r.price_minor ELSE 0 END)::bigint,
               {sign} * (CASE WHEN {counted} AND r.occurrence_id IS NULL
                              THEN EXTRACT(EPOCH FROM r.ends_at - r.starts_at) ELSE 0 END)::bigint
          FROM {rows} r CROSS JOIN LATERAL (VALUES
               ('appointment', {local_day("r.starts_at")}),
               ('booked', {local_day("r.created_at")})) v(basis, day)"""  # noqa: S608 (fixed SQL)


def money_contribution(moves: str, sign: int) -> str:
    return f"""
        SELECT v.basis, v.day, m.service_id, m.staff_id,
               {sign} * m.gross, {sign} * m.refunds, {sign} * m.fees
          FROM ({moves}) AS m({MOVE}) CROSS JOIN LATERAL (VALUES
               ('moved', {local_day("m.moved_at")}),
               ('appointment', {local_day("COALESCE(m.starts_at, m.moved_at)")})) v(basis, day)"""  # noqa: S608 (fixed SQL)


def _sums(figures: tuple[str, ...]) -> tuple[str, str, str]:
    columns = ", ".join(figures)
    sums = ", ".join(f"sum(c.{figure})" for figure in figures)
    nonzero = " OR ".join(f"sum(c.{figure}) <> 0" for figure in figures)
    return columns, sums, nonzero


def _key(key: str) -> tuple[str, str]:
    names = [name.strip() for name in key.split(",")]
    return ", ".join(f"c.{name}" for name in names), ", ".join(
        str(n) for n in range(1, len(names) + 1)
    )


def upsert(table: str, figures: tuple[str, ...], body: str, key: str = KEY) -> str:
    """Add the summed contributions of `body` to `table`, key by key, in key order."""
    columns, sums, nonzero = _sums(figures)
    added = ", ".join(f"{figure} = a.{figure} + EXCLUDED.{figure}" for figure in figures)
    keys, positions = _key(key)
    return f"""
    INSERT INTO {table} AS a ({key}, {columns})
    SELECT {keys}, {sums}
      FROM ({body}) AS c({key}, {columns})
     GROUP BY {positions} HAVING {nonzero} ORDER BY {positions}
    ON CONFLICT ({key}) DO UPDATE SET {added};"""  # noqa: S608 (fixed SQL)


def rebuilt(table: str, figures: tuple[str, ...], body: str, key: str = KEY) -> str:
    columns, sums, nonzero = _sums(figures)
    keys, positions = _key(key)
    return f"""
    DELETE FROM {table};
    INSERT INTO {table} ({key}, {columns})
    SELECT {keys}, {sums}
      FROM ({body}) AS c({key}, {columns})
     GROUP BY {positions} HAVING {nonzero};"""  # noqa: S608 (fixed SQL)


CUSTOMER_KEY = "basis, day, customer_id, service_id, staff_id"


def customer_contribution(rows: str, sign: int) -> str:
    return f"""
        SELECT v.basis, v.day, r.customer_id, r.service_id, r.staff_id, {sign}
          FROM {rows} r CROSS JOIN LATERAL (VALUES
               ('appointment', {local_day("r.starts_at")}),
               ('booked', {local_day("r.created_at")})) v(basis, day)
         WHERE r.status IN {COUNTED}"""  # noqa: S608 (fixed SQL)


def _customers(rows: str, sign: int, *more: tuple[str, int]) -> str:
    body = " UNION ALL ".join(
        customer_contribution(part, part_sign) for part, part_sign in ((rows, sign), *more)
    )
    return upsert(CUSTOMER_DAY, ("bookings",), body, CUSTOMER_KEY)


def _changed(columns: tuple[str, ...], side: str) -> str:
    """The rows of this side ('n' new or 'o' old) of an update whose `columns` changed."""
    old = ", ".join(f"o.{column}" for column in columns)
    new = ", ".join(f"n.{column}" for column in columns)
    return (
        f"(SELECT {side}.* FROM old_rows o JOIN new_rows n ON n.id = o.id "  # noqa: S608 (fixed)
        f"WHERE ({old}) IS DISTINCT FROM ({new}))"
    )


def _booking_money(rows: str, sign: int) -> str:
    moves = " UNION ALL ".join(
        f"({part})"
        for part in (payment_moves(booking=rows), refund_moves(booking=rows),
                     fee_moves(booking=rows))
    )  # fmt: skip
    return money_contribution(moves, sign)


def _function(name: str, body: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION public.{name}() RETURNS trigger
LANGUAGE plpgsql AS $body$
DECLARE
  zone text;
BEGIN
  {ZONE}
  {body}
  RETURN NULL;
END
$body$;
"""


# Per customer, the local days of their counted bookings by each basis, as date multiranges:
# "has a booking in these days" is one `&&` per customer, so the customers of a period (no staff
# or service filter) are read from one row per customer. Recomputed for the written customers
# (through the bookings' customer index), like insights/aggregates.py's customer rows.
CUSTOMER_DAYS = "insights_customerdays"
CUSTOMER_DAYS_TABLE = f"""
CREATE TABLE IF NOT EXISTS {CUSTOMER_DAYS} (
  customer_id bigint PRIMARY KEY,
  appointment_days datemultirange NOT NULL,
  booked_days datemultirange NOT NULL
);"""
DROP_CUSTOMER_DAYS_TABLE = f"DROP TABLE IF EXISTS {CUSTOMER_DAYS};"


def _customer_days(where: str) -> str:
    day = local_day("b.starts_at")
    booked = local_day("b.created_at")
    return f"""
    INSERT INTO {CUSTOMER_DAYS} (customer_id, appointment_days, booked_days)
    SELECT b.customer_id, range_agg(daterange({day}, {day}, '[]')),
           range_agg(daterange({booked}, {booked}, '[]'))
      FROM {BOOKING} b WHERE b.status IN {COUNTED} {where} GROUP BY b.customer_id;"""  # noqa: S608 (fixed SQL)


CUSTOMER_DAYS_FUNCTION = f"""
CREATE OR REPLACE FUNCTION public.insights_refresh_customer_days(ids bigint[], zone text)
RETURNS void LANGUAGE plpgsql AS $body$
BEGIN
  IF ids IS NULL OR cardinality(ids) = 0 THEN RETURN; END IF;
  DELETE FROM {CUSTOMER_DAYS} WHERE customer_id = ANY(ids);
  {_customer_days("AND b.customer_id = ANY(ids)")}
END
$body$;
"""  # noqa: S608 (fixed SQL)

_CHANGED_NEW, _CHANGED_OLD = _changed(BOOKING_COLUMNS, "n"), _changed(BOOKING_COLUMNS, "o")
_MOVED_NEW, _MOVED_OLD = _changed(MONEY_KEY_COLUMNS, "n"), _changed(MONEY_KEY_COLUMNS, "o")
_DAYS_CHANGED = upsert(
    BOOKING_DAY, BOOKING_FIGURES,
    booking_contribution(_CHANGED_NEW, 1) + " UNION ALL " + booking_contribution(_CHANGED_OLD, -1),
)  # fmt: skip
_MONEY_MOVED = upsert(
    MONEY_DAY, MONEY_FIGURES,
    _booking_money(_MOVED_NEW, 1) + " UNION ALL " + _booking_money(_MOVED_OLD, -1),
)  # fmt: skip
_BOOKINGS_BODY = f"""
  IF TG_OP = 'INSERT' THEN
    {upsert(BOOKING_DAY, BOOKING_FIGURES, booking_contribution("new_rows", 1))}
    {_customers("new_rows", 1)}
    PERFORM public.insights_refresh_customer_days(
      ARRAY(SELECT DISTINCT customer_id FROM new_rows), zone);
  ELSIF TG_OP = 'DELETE' THEN
    {upsert(BOOKING_DAY, BOOKING_FIGURES, booking_contribution("old_rows", -1))}
    {_customers("old_rows", -1)}
    PERFORM public.insights_refresh_customer_days(
      ARRAY(SELECT DISTINCT customer_id FROM old_rows), zone);
  ELSE
    {_DAYS_CHANGED}
    {_customers(_CHANGED_NEW, 1, (_CHANGED_OLD, -1))}
    PERFORM public.insights_refresh_customer_days(ARRAY(
      SELECT customer_id FROM {_CHANGED_NEW} changed_new
      UNION SELECT customer_id FROM {_CHANGED_OLD} changed_old), zone);
    IF EXISTS {_MOVED_NEW} THEN
      {_MONEY_MOVED}
    END IF;
  END IF;"""  # noqa: S608 (fixed SQL)

# Per money table: its moves, given the relation that stands for the table's rows.
MONEY_SOURCES = {
    PAYMENT: lambda rows: payment_moves(payment=rows),
    REFUND: lambda rows: refund_moves(refund=rows),
    FEE: lambda rows: fee_moves(fee=rows),
    # A purchase's paid amount and fee also decide its refunds' fee given back.
    PASS: lambda rows: (
        f"({pass_moves(purchase=rows)}) UNION ALL ({pass_refund_moves(purchase=rows)})"
    ),
    PASS_REFUND: lambda rows: pass_refund_moves(refund=rows),
    PERIOD: lambda rows: period_moves(period=rows),
}
FUNCTION_NAMES = {BOOKING: "insights_days_bookings", PAYMENT: "insights_days_payments",
                  REFUND: "insights_days_refunds", FEE: "insights_days_fees",
                  PASS: "insights_days_passes", PASS_REFUND: "insights_days_pass_refunds",
                  PERIOD: "insights_days_periods"}  # fmt: skip


def _money_body(table: str) -> str:
    moves = MONEY_SOURCES[table]
    return f"""
  IF TG_OP = 'INSERT' THEN
    {upsert(MONEY_DAY, MONEY_FIGURES, money_contribution(moves("new_rows"), 1))}
  ELSIF TG_OP = 'DELETE' THEN
    {upsert(MONEY_DAY, MONEY_FIGURES, money_contribution(moves("old_rows"), -1))}
  ELSE
    {
        upsert(
            MONEY_DAY,
            MONEY_FIGURES,
            money_contribution(moves("new_rows"), 1)
            + " UNION ALL "
            + money_contribution(moves("old_rows"), -1),
        )
    }
  END IF;"""


# Memberships keep a refund's amount, not its time: record the moment it was first seen (a
# BEFORE row trigger, so the statement triggers after it already find it).
MOMENT_FUNCTION = f"""
CREATE OR REPLACE FUNCTION public.insights_membership_refund_moment() RETURNS trigger
LANGUAGE plpgsql AS $body$
BEGIN
  IF TG_OP = 'INSERT' OR OLD.refunded_minor = 0 THEN
    INSERT INTO {MOMENT} (period_id, refunded_at) VALUES (NEW.id, now())
    ON CONFLICT (period_id) DO NOTHING;
  END IF;
  RETURN NEW;
END
$body$;
"""  # noqa: S608 (fixed SQL)

REBUILD_FUNCTION = f"""
CREATE OR REPLACE FUNCTION public.insights_rebuild_days(target text) RETURNS void
LANGUAGE plpgsql AS $body$
DECLARE
  zone text;
  previous text := current_setting('search_path');
BEGIN
  zone := COALESCE(
    (SELECT t.time_zone FROM public.tenants_tenant t WHERE t.schema_name = target), 'UTC');
  PERFORM set_config('search_path', format('%I, public', target), true);
  {rebuilt(BOOKING_DAY, BOOKING_FIGURES, booking_contribution(BOOKING, 1))}
  {rebuilt(MONEY_DAY, MONEY_FIGURES, money_contribution(all_moves(), 1))}
  {rebuilt(CUSTOMER_DAY, ("bookings",), customer_contribution(BOOKING, 1), CUSTOMER_KEY)}
  DELETE FROM {CUSTOMER_DAYS};
  {_customer_days("")}
  PERFORM set_config('search_path', previous, true);
END
$body$;
"""  # noqa: S608 (fixed SQL)

FUNCTIONS_SQL = (
    CUSTOMER_DAYS_FUNCTION
    + _function(FUNCTION_NAMES[BOOKING], _BOOKINGS_BODY)
    + "".join(_function(FUNCTION_NAMES[table], _money_body(table)) for table in MONEY_SOURCES)
    + MOMENT_FUNCTION
    + REBUILD_FUNCTION
)


def _triggers(table: str) -> str:
    return statement_triggers("insights_days", table, f"public.{FUNCTION_NAMES[table]}()")


TABLES = (BOOKING, *MONEY_SOURCES)
TRIGGERS = (
    "".join(_triggers(table) for table in TABLES)
    + f"""
CREATE TRIGGER insights_membership_refund_moment BEFORE INSERT OR UPDATE ON {PERIOD}
  FOR EACH ROW WHEN (NEW.refunded_minor > 0)
  EXECUTE FUNCTION public.insights_membership_refund_moment();
"""
)
DROP_TRIGGERS = (
    drop_statement_triggers("insights_days", TABLES)
    + f"DROP TRIGGER IF EXISTS insights_membership_refund_moment ON {PERIOD};"
)

REBUILD = "SELECT public.insights_rebuild_days(current_schema());"

# Public side: a business's new time zone moves every local day, so its rows are rebuilt in the
# same transaction (a schema not migrated this far yet has nothing to rebuild).
ZONE_CHANGED = f"""
CREATE OR REPLACE FUNCTION public.insights_tenant_zone_changed() RETURNS trigger
LANGUAGE plpgsql AS $body$
BEGIN
  IF to_regclass(format('%I.{BOOKING_DAY}', NEW.schema_name)) IS NOT NULL THEN
    PERFORM public.insights_rebuild_days(NEW.schema_name);
  END IF;
  RETURN NULL;
END
$body$;
CREATE TRIGGER insights_tenant_zone_changed AFTER UPDATE OF time_zone ON tenants_tenant
  FOR EACH ROW WHEN (OLD.time_zone IS DISTINCT FROM NEW.time_zone)
  EXECUTE FUNCTION public.insights_tenant_zone_changed();
"""
DROP_ZONE_CHANGED = "DROP TRIGGER IF EXISTS insights_tenant_zone_changed ON tenants_tenant;"
