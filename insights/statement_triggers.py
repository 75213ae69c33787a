"""Statement-level triggers with transition tables, as the figure tables use them.

One function per written table sees the statement's rows as `new_rows` (insert, update) and
`old_rows` (update, delete), whatever the number of rows: a bulk write costs one call, not one
per row. `insights/daily/triggers.py` (the business's per-day figures) and
`insights/platform_activity.py` (the platform's deltas) create theirs with these two helpers.
"""

from __future__ import annotations

from collections.abc import Iterable

KINDS = ("inserted", "updated", "deleted")


def statement_triggers(prefix: str, table: str, function: str) -> str:
    """CREATE TRIGGER statements named `<prefix>_inserted|updated|deleted` on `table`, each
    calling `function` (schema-qualified, with its parentheses) once per statement."""
    return f"""
CREATE TRIGGER {prefix}_inserted AFTER INSERT ON {table}
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {function};
CREATE TRIGGER {prefix}_updated AFTER UPDATE ON {table}
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION {function};
CREATE TRIGGER {prefix}_deleted AFTER DELETE ON {table}
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {function};
"""


def drop_statement_triggers(prefix: str, tables: Iterable[str]) -> str:
    """The DROP TRIGGER IF EXISTS statements of `statement_triggers(prefix, table, …)`."""
    return "".join(
        f"DROP TRIGGER IF EXISTS {prefix}_{kind} ON {table};" for table in tables for kind in KINDS
    )
