"""The operator's platform activity (insights.models.PlatformActivity): the trigger SQL that adds
a delta row for every write to a tenant's bookings, payments and refunds, the rebuild of one
tenant's rows from its raw data, and the compaction of the deltas.

Each table's *contribution* to the figures is a function of one row alone:
- a booking adds 1 booking on the UTC day it was made while its status is confirmed, completed
  or no-show (held, expired and cancelled bookings count nothing);
- a booking payment adds its `paid_minor` and `fee_minor` on the UTC day of `paid_at` once paid;
- a refund adds its amount and fee refunded on the UTC day it completed while it has succeeded,
  and 1 failed refund while it has failed (a refund Stripe reports failed after it succeeded
  gives its money back to the figures, and its re-issue counts when it succeeds).
A statement's delta is the contribution of its new rows minus that of its old rows (transition
tables, statement-level triggers), so every insert, update or delete keeps the sums equal to the
contribution of the rows as they are: `rebuild_current_schema` computes the same from the tables
themselves, and tests/insights/test_platform_activity.py checks the two agree after random writes.

The functions live in `public` (shared by every tenant, like insights/aggregates.py) and find the
tenant from `TG_TABLE_SCHEMA`; in a schema that is no tenant's (the template) they do nothing.
"""

from __future__ import annotations

from django.db import connection, transaction

from connect_payments.models import BookingPayment, PaymentRefund
from scheduling.models import Booking

from .daily.moves import (
    FEE,
    MEMBERSHIP,
    MOMENT,
    PASS,
    PASS_REFUND,
    PERIOD,
    pass_fee_refunded,
    period_fee,
)
from .models import PlatformActivity
from .statement_triggers import drop_statement_triggers, statement_triggers

ACTIVITY = f"public.{PlatformActivity._meta.db_table}"
BOOKING = Booking._meta.db_table
PAYMENT = BookingPayment._meta.db_table
REFUND = PaymentRefund._meta.db_table
COUNTED = "('confirmed', 'completed', 'no_show')"
FIGURES = ("bookings", "gross_minor", "fee_minor", "refunded_minor", "fee_refunded_minor",
           "failed_refunds")  # fmt: skip


def _utc_day(column: str) -> str:
    return f"(({column}) AT TIME ZONE 'UTC')::date"


