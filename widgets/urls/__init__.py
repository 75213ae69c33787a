"""URLconfs of the widget: tenant hosts (tenant.py) and the platform host (public.py)."""
