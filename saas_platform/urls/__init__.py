"""URLconfs: the platform host (public.py, PUBLIC_SCHEMA_URLCONF) and each business host
(tenant.py, ROOT_URLCONF)."""