# Per table: SELECT day, currency, <FIGURES...> of the rows of `{rows}`, times `{sign}`.
CONTRIBUTIONS = {
    BOOKING: f"""SELECT {_utc_day("created_at")} AS day, currency, {{sign}} AS bookings,
                   0::bigint AS gross_minor, 0::bigint AS fee_minor, 0::bigint AS refunded_minor,
                   0::bigint AS fee_refunded_minor, 0 AS failed_refunds
              FROM {{rows}} WHERE status IN {COUNTED}""",  # noqa: S608 (fixed SQL)
    PAYMENT: f"""SELECT {_utc_day("paid_at")}, currency, 0, {{sign}} * paid_minor,
                   {{sign}} * fee_minor, 0, 0, 0
              FROM {{rows}} WHERE paid_at IS NOT NULL""",  # noqa: S608 (fixed SQL)
    REFUND: f"""SELECT {_utc_day("COALESCE(r.completed_at, r.created_at)")}, p.currency, 0, 0, 0,
                   CASE WHEN r.status = 'succeeded' THEN {{sign}} * r.amount_minor ELSE 0 END,
                   CASE WHEN r.status = 'succeeded' THEN {{sign}} * r.fee_refunded_minor
                        ELSE 0 END,
                   CASE WHEN r.status = 'failed' THEN {{sign}} ELSE 0 END
              FROM {{rows}} r JOIN {PAYMENT} p ON p.id = r.payment_id
             WHERE r.status IN ('succeeded', 'failed')""",  # noqa: S608 (fixed SQL)
}
# Since insights 0003: the platform fees (and volume) of no-show and late-cancellation fees,
# pass purchases and membership invoices, and their refunds (as insights/daily/moves.py counts
# them for the business's own figures).
CONTRIBUTIONS_V1 = dict(CONTRIBUTIONS)
CONTRIBUTIONS |= {
    FEE: f"""SELECT {_utc_day("paid_at")}, currency, 0, {{sign}} * amount_minor,
                   {{sign}} * application_fee_minor, 0, 0, 0
              FROM {{rows}} WHERE status IN ('paid', 'refunded') AND paid_at IS NOT NULL
            UNION ALL
            SELECT {_utc_day("updated_at")}, currency, 0, 0, 0, {{sign}} * amount_minor,
                   {{sign}} * application_fee_minor, 0
              FROM {{rows}} WHERE status = 'refunded' AND paid_at IS NOT NULL""",  # noqa: S608 (fixed SQL)
    PASS: f"""SELECT {_utc_day("paid_at")}, currency, 0, {{sign}} * paid_minor,
                   {{sign}} * fee_minor, 0, 0, 0
              FROM {{rows}} WHERE paid_at IS NOT NULL AND paid_minor > 0""",  # noqa: S608 (fixed SQL)
    PASS_REFUND: f"""SELECT {_utc_day("pr.created_at")}, pp.currency, 0, 0, 0,
                   CASE WHEN pr.status = 'succeeded' THEN {{sign}} * pr.amount_minor ELSE 0 END,
                   CASE WHEN pr.status = 'succeeded' THEN {{sign}} * {pass_fee_refunded()}
                        ELSE 0 END,
                   CASE WHEN pr.status = 'failed' THEN {{sign}} ELSE 0 END
              FROM {{rows}} pr JOIN {PASS} pp ON pp.id = pr.purchase_id
             WHERE pr.status IN ('succeeded', 'failed')""",  # noqa: S608 (fixed SQL)
    PERIOD: f"""SELECT {_utc_day("mp.paid_at")}, mp.currency, 0,
                   {{sign}} * mp.amount_paid_minor, {{sign}} * {period_fee("mp.amount_paid_minor")},
                   0, 0, 0
              FROM {{rows}} mp JOIN {MEMBERSHIP} m ON m.id = mp.membership_id
             WHERE mp.amount_paid_minor > 0
            UNION ALL
            SELECT {_utc_day("COALESCE(mo.refunded_at, mp.paid_at)")}, mp.currency, 0, 0, 0,
                   {{sign}} * mp.refunded_minor, {{sign}} * {period_fee("mp.refunded_minor")}, 0
              FROM {{rows}} mp JOIN {MEMBERSHIP} m ON m.id = mp.membership_id
              LEFT JOIN {MOMENT} mo ON mo.period_id = mp.id
             WHERE mp.refunded_minor > 0""",  # noqa: S608 (fixed SQL)
}
FUNCTIONS = {BOOKING: "insights_platform_bookings", PAYMENT: "insights_platform_payments",
             REFUND: "insights_platform_refunds", FEE: "insights_platform_fees",
             PASS: "insights_platform_passes", PASS_REFUND: "insights_platform_pass_refunds",
             PERIOD: "insights_platform_periods"}  # fmt: skip

_COLUMNS = ", ".join(FIGURES)
_SUMS = ", ".join(f"sum(c.{figure})" for figure in FIGURES)
_DERIVED = f"AS c(day, currency, {_COLUMNS})"
_ANY = " OR ".join(f"sum(c.{figure}) <> 0" for figure in FIGURES)


def _insert_deltas(tenant: str, body: str) -> str:
    return f"""INSERT INTO {ACTIVITY} (tenant_id, day, currency, {_COLUMNS}, compacted)
      SELECT {tenant}, c.day, c.currency, {_SUMS}, false FROM ({body}) {_DERIVED}
       GROUP BY c.day, c.currency HAVING {_ANY};"""  # noqa: S608 (fixed SQL)


