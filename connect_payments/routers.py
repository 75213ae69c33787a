"""Which schema each payments table lives in (a database router, before django-tenants' own).

`connect_payments` is both a shared and a tenant app: its account map and event store (and the
table of billing's fee overrides, created by its first migration) live in public, booking
payments in each tenant. Left to django-tenants, every table would be created in every schema:
a tenant copy of a public table would shadow the public one (the search path is "tenant,
public"), and booking payments cannot exist in public (they point at bookings, a tenant table).
"""

from django.conf import settings
from django.db import connections

# "feeoverride": billing's model since billing 0003 (state only), but connect_payments 0001 still
# creates its table, which belongs in public.
PUBLIC_MODELS = frozenset({"connectedaccount", "feeoverride", "stripeevent"})


class PaymentsSchemaRouter:
    """For an app that is shared and tenant: its `public_models` only in public, the others
    only in tenant schemas (insights/routers.py reuses it for insights)."""

    app_label = "connect_payments"
    public_models = PUBLIC_MODELS

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if app_label != self.app_label or model_name is None:
            return None
        in_public = getattr(connections[db], "schema_name", None) == settings.PUBLIC_SCHEMA_NAME
        belongs_in_public = model_name.lower() in self.public_models
        return None if in_public == belongs_in_public else False
