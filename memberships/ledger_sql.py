"""The database half of the ledger's rules: the trigger that keeps `CreditEntry` append-only.

The function lives in `public` (shared by every tenant, like insights' functions, so it
survives django-tenants' schema cloning); the trigger is per tenant schema. TRUNCATE (tests'
clean-up, a dropped tenant) is not a row change and is not refused.
"""

from __future__ import annotations

ENTRY_TABLE = "memberships_creditentry"

# Parallel tenant migrations replacing one public function at once fail with "tuple
# concurrently updated" (insights/aggregates.py): queue on an advisory lock first.
SHARED_FUNCTION_LOCK = "SELECT pg_advisory_xact_lock(hashtext('memberships.shared_functions'));"

APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION public.memberships_refuse_ledger_change() RETURNS trigger
LANGUAGE plpgsql AS $body$
BEGIN
  RAISE EXCEPTION 'credit ledger entries are append-only (% refused on %.%)',
    TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
    USING ERRCODE = 'restrict_violation';
END
$body$;
"""

APPEND_ONLY_TRIGGER = f"""
CREATE TRIGGER memberships_creditentry_append_only BEFORE UPDATE OR DELETE ON {ENTRY_TABLE}
  FOR EACH ROW EXECUTE FUNCTION public.memberships_refuse_ledger_change();
"""

DROP_APPEND_ONLY_TRIGGER = (
    f"DROP TRIGGER IF EXISTS memberships_creditentry_append_only ON {ENTRY_TABLE};"
)
