"""Bind a new login session to the schema (host) it was opened on."""

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from .middleware import SESSION_SCHEMA_KEY


@receiver(user_logged_in)
def bind_session_to_schema(sender, request, user, **kwargs) -> None:
    tenant = getattr(request, "tenant", None) if request is not None else None
    if tenant is not None:
        request.session[SESSION_SCHEMA_KEY] = tenant.schema_name
