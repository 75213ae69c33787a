"""django-tenants' PostgreSQL backend for PgBouncer in transaction pooling mode
(docs/decisions/0012-pgbouncer-search-path.md)."""
