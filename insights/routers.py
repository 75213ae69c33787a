"""Which schema each insights table lives in (a database router, before django-tenants' own).

`insights` is a shared and a tenant app, like connect_payments (connect_payments/routers.py):
the operator's platform activity lives in public, the dashboard's customer aggregates in each
tenant. Its migrations' RunSQL operations say which side they belong to with a `model_name`
hint, so the triggers on tenant tables never run in public.
"""

from connect_payments.routers import PaymentsSchemaRouter


class InsightsSchemaRouter(PaymentsSchemaRouter):
    app_label = "insights"
    public_models = frozenset({"platformactivity"})
