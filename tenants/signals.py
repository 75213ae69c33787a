"""Signals of tenancy, and the binding of a new login session to the schema (host) it was opened
on."""

from django.contrib.auth.signals import user_logged_in
from django.dispatch import Signal, receiver

from .middleware import SESSION_SCHEMA_KEY

# Sent by `tenant_provision` right after the Tenant row is created, inside the provisioning
# transaction, with `tenant=`. Receivers run in that transaction (`send`, not `send_robust`):
# one that raises rolls the whole provisioning back. Apps above tenants (billing: the default
# plan) subscribe in their `AppConfig.ready()`, so tenants imports none of them.
tenant_created = Signal()


@receiver(user_logged_in)
def bind_session_to_schema(sender, request, user, **kwargs) -> None:
    tenant = getattr(request, "tenant", None) if request is not None else None
    if tenant is not None:
        request.session[SESSION_SCHEMA_KEY] = tenant.schema_name
