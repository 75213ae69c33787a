"""Which schema each insights table lives in (a database router, before django-tenants' own).

`insights` is a shared and a tenant app, like connect_payments (connect_payments/routers.py):
the operator's platform activity lives in public, the dashboard's customer aggregates in each
tenant. Its migrations' RunSQL operations say which side they belong to with a `model_name`
hint, so the triggers on tenant tables never run in public.
"""

from django.conf import settings
from django.db import connections

PUBLIC_MODELS = frozenset({"platformactivity"})


class InsightsSchemaRouter:
    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if app_label != "insights" or model_name is None:
            return None
        in_public = getattr(connections[db], "schema_name", None) == settings.PUBLIC_SCHEMA_NAME
        belongs_in_public = model_name.lower() in PUBLIC_MODELS
        return None if in_public == belongs_in_public else False