def _function(table: str) -> str:
    plus = CONTRIBUTIONS[table].format(rows="new_rows", sign=1)
    minus = CONTRIBUTIONS[table].format(rows="old_rows", sign=-1)
    return f"""
CREATE OR REPLACE FUNCTION public.{FUNCTIONS[table]}() RETURNS trigger
LANGUAGE plpgsql AS $body$
DECLARE
  owner_id bigint;
BEGIN
  SELECT t.id INTO owner_id FROM public.tenants_tenant t WHERE t.schema_name = TG_TABLE_SCHEMA;
  IF owner_id IS NULL THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'INSERT' THEN
    {_insert_deltas("owner_id", plus)}
  ELSIF TG_OP = 'UPDATE' THEN
    {_insert_deltas("owner_id", f"{plus} UNION ALL {minus}")}
  ELSE
    {_insert_deltas("owner_id", minus)}
  END IF;
  RETURN NULL;
END
$body$;
"""  # noqa: S608 (fixed SQL)


FUNCTIONS_SQL = "".join(_function(table) for table in CONTRIBUTIONS)
FUNCTIONS_SQL_V1 = "".join(_function(table) for table in CONTRIBUTIONS_V1)
NEW_TABLES = [table for table in CONTRIBUTIONS if table not in CONTRIBUTIONS_V1]


def _triggers(table: str) -> str:
    return statement_triggers("insights_platform", table, f"public.{FUNCTIONS[table]}()")


def _drop_triggers(tables) -> str:
    return drop_statement_triggers("insights_platform", tables)


# insights 0002 created the first three tables' triggers; 0003 those of the others.
TRIGGERS_V1 = "".join(_triggers(table) for table in CONTRIBUTIONS_V1)
DROP_TRIGGERS_V1 = _drop_triggers(CONTRIBUTIONS_V1)
NEW_TRIGGERS = "".join(_triggers(table) for table in NEW_TABLES)
DROP_NEW_TRIGGERS = _drop_triggers(NEW_TABLES)

# The current schema's tenant rows recomputed from its tables, as one compacted row per day and
# currency (the tables are locked against writes meanwhile: no delta can slip in between).
_TENANT = "(SELECT id FROM public.tenants_tenant WHERE schema_name = current_schema())"


def _rebuild(contributions: dict[str, str]) -> list[str]:
    return [
        f"LOCK TABLE {', '.join(contributions)} IN SHARE MODE",
        f"DELETE FROM {ACTIVITY} WHERE tenant_id = {_TENANT}",  # noqa: S608 (fixed SQL)
        f"""INSERT INTO {ACTIVITY} (tenant_id, day, currency, {_COLUMNS}, compacted)
        SELECT {_TENANT}, c.day, c.currency, {_SUMS}, true
          FROM ({
            " UNION ALL ".join(
                contributions[table].format(rows=table, sign=1) for table in contributions
            )
        }) c
         WHERE {_TENANT} IS NOT NULL
         GROUP BY c.day, c.currency HAVING {_ANY}""",  # noqa: S608 (fixed SQL)
    ]


REBUILD_V1 = _rebuild(CONTRIBUTIONS_V1)  # insights 0002's
REBUILD = _rebuild(CONTRIBUTIONS)

# Every delta row folded into its tenant's, day's and currency's compacted row, in one statement.
COMPACT = f"""
WITH moved AS (
  DELETE FROM {ACTIVITY} WHERE NOT compacted
  RETURNING tenant_id, day, currency, {_COLUMNS}
)
INSERT INTO {ACTIVITY} AS a (tenant_id, day, currency, {_COLUMNS}, compacted)
SELECT c.tenant_id, c.day, c.currency, {_SUMS}, true FROM moved c
 GROUP BY c.tenant_id, c.day, c.currency
ON CONFLICT (tenant_id, day, currency) WHERE compacted DO UPDATE SET
  {", ".join(f"{figure} = a.{figure} + EXCLUDED.{figure}" for figure in FIGURES)}
"""  # noqa: S608 (fixed SQL)


def rebuild_current_schema() -> None:
    """Recompute the current tenant's platform activity from its tables (one transaction)."""
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in REBUILD:
            cursor.execute(statement)


def compact() -> int:
    """Fold the delta rows into the compacted rows; returns how many compacted rows it wrote.

    Rows of transactions still in flight are invisible to the DELETE and stay for the next run."""
    with connection.cursor() as cursor:
        cursor.execute(COMPACT)
        return cursor.rowcount
