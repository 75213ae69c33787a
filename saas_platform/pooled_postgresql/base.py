"""django-tenants' backend, with the tenant's search_path carried by every statement.

Behind PgBouncer in transaction pooling mode, a server connection belongs to a client for one
transaction only. django-tenants sets `search_path` with a session `SET` on its own (in autocommit
mode, its own transaction): the next statement may run on another server connection, whose
search_path is whatever another client left there — another tenant's. Here no separate `SET` is
sent; each statement goes out as one simple query `SET LOCAL search_path TO …; <statement>`.
PostgreSQL runs a multi-statement simple query as one implicit transaction (or inside the open
one), so the path holds for exactly that statement's transaction on whichever server connection
PgBouncer picked, and `SET LOCAL` leaves nothing behind for the next client.

It relies on client-side binding (Django's default with psycopg 3: `ClientCursor` sends one
simple query) and on no server-side cursors (DISABLE_SERVER_SIDE_CURSORS, which PgBouncer's
transaction mode needs anyway).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.backends.postgresql.base import Cursor as ClientBindingCursor
from django_tenants.postgresql_backend.base import DatabaseWrapper as TenantDatabaseWrapper
from django_tenants.utils import quote_schema_name

# Statements PostgreSQL refuses inside a transaction block ("cannot run inside a transaction
# block"): prefixed, they would make the multi-statement query one implicit transaction and fail.
# They go out alone, with the server connection's own search_path, so they must name their
# objects' schemas; they are maintenance statements (databases, VACUUM, concurrent indexes), run
# by operators and migrations straight to PostgreSQL, not through the pooler.
_REFUSED_IN_A_TRANSACTION = re.compile(
    r"\s*(CREATE\s+DATABASE|DROP\s+DATABASE|ALTER\s+SYSTEM|VACUUM|CREATE\s+TABLESPACE|"
    r"DROP\s+TABLESPACE|(CREATE|DROP)\s+(UNIQUE\s+)?INDEX\s+CONCURRENTLY|REINDEX\b.*\bCONCURRENTLY)",
    re.IGNORECASE | re.DOTALL,
)


class SearchPathCursor(ClientBindingCursor):
    """A client-binding cursor that prefixes each statement with its connection's search_path."""

    search_path_of: DatabaseWrapper | None = None

    def _statement(self, query: Any) -> tuple[Any, bool]:
        """The statement to send, and whether it carries the search_path prefix."""
        if self.search_path_of is None:
            return query, False
        if not isinstance(query, str):  # psycopg.sql.Composable
            query = query.as_string(self)
        if _REFUSED_IN_A_TRANSACTION.match(query):
            return query, False
        return f"{self.search_path_of.search_path_statement()}; {query}", True

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> SearchPathCursor:
        statement, prefixed = self._statement(query)
        # django-stubs type Cursor without psycopg's ClientCursor methods.
        super().execute(statement, params, **kwargs)  # type: ignore[misc]
        if prefixed:
            self.nextset()  # type: ignore[attr-defined]  # the statement's result, not the SET's
        return self

    def executemany(self, query: Any, params_seq: Iterable[Any], **kwargs: Any) -> None:
        # A prefixed statement cannot go through the pipeline psycopg uses here; Django hardly
        # ever calls executemany, so each parameter set becomes its own prefixed execute.
        for params in params_seq:
            self.execute(query, params)


class DatabaseWrapper(TenantDatabaseWrapper):
    def get_connection_params(self) -> dict[str, Any]:
        params = super().get_connection_params()
        if self.settings_dict["OPTIONS"].get("server_side_binding"):
            raise ImproperlyConfigured("The pooled backend needs client-side binding.")
        params["cursor_factory"] = SearchPathCursor
        return params

    def create_cursor(self, name: str | None = None) -> Any:
        if name:
            raise ImproperlyConfigured(
                "Server-side cursors do not survive transaction pooling: set "
                "DISABLE_SERVER_SIDE_CURSORS (saas_platform.settings.base does)."
            )
        cursor = super().create_cursor(name)
        cursor.search_path_of = self
        return cursor

    def _handle_search_path(self, cursor: Any = None) -> None:
        """django-tenants' separate `SET search_path` is never sent: every statement carries it."""

    def search_path_statement(self) -> str:
        if not self.schema_name:
            raise ImproperlyConfigured(
                "Database schema not set: call set_schema() or set_tenant()."
            )
        paths = ", ".join(quote_schema_name(s) for s in self._get_cursor_search_paths())
        return f"SET LOCAL search_path TO {paths}"
